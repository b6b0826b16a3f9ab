# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""home_file: root writes and removes the client certificate and key without following what the user planted."""
from __future__ import annotations

import json
import os
import pwd
import stat

import pytest


from ansible_collections.claude_fleet.bedrock.plugins.modules import home_file

from module_runner import run_module

KEY = '-----BEGIN PRIVATE KEY-----\nMIIsecret\n-----END PRIVATE KEY-----\n'


@pytest.fixture
def call(tmp_path, capsys):
    def _call(check=False, **args):
        args.update(_ansible_tmpdir=str(tmp_path), _ansible_check_mode=check)
        rc, result = run_module(home_file, capsys, args)
        result['rc'] = rc
        return result
    return _call


@pytest.fixture
def home(tmp_path):
    os.chmod(tmp_path, 0o755)
    root = tmp_path / 'home'
    (root / '.claude').mkdir(parents=True)
    user = pwd.getpwuid(65534 if os.geteuid() == 0 else os.getuid())
    if os.geteuid() == 0:
        os.chown(root, user.pw_uid, user.pw_gid)
        os.chown(root / '.claude', user.pw_uid, user.pw_gid)
    return root, user


def test_writes_the_key_owned_by_the_user_0600_idempotently_and_never_shows_it(call, home):
    root, user = home
    args = dict(home=str(root), owner=user.pw_name, path='.claude/client-key.pem', content=KEY)
    assert call(check=True, **args)['changed'] is True and not (root / '.claude' / 'client-key.pem').exists()
    result = call(**args)
    assert result['changed'] is True and result['path'] == str(root / '.claude' / 'client-key.pem')
    assert 'MIIsecret' not in json.dumps(result)
    info = os.stat(root / '.claude' / 'client-key.pem')
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (user.pw_uid, user.pw_gid, 0o600)
    assert (root / '.claude' / 'client-key.pem').read_text() == KEY
    assert call(**args)['changed'] is False
    assert call(home=str(root), owner=user.pw_name, path='.claude/client-key.pem', state='absent')['changed'] is True
    assert not (root / '.claude' / 'client-key.pem').exists()
    assert call(home=str(root), owner=user.pw_name, path='.claude/client-key.pem', state='absent')['changed'] is False


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_a_claude_link_to_a_root_directory_is_refused_and_left_alone(call, home, tmp_path, state):
    root, user = home
    target = tmp_path / 'etc-ssl-certs'
    target.mkdir()
    (target / 'client-key.pem').write_text('root file\n')
    os.rmdir(root / '.claude')
    os.symlink(target, root / '.claude')
    args = dict(home=str(root), owner=user.pw_name, path='.claude/client-key.pem', state=state)
    if state == 'present':
        args['content'] = KEY
    result = call(**args)
    assert result['rc'] == 1 and result['msg'] == 'refusing %s: .claude is a symlink' % (root / '.claude')
    assert result['path'] == str(root / '.claude')
    assert os.listdir(target) == ['client-key.pem'] and (target / 'client-key.pem').read_text() == 'root file\n'
    assert os.readlink(root / '.claude') == str(target)


@pytest.mark.parametrize('state', ['present', 'absent'])
def test_a_link_or_fifo_at_the_file_is_refused_and_left_alone(call, home, tmp_path, state):
    root, user = home
    os.symlink('/etc/passwd', root / '.claude' / 'client-key.pem')
    os.mkfifo(root / '.claude' / 'client-cert.pem')
    for name, reason in (('client-key.pem', 'refusing {p}: client-key.pem is a symlink'), ('client-cert.pem', 'not a regular file: {p} (a FIFO)')):
        args = dict(home=str(root), owner=user.pw_name, path='.claude/' + name, state=state)
        if state == 'present':
            args['content'] = KEY
        result = call(**args)
        assert result['rc'] == 1 and result['msg'] == reason.format(p=root / '.claude' / name)
    assert os.path.islink(root / '.claude' / 'client-key.pem') and stat.S_ISFIFO(os.lstat(root / '.claude' / 'client-cert.pem').st_mode)


def test_paths_outside_the_home_are_rejected(call, home):
    root, user = home
    result = call(home=str(root), owner=user.pw_name, path='../x.pem', content=KEY)
    assert result['rc'] == 1 and 'without ..' in result['msg']
