#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: model_pins
short_description: Compare a workstation with its converge stamp and apply a change of the model pins alone
version_added: 0.1.0
description:
  - The fast path of C(claude_fleet.bedrock.setup) when the model pins have their own path. Like
    M(claude_fleet.bedrock.converge_stamp_info) it compares the host with its converge stamp; when only
    the model pins differ, it also writes the new pins into the C(env) of every settings file the stamp
    lists (each developer user's C(~/.claude/settings.json)) and updates the stamp, all in one call per host.
  - It makes exactly the change the settings role would make for the pins (same merge, same key order,
    same JSON format), and only when the stamp still matches O(fingerprint) and every recorded path.
    Otherwise it changes nothing and returns RV(applied=false) so that the roles run.
  - Each file is reached from its user's home directory (from the user database) one path component at a
    time, without following symbolic links, and only as the user's own regular file of at most 1 MiB; it
    is written atomically through its directory, keeping its owner and mode, with the effective user and
    group id of that user. A symbolic link, FIFO, device or directory anywhere on the way, or a file that
    is not valid JSON, is left untouched and the roles run (and report it).
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - claude_fleet.bedrock.attributes
options:
  path:
    description: Path of the converge stamp.
    type: path
    default: /var/lib/claude_fleet/converge.json
  fingerprint:
    description: Digest of this run's inputs without the pin variables.
    type: str
    required: true
  max_age:
    description:
      - Seconds after the last full converge (the stamp's modification time) when the host is no longer current
        and the roles run again; V(0) for never. Applying new pins does not make the stamp younger.
    type: int
    default: 0
  pins:
    description:
      - Environment variable name to model id; an empty value removes the variable.
      - Applied in the order given (new keys are appended to C(env) in that order).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Apply new model pins without running the roles
  claude_fleet.bedrock.model_pins:
    fingerprint: "{{ _fingerprint }}"
    pins:
      ANTHROPIC_MODEL: us.anthropic.claude-opus-4-5-20251101-v1:0
      ANTHROPIC_SMALL_FAST_MODEL: ""
"""

RETURN = r"""
applied:
  description:
    - Whether the host is as its last converge left it and carries the pins (in check mode, would carry
      them); false means the roles must run, see RV(reasons).
  returned: always
  type: bool
facts:
  description: The facts recorded with the stamp; empty without a stamp.
  returned: always
  type: dict
files:
  description: The settings files that were (or in check mode would be) rewritten.
  returned: always
  type: list
  elements: str
  sample: ["/home/alice/.claude/settings.json"]
pins_changed:
  description: Names of the pins that differ from the stamp's (and were, or in check mode would be, applied).
  returned: always
  type: list
  elements: str
  sample: ["ANTHROPIC_MODEL"]
reasons:
  description: Why the host is not current and the pins could not be applied alone (the roles must run).
  returned: always
  type: list
  elements: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import home_fs
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.claude_settings import (
    SettingsFileError, pin_changes, plan_settings, read_document, render_document, write_document)
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.converge_stamp import (
    age, as_user, evaluate, keep_age, load, probe_all, save)


def _apply(path, pins, dry_run):
    """(old text, new text or None when unchanged) for one file, written unless check_mode.

    Raises home_fs.UnsafePath or SettingsFileError: then nothing was written.
    """
    with home_fs.parent_of(path) as (directory, name):
        with as_user(directory.uid, directory.gid):
            document = read_document(directory, name)
            settings, remove = pin_changes(pins)
            after, changed = plan_settings(document.data, settings, remove)
            if not changed:
                return document.raw_text, None
            new = render_document(document, after)
            if not dry_run:
                write_document(directory, name, new)
            return document.raw_text, new


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/var/lib/claude_fleet/converge.json'),
            fingerprint=dict(type='str', required=True, no_log=True),
            pins=dict(type='dict', required=True),
            max_age=dict(type='int', default=0),
        ),
        supports_check_mode=True,
    )
    pins = {str(k): '' if v is None else str(v) for k, v in module.params['pins'].items()}
    stamp = load(module.params['path'])
    current, reasons, pins_differ = evaluate(stamp, module.params['fingerprint'], pins, age(module.params['path']), module.params['max_age'])
    result = dict(changed=False, applied=current, files=[], reasons=reasons, facts=(stamp or {}).get('facts') or {}, pins_changed=[])
    if current or not pins_differ:
        module.exit_json(**result)
    result['pins_changed'] = sorted(k for k in set(pins) | set(stamp['pins']) if pins.get(k, '') != stamp['pins'].get(k, ''))

    # Every file is checked (and planned) before the first one is written: one that cannot take the pins
    # alone leaves them all to the roles.
    for dry_run in ([True] if module.check_mode else [True, False]):
        diffs = []
        for path in stamp.get('pin_files') or []:
            try:
                old, new = _apply(path, pins, dry_run)
            except (home_fs.UnsafePath, SettingsFileError, OSError, KeyError, ValueError) as exc:
                if dry_run:
                    result['reasons'] = ['cannot apply the model pins to %s: %s' % (path, exc)]
                    module.exit_json(**result)
                module.fail_json(msg='Could not write the model pins into %s: %s' % (path, exc), files=result['files'])
            if new is not None:
                if dry_run:
                    result['files'].append(path)
                diffs.append(dict(before=old, after=new, before_header=path, after_header=path))
    if not module.check_mode:
        stamp['pins'] = pins
        stamp['paths'].update(probe_all(stamp['pin_files'], stamp['key']))
        try:
            before = os.stat(module.params['path'])
            save(module.params['path'], stamp)
            keep_age(module.params['path'], before)
        except OSError as exc:
            module.fail_json(msg='Could not update the converge stamp %s: %s' % (module.params['path'], exc))
    result.update(changed=bool(result['files']), applied=True, reasons=[])
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
