#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: foundation_model_info
version_added: 0.1.0
short_description: List or get Amazon Bedrock foundation models
description:
  - Lists the foundation models offered in a region (C(ListFoundationModels)), or gets one model (C(GetFoundationModel)).
  - Server-side filters are O(by_provider), O(by_inference_type), O(by_output_modality) and O(by_customization_type);
    O(lifecycle_status), O(streaming) and O(model_id_contains) filter the answer.
  - Keys are the Bedrock API keys, snake_cased.
  - Read-only; runs in check mode.
author:
  - claude_fleet maintainers (!UNKNOWN)
options:
  model_id:
    description:
      - Get this one model (id or foundation-model ARN) instead of listing.
      - When the model does not exist, RV(foundation_models) is an empty list.
      - Mutually exclusive with the C(by_*) server-side filters.
    type: str
  by_provider:
    description: Only models of this provider, for example C(Anthropic).
    type: str
  by_inference_type:
    description:
      - Only models supporting this inference type.
      - Newer Claude models support only C(INFERENCE_PROFILE) and are not returned for C(ON_DEMAND).
    type: str
    choices: [ON_DEMAND, PROVISIONED]
  by_output_modality:
    description: Only models with this output modality.
    type: str
    choices: [TEXT, IMAGE, EMBEDDING]
  by_customization_type:
    description: Only models supporting this customization.
    type: str
    choices: [FINE_TUNING, CONTINUED_PRE_TRAINING, DISTILLATION]
  lifecycle_status:
    description: Only models in this lifecycle state.
    type: str
    choices: [ACTIVE, LEGACY]
  streaming:
    description: When set, only models whose response streaming support equals this value.
    type: bool
  model_id_contains:
    description: Only models whose id contains this string, for example C(claude).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - claude_fleet.bedrock.retries
"""

EXAMPLES = r"""
- name: List the Anthropic text models that stream
  claude_fleet.bedrock.foundation_model_info:
    region: us-east-1
    by_provider: Anthropic
    by_output_modality: TEXT
    streaming: true
  register: __anthropic_models

- name: List only ACTIVE Claude models
  claude_fleet.bedrock.foundation_model_info:
    by_provider: Anthropic
    lifecycle_status: ACTIVE
    model_id_contains: claude

- name: Get one model
  claude_fleet.bedrock.foundation_model_info:
    model_id: anthropic.claude-sonnet-4-5-20250929-v1:0
"""

RETURN = r"""
foundation_models:
  description: The models (model summaries for a list, model details for O(model_id)).
  returned: always
  type: list
  elements: dict
  contains:
    model_id:
      description: Model id.
      type: str
      sample: anthropic.claude-sonnet-4-5-20250929-v1:0
    model_arn:
      description: Model ARN.
      type: str
      sample: arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0
    model_name:
      description: Display name.
      type: str
      sample: Claude Sonnet 4.5
    provider_name:
      description: Provider.
      type: str
      sample: Anthropic
    input_modalities:
      description: Input modalities.
      type: list
      elements: str
    output_modalities:
      description: Output modalities.
      type: list
      elements: str
    response_streaming_supported:
      description: Whether InvokeModelWithResponseStream is supported.
      type: bool
    customizations_supported:
      description: Supported customizations.
      type: list
      elements: str
    inference_types_supported:
      description: Supported inference types (C(ON_DEMAND), C(PROVISIONED), C(INFERENCE_PROFILE)).
      type: list
      elements: str
    model_lifecycle:
      description: Lifecycle.
      type: dict
      contains:
        status:
          description: C(ACTIVE) or C(LEGACY).
          type: str
aws_calls:
  description: Number of AWS requests sent, retries included.
  returned: always
  type: int
  sample: 1
aws_retries:
  description: Number of requests that were retries of a throttled or failed one.
  returned: always
  type: int
  sample: 0
calls_by_operation:
  description: Requests sent per API operation (snake_case boto3 method name).
  returned: always
  type: dict
  sample: {"list_foundation_models": 1}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import is_ansible_aws_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import AnsibleBedrockError
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import CallStats
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import bedrock_clients
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import filter_models
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import get_foundation_model
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import list_foundation_models
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import retry_argument_spec
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import snake


def main():
    argument_spec = dict(
        model_id=dict(type="str"),
        by_provider=dict(type="str"),
        by_inference_type=dict(type="str", choices=["ON_DEMAND", "PROVISIONED"]),
        by_output_modality=dict(type="str", choices=["TEXT", "IMAGE", "EMBEDDING"]),
        by_customization_type=dict(type="str", choices=["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"]),
        lifecycle_status=dict(type="str", choices=["ACTIVE", "LEGACY"]),
        streaming=dict(type="bool"),
        model_id_contains=dict(type="str"),
    )
    argument_spec.update(retry_argument_spec())
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["model_id", name] for name in ("by_provider", "by_inference_type", "by_output_modality", "by_customization_type")],
    )
    params = module.params
    stats = CallStats()
    client = bedrock_clients(module, stats)["bedrock"]

    try:
        if params["model_id"]:
            try:
                models = [get_foundation_model(client, params["model_id"])]
            except is_ansible_aws_error_code("ResourceNotFoundException"):
                models = []
        else:
            models = list_foundation_models(
                client,
                byProvider=params["by_provider"],
                byInferenceType=params["by_inference_type"],
                byOutputModality=params["by_output_modality"],
                byCustomizationType=params["by_customization_type"],
            )
    except AnsibleBedrockError as e:
        module.fail_json_aws_error(e)

    models = filter_models(models, params["lifecycle_status"], params["streaming"], params["model_id_contains"])
    module.exit_json(changed=False, foundation_models=[snake(m) for m in models], **stats.as_dict())


if __name__ == "__main__":
    main()
