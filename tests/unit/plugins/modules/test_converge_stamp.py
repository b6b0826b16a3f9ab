# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the converge stamp: module_utils probes, converge_stamp, converge_stamp_info and model_pins."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pathlib
import pwd
import shutil
import signal
import stat
import tempfile
import time

import pytest


from ansible_collections.claude_fleet.bedrock.plugins.module_utils import converge_stamp as stamp_utils
from ansible_collections.claude_fleet.bedrock.plugins.module_utils import home_fs
from ansible_collections.claude_fleet.bedrock.plugins.modules import converge_stamp, converge_stamp_info, model_pins

from module_runner import run_module

MODEL_A = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'
MODEL_B = 'us.anthropic.claude-opus-4-5-20251101-v1:0'
# Fingerprints are no_log: short values would be masked all over the module output.
FP1 = '1f' * 32
FP2 = '2e' * 32


@pytest.fixture
def call(tmp_path, capsys):
    tmpdir = tmp_path / '.module-tmp'
    tmpdir.mkdir()

    def _call(module, check=False, diff=False, **args):
        args.update(_ansible_tmpdir=str(tmpdir), _ansible_check_mode=check, _ansible_diff=diff)
        rc, result = run_module(module, capsys, args)
        result['rc'] = rc
        return result
    return _call


NOBODY = 65534


@pytest.fixture
def home(monkeypatch):
    """A user's files: settings.json (with user keys), a bashrc, a link into a dotfiles directory.

    The user database gives the owner of the home this directory as its home (model_pins walks from there).

    Run as root (as in CI), the home belongs to nobody, under a directory nobody can traverse (not pytest's 0700 one), so that
    model_pins acts as that user, as it does on a workstation.
    """
    base = tempfile.mkdtemp(prefix='stamp-home-')
    os.chmod(base, 0o755)
    root = pathlib.Path(base) / 'home'
    (root / '.claude').mkdir(parents=True)
    (root / 'dotfiles').mkdir()
    settings = root / '.claude' / 'settings.json'
    settings.write_text(json.dumps({'permissions': {'allow': ['Bash(ls)']},
                                    'env': {'AWS_REGION': 'us-east-1', 'ANTHROPIC_MODEL': MODEL_A}}, indent=4) + '\n')
    os.chmod(settings, 0o600)
    (root / '.bashrc').write_text('# mine\n')
    (root / 'dotfiles' / 'zshenv').write_text('export A=1\n')
    os.symlink(root / 'dotfiles' / 'zshenv', root / '.zshenv')
    if os.geteuid() == 0:
        for directory, _dirs, files in os.walk(root):
            os.chown(directory, NOBODY, NOBODY)
            for name in files:
                os.lchown(os.path.join(directory, name), NOBODY, NOBODY)
    owner = os.stat(root).st_uid
    real_getpwuid = pwd.getpwuid

    def getpwuid(uid):
        entry = real_getpwuid(uid)
        if uid != owner:
            return entry
        return pwd.struct_passwd((entry.pw_name, 'x', uid, os.stat(root).st_gid, '', str(root), '/bin/sh'))
    monkeypatch.setattr(home_fs.pwd, 'getpwuid', getpwuid)
    try:
        yield root
    finally:
        shutil.rmtree(base)


def record(call, tmp_path, home, pins=None, fingerprint=FP1):
    paths = [str(home / '.claude'), str(home / '.claude' / 'settings.json'), str(home / '.bashrc'), str(home / '.zshenv'),
             str(home / '.bash_profile')]
    result = call(converge_stamp, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=fingerprint, paths=paths,
                  facts={'node_version': '22.1.0'}, pins=pins, pin_files=[str(home / '.claude' / 'settings.json')] if pins else [])
    assert result['rc'] == 0, result
    return result


def info(call, tmp_path, fingerprint=FP1):
    result = call(converge_stamp_info, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=fingerprint)
    assert result['rc'] == 0 and result['changed'] is False, result
    return result


