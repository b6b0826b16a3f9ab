#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mantle_access_info
version_added: 0.2.0
short_description: Check that Claude Code can use the configured models on Amazon Bedrock (Mantle), and say how to fix it when not
description:
  - For each configured model (a Mantle model id such as C(anthropic.claude-sonnet-4-5), without geo prefix or version
    suffix; a C([1m]) suffix is stripped) the module sends one Anthropic Messages API request with C(max_tokens=1) to
    C(POST {base_url}/v1/messages), the probe Claude Code itself sends at start-up when C(CLAUDE_CODE_USE_MANTLE=1).
    This costs one billed output token per model.
  - Requests are signed with botocore's SigV4 signer for the service name C(bedrock-mantle) (what Claude Code signs with),
    or carry O(bearer_token) (an Amazon Bedrock API key) as a bearer C(Authorization) header. botocore has no C(bedrock-mantle)
    service model to call instead.
  - Each model gets a RV(references[].status) and, when it is not usable, a remedy in plain words (the IAM actions and
    resource to allow, the model to enable, the Mantle id to pin instead of a bedrock-runtime id).
  - The module never fails because a model is not usable; it returns RV(usable=false) with all RV(remedies).
  - Read-only; the checks also run in check mode. Credentials are never returned.
author:
  - claude_fleet maintainers (!UNKNOWN)
