#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: home_file
short_description: Write or remove a file in a user's home as root, without following anything the user planted
version_added: 0.1.0
description:
  - Writes O(content) to O(path) under O(home), owned by O(owner), or removes it, for files that root must
    write in a home (the settings role's client certificate and key, whose content the user must not be
    able to redirect).
  - The home is opened by its path (from the user database, which root controls); every directory below it
    is opened relative to the one before with C(O_NOFOLLOW) and must be a real directory owned by O(owner)
    or root. The file itself must be a regular file owned by O(owner) (or root, with a single link), at
    most 1 MiB. A symbolic link, FIFO, device or directory anywhere on the way fails the task with the path
    and the reason, and is left as it is.
  - The file is written to a new temporary file in the same directory, with its owner and mode set before
    any content, fsync'ed and renamed into place through the directory descriptor.
  - The module never blocks on what it finds; FIFOs and devices are never opened for reading.
author:
  - claude_fleet maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - claude_fleet.bedrock.attributes
attributes:
  diff_mode:
    support: none
options:
  home:
    description: The user's home directory, as the user database gives it.
    type: path
    required: true
  path:
    description: Path of the file relative to O(home), for example V(.claude/client-key.pem). No C(..) components.
    type: str
    required: true
  owner:
    description: Name of the user who owns the home; the file and any directory created get this user and the user's primary group.
    type: str
    required: true
  content:
    description:
      - Content of the file when O(state=present). It is never returned or shown (it is treated as a secret).
    type: str
  mode:
    description: Mode of the file, in octal.
    type: raw
    default: "0600"
  state:
    description:
      - V(present) writes the file (creating missing directories 0700, owned by O(owner)).
      - V(absent) removes it when it is a regular file; a missing file or directory is not an error.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Everything else under a home is written as the user (C(become_user)); use this module only for files root must write.
seealso:
  - module: claude_fleet.bedrock.claude_settings
"""

EXAMPLES = r"""
- name: Write alice's client key
  claude_fleet.bedrock.home_file:
    home: /home/alice
    owner: alice
    path: .claude/client-key.pem
    content: "{{ vault_client_key }}"
    mode: "0600"

- name: Remove it again
  claude_fleet.bedrock.home_file:
    home: /home/alice
    owner: alice
    path: .claude/client-key.pem
    state: absent
"""

RETURN = r"""
path:
  description: The full path of the file.
  returned: always
  type: str
  sample: /home/alice/.claude/client-key.pem
"""

import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import home_fs


def _mode(module, raw):
    text = str(raw)
    if isinstance(raw, int):
        return raw
    try:
        value = int(text, 8)
    except ValueError:
        value = -1
    if not 0 <= value <= 0o7777:
        module.fail_json(msg='mode must be an octal number such as 0600, got %s' % text)
    return value


def _present(module, home, relative, uid, gid, content, mode):
    """Whether the file differs from what it should be (written unless in check mode)."""
    directory_path, name = os.path.split(relative)
    with home_fs.open_home(home, uid, gid) as top:
        try:
            directory = home_fs.walk(top, directory_path, None)
        except home_fs.UnsafePath as exc:
            if 'does not exist' not in str(exc):
                raise
            if module.check_mode:
                return True
            directory = home_fs.walk(top, directory_path, 0o700)
        with directory:
            info = directory.lstat(name)
            current = directory.read(name) if info is not None else None
            if current is not None and current == content and stat.S_IMODE(info.st_mode) == mode \
                    and (info.st_uid, info.st_gid) == (uid, gid):
                return False
            if not module.check_mode:
                directory.write(name, content, mode=mode, uid=uid, gid=gid)
            return True


def _absent(module, home, relative, uid, gid):
    directory_path, name = os.path.split(relative)
    with home_fs.open_home(home, uid, gid) as top:
        try:
            directory = home_fs.walk(top, directory_path, None)
        except home_fs.UnsafePath as exc:
            if 'does not exist' in str(exc):
                return False
            raise
        with directory:
            info = directory.lstat(name)
            if info is None:
                return False
            # Refuses (without removing) a link, a FIFO or a directory planted under that name.
            directory.check_leaf(name)
            if not module.check_mode:
                directory.remove(name)
            return True


def main():
    module = AnsibleModule(
        argument_spec=dict(
            home=dict(type='path', required=True),
            path=dict(type='str', required=True),
            owner=dict(type='str', required=True),
            content=dict(type='str', no_log=True),
            mode=dict(type='raw', default='0600'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        required_if=[('state', 'present', ['content'])],
        supports_check_mode=True,
    )
    params = module.params
    home = params['home']
    relative = params['path']
    full = os.path.join(home, relative)
    if not os.path.isabs(home):
        module.fail_json(msg='home must be an absolute path, got %s' % home)
    parts = [part for part in relative.split('/') if part not in ('', '.')]
    if relative.startswith('/') or '..' in parts or not parts:
        module.fail_json(msg='path must be a file path relative to the home without .., got %s' % relative, path=full)
    try:
        entry = pwd.getpwnam(params['owner'])
    except KeyError:
        module.fail_json(msg='owner %s is not in the user database' % params['owner'], path=full)
    try:
        if params['state'] == 'present':
            changed = _present(module, home, '/'.join(parts), entry.pw_uid, entry.pw_gid,
                               to_bytes(params['content'], errors='surrogate_or_strict'), _mode(module, params['mode']))
        else:
            changed = _absent(module, home, '/'.join(parts), entry.pw_uid, entry.pw_gid)
    except home_fs.UnsafePath as exc:
        module.fail_json(msg=to_native(exc), path=exc.path)
    module.exit_json(changed=changed, path=full)


if __name__ == '__main__':
    main()