def test_probe_describes_files_links_directories_and_absence(home):
    probes = stamp_utils.probe_all([str(home / '.bashrc'), str(home / '.zshenv'), str(home / '.claude'), str(home / 'nothing')], 'k' * 64)
    assert probes[str(home / '.bashrc')]['hmac'] == hmac.new(b'k' * 64, b'# mine\n', hashlib.sha256).hexdigest()
    assert hashlib.sha256(b'# mine\n').hexdigest() not in json.dumps(probes), 'no plain digest of a file'
    assert probes[str(home / '.zshenv')]['link'] == str(home / 'dotfiles' / 'zshenv')
    assert probes[str(home / '.zshenv')]['target']['type'] == 'file'
    owner = os.stat(home / '.claude')
    assert probes[str(home / '.claude')] == {'exists': True, 'type': 'directory', 'mode': '0755',
                                             'uid': owner.st_uid, 'gid': owner.st_gid}
    assert probes[str(home / 'nothing')] == {'exists': False}


def test_large_files_are_compared_by_size_mtime_and_inode(tmp_path, monkeypatch):
    monkeypatch.setattr(stamp_utils, 'DIGEST_LIMIT', 4)
    big = tmp_path / 'node'
    big.write_bytes(b'0123456789')
    probe = stamp_utils.probe(str(big))
    assert 'hmac' not in probe and probe['size'] == 10 and probe['mtime_ns'] == os.stat(big).st_mtime_ns


def test_record_writes_a_private_stamp_and_an_unchanged_stamp_is_not_rewritten(call, tmp_path, home):
    assert record(call, tmp_path, home)['changed'] is True
    path = tmp_path / 'state' / 'converge.json'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    inode = os.stat(path).st_ino
    assert record(call, tmp_path, home)['changed'] is False
    assert os.stat(path).st_ino == inode
    data = json.loads(path.read_text())
    assert data['facts'] == {'node_version': '22.1.0'} and data['paths'][str(home / '.bash_profile')] == {'exists': False}


def test_record_in_check_mode_writes_nothing_and_masks_the_fingerprint_in_the_diff(call, tmp_path, home):
    result = call(converge_stamp, check=True, diff=True, path=str(tmp_path / 'state' / 'converge.json'), fingerprint='secret-digest',
                  paths=[str(home / '.bashrc')])
    assert result['changed'] is True and not (tmp_path / 'state').exists()
    assert 'secret-digest' not in json.dumps(result)


def test_record_rejects_relative_paths_and_pin_files_outside_paths(call, tmp_path, home):
    result = call(converge_stamp, path=str(tmp_path / 's.json'), fingerprint=FP1, paths=['relative/file'])
    assert result['rc'] == 1 and 'paths must be absolute' in result['msg']
    result = call(converge_stamp, path=str(tmp_path / 's.json'), fingerprint=FP1, paths=[str(home / '.bashrc')],
                  pin_files=[str(home / '.claude' / 'settings.json')])
    assert result['rc'] == 1 and 'pin_files must also be in paths' in result['msg']


def test_unprobed_paths_are_listed_with_their_reason_and_never_probed(call, tmp_path, home):
    records = str(home / '.local' / 'state' / 'claude-fleet' / 'originals')
    result = call(converge_stamp, path=str(tmp_path / 's.json'), fingerprint=FP1, paths=[str(home / '.bashrc')],
                  unprobed={records: 'uninstall records'})
    assert result['rc'] == 0, result
    data = json.loads((tmp_path / 's.json').read_text())
    assert data['unprobed'] == {records: 'uninstall records'} and list(data['paths']) == [str(home / '.bashrc')]
    for unprobed, message in (({'relative': 'why'}, 'unprobed must map absolute paths to a reason'),
                              ({records: ' '}, 'unprobed must map absolute paths to a reason'),
                              ({str(home): 'the whole home'}, 'paths declared unprobed cannot be probed too')):
        result = call(converge_stamp, path=str(tmp_path / 's2.json'), fingerprint=FP1, paths=[str(home / '.bashrc')], unprobed=unprobed)
        assert result['rc'] == 1 and message in result['msg'], result
    assert not (tmp_path / 's2.json').exists()


