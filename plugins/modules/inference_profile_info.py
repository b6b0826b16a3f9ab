#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: inference_profile_info
version_added: 0.1.0
short_description: List or get Amazon Bedrock inference profiles with their member models and regions
description:
  - Lists inference profiles (C(ListInferenceProfiles)), every page, of both types by default
    (C(SYSTEM_DEFINED) cross-region profiles such as C(us.anthropic.claude-sonnet-4-5-20250929-v1:0) and
    C(APPLICATION) profiles), or gets one profile (C(GetInferenceProfile)) by id or ARN.
  - For each profile the foundation-model id and the region of every member model ARN are derived,
    so RV(inference_profiles[].regions) lists every region the profile routes to.
  - Keys are the Bedrock API keys, snake_cased.
  - Read-only; runs in check mode.
author:
  - claude_fleet maintainers (!UNKNOWN)
options:
  inference_profile:
    description:
      - Get this one profile (profile id, inference-profile ARN or application-inference-profile ARN) instead of listing.
      - When the profile does not exist, RV(inference_profiles) is an empty list.
    type: str
    aliases: [inference_profile_id]
  type:
    description:
      - Which profile types to list. C(all) sends one paginated listing per type,
        because Bedrock returns only C(SYSTEM_DEFINED) profiles when no type is given.
    type: str
    choices: [all, SYSTEM_DEFINED, APPLICATION]
    default: all
  model_id:
    description: Only profiles that route to this foundation-model id.
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - claude_fleet.bedrock.retries
"""

EXAMPLES = r"""
- name: List every inference profile (system-defined and application)
  claude_fleet.bedrock.inference_profile_info:
    region: us-east-1
  register: __profiles

- name: Profiles that route to Claude Sonnet 4.5
  claude_fleet.bedrock.inference_profile_info:
    model_id: anthropic.claude-sonnet-4-5-20250929-v1:0

- name: Get one profile and the regions it routes to
  claude_fleet.bedrock.inference_profile_info:
    inference_profile: us.anthropic.claude-haiku-4-5-20251001-v1:0
  register: __haiku

- name: Show them
  ansible.builtin.debug:
    msg: "{{ __haiku.inference_profiles[0].regions | default([]) }}"
"""

RETURN = r"""
inference_profiles:
  description: The profiles.
  returned: always
  type: list
  elements: dict
  contains:
    inference_profile_id:
      description: Profile id.
      type: str
      sample: us.anthropic.claude-haiku-4-5-20251001-v1:0
    inference_profile_arn:
      description: Profile ARN.
      type: str
      sample: arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0
    inference_profile_name:
      description: Profile name.
      type: str
    type:
      description: C(SYSTEM_DEFINED) or C(APPLICATION).
      type: str
    status:
      description: C(ACTIVE).
      type: str
    models:
      description: Member models.
      type: list
      elements: dict
      contains:
        model_arn:
          description: Foundation-model ARN in one destination region.
          type: str
          sample: arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0
        model_id:
          description: Foundation-model id derived from the ARN.
          type: str
          sample: anthropic.claude-haiku-4-5-20251001-v1:0
        region:
          description: Region derived from the ARN.
          type: str
          sample: us-east-2
    model_ids:
      description: Distinct foundation-model ids of the members.
      type: list
      elements: str
    regions:
      description: Distinct regions the profile routes to.
      type: list
      elements: str
      sample: [us-east-1, us-east-2, us-west-2]
aws_calls:
  description: Number of AWS requests sent, retries and pages included.
  returned: always
  type: int
  sample: 2
aws_retries:
  description: Number of requests that were retries of a throttled or failed one.
  returned: always
  type: int
  sample: 0
calls_by_operation:
  description: Requests sent per API operation (snake_case boto3 method name).
  returned: always
  type: dict
  sample: {"list_inference_profiles": 2}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import AnsibleBedrockError
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import CallStats
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import bedrock_clients
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import get_inference_profile
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import list_inference_profiles
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import profile_to_result
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import retry_argument_spec


def main():
    argument_spec = dict(
        inference_profile=dict(type="str", aliases=["inference_profile_id"]),
        type=dict(type="str", choices=["all", "SYSTEM_DEFINED", "APPLICATION"], default="all"),
        model_id=dict(type="str"),
    )
    argument_spec.update(retry_argument_spec())
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    stats = CallStats()
    client = bedrock_clients(module, stats)["bedrock"]

    try:
        if params["inference_profile"]:
            try:
                profiles = [get_inference_profile(client, params["inference_profile"])]
            except is_ansible_aws_error_code("ResourceNotFoundException"):
                profiles = []
        else:
            types = ["SYSTEM_DEFINED", "APPLICATION"] if params["type"] == "all" else [params["type"]]
            profiles = []
            for profile_type in types:
                profiles.extend(list_inference_profiles(client, type_equals=profile_type))
    except AnsibleBedrockError as e:
        module.fail_json_aws_error(e)

    results = [profile_to_result(p) for p in profiles]
    if params["model_id"]:
        results = [p for p in results if params["model_id"] in p["model_ids"]]
    module.exit_json(changed=False, inference_profiles=results, **stats.as_dict())


if __name__ == "__main__":
    main()
