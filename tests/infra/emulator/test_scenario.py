# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scenario loading, merging and validation; event-stream encoding against botocore's decoder."""

from __future__ import annotations

import json

import pytest
import yaml
from botocore.eventstream import EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_emulator import ScenarioError, bundled_scenarios, deep_merge, load_scenario
from bedrock_emulator import eventstream


def test_bundled_scenarios_all_load():
    names = bundled_scenarios()
    assert {"default", "model_denied", "agreement_pending", "use_case_form", "legacy", "throttle", "iam_deny_list_profiles"} <= set(names)
    for name in names:
        assert load_scenario(name).account_id == "123456789012"


def test_default_scenario_lineup():
    scenario = load_scenario()
    assert scenario.models["anthropic.claude-3-7-sonnet-20250219-v1:0"].lifecycle == "LEGACY"
    assert scenario.models["anthropic.claude-3-5-haiku-20241022-v1:0"].lifecycle == "LEGACY"
    assert scenario.geographies["us"] == ["us-east-1", "us-east-2", "us-west-2"]
    assert "global.anthropic.claude-opus-4-6-v1" in scenario.profiles
    assert scenario.access_status("anthropic.claude-opus-4-6-v1", "us-east-1") == "AUTHORIZED"


def test_extends_and_overrides_merge():
    scenario = load_scenario("model_denied", overrides={"access": {"anthropic.claude-haiku-4-5-20251001-v1:0": {"eu-west-1": "AGREEMENT_PENDING"}}})
    assert scenario.access_status("anthropic.claude-opus-4-6-v1", "us-east-1") == "DENIED"
    assert scenario.access_status("anthropic.claude-haiku-4-5-20251001-v1:0", "eu-west-1") == "AGREEMENT_PENDING"
    assert scenario.access_status("anthropic.claude-haiku-4-5-20251001-v1:0", "us-east-1") == "AUTHORIZED"


def test_scenario_file_with_relative_extends(tmp_path):
    (tmp_path / "base.yml").write_text(yaml.safe_dump({"extends": "default", "account_id": "111122223333"}), encoding="utf-8")
    (tmp_path / "child.yml").write_text(yaml.safe_dump({"extends": "base.yml", "caller_arn": "arn:aws:iam::111122223333:user/x"}), encoding="utf-8")
    scenario = load_scenario(str(tmp_path / "child.yml"))
    assert (scenario.account_id, scenario.caller_arn) == ("111122223333", "arn:aws:iam::111122223333:user/x")


def test_deep_merge_replaces_lists_and_keeps_base():
    base = {"a": {"b": [1, 2], "c": 1}, "d": 1}
    merged = deep_merge(base, {"a": {"b": [3]}})
    assert merged == {"a": {"b": [3], "c": 1}, "d": 1}
    assert base == {"a": {"b": [1, 2], "c": 1}, "d": 1}


@pytest.mark.parametrize("overrides, fragment", [
    ({"account_id": "12345"}, ".account_id: must be 12 digits"),
    ({"colour": "blue"}, "unknown top-level keys ['colour']"),
    ({"models": {"anthropic.claude-sonnet-4-5-20250929-v1:0": {"lifecycle": "RETIRED"}}}, "lifecycle: 'RETIRED' is not one of"),
    ({"models": {"anthropic.claude-sonnet-4-5-20250929-v1:0": {"inference_types": ["SOMETIMES"]}}}, "inference_types: 'SOMETIMES'"),
    ({"models": {"anthropic.claude-sonnet-4-5-20250929-v1:0": {"profiles": ["mars"]}}}, "profiles: 'mars' is not one of"),
    ({"models": {"anthropic.new-v1:0": {"name": "New", "provider": "Anthropic", "inference_types": ["INFERENCE_PROFILE"]}}},
     "needs at least one geography"),
    ({"access": {"anthropic.unknown-v1:0": "DENIED"}}, ".access[anthropic.unknown-v1:0]: unknown model id"),
    ({"access": {"anthropic.claude-opus-4-6-v1": "MAYBE"}}, "'MAYBE' is not one of"),
    ({"access": {"anthropic.claude-opus-4-6-v1": {"mars-1": "DENIED"}}}, "'mars-1' is not a scenario region"),
    ({"faults": {"InvokeModel": {"throttle_first": -1}}}, ".faults[InvokeModel].throttle_first: must be an integer >= 0"),
    ({"faults": {"Frobnicate": {"throttle_first": 1}}}, "unknown operation 'Frobnicate'"),
    ({"faults": {"InvokeModel": {"throttle": 1}}}, "unknown keys ['throttle']"),
    ({"faults": {"ConverseStream": {"stream_exception": "oops"}}}, "stream_exception: 'oops' is not one of"),
    ({"iam": {"deny": ["ListInferenceProfiles"]}}, "must look like bedrock:InvokeModel"),
    ({"iam": {"allow": []}}, ".iam: must be a mapping with the key 'deny'"),
    ({"default_region": "mars-1"}, ".default_region: 'mars-1' is not one of the scenario regions"),
    ({"application_profiles": [{"id": "abc", "name": "x", "region": "us-east-1", "source": "nope"}]}, "is neither a model id nor a system profile"),
    ({"credentials": [{"access_key_id": "AKIA1"}]}, ".credentials[0].secret_access_key: is required"),
    ({"bearer_tokens": [{"token": "ABSK1", "region": "mars-1"}]}, ".bearer_tokens[0].region"),
])
def test_validation_errors_name_the_key(overrides, fragment):
    with pytest.raises(ScenarioError) as exc:
        load_scenario("default", overrides=overrides)
    assert fragment in str(exc.value)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ScenarioError, match="not found"):
        load_scenario("no_such_scenario")
    broken = tmp_path / "broken.yml"
    broken.write_text("models: [unclosed", encoding="utf-8")
    with pytest.raises(ScenarioError, match="invalid YAML"):
        load_scenario(str(broken))
    listy = tmp_path / "list.yml"
    listy.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="top level must be a mapping"):
        load_scenario(str(listy))
    loop = tmp_path / "loop.yml"
    loop.write_text("extends: loop.yml\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="extends loop"):
        load_scenario(str(loop))


_header_names = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
_header_values = st.text(max_size=200)


@settings(max_examples=150, deadline=None, database=None)
@given(headers=st.dictionaries(_header_names, _header_values, max_size=6), payload=st.binary(max_size=2048))
def test_eventstream_roundtrip_through_botocore(headers, payload):
    buf = EventStreamBuffer()
    buf.add_data(eventstream.encode_message(headers, payload))
    messages = list(buf)
    assert len(messages) == 1
    assert messages[0].headers == headers
    assert messages[0].payload == payload


@settings(max_examples=50, deadline=None, database=None)
@given(chunks=st.lists(st.binary(max_size=300), min_size=1, max_size=8), split=st.integers(min_value=1, max_value=64))
def test_eventstream_frames_decode_when_split_anywhere(chunks, split):
    wire = b"".join(eventstream.event("chunk", json.dumps({"n": i, "b": c.hex()}).encode("utf-8")) for i, c in enumerate(chunks))
    buf = EventStreamBuffer()
    decoded = []
    for start in range(0, len(wire), split):
        buf.add_data(wire[start:start + split])
        decoded.extend(buf)
    assert [json.loads(m.payload)["n"] for m in decoded] == list(range(len(chunks)))
    assert all(m.headers[":message-type"] == "event" for m in decoded)