def test_a_matching_stamp_is_current_and_hands_back_its_facts(call, tmp_path, home):
    assert info(call, tmp_path)['reasons'] == ['no usable converge stamp (first converge with this collection, or the stamp was removed)']
    record(call, tmp_path, home)
    result = info(call, tmp_path)
    assert result['current'] is True and result['facts'] == {'node_version': '22.1.0'} and result['paths_checked'] == 5


@pytest.mark.parametrize('change, reason', [
    (lambda h: (h / '.bashrc').write_text('# mine\nalias ll=ls\n'), '.bashrc content changed'),
    (lambda h: os.chmod(h / '.claude' / 'settings.json', 0o644), 'settings.json mode changed from 0600 to 0644'),
    (lambda h: (h / '.claude' / 'settings.json').unlink(), 'settings.json is gone'),
    (lambda h: (h / '.bash_profile').write_text(''), '.bash_profile appeared'),
    (lambda h: (h / 'dotfiles' / 'zshenv').write_text('export A=2\n'), '.zshenv link target content changed'),
], ids=['content', 'mode', 'removed', 'appeared', 'link-target'])
def test_any_drift_of_a_recorded_path_ends_the_fast_path(call, tmp_path, home, change, reason):
    record(call, tmp_path, home)
    change(home)
    result = info(call, tmp_path)
    assert result['current'] is False
    assert any(r.endswith(reason) for r in result['reasons']), result['reasons']


def test_other_inputs_or_an_unreadable_stamp_end_the_fast_path(call, tmp_path, home):
    record(call, tmp_path, home)
    assert info(call, tmp_path, fingerprint=FP2)['current'] is False
    (tmp_path / 'state' / 'converge.json').write_text('{not json')
    assert info(call, tmp_path)['current'] is False


def test_remove_deletes_the_stamp(call, tmp_path, home):
    record(call, tmp_path, home)
    result = call(converge_stamp, path=str(tmp_path / 'state' / 'converge.json'), state='absent')
    assert result['changed'] is True and not (tmp_path / 'state' / 'converge.json').exists()
    assert call(converge_stamp, path=str(tmp_path / 'state' / 'converge.json'), state='absent')['changed'] is False


def pins(model, small=''):
    return {'ANTHROPIC_MODEL': model, 'ANTHROPIC_DEFAULT_OPUS_MODEL': '', 'ANTHROPIC_SMALL_FAST_MODEL': small}


def test_only_changed_pins_are_reported_as_such(call, tmp_path, home):
    record(call, tmp_path, home, pins=pins(MODEL_A))
    stamp = stamp_utils.load(str(tmp_path / 'state' / 'converge.json'))
    assert stamp_utils.evaluate(stamp, FP1, pins(MODEL_A)) == (True, [], False)
    assert stamp_utils.evaluate(stamp, FP1, pins(MODEL_B)) == (False, ['the model pins changed (ANTHROPIC_MODEL)'], True)
    (home / '.bashrc').write_text('drift\n')
    assert stamp_utils.evaluate(stamp, FP1, pins(MODEL_B))[2] is False


