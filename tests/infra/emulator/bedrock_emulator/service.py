# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulated account: request dispatch, authentication, IAM, faults and the operations."""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.parse

from . import eventstream, mantle
from .protocol import ApiError, json_error, new_request_id, parse_rest_input, query_error, sts_caller_identity
from .sigv4 import AuthError, verify_bearer, verify_sigv4

IAM_ACTIONS = {
    "ListFoundationModels": "bedrock:ListFoundationModels",
    "GetFoundationModel": "bedrock:GetFoundationModel",
    "GetFoundationModelAvailability": "bedrock:GetFoundationModelAvailability",
    "ListInferenceProfiles": "bedrock:ListInferenceProfiles",
    "GetInferenceProfile": "bedrock:GetInferenceProfile",
    "InvokeModel": "bedrock:InvokeModel",
    "Converse": "bedrock:InvokeModel",
    "InvokeModelWithResponseStream": "bedrock:InvokeModelWithResponseStream",
    "ConverseStream": "bedrock:InvokeModelWithResponseStream",
    "CountTokens": "bedrock:CountTokens",
}

INVALID_MODEL = "The provided model identifier is invalid."
ON_DEMAND_UNSUPPORTED = (
    "Invocation of model ID %s with on-demand throughput isn't supported. "
    "Retry your request with the ID or ARN of an inference profile that contains this model."
)
ACCESS_MESSAGES = {
    "DENIED": "You don't have access to the model with the specified model ID.",
    "AGREEMENT_PENDING": "Model access is denied because the AWS Marketplace subscription for this model is still being processed. "
                         "Try again later.",
    "USE_CASE_REQUIRED": "Model use case details have not been submitted for this account. Fill out the Anthropic use case details form "
                         "before using the model. If you have already filled out the form, try again in 15 minutes.",
}
THROTTLED = "Too many requests, please wait before trying again."
UNAVAILABLE = "Bedrock is unable to process your request."
STREAM_EXCEPTION_MESSAGES = {
    "throttlingException": THROTTLED,
    "serviceUnavailableException": UNAVAILABLE,
    "internalServerException": "The server encountered an internal error while processing the request.",
    "modelStreamErrorException": "The model stream encountered an error.",
    "validationException": "Malformed input request, please reformat your input and try again.",
    "modelTimeoutException": "Model has timed out in processing the request. Try your request again.",
}
# Request headers that are part of the protocol (not logged as "custom"); secrets are never logged.
STANDARD_HEADERS = {
    "host", "content-length", "content-type", "accept", "accept-encoding", "connection", "user-agent", "x-amz-date",
    "x-amz-content-sha256", "x-amz-user-agent", "amz-sdk-invocation-id", "amz-sdk-request", "expect", "keep-alive",
    "transfer-encoding", "x-amzn-trace-id", "x-amz-bedrock-accept",
}
SECRET_HEADERS = {"authorization", "x-amz-security-token", "cookie", "x-api-key", "proxy-authorization"}
_PARAM_SAFE = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,400}$")


