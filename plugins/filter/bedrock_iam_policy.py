# -*- coding: utf-8 -*-

# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Least-privilege IAM policy for Claude Code on Amazon Bedrock."""

from __future__ import annotations

DOCUMENTATION = r"""
name: bedrock_iam_policy
short_description: Least-privilege IAM policy for Claude Code on Amazon Bedrock
version_added: 0.1.0
author:
  - claude_fleet maintainers (!UNKNOWN)
description:
  - Builds the IAM policy document Claude Code needs for the configured models, following the Claude Code
    Amazon Bedrock IAM guidance.
  - C(bedrock:InvokeModel) and C(bedrock:InvokeModelWithResponseStream) are allowed on each inference profile
    (C(arn:aws:bedrock:REGION:ACCOUNT:inference-profile/ID)), each application inference profile, and the
    foundation model of each profile in every region the profile routes to
    (C(arn:aws:bedrock:DEST_REGION::foundation-model/ID), or the region wildcard C(*) when the regions are not known).
  - C(bedrock:GetInferenceProfile) is allowed on the profiles, C(bedrock:ListInferenceProfiles) on C(*)
    (the action has no resource-level permissions).
  - With O(include_check_actions=true) the read actions of M(claude_fleet.bedrock.model_access_info) are added,
    C(bedrock:ListFoundationModels), C(bedrock:GetFoundationModel) and C(bedrock:GetFoundationModelAvailability).
  - With O(include_marketplace=true) C(aws-marketplace:ViewSubscriptions) and C(aws-marketplace:Subscribe) are
    allowed only when called through Bedrock (C(aws:CalledViaLast)), which the first use of a model needs.
  - Returns a dictionary; pipe it to P(ansible.builtin.to_nice_json#filter).
options:
  _input:
    description:
      - The model references, either a list or a dictionary (name to reference, as in C(claude_fleet_bedrock_models)),
        in any form a pin takes (see P(claude_fleet.bedrock.bedrock_pin_errors#filter)); Claude Code's C([1m]) suffix is dropped.
      - An element can also be one of the RV(claude_fleet.bedrock.model_access_info#module:references) results, which
        carry the resolved profile regions and the foundation models of application inference profiles.
      - Application inference profile ARNs must be given that way (resolved), because their model cannot be read from the ARN.
    type: raw
    required: true
  region:
    description: Region the workstations call Bedrock in (the source region of the inference profiles).
    type: str
    required: true
  account:
    description: AWS account id of the inference profiles; C(*) when not given.
    type: str
    default: '*'
  profile_regions:
    description:
      - Destination regions per inference profile id, for example from
        RV(claude_fleet.bedrock.inference_profile_info#module:inference_profiles[].regions).
      - Profiles not listed here (and not resolved in O(_input)) get the region wildcard C(*) in their foundation-model ARNs.
    type: dict
    default: {}
  include_check_actions:
    description: Add the read-only actions the preflight check needs.
    type: bool
    default: false
  include_marketplace:
    description: Add the AWS Marketplace subscription actions, restricted to calls made by Bedrock.
    type: bool
    default: true
  endpoint:
    description:
      - The Bedrock endpoint the fleet calls (C(claude_fleet_bedrock_endpoint)).
      - V(runtime) writes the bedrock-runtime policy described above.
      - V(mantle) writes the Amazon Bedrock (Mantle) policy instead. C(bedrock-mantle:CreateInference) and
        C(bedrock-mantle:GetProject) on the account's projects (C(arn:aws:bedrock-mantle:REGION:ACCOUNT:project/*)), and
        C(bedrock-mantle:ListProjects) and C(bedrock-mantle:ListTagsForResources) on C(*), as the Amazon Bedrock user guide
        (Making inference requests, bedrock-mantle endpoint) and the AWS managed policy C(AmazonBedrockMantleInferenceAccess) list them.
        Mantle authorizes per project, not per model, so the model ids are only checked (no geo prefix, no version suffix, no ARN).
        O(include_check_actions) and O(include_marketplace) do not apply.
    type: str
    choices: [runtime, mantle]
    default: runtime
  include_bearer_token:
    description:
      - With O(endpoint=mantle), also allow C(bedrock-mantle:CallWithBearerToken), which Amazon Bedrock API keys
        (C(AWS_BEARER_TOKEN_BEDROCK), auth method C(api_key)) need.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Write the policy for the fleet's models
  ansible.builtin.copy:
    dest: /tmp/claude-code-bedrock-policy.json
    mode: "0644"
    content: >-
      {{ claude_fleet_bedrock_models
         | claude_fleet.bedrock.bedrock_iam_policy(region='us-east-1', account='123456789012')
         | ansible.builtin.to_nice_json }}

- name: The policy for a fleet on Amazon Bedrock (Mantle) whose developers use API keys
  ansible.builtin.debug:
    msg: >-
      {{ ['anthropic.claude-opus-5-5', 'anthropic.claude-haiku-4-5']
         | claude_fleet.bedrock.bedrock_iam_policy(region='us-east-1', account='123456789012', endpoint='mantle',
                                                   include_bearer_token=true) }}

- name: Exact destination regions and application profiles, from a model_access_info result
  ansible.builtin.debug:
    msg: >-
      {{ __access.references
         | claude_fleet.bedrock.bedrock_iam_policy(region='us-east-1', account=__access.caller_identity.account,
                                                   include_check_actions=true) }}
"""

