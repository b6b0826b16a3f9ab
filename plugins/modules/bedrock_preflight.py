#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: bedrock_preflight
short_description: Verify Amazon Bedrock access once per host group, reusing a passing check of the same inputs
version_added: 0.1.0
description:
  - An action plugin that runs on the controller only, used by the internal C(_preflight) role in one task.
  - Each host group is remembered on its own. When a host group passed a check of the same inputs younger than
    O(max_age) seconds, that pass is reused and no AWS call is made for it; RV(reused) is true when every
    group was. A group's cache key is a digest of what it is checked for (its models and inference profiles, region,
    endpoint and profile, not its hosts), the credentials it is checked with, O(cache_inputs) (the checks asked for),
    O(endpoint) and the controller's AWS environment variables and credential files, so a rotated key or another
    profile checks again, and a workstation added to a group that passed does not. A failed check is never reused.
  - Otherwise each host group in O(targets) is checked once with M(claude_fleet.bedrock.model_access_info)
    (O(endpoint=runtime)) or M(claude_fleet.bedrock.mantle_access_info) (O(endpoint=mantle)) and the outcomes are
    summarised (RV(usable), RV(remedies), RV(targets)); a passing result is remembered (not in check mode).
  - It fails, listing every remedy, when a model is not usable (unless O(fail=false)) and, whatever O(fail) says, when
    an option is bad (nothing is checked then), so the task stops the run before any workstation changes.
  - The role's options are checked first against the C(_preflight) role's argument spec (the role is imported with
    C(rolespec_validate=false)); each bad one is named.
  - The credentials are no option. The action reads the role's variables C(_preflight_access_key),
    C(_preflight_secret_key) and C(_preflight_session_token) itself, and with O(group_by_host) a group's first host's
    C(claude_fleet_aws_*) ones. So the task is not C(no_log), and its failure shows what to fix. No result holds them,
    and the access modules do not log on the controller.
  - The cache file (C(preflight.json) in O(cache_dir), mode C(0600)) holds digests of the inputs and the result,
    which holds no secret.
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - claude_fleet.bedrock.attributes
attributes:
  check_mode:
    details: The checks are read-only and run in check mode; no result is remembered.
  diff_mode:
    support: none
options:
  endpoint:
    description: Which Bedrock endpoint the workstations call.
    type: str
    choices: [runtime, mantle]
    default: runtime
  targets:
    description:
      - The host groups, each a dict with C(host) (its first host), C(region), C(models), C(endpoint_url),
        C(profile), C(hosts) (how many) and C(label).
    type: list
    elements: dict
    required: true
  check:
    description:
      - Options given to the access module of O(endpoint), for example C(references), C(invoke), C(caller_identity),
        C(check_list_permission), C(allow_legacy), C(aws_ca_bundle), C(base_url), C(retries), C(retry_delay).
        Options of the other endpoint's module and empty values are left out.
    type: dict
    default: {}
  fail:
    description: Whether an unusable model fails the task (bad options always do).
    type: bool
    default: true
  group_by_host:
    description: Whether a host group's first host's own C(claude_fleet_aws_*) credentials are used for its check.
    type: bool
    default: true
  cache_inputs:
    description:
      - What decides the preflight's answer besides the host groups and their credentials, for example the checks asked
        for. Only ever digested. Never put a credential here; the task is not C(no_log) (the action reads the
        credentials from the role's variables).
    type: raw
    required: true
  max_age:
    description: Seconds a passing preflight is reused; V(0) never reuses nor stores one.
    type: int
    default: 3600
  cache_dir:
    description: Controller directory of the cache file.
    type: path
    default: ~/.cache/claude_fleet
"""

EXAMPLES = r"""
- name: Verify model access once per host group, reusing a passing check younger than an hour
  claude_fleet.bedrock.bedrock_preflight:
    targets:
      - {host: ws1, region: us-east-1, models: {primary: us.anthropic.claude-sonnet-5-5}, hosts: 1, label: us-east-1, 1 host}
    cache_inputs: "{{ _preflight_cache_inputs }}"
    max_age: 3600
  register: checked
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
usable:
  description: Whether every host group can use every model.
  returned: always
  type: bool
remedies:
  description: What to fix, labelled by host group when there are several (the option problems when there are any).
  returned: unless the task fails
  type: list
  elements: str
msg:
  description: When the task fails, what to do and every remedy (or every bad option), one item each.
  returned: on failure
  type: list
  elements: str
option_problems:
  description:
    - What is wrong with the options themselves (the role's argument spec, O(endpoint), O(max_age), the retries, a
      missing region), each naming the variable to fix. When there is any, no AWS call is made and the task fails.
  returned: unless the check fails (empty), and when an option is bad
  type: list
  elements: str
failed_references:
  description: The model references that are not usable.
  returned: unless the task fails
  type: list
  elements: str
aws_calls:
  description:
    - AWS calls this run made (0 when every host group was reused).
    - A reused group in RV(targets) keeps the figures of the run that checked it.
  returned: unless the task fails
  type: int
aws_retries:
  description: Retries of throttled or transient AWS errors this run made.
  returned: unless the task fails
  type: int
targets:
  description: Per host group, its label, region, profile, endpoint, hosts, usable, remedies, references, reused and checked_at.
  returned: unless the task fails
  type: list
  elements: dict
reused:
  description: Whether every host group's pass was reused (no AWS call was made).
  returned: unless the task fails
  type: bool
checked_at:
  description: When the oldest check the result stands on ran (ISO 8601, UTC); each target has its own.
  returned: unless the task fails
  type: str
age:
  description: Age in seconds of the oldest reused check.
  returned: when every host group was reused
  type: float
"""
