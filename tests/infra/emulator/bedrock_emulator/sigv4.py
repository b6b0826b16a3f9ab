# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify SigV4 and bearer authentication the way AWS does, with botocore's own signer.

The canonical request is recomputed by ``botocore.auth.SigV4Auth`` over the request as
received (raw path, raw query, the headers named in SignedHeaders, the body), using the
scenario's secret for the access key id in the credential scope.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import urllib.parse

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders

# kind -> (rest-json error code, query-protocol error code, HTTP status)
AUTH_ERRORS = {
    "missing": ("MissingAuthenticationTokenException", "MissingAuthenticationToken", 403),
    "incomplete": ("IncompleteSignatureException", "IncompleteSignature", 400),
    "unknown_key": ("UnrecognizedClientException", "InvalidClientTokenId", 403),
    "signature": ("InvalidSignatureException", "SignatureDoesNotMatch", 403),
    "expired": ("ExpiredTokenException", "ExpiredToken", 403),
}

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."
EXPIRED_TOKEN = "The security token included in the request is expired"

_AUTH_RE = re.compile(r"^AWS4-HMAC-SHA256\s+(.*)$", re.S)
_SIGV4_DATE = "%Y%m%dT%H%M%SZ"


class _Credentials:
    """The three attributes SigV4Auth reads (botocore.credentials is slow to import and not needed here)."""

    def __init__(self, access_key, secret_key, token=None):
        self.access_key = access_key
        self.secret_key = secret_key
        self.token = token


