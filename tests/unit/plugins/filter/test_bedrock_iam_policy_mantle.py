# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""bedrock_iam_policy with endpoint=mantle: the bedrock-mantle actions, scoped to the account's projects."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.bedrock_iam_policy import FilterModule

policy = FilterModule().filters()["bedrock_iam_policy"]


def _actions(doc):
    return sorted(a for s in doc["Statement"] for a in s["Action"])


def test_mantle_policy_has_the_mantle_actions_only():
    doc = policy({"opus": "anthropic.claude-opus-5-5", "haiku": "anthropic.claude-haiku-4-5[1m]"}, region="eu-west-1",
                 account="123456789012", endpoint="mantle")
    assert doc["Version"] == "2012-10-17"
    assert _actions(doc) == ["bedrock-mantle:CreateInference", "bedrock-mantle:GetProject", "bedrock-mantle:ListProjects",
                             "bedrock-mantle:ListTagsForResources"]
    inference = next(s for s in doc["Statement"] if "bedrock-mantle:CreateInference" in s["Action"])
    assert inference["Resource"] == "arn:aws:bedrock-mantle:eu-west-1:123456789012:project/*"
    assert not any(a.startswith(("bedrock:", "aws-marketplace:")) for a in _actions(doc))


def test_api_keys_need_call_with_bearer_token():
    doc = policy(["anthropic.claude-sonnet-4-5"], region="us-east-1", endpoint="mantle", include_bearer_token=True)
    bearer = [s for s in doc["Statement"] if s["Action"] == ["bedrock-mantle:CallWithBearerToken"]]
    assert bearer == [{"Sid": "ClaudeCodeMantleApiKeys", "Effect": "Allow", "Action": ["bedrock-mantle:CallWithBearerToken"], "Resource": "*"}]
    assert doc["Statement"][0]["Resource"] == "arn:aws:bedrock-mantle:us-east-1:*:project/*"


def test_partition_follows_the_region():
    doc = policy(["anthropic.claude-sonnet-4-5"], region="us-gov-west-1", account="123456789012", endpoint="mantle")
    assert doc["Statement"][0]["Resource"].startswith("arn:aws-us-gov:bedrock-mantle:us-gov-west-1:")


@pytest.mark.parametrize("reference", [
    "us.anthropic.claude-sonnet-4-5", "anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic.claude-opus-4-6-v1",
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc", "claude-sonnet-4-5",
])
def test_runtime_references_are_refused_with_the_reason(reference):
    with pytest.raises(AnsibleFilterError, match="Amazon Bedrock \\(Mantle\\)"):
        policy([reference], region="us-east-1", endpoint="mantle")


def test_unknown_endpoint_and_empty_input():
    with pytest.raises(AnsibleFilterError, match="endpoint must be runtime or mantle"):
        policy(["anthropic.claude-sonnet-4-5"], region="us-east-1", endpoint="bedrock-mantle")
    with pytest.raises(AnsibleFilterError, match="no model reference"):
        policy([], region="us-east-1", endpoint="mantle")


def test_runtime_is_still_the_default():
    doc = policy(["us.anthropic.claude-sonnet-4-5-20250929-v1:0"], region="us-east-1", account="123456789012")
    assert "bedrock:InvokeModel" in _actions(doc) and not any(a.startswith("bedrock-mantle:") for a in _actions(doc))
