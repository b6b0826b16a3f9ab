# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""home_fs: root reaches files in a home without following what the user planted there."""
from __future__ import annotations

import os
import pwd
import signal
import stat

import pytest

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import home_fs

NOBODY = 65534
AS_ROOT = os.geteuid() == 0


@pytest.fixture(autouse=True)
def no_hang():
    """Safety net: a blocking open or read fails the test instead of hanging the suite."""
    def _alarm(_signum, _frame):
        raise AssertionError('blocked: home_fs must never wait on a FIFO or a device')
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def home(tmp_path):
    """A home with ~/.claude/settings.json; owned by the test's user (nobody when run as root)."""
    os.chmod(tmp_path, 0o755)
    root = tmp_path / 'home'
    (root / '.claude').mkdir(parents=True)
    (root / '.claude' / 'settings.json').write_text('{}\n')
    uid = NOBODY if AS_ROOT else os.getuid()
    gid = NOBODY if AS_ROOT else os.getgid()
    if AS_ROOT:
        for directory, _dirs, files in os.walk(root):
            os.chown(directory, uid, gid)
            for name in files:
                os.chown(os.path.join(directory, name), uid, gid)
    outside = tmp_path / 'outside'
    outside.mkdir()
    (outside / 'settings.json').write_text('{"outside": true}\n')
    return root, uid, gid, outside


def claude_dir(home, create_mode=None, relative='.claude'):
    root, uid, gid, _outside = home
    top = home_fs.open_home(str(root), uid, gid)
    try:
        return home_fs.walk(top, relative, create_mode)
    finally:
        top.close()


