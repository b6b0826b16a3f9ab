# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Amazon Bedrock "Mantle": the Anthropic Messages API as Claude Code calls it with CLAUDE_CODE_USE_MANTLE=1.

botocore has no service model for bedrock-mantle, so the wire format follows the Anthropic Messages API
(what the CLI's AnthropicBedrockMantle client speaks) and AWS's Mantle documentation:

- ``POST {base}/v1/messages`` (``?beta=true`` from the CLI), JSON, or server-sent events with ``"stream": true``;
  ``base`` is the emulator URL or ``<url>/anthropic`` (AWS: ``https://bedrock-mantle.{region}.api.aws/anthropic``).
- ``GET {base}/v1/models``: the models Mantle serves in the region (Anthropic list format).
- SigV4 with signing name ``bedrock-mantle`` (what the CLI 2.1.332 signs with) or ``Authorization: Bearer <API key>``.
- Model ids without a geo prefix or version suffix (``anthropic.claude-sonnet-4-5``); the scenario's full ids
  (``anthropic.claude-sonnet-4-5-20250929-v1:0``) are accepted too.
- IAM: ``bedrock-mantle:CreateInference`` on ``arn:aws:bedrock-mantle:{region}:{account}:project/default``;
  API keys also need ``bedrock-mantle:CallWithBearerToken`` (AWS managed policy AmazonBedrockMantleInferenceAccess).

Errors are Anthropic error bodies (``{"type": "error", "error": {"type", "message"}}``) with the AWS error code
in ``x-amzn-ErrorType``, which Claude Code reads to classify AWS failures.
"""

from __future__ import annotations

import json
import re

from .protocol import ApiError

SERVICE = "bedrock-mantle"
MESSAGES_PATHS = ("/v1/messages", "/anthropic/v1/messages")
MODELS_PATHS = ("/v1/models", "/anthropic/v1/models")
IAM_CREATE_INFERENCE = "bedrock-mantle:CreateInference"
IAM_LIST_MODELS = "bedrock-mantle:ListModels"
IAM_BEARER = "bedrock-mantle:CallWithBearerToken"
# Anthropic error type per HTTP status.
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error", 404: "not_found_error",
               413: "request_too_large", 429: "rate_limit_error", 500: "api_error", 503: "overloaded_error"}
# In-stream failures: the runtime's event-stream exception names mapped to Anthropic SSE error types.
STREAM_ERROR_TYPES = {
    "throttlingException": "rate_limit_error",
    "serviceUnavailableException": "overloaded_error",
    "internalServerException": "api_error",
    "modelStreamErrorException": "api_error",
    "validationException": "invalid_request_error",
    "modelTimeoutException": "api_error",
}
_SUFFIX = re.compile(r"(-\d{8})?(-v\d+(:\d+)?)?$")


def route(method, path):
    """The Mantle operation for this request, or None."""
    if path in MESSAGES_PATHS and method == "POST":
        return "Messages"
    if path in MODELS_PATHS and method == "GET":
        return "ListModels"
    return None


def mantle_id(model_id):
    """The id Mantle uses for a scenario model: no version suffix (anthropic.claude-sonnet-4-5-20250929-v1:0 -> anthropic.claude-sonnet-4-5)."""
    return _SUFFIX.sub("", model_id)


def error_response(err, request_id):
    body = {"type": "error", "error": {"type": ERROR_TYPES.get(err.status, "api_error"), "message": err.message or err.code}}
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", err.code), ("x-amzn-RequestId", request_id),
               ("request-id", request_id)]
    return err.status, headers, json.dumps(body).encode("utf-8")


def sse(event, data):
    return ("event: %s\ndata: %s\n\n" % (event, json.dumps(data, separators=(",", ":")))).encode("utf-8")


class MantleService:
    """The Mantle operations of one Account (``account`` gives the scenario, auth, faults and reply text)."""

    def __init__(self, account):
        self.account = account

    @property
    def scenario(self):
        return self.account.scenario

    def project_arn(self, region):
        return "arn:aws:bedrock-mantle:%s:%s:project/default" % (region, self.scenario.account_id)

    def _iam(self, call, action, resource):
        identity = call.auth.identity
        if self.scenario.denied(identity, action, resource):
            on = "" if resource == "*" else " on resource: %s" % resource
            raise ApiError("AccessDeniedException", "User: %s is not authorized to perform: %s%s because no identity-based policy allows the %s action"
                           % (identity.arn, action, on, action), status=403)

    def models_in(self, region):
        """(mantle id, model) for every Anthropic text model the scenario serves on Mantle in the region."""
        out = {}
        for model in self.scenario.models_in(region):
            if model.provider == "Anthropic" and "TEXT" in model.output_modalities and getattr(model, "mantle", True):
                out.setdefault(mantle_id(model.model_id), model)
        return out

    def _model(self, call, model_id):
        region = call.region
        served = self.models_in(region)
        model = served.get(model_id)
        if model is None:
            for candidate in served.values():
                if candidate.model_id == model_id:
                    model = candidate
        if model is None:
            known = self.scenario.models.get(model_id) or next(
                (m for m in self.scenario.models.values() if mantle_id(m.model_id) == model_id), None)
            where = "in region %s" % region if known is not None else "on Amazon Bedrock (Mantle)"
            raise ApiError("ResourceNotFoundException", "model: %s is not available %s" % (model_id, where), status=404)
        status = self.scenario.access_status(model.model_id, region)
        # service imports this module: import its messages lazily.
        from .service import ACCESS_MESSAGES  # pylint: disable=import-outside-toplevel
        if status in ACCESS_MESSAGES:
            raise ApiError("AccessDeniedException", ACCESS_MESSAGES[status], status=403)
        if status == "REGION_UNAVAILABLE":
            raise ApiError("ResourceNotFoundException", "model: %s is not available in region %s" % (model_id, region), status=404)
        return model

    def _request(self, call):
        try:
            request = json.loads(call.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as exc:
            raise ApiError("ValidationException", "There was an issue with your request body: invalid JSON") from exc
        if not isinstance(request, dict):
            raise ApiError("ValidationException", "The request body must be a JSON object")
        if not call.headers.get("anthropic-version") and not request.get("anthropic_version"):
            raise ApiError("ValidationException", "anthropic-version: header is required")
        for key in ("model", "max_tokens", "messages"):
            if key not in request:
                raise ApiError("ValidationException", "%s: Field required" % key)
        if not isinstance(request["model"], str) or not request["model"]:
            raise ApiError("ValidationException", "model: Input should be a valid string")
        if isinstance(request["max_tokens"], bool) or not isinstance(request["max_tokens"], int) or request["max_tokens"] < 1:
            raise ApiError("ValidationException", "max_tokens: must be an integer >= 1")
        if not isinstance(request["messages"], list) or not request["messages"]:
            raise ApiError("ValidationException", "messages: at least one message is required")
        return request

    def dispatch(self, call, operation):
        """Authenticate, apply IAM and faults, answer. Errors are raised as ApiError/AuthError for the caller to format."""
        call.service = SERVICE
        call.log["service"] = SERVICE
        request = None
        if operation == "Messages":
            # The body is parsed before authentication only to name the operation and the model in the log.
            try:
                peek = json.loads(call.body.decode("utf-8") or "null")
            except (UnicodeDecodeError, ValueError):
                peek = None
            if isinstance(peek, dict):
                if peek.get("stream") is True:
                    operation = "MessagesStream"
                if isinstance(peek.get("model"), str):
                    call.log["model_id"] = peek["model"][:400]
        call.operation = operation
        call.log["operation"] = operation
        auth = self.account._authenticate(call, SERVICE)  # pylint: disable=protected-access
        if auth.method == "bearer":
            self._iam(call, IAM_BEARER, "*")
        stream_fault = self.account._faults(call)  # pylint: disable=protected-access
        if operation == "ListModels":
            self._iam(call, IAM_LIST_MODELS, self.project_arn(call.region))
            data = [{"type": "model", "id": mid, "display_name": model.name, "created_at": model.created}
                    for mid, model in sorted(self.models_in(call.region).items())]
            body = {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None}
            return 200, [("Content-Type", "application/json")], json.dumps(body).encode("utf-8"), None
        request = self._request(call)
        call.log["max_tokens"] = request["max_tokens"]
        self._iam(call, IAM_CREATE_INFERENCE, self.project_arn(call.region))
        model = self._model(call, request["model"])
        if operation == "MessagesStream" and not model.streaming:
            raise ApiError("ValidationException", "The model is unsupported for streaming.")
        words, stop = self.account._reply(call, request["model"], request["max_tokens"])  # pylint: disable=protected-access
        input_tokens = self.account._input_tokens(request)  # pylint: disable=protected-access
        msg_id = "msg_bdrk_" + call.request_id.replace("-", "")[:24]
        if operation == "Messages":
            message = {"id": msg_id, "type": "message", "role": "assistant", "model": request["model"],
                       "content": [{"type": "text", "text": "".join(words)}], "stop_reason": stop, "stop_sequence": None,
                       "usage": {"input_tokens": input_tokens, "output_tokens": len(words)}}
            return 200, [("Content-Type", "application/json")], json.dumps(message).encode("utf-8"), None
        events = [
            sse("message_start", {"type": "message_start", "message": {
                "id": msg_id, "type": "message", "role": "assistant", "model": request["model"], "content": [],
                "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": input_tokens, "output_tokens": 1}}}),
            sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            sse("ping", {"type": "ping"}),
        ]
        for word in words:
            events.append(sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}}))
        if stream_fault:
            from .service import STREAM_EXCEPTION_MESSAGES  # pylint: disable=import-outside-toplevel
            events = events[:4]
            error = {"type": STREAM_ERROR_TYPES[stream_fault], "message": STREAM_EXCEPTION_MESSAGES[stream_fault]}
            events.append(sse("error", {"type": "error", "error": error}))
            call.log["error_code"] = stream_fault
        else:
            events.append(sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
            events.append(sse("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                                                "usage": {"output_tokens": len(words)}}))
            events.append(sse("message_stop", {"type": "message_stop"}))
        return 200, [("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache")], None, events