options:
  base_url:
    description:
      - Mantle base URL with its C(/anthropic) path, as in C(ANTHROPIC_BEDROCK_MANTLE_BASE_URL).
      - Default C(https://bedrock-mantle.<region>.api.aws/anthropic).
    type: str
  bearer_token:
    description:
      - An Amazon Bedrock API key to send instead of SigV4 (as C(AWS_BEARER_TOKEN_BEDROCK) does for Claude Code).
    type: str
  timeout:
    description: Seconds each request may take.
    type: float
    default: 30
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
  - claude_fleet.bedrock.retries
  - claude_fleet.bedrock.model_references
notes:
  - O(caller_identity) needs SigV4 credentials (not O(bearer_token)).
  - The IAM policy the fleet needs on Mantle comes from the P(claude_fleet.bedrock.bedrock_iam_policy#filter) filter with
    O(claude_fleet.bedrock.bedrock_iam_policy#filter:endpoint=mantle).
  - O(endpoint_url) is the STS endpoint for O(caller_identity); Mantle itself is reached at O(base_url).
"""

EXAMPLES = r"""
- name: Check the fleet's Mantle pins before touching workstations
  claude_fleet.bedrock.mantle_access_info:
    region: us-east-1
    models:
      opus: anthropic.claude-opus-5-5
      haiku: anthropic.claude-haiku-4-5
  register: __mantle
  delegate_to: localhost
  run_once: true

- name: Stop with every remedy
  ansible.builtin.assert:
    that: __mantle.usable
    fail_msg: "{{ __mantle.remedies }}"
"""

RETURN = r"""
usable:
  description: Whether every model answered.
  returned: always
  type: bool
  sample: false
failed_references:
  description: Models that are not usable.
  returned: always
  type: list
  elements: str
  sample: [anthropic.claude-opus-5-5]
remedies:
  description: Every remedy, each prefixed with the model (and its names).
  returned: always
  type: list
  elements: str
  sample: ["opus (anthropic.claude-opus-5-5): anthropic.claude-opus-5-5 is not enabled for the account on Amazon Bedrock (Mantle) ..."]
references:
  description: One result per distinct model.
  returned: always
  type: list
  elements: dict
  contains:
    reference:
      description: The configured value.
      type: str
      returned: always
    names:
      description: The names that use it.
      type: list
      elements: str
      returned: always
    model_id:
      description: The id sent to Mantle (without a C([1m]) suffix); null when Mantle cannot serve the reference.
      type: str
      returned: always
    status:
      description: C(ok), C(invalid_reference), C(access_denied), C(use_case_form_required), C(not_found), C(credentials_invalid),
        C(unreachable), C(throttled) or C(error).
      type: str
      returned: always
    usable:
      description: Whether the model answered.
      type: bool
      returned: always
    http_status:
      description: HTTP status of the probe (0 when Mantle could not be reached).
      type: int
      returned: always
    error_code:
      description: The AWS error code (x-amzn-ErrorType) or Anthropic error type.
      type: str
      returned: always
    remedy:
      description: What to do, or null.
      type: str
      returned: always
caller_identity:
  description: Account, ARN and user id of the caller (with O(caller_identity=true)).
  returned: always
  type: dict
base_url:
  description: The Mantle base URL the checks called.
  returned: always
  type: str
aws_calls:
  description: Requests sent (each retry is a request).
  returned: always
  type: int
aws_retries:
  description: Requests that repeated a throttled or failed one.
  returned: always
  type: int
"""

try:
    import botocore.credentials
    import botocore.session
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import REGION_REQUIRED
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import CallStats
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import bedrock_clients
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import error_code
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import error_message
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import get_caller_identity
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import module_references
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock import retry_argument_spec
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.mantle import MantleCaller
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.mantle import default_base_url
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.mantle import run_mantle_checks


def _credentials(boto_params):
    """The signing credentials the module's options (or the default chain) give, frozen; None when there are none."""
    if boto_params.get("aws_access_key_id") and boto_params.get("aws_secret_access_key"):
        return botocore.credentials.Credentials(boto_params["aws_access_key_id"], boto_params["aws_secret_access_key"],
                                                boto_params.get("aws_session_token"))
    session = botocore.session.Session(profile=boto_params.get("profile_name") or None)
    found = session.get_credentials()
    return found.get_frozen_credentials() if found is not None else None


def main():
    argument_spec = dict(
        references=dict(type="list", elements="str"),
        models=dict(type="dict"),
        base_url=dict(type="str"),
        bearer_token=dict(type="str", no_log=True),
        caller_identity=dict(type="bool", default=False),
        timeout=dict(type="float", default=30.0),
    )
    argument_spec.update(retry_argument_spec())
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True, required_one_of=[["references", "models"]])
    params = module.params
    references, names = module_references(module, keep_empty=False)
    region, _endpoint, boto_params = get_aws_connection_info(module)
    if not region:
        module.fail_json(msg=REGION_REQUIRED)
    base_url = (params["base_url"] or "").strip() or default_base_url(region)
    if not base_url.startswith(("https://", "http://")) or any(c.isspace() or ord(c) < 32 for c in base_url):
        module.fail_json(msg="base_url %r is not an http(s) URL." % base_url)

    identity, checks = None, []
    stats = CallStats()
    if params["caller_identity"] and not params["bearer_token"]:
        sts = bedrock_clients(module, stats, ["sts"])["sts"]
        try:
            identity = get_caller_identity(sts)
        # Any failure becomes a remedy, never a traceback.
        except Exception as exc:  # pylint: disable=broad-except
            code = error_code(exc)
            status = "credentials_invalid" if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "NoCredentialsError",
                                                       "UnrecognizedClientException") else "error"
            checks.append({"status": status, "error_code": code,
                           "remedy": "The controller's AWS credentials were rejected (%s: %s); fix them before the Mantle check." % (code, error_message(exc))})

    credentials = None if params["bearer_token"] else _credentials(boto_params)
    if not params["bearer_token"] and credentials is None:
        checks.append({"status": "credentials_invalid", "error_code": "NoCredentialsError",
                       "remedy": "No AWS credentials found for the Mantle check: set a profile, access keys or an API key (bearer_token)."})
    caller = MantleCaller(base_url, region, credentials=credentials, bearer_token=params["bearer_token"] or None,
                          verify=boto_params.get("verify", True), timeout=params["timeout"], retries=params["retries"], delay=params["retry_delay"])
    result = run_mantle_checks(caller, references, names, account=(identity or {}).get("account"), identity=identity, checks=checks)
    result["aws_calls"] += stats.calls
    result["aws_retries"] += stats.retries
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
