# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario files: one AWS account as the emulator presents it.

A scenario is a YAML mapping. ``extends: <name or path>`` loads another scenario first and
deep-merges this one over it (mappings merge key by key, everything else replaces).
``load_scenario`` validates the result and raises ``ScenarioError`` with the path of the
offending key.
"""

from __future__ import annotations

import copy
import fnmatch
import os

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SCENARIO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")

LIFECYCLES = ("ACTIVE", "LEGACY")
INFERENCE_TYPES = ("ON_DEMAND", "INFERENCE_PROFILE", "PROVISIONED")
MODALITIES = ("TEXT", "IMAGE", "EMBEDDING", "VIDEO")
ACCESS_STATUSES = ("AUTHORIZED", "DENIED", "AGREEMENT_PENDING", "USE_CASE_REQUIRED", "REGION_UNAVAILABLE")
STREAM_EXCEPTIONS = (
    "internalServerException",
    "modelStreamErrorException",
    "validationException",
    "throttlingException",
    "modelTimeoutException",
    "serviceUnavailableException",
)
FAULT_KEYS = ("throttle_first", "unavailable_first", "latency_ms", "stream_exception_first", "stream_exception")
OPERATIONS = (
    "ListFoundationModels",
    "GetFoundationModel",
    "GetFoundationModelAvailability",
    "ListInferenceProfiles",
    "GetInferenceProfile",
    "InvokeModel",
    "InvokeModelWithResponseStream",
    "Converse",
    "ConverseStream",
    "CountTokens",
    "GetCallerIdentity",
    # Amazon Bedrock (Mantle): the Anthropic Messages API (JSON / server-sent events) and its model list.
    "Messages",
    "MessagesStream",
    "ListModels",
)
TOP_LEVEL_KEYS = (
    "extends",
    "description",
    "account_id",
    "caller_arn",
    "user_id",
    "default_region",
    "reply_text",
    "clock_skew_seconds",
    "credentials",
    "bearer_tokens",
    "geographies",
    "regions",
    "models",
    "application_profiles",
    "default_access",
    "access",
    "iam",
    "faults",
)


class ScenarioError(ValueError):
    """A scenario file or override is invalid."""


def deep_merge(base, override):
    """Return ``base`` with ``override`` merged in: mappings merge recursively, other values replace."""
    result = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def _resolve_path(name, relative_to=None):
    if os.path.sep in name or name.endswith((".yml", ".yaml")):
        candidates = [name]
        if relative_to and not os.path.isabs(name):
            candidates.insert(0, os.path.join(relative_to, name))
        candidates.append(os.path.join(SCENARIO_DIR, os.path.basename(name)))
    else:
        candidates = [os.path.join(SCENARIO_DIR, name + ".yml")]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    raise ScenarioError("scenario %r not found (looked in %s)" % (name, ", ".join(candidates)))


def bundled_scenarios():
    """Names of the scenarios shipped with the emulator."""
    return sorted(f[:-4] for f in os.listdir(SCENARIO_DIR) if f.endswith(".yml"))


def read_raw(name, _seen=None):
    """Read a scenario file (a bundled name or a path) and resolve ``extends``; no validation."""
    path = _resolve_path(name)
    seen = set(_seen or ())
    if path in seen:
        raise ScenarioError("scenario %s: extends loop" % path)
    seen.add(path)
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_LOADER)  # nosec - a safe loader (libyaml's when available)
    except yaml.YAMLError as exc:
        raise ScenarioError("scenario %s: invalid YAML: %s" % (path, exc)) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError("scenario %s: top level must be a mapping" % path)
    parent = data.pop("extends", None)
    if parent:
        if not isinstance(parent, str):
            raise ScenarioError("scenario %s: extends must be a scenario name or path" % path)
        cwd = os.path.dirname(path)
        parent_path = _resolve_path(parent, relative_to=cwd)
        data = deep_merge(read_raw(parent_path, seen), data)
    return data


def load_scenario(name="default", overrides=None):
    """Load, merge and validate a scenario. ``name`` may also be an already-parsed mapping."""
    if isinstance(name, dict):
        raw = copy.deepcopy(name)
        parent = raw.pop("extends", None)
        if parent:
            raw = deep_merge(read_raw(parent), raw)
    else:
        raw = read_raw(name)
    if overrides:
        if not isinstance(overrides, dict):
            raise ScenarioError("overrides must be a mapping")
        overrides = copy.deepcopy(overrides)
        overrides.pop("extends", None)
        raw = deep_merge(raw, overrides)
    return Scenario(raw)


def _fail(path, message):
    raise ScenarioError("scenario %s: %s" % (path, message))


def _str(data, key, path, required=True, default=None):
    value = data.get(key, default)
    if value is None:
        if required:
            _fail(path + "." + key, "is required")
        return None
    if not isinstance(value, str) or not value:
        _fail(path + "." + key, "must be a non-empty string, got %r" % (value,))
    return value


def _int(data, key, path, default=0, minimum=0):
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        _fail(path + "." + key, "must be an integer >= %d, got %r" % (minimum, value))
    return value


def _choice_list(data, key, path, choices, default=None, allow_empty=True):
    value = data.get(key, default)
    if not isinstance(value, list) or (not allow_empty and not value):
        _fail(path + "." + key, "must be a%s list, got %r" % ("" if allow_empty else " non-empty", value))
    for item in value:
        if choices is not None and item not in choices:
            _fail(path + "." + key, "%r is not one of %s" % (item, list(choices)))
        if choices is None and (not isinstance(item, str) or not item):
            _fail(path + "." + key, "items must be non-empty strings, got %r" % (item,))
    return list(value)


class Model:
    """A foundation model as the scenario defines it."""

    def __init__(self, model_id, data, path, geographies, regions):
        if not isinstance(data, dict):
            _fail(path, "must be a mapping")
        unknown = set(data) - {
            "name", "provider", "lifecycle", "inference_types", "streaming", "input_modalities",
            "output_modalities", "profiles", "regions", "created", "legacy", "end_of_life", "mantle",
        }
        if unknown:
            _fail(path, "unknown keys %s" % sorted(unknown))
        self.model_id = model_id
        self.name = _str(data, "name", path)
        self.provider = _str(data, "provider", path)
        self.lifecycle = _str(data, "lifecycle", path, default="ACTIVE")
        if self.lifecycle not in LIFECYCLES:
            _fail(path + ".lifecycle", "%r is not one of %s" % (self.lifecycle, list(LIFECYCLES)))
        self.inference_types = _choice_list(data, "inference_types", path, INFERENCE_TYPES, allow_empty=False)
        self.streaming = data.get("streaming", True)
        if not isinstance(self.streaming, bool):
            _fail(path + ".streaming", "must be true or false")
        self.input_modalities = _choice_list(data, "input_modalities", path, MODALITIES, default=["TEXT"], allow_empty=False)
        self.output_modalities = _choice_list(data, "output_modalities", path, MODALITIES, default=["TEXT"], allow_empty=False)
        self.profiles = _choice_list(data, "profiles", path, tuple(geographies), default=[])
        if "INFERENCE_PROFILE" in self.inference_types and not self.profiles:
            _fail(path + ".profiles", "a model with inference type INFERENCE_PROFILE needs at least one geography")
        if "regions" in data:
            self.regions = _choice_list(data, "regions", path, tuple(regions), allow_empty=False)
        else:
            seen = []
            for geo in self.profiles:
                for region in geographies[geo]:
                    if region not in seen:
                        seen.append(region)
            if not seen:
                _fail(path + ".regions", "is required when the model has no profiles")
            self.regions = seen
        self.created = _str(data, "created", path, required=False, default="2024-01-01T00:00:00Z")
        self.legacy = _str(data, "legacy", path, required=False)
        self.end_of_life = _str(data, "end_of_life", path, required=False)
        # Served on Amazon Bedrock (Mantle) too (Anthropic text models only); false: bedrock-runtime only.
        self.mantle = data.get("mantle", True)
        if not isinstance(self.mantle, bool):
            _fail(path + ".mantle", "must be true or false")

    def arn(self, region):
        return "arn:aws:bedrock:%s::foundation-model/%s" % (region, self.model_id)

    def anthropic_name(self):
        """The model name Anthropic reports in message bodies, e.g. claude-sonnet-4-5-20250929."""
        name = self.model_id.split(".", 1)[-1]
        for suffix in ("-v1:0", "-v2:0", "-v1"):
            if name.endswith(suffix):
                return name[: -len(suffix)]
        return name


class Profile:
    """An inference profile (system-defined or application)."""

    def __init__(self, profile_id, name, description, profile_type, model, source_regions, member_arns, created, arn_region=None):
        self.profile_id = profile_id
        self.name = name
        self.description = description
        self.type = profile_type
        self.model = model
        self.source_regions = source_regions
        self.member_arns = member_arns
        self.created = created
        self.arn_region = arn_region

    def arn(self, region, account_id):
        if self.type == "APPLICATION":
            return "arn:aws:bedrock:%s:%s:application-inference-profile/%s" % (self.arn_region, account_id, self.profile_id)
        return "arn:aws:bedrock:%s:%s:inference-profile/%s" % (region, account_id, self.profile_id)


class Identity:
    """The principal behind a credential or bearer token."""

    def __init__(self, arn, user_id, account_id, deny):
        self.arn = arn
        self.user_id = user_id
        self.account_id = account_id
        self.deny = deny


class Scenario:
    """A validated scenario with lookup tables."""

    def __init__(self, raw):
        self.raw = raw
        unknown = set(raw) - set(TOP_LEVEL_KEYS)
        if unknown:
            _fail("", "unknown top-level keys %s (allowed: %s)" % (sorted(unknown), ", ".join(TOP_LEVEL_KEYS)))
        self.description = raw.get("description", "")
        self.account_id = _str(raw, "account_id", "")
        if not (len(self.account_id) == 12 and self.account_id.isdigit()):
            _fail(".account_id", "must be 12 digits, got %r" % self.account_id)
        self.caller_arn = _str(raw, "caller_arn", "")
        if not self.caller_arn.startswith("arn:aws:"):
            _fail(".caller_arn", "must be an ARN, got %r" % self.caller_arn)
        self.user_id = _str(raw, "user_id", "", default="AIDAEMULATOREXAMPLE01")
        self.reply_text = _str(raw, "reply_text", "", default="Hello from the Bedrock emulator (model {model_id}, region {region}).")
        self.clock_skew_seconds = _int(raw, "clock_skew_seconds", "", default=300)
        self.regions = _choice_list(raw, "regions", "", None, allow_empty=False)
        self.default_region = _str(raw, "default_region", "", default=self.regions[0])
        if self.default_region not in self.regions:
            _fail(".default_region", "%r is not one of the scenario regions" % self.default_region)
        self._load_iam(raw)
        self._load_credentials(raw)
        self._load_geographies(raw)
        self._load_models(raw)
        self._load_profiles(raw)
        self._load_access(raw)
        self._load_faults(raw)

    # -- loading -----------------------------------------------------------------------------
    def _deny_list(self, value, path):
        if value is None:
            return []
        if not isinstance(value, list):
            _fail(path, "must be a list")
        result = []
        for idx, item in enumerate(value):
            ipath = "%s[%d]" % (path, idx)
            if isinstance(item, str):
                action, resource = item, "*"
            elif isinstance(item, dict):
                action = _str(item, "action", ipath)
                resource = _str(item, "resource", ipath, required=False, default="*")
            else:
                _fail(ipath, "must be an action name or {action, resource}")
            if ":" not in action:
                _fail(ipath, "action %r must look like bedrock:InvokeModel" % action)
            result.append((action, resource))
        return result

    def _load_iam(self, raw):
        iam = raw.get("iam") or {}
        if not isinstance(iam, dict) or set(iam) - {"deny"}:
            _fail(".iam", "must be a mapping with the key 'deny'")
        self.iam_deny = self._deny_list(iam.get("deny"), ".iam.deny")

    def _identity(self, item, path):
        return Identity(
            _str(item, "caller_arn", path, required=False, default=self.caller_arn),
            _str(item, "user_id", path, required=False, default=self.user_id),
            self.account_id,
            self.iam_deny + self._deny_list(item.get("deny"), path + ".deny"),
        )

    def _load_credentials(self, raw):
        self.credentials = {}
        creds = raw.get("credentials") or []
        if not isinstance(creds, list):
            _fail(".credentials", "must be a list")
        for idx, item in enumerate(creds):
            path = ".credentials[%d]" % idx
            if not isinstance(item, dict):
                _fail(path, "must be a mapping")
            unknown = set(item) - {"access_key_id", "secret_access_key", "session_token", "expired", "caller_arn", "user_id", "deny"}
            if unknown:
                _fail(path, "unknown keys %s" % sorted(unknown))
            akid = _str(item, "access_key_id", path)
            self.credentials[akid] = {
                "access_key_id": akid,
                "secret_access_key": _str(item, "secret_access_key", path),
                "session_token": _str(item, "session_token", path, required=False),
                "expired": bool(item.get("expired", False)),
                "identity": self._identity(item, path),
            }
        self.bearer_tokens = {}
        tokens = raw.get("bearer_tokens") or []
        if not isinstance(tokens, list):
            _fail(".bearer_tokens", "must be a list")
        for idx, item in enumerate(tokens):
            path = ".bearer_tokens[%d]" % idx
            if isinstance(item, str):
                item = {"token": item}
            if not isinstance(item, dict):
                _fail(path, "must be a token string or a mapping")
            unknown = set(item) - {"token", "expired", "caller_arn", "user_id", "region", "deny"}
            if unknown:
                _fail(path, "unknown keys %s" % sorted(unknown))
            token = _str(item, "token", path)
            region = _str(item, "region", path, required=False)
            if region and region not in self.regions:
                _fail(path + ".region", "%r is not one of the scenario regions" % region)
            self.bearer_tokens[token] = {
                "expired": bool(item.get("expired", False)),
                "region": region,
                "identity": self._identity(item, path),
            }

    def _load_geographies(self, raw):
        geos = raw.get("geographies") or {}
        if not isinstance(geos, dict):
            _fail(".geographies", "must be a mapping prefix -> list of regions")
        self.geographies = {}
        for prefix in geos:
            self.geographies[prefix] = _choice_list(geos, prefix, ".geographies", tuple(self.regions), allow_empty=False)

    def _load_models(self, raw):
        models = raw.get("models")
        if not isinstance(models, dict) or not models:
            _fail(".models", "must be a non-empty mapping model id -> details")
        self.models = {}
        for model_id, data in models.items():
            if not isinstance(model_id, str) or "." not in model_id:
                _fail(".models", "model id %r must look like provider.name" % (model_id,))
            self.models[model_id] = Model(model_id, data, ".models[%s]" % model_id, self.geographies, self.regions)

    def _load_profiles(self, raw):
        self.profiles = {}
        for model in self.models.values():
            for geo in model.profiles:
                regions = self.geographies[geo]
                pid = "%s.%s" % (geo, model.model_id)
                label = geo.upper()
                self.profiles[pid] = Profile(
                    pid,
                    "%s %s" % (label, model.name) if model.name.startswith(model.provider) else "%s %s %s" % (label, model.provider, model.name),
                    "Routes requests to %s %s in %s." % (model.provider, model.name, ", ".join(regions)),
                    "SYSTEM_DEFINED",
                    model,
                    list(regions),
                    [model.arn(r) for r in regions],
                    model.created,
                )
        apps = raw.get("application_profiles") or []
        if not isinstance(apps, list):
            _fail(".application_profiles", "must be a list")
        for idx, item in enumerate(apps):
            path = ".application_profiles[%d]" % idx
            if not isinstance(item, dict):
                _fail(path, "must be a mapping")
            unknown = set(item) - {"id", "name", "description", "region", "source", "created"}
            if unknown:
                _fail(path, "unknown keys %s" % sorted(unknown))
            pid = _str(item, "id", path)
            if not pid.isalnum() or pid != pid.lower():
                _fail(path + ".id", "must be lower-case alphanumeric, got %r" % pid)
            region = _str(item, "region", path)
            if region not in self.regions:
                _fail(path + ".region", "%r is not one of the scenario regions" % region)
            source = _str(item, "source", path)
            if source in self.profiles:
                model = self.profiles[source].model
                members = list(self.profiles[source].member_arns)
            elif source in self.models:
                model = self.models[source]
                members = [model.arn(region)]
            else:
                _fail(path + ".source", "%r is neither a model id nor a system profile id of this scenario" % source)
            self.profiles[pid] = Profile(
                pid, _str(item, "name", path), item.get("description", ""), "APPLICATION", model, [region], members,
                _str(item, "created", path, required=False, default="2025-10-15T00:00:00Z"), arn_region=region,
            )

    def _load_access(self, raw):
        self.default_access = _str(raw, "default_access", "", default="AUTHORIZED")
        if self.default_access not in ACCESS_STATUSES:
            _fail(".default_access", "%r is not one of %s" % (self.default_access, list(ACCESS_STATUSES)))
        access = raw.get("access") or {}
        if not isinstance(access, dict):
            _fail(".access", "must be a mapping model id -> status")
        self.access = {}
        for model_id, value in access.items():
            path = ".access[%s]" % model_id
            if model_id not in self.models:
                _fail(path, "unknown model id %r" % model_id)
            if isinstance(value, str):
                value = {"default": value}
            if not isinstance(value, dict):
                _fail(path, "must be a status or a mapping region -> status")
            for region, status in value.items():
                if region != "default" and region not in self.regions:
                    _fail(path, "%r is not a scenario region" % region)
                if status not in ACCESS_STATUSES:
                    _fail(path + "." + region, "%r is not one of %s" % (status, list(ACCESS_STATUSES)))
            self.access[model_id] = dict(value)

    def _load_faults(self, raw):
        faults = raw.get("faults") or {}
        if not isinstance(faults, dict):
            _fail(".faults", "must be a mapping operation -> fault settings")
        self.faults = {}
        for op, spec in faults.items():
            path = ".faults[%s]" % op
            if op not in OPERATIONS:
                _fail(path, "unknown operation %r (one of %s)" % (op, ", ".join(OPERATIONS)))
            if not isinstance(spec, dict):
                _fail(path, "must be a mapping")
            unknown = set(spec) - set(FAULT_KEYS)
            if unknown:
                _fail(path, "unknown keys %s (allowed: %s)" % (sorted(unknown), ", ".join(FAULT_KEYS)))
            fault = {key: _int(spec, key, path) for key in ("throttle_first", "unavailable_first", "latency_ms", "stream_exception_first")}
            fault["stream_exception"] = spec.get("stream_exception", "throttlingException")
            if fault["stream_exception"] not in STREAM_EXCEPTIONS:
                _fail(path + ".stream_exception", "%r is not one of %s" % (fault["stream_exception"], list(STREAM_EXCEPTIONS)))
            self.faults[op] = fault

    # -- lookups -----------------------------------------------------------------------------
    def access_status(self, model_id, region):
        entry = self.access.get(model_id)
        if entry is None:
            return self.default_access
        return entry.get(region, entry.get("default", self.default_access))

    def models_in(self, region):
        return [m for m in self.models.values() if region in m.regions]

    def profiles_in(self, region):
        return [p for p in self.profiles.values() if region in p.source_regions]

    def denied(self, identity, action, resource):
        for deny_action, deny_resource in identity.deny:
            if fnmatch.fnmatchcase(action, deny_action) and fnmatch.fnmatchcase(resource, deny_resource):
                return True
        return False
