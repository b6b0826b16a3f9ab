#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: converge_stamp_info
short_description: Tell whether a workstation is still as its last converge left it
version_added: 0.1.0
description:
  - Reads the stamp written by M(claude_fleet.bedrock.converge_stamp) and compares it with the current
    run. The fingerprint of the inputs must be equal, and every recorded path must still have the
    recorded type, mode, owner and content.
  - This is the fast path of C(claude_fleet.bedrock.setup), where one call per host decides whether the
    roles can be skipped. Any difference, or a missing or unreadable stamp, means a full converge.
  - Read-only; it never changes the host.
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - claude_fleet.bedrock.attributes
attributes:
  check_mode:
    details: Read-only; runs the same in check mode.
  diff_mode:
    support: none
options:
  path:
    description: Path of the stamp file.
    type: path
    default: /var/lib/claude_fleet/converge.json
  fingerprint:
    description: Digest of this run's inputs (M(claude_fleet.bedrock.fast_path)).
    type: str
    required: true
  max_age:
    description:
      - Seconds after the last full converge (the stamp's modification time) when the host is no longer current
        and the roles run again, to prove what no probe sees (a binary that no longer runs); V(0) for never.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Compare the workstation with its last converge
  claude_fleet.bedrock.converge_stamp_info:
    fingerprint: "{{ _fingerprint }}"
  register: stamp

- name: Skip the roles when nothing differs
  ansible.builtin.debug:
    msg: "{{ 'converged' if stamp.current else stamp.reasons }}"
"""

RETURN = r"""
current:
  description: Whether the inputs and every recorded path are unchanged since the last converge.
  returned: always
  type: bool
  sample: true
reasons:
  description: Why the host is not current, one sentence per difference (empty when current).
  returned: always
  type: list
  elements: str
  sample: ["/home/alice/.bashrc content changed"]
facts:
  description: The facts recorded with the stamp (installed versions and the like); empty without a stamp.
  returned: always
  type: dict
  sample: {"node_version": "22.11.0", "claude_code_version": "2.1.332"}
paths_checked:
  description: Number of recorded paths probed.
  returned: always
  type: int
  sample: 31
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.converge_stamp import age, evaluate, load


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/var/lib/claude_fleet/converge.json'),
            fingerprint=dict(type='str', required=True, no_log=True),
            max_age=dict(type='int', default=0),
        ),
        supports_check_mode=True,
    )
    stamp = load(module.params['path'])
    current, reasons, _pins_differ = evaluate(stamp, module.params['fingerprint'], None, age(module.params['path']), module.params['max_age'])
    module.exit_json(changed=False, current=current, reasons=reasons,
                     facts=(stamp or {}).get('facts') or {}, paths_checked=len((stamp or {}).get('paths') or {}))


if __name__ == '__main__':
    main()
