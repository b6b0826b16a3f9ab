#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: claude_settings
short_description: Merge managed keys into a JSON settings file such as Claude Code's settings.json
version_added: 0.1.0
description:
  - Deep-merges the keys given in O(settings) (and O(secret_settings)) into a JSON file, for example
    C(~/.claude/settings.json) or C(/etc/claude-code/managed-settings.json), keeping every other key of
    the file and the order of its keys.
  - Compares parsed data, not text, and rewrites the file only when the data differ. The new file is
    written next to the old one and moved into place atomically.
  - Can remove keys it manages, with O(remove) or with O(state=absent).
  - A file that is not valid JSON, or whose top-level value is not an object, makes the module fail with
    a message naming the file and the line and column of the error; the file is left untouched.
  - An empty (or whitespace-only) file is treated as an empty object.
  - New files and rewritten files are serialised like C(JSON.stringify(data, null, indent)), the format
    Claude Code itself writes. Files whose data do not change are never rewritten, whatever their format.
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.files
  - ansible.builtin.action_common_attributes
  - claude_fleet.bedrock.attributes
attributes:
  diff_mode:
    details:
      - The diff shows the whole file as JSON text before and after. Values of O(secret_settings) are masked.
options:
  path:
    description:
      - Path of the JSON file. It is created when missing and O(state=present), unless O(create=false).
    type: path
    required: true
    aliases: [dest]
  settings:
    description:
      - The managed keys, as a nested dictionary.
      - Objects are merged key by key, recursively. Any other value (string, number, boolean, null, array)
        replaces the value in the file; see O(list_merge) for arrays.
      - With O(state=absent), every leaf key path of this dictionary is removed instead (the values are ignored).
    type: dict
    default: {}
  secret_settings:
    description:
      - Like O(settings), for values that must never be shown (tokens, keys, headers with credentials).
      - Merged after O(settings). Its values are masked in the module's output, including the diff.
      - "Set C(no_log: true) on the task as well, so that nothing about the task is shown, not even with C(-vvv)."
    type: dict
    default: {}
  remove:
    description:
      - Key paths to remove from the file, after the merge. A key path is either a string of keys joined
        by dots (V(env.ANTHROPIC_MODEL)) or a list of keys (V([env, ANTHROPIC_MODEL])) for keys that contain dots.
      - Objects that become empty because of a removal are removed too.
      - Paths that do not exist are ignored.
    type: list
    elements: raw
    default: []
  state:
    description:
      - V(present) merges O(settings) and O(secret_settings), then removes O(remove).
      - V(absent) removes O(remove) and every leaf key path of O(settings) and O(secret_settings).
        A missing file stays missing.
    type: str
    choices: [present, absent]
    default: present
  list_merge:
    description:
      - How a managed array is combined with an array already in the file.
      - V(replace) makes the file's array equal to the managed one.
      - V(append_unique) appends the managed items that are not in the file's array yet, keeping the user's items.
    type: str
    choices: [replace, append_unique]
    default: replace
  indent:
    description:
      - Indentation used when the file is written.
      - By default the indentation of the existing file is kept (spaces or a tab), and new files use 2 spaces.
    type: int
  create:
    description:
      - Create the file when it does not exist. With V(false) a missing file is an error when O(state=present).
    type: bool
    default: true
  create_parents:
    description:
      - Create missing parent directories. They get O(owner) and O(group) and mode V(0755) less the umask.
      - With V(false) a missing parent directory is an error.
    type: bool
    default: false
  follow:
    description:
      - When O(path) is a symbolic link, edit the file it points to and keep the link (the default).
        This suits files kept in a dotfiles repository.
      - With V(false) the link itself is replaced by a regular file.
    type: bool
    default: true
  backup:
    description:
      - Keep a timestamped copy of the previous file when the module changes it.
    type: bool
    default: false
notes:
  - Values are written as given. Claude Code expects the values of its C(env) object to be strings.
  - In check mode a missing parent directory is not an error, because an earlier task that check mode
    did not run may create it.
  - Comparison is type-aware, so V(true) and V(1) are different values, as are V(1) and V(1.0).
seealso:
  - module: community.general.ini_file
  - name: Claude Code settings
    description: Settings files and their precedence.
    link: https://docs.anthropic.com/en/docs/claude-code/settings
