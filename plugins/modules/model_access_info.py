#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: model_access_info
version_added: 0.1.0
short_description: Check that Claude Code can use the configured Amazon Bedrock models, and say how to fix it when not
description:
  - For each configured model reference (foundation-model id, system inference profile id such as
    C(us.anthropic.claude-sonnet-4-5-20250929-v1:0), inference-profile ARN, application-inference-profile ARN
    or foundation-model ARN) the module resolves the profile (C(GetInferenceProfile)) and its member
    foundation models, reads their lifecycle (C(GetFoundationModel)) and their access state
    (C(GetFoundationModelAvailability)), and optionally proves invocation with a 1-token C(InvokeModel).
  - Each reference gets a RV(references[].status) and, when it is not usable, a remedy in plain words,
    for example the IAM action, resource and region to allow, the use-case form to submit, the
    inference profile to use instead of an on-demand model id, or the ACTIVE successor of a LEGACY model.
  - It also checks that the caller may call C(ListInferenceProfiles) (Claude Code needs it) and, with
    O(caller_identity=true), who the caller is (STS C(GetCallerIdentity)).
  - The module never fails because a model is not usable; it returns RV(usable=false) with all
    RV(remedies). It fails only on bad options.
  - Read-only; the checks also run in check mode. Credentials are never returned.
author:
  - claude_fleet maintainers (!UNKNOWN)
options:
  invoke:
    description:
      - Prove each usable reference with a 1-token C(InvokeModel) call on C(bedrock-runtime)
        (Anthropic messages body, C(max_tokens=1)). This costs one billed output token per reference.
    type: bool
    default: false
  check_list_permission:
    description:
      - Check that the caller may call C(bedrock:ListInferenceProfiles) (one call, one result).
    type: bool
    default: true
  allow_legacy:
    description:
      - Treat models in the C(LEGACY) lifecycle state as usable (the remedy is then returned in RV(references[].warnings)).
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - claude_fleet.bedrock.retries
  - claude_fleet.bedrock.model_references
