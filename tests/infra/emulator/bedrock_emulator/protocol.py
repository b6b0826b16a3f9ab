# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Routing and wire formats taken from botocore's own service models.

Routes (HTTP method + requestUri template) come from the ``bedrock`` and ``bedrock-runtime``
models; STS is matched by its query-protocol ``Action``. Inputs are parsed and checked against
the input shapes, JSON outputs are checked against the output shapes before they are sent.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
import uuid
from xml.sax.saxutils import escape

import botocore.loaders
import botocore.model

SERVICES = ("bedrock", "bedrock-runtime", "sts")
# Values AWS really returns that the botocore enums do not list yet (inferenceTypesSupported, inputModalities).
EXTRA_ENUM_VALUES = frozenset(["INFERENCE_PROFILE", "VIDEO"])


class ApiError(Exception):
    """An AWS error response: code (x-amzn-ErrorType / Error.Code), HTTP status and message."""

    def __init__(self, code, message, status=400, extra=None, sender=True):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra or {}
        self.sender = sender


class Route:
    def __init__(self, service, operation, method, template):
        self.service = service
        self.operation = operation
        self.method = method
        path = template.split("?", 1)[0]
        self.literal_len = len(re.sub(r"\{[^}]+\}", "", path))
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", path):
            if part.startswith("{") and part.endswith("}"):
                name = part[1:-1]
                if name.endswith("+"):
                    pattern += "(?P<%s>.+)" % name[:-1]
                else:
                    pattern += "(?P<%s>[^/]+)" % name
            else:
                pattern += re.escape(part)
        self.regex = re.compile("^" + pattern + "$")


class ServiceModels:
    """botocore service models and the route table built from them."""

    def __init__(self):
        loader = botocore.loaders.create_loader()
        raw = {name: loader.load_service_model(name, "service-2") for name in SERVICES}
        self.models = {name: botocore.model.ServiceModel(raw[name], name) for name in SERVICES}
        self.routes = []
        for service in ("bedrock", "bedrock-runtime"):
            for op_name, op in raw[service]["operations"].items():
                self.routes.append(Route(service, op_name, op["http"]["method"], op["http"]["requestUri"]))
        self.routes.sort(key=lambda r: -r.literal_len)
        self.sts_actions = set(self.models["sts"].operation_names)
        self._match_cache = {}
        self._checked = set()

    def match(self, method, path):
        """Return (route, labels) for the best route, (None, None) when nothing matches the path."""
        key = (method, path)
        found = self._match_cache.get(key)
        if found is None:
            found = self._match(method, path)
            if len(self._match_cache) < 4096:
                self._match_cache[key] = found
        return found

    def checked_output(self, op_model, result):
        """JSON-encode an operation result after checking it against the output shape (once per distinct body)."""
        body = json.dumps(result).encode("utf-8")
        key = (op_model.name, hashlib.sha256(body).digest())
        if key not in self._checked:
            check_shape(op_model.output_shape, result)
            if len(self._checked) < 16384:
                self._checked.add(key)
        return body

    def _match(self, method, path):
        for route in self.routes:
            if route.method != method:
                continue
            found = route.regex.match(path)
            if found:
                return route, {k: urllib.parse.unquote(v) for k, v in found.groupdict().items()}
        return None, None

    def operation_model(self, service, operation):
        return self.models[service].operation_model(operation)


_SHARED = []


def shared_models():
    """One ServiceModels per process (loading the botocore JSON models is the slow part of start-up)."""
    if not _SHARED:
        _SHARED.append(ServiceModels())
    return _SHARED[0]


def _constraint_errors(shape, value, name):
    errors = []
    enum = getattr(shape, "enum", None) or []
    meta = shape.metadata
    if enum and value not in enum:
        errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]" % (value, name, ", ".join(enum)))
    if shape.type_name in ("integer", "long"):
        if "min" in meta and value < meta["min"]:
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %s" % (value, name, meta["min"]))
        if "max" in meta and value > meta["max"]:
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must have value less than or equal to %s" % (value, name, meta["max"]))
    elif shape.type_name == "string":
        if "min" in meta and len(value) < meta["min"]:
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %s" % (value, name, meta["min"]))
        if "max" in meta and len(value) > meta["max"]:
            errors.append("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %s" % (value, name, meta["max"]))
    return errors


