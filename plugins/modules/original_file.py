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
  - Runs as the user who owns the home (C(become_user)), and refuses to run as anyone else, so nothing in a record
    can make it write with more rights than the user's. Reads only regular files, up to 1 MiB.
  - The record directory and the records are reached from the home without following a symbolic link, read only
    when they are regular files of the user, bounded, and checked field by field before use. A record that is
    not what this module wrote (edited, planted, truncated) is not used; the file keeps what the removal left, the
    record stays, and the run says which record and why. A record listed in the directory's index but gone is
    reported too. A record is never trusted for where to write; the file is the one at O(path) now, inside O(home).
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
    description:
      - The user file, an absolute path inside O(home). A symbolic link is followed with the user's rights (its target
        is recorded); at uninstall the file is given back only when the link still leads to the recorded target, inside
        O(home).
    type: path
    required: true
  home:
    description: The user's home directory; parent directories are tracked up to it.
    type: path
    required: true
  record_dir:
    description: Directory of the records, inside O(home) (created C(0700) when missing, with an C(index.json) of what it records).
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
      since), V(none) (no record), V(unrecorded) (the record directory cannot be reached safely, so uninstall will only
      remove the managed content), V(unusable) (a record that fails its checks is left alone), V(missing) (the index
      lists a record that is gone).
  type: str
  returned: always
