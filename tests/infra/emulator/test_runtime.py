# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""boto3 ``bedrock-runtime`` against the emulator: InvokeModel, event streams, Converse, runtime errors."""

from __future__ import annotations

import base64
import binascii
import json
import struct
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError

from bedrock_emulator.pytest_plugin import error_of

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
US_SONNET = "us." + SONNET
OPUS46 = "anthropic.claude-opus-4-6-v1"
HAIKU35 = "anthropic.claude-3-5-haiku-20241022-v1:0"
REPLY = "Hello from the Bedrock emulator (model %s, region %s)."


def anthropic_body(max_tokens=256, **extra):
    body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": max_tokens, "messages": [{"role": "user", "content": "Say hello"}]}
    body.update(extra)
    return json.dumps(body)


def stream_events(response):
    events = []
    for event in response["body"]:
        events.append(json.loads(event["chunk"]["bytes"]))
    return events


def test_invoke_model_profile(emu):
    out = emu.client("bedrock-runtime").invoke_model(modelId=US_SONNET, body=anthropic_body())
    assert out["contentType"] == "application/json"
    message = json.loads(out["body"].read())
    assert message["type"] == "message" and message["role"] == "assistant"
    assert message["model"] == "claude-sonnet-4-5-20250929"
    assert message["content"] == [{"type": "text", "text": REPLY % (US_SONNET, "us-east-1")}]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"]["output_tokens"] == 9


def test_invoke_model_probe_max_tokens_1(emu):
    out = emu.client("bedrock-runtime").invoke_model(modelId="global." + OPUS46, body=anthropic_body(max_tokens=1))
    message = json.loads(out["body"].read())
    assert message["stop_reason"] == "max_tokens"
    assert message["usage"]["output_tokens"] == 1
    assert emu.requests("InvokeModel")[-1]["max_tokens"] == 1


def test_invoke_model_on_demand_model_and_arns(emu):
    client = emu.client("bedrock-runtime", region_name="us-west-2")
    message = json.loads(client.invoke_model(modelId=HAIKU35, body=anthropic_body())["body"].read())
    assert message["content"][0]["text"] == REPLY % (HAIKU35, "us-west-2")
    fm_arn = "arn:aws:bedrock:us-west-2::foundation-model/" + HAIKU35
    assert json.loads(client.invoke_model(modelId=fm_arn, body=anthropic_body())["body"].read())["type"] == "message"
    profile_arn = "arn:aws:bedrock:us-west-2:123456789012:inference-profile/" + US_SONNET
    assert json.loads(client.invoke_model(modelId=profile_arn, body=anthropic_body())["body"].read())["type"] == "message"
    app_arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fleetsonnet45a"
    east = emu.client("bedrock-runtime")
    assert json.loads(east.invoke_model(modelId=app_arn, body=anthropic_body())["body"].read())["model"] == "claude-sonnet-4-5-20250929"


def test_invoke_profile_only_model_on_demand_is_rejected(emu):
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock-runtime").invoke_model(modelId=SONNET, body=anthropic_body())
    code, status, message = error_of(exc)
    assert (code, status) == ("ValidationException", 400)
    assert message == ("Invocation of model ID %s with on-demand throughput isn't supported. Retry your request with the ID or ARN of an "
                       "inference profile that contains this model." % SONNET)


@pytest.mark.parametrize("model_id, region", [
    ("anthropic.claude-made-up-v1:0", "us-east-1"),
    ("us." + SONNET, "eu-west-1"),  # us. profile from an EU region
    ("eu.anthropic.claude-opus-4-1-20250805-v1:0", "eu-west-1"),  # no such geography for this model
])
def test_invoke_invalid_model_identifier(bedrock_emulator, model_id, region):
    emu = bedrock_emulator()
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock-runtime", region_name=region).invoke_model(modelId=model_id, body=anthropic_body())
    assert error_of(exc) == ("ValidationException", 400, "The provided model identifier is invalid.")