"""

EXAMPLES = r"""
- name: Point Claude Code at Amazon Bedrock for alice
  claude_fleet.bedrock.claude_settings:
    path: /home/alice/.claude/settings.json
    owner: alice
    group: alice
    mode: "0600"
    settings:
      env:
        CLAUDE_CODE_USE_BEDROCK: "1"
        AWS_REGION: us-east-1
        AWS_PROFILE: bedrock
        ANTHROPIC_MODEL: us.anthropic.claude-sonnet-4-5-20250929-v1:0
      awsAuthRefresh: aws sso login --profile bedrock

- name: Add a Bedrock API key without printing it
  claude_fleet.bedrock.claude_settings:
    path: /home/alice/.claude/settings.json
    mode: "0600"
    secret_settings:
      env:
        AWS_BEARER_TOKEN_BEDROCK: "{{ vault_bedrock_api_key }}"
  no_log: true

- name: Enforce fleet policy in the managed settings file, keeping other administrators' keys
  claude_fleet.bedrock.claude_settings:
    path: /etc/claude-code/managed-settings.json
    create_parents: true
    owner: root
    group: root
    mode: "0644"
    list_merge: append_unique
    settings:
      env:
        CLAUDE_CODE_USE_BEDROCK: "1"
        DISABLE_AUTOUPDATER: "1"
      permissions:
        deny:
          - Read(./.env)

- name: Stop managing the model pins (keys whose names contain dots use the list form)
  claude_fleet.bedrock.claude_settings:
    path: /home/alice/.claude/settings.json
    remove:
      - env.ANTHROPIC_MODEL
      - [env, ANTHROPIC_DEFAULT_HAIKU_MODEL]

- name: Remove everything this play manages
  claude_fleet.bedrock.claude_settings:
    path: /home/alice/.claude/settings.json
    state: absent
    settings:
      env:
        CLAUDE_CODE_USE_BEDROCK: "1"
        AWS_REGION: us-east-1
      awsAuthRefresh: ""
"""

RETURN = r"""
path:
  description: The file that was (or would be) edited, after following symbolic links.
  returned: always
  type: str
  sample: /home/alice/dotfiles/claude/settings.json
changed_keys:
  description:
    - Dotted key paths that were (or in check mode would be) added, changed or removed.
    - For merged objects these are the leaves; for replaced values the key holding them.
  returned: always
  type: list
  elements: str
  sample: [env.AWS_REGION, env.ANTHROPIC_MODEL, awsAuthRefresh]
backup_file:
  description: Name of the backup copy of the previous file.
  returned: when O(backup=true) and the file was changed
  type: str
  sample: /home/alice/.claude/settings.json.12345.2026-01-01@10:00:00~
diff:
  description: The file before and after, as JSON text.
  returned: in diff mode
  type: dict
  contains:
    before:
      description: Text of the file before the change (empty when the file did not exist).
      type: str
    after:
      description: Text the file has (or would have) after the change.
      type: str
    before_header:
      description: Path of the file.
      type: str
    after_header:
      description: Path of the file.
      type: str
"""

import os
import re
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import home_fs
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.claude_settings import (
    SettingsDocument,
    SettingsFileError,
    normalize_key_path,
    plan_settings,
    read_document,
    render_document,
    write_document,
)


def _read(module, path, shown):
    """The settings document at path (a regular file of at most home_fs.READ_CAP bytes, never a FIFO or device)."""
    directory = None
    try:
        directory = home_fs.open_path_dir(os.path.dirname(os.path.abspath(path)))
        if directory is None:
            return SettingsDocument(path)
        return read_document(directory, os.path.basename(path))
    except home_fs.UnsafePath as exc:
        msg = to_native(exc)
        if shown != path:
            msg = '%s (%s links to it)' % (msg, shown)
        module.fail_json(msg=msg, path=shown)
    except SettingsFileError as exc:
        module.fail_json(msg=to_native(exc), path=path, line=exc.lineno, column=exc.colno)
    finally:
        if directory is not None:
            directory.close()


def _octal_mode(mode):
    """The mode option as a number when it is one (0600, "0600"); None for symbolic modes."""
    if isinstance(mode, int):
        return mode
    if isinstance(mode, str) and re.match(r'^0?[0-7]{3,4}$', mode):
        return int(mode, 8)
    return None


def _new_file_mode():
    umask = os.umask(0o077)
    os.umask(umask)
    return 0o666 & ~umask


def _make_parents(module, directory, file_args):
    """Create missing parent directories (not in check mode), giving them the file's owner and group."""
    missing = []
    current = directory
    while current and not os.path.exists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if not missing or module.check_mode:
        return bool(missing)
    for new_dir in reversed(missing):
        try:
            os.mkdir(new_dir, 0o755)
        except OSError as exc:
            module.fail_json(msg='Cannot create directory %s: %s' % (new_dir, to_native(exc)))
        module.set_owner_if_different(new_dir, file_args.get('owner'), False)
        module.set_group_if_different(new_dir, file_args.get('group'), False)
    return True