def test_model_pins_rewrites_only_the_pins_keeping_keys_format_and_mode(call, tmp_path, home):
    record(call, tmp_path, home, pins=pins(MODEL_A))
    settings = home / '.claude' / 'settings.json'
    result = call(model_pins, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=FP1,
                  pins=pins(MODEL_B, small='us.anthropic.claude-haiku-4-5-20251001-v1:0'))
    assert result['changed'] is True and result['applied'] is True and result['files'] == [str(settings)], result
    assert result['pins_changed'] == ['ANTHROPIC_MODEL', 'ANTHROPIC_SMALL_FAST_MODEL'] and result['facts'] == {'node_version': '22.1.0'}
    data = json.loads(settings.read_text())
    assert list(data) == ['permissions', 'env'] and data['permissions'] == {'allow': ['Bash(ls)']}
    assert data['env'] == {'AWS_REGION': 'us-east-1', 'ANTHROPIC_MODEL': MODEL_B,
                           'ANTHROPIC_SMALL_FAST_MODEL': 'us.anthropic.claude-haiku-4-5-20251001-v1:0'}
    assert settings.read_text().startswith('{\n    "permissions"'), 'the four-space indent is kept'
    assert stat.S_IMODE(os.stat(settings).st_mode) == 0o600
    # The stamp now carries the pins and the new probe: the host is current.
    stamp = stamp_utils.load(str(tmp_path / 'state' / 'converge.json'))
    assert stamp_utils.evaluate(stamp, FP1, pins(MODEL_B, small='us.anthropic.claude-haiku-4-5-20251001-v1:0'))[0] is True
    # An empty pin removes the key.
    call(model_pins, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=FP1, pins=pins(MODEL_B))
    assert 'ANTHROPIC_SMALL_FAST_MODEL' not in json.loads(settings.read_text())['env']


def test_model_pins_in_check_mode_changes_nothing(call, tmp_path, home):
    record(call, tmp_path, home, pins=pins(MODEL_A))
    before = (home / '.claude' / 'settings.json').read_bytes()
    stamp_before = (tmp_path / 'state' / 'converge.json').read_bytes()
    result = call(model_pins, check=True, diff=True, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=FP1, pins=pins(MODEL_B))
    assert result['changed'] is True and MODEL_B in result['diff'][0]['after']
    assert (home / '.claude' / 'settings.json').read_bytes() == before
    assert (tmp_path / 'state' / 'converge.json').read_bytes() == stamp_before


@pytest.mark.parametrize('situation', ['invalid-json', 'other-drift', 'other-inputs'])
def test_model_pins_leaves_everything_to_the_roles_when_more_than_the_pins_differ(call, tmp_path, home, situation):
    record(call, tmp_path, home, pins=pins(MODEL_A))
    settings = home / '.claude' / 'settings.json'
    fingerprint = FP1
    if situation == 'invalid-json':
        # Same probe as recorded would be impossible: rewrite the stamp's probe so that only the pins differ.
        settings.write_text('{"env": ')
        data = json.loads((tmp_path / 'state' / 'converge.json').read_text())
        data['paths'][str(settings)] = stamp_utils.probe(str(settings), data['key'])
        stamp_utils.save(str(tmp_path / 'state' / 'converge.json'), data)
    elif situation == 'other-drift':
        (home / '.bashrc').write_text('drift\n')
    else:
        fingerprint = FP2
    before = settings.read_bytes()
    result = call(model_pins, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=fingerprint, pins=pins(MODEL_B))
    assert result['rc'] == 0 and result['applied'] is False and result['changed'] is False and result['reasons']
    assert settings.read_bytes() == before


def test_model_pins_on_a_current_host_changes_nothing_and_hands_back_the_facts(call, tmp_path, home):
    record(call, tmp_path, home, pins=pins(MODEL_A))
    result = call(model_pins, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=FP1, pins=pins(MODEL_A))
    assert result['applied'] is True and result['changed'] is False and result['files'] == [] and result['pins_changed'] == []
    assert result['facts'] == {'node_version': '22.1.0'}
    assert call(model_pins, path=str(tmp_path / 'nothing.json'), fingerprint=FP1, pins=pins(MODEL_A))['applied'] is False