@pytest.mark.parametrize("scenario, model_id, message_start", [
    ("model_denied", "us." + OPUS46, "You don't have access to the model with the specified model ID."),
    ("agreement_pending", US_SONNET, "Model access is denied because the AWS Marketplace subscription"),
    ("use_case_form", US_SONNET, "Model use case details have not been submitted for this account."),
])
def test_invoke_access_errors(bedrock_emulator, scenario, model_id, message_start):
    emu = bedrock_emulator(scenario)
    runtime = emu.client("bedrock-runtime")
    for call in (lambda: runtime.invoke_model(modelId=model_id, body=anthropic_body()),
                 lambda: runtime.invoke_model_with_response_stream(modelId=model_id, body=anthropic_body())):
        with pytest.raises(ClientError) as exc:
            call()
        code, status, message = error_of(exc)
        assert (code, status) == ("AccessDeniedException", 403)
        assert message.startswith(message_start)


def test_use_case_form_leaves_other_providers_alone(bedrock_emulator):
    emu = bedrock_emulator("use_case_form")
    out = emu.client("bedrock-runtime").converse(modelId="amazon.nova-lite-v1:0", messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert out["stopReason"] == "end_turn"


def test_region_unavailable(bedrock_emulator):
    emu = bedrock_emulator("region_unavailable")
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock-runtime", region_name="eu-west-3").invoke_model(modelId="eu." + OPUS46, body=anthropic_body())
    assert error_of(exc)[:2] == ("ValidationException", 400)
    out = emu.client("bedrock-runtime", region_name="eu-west-1").invoke_model(modelId="eu." + OPUS46, body=anthropic_body())
    assert json.loads(out["body"].read())["type"] == "message"


def test_legacy_model_still_invocable(bedrock_emulator):
    emu = bedrock_emulator("legacy")
    details = emu.client("bedrock").get_foundation_model(modelIdentifier=SONNET)["modelDetails"]
    assert details["modelLifecycle"]["status"] == "LEGACY"
    assert json.loads(emu.client("bedrock-runtime").invoke_model(modelId=US_SONNET, body=anthropic_body())["body"].read())["type"] == "message"


def test_iam_deny_invoke(bedrock_emulator):
    emu = bedrock_emulator(overrides={"iam": {"deny": ["bedrock:InvokeModelWithResponseStream"]}})
    runtime = emu.client("bedrock-runtime")
    assert json.loads(runtime.invoke_model(modelId=US_SONNET, body=anthropic_body())["body"].read())["type"] == "message"
    with pytest.raises(ClientError) as exc:
        runtime.invoke_model_with_response_stream(modelId=US_SONNET, body=anthropic_body())
    code, status, message = error_of(exc)
    assert (code, status) == ("AccessDeniedException", 403)
    assert "bedrock:InvokeModelWithResponseStream on resource: arn:aws:bedrock:us-east-1:123456789012:inference-profile/" + US_SONNET in message


@pytest.mark.parametrize("body, fragment", [
    ("not json", "Malformed input request"),
    (json.dumps({"anthropic_version": "bedrock-2023-05-31", "messages": [{"role": "user", "content": "x"}]}), "required key [max_tokens]"),
    (json.dumps([1, 2]), "Malformed input request"),
])
def test_invoke_malformed_body(emu, body, fragment):
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock-runtime").invoke_model(modelId=US_SONNET, body=body)
    code, status, message = error_of(exc)
    assert (code, status) == ("ValidationException", 400) and fragment in message


def test_stream_events_in_order(emu):
    out = emu.client("bedrock-runtime").invoke_model_with_response_stream(modelId=US_SONNET, body=anthropic_body())
    assert out["contentType"] == "application/json"
    events = stream_events(out)
    types = [e["type"] for e in events]
    assert types[:2] == ["message_start", "content_block_start"]
    assert types[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(types[2:-3]) == {"content_block_delta"}
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta")
    assert text == REPLY % (US_SONNET, "us-east-1")
    assert events[-2]["delta"]["stop_reason"] == "end_turn"
    assert events[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == len(types) - 5


def _signed_raw(emu, path, body, region="us-east-1"):
    """Send a SigV4-signed request with urllib and return (status, headers, raw body)."""
    url = emu.url + path
    request = AWSRequest(method="POST", url=url, data=body.encode("utf-8"), headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(emu.access_key_id, emu.secret_access_key), "bedrock", region).add_auth(request)
    prepared = urllib.request.Request(url, data=request.body, headers=dict(request.headers.items()), method="POST")
    with urllib.request.urlopen(prepared, timeout=10) as response:  # nosec - loopback emulator
        return response.status, response.headers, response.read()


def test_stream_wire_framing(emu):
    status, headers, raw = _signed_raw(emu, "/model/%s/invoke-with-response-stream" % US_SONNET.replace(":", "%3A"), anthropic_body())
    assert status == 200
    assert headers["Content-Type"] == "application/vnd.amazon.eventstream"
    assert headers["X-Amzn-Bedrock-Content-Type"] == "application/json"
    # Walk the frames by hand: prelude lengths, prelude CRC, message CRC.
    offset, frames = 0, 0
    while offset < len(raw):
        total, header_len = struct.unpack(">II", raw[offset:offset + 8])
        assert struct.unpack(">I", raw[offset + 8:offset + 12])[0] == binascii.crc32(raw[offset:offset + 8]) & 0xFFFFFFFF
        message = raw[offset:offset + total]
        assert struct.unpack(">I", message[-4:])[0] == binascii.crc32(message[:-4]) & 0xFFFFFFFF
        assert 12 + header_len + 4 <= total
        offset += total
        frames += 1
    assert offset == len(raw) and frames >= 6
    # And botocore's decoder agrees, header by header.
    buf = EventStreamBuffer()
    buf.add_data(raw)
    messages = list(buf)
    assert len(messages) == frames
    for message in messages:
        assert message.headers == {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
        inner = json.loads(base64.b64decode(json.loads(message.payload)["bytes"]))
        assert "type" in inner


def test_in_stream_exception(bedrock_emulator):
    fault = {"stream_exception_first": 1, "stream_exception": "modelStreamErrorException"}
    emu = bedrock_emulator(overrides={"faults": {"InvokeModelWithResponseStream": fault}})
    runtime = emu.client("bedrock-runtime")
    out = runtime.invoke_model_with_response_stream(modelId=US_SONNET, body=anthropic_body())
    with pytest.raises(EventStreamError) as exc:
        stream_events(out)
    assert exc.value.response["Error"]["Code"] == "modelStreamErrorException"
    assert emu.requests("InvokeModelWithResponseStream")[-1]["error_code"] == "modelStreamErrorException"
    # Only the first call is affected.
    assert stream_events(runtime.invoke_model_with_response_stream(modelId=US_SONNET, body=anthropic_body()))[-1]["type"] == "message_stop"


def test_streaming_unsupported_model(bedrock_emulator):
    emu = bedrock_emulator(overrides={"models": {HAIKU35: {"streaming": False}}})
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock-runtime").invoke_model_with_response_stream(modelId=HAIKU35, body=anthropic_body())
    assert error_of(exc)[:2] == ("ValidationException", 400)


def test_converse(emu):
    out = emu.client("bedrock-runtime").converse(modelId=US_SONNET, messages=[{"role": "user", "content": [{"text": "hi"}]}],
                                                 inferenceConfig={"maxTokens": 3})
    assert out["output"]["message"]["content"][0]["text"] == "Hello from the "
    assert out["stopReason"] == "max_tokens"
    assert out["usage"]["outputTokens"] == 3


def test_converse_stream(emu):
    out = emu.client("bedrock-runtime").converse_stream(modelId=US_SONNET, messages=[{"role": "user", "content": [{"text": "hi"}]}])
    events = list(out["stream"])
    assert list(events[0]) == ["messageStart"] and list(events[-1]) == ["metadata"]
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert text == REPLY % (US_SONNET, "us-east-1")
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"


def test_converse_rejects_embedding_model(emu):
    with pytest.raises(ClientError) as exc:
        emu.client("bedrock-runtime").converse(modelId="amazon.titan-embed-text-v2:0", messages=[{"role": "user", "content": [{"text": "x"}]}])
    assert error_of(exc)[:2] == ("ValidationException", 400)


def test_count_tokens(emu):
    out = emu.client("bedrock-runtime").count_tokens(modelId=HAIKU35, input={"invokeModel": {"body": anthropic_body().encode("utf-8")}})
    assert out["inputTokens"] > 0


def test_guardrail_and_custom_headers_are_logged(emu):
    runtime = emu.client("bedrock-runtime")
    runtime.invoke_model(modelId=US_SONNET, body=anthropic_body(), guardrailIdentifier="gr-abc123", guardrailVersion="2")
    entry = emu.requests("InvokeModel")[-1]
    assert (entry["guardrail_identifier"], entry["guardrail_version"]) == ("gr-abc123", "2")
    assert (entry["model_id"], entry["region"], entry["principal"], entry["auth"]) == (US_SONNET, "us-east-1", emu.access_key_id, "sigv4")