notes:
  - With O(caller_identity=true) the account id makes the inference-profile ARNs in remedies exact.
  - Least-privilege permissions for the check are produced by the P(claude_fleet.bedrock.bedrock_iam_policy#filter) filter
    with O(claude_fleet.bedrock.bedrock_iam_policy#filter:include_check_actions=true).
"""

EXAMPLES = r"""
- name: Check the fleet's model pins before touching workstations
  claude_fleet.bedrock.model_access_info:
    region: us-east-1
    models:
      primary: us.anthropic.claude-sonnet-4-5-20250929-v1:0
      haiku: us.anthropic.claude-haiku-4-5-20251001-v1:0
    caller_identity: true
  register: __access
  delegate_to: localhost
  run_once: true

- name: Stop with every remedy
  ansible.builtin.assert:
    that: __access.usable
    fail_msg: "{{ __access.remedies }}"

- name: Check one application inference profile and prove it answers
  claude_fleet.bedrock.model_access_info:
    references:
      - arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6
    invoke: true
"""

RETURN = r"""
usable:
  description: Whether every reference is usable and every global check passed.
  returned: always
  type: bool
  sample: false
failed_references:
  description: References that are not usable.
  returned: always
  type: list
  elements: str
  sample: [anthropic.claude-sonnet-4-5-20250929-v1:0]
remedies:
  description: Every remedy, global checks first, each prefixed with the reference (and its names).
  returned: always
  type: list
  elements: str
  sample: ["primary (anthropic.claude-sonnet-4-5-20250929-v1:0): ... use us.anthropic.claude-sonnet-4-5-20250929-v1:0 instead ..."]
references:
  description: One result per distinct reference.
  returned: always
  type: list
  elements: dict
  contains:
    reference:
      description: The reference as configured.
      type: str
    names:
      description: The O(models) names that use this reference.
      type: list
      elements: str
    kind:
      description: >-
        C(foundation_model), C(foundation_model_arn), C(system_profile), C(system_profile_arn),
        C(application_profile_arn) or C(invalid).
      type: str
    status:
      description: >-
        The most severe problem: C(ok), C(legacy), C(access_denied), C(credentials_invalid), C(invalid_reference),
        C(not_found), C(use_case_form_required), C(agreement_required), C(agreement_pending), C(not_authorized),
        C(region_unavailable), C(region_not_in_profile), C(needs_inference_profile), C(throttled) or C(error).
      type: str
    usable:
      description: Whether Claude Code can use this reference.
      type: bool
    remedy:
      description: All remedies of this reference in one sentence; null when usable.
      type: str
    remedies:
      description: The remedies of this reference.
      type: list
      elements: str
    warnings:
      description: Remedies of problems that do not block (C(legacy) with O(allow_legacy=true)).
      type: list
      elements: str
    problems:
      description: Every problem found, most severe first, with C(status), C(error_code) and C(remedy).
      type: list
      elements: dict
    region:
      description: The region the check ran in.
      type: str
    profile:
      description: The resolved inference profile as returned by M(claude_fleet.bedrock.inference_profile_info); null for model ids.
      type: dict
    foundation_models:
      description: >-
        The underlying foundation models with C(model_id), C(model_arn), C(lifecycle_status),
        C(inference_types_supported), C(availability) (snake_cased C(GetFoundationModelAvailability) answer)
        and C(successor) for LEGACY models.
      type: list
      elements: dict
    invoke:
      description: Result of the 1-token probe (C(ok), C(stop_reason), C(usage) or C(error_code)); null when not run.
      type: dict
checks:
  description: Failed global checks (C(bedrock:ListInferenceProfiles), C(sts:GetCallerIdentity)) with status and remedy.
  returned: always
  type: list
  elements: dict
caller_identity:
  description: The caller (C(account), C(arn), C(user_id)); null unless O(caller_identity=true) and the call succeeded.
  returned: always
  type: dict
  sample: {"account": "123456789012", "arn": "arn:aws:iam::123456789012:user/fleet", "user_id": "AIDAEXAMPLE"}
region:
  description: The region checked.
  returned: always
  type: str
  sample: us-east-1
aws_calls:
  description: Number of AWS requests sent, retries included.
  returned: always
  type: int
  sample: 5
aws_retries:
  description: Number of requests that were retries of a throttled or failed one.
  returned: always
  type: int
  sample: 0
calls_by_operation:
  description: Requests sent per API operation (snake_case boto3 method name).
  returned: always
  type: dict
  sample: {"get_inference_profile": 1, "get_foundation_model": 1, "get_foundation_model_availability": 1}
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import REGION_REQUIRED
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import CallStats
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import ModelAccessChecker
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import bedrock_clients
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import partition_for_region
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import module_references
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import retry_argument_spec


def main():
    argument_spec = dict(
        references=dict(type="list", elements="str"),
        models=dict(type="dict"),
        invoke=dict(type="bool", default=False),
        caller_identity=dict(type="bool", default=False),
        check_list_permission=dict(type="bool", default=True),
        allow_legacy=dict(type="bool", default=False),
    )
    argument_spec.update(retry_argument_spec())
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[["references", "models"]],
    )
    params = module.params
    references, names = module_references(module)
    region = module.region if module.params.get("region") != "" else None
    if not region:
        module.fail_json(msg=REGION_REQUIRED)

    stats = CallStats()
    services = ["bedrock"]
    if params["invoke"]:
        services.append("bedrock-runtime")
    if params["caller_identity"]:
        services.append("sts")
    clients = bedrock_clients(module, stats, services)
    checker = ModelAccessChecker(
        clients["bedrock"],
        region=region,
        stats=stats,
        runtime=clients.get("bedrock-runtime"),
        sts=clients.get("sts"),
        invoke=params["invoke"],
        allow_legacy=params["allow_legacy"],
        check_list_permission=params["check_list_permission"],
        partition=partition_for_region(region),
    )
    result = checker.run(references, names, check_identity=params["caller_identity"])
    result.update(stats.as_dict())
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