@pytest.mark.skipif(os.geteuid() != 0, reason='writing as the file owner needs root (CI runs as root)')
def test_model_pins_writes_as_the_owner_and_a_planted_link_cannot_make_root_write_elsewhere(call, tmp_path, home):
    record(call, tmp_path, home, pins=pins(MODEL_A))
    settings = home / '.claude' / 'settings.json'
    result = call(model_pins, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=FP1, pins=pins(MODEL_B))
    assert result['applied'] is True, result
    info_after = os.stat(settings)
    assert (info_after.st_uid, info_after.st_gid) == (NOBODY, NOBODY)
    assert json.loads(settings.read_text())['env']['ANTHROPIC_MODEL'] == MODEL_B

    # The user replaces settings.json by a link to a root-only file; the stamp is made to match it, so
    # only acting as the user protects the file.
    secret = home.parent / 'root-only.json'
    secret.write_text('{"env": {}}\n')
    os.chmod(secret, 0o600)
    settings.unlink()
    os.symlink(secret, settings)
    os.lchown(settings, NOBODY, NOBODY)
    data = json.loads((tmp_path / 'state' / 'converge.json').read_text())
    data['paths'][str(settings)] = stamp_utils.probe(str(settings), data['key'])
    stamp_utils.save(str(tmp_path / 'state' / 'converge.json'), data)
    result = call(model_pins, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=FP1, pins=pins(MODEL_A))
    assert result['applied'] is False and 'settings.json is a symlink' in result['reasons'][0], result
    assert secret.read_text() == '{"env": {}}\n'


@pytest.mark.parametrize('plant', ['fifo', 'dev_zero', 'claude_link'])
def test_model_pins_never_reads_a_planted_fifo_device_or_link_and_leaves_it_to_the_roles(call, tmp_path, home, plant):
    """The stamp is made to match the planted state, so only model_pins' own checks stand in the way."""
    record(call, tmp_path, home, pins=pins(MODEL_A))
    settings = home / '.claude' / 'settings.json'
    outside = home.parent / 'outside'
    outside.mkdir()
    (outside / 'settings.json').write_text('{}\n')
    settings.unlink()
    if plant == 'fifo':
        os.mkfifo(settings)
        reason = 'not a regular file: %s (a FIFO)' % settings
    elif plant == 'dev_zero':
        os.symlink('/dev/zero', settings)
        reason = 'refusing %s: settings.json is a symlink' % settings
    else:
        os.rmdir(home / '.claude')
        os.symlink(outside, home / '.claude')
        reason = 'refusing %s: .claude is a symlink' % (home / '.claude')
    data = json.loads((tmp_path / 'state' / 'converge.json').read_text())
    for path in data['paths']:
        data['paths'][path] = stamp_utils.probe(path, data['key'])
    stamp_utils.save(str(tmp_path / 'state' / 'converge.json'), data)
    result = call(model_pins, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=FP1, pins=pins(MODEL_B))
    assert result['applied'] is False and result['changed'] is False, result
    assert result['reasons'] == ['cannot apply the model pins to %s: %s' % (settings, reason)]
    assert (outside / 'settings.json').read_text() == '{}\n'


@pytest.mark.parametrize('plant', ['kmsg', 'fifo', 'dev_zero'])
def test_probes_never_read_a_fifo_a_device_or_a_proc_file_behind_a_link(home, plant):
    """~/.bash_login -> /proc/kmsg blocked the root-side probe; now nothing but a regular file's st_size bytes is read."""
    target = home / '.bash_login'
    if plant == 'kmsg':
        if not os.path.exists('/proc/kmsg'):
            pytest.fail('/proc/kmsg is missing: this test needs a Linux /proc')
        os.symlink('/proc/kmsg', target)
    elif plant == 'fifo':
        os.mkfifo(target)
    else:
        os.symlink('/dev/zero', target)
    if os.geteuid() == 0:
        os.lchown(target, NOBODY, NOBODY)
    signal.alarm(20)  # safety net: a blocking probe fails the test instead of hanging the suite
    try:
        entry = stamp_utils.probe(str(target), 'k' * 64)
    finally:
        signal.alarm(0)
    assert entry['exists'] is True
    if plant == 'fifo':
        assert entry['type'] == 'other' and 'hmac' not in entry
    else:
        assert entry['type'] == 'link' and entry['link'] == ('/proc/kmsg' if plant == 'kmsg' else '/dev/zero')
        # The link's target is looked at as the link's owner: /proc/kmsg (root only) is not opened at all.
        assert 'hmac' not in entry['target']
        if plant == 'dev_zero':
            assert entry['target']['type'] == 'other'


