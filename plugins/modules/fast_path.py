#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: fast_path
short_description: The fast no-op path of setup.yml in one task per host
version_added: 0.1.0
description:
  - An action plugin that runs on the controller. With O(state=check), before the workstation roles, it
    fingerprints the inputs of the play's roles on the controller and makes one module call on the host,
    M(claude_fleet.bedrock.converge_stamp_info), or M(claude_fleet.bedrock.model_pins) when the roles'
    contracts let a change of the model pins alone be applied without them (it then writes them).
  - The inputs follow from the roles of the play, O(roles), by their contracts (each role's
    C(meta/fast_path.yml)). Every option of a role's argument spec that writes files is fingerprinted
    unless the contract declares it unaffected, with the variables the contract names, the controller files
    their values name by absolute path, the collection's own roles and plugins, and the contract's floating
    inputs (a Node.js release index, the registry's C(latest)), each resolved once per run for all hosts.
  - Sets the host fact C(claude_fleet_stamp) (C(usable), C(current), C(reasons), C(facts)), which the setup
    playbook ends the converge play on and the fleet report reads.
  - With O(state=record), after a full converge, it records the stamp with M(claude_fleet.bedrock.converge_stamp)
    from the fingerprint of the check and the paths each writing role published in its
    C(<role>_fast_path_contract) fact.
  - The fingerprint depends on secret values; it stays in the run's private controller directory and the stamp,
    never in the output.
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - claude_fleet.bedrock.attributes
attributes:
  check_mode:
    details: The check is read-only in check mode (model_pins reports what it would write); the playbook records no stamp in check mode.
  diff_mode:
    details: Shows the model pins written into each settings file.
options:
  state:
    description: V(check) compares the host with its stamp before the roles; V(record) writes the stamp after them.
    type: str
    choices: [check, record]
    default: check
  path:
    description: Path of the stamp file on the host.
    type: path
    default: /var/lib/claude_fleet/converge.json
  roles:
    description:
      - The roles of the play (for example C(ansible_play_role_names)). Each must be one of this collection's
        roles and have a C(meta/fast_path.yml) contract; otherwise the fast path is not used.
    type: list
    elements: str
    required: true
  usable:
    description: With O(state=check), false skips the comparison (the roles run) and records O(reason).
    type: bool
    default: true
  reason:
    description: Why the fast path is not used, when O(usable=false).
    type: str
  max_age:
    description:
      - With O(state=check), seconds after the host's last full converge when it is no longer current and the roles
        run again, to prove what no probe sees (a binary that no longer runs); V(0) for never.
    type: int
    default: 0
  group:
    description:
      - With O(state=check), a group the host joins for the rest of the run when it is current (empty for none), so
        that later plays can leave it out without a task per host (setup.yml's smoke play when the smoke test is off).
    type: str
    default: ''
  cache_dir:
    description:
      - With O(state=check), a controller directory where the contracts' model pins declarations, as rendered, are
        kept across runs (C(fast_path.json), 0600), by the digest of the values they read, the collection and
        ansible-core; only declarations that depend on nothing else (no lookup, fact or time) are kept.
      - The parsed references of the fingerprinted templates (the variables each reads, the paths it names) are kept
        there too (C(fast_path_references.json), 0600), by the collection and ansible-core. Empty for none.
    type: path
  extra:
    description: Further data to fingerprint.
    type: raw
  facts:
    description: With O(state=record), the facts to hand back on the fast path (installed versions). No secrets.
    type: dict
"""

EXAMPLES = r"""
- name: Compare the workstation with its last converge
  claude_fleet.bedrock.fast_path:
    roles: "{{ ansible_play_role_names }}"

- name: End the play for hosts that are converged
  ansible.builtin.meta: end_host
  when: ansible_facts['claude_fleet_stamp']['current']
"""

RETURN = r"""
current:
  description: Whether the host is as its last converge left it (after applying new model pins, if that was all).
  returned: state is check
  type: bool
reasons:
  description: Why the roles must run, one sentence per difference.
  returned: state is check
  type: list
  elements: str
  sample: ["/home/alice/.bashrc content changed"]
pins_changed:
  description: The model pins that were (or in check mode would be) written without the roles.
  returned: state is check
  type: list
  elements: str
files:
  description: The settings files the new model pins were written into.
  returned: when model pins were applied
  type: list
  elements: str
ansible_facts:
  description: The fact C(claude_fleet_stamp) with C(usable), C(current), C(reasons) and C(facts).
  returned: state is check
  type: dict
"""