class Response:
    """What the HTTP layer sends: status, headers, and either ``body`` or an iterable ``stream``."""

    def __init__(self, status, headers, body=b"", stream=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = stream


class Call:
    """One request as seen by the emulator, and its log record."""

    def __init__(self, method, raw_path, raw_query, header_pairs, body):
        self.method = method
        self.raw_path = raw_path
        self.raw_query = raw_query
        self.header_pairs = header_pairs
        self.body = body
        self.headers = {}
        for key, value in header_pairs:
            self.headers.setdefault(key.lower(), value)
        self.request_id = new_request_id()
        self.service = None
        self.operation = None
        self.auth = None
        self.region = None
        self.log = {
            "request_id": self.request_id,
            "method": method,
            "path": raw_path,
            "operation": None,
            "service": None,
            "model_id": None,
            "region": None,
            "principal": None,
            "auth": None,
            "user_agent": self.headers.get("user-agent", ""),
            "guardrail_identifier": self.headers.get("x-amzn-bedrock-guardrailidentifier"),
            "guardrail_version": self.headers.get("x-amzn-bedrock-guardrailversion"),
            "custom_headers": {
                k: v[:200] for k, v in self.headers.items()
                if k not in STANDARD_HEADERS and k not in SECRET_HEADERS and not k.startswith(("x-amzn-bedrock-guardrail", "x-stainless-"))
            },
            "status": None,
            "error_code": None,
        }


def _b64_token(payload):
    return base64.urlsafe_b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")


def _read_token(token):
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8"))
        return data["type"], int(data["offset"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiError("ValidationException", "Invalid input: the provided pagination token is invalid.") from exc


class Account:
    """Executes calls against one scenario. ``state`` holds counters and the fault call counts."""

    def __init__(self, models, state):
        self.models = models
        self.state = state
        self.mantle = mantle.MantleService(self)

    @property
    def scenario(self):
        return self.state.scenario

    # -- entry point --------------------------------------------------------------------------
    def dispatch(self, call):
        started = time.monotonic()
        protocol = "rest-json"
        try:
            query = urllib.parse.parse_qs(call.raw_query, keep_blank_values=True)
            mantle_operation = mantle.route(call.method, call.raw_path)
            if call.raw_path == "/" and call.method in ("POST", "GET"):
                protocol = "query"
                response = self._dispatch_sts(call, query)
            elif mantle_operation:
                protocol = "mantle"
                status, headers, body, stream = self.mantle.dispatch(call, mantle_operation)
                response = Response(status, headers + [("x-amzn-RequestId", call.request_id), ("request-id", call.request_id)], body or b"", stream)
            else:
                response = self._dispatch_rest(call, query)
        except (ApiError, AuthError) as exc:
            response = self._error_response(call, exc, protocol)
        except Exception as exc:  # pylint: disable=broad-except
            # Never a stack trace on the wire: an AWS-style 500, with the reason in the log.
            err = ApiError("InternalServerException", "Internal server error", status=500, sender=False)
            response = self._error_response(call, err, protocol)
            call.log["internal_error"] = "%s: %s" % (type(exc).__name__, exc)
        call.log["status"] = response.status
        call.log["duration_ms"] = round((time.monotonic() - started) * 1000, 3)
        return response

    def _error_response(self, call, exc, protocol):
        if isinstance(exc, AuthError):
            exc = ApiError(exc.code(protocol), exc.message, status=exc.status)
        call.log["error_code"] = exc.code
        formatter = {"query": query_error, "mantle": mantle.error_response}.get(protocol, json_error)
        status, headers, body = formatter(exc, call.request_id)
        return Response(status, headers, body)

    def _authenticate(self, call, signing_service):
        authz = call.headers.get("authorization")
        region_hint = call.headers.get("x-emulator-region")
        host = call.headers.get("host", "")
        found = (re.match(r"^(?:bedrock|bedrock-runtime|sts)[.-](?:fips\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com", host)
                 or re.match(r"^bedrock-mantle\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.api\.aws(?::\d+)?$", host))
        if found:
            region_hint = found.group(1)
        if not authz:
            if "x-amz-signature" in call.raw_query.lower():
                raise AuthError("incomplete", "Presigned requests are not supported by the emulator.")
            raise AuthError("missing", "Missing Authentication Token" if signing_service != "sts" else "Request is missing Authentication Token")
        if authz.lower().startswith("bearer "):
            if signing_service == "sts":
                raise AuthError("missing", "Request is missing Authentication Token")
            call.log["auth"] = "bearer"
            result = verify_bearer(self.scenario, authz[7:].strip(), region_hint)
        else:
            call.log["auth"] = "sigv4"
            result = verify_sigv4(self.scenario, call.method, call.raw_path, call.raw_query, call.header_pairs, call.body, signing_service,
                                  request_region=region_hint)
        call.auth = result
        call.region = result.region
        call.log["region"] = result.region
        call.log["principal"] = result.principal_label
        return result

    def _faults(self, call):
        fault = self.scenario.faults.get(call.operation)
        count = self.state.count_call(call.operation)
        if not fault:
            return 0
        if fault["latency_ms"]:
            time.sleep(fault["latency_ms"] / 1000.0)
        if count <= fault["throttle_first"]:
            raise ApiError("ThrottlingException", THROTTLED, status=429)
        if count <= fault["throttle_first"] + fault["unavailable_first"]:
            raise ApiError("ServiceUnavailableException", UNAVAILABLE, status=503, sender=False)
        if count <= fault["throttle_first"] + fault["unavailable_first"] + fault["stream_exception_first"]:
            return fault["stream_exception"]
        return 0

    def _iam(self, call, resource):
        action = IAM_ACTIONS.get(call.operation)
        identity = call.auth.identity
        if action and self.scenario.denied(identity, action, resource):
            on = "" if resource == "*" else " on resource: %s" % resource
            raise ApiError("AccessDeniedException", "User: %s is not authorized to perform: %s%s because no identity-based policy allows the %s action"
                           % (identity.arn, action, on, action), status=403)

    def _dispatch_sts(self, call, query):
        form = dict(query)
        if call.method == "POST" and call.body:
            try:
                form.update(urllib.parse.parse_qs(call.body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError as exc:
                raise ApiError("MalformedQueryString", "The query string is malformed.") from exc
        action = (form.get("Action") or [None])[0]
        call.service = "sts"
        call.log["service"] = "sts"
        if not action:
            raise ApiError("MissingAction", "Missing Action")
        call.operation = action
        call.log["operation"] = action
        if action != "GetCallerIdentity":
            if action in self.models.sts_actions:
                raise ApiError("InvalidAction", "The emulator does not implement %s." % action)
            raise ApiError("InvalidAction", "Could not find operation %s for version 2011-06-15" % action)
        auth = self._authenticate(call, "sts")
        self._faults(call)
        body = sts_caller_identity(auth.identity, call.request_id)
        return Response(200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", call.request_id)], body)

    def _dispatch_rest(self, call, query):
        route, labels = self.models.match(call.method, call.raw_path)
        if route is None:
            raise ApiError("UnknownOperationException", None, status=404)
        call.service = route.service
        call.operation = route.operation
        call.log["service"] = route.service
        call.log["operation"] = route.operation
        handler = getattr(self, "op_" + route.operation, None)
        if handler is None:
            raise ApiError("UnknownOperationException", "The emulator does not implement %s." % route.operation, status=404)
        op_model = self.models.operation_model(route.service, route.operation)
        params = parse_rest_input(op_model, labels, query, call.header_pairs)
        for key in ("modelId", "modelIdentifier", "inferenceProfileIdentifier"):
            if key in params:
                call.log["model_id"] = params[key]
        self._authenticate(call, "bedrock")
        stream_fault = self._faults(call)
        result = handler(call, params, stream_fault)
        if isinstance(result, dict):
            body = self.models.checked_output(op_model, result)
            return Response(200, [("Content-Type", "application/json"), ("x-amzn-RequestId", call.request_id)], body)
        return result

    # -- control plane ------------------------------------------------------------------------
    def _model_summary(self, model, region):
        lifecycle = {"status": model.lifecycle, "startOfLifeTime": model.created}
        if model.legacy:
            lifecycle["legacyTime"] = model.legacy
        if model.end_of_life:
            lifecycle["endOfLifeTime"] = model.end_of_life
        return {
            "modelArn": model.arn(region),
            "modelId": model.model_id,
            "modelName": model.name,
            "providerName": model.provider,
            "inputModalities": list(model.input_modalities),
            "outputModalities": list(model.output_modalities),
            "responseStreamingSupported": model.streaming,
            "customizationsSupported": [],
            "inferenceTypesSupported": list(model.inference_types),
            "modelLifecycle": lifecycle,
        }

    def op_ListFoundationModels(self, call, params, _stream_fault):
        self._iam(call, "*")
        result = []
        for model in self.scenario.models_in(call.region):
            if "byProvider" in params and model.provider.lower() != params["byProvider"].lower():
                continue
            if "byInferenceType" in params and params["byInferenceType"] not in model.inference_types:
                continue
            if "byOutputModality" in params and params["byOutputModality"] not in model.output_modalities:
                continue
            if "byCustomizationType" in params:
                continue
            result.append(self._model_summary(model, call.region))
        return {"modelSummaries": result}

    def _foundation_model(self, identifier, region):
        model_id = identifier
        arn = re.match(r"^arn:aws:bedrock:([a-z0-9-]+)::foundation-model/(.+)$", identifier)
        if arn:
            if arn.group(1) != region:
                return None
            model_id = arn.group(2)
        model = self.scenario.models.get(model_id)
        if model is None or region not in model.regions:
            return None
        return model

    def op_GetFoundationModel(self, call, params, _stream_fault):
        model = self._foundation_model(params["modelIdentifier"], call.region)
        self._iam(call, model.arn(call.region) if model else "arn:aws:bedrock:%s::foundation-model/%s" % (call.region, params["modelIdentifier"]))
        if model is None:
            raise ApiError("ResourceNotFoundException", "Could not resolve the foundation model from the provided model identifier.", status=404)
        return {"modelDetails": self._model_summary(model, call.region)}

    def op_GetFoundationModelAvailability(self, call, params, _stream_fault):
        self._iam(call, "*")
        model = self.scenario.models.get(params["modelId"])
        if model is None:
            raise ApiError("ResourceNotFoundException", "Could not resolve the foundation model from the provided model identifier.", status=404)
        status = self.scenario.access_status(model.model_id, call.region)
        if call.region not in model.regions:
            status = "REGION_UNAVAILABLE"
        agreement = {"status": "AVAILABLE"}
        authorization, entitlement, region_availability = "AUTHORIZED", "AVAILABLE", "AVAILABLE"
        if status == "DENIED":
            agreement = {"status": "NOT_AVAILABLE"}
            authorization = "NOT_AUTHORIZED"
        elif status == "AGREEMENT_PENDING":
            agreement = {"status": "PENDING"}
        elif status == "USE_CASE_REQUIRED":
            agreement = {"status": "ERROR", "errorMessage": ACCESS_MESSAGES["USE_CASE_REQUIRED"]}
            authorization = "NOT_AUTHORIZED"
            entitlement = "NOT_AVAILABLE"
        elif status == "REGION_UNAVAILABLE":
            agreement = {"status": "NOT_AVAILABLE"}
            entitlement = "NOT_AVAILABLE"
            region_availability = "NOT_AVAILABLE"
        return {
            "modelId": model.model_id,
            "agreementAvailability": agreement,
            "authorizationStatus": authorization,
            "entitlementAvailability": entitlement,
            "regionAvailability": region_availability,
        }

    def _profile_summary(self, profile, region):
        return {
            "inferenceProfileName": profile.name,
            "description": profile.description,
            "createdAt": profile.created,
            "updatedAt": profile.created,
            "inferenceProfileArn": profile.arn(region, self.scenario.account_id),
            "models": [{"modelArn": arn} for arn in profile.member_arns],
            "inferenceProfileId": profile.profile_id,
            "status": "ACTIVE",
            "type": profile.type,
        }

    def op_ListInferenceProfiles(self, call, params, _stream_fault):
        self._iam(call, "arn:aws:bedrock:%s:%s:inference-profile/*" % (call.region, self.scenario.account_id))
        profile_type = params.get("typeEquals", "SYSTEM_DEFINED")
        offset = 0
        if params.get("nextToken"):
            token_type, offset = _read_token(params["nextToken"])
            if token_type != profile_type or offset < 0:
                raise ApiError("ValidationException", "Invalid input: the provided pagination token is invalid.")
        max_results = params.get("maxResults", 1000)
        profiles = sorted((p for p in self.scenario.profiles_in(call.region) if p.type == profile_type), key=lambda p: p.profile_id)
        page = profiles[offset:offset + max_results]
        result = {"inferenceProfileSummaries": [self._profile_summary(p, call.region) for p in page]}
        if offset + max_results < len(profiles):
            result["nextToken"] = _b64_token({"type": profile_type, "offset": offset + max_results})
        return result

    def _profile(self, identifier, region):
        arn = re.match(r"^arn:aws:bedrock:([a-z0-9-]+):(\d{12}):(inference-profile|application-inference-profile)/(.+)$", identifier)
        if arn:
            if arn.group(1) != region or arn.group(2) != self.scenario.account_id:
                return None
            profile = self.scenario.profiles.get(arn.group(4))
            if profile is None or (profile.type == "APPLICATION") != (arn.group(3) == "application-inference-profile"):
                return None
        else:
            profile = self.scenario.profiles.get(identifier)
        if profile is None or region not in profile.source_regions:
            return None
        return profile

    def op_GetInferenceProfile(self, call, params, _stream_fault):
        identifier = params["inferenceProfileIdentifier"]
        profile = self._profile(identifier, call.region)
        resource = profile.arn(call.region, self.scenario.account_id) if profile else (
            identifier if identifier.startswith("arn:") else "arn:aws:bedrock:%s:%s:inference-profile/%s" % (call.region, self.scenario.account_id, identifier))
        self._iam(call, resource)
        if profile is None:
            raise ApiError("ResourceNotFoundException", "Inference profile %s not found." % identifier, status=404)
        return self._profile_summary(profile, call.region)

    # -- runtime ------------------------------------------------------------------------------
    def _resolve_target(self, call, model_id, streaming):
        """Return (model, resource arn) for an invocation, raising the errors AWS gives."""
        region = call.region
        profile = None
        if model_id.startswith("arn:") and ":foundation-model/" not in model_id:
            profile = self._profile(model_id, region)
            if profile is None:
                raise ApiError("ValidationException", INVALID_MODEL)
        elif model_id in self.scenario.profiles and self.scenario.profiles[model_id].type == "SYSTEM_DEFINED":
            profile = self._profile(model_id, region)
            if profile is None:
                raise ApiError("ValidationException", INVALID_MODEL)
        if profile is not None:
            model, resource = profile.model, profile.arn(region, self.scenario.account_id)
        else:
            model = self._foundation_model(model_id, region)
            if model is None:
                raise ApiError("ValidationException", INVALID_MODEL)
            resource = model.arn(region)
        self._iam(call, resource)
        if profile is None and "ON_DEMAND" not in model.inference_types:
            raise ApiError("ValidationException", ON_DEMAND_UNSUPPORTED % model.model_id)
        status = self.scenario.access_status(model.model_id, region)
        if status in ACCESS_MESSAGES:
            raise ApiError("AccessDeniedException", ACCESS_MESSAGES[status], status=403)
        if status == "REGION_UNAVAILABLE":
            raise ApiError("ValidationException", INVALID_MODEL)
        if streaming and not model.streaming:
            raise ApiError("ValidationException", "The model is unsupported for streaming.")
        return model

    def _reply(self, call, requested_id, max_tokens):
        text = self.scenario.reply_text.replace("{model_id}", requested_id).replace("{region}", call.region or "")
        words = re.findall(r"\S+\s*", text) or [text]
        stop = "end_turn"
        if max_tokens is not None and len(words) > max_tokens:
            words = words[:max(max_tokens, 1)]
            stop = "max_tokens"
        return words, stop

    def _anthropic_request(self, model, body):
        if model.provider != "Anthropic":
            raise ApiError("ValidationException", "Malformed input request: the emulator only implements the Anthropic Messages body for %s; "
                           "use Converse for other providers." % model.model_id)
        try:
            request = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError("ValidationException", "Malformed input request, please reformat your input and try again.") from exc
        if not isinstance(request, dict):
            raise ApiError("ValidationException", "Malformed input request: #: expected type: JSONObject, found: %s, please reformat your input "
                           "and try again." % type(request).__name__)
        for key in ("anthropic_version", "max_tokens", "messages"):
            if key not in request:
                raise ApiError("ValidationException", "Malformed input request: #: required key [%s] not found, please reformat your input "
                               "and try again." % key)
        if isinstance(request["max_tokens"], bool) or not isinstance(request["max_tokens"], int) or request["max_tokens"] < 1:
            raise ApiError("ValidationException", "max_tokens: must be an integer >= 1")
        if not isinstance(request["messages"], list) or not request["messages"]:
            raise ApiError("ValidationException", "messages: at least one message is required")
        return request

    @staticmethod
    def _input_tokens(request):
        return max(1, len(json.dumps([request.get("system"), request.get("messages")])) // 4)

    def _log_body(self, call, request):
        call.log["max_tokens"] = request.get("max_tokens")
        if request.get("anthropic_beta"):
            call.log["anthropic_beta"] = request.get("anthropic_beta")

    def op_InvokeModel(self, call, params, _stream_fault):
        model = self._resolve_target(call, params["modelId"], streaming=False)
        request = self._anthropic_request(model, call.body)
        self._log_body(call, request)
        words, stop = self._reply(call, params["modelId"], request["max_tokens"])
        input_tokens = self._input_tokens(request)
        message = {
            "id": "msg_bdrk_" + call.request_id.replace("-", "")[:24],
            "type": "message",
            "role": "assistant",
            "model": model.anthropic_name(),
            "content": [{"type": "text", "text": "".join(words)}],
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": input_tokens, "output_tokens": len(words)},
        }
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", call.request_id),
            ("X-Amzn-Bedrock-Invocation-Latency", "42"),
            ("X-Amzn-Bedrock-Input-Token-Count", str(input_tokens)),
            ("X-Amzn-Bedrock-Output-Token-Count", str(len(words))),
        ]
        return Response(200, headers, json.dumps(message).encode("utf-8"))

    @staticmethod
    def _chunk(event):
        data = json.dumps(event).encode("utf-8")
        payload = json.dumps({"bytes": base64.b64encode(data).decode("ascii"), "p": "abcdefghijklmnopqrstuvwxyzABCDEFGH"[: 1 + len(data) % 30]})
        return eventstream.event("chunk", payload.encode("utf-8"))

    def op_InvokeModelWithResponseStream(self, call, params, stream_fault):
        model = self._resolve_target(call, params["modelId"], streaming=True)
        request = self._anthropic_request(model, call.body)
        self._log_body(call, request)
        words, stop = self._reply(call, params["modelId"], request["max_tokens"])
        input_tokens = self._input_tokens(request)
        msg_id = "msg_bdrk_" + call.request_id.replace("-", "")[:24]
        frames = [self._chunk({
            "type": "message_start",
            "message": {"id": msg_id, "type": "message", "role": "assistant", "model": model.anthropic_name(), "content": [],
                        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": input_tokens, "output_tokens": 1}},
        }), self._chunk({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})]
        for word in words:
            frames.append(self._chunk({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}}))
        if stream_fault:
            frames = frames[:3]
            frames.append(eventstream.exception(stream_fault, json.dumps({"message": STREAM_EXCEPTION_MESSAGES[stream_fault]}).encode("utf-8")))
            call.log["error_code"] = stream_fault
        else:
            frames.append(self._chunk({"type": "content_block_stop", "index": 0}))
            frames.append(self._chunk({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                       "usage": {"output_tokens": len(words)}}))
            frames.append(self._chunk({"type": "message_stop", "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": input_tokens, "outputTokenCount": len(words), "invocationLatency": 42, "firstByteLatency": 21}}))
        headers = [
            ("Content-Type", "application/vnd.amazon.eventstream"),
            ("X-Amzn-Bedrock-Content-Type", "application/json"),
            ("x-amzn-RequestId", call.request_id),
        ]
        return Response(200, headers, stream=frames)

    def _converse_request(self, model, body):
        if "TEXT" not in model.output_modalities:
            raise ApiError("ValidationException", "This action doesn't support the model that you provided. Try again with a supported text or chat model.")
        try:
            request = json.loads(body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError("SerializationException", "Unable to parse request body", status=400) from exc
        if not isinstance(request, dict) or not isinstance(request.get("messages"), list) or not request["messages"]:
            raise ApiError("ValidationException", "A conversation must start with a user message. Try again with a conversation that starts "
                           "with a user message.")
        max_tokens = (request.get("inferenceConfig") or {}).get("maxTokens")
        return request, max_tokens

    def op_Converse(self, call, params, _stream_fault):
        model = self._resolve_target(call, params["modelId"], streaming=False)
        request, max_tokens = self._converse_request(model, call.body)
        call.log["max_tokens"] = max_tokens
        words, stop = self._reply(call, params["modelId"], max_tokens)
        input_tokens = self._input_tokens(request)
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": "".join(words)}]}},
            "stopReason": stop,
            "usage": {"inputTokens": input_tokens, "outputTokens": len(words), "totalTokens": input_tokens + len(words)},
            "metrics": {"latencyMs": 42},
        }

    def op_ConverseStream(self, call, params, stream_fault):
        model = self._resolve_target(call, params["modelId"], streaming=True)
        request, max_tokens = self._converse_request(model, call.body)
        call.log["max_tokens"] = max_tokens
        words, stop = self._reply(call, params["modelId"], max_tokens)
        input_tokens = self._input_tokens(request)

        def ev(name, data):
            return eventstream.event(name, json.dumps(data).encode("utf-8"))

        frames = [ev("messageStart", {"role": "assistant"})]
        for word in words:
            frames.append(ev("contentBlockDelta", {"delta": {"text": word}, "contentBlockIndex": 0}))
        if stream_fault:
            frames = frames[:2]
            frames.append(eventstream.exception(stream_fault, json.dumps({"message": STREAM_EXCEPTION_MESSAGES[stream_fault]}).encode("utf-8")))
            call.log["error_code"] = stream_fault
        else:
            frames.append(ev("contentBlockStop", {"contentBlockIndex": 0}))
            frames.append(ev("messageStop", {"stopReason": stop}))
            frames.append(ev("metadata", {"usage": {"inputTokens": input_tokens, "outputTokens": len(words), "totalTokens": input_tokens + len(words)},
                                          "metrics": {"latencyMs": 42}}))
        headers = [("Content-Type", "application/vnd.amazon.eventstream"), ("x-amzn-RequestId", call.request_id)]
        return Response(200, headers, stream=frames)

    def op_CountTokens(self, call, params, _stream_fault):
        self._resolve_target(call, params["modelId"], streaming=False)
        try:
            request = json.loads(call.body.decode("utf-8") or "{}")
            inner = request["input"]
            if "invokeModel" in inner:
                payload = json.loads(base64.b64decode(inner["invokeModel"]["body"]).decode("utf-8"))
            else:
                payload = inner["converse"]
        except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ApiError("ValidationException", "Malformed input request, please reformat your input and try again.") from exc
        return {"inputTokens": self._input_tokens(payload if isinstance(payload, dict) else {})}