def test_a_linked_directory_on_the_way_is_an_error_not_followed(home):
    outside = home.parent / 'outside'
    outside.mkdir()
    (outside / 'settings.json').write_text('{}\n')
    shutil.rmtree(home / '.claude')
    os.symlink(outside, home / '.claude')
    entry = stamp_utils.probe(str(home / '.claude' / 'settings.json'), 'k' * 64)
    assert entry == {'exists': None, 'error': 'refusing %s: .claude is a symlink' % (home / '.claude')}


def test_the_record_diff_shows_neither_the_key_nor_a_plain_digest(call, tmp_path, home):
    paths = [str(home / '.claude' / 'settings.json'), str(home / '.bashrc')]
    result = call(converge_stamp, diff=True, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=FP1, paths=paths)
    shown = json.dumps(result)
    key = json.loads((tmp_path / 'state' / 'converge.json').read_text())['key']
    assert len(key) == 64 and key not in shown
    for path in paths:
        assert hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest() not in shown
    assert stat.S_IMODE(os.stat(tmp_path / 'state' / 'converge.json').st_mode) == 0o600
    again = call(converge_stamp, diff=True, path=str(tmp_path / 'state' / 'converge.json'), fingerprint=FP1, paths=paths)
    assert again['changed'] is False, 'the key is kept: an unchanged host keeps its stamp byte for byte'


def test_a_large_file_written_in_place_with_its_size_and_mtime_kept_is_caught(tmp_path, monkeypatch):
    monkeypatch.setattr(stamp_utils, 'DIGEST_LIMIT', 4)
    big = tmp_path / 'node'
    big.write_bytes(b'\x7fELF-binary')
    before = stamp_utils.probe(str(big))
    kept = os.stat(big)
    time.sleep(0.05)  # past the file system's timestamp granularity
    with open(big, 'r+b') as handle:
        handle.write(b'XXXX')
    os.utime(big, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    after = stamp_utils.probe(str(big))
    assert (after['size'], after['mtime_ns'], after['inode']) == (before['size'], before['mtime_ns'], before['inode'])
    assert stamp_utils.compare({str(big): before}, {str(big): after}) == ['%s content changed' % big]


def test_a_stamp_older_than_max_age_runs_the_roles_until_a_full_converge_records_again(call, tmp_path, home):
    record(call, tmp_path, home)
    path = str(tmp_path / 'state' / 'converge.json')
    fresh = call(converge_stamp_info, path=path, fingerprint=FP1, max_age=3600)
    assert fresh['current'] is True, fresh
    old = time.time() - 7200
    os.utime(path, (old, old))
    stale = call(converge_stamp_info, path=path, fingerprint=FP1, max_age=3600)
    assert stale['current'] is False and 'older than claude_fleet_stamp_max_age (3600 s)' in stale['reasons'][0], stale
    assert call(converge_stamp_info, path=path, fingerprint=FP1, max_age=0)['current'] is True, 'max_age 0: never'
    assert record(call, tmp_path, home)['changed'] is False
    assert call(converge_stamp_info, path=path, fingerprint=FP1, max_age=3600)['current'] is True, 'a full converge makes it young again'


def test_applying_pins_alone_does_not_make_an_old_stamp_young(call, tmp_path, home):
    record(call, tmp_path, home, pins={'ANTHROPIC_MODEL': MODEL_A})
    path = str(tmp_path / 'state' / 'converge.json')
    old = time.time() - 600
    os.utime(path, (old, old))
    result = call(model_pins, path=path, fingerprint=FP1, pins={'ANTHROPIC_MODEL': MODEL_B}, max_age=3600)
    assert result['applied'] is True and result['changed'] is True, result
    assert abs(os.stat(path).st_mtime - old) < 1