def snapshot(directory):
    return {str(p): (p.is_symlink(), p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in sorted(directory.rglob('*'))}


def test_reads_and_writes_a_regular_file_atomically_keeping_owner_and_mode(home):
    root, uid, gid, _outside = home
    settings = root / '.claude' / 'settings.json'
    os.chmod(settings, 0o640)
    with claude_dir(home) as directory:
        assert directory.read('settings.json') == b'{}\n'
        assert directory.read('missing.json') is None
        directory.write('settings.json', b'{"a": 1}\n')
        directory.write('new.json', b'{}\n')
    assert settings.read_bytes() == b'{"a": 1}\n'
    info = os.stat(settings)
    assert (stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid) == (0o640, uid, gid)
    new = os.stat(root / '.claude' / 'new.json')
    assert (stat.S_IMODE(new.st_mode), new.st_uid, new.st_gid) == (0o600, uid, gid)
    assert sorted(os.listdir(root / '.claude')) == ['new.json', 'settings.json'], 'no temporary file is left behind'


@pytest.mark.parametrize('plant', ['symlink', 'file'])
def test_a_directory_component_that_is_not_a_real_directory_is_refused(home, plant):
    root, _uid, _gid, outside = home
    (root / '.claude' / 'settings.json').unlink()
    (root / '.claude').rmdir()
    if plant == 'symlink':
        os.symlink(outside, root / '.claude')
        reason = 'refusing %s: .claude is a symlink' % (root / '.claude')
    else:
        (root / '.claude').write_text('x')
        reason = 'refusing %s: .claude is not a directory' % (root / '.claude')
    before = snapshot(outside)
    with pytest.raises(home_fs.UnsafePath) as exc:
        claude_dir(home, create_mode=0o700)
    assert str(exc.value).startswith(reason)
    assert exc.value.path == str(root / '.claude')
    assert snapshot(outside) == before
    assert os.path.lexists(root / '.claude'), 'the planted thing is left alone'


@pytest.mark.skipif(not AS_ROOT, reason='a directory of another user needs root to make (CI runs as root)')
def test_a_directory_owned_by_another_user_is_refused(home):
    root, _uid, _gid, _outside = home
    os.chown(root / '.claude', 1234, 1234)
    with pytest.raises(home_fs.UnsafePath, match=r'\.claude is owned by uid 1234, not by uid 65534 or root'):
        claude_dir(home)


def test_missing_directories_are_created_owned_by_the_user(home):
    root, uid, gid, _outside = home
    with claude_dir(home, create_mode=0o700, relative='.config/claude-fleet') as directory:
        directory.write('env.sh', b'export A=1\n')
    for path in (root / '.config', root / '.config' / 'claude-fleet'):
        info = os.lstat(path)
        assert stat.S_ISDIR(info.st_mode) and (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (uid, gid, 0o700)
    with pytest.raises(home_fs.UnsafePath, match='does not exist'):
        claude_dir(home, relative='.nothing')


def test_a_symlink_swapped_in_between_mkdir_and_open_is_refused(home, monkeypatch):
    """The race a user wins by replacing the directory root just created: the open refuses the link."""
    root, _uid, _gid, outside = home
    real_mkdir = os.mkdir

    def mkdir_then_swap(name, mode=0o777, *, dir_fd=None):
        real_mkdir(name, mode, dir_fd=dir_fd)
        os.rmdir(name, dir_fd=dir_fd)
        os.symlink(str(outside), name, dir_fd=dir_fd)
    monkeypatch.setattr(home_fs.os, 'mkdir', mkdir_then_swap)
    with pytest.raises(home_fs.UnsafePath, match=r'\.config is a symlink'):
        claude_dir(home, create_mode=0o700, relative='.config/claude-fleet')
    assert sorted(os.listdir(outside)) == ['settings.json']


def test_a_directory_swapped_for_a_symlink_after_the_walk_keeps_writes_in_the_opened_directory(home):
    """Once walked, the descriptor is the directory: renaming it away and planting a link changes nothing."""
    root, _uid, _gid, outside = home
    with claude_dir(home) as directory:
        os.rename(root / '.claude', root / 'moved')
        os.symlink(outside, root / '.claude')
        directory.write('settings.json', b'{"a": 1}\n')
        directory.write('client-key.pem', b'key\n')
    assert (outside / 'settings.json').read_text() == '{"outside": true}\n'
    assert not (outside / 'client-key.pem').exists()
    assert (root / 'moved' / 'client-key.pem').read_bytes() == b'key\n'


def test_a_leaf_symlink_is_refused_for_read_write_and_remove(home):
    root, _uid, _gid, outside = home
    settings = root / '.claude' / 'settings.json'
    settings.unlink()
    os.symlink(outside / 'settings.json', settings)
    with claude_dir(home) as directory:
        for action in (lambda: directory.read('settings.json'), lambda: directory.write('settings.json', b'{}'),
                       lambda: directory.remove('settings.json')):
            with pytest.raises(home_fs.UnsafePath, match='refusing %s: settings.json is a symlink' % settings):
                action()
    assert settings.is_symlink() and (outside / 'settings.json').read_text() == '{"outside": true}\n'


def test_replace_link_replaces_the_link_itself(home):
    root, _uid, _gid, outside = home
    settings = root / '.claude' / 'settings.json'
    settings.unlink()
    os.symlink(outside / 'settings.json', settings)
    with claude_dir(home) as directory:
        directory.write('settings.json', b'{}\n', replace_link=True)
    assert not settings.is_symlink() and settings.read_bytes() == b'{}\n'
    assert (outside / 'settings.json').read_text() == '{"outside": true}\n'


@pytest.mark.parametrize('plant, kind', [('fifo', 'a FIFO'), ('directory', 'a directory')])
def test_a_fifo_or_directory_is_not_read_and_does_not_block(home, plant, kind):
    root, _uid, _gid, _outside = home
    settings = root / '.claude' / 'settings.json'
    settings.unlink()
    if plant == 'fifo':
        os.mkfifo(settings)
    else:
        settings.mkdir()
    with claude_dir(home) as directory:
        with pytest.raises(home_fs.UnsafePath) as exc:
            directory.read('settings.json')
        assert str(exc.value) == 'not a regular file: %s (%s)' % (settings, kind)
        for action in (lambda: directory.write('settings.json', b'{}'), lambda: directory.remove('settings.json')):
            with pytest.raises(home_fs.UnsafePath, match='not a regular file'):
                action()
    assert os.path.lexists(settings) and not settings.is_file()


def test_a_dev_zero_link_is_refused_and_a_device_opened_directly_is_not_read(home):
    root, _uid, _gid, _outside = home
    settings = root / '.claude' / 'settings.json'
    settings.unlink()
    os.symlink('/dev/zero', settings)
    with claude_dir(home) as directory:
        with pytest.raises(home_fs.UnsafePath, match='settings.json is a symlink'):
            directory.read('settings.json')
    # Code that may follow a link (a module running as the user) still never reads a device.
    dev = home_fs.open_path_dir('/dev')
    try:
        with pytest.raises(home_fs.UnsafePath, match=r'^not a regular file: /dev/zero \(a character device\)$'):
            dev.read('zero')
    finally:
        dev.close()


def test_a_file_above_the_cap_is_refused_with_its_size(home):
    root, _uid, _gid, _outside = home
    (root / '.claude' / 'settings.json').write_bytes(b' ' * 2048)
    with claude_dir(home) as directory:
        assert directory.read('settings.json', cap=2048) == b' ' * 2048
        with pytest.raises(home_fs.UnsafePath) as exc:
            directory.read('settings.json', cap=2047)
    assert str(exc.value) == '%s is 2048 bytes, above the cap of 2047' % (root / '.claude' / 'settings.json')


@pytest.mark.skipif(not AS_ROOT, reason='a root-owned hard link needs root to make (CI runs as root)')
def test_a_hard_link_to_a_root_file_is_not_the_users_file(home, tmp_path):
    root, _uid, _gid, _outside = home
    secret = tmp_path / 'root-secret'
    secret.write_text('secret\n')
    os.chmod(secret, 0o600)
    os.link(secret, root / '.claude' / 'client-key.pem')
    with claude_dir(home) as directory:
        with pytest.raises(home_fs.UnsafePath, match='owned by uid 0 and has 2 links'):
            directory.read('client-key.pem')
        with pytest.raises(home_fs.UnsafePath, match='owned by uid 0 and has 2 links'):
            directory.write('client-key.pem', b'new\n')
    assert secret.read_text() == 'secret\n'


def test_remove_removes_a_regular_file_only(home):
    root, _uid, _gid, _outside = home
    with claude_dir(home) as directory:
        assert directory.remove('settings.json') is True
        assert directory.remove('settings.json') is False
    assert os.listdir(root / '.claude') == []


def test_home_of_takes_the_home_from_the_user_database(home, monkeypatch):
    root, uid, gid, outside = home
    real = pwd.getpwuid

    def getpwuid(wanted):
        if wanted == uid:
            return pwd.struct_passwd(('dev', 'x', uid, gid, '', str(root), '/bin/sh'))
        return real(wanted)
    monkeypatch.setattr(home_fs.pwd, 'getpwuid', getpwuid)
    assert home_fs.home_of(str(root / '.claude' / 'settings.json')) == (str(root), uid, gid)
    with home_fs.parent_of(str(root / '.claude' / 'settings.json')) as (directory, name):
        assert (directory.path, name) == (str(root / '.claude'), 'settings.json')
    with pytest.raises(home_fs.UnsafePath, match='not inside the home directory of its owner'):
        home_fs.home_of(str(outside / 'settings.json'))


def test_relative_paths_cannot_climb_out_of_the_home(home):
    with pytest.raises(ValueError):
        claude_dir(home, relative='../outside')
