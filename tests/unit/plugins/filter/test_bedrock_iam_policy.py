# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the bedrock_iam_policy filter."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.bedrock_iam_policy import FilterModule
from ansible_collections.claude_fleet.bedrock.plugins.filter.bedrock_iam_policy import bedrock_iam_policy

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
APP = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fleetsonnet"


def statement(policy, sid):
    return next(s for s in policy["Statement"] if s["Sid"] == sid)


def test_registered():
    assert FilterModule().filters()["bedrock_iam_policy"] is bedrock_iam_policy


def test_system_profile_with_known_regions():
    policy = bedrock_iam_policy({"primary": f"us.{SONNET}"}, region="us-east-1", account="123456789012",
                                profile_regions={f"us.{SONNET}": ["us-east-1", "us-east-2", "us-west-2"]})
    assert policy["Version"] == "2012-10-17"
    invoke = statement(policy, "ClaudeCodeInvokeModels")
    assert invoke["Action"] == ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert invoke["Resource"] == [
        f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SONNET}",
        f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET}",
        f"arn:aws:bedrock:us-east-2::foundation-model/{SONNET}",
        f"arn:aws:bedrock:us-west-2::foundation-model/{SONNET}",
    ]
    assert statement(policy, "ClaudeCodeGetInferenceProfiles")["Resource"] == [f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SONNET}"]
    assert statement(policy, "ClaudeCodeListInferenceProfiles")["Resource"] == "*"
    assert not [s for s in policy["Statement"] if s["Sid"].startswith("ClaudeFleetPreflight")]


def test_unknown_regions_use_region_wildcard_and_account_default():
    policy = bedrock_iam_policy([f"global.{HAIKU}"], region="eu-west-1")
    assert statement(policy, "ClaudeCodeInvokeModels")["Resource"] == [
        f"arn:aws:bedrock:eu-west-1:*:inference-profile/global.{HAIKU}", f"arn:aws:bedrock:*::foundation-model/{HAIKU}"]


def test_foundation_model_id_only_gets_its_model_arn():
    policy = bedrock_iam_policy(["amazon.nova-lite-v1:0"], region="us-west-2")
    assert statement(policy, "ClaudeCodeInvokeModels")["Resource"] == ["arn:aws:bedrock:us-west-2::foundation-model/amazon.nova-lite-v1:0"]
    assert not [s for s in policy["Statement"] if s["Sid"] == "ClaudeCodeGetInferenceProfiles"]


def test_resolved_model_access_info_references_and_application_profiles():
    references = [
        {"reference": APP, "profile": {"model_ids": [SONNET], "regions": ["us-east-1", "us-west-2"]}, "foundation_models": [{"model_id": SONNET}]},
        {"reference": f"us.{HAIKU}", "profile": {"model_ids": [HAIKU], "regions": ["us-east-1"]}},
    ]
    policy = bedrock_iam_policy(references, region="us-east-1", account="123456789012", include_check_actions=True)
    resources = statement(policy, "ClaudeCodeInvokeModels")["Resource"]
    assert APP in resources
    assert f"arn:aws:bedrock:us-west-2::foundation-model/{SONNET}" in resources
    assert f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}" in resources
    assert statement(policy, "ClaudeFleetPreflightRead")["Action"] == ["bedrock:ListFoundationModels", "bedrock:GetFoundationModelAvailability"]
    assert statement(policy, "ClaudeFleetPreflightModels")["Resource"] == [
        f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}", f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET}"]


def test_marketplace_statement_is_restricted_to_bedrock():
    policy = bedrock_iam_policy([f"us.{SONNET}"], region="us-east-1")
    market = statement(policy, "ClaudeCodeMarketplaceViaBedrock")
    assert market["Condition"] == {"StringEquals": {"aws:CalledViaLast": "bedrock.amazonaws.com"}}
    without = bedrock_iam_policy([f"us.{SONNET}"], region="us-east-1", include_marketplace=False)
    assert not [s for s in without["Statement"] if s["Sid"] == "ClaudeCodeMarketplaceViaBedrock"]


def test_duplicates_are_listed_once():
    policy = bedrock_iam_policy({"primary": f"us.{SONNET}", "sonnet": f"us.{SONNET}"}, region="us-east-1")
    resources = statement(policy, "ClaudeCodeInvokeModels")["Resource"]
    assert len(resources) == len(set(resources)) == 2


def test_gov_cloud_partition():
    policy = bedrock_iam_policy([f"us-gov.{SONNET}"], region="us-gov-west-1", account="1")
    assert statement(policy, "ClaudeCodeInvokeModels")["Resource"][0] == f"arn:aws-us-gov:bedrock:us-gov-west-1:1:inference-profile/us-gov.{SONNET}"


@pytest.mark.parametrize(
    "data, kwargs, message",
    [
        ([APP], {"region": "us-east-1"}, "cannot tell which foundation model"),
        (["s3://x"], {"region": "us-east-1"}, "is not a Bedrock model id"),
        ([], {"region": "us-east-1"}, "no model reference"),
        ([SONNET], {"region": ""}, "region is required"),
        (42, {"region": "us-east-1"}, "expects a list or a dict"),
    ],
)
def test_errors(data, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message):
        bedrock_iam_policy(data, **kwargs)
