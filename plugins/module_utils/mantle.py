# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Amazon Bedrock (Mantle) access checks: the Anthropic Messages API, called as Claude Code calls it.

botocore has no ``bedrock-mantle`` service model (checked with botocore 1.44.8), so requests are built by
hand and signed with botocore's own ``SigV4Auth`` for the signing name ``bedrock-mantle`` (what the Claude
Code CLI 2.1.332 signs with), or carry ``Authorization: Bearer`` with an Amazon Bedrock API key. Each model
is proved with one ``POST {base}/v1/messages`` with ``max_tokens`` 1, the CLI's own start-up probe.
"""

from __future__ import annotations

import json
import random
import re
import time
import typing as t
import urllib.request

MANTLE_SERVICE = "bedrock-mantle"
ANTHROPIC_VERSION = "2023-06-01"
RETRY_STATUSES = (429, 500, 502, 503, 504, 529)
_MODEL_RE = re.compile(r"^anthropic\.(?![a-z0-9-]*-(\d{8}|v\d+)$)[a-z0-9-]+$")
_SUFFIX_RE = re.compile(r"(-\d{8})?(-v\d+(:\d+)?)?$")
_GEO_RE = re.compile(r"^[a-z-]+\.(?=anthropic\.)")


def default_base_url(region: str) -> str:
    """The base URL Claude Code uses without ANTHROPIC_BEDROCK_MANTLE_BASE_URL."""
    return f"https://bedrock-mantle.{region}.api.aws/anthropic"


def mantle_model_id(reference: str) -> str | None:
    """The id sent to Mantle for a pin (the [1m] suffix stripped), or None when Mantle cannot serve the pin."""
    model_id = reference[:-4] if reference.endswith("[1m]") else reference
    return model_id if _MODEL_RE.match(model_id) else None


def proposed_model_id(reference: str) -> str | None:
    """For a bedrock-runtime id or profile id, the Mantle id of the same model (geo prefix and version suffix dropped)."""
    candidate = _SUFFIX_RE.sub("", _GEO_RE.sub("", reference[:-4] if reference.endswith("[1m]") else reference))
    return candidate if _MODEL_RE.match(candidate) else None


class MantleCaller:
    """Signed JSON calls to one Mantle base URL, with bounded jittered retries, counted like the AWS calls."""

    def __init__(self, base_url: str, region: str, credentials=None, bearer_token: str | None = None, verify: t.Any = True,
                 timeout: float = 30.0, retries: int = 10, delay: float = 1.0, max_delay: float = 30.0, sleep=time.sleep):
        self.base_url = base_url.rstrip("/")
        self.region = region
        self.credentials = credentials
        self.bearer_token = bearer_token
        self.verify = verify
        self.timeout = timeout
        self.retries = max(int(retries), 0)
        self.delay = max(float(delay), 0.0)
        self.max_delay = max_delay
        self.sleep = sleep
        self.calls = 0
        self.retried = 0

    def _send_once(self, method: str, path: str, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        # Imported here: module_utils must import without botocore (AnsibleAWSModule reports it missing).
        from botocore.auth import SigV4Auth  # pylint: disable=import-outside-toplevel
        from botocore.awsrequest import AWSRequest  # pylint: disable=import-outside-toplevel
        from botocore.httpsession import URLLib3Session  # pylint: disable=import-outside-toplevel
        from botocore.utils import should_bypass_proxies  # pylint: disable=import-outside-toplevel

        url = self.base_url + path
        headers = {"content-type": "application/json", "accept": "application/json", "anthropic-version": ANTHROPIC_VERSION}
        if self.bearer_token:
            headers["authorization"] = "Bearer " + self.bearer_token
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        if not self.bearer_token and self.credentials is not None:
            SigV4Auth(self.credentials, MANTLE_SERVICE, self.region).add_auth(request)
        proxies = {} if should_bypass_proxies(url) else urllib.request.getproxies()
        session = URLLib3Session(verify=self.verify, proxies=proxies, timeout=self.timeout)
        try:
            response = session.send(request.prepare())
            return response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.content or b""
        finally:
            session.close()

    def call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict[str, str], t.Any]:
        """(status, headers, decoded JSON or None). Transport errors are status 0 with the reason in the body."""
        from botocore.exceptions import BotoCoreError  # pylint: disable=import-outside-toplevel

        body = json.dumps(payload).encode("utf-8") if payload is not None else None
        attempt = 0
        while True:
            self.calls += 1
            try:
                status, headers, raw = self._send_once(method, path, body)
            except BotoCoreError as exc:  # connection refused, TLS failure, timeout
                status, headers, raw = 0, {}, json.dumps({"error": {"type": "connection_error", "message": str(exc)}}).encode("utf-8")
            if status not in RETRY_STATUSES and status != 0 or attempt >= self.retries:
                break
            attempt += 1
            self.retried += 1
            self.sleep(min(self.max_delay, self.delay * (2 ** (attempt - 1))) * random.uniform(0.5, 1.0))  # nosec B311 (jitter)
        try:
            data = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            data = None
        return status, headers, data


def _error_of(headers: dict[str, str], data: t.Any) -> tuple[str, str]:
    error = (data or {}).get("error") if isinstance(data, dict) else None
    code = (headers.get("x-amzn-errortype") or "").split(":", 1)[0]
    if isinstance(error, dict):
        return code or str(error.get("type") or ""), str(error.get("message") or "")
    message = (data or {}).get("message") if isinstance(data, dict) else None
    return code, str(message or "")


def check_mantle_model(caller: MantleCaller, reference: str, names: list[str] | None = None, account: str | None = None) -> dict[str, t.Any]:
    """Prove one pin on Mantle with a 1-token Messages call; a result shaped like model_access_info's references[]."""
    result: dict[str, t.Any] = {"reference": reference, "names": list(names or []), "kind": "mantle_model", "region": caller.region,
                                "endpoint": "mantle", "model_id": None, "http_status": None, "error_code": None,
                                # No inference profile on Mantle; the key keeps the shape of model_access_info's references[].
                                "profile": None}
    model_id = mantle_model_id(reference)
    region = caller.region
    if model_id is None:
        proposal = proposed_model_id(reference)
        remedy = (f"{reference!r} cannot be called on Amazon Bedrock (Mantle), which serves model ids without a geo prefix, "
                  f"version suffix or ARN" + (f"; pin {proposal} instead." if proposal else "."))
        return dict(result, status="invalid_reference", usable=False, remedy=remedy, remedies=[remedy])
    result["model_id"] = model_id
    status, headers, data = caller.call("POST", "/v1/messages", {
        "model": model_id, "max_tokens": 1, "messages": [{"role": "user", "content": [{"type": "text", "text": "ping"}]}]})
    code, message = _error_of(headers, data)
    result["http_status"] = status
    if status == 200:
        return dict(result, status="ok", usable=True, remedy=None, remedies=[], stop_reason=(data or {}).get("stop_reason"))
    result["error_code"] = code
    lowered = message.lower()
    if status == 0:
        found = "unreachable", (f"Amazon Bedrock (Mantle) at {caller.base_url} cannot be reached ({message}); check "
                                "claude_fleet_bedrock_mantle_base_url, the proxy and the CA bundle.")
    elif code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "MissingAuthenticationTokenException",
                  "IncompleteSignatureException") or status == 401:
        found = "credentials_invalid", (f"Mantle rejected the credentials ({code or status}: {message}). Mantle takes SigV4 for the service "
                                        f"bedrock-mantle in {region} or an Amazon Bedrock API key; refresh or fix the controller's credentials.")
    elif "callwithbearertoken" in lowered:
        found = "access_denied", (f"IAM denies API keys on Mantle: allow bedrock-mantle:CallWithBearerToken (Resource *) to the key's user "
                                  f"({message}).")
    elif "bedrock-mantle:" in lowered or ("not authorized to perform" in lowered):
        found = "access_denied", (f"IAM denies inference on Mantle: allow bedrock-mantle:CreateInference and bedrock-mantle:GetProject on "
                                  f"arn:aws:bedrock-mantle:{region}:{account or '<account>'}:project/* (see the bedrock_iam_policy filter "
                                  f"with endpoint=mantle, or the AWS managed policy AmazonBedrockMantleInferenceAccess). AWS said: {message}")
    elif "use case" in lowered:
        found = "use_case_form_required", (f"Submit the Anthropic use case form for the account (Amazon Bedrock console, model catalog), then "
                                           f"retry in 15 minutes; Mantle said: {message}")
    elif status == 403:
        found = "access_denied", (f"{model_id} is not enabled for the account on Amazon Bedrock (Mantle) in {region}: enable it in the Amazon "
                                  f"Bedrock console (model access) or pin a model the account has. Mantle said: {message}")
    elif status == 404:
        found = "not_found", (f"Amazon Bedrock (Mantle) does not serve {model_id} in {region}: pin a model Mantle lists for the region "
                              f"(GET {caller.base_url}/v1/models) or use another region. Mantle said: {message}")
    elif status in RETRY_STATUSES:
        found = "throttled", (f"Mantle kept answering {status} ({code}) after {caller.retries} retries; retry later or raise "
                              "claude_fleet_preflight_retries.")
    else:
        found = "error", f"Mantle answered {status} ({code}) for {model_id}: {message}"
    return dict(result, status=found[0], usable=False, remedy=found[1], remedies=[found[1]])


