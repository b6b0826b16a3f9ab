# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SigV4 and bearer-token authentication: accepted requests and every rejection AWS gives."""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.parse
import urllib.request

import botocore.auth
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_emulator import load_scenario
from bedrock_emulator.sigv4 import AuthError, verify_sigv4
from bedrock_emulator.pytest_plugin import error_of

US_SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
BODY = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]})
WRONG_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY0"


def raw(emu, method, path, body=b"", headers=None, sign=None, tamper_body=None):
    """Send a request with urllib; ``sign`` = dict(service, region, key, secret, token, when). Returns (status, headers, body)."""
    url = emu.url + path
    headers = dict(headers or {})
    if sign is not None:
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        creds = Credentials(sign.get("key", emu.access_key_id), sign.get("secret", emu.secret_access_key), sign.get("token"))
        signer = SigV4Auth(creds, sign.get("service", "bedrock"), sign.get("region", "us-east-1"))
        when = sign.get("when")
        original = botocore.auth.get_current_datetime
        if when is not None:
            botocore.auth.get_current_datetime = lambda: when
        try:
            signer.add_auth(request)
        finally:
            botocore.auth.get_current_datetime = original
        headers = dict(request.headers.items())
    data = tamper_body if tamper_body is not None else body
    req = urllib.request.Request(url, data=data if method != "GET" else None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # nosec - loopback emulator
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def error_type(headers):
    return (headers.get("x-amzn-ErrorType") or "").split(":")[0]


def test_wrong_secret_is_invalid_signature(emu):
    for service in ("bedrock", "bedrock-runtime"):
        client = emu.client(service, aws_secret_access_key=WRONG_SECRET)
        with pytest.raises(ClientError) as exc:
            if service == "bedrock":
                client.list_inference_profiles()
            else:
                client.invoke_model(modelId=US_SONNET, body=BODY)
        code, status, message = error_of(exc)
        assert (code, status) == ("InvalidSignatureException", 403)
        assert message.startswith("The request signature we calculated does not match the signature you provided.")


def test_unknown_access_key(emu):
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock", aws_access_key_id="AKIAUNKNOWNKEY000000").list_foundation_models()
    assert error_of(exc) == ("UnrecognizedClientException", 403, "The security token included in the request is invalid.")


def test_sts_errors_use_query_protocol_codes(emu):
    with pytest.raises(ClientError) as exc:
        emu.client("sts", aws_secret_access_key=WRONG_SECRET).get_caller_identity()
    assert error_of(exc)[:2] == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as exc:
        emu.client("sts", aws_access_key_id="AKIAUNKNOWNKEY000000").get_caller_identity()
    assert error_of(exc)[:2] == ("InvalidClientTokenId", 403)
    with pytest.raises(ClientError) as exc:
        emu.client("sts", aws_access_key_id="ASIAEMULATOREXPIRED1", aws_secret_access_key="emulatorExpiredSecretKey000000000000000",
                   aws_session_token="emulator-session-token-expired").get_caller_identity()
    assert error_of(exc)[:2] == ("ExpiredToken", 403)


def test_missing_authentication(emu):
    client = emu.client("bedrock", config=Config(signature_version=UNSIGNED))
    with pytest.raises(ClientError) as exc:
        client.list_foundation_models()
    assert error_of(exc) == ("MissingAuthenticationTokenException", 403, "Missing Authentication Token")
    status, headers, dummy = raw(emu, "POST", "/", body=b"Action=GetCallerIdentity&Version=2011-06-15",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403 and b"<Code>MissingAuthenticationToken</Code>" in dummy
    del headers


def test_session_credentials_need_their_token(emu):
    good = emu.client("bedrock", aws_access_key_id="ASIAEMULATORSESSION1", aws_secret_access_key="emulatorSessionSecretKey0000000000000000",
                      aws_session_token="emulator-session-token-0001")
    assert good.list_foundation_models()["modelSummaries"]
    bad = emu.client("bedrock", aws_access_key_id="ASIAEMULATORSESSION1", aws_secret_access_key="emulatorSessionSecretKey0000000000000000",
                     aws_session_token="some-other-token")
    with pytest.raises(ClientError) as exc:
        bad.list_foundation_models()
    assert error_of(exc)[:2] == ("UnrecognizedClientException", 403)


def test_expired_session_credentials(emu):
    client = emu.client("bedrock-runtime", aws_access_key_id="ASIAEMULATOREXPIRED1", aws_secret_access_key="emulatorExpiredSecretKey000000000000000",
                        aws_session_token="emulator-session-token-expired")
    with pytest.raises(ClientError) as exc:
        client.invoke_model(modelId=US_SONNET, body=BODY)
    assert error_of(exc) == ("ExpiredTokenException", 403, "The security token included in the request is expired")


def test_signature_too_old(emu):
    old = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=20)
    status, headers, body = raw(emu, "GET", "/foundation-models", sign={"when": old})
    assert (status, error_type(headers)) == (403, "InvalidSignatureException")
    assert json.loads(body)["message"].startswith("Signature expired:")


def test_credential_scope_region_and_service(emu):
    status, headers, body = raw(emu, "GET", "/foundation-models", sign={"region": "mars-north-1"})
    assert (status, error_type(headers)) == (403, "InvalidSignatureException")
    assert "valid region" in json.loads(body)["message"]
    status, headers, body = raw(emu, "GET", "/foundation-models", sign={"service": "bedrock-runtime"})
    assert (status, error_type(headers)) == (403, "InvalidSignatureException")
    assert json.loads(body)["message"] == "Credential should be scoped to correct service: 'bedrock'. "
    # The request's region (here from a header) must match the scope's region.
    status, headers, body = raw(emu, "GET", "/foundation-models", headers={"X-Emulator-Region": "eu-west-1"}, sign={"region": "us-east-1"})
    assert (status, error_type(headers)) == (403, "InvalidSignatureException")
    status, headers, body = raw(emu, "GET", "/foundation-models", headers={"X-Emulator-Region": "eu-west-1"}, sign={"region": "eu-west-1"})
    assert status == 200


def test_tampered_body_is_rejected(emu):
    path = "/model/%s/invoke" % US_SONNET.replace(":", "%3A")
    tampered = BODY.replace("hi", "yo").encode("utf-8")
    status, headers, dummy = raw(emu, "POST", path, body=BODY.encode("utf-8"), headers={"Content-Type": "application/json"}, sign={},
                                 tamper_body=tampered)
    assert (status, error_type(headers)) == (403, "InvalidSignatureException")
    status, headers, dummy = raw(emu, "POST", path, body=BODY.encode("utf-8"), headers={"Content-Type": "application/json"}, sign={})
    assert status == 200


def test_non_numeric_query_parameter_is_a_validation_error(emu):
    status, headers, body = raw(emu, "GET", "/inference-profiles?maxResults=ten", sign={})
    assert (status, error_type(headers)) == (400, "ValidationException")
    assert "maxResults" in json.loads(body)["message"]


def test_malformed_authorization_header(emu):
    status, headers, dummy = raw(emu, "GET", "/foundation-models", headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIA/x"})
    assert (status, error_type(headers)) == (400, "IncompleteSignatureException")


def test_bearer_token(emu):
    path = "/model/%s/invoke" % US_SONNET.replace(":", "%3A")
    status, dummy, body = raw(emu, "POST", path, body=BODY.encode("utf-8"),
                              headers={"Content-Type": "application/json", "Authorization": "Bearer " + emu.bearer_token})
    assert status == 200
    assert json.loads(body)["content"][0]["text"] == "Hello from the Bedrock emulator (model %s, region us-east-1)." % US_SONNET
    entry = emu.requests("InvokeModel")[-1]
    assert (entry["auth"], entry["principal"], entry["region"]) == ("bearer", "bearer", "us-east-1")
    # A bearer request names its region with a header (the token carries none).
    status, dummy, body = raw(emu, "GET", "/inference-profiles", headers={"Authorization": "Bearer " + emu.bearer_token, "X-Emulator-Region": "eu-west-1"})
    assert status == 200 and all(p["inferenceProfileId"].startswith(("eu.", "global.")) for p in json.loads(body)["inferenceProfileSummaries"])


@pytest.mark.parametrize("token, code, message", [
    ("ABSKbm90LWEtcmVhbC10b2tlbg", "UnrecognizedClientException", "The security token included in the request is invalid."),
    ("plainly-wrong", "UnrecognizedClientException", "Invalid API Key format: Must start with pre-defined prefix"),
])
def test_bad_bearer_token(emu, token, code, message):
    status, headers, body = raw(emu, "GET", "/foundation-models", headers={"Authorization": "Bearer " + token})
    assert (status, error_type(headers), json.loads(body)["message"]) == (403, code, message)


_TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, blacklist_categories=("Cs",)), max_size=20)
_HEADER_VALUE = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30)


