# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the inference_profile_info module (AnsibleAWSModule and the client mocked)."""
from __future__ import annotations

from unittest.mock import MagicMock
from unittest.mock import call

from botocore.exceptions import ClientError

from ansible_collections.claude_fleet.bedrock.plugins.modules import inference_profile_info

from module_runner import run_aws_module

HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def profile(profile_id, model_id, regions, kind="SYSTEM_DEFINED"):
    return {"inferenceProfileId": profile_id, "inferenceProfileArn": f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{profile_id}",
            "type": kind, "status": "ACTIVE", "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model_id}"} for r in regions]}


def run_module(monkeypatch, client, **params):
    defaults = {"inference_profile": None, "type": "all", "model_id": None, "retries": 3, "retry_delay": 0.0}
    return run_aws_module(monkeypatch, inference_profile_info, client, dict(defaults, **params))


def test_lists_both_types_and_every_page(monkeypatch):
    client = MagicMock()
    client.list_inference_profiles.side_effect = [
        {"inferenceProfileSummaries": [profile(f"us.{HAIKU}", HAIKU, ["us-east-1", "us-east-2"])], "nextToken": "page2"},
        {"inferenceProfileSummaries": [profile(f"eu.{HAIKU}", HAIKU, ["eu-west-1"])]},
        {"inferenceProfileSummaries": [profile("fleetsonnet", SONNET, ["us-east-1", "us-west-2"], "APPLICATION")]},
    ]
    out = run_module(monkeypatch, client)
    assert client.list_inference_profiles.call_args_list == [
        call(typeEquals="SYSTEM_DEFINED"), call(typeEquals="SYSTEM_DEFINED", nextToken="page2"), call(typeEquals="APPLICATION")]
    ids = [p["inference_profile_id"] for p in out.result["inference_profiles"]]
    assert ids == [f"us.{HAIKU}", f"eu.{HAIKU}", "fleetsonnet"]
    assert out.result["inference_profiles"][0]["regions"] == ["us-east-1", "us-east-2"]
    assert out.result["inference_profiles"][2]["model_ids"] == [SONNET]
    assert out.result["aws_calls"] == 3


def test_model_filter(monkeypatch):
    client = MagicMock()
    client.list_inference_profiles.return_value = {"inferenceProfileSummaries": [
        profile(f"us.{HAIKU}", HAIKU, ["us-east-1"]), profile(f"us.{SONNET}", SONNET, ["us-east-1"])]}
    out = run_module(monkeypatch, client, type="SYSTEM_DEFINED", model_id=SONNET)
    assert [p["inference_profile_id"] for p in out.result["inference_profiles"]] == [f"us.{SONNET}"]
    client.list_inference_profiles.assert_called_once_with(typeEquals="SYSTEM_DEFINED")


def test_get_one_profile_derives_members(monkeypatch):
    client = MagicMock()
    client.get_inference_profile.return_value = dict(profile(f"us.{HAIKU}", HAIKU, ["us-west-2", "us-east-1", "us-east-2"]), ResponseMetadata={})
    out = run_module(monkeypatch, client, inference_profile=f"us.{HAIKU}")
    client.get_inference_profile.assert_called_once_with(inferenceProfileIdentifier=f"us.{HAIKU}")
    (result,) = out.result["inference_profiles"]
    assert result["regions"] == ["us-east-1", "us-east-2", "us-west-2"]
    assert {m["region"] for m in result["models"]} == {"us-east-1", "us-east-2", "us-west-2"}
    assert "response_metadata" not in result


def test_missing_profile_is_an_empty_list(monkeypatch):
    client = MagicMock()
    client.get_inference_profile.side_effect = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "GetInferenceProfile")
    out = run_module(monkeypatch, client, inference_profile="eu.nope")
    assert out.kind == "exit" and out.result["inference_profiles"] == []


def test_list_denied_fails(monkeypatch):
    client = MagicMock()
    client.list_inference_profiles.side_effect = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "ListInferenceProfiles")
    out = run_module(monkeypatch, client)
    assert out.kind == "fail" and "list inference profiles" in out.result["msg"]
