# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Amazon Bedrock model references: ids, inference profile ids and ARNs, their regions, the pins and the model policy.

Pure functions without an AWS SDK import, so that the filters that check pins on the controller (and every worker
that renders them) do not import boto3; module_utils/bedrock.py re-exports them for the modules.
"""
from __future__ import annotations

import json
import re
import typing as t

# Cross-region (system-defined) inference profile prefixes: the list Claude Code itself knows
# (2.1.332: us, eu, apac, jp, au, us-gov, global). Longest first: "us-gov" before "us".
GEO_PREFIXES = ("us-gov", "global", "apac", "us", "eu", "jp", "au")

# Source regions that may call a cross-region profile of each prefix (a pin of another geography fails).
GEO_SOURCE_REGIONS = {
    "us": re.compile(r"^(us-(east|west)-|ca-)"),
    "us-gov": re.compile(r"^us-gov-"),
    "eu": re.compile(r"^eu-"),
    "apac": re.compile(r"^ap-"),
    "jp": re.compile(r"^ap-northeast-"),
    "au": re.compile(r"^ap-southeast-"),
    "global": re.compile(r"^(?!us-gov-|cn-|us-iso)"),
}

# Claude Code's 1M-context marker on a pin: kept in the pin, stripped from every AWS call (the CLI
# strips it the same way, case-insensitively).
CONTEXT_1M_SUFFIX_RE = re.compile(r"\[1m\]$", re.IGNORECASE)

ANTHROPIC_VERSION = "bedrock-2023-05-31"

ARN_RE = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):bedrock:(?P<region>[a-z0-9-]*):(?P<account>([0-9]{12})?):"
    r"(?P<resource_type>foundation-model|inference-profile|application-inference-profile)/(?P<resource_id>.+)$"
)
_DATE_RE = re.compile(r"^(19|20)[0-9]{6}$")
_VERSION_SUFFIX_RE = re.compile(r"-v([0-9]+)(?::([0-9]+))?$")
# A model id Bedrock would accept: provider.name (letters, digits, . _ - and :).
_MODEL_ID_RE = re.compile(r"^[a-z0-9-]+\.[A-Za-z0-9][A-Za-z0-9._:-]*$")


def partition_for_region(region: str | None) -> str:
    """The ARN partition of ``region``."""
    region = (region or "").lower()
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def geo_prefix_for_region(region: str | None) -> str:
    """The cross-region inference prefix Claude Code uses for ``region``.

    us-gov-* -> us-gov, us-* -> us, eu-* -> eu, ap-* -> apac, anything else -> global.
    """
    region = (region or "").lower()
    if region.startswith("us-gov-"):
        return "us-gov"
    for start, prefix in (("us-", "us"), ("eu-", "eu"), ("ap-", "apac")):
        if region.startswith(start):
            return prefix
    return "global"


def split_profile_id(identifier: str) -> tuple[str | None, str]:
    """Split ``us.anthropic.x`` into ``("us", "anthropic.x")``; ``(None, identifier)`` if no geo prefix."""
    for prefix in GEO_PREFIXES:
        if identifier.startswith(prefix + "."):
            return prefix, identifier[len(prefix) + 1:]
    return None, identifier


def parse_arn(arn: str) -> dict[str, str] | None:
    """Parse a Bedrock model or inference-profile ARN; None when it is not one."""
    match = ARN_RE.match(arn or "")
    return match.groupdict() if match else None


def member_from_arn(model_arn: str) -> dict[str, str | None]:
    """``arn:aws:bedrock:us-east-2::foundation-model/anthropic.x`` -> model id and region."""
    parsed = parse_arn(model_arn)
    if parsed and parsed["resource_type"] == "foundation-model":
        return {"model_arn": model_arn, "model_id": parsed["resource_id"], "region": parsed["region"] or None}
    return {"model_arn": model_arn, "model_id": None, "region": None}


def split_context_suffix(reference: str) -> tuple[str, bool]:
    """``us.anthropic.claude-opus-5-5[1m]`` -> ``("us.anthropic.claude-opus-5-5", True)``."""
    stripped = CONTEXT_1M_SUFFIX_RE.sub("", reference)
    return stripped, stripped != reference


def parse_reference(reference: str) -> dict[str, t.Any]:
    """Classify a configured model reference.

    Returns a dict with ``kind`` (``foundation_model``, ``foundation_model_arn``,
    ``system_profile``, ``system_profile_arn``, ``application_profile_arn`` or ``invalid``),
    ``identifier`` (what to send to Bedrock: the reference without Claude Code's ``[1m]``
    suffix), ``context_1m`` (the suffix was there), ``model_id`` when it can be read from the
    reference, ``geo_prefix`` for system profiles and ``region``/``account`` for ARNs.
    """
    reference = (reference or "").strip()
    identifier, context_1m = split_context_suffix(reference)
    result: dict[str, t.Any] = {
        "reference": reference,
        "identifier": identifier,
        "context_1m": context_1m,
        "model_id": None,
        "geo_prefix": None,
        "region": None,
        "account": None,
    }
    if not identifier:
        result["kind"] = "invalid"
        return result
    if identifier.startswith("arn:"):
        parsed = parse_arn(identifier)
        if not parsed:
            result["kind"] = "invalid"
            return result
        result["region"] = parsed["region"] or None
        result["account"] = parsed["account"] or None
        rid = parsed["resource_id"]
        if parsed["resource_type"] == "foundation-model":
            valid = bool(_MODEL_ID_RE.match(rid))
            result.update(kind="foundation_model_arn" if valid else "invalid", model_id=rid if valid else None, identifier=rid)
        elif parsed["resource_type"] == "inference-profile":
            prefix, model_id = split_profile_id(rid)
            result.update(kind="system_profile_arn", geo_prefix=prefix, model_id=model_id if prefix else None)
        else:
            result["kind"] = "application_profile_arn" if re.match(r"^[A-Za-z0-9]+$", rid) else "invalid"
        return result
    if not _MODEL_ID_RE.match(identifier):
        result["kind"] = "invalid"
        return result
    prefix, model_id = split_profile_id(identifier)
    if prefix and _MODEL_ID_RE.match(model_id):
        result.update(kind="system_profile", geo_prefix=prefix, model_id=model_id)
    elif prefix:
        result["kind"] = "invalid"
    else:
        result.update(kind="foundation_model", model_id=identifier)
    return result


def model_family(model_id: str) -> str:
    """Family key of a model id: the id without dates, version numbers and the -vN:M suffix.

    ``anthropic.claude-3-5-sonnet-20240620-v1:0``, ``anthropic.claude-sonnet-4-5-20250929-v1:0`` and
    ``anthropic.claude-sonnet-5-5`` are all ``anthropic.claude-sonnet``.
    """
    model_id = split_context_suffix(model_id)[0]
    provider, _sep, name = model_id.partition(".")
    if not name:
        provider, name = "", provider
    name = _VERSION_SUFFIX_RE.sub("", name)
    words = [w for w in name.split("-") if w and not w.isdigit() and not _DATE_RE.match(w)]
    return f"{provider}.{'-'.join(words)}" if provider else "-".join(words)


def model_generation(model_id: str) -> tuple:
    """Sort key of a model id within its family, newest last, across both id styles.

    The generation numbers come first (``opus-4-6`` is (4, 6), ``opus-5`` (5,), ``3-5-sonnet`` (3, 5)),
    then the release date of dated ids, then the ``-vN:M`` revision: so
    ``opus-4-5-20251101-v1:0 < opus-4-6-v1 < opus-4-8 < opus-5 < opus-5-5``. A date only orders
    releases of one generation; it never outranks a newer generation without one.
    """
    model_id = split_context_suffix(model_id)[0]
    name = model_id.partition(".")[2] or model_id
    revision: tuple[int, ...] = ()
    match = _VERSION_SUFFIX_RE.search(name)
    if match:
        revision = (int(match.group(1)), int(match.group(2) or 0))
        name = name[: match.start()]
    words = name.split("-")
    dates = [w for w in words if _DATE_RE.match(w)]
    numbers = tuple(int(w) for w in words if w.isdigit() and not _DATE_RE.match(w))
    return (numbers, dates[-1] if dates else "", revision, model_id)


def newest_active_successor(model_id: str, summaries: list[dict[str, t.Any]]) -> str | None:
    """The newest ACTIVE model (by :func:`model_generation`) of the same family as ``model_id``
    (camelCase summaries), if any."""
    model_id = split_context_suffix(model_id)[0]
    family = model_family(model_id)

    def _is_candidate(summary: dict[str, t.Any]) -> bool:
        other = summary.get("modelId")
        active = (summary.get("modelLifecycle") or {}).get("status", "ACTIVE") == "ACTIVE"
        return bool(other) and other != model_id and model_family(other) == family and active

    candidates = [s["modelId"] for s in summaries if _is_candidate(s)]
    if not candidates:
        return None
    return sorted(candidates, key=model_generation)[-1]


# --------------------------------------------------------------------------- configured pins and model policy

PIN_FORMS = (
    "a Bedrock foundation model ID (anthropic.claude-...), an inference profile ID "
    "(us./eu./apac./jp./au./us-gov./global.anthropic.claude-...) nor a Bedrock ARN "
    "(foundation model, inference profile or application inference profile), each optionally with Claude Code's [1m] suffix"
)
# Model names of availableModels that are not Bedrock references: family aliases, version prefixes and
# Anthropic model ids ("opus", "sonnet-5", "claude-opus-5-5"), which Claude Code matches itself.
_MODEL_ALIAS_RE = re.compile(r"^[a-z][a-z0-9.-]*(\[1m\])?$", re.IGNORECASE)


def is_bedrock_reference(value: str) -> bool:
    """Whether a model name names Bedrock itself (an ARN, or a [geo.]provider.model id) rather than an alias."""
    value = str(value)
    return value.startswith("arn:") or "." in value


def pin_error(option: str, value: t.Any, region: str, region_option: str) -> str | None:
    """Why ``value`` cannot be the model pin ``option`` for a fleet calling Bedrock in ``region``; None if it can.

    The pin may be an Anthropic model id (with or without its -YYYYMMDD-vN:M suffix), a cross-region
    inference profile id of a geography that serves ``region``, a Bedrock ARN of ``region``
    (foundation model, inference profile, application inference profile), each with Claude Code's
    ``[1m]`` suffix or without.
    """
    text = "" if value is None else str(value)
    shown = json.dumps(text)
    parsed = parse_reference(text)
    anthropic = (parsed["model_id"] or "").startswith("anthropic.claude-")
    if text != text.strip() or parsed["kind"] == "invalid" or (not parsed["identifier"].startswith("arn:") and not anthropic):
        return f"{option} {shown} is neither {PIN_FORMS}."
    if parsed["region"] and region and parsed["region"] != region:
        what = "an inference profile" if parsed["kind"].endswith("profile_arn") else "a foundation model ARN"
        return f"{option} {shown} is {what} of region {parsed['region']} but {region_option} is {region}."
    prefix = parsed["geo_prefix"]
    if parsed["kind"] == "system_profile" and region and not GEO_SOURCE_REGIONS[prefix].match(region):
        return (f"{option} {shown} is a {prefix}. cross-region inference profile, which {region_option} {region} cannot call; "
                "use the profile of that region's geography or change the region.")
    return None


def pin_errors(pins: t.Iterable[t.Mapping[str, t.Any]]) -> list[str]:
    """The :func:`pin_error` of every set pin: ``[{option, value, region, region_option}]``, empty values skipped."""
    out = []
    for pin in pins:
        if pin.get("value") in (None, ""):
            continue
        problem = pin_error(str(pin["option"]), pin["value"], str(pin.get("region") or ""), str(pin.get("region_option") or "the region"))
        if problem:
            out.append(problem)
    return out


def model_policy_errors(available_models: t.Any, enforce: t.Any, overrides: t.Any, region: str,
                        region_option: str = "the region", prefix: str = "settings_") -> list[str]:
    """Errors of the model policy options (availableModels, enforceAvailableModels, modelOverrides).

    Every Bedrock reference they name must be a valid pin of ``region``; the other availableModels
    entries must be model names Claude Code matches (aliases, version prefixes, Anthropic ids).
    """
    errors: list[str] = []
    name_available, name_enforce, name_overrides = (prefix + "available_models", prefix + "enforce_available_models", prefix + "model_overrides")
    if not isinstance(available_models, (list, tuple)):
        errors.append(f"{name_available} must be a list of model names, got {type(available_models).__name__}.")
        available_models = []
    for index, entry in enumerate(available_models):
        option = f"{name_available}[{index}]"
        if not isinstance(entry, str) or not entry:
            errors.append(f"{option} must be a non-empty string (a model alias such as opus, or a Bedrock model id, profile id or ARN).")
        elif is_bedrock_reference(entry):
            problem = pin_error(option, entry, region, region_option)
            if problem:
                errors.append(problem)
        elif not _MODEL_ALIAS_RE.match(entry):
            errors.append(f"{option} {json.dumps(entry)} is neither a model alias (opus, sonnet-5, claude-opus-5-5) nor {PIN_FORMS}.")
    if not isinstance(enforce, bool):
        errors.append(f"{name_enforce} must be true or false.")
    elif enforce and not available_models:
        errors.append(f"{name_enforce} has no effect without {name_available}: list the allowed models or turn it off.")
    if not isinstance(overrides, t.Mapping):
        errors.append(f"{name_overrides} must be a mapping of Anthropic model ids to Bedrock references, got {type(overrides).__name__}.")
        overrides = {}
    for key, value in overrides.items():
        option = f"{name_overrides}[{key}]"
        if not isinstance(key, str) or not _MODEL_ALIAS_RE.match(key) or is_bedrock_reference(key):
            errors.append(f"{name_overrides} key {json.dumps(str(key))} is not an Anthropic model id such as claude-opus-5-5.")
            continue
        problem = pin_error(option, value, region, region_option) if value not in (None, "") else f"{option} is empty."
        if problem:
            errors.append(problem)
    return errors


def model_policy_references(available_models: t.Any, overrides: t.Any) -> dict[str, str]:
    """The Bedrock references a model policy names, by option name, for the access check."""
    named: dict[str, str] = {}
    for index, entry in enumerate(available_models or []):
        if isinstance(entry, str) and is_bedrock_reference(entry):
            named[f"availableModels[{index}]"] = entry
    for key, value in (overrides or {}).items():
        if isinstance(value, str) and value:
            named[f"modelOverrides[{key}]"] = value
    return named


def foundation_model_arn(model_id: str, region: str = "*", partition: str = "aws") -> str:
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"


def profile_arn(profile_id: str, region: str, account: str | None, partition: str = "aws") -> str:
    return f"arn:{partition}:bedrock:{region}:{account or '*'}:inference-profile/{profile_id}"