RETURN = r"""
_value:
  description: IAM policy document (C(Version) C(2012-10-17) and C(Statement)).
  type: dict
  sample:
    Version: "2012-10-17"
    Statement:
      - Sid: ClaudeCodeInvokeModels
        Effect: Allow
        Action: [bedrock:InvokeModel, bedrock:InvokeModelWithResponseStream]
        Resource:
          - arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0
          - arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0
          - arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0
          - arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0
"""

import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock_ids import foundation_model_arn
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock_ids import parse_reference
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock_ids import partition_for_region
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock_ids import profile_arn

INVOKE_ACTIONS = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
CHECK_ACTIONS = ["bedrock:ListFoundationModels", "bedrock:GetFoundationModel", "bedrock:GetFoundationModelAvailability"]


def _add(items, value):
    if value not in items:
        items.append(value)


def _elements(data):
    if isinstance(data, Mapping):
        if "reference" in data:
            return [data]
        return [v for v in data.values() if v not in (None, "")]
    if isinstance(data, (list, tuple)):
        return [v for v in data if v not in (None, "")]
    if isinstance(data, str):
        return [data] if data else []
    raise AnsibleFilterError(f"bedrock_iam_policy expects a list or a dict of model references, got {type(data).__name__}")


# Amazon Bedrock (Mantle). Sources: the Amazon Bedrock user guide, "Making inference requests" (bedrock-mantle endpoint:
# CreateInference, GetProject, ListProjects, ListTagsForResources), the AWS managed policy AmazonBedrockMantleInferenceAccess
# (CreateInference on arn:aws:bedrock-mantle:*:*:project/*, CallWithBearerToken on *) and the Service Authorization Reference
# for the service prefix bedrock-mantle (project resource type; no model-level resource or condition key).
MANTLE_PROJECT_ACTIONS = ["bedrock-mantle:CreateInference", "bedrock-mantle:GetProject"]
MANTLE_LIST_ACTIONS = ["bedrock-mantle:ListProjects", "bedrock-mantle:ListTagsForResources"]
MANTLE_BEARER_ACTION = "bedrock-mantle:CallWithBearerToken"
_MANTLE_MODEL_RE = re.compile(r"^anthropic\.(?![a-z0-9-]*-(\d{8}|v\d+)$)[a-z0-9-]+$")


