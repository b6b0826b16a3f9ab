# -*- coding: utf-8 -*-

# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Amazon Bedrock service helpers shared by the claude_fleet.bedrock modules.

Every AWS call the collection makes goes through this file:

* the clients are built by ``AnsibleAWSModule.client`` and wrapped in
  ``RetryingBotoClientWrapper`` with ``AWSRetry.jittered_backoff`` that also retries
  Bedrock's ``ThrottlingException`` / ``ServiceUnavailableException``;
* a :class:`CallStats` object counts every attempt (so a retry counts as a call, the
  same way a server-side counter sees it) and every retry;
* the service helpers are wrapped in :class:`BedrockErrorHandler`, which turns boto
  exceptions into :class:`AnsibleBedrockError`;
* :class:`ModelAccessChecker` turns the answers and errors into a per-reference
  status and a remedy written in plain words.

Nothing here logs, returns or formats credentials.
"""

from __future__ import annotations

import functools
import json
import typing as t

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.botocore import normalize_boto3_result
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock_ids import (  # noqa: F401 pylint: disable=unused-import
    GEO_PREFIXES,
    GEO_SOURCE_REGIONS,
    CONTEXT_1M_SUFFIX_RE,
    ANTHROPIC_VERSION,
    ARN_RE,
    _DATE_RE,
    _VERSION_SUFFIX_RE,
    _MODEL_ID_RE,
    partition_for_region,
    geo_prefix_for_region,
    split_profile_id,
    parse_arn,
    member_from_arn,
    split_context_suffix,
    parse_reference,
    model_family,
    model_generation,
    newest_active_successor,
    PIN_FORMS,
    _MODEL_ALIAS_RE,
    is_bedrock_reference,
    pin_error,
    pin_errors,
    model_policy_errors,
    model_policy_references,
    foundation_model_arn,
    profile_arn,
)

# Error codes Bedrock uses for transient failures that amazon.aws' AWSRetry does not know.
BEDROCK_RETRY_CODES = ["ThrottlingException", "ServiceUnavailableException", "InternalServerException", "ModelNotReadyException"]

# Credential errors that make every further call pointless.
CREDENTIAL_ERROR_CODES = (
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
)

# Status values, most severe first. A reference takes the status of its most severe problem.
STATUS_ORDER = (
    "credentials_invalid",
    "access_denied",
    "invalid_reference",
    "not_found",
    "region_unavailable",
    "use_case_form_required",
    "not_authorized",
    "agreement_required",
    "agreement_pending",
    "region_not_in_profile",
    "needs_inference_profile",
    "throttled",
    "error",
    "legacy",
    "ok",
)


class AnsibleBedrockError(AnsibleAWSError):
    """A Bedrock call failed; ``exception`` holds the boto exception."""


class BedrockErrorHandler(AWSErrorHandler):
    """amazon.aws error handler that raises :class:`AnsibleBedrockError`."""

    _CUSTOM_EXCEPTION = AnsibleBedrockError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("ResourceNotFoundException")


class CallStats:
    """Counts AWS attempts and retries made through :func:`counting_retry`.

    ``calls`` is the number of requests sent (each retry is a request),
    ``retries`` the number of attempts that were repeats of a failed one.
    """

    def __init__(self) -> None:
        self.calls = 0
        self.retries = 0
        self.by_operation: dict[str, int] = {}

    def record_attempt(self, operation: str) -> None:
        self.calls += 1
        self.by_operation[operation] = self.by_operation.get(operation, 0) + 1

    def as_dict(self) -> dict[str, t.Any]:
        return {"aws_calls": self.calls, "aws_retries": self.retries, "calls_by_operation": dict(sorted(self.by_operation.items()))}


def counting_retry(stats: CallStats, retries: int = 10, delay: float = 1.0, max_delay: float = 30.0) -> t.Callable:
    """Return a retry decorator for ``AnsibleAWSModule.client(retry_decorator=...)``.

    It is ``AWSRetry.jittered_backoff`` with Bedrock's transient error codes added, and it
    records every attempt and every retry in ``stats``.
    """
    backoff = AWSRetry.jittered_backoff(
        retries=retries, delay=delay, max_delay=max_delay, catch_extra_error_codes=BEDROCK_RETRY_CODES
    )

    def decorator(func: t.Callable) -> t.Callable:
        operation = getattr(func, "__name__", "call")
        attempts = [0]

        @functools.wraps(func)
        def attempt(*args, **kwargs):
            attempts[0] += 1
            stats.record_attempt(operation)
            return func(*args, **kwargs)

        retrying = backoff(attempt)

        @functools.wraps(func)
        def call(*args, **kwargs):
            attempts[0] = 0
            try:
                return retrying(*args, **kwargs)
            finally:
                stats.retries += max(attempts[0] - 1, 0)

        return call

    return decorator


def botocore_config() -> dict[str, t.Any]:
    """Client config: botocore's own retries off so AWSRetry does (and counts) all of them.

    ``aws_config`` given by the user is merged after this and wins.
    """
    return {"retries": {"mode": "standard", "total_max_attempts": 1}}


def error_code(error: BaseException | None) -> str:
    """The AWS error code of a boto/AnsibleAWSError exception, or the exception's class name."""
    inner = getattr(error, "exception", None) or error
    response = getattr(inner, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", "")) or type(inner).__name__
    return type(inner).__name__ if inner is not None else ""


def error_message(error: BaseException | None) -> str:
    """The AWS error message (without the request id) of an exception."""
    inner = getattr(error, "exception", None) or error
    response = getattr(inner, "response", None)
    if isinstance(response, dict) and response.get("Error", {}).get("Message"):
        return str(response["Error"]["Message"])
    return str(inner) if inner is not None else ""


def snake(data: dict[str, t.Any]) -> dict[str, t.Any]:
    """Drop ResponseMetadata, make datetimes JSON-safe and snake_case the keys."""
    data = dict(data)
    data.pop("ResponseMetadata", None)
    return camel_dict_to_snake_dict(normalize_boto3_result(data))


# --------------------------------------------------------------------------- identifiers


# --------------------------------------------------------------------------- service calls


@BedrockErrorHandler.common_error_handler("list foundation models")
def list_foundation_models(client, **filters: t.Any) -> list[dict[str, t.Any]]:
    """ListFoundationModels with the given ``by*`` filters (None values are dropped)."""
    params = {k: v for k, v in filters.items() if v is not None}
    return client.list_foundation_models(aws_retry=True, **params).get("modelSummaries", [])


@BedrockErrorHandler.common_error_handler("get foundation model")
def get_foundation_model(client, model_identifier: str) -> dict[str, t.Any]:
    """GetFoundationModel: the ``modelDetails`` structure."""
    return client.get_foundation_model(aws_retry=True, modelIdentifier=model_identifier).get("modelDetails", {})


@BedrockErrorHandler.common_error_handler("get foundation model availability")
def get_foundation_model_availability(client, model_id: str) -> dict[str, t.Any]:
    """GetFoundationModelAvailability without the response metadata."""
    response = dict(client.get_foundation_model_availability(aws_retry=True, modelId=model_id))
    response.pop("ResponseMetadata", None)
    return response


@BedrockErrorHandler.common_error_handler("list inference profiles")
def list_inference_profiles(client, type_equals: str | None = None, max_results: int | None = None, max_pages: int = 1000) -> list[dict[str, t.Any]]:
    """ListInferenceProfiles, every page (nextToken loop, each page retried on its own).

    ``max_results`` given alone limits the answer to the first page.
    """
    params: dict[str, t.Any] = {}
    if type_equals:
        params["typeEquals"] = type_equals
    if max_results:
        params["maxResults"] = max_results
    summaries: list[dict[str, t.Any]] = []
    for _page in range(max_pages):
        response = client.list_inference_profiles(aws_retry=True, **params)
        summaries.extend(response.get("inferenceProfileSummaries", []))
        token = response.get("nextToken")
        if not token:
            break
        params["nextToken"] = token
    return summaries


@BedrockErrorHandler.common_error_handler("get inference profile")
def get_inference_profile(client, identifier: str) -> dict[str, t.Any]:
    """GetInferenceProfile by id or ARN, without the response metadata."""
    response = dict(client.get_inference_profile(aws_retry=True, inferenceProfileIdentifier=identifier))
    response.pop("ResponseMetadata", None)
    return response


@BedrockErrorHandler.common_error_handler("invoke model")
def invoke_probe(runtime_client, model_id: str) -> dict[str, t.Any]:
    """A 1-token InvokeModel with an Anthropic messages body; returns stop reason and usage only."""
    body = {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": 1,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "ping"}]}],
    }
    response = runtime_client.invoke_model(
        aws_retry=True,
        modelId=model_id,
        body=json.dumps(body).encode("utf-8"),
        contentType="application/json",
        accept="application/json",
    )
    raw = response.get("body")
    try:
        payload = json.loads(raw.read() if hasattr(raw, "read") else (raw or b"{}"))
    except ValueError:
        payload = {}
    return {"stop_reason": payload.get("stop_reason"), "usage": payload.get("usage") or {}, "model": payload.get("model")}


@BedrockErrorHandler.common_error_handler("get caller identity")
def get_caller_identity(sts_client) -> dict[str, str]:
    """STS GetCallerIdentity: account, ARN and user id (no credential material)."""
    response = sts_client.get_caller_identity(aws_retry=True)
    return {"account": response.get("Account"), "arn": response.get("Arn"), "user_id": response.get("UserId")}


# --------------------------------------------------------------------------- clients


def retry_argument_spec() -> dict[str, t.Any]:
    """Options documented by the claude_fleet.bedrock.retries doc fragment."""
    return {
        "retries": {"type": "int", "default": 10},
        "retry_delay": {"type": "float", "default": 1.0},
    }


def bedrock_clients(module, stats: CallStats, services: t.Iterable[str] = ("bedrock",)) -> dict[str, t.Any]:
    """Retrying, counting clients for ``services`` built with the module's connection options."""
    decorator = counting_retry(stats, retries=max(int(module.params["retries"]), 1), delay=max(float(module.params["retry_delay"]), 0.0))
    return {name: module.client(name, retry_decorator=decorator, config=botocore_config()) for name in services}


# --------------------------------------------------------------------------- the access modules' input

REGION_REQUIRED = "A region is required (region option, AWS_REGION or the profile's region)."


def collect_references(references: t.Iterable[t.Any] | None, models: t.Mapping[str, t.Any] | None,
                       keep_empty: bool = True) -> tuple[list[str], dict[str, list[str]]]:
    """Distinct references in configuration order (the named models first), and the names that use each.

    An empty named model is not set; an empty item of ``references`` is kept unless ``keep_empty`` is false.
    """
    ordered: list[str] = []
    names: dict[str, list[str]] = {}
    for name, reference in (models or {}).items():
        if reference in (None, ""):
            continue
        reference = str(reference).strip()
        if reference not in names:
            ordered.append(reference)
            names[reference] = []
        names[reference].append(str(name))
    for reference in references or []:
        reference = str(reference).strip()
        if (reference or keep_empty) and reference not in names:
            ordered.append(reference)
            names[reference] = []
    return ordered, names


def module_references(module, keep_empty: bool = True) -> tuple[list[str], dict[str, list[str]]]:
    """The module's ``references`` and ``models`` options as collect_references gives them; fails when there is none."""
    references, names = collect_references(module.params["references"], module.params["models"], keep_empty=keep_empty)
    if not references:
        module.fail_json(msg="No model reference to check: references and models are empty.")
    return references, names


# --------------------------------------------------------------------------- shaping for modules


def profile_to_result(profile: dict[str, t.Any]) -> dict[str, t.Any]:
    """Snake-cased inference profile plus ``models[].model_id/region``, ``model_ids`` and ``regions``."""
    result = snake(profile)
    members = [member_from_arn(m.get("modelArn", "")) for m in profile.get("models") or []]
    result["models"] = members
    result["model_ids"] = sorted({m["model_id"] for m in members if m["model_id"]})
    result["regions"] = sorted({m["region"] for m in members if m["region"]})
    return result


def filter_models(
    summaries: list[dict[str, t.Any]],
    lifecycle_status: str | None = None,
    streaming: bool | None = None,
    model_id_contains: str | None = None,
) -> list[dict[str, t.Any]]:
    """Client-side filters ListFoundationModels has no parameter for."""
    out = []
    for summary in summaries:
        if lifecycle_status and (summary.get("modelLifecycle") or {}).get("status") != lifecycle_status:
            continue
        if streaming is not None and bool(summary.get("responseStreamingSupported")) != streaming:
            continue
        if model_id_contains and model_id_contains not in summary.get("modelId", ""):
            continue
        out.append(summary)
    return out


# --------------------------------------------------------------------------- access check


class ModelAccessChecker:
    """Resolve model references and decide, per reference, whether Claude Code can use it.

    ``bedrock`` is a (retrying) ``bedrock`` client, ``runtime`` a ``bedrock-runtime`` client
    (only needed with ``invoke=True``), ``sts`` an STS client (only for the identity check).
    Answers are cached per model id, so models shared by several profiles cost one lookup.
    """

    def __init__(
        self,
        bedrock,
        region: str,
        stats: CallStats,
        runtime=None,
        sts=None,
        invoke: bool = False,
        allow_legacy: bool = False,
        check_list_permission: bool = True,
        partition: str = "aws",
    ) -> None:
        self.bedrock = bedrock
        self.runtime = runtime
        self.sts = sts
        self.region = region
        self.stats = stats
        self.invoke = invoke
        self.allow_legacy = allow_legacy
        self.check_list_permission = check_list_permission
        self.partition = partition
        self.account: str | None = None
        self._models: dict[str, tuple[dict | None, BaseException | None]] = {}
        self._availability: dict[str, tuple[dict | None, BaseException | None]] = {}
        self._catalog: dict[str, list[dict[str, t.Any]] | None] = {}

    # ----- small helpers
    def _fm_arn(self, model_id: str, region: str | None = None) -> str:
        return foundation_model_arn(model_id, region or self.region, self.partition)

    def _denied(self, action: str, resource: str, error: BaseException) -> dict[str, str]:
        return {
            "status": "access_denied",
            "error_code": error_code(error),
            "remedy": (
                f"Allow IAM action {action} on {resource} in region {self.region} for the caller "
                f"(AccessDeniedException: {error_message(error)}). Check identity policies, permission boundaries and SCPs."
            ),
        }

    @staticmethod
    def _is_use_case_error(error: BaseException) -> bool:
        text = error_message(error).lower()
        return error_code(error) == "FTUFormNotFilled" or "use case" in text or "use-case" in text

    def _use_case_problem(self, model_id: str, error: BaseException | None = None) -> dict[str, str]:
        return {
            "status": "use_case_form_required",
            "error_code": error_code(error) if error else "",
            "remedy": (
                f"Submit the Anthropic use-case form for this AWS account before using {model_id}: Bedrock console in "
                f"{self.region} > Model catalog > the Anthropic model > 'Submit use case details' (an AWS Organizations "
                "management account can do it once for all accounts with PutUseCaseForModelAccess). "
                "Access is granted within about 15 minutes."
            ),
        }

    def _generic(self, error: BaseException, what: str) -> dict[str, str]:
        code = error_code(error)
        if code in CREDENTIAL_ERROR_CODES or code in ("NoCredentialsError", "PartialCredentialsError"):
            return {
                "status": "credentials_invalid",
                "error_code": code,
                "remedy": f"The AWS credentials were rejected while trying to {what} ({code}); refresh or fix them (no credential value is shown).",
            }
        if code in BEDROCK_RETRY_CODES:
            return {
                "status": "throttled",
                "error_code": code,
                "remedy": (
                    f"Bedrock kept answering {code} in {self.region} while trying to {what}, even after retries; "
                    "re-run later or request a quota increase (Service Quotas > Amazon Bedrock)."
                ),
            }
        if code == "EndpointConnectionError" or code == "ConnectTimeoutError":
            return {
                "status": "error",
                "error_code": code,
                "remedy": f"Could not reach the Bedrock endpoint for {self.region} to {what}: {error_message(error)}",
            }
        return {"status": "error", "error_code": code, "remedy": f"Failed to {what}: {code}: {error_message(error)}"}

    # ----- cached service lookups
    def _model(self, model_id: str) -> tuple[dict | None, BaseException | None]:
        if model_id not in self._models:
            try:
                self._models[model_id] = (get_foundation_model(self.bedrock, model_id), None)
            except AnsibleBedrockError as e:
                self._models[model_id] = (None, e)
        return self._models[model_id]

    def _avail(self, model_id: str) -> tuple[dict | None, BaseException | None]:
        if model_id not in self._availability:
            try:
                self._availability[model_id] = (get_foundation_model_availability(self.bedrock, model_id), None)
            except AnsibleBedrockError as e:
                self._availability[model_id] = (None, e)
        return self._availability[model_id]

    def _successor(self, model_id: str, provider: str | None) -> str | None:
        key = provider or ""
        if key not in self._catalog:
            try:
                self._catalog[key] = list_foundation_models(self.bedrock, byProvider=provider or None)
            except AnsibleBedrockError:
                self._catalog[key] = None
        catalog = self._catalog[key]
        return newest_active_successor(model_id, catalog) if catalog else None

    def _inference_types(self, model_id: str) -> list[str]:
        for catalog in self._catalog.values():
            for summary in catalog or []:
                if summary.get("modelId") == model_id:
                    return list(summary.get("inferenceTypesSupported") or [])
        return []

    # ----- global checks
    def check_identity(self) -> tuple[dict[str, str] | None, dict[str, str] | None]:
        """(identity, problem) from STS GetCallerIdentity."""
        try:
            identity = get_caller_identity(self.sts)
        except AnsibleBedrockError as e:
            problem = self._generic(e, "call sts:GetCallerIdentity")
            if problem["status"] == "error" and error_code(e) == "AccessDenied":
                problem = {"status": "access_denied", "error_code": "AccessDenied", "remedy": f"sts:GetCallerIdentity was denied: {error_message(e)}"}
            problem["check"] = "sts:GetCallerIdentity"
            return None, problem
        self.account = identity.get("account")
        return identity, None

    def check_list_profiles(self) -> dict[str, str] | None:
        """Claude Code lists inference profiles at start-up: make sure the caller may."""
        try:
            list_inference_profiles(self.bedrock, type_equals="SYSTEM_DEFINED", max_results=1, max_pages=1)
        except AnsibleBedrockError as e:
            if error_code(e) == "AccessDeniedException":
                problem = self._denied("bedrock:ListInferenceProfiles", "*", e)
                problem["remedy"] += " Claude Code calls ListInferenceProfiles at start-up to map model ids to inference profiles."
            else:
                problem = self._generic(e, "list inference profiles")
            problem["check"] = "bedrock:ListInferenceProfiles"
            return problem
        return None

    # ----- per reference
    def check_reference(self, reference: str, names: list[str] | None = None) -> dict[str, t.Any]:
        parsed = parse_reference(reference)
        result: dict[str, t.Any] = {
            "reference": reference,
            "names": list(names or []),
            "kind": parsed["kind"],
            "region": self.region,
            "profile": None,
            "foundation_models": [],
            "invoke": None,
        }
        problems: list[dict[str, str]] = []
        model_ids: list[str] = []

        if parsed["kind"] == "invalid":
            problems.append({
                "status": "invalid_reference",
                "error_code": "",
                "remedy": (
                    f"{reference!r} is not a Bedrock model id, inference profile id or Bedrock ARN; use e.g. "
                    f"{geo_prefix_for_region(self.region)}.anthropic.claude-sonnet-5-5."
                ),
            })
        elif parsed["kind"] in ("system_profile", "system_profile_arn", "application_profile_arn"):
            model_ids = self._resolve_profile(parsed, result, problems)
        else:
            if parsed["region"] and parsed["region"] != self.region:
                problems.append({
                    "status": "region_not_in_profile",
                    "error_code": "",
                    "remedy": f"{reference} names region {parsed['region']} but the fleet uses {self.region}; use a model id or ARN of {self.region}.",
                })
            model_ids = [parsed["model_id"]]

        for model_id in model_ids:
            result["foundation_models"].append(self._check_model(model_id, parsed, problems))

        if self.invoke and not [p for p in problems if p["status"] not in ("legacy",)]:
            result["invoke"] = self._probe(parsed, problems)

        problems.sort(key=lambda p: STATUS_ORDER.index(p["status"]))
        blocking = [p for p in problems if not (p["status"] == "legacy" and self.allow_legacy)]
        result["status"] = problems[0]["status"] if problems else "ok"
        result["usable"] = not blocking
        result["problems"] = problems
        result["remedies"] = [p["remedy"] for p in blocking]
        result["warnings"] = [p["remedy"] for p in problems if p not in blocking]
        result["remedy"] = " ".join(result["remedies"]) or None
        return result

    def _resolve_profile(self, parsed: dict[str, t.Any], result: dict[str, t.Any], problems: list[dict[str, str]]) -> list[str]:
        # Names in remedies and ARNs without Claude Code's [1m] suffix: what AWS sees.
        reference = parsed["identifier"]
        if parsed["region"] and parsed["region"] != self.region:
            problems.append({
                "status": "region_not_in_profile",
                "error_code": "",
                "remedy": f"{reference} is an inference profile of region {parsed['region']} but the fleet calls Bedrock in {self.region}.",
            })
            return []
        try:
            profile = get_inference_profile(self.bedrock, parsed["identifier"])
        except AnsibleBedrockError as e:
            code = error_code(e)
            if code == "AccessDeniedException":
                resource = reference if reference.startswith("arn:") else profile_arn(reference, self.region, self.account, self.partition)
                problems.append(self._denied("bedrock:GetInferenceProfile", resource, e))
            elif code == "ResourceNotFoundException":
                remedy = f"Inference profile {reference} does not exist in {self.region} (or is not shared with this account)."
                expected = geo_prefix_for_region(self.region)
                if parsed["model_id"] and parsed["geo_prefix"] not in (expected, "global"):
                    remedy += f" For {self.region} use {expected}.{parsed['model_id']} (or global.{parsed['model_id']})."
                elif parsed["kind"] == "application_profile_arn":
                    remedy += " Check the ARN, its region and that the profile was not deleted."
                problems.append({"status": "not_found", "error_code": code, "remedy": remedy})
            elif code == "ValidationException":
                problems.append({
                    "status": "invalid_reference",
                    "error_code": code,
                    "remedy": f"Bedrock rejected {reference} as an inference profile identifier: {error_message(e)}",
                })
            else:
                problems.append(self._generic(e, f"get inference profile {reference}"))
            return []
        shaped = profile_to_result(profile)
        result["profile"] = shaped
        if shaped.get("status") and shaped["status"] != "ACTIVE":
            problems.append({"status": "error", "error_code": "", "remedy": f"Inference profile {reference} is {shaped['status']}, not ACTIVE."})
        if shaped["regions"] and self.region not in shaped["regions"]:
            problems.append({
                "status": "region_not_in_profile",
                "error_code": "",
                "remedy": (
                    f"Inference profile {reference} routes to {', '.join(shaped['regions'])}, which does not include the fleet region "
                    f"{self.region}; pick a profile for {self.region} ({geo_prefix_for_region(self.region)}.<model id>) or set the region to one it serves."
                ),
            })
        if not shaped["model_ids"]:
            problems.append({"status": "error", "error_code": "", "remedy": f"Inference profile {reference} lists no foundation models."})
        return shaped["model_ids"]

    def _check_model(self, model_id: str, parsed: dict[str, t.Any], problems: list[dict[str, str]]) -> dict[str, t.Any]:
        entry: dict[str, t.Any] = {"model_id": model_id, "model_arn": self._fm_arn(model_id)}
        details, err = self._model(model_id)
        if err is not None:
            code = error_code(err)
            if code == "AccessDeniedException":
                problems.append(self._denied("bedrock:GetFoundationModel", self._fm_arn(model_id), err))
            elif code == "ResourceNotFoundException" and self._is_use_case_error(err):
                problems.append(self._use_case_problem(model_id, err))
            elif code in ("ResourceNotFoundException", "ValidationException"):
                problems.append({
                    "status": "not_found",
                    "error_code": code,
                    "remedy": f"Foundation model {model_id} does not exist in {self.region}; check the id (see foundation_model_info) and the region.",
                })
            else:
                problems.append(self._generic(err, f"get foundation model {model_id}"))
            return entry

        keep = ("modelId", "modelName", "providerName", "inferenceTypesSupported", "responseStreamingSupported")
        entry.update(snake({k: v for k, v in details.items() if k in keep}))
        lifecycle = (details.get("modelLifecycle") or {}).get("status")
        entry["lifecycle_status"] = lifecycle
        types = details.get("inferenceTypesSupported") or []
        if parsed["kind"] in ("foundation_model", "foundation_model_arn") and types and "ON_DEMAND" not in types:
            prefix = geo_prefix_for_region(self.region)
            problems.append({
                "status": "needs_inference_profile",
                "error_code": "",
                "remedy": (
                    f"{model_id} cannot be invoked on demand by its model id in {self.region}; "
                    f"use {prefix}.{model_id} instead (a cross-region inference profile)."
                ),
            })

        if lifecycle == "LEGACY":
            successor = self._successor(model_id, details.get("providerName") or model_id.partition(".")[0] or None)
            entry["successor"] = successor
            if successor:
                if parsed["kind"] in ("system_profile", "system_profile_arn") and parsed.get("geo_prefix"):
                    use = f"{parsed['geo_prefix']}.{successor}"
                elif "ON_DEMAND" not in self._inference_types(successor):
                    use = f"{geo_prefix_for_region(self.region)}.{successor}"
                else:
                    use = successor
                remedy = f"{model_id} is LEGACY and will reach end of life; switch to the newest ACTIVE model of its family (successor): {use}."
            else:
                remedy = f"{model_id} is LEGACY and will reach end of life; no ACTIVE model of the same family was found in {self.region}."
            problems.append({"status": "legacy", "error_code": "", "remedy": remedy})

        avail, err = self._avail(model_id)
        if err is not None:
            code = error_code(err)
            if code == "AccessDeniedException":
                problems.append(self._denied("bedrock:GetFoundationModelAvailability", self._fm_arn(model_id), err))
            elif self._is_use_case_error(err):
                problems.append(self._use_case_problem(model_id, err))
            else:
                problems.append(self._generic(err, f"get the availability of {model_id}"))
            return entry
        entry["availability"] = snake(avail)
        problems.extend(self._availability_problems(model_id, avail))
        return entry

    def _availability_problems(self, model_id: str, avail: dict[str, t.Any]) -> list[dict[str, str]]:
        """Map a GetFoundationModelAvailability answer to problems.

        Region first (nothing else matters where the model is not offered), then the use-case
        form (it also makes the agreement fail and the authorization NOT_AUTHORIZED), then the
        authorization and the agreement.
        """
        agreement = avail.get("agreementAvailability") or {}
        agreement_status = agreement.get("status")
        agreement_message = agreement.get("errorMessage") or ""
        if avail.get("regionAvailability") == "NOT_AVAILABLE":
            return [{
                "status": "region_unavailable",
                "error_code": "",
                "remedy": (
                    f"{model_id} is not offered in {self.region}; use the cross-region profile "
                    f"{geo_prefix_for_region(self.region)}.{model_id} or a region where it is offered."
                ),
            }]
        lowered = agreement_message.lower()
        if avail.get("entitlementAvailability") == "NOT_AVAILABLE" or "use case" in lowered or "use-case" in lowered:
            return [self._use_case_problem(model_id)]
        problems = []
        if avail.get("authorizationStatus") == "NOT_AUTHORIZED":
            problems.append({
                "status": "not_authorized",
                "error_code": "",
                "remedy": (
                    f"The caller is not authorized to use {model_id} in {self.region}: grant model access in the Bedrock console and allow "
                    f"bedrock:InvokeModel and bedrock:InvokeModelWithResponseStream on {foundation_model_arn(model_id, '*', self.partition)} "
                    "and the inference profile (see the bedrock_iam_policy filter); check SCPs and permission boundaries."
                ),
            })
        if agreement_status == "PENDING":
            problems.append({
                "status": "agreement_pending",
                "error_code": "",
                "remedy": f"The model access agreement (AWS Marketplace subscription) for {model_id} is still PENDING; wait a few minutes and re-run.",
            })
        elif agreement_status == "NOT_AVAILABLE":
            problems.append({
                "status": "agreement_required",
                "error_code": "",
                "remedy": (
                    f"No model access agreement exists for {model_id}: request access in the Bedrock console ({self.region}) "
                    "or invoke it once with aws-marketplace:Subscribe and aws-marketplace:ViewSubscriptions allowed."
                ),
            })
        elif agreement_status == "ERROR":
            problems.append({
                "status": "agreement_required",
                "error_code": "",
                "remedy": f"The model access agreement for {model_id} failed: {agreement_message or 'no message'}.",
            })
        return problems

    def _probe(self, parsed: dict[str, t.Any], problems: list[dict[str, str]]) -> dict[str, t.Any]:
        reference = parsed["identifier"]
        identifier = reference if parsed["kind"] != "foundation_model_arn" else parsed["model_id"]
        try:
            answer = invoke_probe(self.runtime, identifier)
        except AnsibleBedrockError as e:
            code = error_code(e)
            message = error_message(e)
            lowered = message.lower()
            if self._is_use_case_error(e):
                problems.append(self._use_case_problem(parsed["model_id"] or reference, e))
            elif code == "AccessDeniedException" and ("subscription" in lowered or "agreement" in lowered):
                problems.append({
                    "status": "agreement_pending" if "processed" in lowered or "pending" in lowered else "agreement_required",
                    "error_code": code,
                    "remedy": f"InvokeModel on {reference} was refused because of the model access agreement: {message}",
                })
            elif code == "AccessDeniedException" and "access to the model" in lowered:
                problems.append({
                    "status": "not_authorized",
                    "error_code": code,
                    "remedy": (
                        f"This account has no access to {parsed['model_id'] or reference} in {self.region}: "
                        f"grant model access in the Bedrock console ({message})."
                    ),
                })
            elif code == "AccessDeniedException":
                resources = reference if parsed["kind"].endswith("_arn") else profile_arn(reference, self.region, self.account, self.partition)
                if parsed["kind"] == "foundation_model":
                    resources = self._fm_arn(reference)
                elif parsed["model_id"]:
                    resources += f" and {foundation_model_arn(parsed['model_id'], '*', self.partition)}"
                problems.append(self._denied("bedrock:InvokeModel", resources, e))
            elif code == "ValidationException" and ("on-demand" in message.lower() or "inference profile" in message.lower()):
                model_id = parsed["model_id"] or reference
                problems.append({
                    "status": "needs_inference_profile",
                    "error_code": code,
                    "remedy": f"{model_id} cannot be invoked on demand by its model id; use {geo_prefix_for_region(self.region)}.{model_id} instead.",
                })
            elif code == "ResourceNotFoundException":
                problems.append({"status": "not_found", "error_code": code, "remedy": f"InvokeModel could not find {reference} in {self.region}: {message}"})
            elif code == "ValidationException":
                problems.append({"status": "invalid_reference", "error_code": code, "remedy": f"InvokeModel rejected {reference}: {message}"})
            else:
                problems.append(self._generic(e, f"invoke {reference}"))
            return {"ok": False, "error_code": code}
        return {"ok": True, "stop_reason": answer.get("stop_reason"), "usage": answer.get("usage")}

    # ----- everything
    def run(self, references: list[str], names: dict[str, list[str]] | None = None, check_identity: bool = False) -> dict[str, t.Any]:
        """Check every reference and aggregate ``usable``, ``failed_references`` and ``remedies``."""
        names = names or {}
        checks: list[dict[str, t.Any]] = []
        identity = None
        results: list[dict[str, t.Any]] = []
        abort = False
        if check_identity:
            identity, problem = self.check_identity()
            if problem:
                checks.append(problem)
                abort = problem["status"] == "credentials_invalid"
        if not abort and self.check_list_permission:
            problem = self.check_list_profiles()
            if problem:
                checks.append(problem)
                abort = problem["status"] == "credentials_invalid"
        if not abort:
            for reference in references:
                results.append(self.check_reference(reference, names.get(reference)))
        remedies: list[str] = [c["remedy"] for c in checks]
        for item in results:
            label = item["reference"] if not item["names"] else f"{', '.join(item['names'])} ({item['reference']})"
            remedies.extend(f"{label}: {r}" for r in item["remedies"])
        failed = [r["reference"] for r in results if not r["usable"]]
        if abort:
            failed = list(references)
        return {
            "usable": not remedies and not failed,
            "failed_references": failed,
            "remedies": remedies,
            "references": results,
            "checks": checks,
            "caller_identity": identity,
            "region": self.region,
        }
