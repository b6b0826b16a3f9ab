#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: converge_stamp
short_description: Record (or remove) a workstation's converge stamp for fast no-op re-runs
version_added: 0.1.0
description:
  - Writes the converge stamp at the end of a full, successful converge of C(claude_fleet.bedrock.setup),
    made of the fingerprint of the run's inputs, a probe of every path the roles manage (type, mode, owner, and
    the SHA-256 of files up to 4 MiB; size, modification time and inode of larger ones; the target of
    symbolic links) and the facts the fleet report shows.
  - M(claude_fleet.bedrock.converge_stamp_info) compares a later run against it.
  - The stamp is written atomically, mode C(0600), owned by the connecting (become) user. It holds no
    secret value, only a digest of the inputs.
  - An unchanged stamp is not rewritten; its modification time is set to now, since it tells when the last full
    converge ran (O(claude_fleet.bedrock.converge_stamp_info#module:max_age)).
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - claude_fleet.bedrock.attributes
attributes:
  diff_mode:
    details:
      - The diff shows the recorded paths and facts; the fingerprint is masked.
options:
  path:
    description: Path of the stamp file. Its directory is created (mode C(0700)) when missing.
    type: path
    default: /var/lib/claude_fleet/converge.json
  state:
    description:
      - V(present) records the stamp; V(absent) removes it, so that the next run converges fully.
    type: str
    choices: [present, absent]
    default: present
  fingerprint:
    description:
      - Digest of the run's inputs, as computed by M(claude_fleet.bedrock.fast_path).
      - Required with O(state=present).
    type: str
  paths:
    description:
      - Absolute paths the roles manage. Missing paths are recorded as absent, so that a file appearing
        later (for example a new C(~/.bash_profile)) also ends the fast path.
    type: list
    elements: path
    default: []
  facts:
    description: Facts to hand back on the fast path (installed versions and the like). Must not hold secrets.
    type: dict
    default: {}
  pins:
    description:
      - The model pins this converge wrote (environment variable name to value; empty means unset), when
        the fingerprint leaves the pin variables out. M(claude_fleet.bedrock.model_pins) can then apply a
        later change of the pins alone to O(pin_files) without running the roles.
    type: dict
  pin_files:
    description: The settings files that carry the model pins (each user's C(~/.claude/settings.json)); they must be in O(paths).
    type: list
    elements: path
    default: []
  unprobed:
    description:
      - Absolute paths (files or directories) the roles write but deliberately do not probe, each with the reason
        (for example records that only the uninstall reads). They are listed in the stamp, not probed, so a test
        can tell a declared exception from a forgotten path. None of O(paths) may be one of them or lie below one.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Record this converge
  claude_fleet.bedrock.converge_stamp:
    fingerprint: "{{ _fingerprint }}"
    paths:
      - /usr/local/bin/node
      - /home/alice/.claude/settings.json
    facts:
      node_version: 22.11.0

- name: Force a full converge on the next run
  claude_fleet.bedrock.converge_stamp:
    state: absent
"""

RETURN = r"""
path:
  description: Path of the stamp file.
  returned: always
  type: str
  sample: /var/lib/claude_fleet/converge.json
paths_recorded:
  description: Number of distinct paths probed into the stamp.
  returned: state is present
  type: int
  sample: 31
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.converge_stamp import (
    STAMP_FORMAT, dump, load, new_key, probe_all, save)

_MASK = 'VALUE_SPECIFIED_IN_NO_LOG_PARAMETER'


def _shown(data):
    """The stamp as shown in a diff: everything but the fingerprint and the digest key."""
    if not data:
        return ''
    return dump(dict(data, fingerprint=_MASK, key=_MASK))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/var/lib/claude_fleet/converge.json'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            fingerprint=dict(type='str', no_log=True),
            paths=dict(type='list', elements='path', default=[]),
            facts=dict(type='dict', default={}),
            pins=dict(type='dict'),
            pin_files=dict(type='list', elements='path', default=[]),
            unprobed=dict(type='dict', default={}),
        ),
        required_if=[('state', 'present', ['fingerprint'])],
        supports_check_mode=True,
    )
    path = os.path.abspath(module.params['path'])
    old = load(path)
    old_exists = os.path.lexists(path)
    result = dict(changed=False, path=path)

    if module.params['state'] == 'absent':
        if old_exists:
            result['changed'] = True
            result['diff'] = dict(before=_shown(old), after='')
            if not module.check_mode:
                os.unlink(path)
        module.exit_json(**result)

    bad = [p for p in module.params['paths'] if not os.path.isabs(p)]
    if bad:
        module.fail_json(msg='paths must be absolute; got %s' % ', '.join(bad))
    stray = sorted(set(module.params['pin_files']) - set(module.params['paths']))
    if stray:
        module.fail_json(msg='pin_files must also be in paths; not in paths: %s' % ', '.join(stray))
    unprobed = module.params['unprobed']
    bad = sorted(p for p, why in unprobed.items() if not os.path.isabs(p) or not isinstance(why, str) or not why.strip())
    if bad:
        module.fail_json(msg='unprobed must map absolute paths to a reason; not so: %s' % ', '.join(bad))
    both = sorted(p for p in module.params['paths'] for u in unprobed if p == u or p.startswith(u.rstrip('/') + '/'))
    if both:
        module.fail_json(msg='paths declared unprobed cannot be probed too: %s' % ', '.join(both))
    # The digests are keyed with a per-host secret, so the diff shows nothing a secret could be guessed from.
    key = old['key'] if old else new_key()
    new = dict(format=STAMP_FORMAT, fingerprint=module.params['fingerprint'], key=key,
               paths=probe_all(module.params['paths'], key), facts=module.params['facts'],
               pins=module.params['pins'], pin_files=sorted(set(module.params['pin_files'])),
               unprobed={p: unprobed[p] for p in sorted(unprobed)})
    result['paths_recorded'] = len(new['paths'])
    if old is None or dump(old) != dump(new):
        result['changed'] = True
        result['diff'] = dict(before=_shown(old), after=_shown(new))
        if not module.check_mode:
            try:
                save(path, new)
            except OSError as exc:
                module.fail_json(msg='Could not write the converge stamp %s: %s' % (path, exc))
    elif not module.check_mode:
        # Unchanged, not rewritten; its modification time says when the last full converge ran (max_age).
        try:
            os.utime(path)
        except OSError as exc:
            module.fail_json(msg='Could not update the converge stamp %s: %s' % (path, exc))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
