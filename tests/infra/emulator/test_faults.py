# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection: throttling and unavailability seen raw (retries off) and absorbed by botocore's standard retries."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from bedrock_emulator.pytest_plugin import error_of

US_SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
BODY = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]})


def test_throttle_first_three_calls_raw(bedrock_emulator):
    emu = bedrock_emulator("throttle")
    client = emu.client("bedrock")
    for dummy in range(3):
        with pytest.raises(ClientError) as exc:
            client.list_inference_profiles()
        assert error_of(exc) == ("ThrottlingException", 429, "Too many requests, please wait before trying again.")
    assert client.list_inference_profiles()["inferenceProfileSummaries"]
    assert emu.counters()["status"]["ListInferenceProfiles"] == {"429": 3, "200": 1}


def test_throttle_absorbed_by_standard_retries(bedrock_emulator):
    emu = bedrock_emulator("throttle")
    runtime = emu.client("bedrock-runtime", total_max_attempts=5, retry_mode="standard")
    out = runtime.invoke_model(modelId=US_SONNET, body=BODY)
    assert out["ResponseMetadata"]["RetryAttempts"] == 3
    assert json.loads(out["body"].read())["type"] == "message"
    statuses = [e["status"] for e in emu.requests("InvokeModel")]
    assert statuses == [429, 429, 429, 200]


def test_throttle_exhausts_too_few_retries(bedrock_emulator):
    emu = bedrock_emulator("throttle")
    sts = emu.client("sts", total_max_attempts=2)
    with pytest.raises(ClientError) as exc:
        sts.get_caller_identity()
    assert error_of(exc)[:2] == ("ThrottlingException", 429)
    assert exc.value.response["ResponseMetadata"]["RetryAttempts"] == 1


def test_service_unavailable_then_success(bedrock_emulator):
    emu = bedrock_emulator(overrides={"faults": {"GetInferenceProfile": {"throttle_first": 1, "unavailable_first": 2}}})
    client = emu.client("bedrock")
    codes = []
    for dummy in range(3):
        with pytest.raises(ClientError) as exc:
            client.get_inference_profile(inferenceProfileIdentifier=US_SONNET)
        codes.append(error_of(exc)[:2])
    assert codes == [("ThrottlingException", 429), ("ServiceUnavailableException", 503), ("ServiceUnavailableException", 503)]
    assert client.get_inference_profile(inferenceProfileIdentifier=US_SONNET)["inferenceProfileId"] == US_SONNET


def test_faults_count_per_operation_and_reset(bedrock_emulator):
    emu = bedrock_emulator(overrides={"faults": {"ListFoundationModels": {"throttle_first": 1}}})
    client = emu.client("bedrock")
    assert client.list_inference_profiles()  # another operation: not throttled, not counted for ListFoundationModels
    with pytest.raises(ClientError):
        client.list_foundation_models()
    assert client.list_foundation_models()["modelSummaries"]
    emu.reset()
    with pytest.raises(ClientError):
        client.list_foundation_models()


def test_latency_fault_is_recorded_not_timed(bedrock_emulator):
    # Latency is injected with a sleep; the test checks the request went through, not how long it took.
    emu = bedrock_emulator(overrides={"faults": {"ListFoundationModels": {"latency_ms": 20}}})
    assert emu.client("bedrock").list_foundation_models()["modelSummaries"]
    assert emu.scenario.faults["ListFoundationModels"]["latency_ms"] == 20