class AuthError(Exception):
    """Authentication failed; ``kind`` selects the AWS error code for the protocol."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message

    def code(self, protocol):
        json_code, query_code, dummy = AUTH_ERRORS[self.kind]
        return query_code if protocol == "query" else json_code

    @property
    def status(self):
        return AUTH_ERRORS[self.kind][2]


class AuthResult:
    """Who sent the request, and for which region."""

    def __init__(self, method, identity, region, access_key_id=None):
        self.method = method  # "sigv4" or "bearer"
        self.identity = identity
        self.region = region
        self.access_key_id = access_key_id

    @property
    def principal_label(self):
        return self.access_key_id if self.method == "sigv4" else "bearer"


class _ReceivedRequestSigner(SigV4Auth):
    """SigV4Auth that signs exactly the headers the client listed in SignedHeaders."""

    def __init__(self, credentials, service_name, region_name, signed_headers):
        super().__init__(credentials, service_name, region_name)
        self._signed = signed_headers

    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name in self._signed:
            for value in request.headers.get_all(name) or []:
                header_map[name] = value
        return header_map

    def payload(self, request):
        return hashlib.sha256(request.body or b"").hexdigest()


def parse_authorization(value):
    match = _AUTH_RE.match(value.strip())
    if not match:
        raise AuthError("incomplete", "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. "
                        "Authorization header requires 'SignedHeaders' parameter.")
    parts = {}
    for item in match.group(1).split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            parts[key.strip()] = val.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if k not in parts]
    if missing:
        raise AuthError("incomplete", " ".join("Authorization header requires '%s' parameter." % k for k in missing))
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise AuthError("incomplete", "Credential should be scoped to a valid region, service and date. Credential=%s" % parts["Credential"])
    return {
        "access_key_id": scope[0],
        "date": scope[1],
        "region": scope[2],
        "service": scope[3],
        "signed_headers": [h.strip().lower() for h in parts["SignedHeaders"].split(";") if h.strip()],
        "signature": parts["Signature"],
    }


class _HeaderList:
    """Case-insensitive multi-valued header access over (name, value) pairs."""

    def __init__(self, pairs):
        self._pairs = [(k.lower(), v) for k, v in pairs]

    def get_all(self, name):
        name = name.lower()
        return [v for k, v in self._pairs if k == name]

    def __contains__(self, name):
        return bool(self.get_all(name))

    def __getitem__(self, name):
        values = self.get_all(name)
        if not values:
            raise KeyError(name)
        return values[0]

    def items(self):
        return list(self._pairs)


def verify_sigv4(scenario, method, raw_path, raw_query, header_pairs, body, service, request_region=None, now=None):
    """Return an AuthResult or raise AuthError. ``header_pairs``: received (name, value) pairs."""
    headers = _HeaderList(header_pairs)
    auth = parse_authorization(headers["authorization"])
    cred = scenario.credentials.get(auth["access_key_id"])
    if cred is None:
        raise AuthError("unknown_key", INVALID_TOKEN)
    amz_date = (headers.get_all("x-amz-date") or [None])[0]
    if amz_date is None:
        raise AuthError("incomplete", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%s"
                        % "AWS4-HMAC-SHA256")
    try:
        signed_at = datetime.datetime.strptime(amz_date, _SIGV4_DATE).replace(tzinfo=datetime.timezone.utc)
    except ValueError as exc:
        raise AuthError("incomplete", "Date must be in ISO-8601 'basic format'. Got '%s'." % amz_date) from exc
    if auth["date"] != amz_date[:8]:
        raise AuthError("signature", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'."
                        % (auth["date"], amz_date[:8], amz_date))
    if auth["service"] != service:
        raise AuthError("signature", "Credential should be scoped to correct service: '%s'. " % service)
    if auth["region"] not in scenario.regions or (request_region and auth["region"] != request_region):
        raise AuthError("signature", "Credential should be scoped to a valid region. ")
    if "host" not in auth["signed_headers"]:
        raise AuthError("signature", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    skew = datetime.timedelta(seconds=scenario.clock_skew_seconds)
    if signed_at < now - skew:
        raise AuthError("signature", "Signature expired: %s is now earlier than %s (%s - %d min.)"
                        % (amz_date, (now - skew).strftime(_SIGV4_DATE), now.strftime(_SIGV4_DATE), scenario.clock_skew_seconds // 60))
    if signed_at > now + skew:
        raise AuthError("signature", "Signature not yet current: %s is still later than %s (%s + %d min.)"
                        % (amz_date, (now + skew).strftime(_SIGV4_DATE), now.strftime(_SIGV4_DATE), scenario.clock_skew_seconds // 60))

    # The query is decoded ("+" is a space, as AWS reads it) and re-encoded by botocore's canonicaliser.
    params = urllib.parse.parse_qsl(raw_query, keep_blank_values=True) if raw_query else None
    request = AWSRequest(method=method, url="http://emulator" + raw_path, data=body, params=params)
    # botocore's HTTPHeaders keeps repeated headers, in the order received.
    request.headers = HTTPHeaders()
    for name, value in headers.items():
        if name in auth["signed_headers"]:
            request.headers[name] = value
    request.context["timestamp"] = amz_date
    signer = _ReceivedRequestSigner(_Credentials(cred["access_key_id"], cred["secret_access_key"], cred["session_token"]),
                                    service, auth["region"], auth["signed_headers"])
    canonical = signer.canonical_request(request)
    content_sha = (headers.get_all("x-amz-content-sha256") or [None])[0]
    if content_sha and content_sha not in ("UNSIGNED-PAYLOAD",) and not content_sha.startswith("STREAMING-"):
        if content_sha != hashlib.sha256(body or b"").hexdigest():
            raise AuthError("signature", "The provided 'x-amz-content-sha256' header does not match what was computed.")
    string_to_sign = signer.string_to_sign(request, canonical)
    expected = signer.signature(string_to_sign, request)
    if not hmac.compare_digest(expected, auth["signature"]):
        raise AuthError("signature", SIGNATURE_MISMATCH)
    # The signature is right: now the token checks, in the order AWS reports them.
    token = (headers.get_all("x-amz-security-token") or [None])[0]
    if cred["session_token"] and token != cred["session_token"]:
        raise AuthError("unknown_key", INVALID_TOKEN)
    if cred["expired"]:
        raise AuthError("expired", EXPIRED_TOKEN)
    return AuthResult("sigv4", cred["identity"], auth["region"], access_key_id=cred["access_key_id"])


def verify_bearer(scenario, token, region_hint=None):
    """Bedrock API keys: ``Authorization: Bearer <token>``."""
    if not token.startswith("ABSK") and not token.startswith("bedrock-api-key-"):
        raise AuthError("unknown_key", "Invalid API Key format: Must start with pre-defined prefix")
    entry = scenario.bearer_tokens.get(token)
    if entry is None:
        raise AuthError("unknown_key", INVALID_TOKEN)
    if entry["expired"]:
        raise AuthError("expired", EXPIRED_TOKEN)
    region = region_hint or entry["region"] or scenario.default_region
    if region not in scenario.regions:
        raise AuthError("signature", "Credential should be scoped to a valid region. ")
    return AuthResult("bearer", entry["identity"], region)
