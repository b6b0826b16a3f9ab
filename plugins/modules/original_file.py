#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: original_file
short_description: Keep a user file's pre-converge bytes, and give them back at uninstall
version_added: 0.2.0
description:
  - With O(state=saved), before the first converge edit of O(path), records whether the file existed, its
    bytes and mode, and which of its parent directories (up to O(home)) did not exist, in a C(0600) record
    under O(record_dir). A path that already has a record is left alone, so later runs keep the first bytes.
  - With O(state=restored), after the uninstall removed the managed content, compares the file's
    "unmanaged projection" (the file without what the collection manages, see O(format)) with the
    projection of the recorded bytes. When they are equal the user changed nothing else since, and the
    recorded bytes are written back (final newline, CRLF, BOM, JSON layout included); a file the collection
    created is removed, with the directories it created when they are empty. When they differ the file
    stays as the uninstall left it. The record is then deleted.
  - Runs as the user who owns the home (C(become_user)); reads only regular files, up to 1 MiB.
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  path:
    description: The user file, an absolute path inside O(home). A symbolic link is followed (its target is recorded and restored).
    type: path
    required: true
  home:
    description: The user's home directory; parent directories are tracked up to it.
    type: path
    required: true
  record_dir:
    description: Directory of the records (created C(0700) when missing).
    type: path
    required: true
  state:
    description: V(saved) records the file unless it has a record; V(restored) gives it back and deletes the record.
    type: str
    choices: [saved, restored]
    required: true
  format:
    description:
      - How the unmanaged projection is computed. V(lines) cuts the blocks of O(marker); V(json) drops the
        O(managed) key paths; V(ini) drops the O(managed) C([section, option]) pairs and sections left empty.
        Line endings, a BOM, blank lines (ini) and the final newline never count as a user change.
    type: str
    choices: [lines, json, ini]
    default: lines
  managed:
    description: For V(json), key paths (dotted strings or lists); for V(ini), C([section, option]) pairs.
    type: list
    elements: raw
    default: []
  managed_settings:
    description: For V(json), a nested mapping whose leaf key paths are managed too (the settings the role merges).
    type: dict
    default: {}
  marker:
    description: For V(lines), the block marker with C({mark}).
    type: str
    default: '# {mark} ANSIBLE MANAGED BLOCK'
  pristine:
    description:
      - V(false) when the home was converged before records existed (an older release). No record is made then, since
        the file's bytes may already hold managed content. Ignored with O(state=restored).
    type: bool
    default: true
notes:
  - A home that already holds managed content when the first record is made (converged by an older release) gets
    no record for that file, so uninstall only removes the managed content there.
"""

EXAMPLES = r"""
- name: Keep ~/.bashrc as it was before the first converge
  claude_fleet.bedrock.original_file:
    path: /home/alice/.bashrc
    home: /home/alice
    record_dir: /home/alice/.local/state/claude-fleet/originals
    state: saved
    format: lines
    marker: "# {mark} ANSIBLE MANAGED BLOCK claude_fleet.bedrock"
"""

RETURN = r"""
action:
  description:
    - What was done. V(recorded), V(kept) (a record exists, or the file was already as recorded), V(skipped) (managed
      content already there), V(restored), V(removed) (the collection had created it), V(left) (the user changed it
      since), V(none) (no record).
  type: str
  returned: always