def _write(module, path, text, mode, replace_link):
    """Write through the directory descriptor: the final mode from the start, then an atomic rename."""
    directory = None
    try:
        directory = home_fs.open_path_dir(os.path.dirname(os.path.abspath(path)))
        if directory is None:
            module.fail_json(msg='Directory %s of %s does not exist' % (os.path.dirname(path), path), path=path)
        write_document(directory, os.path.basename(path), text, mode=mode, replace_link=replace_link)
    except home_fs.UnsafePath as exc:
        module.fail_json(msg=to_native(exc), path=path, traceback=traceback.format_exc())
    finally:
        if directory is not None:
            directory.close()


def run_module(module):
    params = module.params
    path = params['path']
    target = os.path.realpath(path) if params['follow'] and os.path.islink(path) else path

    for raw in params['remove']:
        try:
            normalize_key_path(raw)
        except ValueError as exc:
            module.fail_json(msg='remove: %s' % to_native(exc))

    result = dict(changed=False, path=target, changed_keys=[])
    # follow=false reads what the link shows (as before) but replaces the link itself.
    document = _read(module, os.path.realpath(path) if os.path.islink(path) else target, path)
    exists = document.exists
    if not exists and params['state'] == 'absent':
        if module._diff:
            result['diff'] = dict(before='', after='', before_header=target, after_header=target)
        module.exit_json(**result)
    if not exists and not params['create']:
        module.fail_json(msg='%s does not exist and create=false' % target, path=target)
    before = document.data

    managed = dict(params['settings'] or {})
    secret = params['secret_settings'] or {}
    if secret:
        # merge the secret part in a second step so nested objects combine rather than replace
        managed = plan_settings(managed, secret)[0]
    after, changed_keys = plan_settings(before, managed, params['remove'], params['state'], params['list_merge'])

    data_changed = bool(changed_keys) or not exists
    new_text = render_document(document, after, params['indent']) if data_changed else document.raw_text

    result['changed_keys'] = changed_keys
    if module._diff:
        result['diff'] = dict(before=document.raw_text, after=new_text, before_header=target, after_header=target)

    file_args = module.load_file_common_arguments(params, path=target)
    if data_changed:
        directory = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(directory):
            if not params['create_parents'] and not module.check_mode:
                module.fail_json(msg='Directory %s of %s does not exist; set create_parents=true to create it'
                                 % (directory, target), path=target)
            if params['create_parents']:
                _make_parents(module, directory, file_args)
        if not module.check_mode:
            if params['backup'] and exists:
                result['backup_file'] = module.backup_local(target)
            mode = _octal_mode(file_args.get('mode'))
            if mode is None and not exists:
                mode = _new_file_mode()
            _write(module, target, new_text, mode, replace_link=not params['follow'])
        result['changed'] = True

    if os.path.exists(target):
        result['changed'] = module.set_fs_attributes_if_different(file_args, result['changed'])
    result['msg'] = _message(result, exists, data_changed)
    module.exit_json(**result)


def _message(result, exists, data_changed):
    if not data_changed:
        return 'attributes changed' if result['changed'] else 'settings already up to date'
    if not exists:
        return 'file created'
    return '%d key(s) changed' % len(result['changed_keys'])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True, aliases=['dest']),
            settings=dict(type='dict', default={}),
            secret_settings=dict(type='dict', default={}, no_log=True),
            remove=dict(type='list', elements='raw', default=[]),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            list_merge=dict(type='str', choices=['replace', 'append_unique'], default='replace'),
            indent=dict(type='int'),
            create=dict(type='bool', default=True),
            create_parents=dict(type='bool', default=False),
            follow=dict(type='bool', default=True),
            backup=dict(type='bool', default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    run_module(module)


if __name__ == '__main__':
    main()
