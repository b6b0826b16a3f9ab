# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Request log, counters, admin endpoints, unknown routes; secrets never reach the log."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

US_SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
BODY = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]})


def http(url, method="GET", data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # nosec - loopback emulator
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_jsonl_log_fields_and_no_secrets(bedrock_emulator, tmp_path):
    log = tmp_path / "requests.jsonl"
    emu = bedrock_emulator(log_path=str(log))
    runtime = emu.client("bedrock-runtime", region_name="us-west-2")
    runtime.invoke_model(modelId=US_SONNET, body=BODY, guardrailIdentifier="gr-xyz", guardrailVersion="DRAFT")
    session = emu.client("sts", aws_access_key_id="ASIAEMULATORSESSION1", aws_secret_access_key="emulatorSessionSecretKey0000000000000000",
                         aws_session_token="emulator-session-token-0001")
    session.get_caller_identity()
    http(emu.url + "/model/%s/invoke" % US_SONNET, "POST", BODY.encode("utf-8"),
         {"Authorization": "Bearer " + emu.bearer_token, "anthropic-beta": "claude-code-20250219", "Content-Type": "application/json"})
    emu.server.state.close()
    text = log.read_text(encoding="utf-8")
    for secret in (emu.secret_access_key, "emulatorSessionSecretKey0000000000000000", "emulator-session-token-0001", emu.bearer_token,
                   "AWS4-HMAC-SHA256", "Signature="):
        assert secret not in text
    entries = [json.loads(line) for line in text.splitlines()]
    assert len(entries) == 3
    invoke, sts, bearer = entries
    assert invoke["operation"] == "InvokeModel" and invoke["service"] == "bedrock-runtime"
    assert (invoke["model_id"], invoke["region"], invoke["principal"]) == (US_SONNET, "us-west-2", emu.access_key_id)
    assert (invoke["guardrail_identifier"], invoke["guardrail_version"]) == ("gr-xyz", "DRAFT")
    assert invoke["status"] == 200 and invoke["error_code"] is None and invoke["max_tokens"] == 5
    assert invoke["user_agent"].startswith("Boto3/")
    assert invoke["time"].endswith("+00:00")
    assert (sts["operation"], sts["principal"]) == ("GetCallerIdentity", "ASIAEMULATORSESSION1")
    assert (bearer["auth"], bearer["principal"]) == ("bearer", "bearer")
    assert bearer["custom_headers"] == {"anthropic-beta": "claude-code-20250219"}


def test_counters_and_requests_in_process(bedrock_emulator):
    emu = bedrock_emulator()
    client = emu.client("bedrock")
    client.list_foundation_models()
    client.list_foundation_models()
    with pytest.raises(Exception):
        client.get_foundation_model(modelIdentifier="nope.nope")
    counters = emu.counters()
    assert counters["total"] == 3
    assert counters["operations"] == {"ListFoundationModels": 2, "GetFoundationModel": 1}
    assert counters["status"]["GetFoundationModel"] == {"404": 1}
    assert counters["errors"] == {"ResourceNotFoundException": 1}
    assert [e["operation"] for e in emu.requests()] == ["ListFoundationModels", "ListFoundationModels", "GetFoundationModel"]


def test_admin_endpoints(bedrock_emulator):
    emu = bedrock_emulator()
    emu.client("bedrock").list_inference_profiles()
    status, dummy, body = http(emu.url + "/_emulator/health")
    assert status == 200 and json.loads(body) == {"status": "ok", "url": emu.url}
    status, dummy, body = http(emu.url + "/_emulator/requests")
    assert [e["operation"] for e in json.loads(body)] == ["ListInferenceProfiles"]
    status, dummy, body = http(emu.url + "/_emulator/counters")
    assert json.loads(body)["operations"] == {"ListInferenceProfiles": 1}
    status, dummy, body = http(emu.url + "/_emulator/reset", "POST", b"")
    assert status == 200 and emu.requests() == [] and emu.counters()["total"] == 0
    status, dummy, body = http(emu.url + "/_emulator/nope")
    assert status == 404 and "endpoints" in json.loads(body)


def test_admin_replace_scenario(bedrock_emulator):
    emu = bedrock_emulator()
    payload = json.dumps({"scenario": "default", "overrides": {"iam": {"deny": ["bedrock:ListFoundationModels"]}}}).encode("utf-8")
    status, dummy, body = http(emu.url + "/_emulator/scenario", "POST", payload)
    assert status == 200, body
    with pytest.raises(Exception) as exc:
        emu.client("bedrock").list_foundation_models()
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    status, dummy, body = http(emu.url + "/_emulator/scenario", "POST", json.dumps({"overrides": {"account_id": "12"}}).encode("utf-8"))
    assert status == 400 and "account_id" in json.loads(body)["error"]
    status, dummy, body = http(emu.url + "/_emulator/scenario")
    assert json.loads(body)["iam"]["deny"] == ["bedrock:ListFoundationModels"]


@pytest.mark.parametrize("method, path", [("GET", "/no/such/route"), ("POST", "/model/x/not-an-action"), ("DELETE", "/inference-profiles"),
                                          ("OPTIONS", "/foundation-models")])
def test_unknown_route(bedrock_emulator, method, path):
    emu = bedrock_emulator()
    status, headers, body = http(emu.url + path, method, b"" if method != "GET" else None)
    assert status == 404
    assert headers["x-amzn-ErrorType"].split(":")[0] == "UnknownOperationException"
    assert b"Traceback" not in body
    assert emu.requests()[-1]["error_code"] == "UnknownOperationException"


def test_known_but_unimplemented_operation(bedrock_emulator):
    emu = bedrock_emulator()
    with pytest.raises(Exception) as exc:
        emu.client("bedrock").list_guardrails()
    assert exc.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "ListGuardrails" in exc.value.response["Error"]["Message"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sts_missing_action(bedrock_emulator, method):
    emu = bedrock_emulator()
    status, dummy, body = http(emu.url + "/", method, b"" if method == "POST" else None)
    assert status == 400 and b"<Code>MissingAction</Code>" in body


def test_sts_unknown_action(bedrock_emulator):
    emu = bedrock_emulator()
    status, dummy, body = http(emu.url + "/", "POST", b"Action=Frobnicate&Version=2011-06-15", {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and b"<Code>InvalidAction</Code>" in body


def test_malformed_request_body_framing(bedrock_emulator):
    emu = bedrock_emulator()
    host, port = emu.server.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(b"POST /foundation-models HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
            data = sock.recv(4096)
            if not data:
                break
            reply += data
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert b"x-amzn-ErrorType: ValidationException" in reply and b"Traceback" not in reply


def test_internal_errors_never_leak_a_trace(bedrock_emulator):
    emu = bedrock_emulator()

    def boom(*_args):
        raise RuntimeError("kaboom")

    emu.server.account.op_ListFoundationModels = boom
    with pytest.raises(Exception) as exc:
        emu.client("bedrock").list_foundation_models()
    assert exc.value.response["Error"]["Code"] == "InternalServerException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "kaboom" not in exc.value.response["Error"]["Message"]
    assert emu.requests()[-1]["internal_error"] == "RuntimeError: kaboom"


def test_outputs_are_checked_against_the_botocore_shape(bedrock_emulator):
    emu = bedrock_emulator()
    original = emu.server.account.op_GetFoundationModelAvailability

    def wrong_shape(call, params, stream_fault):
        result = original(call, params, stream_fault)
        result["authorizationStatus"] = "PERHAPS"
        return result

    emu.server.account.op_GetFoundationModelAvailability = wrong_shape
    with pytest.raises(Exception) as exc:
        emu.client("bedrock").get_foundation_model_availability(modelId="anthropic.claude-opus-4-6-v1")
    assert exc.value.response["Error"]["Code"] == "InternalServerException"
    assert "'PERHAPS' not in enum" in emu.requests()[-1]["internal_error"]