def mantle_iam_policy(data, region, account="*", include_bearer_token=False):
    """The Amazon Bedrock (Mantle) policy for the model ids in ``data`` (bedrock_iam_policy with endpoint=mantle)."""
    if not region:
        raise AnsibleFilterError("bedrock_iam_policy: region is required")
    references = []
    for element in _elements(data):
        reference = str(element.get("reference", "")) if isinstance(element, Mapping) else str(element).strip()
        # The [1m] (1M context) suffix is a CLI choice, not part of the id AWS sees.
        model_id = reference[:-4] if reference.endswith("[1m]") else reference
        if not _MANTLE_MODEL_RE.match(model_id):
            raise AnsibleFilterError(
                f"bedrock_iam_policy: {reference!r} is not a model id Amazon Bedrock (Mantle) serves "
                "(anthropic.<model> without geo prefix, version suffix or ARN, for example anthropic.claude-sonnet-4-5)"
            )
        _add(references, model_id)
    if not references:
        raise AnsibleFilterError("bedrock_iam_policy: no model reference given")
    partition = partition_for_region(region)
    statements = [
        {"Sid": "ClaudeCodeMantleInference", "Effect": "Allow", "Action": list(MANTLE_PROJECT_ACTIONS),
         "Resource": f"arn:{partition}:bedrock-mantle:{region}:{account or '*'}:project/*"},
        {"Sid": "ClaudeCodeMantleList", "Effect": "Allow", "Action": list(MANTLE_LIST_ACTIONS), "Resource": "*"},
    ]
    if include_bearer_token:
        statements.append({"Sid": "ClaudeCodeMantleApiKeys", "Effect": "Allow", "Action": [MANTLE_BEARER_ACTION], "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}


def bedrock_iam_policy(data, region, account="*", profile_regions=None, include_check_actions=False, include_marketplace=True,
                       endpoint="runtime", include_bearer_token=False):
    """Return the least-privilege IAM policy document for ``data`` (see DOCUMENTATION)."""
    if endpoint == "mantle":
        return mantle_iam_policy(data, region, account, include_bearer_token)
    if endpoint != "runtime":
        raise AnsibleFilterError(f"bedrock_iam_policy: endpoint must be runtime or mantle, got {endpoint!r}")
    if not region:
        raise AnsibleFilterError("bedrock_iam_policy: region is required")
    account = str(account or "*")
    partition = partition_for_region(region)
    profile_regions = dict(profile_regions or {})
    profiles, models = [], []

    for element in _elements(data):
        resolved = element if isinstance(element, Mapping) else None
        configured = str(resolved.get("reference", "")) if resolved else str(element).strip()
        parsed = parse_reference(configured)
        kind = parsed["kind"]
        if kind == "invalid":
            raise AnsibleFilterError(f"bedrock_iam_policy: {configured!r} is not a Bedrock model id, inference profile id or ARN")
        # IAM resources never carry Claude Code's [1m] suffix.
        reference = parsed["identifier"]
        profile = (resolved or {}).get("profile") or {}
        member_ids = list(profile.get("model_ids") or [])
        member_regions = list(profile.get("regions") or [])
        if not member_ids and resolved:
            member_ids = [m["model_id"] for m in resolved.get("foundation_models") or [] if m.get("model_id")]

        if kind in ("foundation_model", "foundation_model_arn"):
            _add(models, foundation_model_arn(parsed["model_id"], parsed["region"] or region, partition))
            continue

        if kind == "system_profile":
            _add(profiles, profile_arn(reference, region, account, partition))
        else:
            _add(profiles, reference)
        if not member_ids and parsed["model_id"]:
            member_ids = [parsed["model_id"]]
        if not member_ids:
            raise AnsibleFilterError(
                f"bedrock_iam_policy: cannot tell which foundation model {reference} uses; pass the references "
                "returned by claude_fleet.bedrock.model_access_info instead of the bare ARN"
            )
        if not member_regions:
            profile_id = reference.rsplit("/", 1)[-1]
            member_regions = list(profile_regions.get(configured) or profile_regions.get(reference) or profile_regions.get(profile_id) or ["*"])
        for model_id in member_ids:
            for member_region in sorted(set(member_regions)):
                _add(models, foundation_model_arn(model_id, member_region, partition))

    if not profiles and not models:
        raise AnsibleFilterError("bedrock_iam_policy: no model reference given")

    statements = [
        {"Sid": "ClaudeCodeInvokeModels", "Effect": "Allow", "Action": list(INVOKE_ACTIONS), "Resource": profiles + models},
        {"Sid": "ClaudeCodeListInferenceProfiles", "Effect": "Allow", "Action": ["bedrock:ListInferenceProfiles"], "Resource": "*"},
    ]
    if profiles:
        statements.insert(1, {
            "Sid": "ClaudeCodeGetInferenceProfiles", "Effect": "Allow", "Action": ["bedrock:GetInferenceProfile"], "Resource": list(profiles),
        })
    if include_check_actions:
        statements.append({
            "Sid": "ClaudeFleetPreflightRead",
            "Effect": "Allow",
            "Action": ["bedrock:ListFoundationModels", "bedrock:GetFoundationModelAvailability"],
            "Resource": "*",
        })
        model_ids = sorted({arn.rsplit("/", 1)[-1] for arn in models})
        statements.append({
            "Sid": "ClaudeFleetPreflightModels",
            "Effect": "Allow",
            "Action": ["bedrock:GetFoundationModel"],
            "Resource": [foundation_model_arn(model_id, region, partition) for model_id in model_ids],
        })
    if include_marketplace:
        statements.append({
            "Sid": "ClaudeCodeMarketplaceViaBedrock",
            "Effect": "Allow",
            "Action": ["aws-marketplace:ViewSubscriptions", "aws-marketplace:Subscribe"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:CalledViaLast": "bedrock.amazonaws.com"}},
        })
    return {"Version": "2012-10-17", "Statement": statements}


class FilterModule:
    """claude_fleet.bedrock IAM filters."""

    def filters(self):
        return {"bedrock_iam_policy": bedrock_iam_policy}