def parse_rest_input(op_model, labels, query, header_pairs):
    """Parse uri labels, query string and headers per the input shape; raise ApiError(ValidationException)."""
    params = {}
    errors = []
    shape = op_model.input_shape
    if shape is None:
        return params
    headers = {}
    for key, value in header_pairs:
        headers.setdefault(key.lower(), value)
    for member_name, member in shape.members.items():
        location = member.serialization.get("location")
        loc_name = member.serialization.get("name", member_name)
        raw = None
        if location == "uri":
            raw = labels.get(loc_name)
        elif location == "querystring":
            values = query.get(loc_name)
            raw = values[0] if values else None
        elif location == "header":
            raw = headers.get(loc_name.lower())
        else:
            continue
        if raw is None:
            if member_name in shape.required_members:
                errors.append("Value null at '%s' failed to satisfy constraint: Member must not be null" % member_name)
            continue
        value = raw
        if member.type_name in ("integer", "long"):
            try:
                value = int(raw)
            except ValueError:
                raise ApiError("ValidationException", "Value '%s' at '%s' failed to satisfy constraint: Member must be a number" % (raw, member_name))
        elif member.type_name == "boolean":
            value = raw.lower() == "true"
        if member.type_name in ("string", "integer", "long"):
            errors.extend(_constraint_errors(member, value, member_name))
        params[member_name] = value
    if errors:
        raise ApiError("ValidationException", "%d validation error%s detected: %s" % (len(errors), "" if len(errors) == 1 else "s", "; ".join(errors)))
    return params


def check_shape(shape, value, path="output"):
    """Raise ValueError when ``value`` does not fit the botocore shape (unknown keys, wrong types, missing required)."""
    type_name = shape.type_name
    if type_name == "structure":
        if not isinstance(value, dict):
            raise ValueError("%s: expected an object" % path)
        unknown = set(value) - set(shape.members)
        if unknown:
            raise ValueError("%s: keys %s are not in shape %s" % (path, sorted(unknown), shape.name))
        for req in shape.required_members:
            location = shape.members[req].serialization.get("location")
            if req not in value and location is None and not shape.members[req].serialization.get("eventpayload"):
                raise ValueError("%s: required member %s missing" % (path, req))
        for key, item in value.items():
            check_shape(shape.members[key], item, "%s.%s" % (path, key))
    elif type_name == "list":
        if not isinstance(value, list):
            raise ValueError("%s: expected a list" % path)
        for idx, item in enumerate(value):
            check_shape(shape.member, item, "%s[%d]" % (path, idx))
    elif type_name == "map":
        if not isinstance(value, dict):
            raise ValueError("%s: expected a map" % path)
    elif type_name == "string":
        if not isinstance(value, str):
            raise ValueError("%s: expected a string" % path)
        if shape.enum and value not in shape.enum and value not in EXTRA_ENUM_VALUES:
            raise ValueError("%s: %r not in enum %s" % (path, value, shape.enum))
    elif type_name in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("%s: expected an integer" % path)
    elif type_name == "boolean":
        if not isinstance(value, bool):
            raise ValueError("%s: expected a boolean" % path)
    elif type_name == "timestamp":
        if not isinstance(value, (str, int, float)):
            raise ValueError("%s: expected a timestamp" % path)


def new_request_id():
    return str(uuid.uuid4())


def json_error(err, request_id):
    body = {"message": err.message}
    body.update(err.extra)
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", "%s:http://internal.amazon.com/coral/com.amazon.bedrock/" % err.code),
        ("x-amzn-RequestId", request_id),
    ]
    return err.status, headers, json.dumps(body).encode("utf-8")


def query_error(err, request_id):
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
        "  <Error>\n    <Type>%s</Type>\n    <Code>%s</Code>\n    <Message>%s</Message>\n  </Error>\n"
        "  <RequestId>%s</RequestId>\n</ErrorResponse>\n"
    ) % ("Sender" if err.sender else "Receiver", escape(err.code), escape(err.message or ""), request_id)
    headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    return err.status, headers, body.encode("utf-8")


def sts_caller_identity(identity, request_id):
    body = (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
        "  <GetCallerIdentityResult>\n"
        "    <Arn>%s</Arn>\n    <UserId>%s</UserId>\n    <Account>%s</Account>\n"
        "  </GetCallerIdentityResult>\n"
        "  <ResponseMetadata>\n    <RequestId>%s</RequestId>\n  </ResponseMetadata>\n"
        "</GetCallerIdentityResponse>\n"
    ) % (escape(identity.arn), escape(identity.user_id), escape(identity.account_id), request_id)
    return body.encode("utf-8")
