# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the bedrock_pin_errors and bedrock_model_policy filters, and the [1m] suffix in bedrock_iam_policy."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.bedrock_iam_policy import bedrock_iam_policy
from ansible_collections.claude_fleet.bedrock.plugins.filter.bedrock_model_policy import FilterModule as PolicyFilters
from ansible_collections.claude_fleet.bedrock.plugins.filter.bedrock_model_policy import bedrock_model_policy
from ansible_collections.claude_fleet.bedrock.plugins.filter.bedrock_pin_errors import FilterModule as PinFilters
from ansible_collections.claude_fleet.bedrock.plugins.filter.bedrock_pin_errors import bedrock_pin_errors

APP = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fleetopus55"


def test_registered():
    assert PinFilters().filters()["bedrock_pin_errors"] is bedrock_pin_errors
    assert PolicyFilters().filters()["bedrock_model_policy"] is bedrock_model_policy


def test_pin_errors_returns_the_text_the_preflight_shows():
    pins = [{"option": "settings_model", "value": "claude-best", "region": "us-east-1", "region_option": "settings_aws_region"},
            {"option": "settings_opus_model", "value": "us.anthropic.claude-opus-5-5[1m]", "region": "us-east-1", "region_option": "settings_aws_region"}]
    (error,) = bedrock_pin_errors(pins)
    assert error.startswith('settings_model "claude-best" is neither a Bedrock foundation model ID')


def test_pin_errors_rejects_what_is_not_a_pin_list():
    with pytest.raises(AnsibleFilterError, match="expects a list"):
        bedrock_pin_errors({"settings_model": "x"})


def test_model_policy_shapes_the_managed_settings_keys():
    policy = bedrock_model_policy({"available_models": ["opus", "us.anthropic.claude-sonnet-5-5"], "enforce_available_models": True,
                                   "model_overrides": {"claude-opus-5-5": APP}}, region="us-east-1")
    assert policy["errors"] == []
    assert policy["settings"] == {"availableModels": ["opus", "us.anthropic.claude-sonnet-5-5"], "enforceAvailableModels": True,
                                  "modelOverrides": {"claude-opus-5-5": APP}}
    assert policy["unset"] == []
    assert policy["references"] == {"availableModels[1]": "us.anthropic.claude-sonnet-5-5", "modelOverrides[claude-opus-5-5]": APP}


def test_an_empty_policy_sets_nothing_and_unsets_every_key():
    policy = bedrock_model_policy({"available_models": [], "enforce_available_models": False, "model_overrides": {}}, region="us-east-1")
    assert policy == {"settings": {}, "unset": ["availableModels", "enforceAvailableModels", "modelOverrides"], "errors": [], "references": {}}


def test_a_bad_policy_writes_nothing_but_still_names_its_references():
    policy = bedrock_model_policy({"available_models": ["eu.anthropic.claude-haiku-5-5"], "enforce_available_models": False,
                                   "model_overrides": {}}, region="us-east-1", region_option="settings_aws_region")
    assert policy["settings"] == {}
    assert policy["errors"] and "settings_available_models[0]" in policy["errors"][0] and "settings_aws_region us-east-1" in policy["errors"][0]
    assert policy["references"] == {"availableModels[0]": "eu.anthropic.claude-haiku-5-5"}


def test_iam_policy_drops_the_1m_suffix_from_every_resource():
    policy = bedrock_iam_policy({"opus": "us.anthropic.claude-opus-5-5[1m]", "sonnet": "anthropic.claude-sonnet-5-5[1m]"}, region="us-east-1",
                                account="123456789012", profile_regions={"us.anthropic.claude-opus-5-5": ["us-east-1", "us-west-2"]})
    resources = next(s for s in policy["Statement"] if s["Sid"] == "ClaudeCodeInvokeModels")["Resource"]
    assert resources == [
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-5-5",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-5-5",
        "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-opus-5-5",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-5-5",
    ]
    assert all("[1m]" not in str(s) for s in policy["Statement"])


def test_iam_policy_of_a_resolved_application_profile_with_the_suffix():
    resolved = {"reference": APP + "[1m]", "profile": {"model_ids": ["anthropic.claude-opus-5-5"], "regions": ["us-east-1"]}}
    policy = bedrock_iam_policy([resolved], region="us-east-1")
    assert next(s for s in policy["Statement"] if s["Sid"] == "ClaudeCodeGetInferenceProfiles")["Resource"] == [APP]
