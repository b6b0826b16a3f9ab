# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the model_access_info module (AnsibleAWSModule and the clients mocked)."""
from __future__ import annotations

import io
import json
from unittest.mock import MagicMock

from botocore.exceptions import ClientError

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import bedrock
from ansible_collections.claude_fleet.bedrock.plugins.modules import model_access_info

from module_runner import run_aws_module

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"


def bedrock_mock():
    client = MagicMock()
    client.list_inference_profiles.return_value = {"inferenceProfileSummaries": []}

    def get_profile(inferenceProfileIdentifier):
        model_id = inferenceProfileIdentifier.split(".", 1)[1]
        return {"inferenceProfileId": inferenceProfileIdentifier, "status": "ACTIVE", "type": "SYSTEM_DEFINED",
                "models": [{"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model_id}"} for r in ("us-east-1", "us-west-2")]}

    client.get_inference_profile.side_effect = get_profile
    client.get_foundation_model.side_effect = lambda modelIdentifier: {"modelDetails": {
        "modelId": modelIdentifier, "modelLifecycle": {"status": "ACTIVE"}, "inferenceTypesSupported": ["INFERENCE_PROFILE"]}}
    client.get_foundation_model_availability.side_effect = lambda modelId: {
        "modelId": modelId, "agreementAvailability": {"status": "AVAILABLE"}, "authorizationStatus": "AUTHORIZED",
        "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}
    client.invoke_model.side_effect = lambda **kw: {"body": io.BytesIO(json.dumps({"stop_reason": "max_tokens"}).encode())}
    client.get_caller_identity.return_value = {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/dev", "UserId": "AIDA"}
    return client


def run_module(monkeypatch, client, region="us-east-1", **params):
    defaults = {"references": None, "models": None, "invoke": False, "caller_identity": False, "check_list_permission": True,
                "allow_legacy": False, "retries": 3, "retry_delay": 0.0}
    out = run_aws_module(monkeypatch, model_access_info, client, dict(defaults, **params), region=region)
    assert out.module_kwargs["required_one_of"] == [["references", "models"]]
    return out


def test_collect_references_dedupes_and_keeps_names():
    # module_utils/bedrock.py, shared with mantle_access_info.
    ordered, names = bedrock.collect_references(
        [f"us.{HAIKU}", "extra"], {"primary": f"us.{SONNET}", "sonnet": f"us.{SONNET}", "haiku": f"us.{HAIKU}", "opus": ""})
    assert ordered == [f"us.{SONNET}", f"us.{HAIKU}", "extra"]
    assert names == {f"us.{SONNET}": ["primary", "sonnet"], f"us.{HAIKU}": ["haiku"], "extra": []}


def test_named_models_usable(monkeypatch):
    client = bedrock_mock()
    out = run_module(monkeypatch, client, models={"primary": f"us.{SONNET}", "sonnet": f"us.{SONNET}", "haiku": f"us.{HAIKU}"})
    result = out.result
    assert out.kind == "exit" and result["changed"] is False and result["usable"] is True
    assert [r["names"] for r in result["references"]] == [["primary", "sonnet"], ["haiku"]]
    # 1 list + 2 x (profile, model, availability); the duplicate reference costs nothing
    assert result["aws_calls"] == 7 and result["aws_retries"] == 0
    assert out.services == ["bedrock"]


def test_invoke_and_identity_create_their_clients(monkeypatch):
    client = bedrock_mock()
    out = run_module(monkeypatch, client, references=[f"us.{SONNET}"], invoke=True, caller_identity=True)
    assert out.services == ["bedrock", "bedrock-runtime", "sts"]
    assert out.result["caller_identity"]["account"] == "123456789012"
    assert out.result["references"][0]["invoke"]["ok"] is True
    assert out.result["aws_calls"] == 6  # identity, list, profile, model, availability, invoke


def test_denied_model_is_reported_not_failed(monkeypatch):
    client = bedrock_mock()
    client.get_foundation_model_availability.side_effect = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, "GetFoundationModelAvailability")
    out = run_module(monkeypatch, client, models={"haiku": f"us.{HAIKU}"})
    assert out.kind == "exit"
    assert out.result["usable"] is False
    assert out.result["failed_references"] == [f"us.{HAIKU}"]
    assert out.result["remedies"][0].startswith(f"haiku (us.{HAIKU}): Allow IAM action bedrock:GetFoundationModelAvailability")


def test_results_never_contain_credentials(monkeypatch):
    client = bedrock_mock()
    out = run_module(monkeypatch, client, references=[f"us.{SONNET}"], caller_identity=True,
                     access_key="AKIASECRETVALUE", secret_key="super-secret-value", session_token="token-value")
    dumped = json.dumps(out.result)
    assert "super-secret-value" not in dumped and "AKIASECRETVALUE" not in dumped and "token-value" not in dumped


def test_empty_references_fail(monkeypatch):
    out = run_module(monkeypatch, bedrock_mock(), models={"opus": ""})
    assert out.kind == "fail" and "No model reference" in out.result["msg"]


def test_region_is_required(monkeypatch):
    out = run_module(monkeypatch, bedrock_mock(), region=None, references=[f"us.{SONNET}"])
    assert out.kind == "fail" and "region" in out.result["msg"]