"""

import base64
import binascii
import hashlib
import json
import os
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import home_fs
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.original_file import ProjectionError, leaf_paths, project

MAX_BYTES = 1 << 20
# A record holds up to MAX_BYTES in base64 (4/3 of it) and a few fields; the index a list of paths.
RECORD_CAP = MAX_BYTES * 3 // 2 + 64 * 1024
INDEX = 'index.json'
INDEX_CAP = 256 * 1024


class RecordError(Exception):
    """A record (or the index) that is not what this module wrote."""


def _read(module, path):
    """Bytes and mode of the regular file PATH (following a link, with the user's rights), or (None, None)."""
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


def _record_name(path):
    return hashlib.sha256(path.encode('utf-8', 'surrogateescape')).hexdigest()[:32] + '.json'


def _write_atomic(module, path, data, mode):
    """Replace the user file PATH (as the user) by DATA through a temporary file in its directory."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix='.claude-fleet-')
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        module.fail_json(msg='Cannot write %s: %s' % (path, to_native(exc)), path=path)


def _inside(path, root):
    return path.startswith(root.rstrip('/') + '/')


def _missing_parents(home, path):
    missing, current = [], os.path.dirname(path)
    while _inside(current, home) and not os.path.lexists(current):
        missing.append(current)
        current = os.path.dirname(current)
    return missing


def _open_records(params, create):
    """(directory, created): the record directory reached from the home with no-follow descriptors.

    directory is None when it does not exist and create is false; created lists the directories made for it.
    Raises home_fs.UnsafePath for a symlink, a non-directory or a component owned by someone else on the way.
    """
    relative = os.path.relpath(params['record_dir'], params['home'])
    with home_fs.open_home(params['home'], os.geteuid()) as top:
        current = home_fs.walk(top, '')
    created = []
    try:
        for name in relative.split('/'):
            if current.lstat(name) is None:
                if not create:
                    current.close()
                    return None, []
                created.append(current.child(name))
            following = home_fs.walk(current, name, create_mode=0o700 if create else None)
            current.close()
            current = following
    except BaseException:
        current.close()
        raise
    return current, created


def _paths(value, what):
    if not isinstance(value, list) or not all(isinstance(p, str) and os.path.isabs(p) and os.path.normpath(p) == p for p in value):
        raise RecordError('%s is not a list of absolute paths' % what)
    return value


def _load_index(records):
    """The index {created_dirs, recorded} of the record directory; raises RecordError when it is not ours."""
    try:
        raw = records.read(INDEX, cap=INDEX_CAP)
    except home_fs.UnsafePath as exc:
        raise RecordError(str(exc)) from None
    if raw is None:
        return {'created_dirs': [], 'recorded': []}
    try:
        index = json.loads(raw.decode('utf-8'))
    except ValueError:
        raise RecordError('%s is not valid JSON' % records.child(INDEX)) from None
    if not isinstance(index, dict):
        raise RecordError('%s is not a JSON object' % records.child(INDEX))
    return {'created_dirs': _paths(index.get('created_dirs', []), 'created_dirs'), 'recorded': _paths(index.get('recorded', []), 'recorded')}


def _parse_record(raw, params, home):
    """The fields of a record, each checked; raises RecordError naming the first that is not as written."""
    try:
        entry = json.loads(raw.decode('utf-8'))
    except ValueError:
        raise RecordError('not valid JSON') from None
    if not isinstance(entry, dict):
        raise RecordError('not a JSON object')
    if entry.get('path') != params['path']:
        raise RecordError('it is not the record of this file')
    if entry.get('format') != params['format']:
        raise RecordError('it was recorded with format %r' % (entry.get('format'),))
    existed, mode, data = entry.get('existed'), entry.get('mode'), entry.get('data')
    target = entry.get('target')
    if not isinstance(existed, bool):
        raise RecordError('existed is not true or false')
    if not isinstance(target, str) or not os.path.isabs(target) or os.path.normpath(target) != target:
        raise RecordError('target is not an absolute path')
    if mode is not None and (isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o777):
        raise RecordError('mode is not a permission mode (0 to 0777)')
    original = None
    if existed:
        if not isinstance(data, str):
            raise RecordError('data is missing')
        try:
            original = base64.b64decode(data.encode('ascii'), validate=True)
        except (ValueError, binascii.Error):
            raise RecordError('data is not base64') from None
        if len(original) > MAX_BYTES:
            raise RecordError('data is above the %d-byte limit' % MAX_BYTES)
    elif data is not None:
        raise RecordError('a file that did not exist has data')
    created = _paths(entry.get('created_dirs') or [], 'created_dirs')
    # Only directories between the home and the file, deepest first, and only for a file the collection created.
    if existed and created or any(not _inside(d, home) or not _inside(target, d) for d in created) \
            or created != sorted(created, key=len, reverse=True):
        raise RecordError('created_dirs are not directories between the home and the file')
    return {'target': target, 'existed': existed, 'mode': mode, 'original': original, 'created_dirs': created}


def _managed_content_present(data, params):
    """True when the file holds a block of an earlier converge (then its bytes are not the user's original)."""
    begin = params['marker'].replace('{mark}', 'BEGIN').encode('utf-8')
    return data is not None and params['format'] == 'lines' and begin in data.replace(b'\r\n', b'\n').split(b'\n')


def _unsafe_result(module, exc, action):
    message = 'no record kept of %s: %s; uninstall will only remove the managed content' % (exc.path, exc) if action == 'unrecorded' \
        else 'the records cannot be read safely (%s): only the managed content was removed' % exc
    module.warn(message)
    return {'changed': False, 'action': action, 'msg': message}


def save(module, params, home):
    name = _record_name(params['path'])
    try:
        records, created = _open_records(params, create=not module.check_mode)
    except home_fs.UnsafePath as exc:
        return _unsafe_result(module, exc, 'unrecorded')
    try:
        if records is not None and records.lstat(name) is not None:
            return {'changed': False, 'action': 'kept'}
        target = os.path.realpath(params['path'])
        data, mode = _read(module, target)
        if not params['pristine'] or _managed_content_present(data, params):
            return {'changed': False, 'action': 'skipped'}
        if module.check_mode:
            return {'changed': True, 'action': 'recorded'}
        entry = {'path': params['path'], 'target': target, 'existed': data is not None, 'mode': mode,
                 'data': base64.b64encode(data).decode('ascii') if data is not None else None,
                 'created_dirs': _missing_parents(home, target) if data is None else [], 'format': params['format']}
        try:
            index = _load_index(records)
        except RecordError as exc:
            module.warn('%s; it is written anew' % exc)
            index = {'created_dirs': [], 'recorded': []}
        # The record directory's own new parents are removed with the last record.
        index['created_dirs'] = index['created_dirs'] or sorted(created, key=len, reverse=True)
        index['recorded'] = sorted(set(index['recorded']) | {params['path']})
        try:
            records.write(name, json.dumps(entry).encode('utf-8'), mode=0o600)
            records.write(INDEX, json.dumps(index, sort_keys=True).encode('utf-8'), mode=0o600)
        except home_fs.UnsafePath as exc:
            module.fail_json(msg=str(exc), path=exc.path)
        return {'changed': True, 'action': 'recorded'}
    finally:
        if records is not None:
            records.close()


def _remove_empty(directories):
    for directory in directories:  # deepest first
        try:
            os.rmdir(directory)
        except OSError:
            break


def _give_back(module, params, home, entry):
    """Compare and give back one file; returns the action."""
    target = os.path.realpath(params['path'])
    if target != entry['target']:
        return 'left', '%s leads elsewhere than when it was recorded: only the managed content was removed' % params['path']
    current, _mode = _read(module, target)
    original = entry['original']
    try:
        same = project(current, params['format'], params['managed'], params['marker']) == \
            project(original, params['format'], params['managed'], params['marker'])
    except ProjectionError:
        same = False  # the user broke the file since: leave it as it is
    if not same:
        return 'left', '%s was changed by its user since the first converge: only the managed content was removed' % params['path']
    if current == original:
        action = 'kept'
    elif not _inside(target, home):
        return 'left', '%s leads outside the home: only the managed content was removed' % params['path']
    else:
        action = 'restored' if original is not None else 'removed'
    if not module.check_mode:
        if action == 'restored':
            _write_atomic(module, target, original, entry['mode'] if entry['mode'] is not None else 0o600)
        elif action == 'removed':
            os.unlink(target)
        if original is None:
            _remove_empty(entry['created_dirs'])
    return action, None


def restore(module, params, home):
    name = _record_name(params['path'])
    try:
        records, _created = _open_records(params, create=False)
    except home_fs.UnsafePath as exc:
        return _unsafe_result(module, exc, 'unusable')
    if records is None:
        return {'changed': False, 'action': 'none'}
    message, index = None, None
    try:
        try:
            index = _load_index(records)
        except RecordError as exc:
            module.warn('%s: the directories it lists are left in place' % exc)
        try:
            raw = records.read(name, cap=RECORD_CAP)
            entry = _parse_record(raw, params, home) if raw is not None else None
        except (home_fs.UnsafePath, RecordError) as exc:
            message = 'the record %s of %s is not usable (%s): only the managed content was removed; delete the record to ' \
                'clear this' % (records.child(name), params['path'], exc)
            module.warn(message)
            return {'changed': False, 'action': 'unusable', 'msg': message}
        if entry is None:
            if index is None or params['path'] not in index['recorded']:
                return {'changed': False, 'action': 'none'}
            action = 'missing'
            message = 'the record of %s is gone: only the managed content was removed' % params['path']
            module.warn(message)
        else:
            action, message = _give_back(module, params, home, entry)
        if module.check_mode:
            return _result(module, action, message)
        records.remove(name)
        if index is not None:
            index['recorded'] = [p for p in index['recorded'] if p != params['path']]
            remaining = [n for n in os.listdir(records.fd) if n.endswith('.json') and n != INDEX]
            if remaining or index['recorded']:
                records.write(INDEX, json.dumps(index, sort_keys=True).encode('utf-8'), mode=0o600)
            else:
                records.remove(INDEX)
                records.close()
                # Only the record directory and its parents up to the home, deepest first.
                _remove_empty([d for d in index['created_dirs'] if _inside(params['record_dir'] + '/', d + '/') and _inside(d, home)])
    except home_fs.UnsafePath as exc:
        module.fail_json(msg=str(exc), path=exc.path)
    finally:
        records.close()
    return _result(module, action, message)


def _result(module, action, message):
    # Deleting the record is a change too, except in check mode, which deletes nothing.
    result = {'changed': action in ('restored', 'removed') or not module.check_mode, 'action': action}
    if message:
        result['msg'] = message
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
        params[name] = os.path.normpath(params[name])
    for name in ('path', 'record_dir'):
        if not _inside(params[name], params['home']):
            module.fail_json(msg='%s must be inside home (%s): %s' % (name, params['home'], params[name]))
    try:
        owner = os.stat(params['home']).st_uid
    except OSError as exc:
        module.fail_json(msg='Cannot read the home directory %s: %s' % (params['home'], to_native(exc)))
    if owner != os.geteuid():
        module.fail_json(msg='original_file runs as the user who owns %s (become_user): it runs as uid %d, the home belongs to uid %d'
                         % (params['home'], os.geteuid(), owner))
    params['managed'] = list(params['managed']) + leaf_paths(params['managed_settings'])
    home = os.path.realpath(params['home'])
    result = save(module, params, home) if params['state'] == 'saved' else restore(module, params, home)
    module.exit_json(path=params['path'], **result)


if __name__ == '__main__':
    main()