def run_mantle_checks(caller: MantleCaller, references: list[str], names: dict[str, list[str]] | None = None,
                      account: str | None = None, identity: dict | None = None, checks: list[dict] | None = None) -> dict[str, t.Any]:
    """Every pin once; aggregated like ModelAccessChecker.run (usable, failed_references, remedies, references)."""
    names = names or {}
    checks = list(checks or [])
    abort = any(c.get("status") == "credentials_invalid" for c in checks)
    results = []
    for reference in [] if abort else references:
        results.append(check_mantle_model(caller, reference, names.get(reference), account))
        # A rejected credential or an unreachable endpoint fails every call the same way: stop and say it once.
        if results[-1]["status"] in ("credentials_invalid", "unreachable"):
            abort = True
            break
    remedies = [c["remedy"] for c in checks]
    for item in results:
        label = item["reference"] if not item["names"] else f"{', '.join(item['names'])} ({item['reference']})"
        remedies.extend(f"{label}: {r}" for r in item["remedies"])
    failed = list(references) if abort else [r["reference"] for r in results if not r["usable"]]
    return {"usable": not remedies and not failed, "failed_references": failed, "remedies": remedies, "references": results,
            "checks": checks, "caller_identity": identity, "region": caller.region, "endpoint": "mantle", "base_url": caller.base_url,
            "aws_calls": caller.calls, "aws_retries": caller.retried}
