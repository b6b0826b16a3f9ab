# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the foundation_model_info module (AnsibleAWSModule and the client mocked)."""
from __future__ import annotations

from unittest.mock import MagicMock

import pytest
from botocore.exceptions import ClientError

from ansible_collections.claude_fleet.bedrock.plugins.modules import foundation_model_info

from module_runner import run_aws_module

SUMMARIES = [
    {"modelId": "anthropic.claude-sonnet-4-5-20250929-v1:0", "modelLifecycle": {"status": "ACTIVE"}, "responseStreamingSupported": True,
     "inferenceTypesSupported": ["INFERENCE_PROFILE"]},
    {"modelId": "anthropic.claude-3-7-sonnet-20250219-v1:0", "modelLifecycle": {"status": "LEGACY"}, "responseStreamingSupported": True,
     "inferenceTypesSupported": ["INFERENCE_PROFILE"]},
    {"modelId": "amazon.titan-embed-text-v2:0", "modelLifecycle": {"status": "ACTIVE"}, "responseStreamingSupported": False,
     "inferenceTypesSupported": ["ON_DEMAND"]},
]


def default_params(**overrides):
    params = {"model_id": None, "by_provider": None, "by_inference_type": None, "by_output_modality": None, "by_customization_type": None,
              "lifecycle_status": None, "streaming": None, "model_id_contains": None, "retries": 3, "retry_delay": 0.0}
    params.update(overrides)
    return params


def run_module(monkeypatch, client, **params):
    return run_aws_module(monkeypatch, foundation_model_info, client, default_params(**params))


def test_list_passes_server_filters_and_snake_cases(monkeypatch):
    client = MagicMock()
    client.list_foundation_models.return_value = {"modelSummaries": SUMMARIES, "ResponseMetadata": {}}
    out = run_module(monkeypatch, client, by_provider="Anthropic", by_output_modality="TEXT")
    assert out.kind == "exit" and out.result["changed"] is False
    client.list_foundation_models.assert_called_once_with(byProvider="Anthropic", byOutputModality="TEXT")
    first = out.result["foundation_models"][0]
    assert first["model_id"] == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert first["model_lifecycle"] == {"status": "ACTIVE"}
    assert out.result["aws_calls"] == 1 and out.result["aws_retries"] == 0


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"lifecycle_status": "LEGACY"}, ["anthropic.claude-3-7-sonnet-20250219-v1:0"]),
        ({"streaming": False}, ["amazon.titan-embed-text-v2:0"]),
        ({"model_id_contains": "claude", "lifecycle_status": "ACTIVE"}, ["anthropic.claude-sonnet-4-5-20250929-v1:0"]),
    ],
)
def test_client_side_filters(monkeypatch, params, expected):
    client = MagicMock()
    client.list_foundation_models.return_value = {"modelSummaries": SUMMARIES}
    out = run_module(monkeypatch, client, **params)
    assert [m["model_id"] for m in out.result["foundation_models"]] == expected


def test_get_one_model(monkeypatch):
    client = MagicMock()
    client.get_foundation_model.return_value = {"modelDetails": SUMMARIES[0]}
    out = run_module(monkeypatch, client, model_id="anthropic.claude-sonnet-4-5-20250929-v1:0")
    client.get_foundation_model.assert_called_once_with(modelIdentifier="anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert [m["model_id"] for m in out.result["foundation_models"]] == ["anthropic.claude-sonnet-4-5-20250929-v1:0"]


def test_missing_model_is_an_empty_list(monkeypatch):
    client = MagicMock()
    client.get_foundation_model.side_effect = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}}, "GetFoundationModel")
    out = run_module(monkeypatch, client, model_id="anthropic.nope")
    assert out.kind == "exit" and out.result["foundation_models"] == []


def test_throttling_is_retried(monkeypatch):
    client = MagicMock()
    throttle = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "ListFoundationModels")
    client.list_foundation_models.side_effect = [throttle, {"modelSummaries": SUMMARIES}]
    out = run_module(monkeypatch, client)
    assert out.result["aws_calls"] == 2 and out.result["aws_retries"] == 1


def test_access_denied_fails_with_aws_error(monkeypatch):
    client = MagicMock()
    client.list_foundation_models.side_effect = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, "ListFoundationModels")
    out = run_module(monkeypatch, client)
    assert out.kind == "fail" and "Failed to list foundation models" in out.result["msg"]
