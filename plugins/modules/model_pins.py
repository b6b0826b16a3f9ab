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
  - Each file is read and written with the user and group id of the owner of its directory (the user's
    C(~/.claude)), atomically, keeping its mode, so a symbolic link cannot make it touch another user's file.
    A file that is not valid JSON is left untouched and the roles run (and report it).
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  path:
    description: Path of the converge stamp.
    type: path
    default: /var/lib/claude_fleet/converge.json
  fingerprint:
    description: Digest of this run's inputs without the pin variables.
    type: str
    required: true
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
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.claude_settings import (
    DEFAULT_INDENT, SettingsParseError, detect_indent, dump_settings, parse_settings, plan_settings)
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.converge_stamp import (
    as_user, evaluate, load, probe_all, save)


def _owner(path):
    """uid and gid to act as: the owner of the directory holding the file (the user's ~/.claude).

    Not the file's own owner: a link the user planted may point at a file of root's.
    """
    info = os.lstat(os.path.dirname(path))
    if info.st_uid == 0:
        raise ValueError('its directory is owned by root; the settings role handles it')
    return info.st_uid, info.st_gid


def _plan(path, pins):
    """(real path, old text, new text or None when unchanged) for one file; raises ValueError when unusable."""
    real = os.path.realpath(path)
    with open(real, 'r', encoding='utf-8') as handle:
        text = handle.read()
    try:
        before = parse_settings(text)
    except SettingsParseError as exc:
        raise ValueError('%s is not valid JSON (%s)' % (real, exc.reason))
    settings = {'env': {k: v for k, v in pins.items() if v}}
    remove = [['env', k] for k, v in pins.items() if not v]
    after, changed = plan_settings(before, settings, remove)
    if not changed:
        return real, text, None
    trailing = text.endswith('\n') if text.strip() else True
    indent = detect_indent(text) if text.strip() else DEFAULT_INDENT
    return real, text, dump_settings(after, indent, trailing)


def _write(real, text):
    """Replace real atomically with text, keeping its mode (run as the file's owner)."""
    mode = os.stat(real).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(real), prefix='.settings-')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        os.unlink(tmp)
        raise


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', default='/var/lib/claude_fleet/converge.json'),
            fingerprint=dict(type='str', required=True, no_log=True),
            pins=dict(type='dict', required=True),
        ),
        supports_check_mode=True,
    )
    pins = {str(k): '' if v is None else str(v) for k, v in module.params['pins'].items()}
    stamp = load(module.params['path'])
    current, reasons, pins_differ = evaluate(stamp, module.params['fingerprint'], pins)
    result = dict(changed=False, applied=current, files=[], reasons=reasons, facts=(stamp or {}).get('facts') or {}, pins_changed=[])
    if current or not pins_differ:
        module.exit_json(**result)
    result['pins_changed'] = sorted(k for k in set(pins) | set(stamp['pins']) if pins.get(k, '') != stamp['pins'].get(k, ''))

    plans = []
    for path in stamp.get('pin_files') or []:
        try:
            uid, gid = _owner(path)
            with as_user(uid, gid):
                plans.append((path, uid, gid) + _plan(path, pins))
        except (OSError, ValueError, KeyError) as exc:
            result['reasons'] = ['cannot apply the model pins to %s: %s' % (path, exc)]
            module.exit_json(**result)

    diffs = []
    for path, uid, gid, real, old, new in plans:
        if new is None:
            continue
        result['files'].append(real)
        diffs.append(dict(before=old, after=new, before_header=real, after_header=real))
        if not module.check_mode:
            try:
                with as_user(uid, gid):
                    _write(real, new)
            except OSError as exc:
                module.fail_json(msg='Could not write the model pins into %s: %s' % (real, exc), files=result['files'])
    if not module.check_mode:
        stamp['pins'] = pins
        stamp['paths'].update(probe_all(stamp['pin_files']))
        try:
            save(module.params['path'], stamp)
        except OSError as exc:
            module.fail_json(msg='Could not update the converge stamp %s: %s' % (module.params['path'], exc))
    result.update(changed=bool(result['files']), applied=True, reasons=[])
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
