# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Amazon Bedrock (Mantle) in the emulator: the Anthropic Messages API, JSON and server-sent events, SigV4 and bearer."""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from bedrock_emulator.mantle import mantle_id

REPLY = "Hello from the Bedrock emulator (model %s, region %s)."


def anthropic_models(emu, region="us-east-1"):
    """Mantle ids of the scenario's Anthropic text models in the region (the catalog may change; tests read it)."""
    return sorted({mantle_id(m.model_id) for m in emu.scenario.models_in(region) if m.provider == "Anthropic"})


def full_id(emu, mid):
    return next(m.model_id for m in emu.scenario.models.values() if mantle_id(m.model_id) == mid)


def call(emu, path="/v1/messages", body=None, region="us-east-1", service="bedrock-mantle", bearer=None, secret=None, method="POST",
         headers=None, sign=True):
    """One request; returns (status, headers, raw body). SigV4 is computed by botocore over exactly what is sent."""
    data = json.dumps(body).encode("utf-8") if body is not None else b""
    split = urllib.parse.urlsplit(emu.url)
    hdrs = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    hdrs.update(headers or {})
    if bearer:
        hdrs["Authorization"] = "Bearer " + bearer
    elif sign:
        request = AWSRequest(method=method, url=emu.url + path, data=data, headers=dict(hdrs))
        SigV4Auth(Credentials(emu.access_key_id, secret or emu.secret_access_key), service, region).add_auth(request)
        hdrs = dict(request.headers.items())
    conn = http.client.HTTPConnection(split.hostname, split.port, timeout=30)
    try:
        conn.request(method, path, body=data or None, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def message(model, max_tokens=64, stream=False):
    body = {"model": model, "max_tokens": max_tokens, "messages": [{"role": "user", "content": "Say hello"}]}
    if stream:
        body["stream"] = True
    return body


def sse_events(raw):
    events = []
    for block in raw.decode("utf-8").split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def error_of(status, headers, raw):
    body = json.loads(raw)
    assert body["type"] == "error", body
    return status, headers.get("x-amzn-errortype"), body["error"]["type"], body["error"]["message"]


@pytest.mark.parametrize("path", ["/v1/messages", "/anthropic/v1/messages"])
def test_sigv4_json_message(emu, path):
    model = anthropic_models(emu, "eu-west-1")[0]
    status, headers, raw = call(emu, path, message(model), region="eu-west-1")
    assert status == 200, raw
    body = json.loads(raw)
    assert body["type"] == "message" and body["model"] == model and body["stop_reason"] == "end_turn"
    assert body["content"] == [{"type": "text", "text": REPLY % (model, "eu-west-1")}]
    assert headers["content-type"] == "application/json"
    entry = emu.requests("Messages")[-1]
    assert (entry["service"], entry["model_id"], entry["region"], entry["auth"], entry["principal"], entry["status"], entry["max_tokens"]) == (
        "bedrock-mantle", model, "eu-west-1", "sigv4", emu.access_key_id, 200, 64)
    assert entry["path"] == path


def test_full_model_id_is_accepted(emu):
    model = anthropic_models(emu)[0]
    status, dummy_headers, raw = call(emu, body=message(full_id(emu, model)))
    assert status == 200, raw


def test_sse_stream_in_anthropic_event_format(emu):
    model = anthropic_models(emu)[0]
    status, headers, raw = call(emu, "/v1/messages?beta=true", message(model, stream=True))
    assert status == 200, raw
    assert headers["content-type"].startswith("text/event-stream")
    events = sse_events(raw)
    names = [e for e, dummy in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert all(data["type"] == name for name, data in events)
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text == REPLY % (model, "us-east-1")
    assert events[0][1]["message"]["model"] == model
    entry = emu.requests("MessagesStream")[-1]
    assert (entry["model_id"], entry["status"], entry["path"]) == (model, 200, "/v1/messages")


def test_max_tokens_one_probe_stops_at_max_tokens(emu):
    model = anthropic_models(emu)[0]
    status, dummy_headers, raw = call(emu, body=message(model, max_tokens=1))
    body = json.loads(raw)
    assert status == 200 and body["stop_reason"] == "max_tokens" and body["usage"]["output_tokens"] == 1


def test_bearer_token(emu):
    model = anthropic_models(emu)[0]
    status, dummy_headers, raw = call(emu, body=message(model), bearer=emu.bearer_token)
    assert status == 200, raw
    entry = emu.requests("Messages")[-1]
    assert entry["auth"] == "bearer" and entry["principal"] == "bearer" and entry["region"] == emu.scenario.default_region
    assert emu.bearer_token not in json.dumps(emu.requests())


def test_bearer_region_from_mantle_host(emu):
    model = anthropic_models(emu, "us-west-2")[0]
    status, dummy_headers, raw = call(emu, body=message(model), bearer=emu.bearer_token, headers={"Host": "bedrock-mantle.us-west-2.api.aws"})
    assert status == 200, raw
    assert json.loads(raw)["content"][0]["text"] == REPLY % (model, "us-west-2")


def test_signature_for_the_runtime_service_is_rejected(emu):
    status, headers, raw = call(emu, body=message(anthropic_models(emu)[0]), service="bedrock")
    assert error_of(status, headers, raw)[:3] == (403, "InvalidSignatureException", "permission_error")


def test_wrong_secret_and_missing_auth(emu):
    model = anthropic_models(emu)[0]
    assert error_of(*call(emu, body=message(model), secret="wrong"))[:2] == (403, "InvalidSignatureException")
    assert error_of(*call(emu, body=message(model), sign=False))[:2] == (403, "MissingAuthenticationTokenException")
    assert error_of(*call(emu, body=message(model), bearer="ABSKnot-a-known-key"))[:2] == (403, "UnrecognizedClientException")


def test_unknown_model_is_not_found(emu):
    status, headers, raw = call(emu, body=message("anthropic.claude-nonexistent-9"))
    status, code, kind, text = error_of(status, headers, raw)
    assert (status, code, kind) == (404, "ResourceNotFoundException", "not_found_error")
    assert "anthropic.claude-nonexistent-9" in text


@pytest.mark.parametrize("access,message_part", [
    ("DENIED", "don't have access"),
    ("AGREEMENT_PENDING", "Marketplace"),
    ("USE_CASE_REQUIRED", "use case"),
])
def test_model_access_states(bedrock_emulator, access, message_part):
    probe = bedrock_emulator()
    model = anthropic_models(probe)[0]
    emu = bedrock_emulator(overrides={"access": {full_id(probe, model): access}})
    status, code, kind, text = error_of(*call(emu, body=message(model)))
    assert (status, code, kind) == (403, "AccessDeniedException", "permission_error")
    assert message_part in text
    assert emu.counters()["errors"] == {"AccessDeniedException": 1}


def test_region_unavailable(bedrock_emulator):
    probe = bedrock_emulator()
    model = anthropic_models(probe, "eu-west-3")[0]
    emu = bedrock_emulator(overrides={"access": {full_id(probe, model): {"eu-west-3": "REGION_UNAVAILABLE"}}})
    assert error_of(*call(emu, body=message(model), region="eu-west-3"))[:2] == (404, "ResourceNotFoundException")
    assert call(emu, body=message(model), region="eu-west-1")[0] == 200


def test_iam_deny_create_inference_names_action_and_project(bedrock_emulator):
    emu = bedrock_emulator(overrides={"iam": {"deny": ["bedrock-mantle:CreateInference"]}})
    status, code, kind, text = error_of(*call(emu, body=message(anthropic_models(emu)[0])))
    assert (status, code, kind) == (403, "AccessDeniedException", "permission_error")
    assert "bedrock-mantle:CreateInference" in text and "arn:aws:bedrock-mantle:us-east-1:%s:project/default" % emu.scenario.account_id in text


def test_iam_deny_bearer_calls(bedrock_emulator):
    emu = bedrock_emulator(overrides={"iam": {"deny": ["bedrock-mantle:CallWithBearerToken"]}})
    model = anthropic_models(emu)[0]
    assert error_of(*call(emu, body=message(model), bearer=emu.bearer_token))[:2] == (403, "AccessDeniedException")
    assert call(emu, body=message(model))[0] == 200


def test_throttle_scenario_then_success(bedrock_emulator):
    emu = bedrock_emulator("throttle")
    model = anthropic_models(emu)[0]
    for dummy in range(3):
        assert error_of(*call(emu, body=message(model)))[:3] == (429, "ThrottlingException", "rate_limit_error")
    assert call(emu, body=message(model))[0] == 200
    assert emu.counters()["status"]["Messages"] == {"429": 3, "200": 1}


def test_unavailable_fault(bedrock_emulator):
    emu = bedrock_emulator(overrides={"faults": {"MessagesStream": {"unavailable_first": 1}}})
    model = anthropic_models(emu)[0]
    assert error_of(*call(emu, body=message(model, stream=True)))[:3] == (503, "ServiceUnavailableException", "overloaded_error")
    assert call(emu, body=message(model, stream=True))[0] == 200


def test_in_stream_error_event(bedrock_emulator):
    emu = bedrock_emulator(overrides={"faults": {"MessagesStream": {"stream_exception_first": 1, "stream_exception": "serviceUnavailableException"}}})
    model = anthropic_models(emu)[0]
    status, dummy_headers, raw = call(emu, body=message(model, stream=True))
    events = sse_events(raw)
    assert status == 200 and events[-1][0] == "error" and events[-1][1]["error"]["type"] == "overloaded_error"
    assert "message_stop" not in [e for e, dummy in events]
    assert emu.requests("MessagesStream")[-1]["error_code"] == "serviceUnavailableException"


@pytest.mark.parametrize("body,fragment", [
    ({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": "anthropic.claude-x", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ({"model": "anthropic.claude-x", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
    ({"model": "anthropic.claude-x", "max_tokens": 5, "messages": []}, "messages"),
])
def test_bad_bodies(emu, body, fragment):
    status, code, kind, text = error_of(*call(emu, body=body))
    assert (status, code, kind) == (400, "ValidationException", "invalid_request_error") and fragment in text


def test_anthropic_version_header_is_required(emu):
    model = anthropic_models(emu)[0]
    status, code, dummy_kind, text = error_of(*call(emu, body=message(model), headers={"anthropic-version": ""}))
    assert (status, code) == (400, "ValidationException") and "anthropic-version" in text


def test_list_models(emu):
    status, dummy_headers, raw = call(emu, "/v1/models", method="GET", region="eu-central-1")
    assert status == 200, raw
    ids = [m["id"] for m in json.loads(raw)["data"]]
    assert ids == anthropic_models(emu, "eu-central-1") and ids
    assert all(":" not in i and not i.startswith(("us.", "eu.", "global.")) for i in ids)


def test_model_excluded_from_mantle(bedrock_emulator):
    probe = bedrock_emulator()
    model = anthropic_models(probe)[0]
    emu = bedrock_emulator(overrides={"models": {full_id(probe, model): {"mantle": False}}})
    assert error_of(*call(emu, body=message(model)))[:2] == (404, "ResourceNotFoundException")
    assert model not in [m["id"] for m in json.loads(call(emu, "/v1/models", method="GET")[2])["data"]]
