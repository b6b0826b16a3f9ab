#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: preflight_cache
short_description: Reuse a passing Bedrock preflight of the same inputs for a maximum age
version_added: 0.1.0
description:
  - An action plugin that runs on the controller only, used by the internal C(_preflight) role.
  - O(state=get) returns RV(hit) and the cached RV(result) when a passing preflight of the same O(inputs) is younger
    than O(max_age) seconds. The key is a digest of O(inputs) (models, inference profiles, regions, endpoints,
    credentials and the checks asked for) and of the controller's AWS environment variables and credential files,
    so a rotated key or another profile checks again. A failed preflight is never reused.
  - O(state=put) remembers a passing O(result).
  - The cache file (C(preflight.json) in O(cache_dir), mode C(0600)) holds digests of the inputs and the
    preflight's result, which holds no secret.
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - claude_fleet.bedrock.attributes
attributes:
  check_mode:
    details: Read-only with O(state=get); the role does not store a result in check mode.
  diff_mode:
    support: none
options:
  state:
    description: V(get) looks a passing preflight up; V(put) stores one.
    type: str
    choices: [get, put]
    default: get
  inputs:
    description: What decides the preflight's answer. Only ever digested; treat as secret (C(no_log)).
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
  result:
    description: With O(state=put), the preflight's result (C(preflight_result)); stored only when it passed.
    type: dict
"""

EXAMPLES = r"""
- name: Reuse a passing preflight younger than an hour
  claude_fleet.bedrock.preflight_cache:
    inputs: "{{ _preflight_cache_inputs }}"
    max_age: 3600
  register: cached
  no_log: true
"""

RETURN = r"""
hit:
  description: Whether a passing preflight of the same inputs younger than O(max_age) was found.
  returned: state is get
  type: bool
result:
  description: The cached preflight result (empty without a hit).
  returned: state is get
  type: dict
checked_at:
  description: When the cached preflight's checks ran (ISO 8601, UTC).
  returned: state is get
  type: str
age:
  description: Age in seconds of the cached result.
  returned: state is get and hit
  type: float
stored:
  description: Whether the result was stored.
  returned: state is put
  type: bool
"""
