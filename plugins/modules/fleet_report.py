#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: fleet_report
short_description: Write the fleet report of setup.yml and verify.yml on the controller
version_added: 0.1.0
description:
  - An action plugin that runs on the controller only, in one task, in Python. It reads the C(_report_host) fact
    each host of O(group_hosts) collected (internal role C(_report), C(tasks_from=collect)), assembles the report
    (hosts without that fact are failed), writes C(fleet-report.json) and C(fleet-report.md) atomically, mode
    C(0640), into O(dir), and returns the Markdown summary as RV(msg).
  - Fails when a host failed or a user's Claude Code did not answer, after the report is written, unless O(fail=false).
  - The report holds no secret (versions, regions, models, users, authentication methods, smoke results, findings).
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - claude_fleet.bedrock.attributes
attributes:
  check_mode:
    details: Check mode writes no file (neither the report nor O(local_path)); the summary is returned.
  diff_mode:
    support: none
options:
  group_hosts:
    description: The hosts the report covers (the inventory group of the run).
    type: list
    elements: str
    required: true
  dir:
    description: Directory of the report files on the controller; created (mode C(0750)) when missing.
    type: path
    required: true
  formats:
    description: Which files to write.
    type: list
    elements: str
    choices: [json, markdown]
    default: [json, markdown]
  preflight:
    description: The Bedrock preflight's result (C(preflight_result)); its C(usable) and C(remedies) are reported.
    type: dict
  fail:
    description: Fail when a host failed.
    type: bool
    default: true
  local_path:
    description:
      - Also write the JSON report to this absolute path (mode C(0640), atomically, its directory created C(0750)) whatever
        O(formats) says. Used by ansible-pull, where the machine is its own controller and C(verify.yml) reads this file
        on the host (C(claude_fleet_report_local_path), set by the C(pull) role).
    type: path
"""

EXAMPLES = r"""
- name: Write and summarise the fleet report
  claude_fleet.bedrock.fleet_report:
    group_hosts: "{{ groups['workstations'] }}"
    dir: "{{ playbook_dir }}/fleet-report"
"""

RETURN = r"""
msg:
  description: The Markdown summary, one line per item; on failure, which hosts failed.
  returned: always
  type: raw
summary:
  description: The Markdown summary when the run fails.
  returned: failed
  type: list
  elements: str
"""