@settings(max_examples=80, deadline=None, database=None)
@given(params=st.dictionaries(st.text(alphabet="abcdefXYZ_-.~", min_size=1, max_size=8), _TEXT, max_size=4),
       extra=st.dictionaries(st.sampled_from(["x-amz-meta-a", "x-amzn-bedrock-trace", "content-type", "accept"]), _HEADER_VALUE, max_size=3),
       body=st.binary(max_size=256), label=_TEXT.filter(bool))
def test_verifier_accepts_what_botocore_signs(params, extra, body, label):
    scenario = load_scenario()
    path = "/model/%s/invoke" % urllib.parse.quote(label, safe="")
    request = AWSRequest(method="POST", url="http://127.0.0.1:9" + path, data=body, params=params, headers=dict(extra))
    SigV4Auth(Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), "bedrock", "eu-west-1").add_auth(request)
    prepared = request.prepare()
    split = urllib.parse.urlsplit(prepared.url)
    pairs = [("Host", "127.0.0.1:9")] + list(prepared.headers.items())
    result = verify_sigv4(scenario, "POST", split.path, split.query, pairs, body, "bedrock")
    assert (result.region, result.access_key_id) == ("eu-west-1", "AKIAIOSFODNN7EXAMPLE")
    # The same request with one byte of the body changed no longer verifies.
    with pytest.raises(AuthError) as exc:
        verify_sigv4(scenario, "POST", split.path, split.query, pairs, body + b"!", "bedrock")
    assert exc.value.code("rest-json") == "InvalidSignatureException"