"""

import base64
import hashlib
import json
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.original_file import ProjectionError, leaf_paths, project

MAX_BYTES = 1 << 20


def _read(module, path):
    """Bytes of the regular file PATH (following a link), or None when it does not exist."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None, None
    if not stat.S_ISREG(info.st_mode):
        module.fail_json(msg='not a regular file: %s' % path, path=path)
    if info.st_size > MAX_BYTES:
        module.fail_json(msg='%s is %d bytes, above the %d-byte limit for a user file' % (path, info.st_size, MAX_BYTES), path=path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            module.fail_json(msg='not a regular file: %s' % path, path=path)
        chunks, size = [], 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > MAX_BYTES:
        module.fail_json(msg='%s grew above the %d-byte limit for a user file' % (path, MAX_BYTES), path=path)
    return b''.join(chunks), stat.S_IMODE(info.st_mode)


def _record_path(record_dir, path):
    return os.path.join(record_dir, hashlib.sha256(path.encode('utf-8', 'surrogateescape')).hexdigest()[:32] + '.json')


def _write_atomic(module, path, data, mode):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.claude-fleet-')
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        module.fail_json(msg='Cannot write %s: %s' % (path, to_native(exc)), path=path)


def _missing_parents(home, path):
    missing, current = [], os.path.dirname(path)
    while current.startswith(home.rstrip('/') + '/') and not os.path.lexists(current):
        missing.append(current)
        current = os.path.dirname(current)
    return missing


def _managed_content_present(data, params):
    """True when the file holds a block of an earlier converge (then its bytes are not the user's original)."""
    begin = params['marker'].replace('{mark}', 'BEGIN').encode('utf-8')
    return data is not None and params['format'] == 'lines' and begin in data.replace(b'\r\n', b'\n').split(b'\n')


def save(module, params, record):
    if os.path.lexists(record):
        return {'changed': False, 'action': 'kept'}
    target = os.path.realpath(params['path'])
    data, mode = _read(module, target)
    if not params['pristine'] or _managed_content_present(data, params):
        return {'changed': False, 'action': 'skipped'}
    entry = {'path': params['path'], 'target': target, 'existed': data is not None, 'mode': mode,
             'data': base64.b64encode(data).decode('ascii') if data is not None else None,
             'created_dirs': _missing_parents(params['home'], target), 'format': params['format']}
    if not module.check_mode:
        created = _missing_parents(params['home'], os.path.join(params['record_dir'], 'x'))
        for directory in reversed(created):
            os.mkdir(directory, 0o700)
        if created:
            # The record directory's own new parents are removed with the last record.
            _write_atomic(module, os.path.join(params['record_dir'], 'created-dirs.json'),
                          json.dumps(created).encode('utf-8'), 0o600)
        _write_atomic(module, record, json.dumps(entry).encode('utf-8'), 0o600)
    return {'changed': True, 'action': 'recorded'}


def _remove_empty(directories):
    for directory in directories:  # deepest first
        try:
            os.rmdir(directory)
        except OSError:
            break


def restore(module, params, record):
    if not os.path.lexists(record):
        return {'changed': False, 'action': 'none'}
    entry, _mode = _read(module, record)
    try:
        entry = json.loads(entry)
    except ValueError:
        module.fail_json(msg='%s is not a valid record; delete it to uninstall without restoring %s' % (record, params['path']), path=record)
    target = entry['target']
    current, _mode = _read(module, target)
    original = base64.b64decode(entry['data']) if entry['existed'] else None
    try:
        same = project(current, params['format'], params['managed'], params['marker']) == \
            project(original, params['format'], params['managed'], params['marker'])
    except ProjectionError:
        same = False  # the user broke the file since: leave it as it is
    action = 'left'
    if same and original is not None:
        action = 'restored' if current != original else 'kept'
        if current != original and not module.check_mode:
            _write_atomic(module, target, original, entry['mode'] if entry['mode'] is not None else 0o600)
    elif same and current is not None:
        action = 'removed'
        if not module.check_mode:
            os.unlink(target)
    elif same:
        action = 'kept'
    if not module.check_mode:
        if action in ('removed', 'kept') and original is None:
            _remove_empty(entry.get('created_dirs') or [])
        os.unlink(record)
        remaining = [n for n in os.listdir(params['record_dir']) if n.endswith('.json') and n != 'created-dirs.json']
        if not remaining:
            created_file = os.path.join(params['record_dir'], 'created-dirs.json')
            created, _mode = _read(module, created_file)
            if created is not None:
                os.unlink(created_file)
                _remove_empty(json.loads(created))
    # Deleting the record is a change too, except in check mode, which deletes nothing.
    result = {'changed': action in ('restored', 'removed') or not module.check_mode, 'action': action}
    if action == 'left':
        result['msg'] = '%s was changed by its user since the first converge: only the managed content was removed' % params['path']
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            home=dict(type='path', required=True),
            record_dir=dict(type='path', required=True),
            state=dict(type='str', required=True, choices=['saved', 'restored']),
            format=dict(type='str', default='lines', choices=['lines', 'json', 'ini']),
            managed=dict(type='list', elements='raw', default=[]),
            managed_settings=dict(type='dict', default={}),
            marker=dict(type='str', default='# {mark} ANSIBLE MANAGED BLOCK'),
            pristine=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    for name in ('path', 'home', 'record_dir'):
        if not os.path.isabs(params[name]):
            module.fail_json(msg='%s must be an absolute path' % name)
    params['managed'] = list(params['managed']) + leaf_paths(params['managed_settings'])
    record = _record_path(params['record_dir'], params['path'])
    result = save(module, params, record) if params['state'] == 'saved' else restore(module, params, record)
    module.exit_json(path=params['path'], **result)


if __name__ == '__main__':
    main()
