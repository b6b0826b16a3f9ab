# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the claude_settings module, run in-process against files in tmp_path."""

from __future__ import annotations

import json
import os
import pwd
import signal
import stat

import pytest


from ansible_collections.claude_fleet.bedrock.plugins.modules import claude_settings

from module_runner import run_module


def _invoke(capsys, args):
    """Run the module like Ansible does and return its parsed JSON result (with no_log masking applied)."""
    return run_module(claude_settings, capsys, args)


@pytest.fixture
def run(tmp_path, capsys):
    tmpdir = tmp_path / '.module-tmp'
    tmpdir.mkdir()

    def _run(check=False, diff=False, **args):
        args.setdefault('_ansible_tmpdir', str(tmpdir))
        args['_ansible_check_mode'] = check
        args['_ansible_diff'] = diff
        code, result = _invoke(capsys, args)
        assert code == 0, result
        assert not result.get('failed'), result
        return result
    return _run


@pytest.fixture
def run_fail(tmp_path, capsys):
    tmpdir = tmp_path / '.module-tmp-fail'
    tmpdir.mkdir()

    def _run(check=False, **args):
        args.setdefault('_ansible_tmpdir', str(tmpdir))
        args['_ansible_check_mode'] = check
        code, result = _invoke(capsys, args)
        assert code == 1 and result['failed'] is True, result
        return result
    return _run


def _write(path, text):
    path.write_text(text, encoding='utf-8')
    return path


def _snapshot(path):
    info = os.lstat(path)
    return path.read_bytes(), info.st_ino, info.st_mtime_ns, stat.S_IMODE(info.st_mode)


USER_DOC = (
    '{\n'
    '  "permissions": {\n'
    '    "allow": [\n'
    '      "Bash(npm run test:*)"\n'
    '    ],\n'
    '    "deny": []\n'
    '  },\n'
    '  "hooks": {\n'
    '    "PostToolUse": [\n'
    '      {\n'
    '        "matcher": "Edit",\n'
    '        "hooks": [\n'
    '          {\n'
    '            "type": "command",\n'
    '            "command": "prettier --write"\n'
    '          }\n'
    '        ]\n'
    '      }\n'
    '    ]\n'
    '  },\n'
    '  "env": {\n'
    '    "MY_OWN": "keep me"\n'
    '  },\n'
    '  "zLast": true\n'
    '}\n'
)


def test_creates_missing_file_with_mode(run, tmp_path):
    path = tmp_path / 'settings.json'
    res = run(path=str(path), mode='0600', settings={'env': {'CLAUDE_CODE_USE_BEDROCK': '1'}})
    assert res['changed'] is True
    assert res['changed_keys'] == ['env']
    assert path.read_text() == '{\n  "env": {\n    "CLAUDE_CODE_USE_BEDROCK": "1"\n  }\n}\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_merge_keeps_user_keys_order_and_untouched_text(run, tmp_path):
    path = _write(tmp_path / 'settings.json', USER_DOC)
    res = run(path=str(path), settings={'env': {'AWS_REGION': 'eu-west-1'}, 'awsAuthRefresh': 'aws sso login --profile p'})
    assert res['changed'] is True
    assert res['changed_keys'] == ['env.AWS_REGION', 'awsAuthRefresh']
    data = json.loads(path.read_text())
    assert list(data) == ['permissions', 'hooks', 'env', 'zLast', 'awsAuthRefresh']
    assert list(data['env']) == ['MY_OWN', 'AWS_REGION']
    expected = USER_DOC.replace('"keep me"\n', '"keep me",\n    "AWS_REGION": "eu-west-1"\n').replace(
        '"zLast": true\n', '"zLast": true,\n  "awsAuthRefresh": "aws sso login --profile p"\n')
    assert path.read_text() == expected


def test_second_run_changes_nothing_and_does_not_rewrite(run, tmp_path):
    path = tmp_path / 'settings.json'
    args = dict(path=str(path), mode='0600', settings={'env': {'AWS_REGION': 'us-east-1'}, 'model': 'opus'})
    assert run(**args)['changed'] is True
    before = _snapshot(path)
    res = run(**args)
    assert res['changed'] is False
    assert res['changed_keys'] == []
    assert _snapshot(path) == before


def test_equal_data_in_other_format_is_not_rewritten(run, tmp_path):
    text = '{"model":"opus",   "env":{"AWS_REGION":"us-east-1"}}'
    path = _write(tmp_path / 'settings.json', text)
    before = _snapshot(path)
    res = run(path=str(path), settings={'env': {'AWS_REGION': 'us-east-1'}})
    assert res['changed'] is False
    assert _snapshot(path) == before


@pytest.mark.parametrize('check', [False, True])
def test_invalid_json_fails_naming_file_and_position_and_is_untouched(run_fail, tmp_path, check):
    text = '{\n  "env": {\n    "A": "1",\n  }\n}\n'
    path = _write(tmp_path / 'settings.json', text)
    os.chmod(path, 0o640)
    before = _snapshot(path)
    res = run_fail(path=str(path), check=check, mode='0600', settings={'env': {'B': '2'}})
    assert str(path) in res['msg']
    # The position, not the wording: Python 3.13 points at the trailing comma, 3.11 at the brace.
    line, column = res['line'], res['column']
    assert 'line %d column %d' % (line, column) in res['msg']
    offset = sum(len(row) for row in text.splitlines(True)[:line - 1]) + column - 1
    assert text.index(',\n  }') <= offset <= text.index('}\n}')
    assert _snapshot(path) == before


@pytest.mark.parametrize('text, reason', [
    ('[1, 2]', 'array'),
    ('"x"', 'string'),
    ('{"a": NaN}', 'NaN'),
])
def test_non_object_or_non_json_constants_fail(run_fail, tmp_path, text, reason):
    path = _write(tmp_path / 'settings.json', text)
    res = run_fail(path=str(path), settings={'a': 1})
    assert reason in res['msg'] and str(path) in res['msg']
    assert path.read_text() == text


def test_non_utf8_file_fails_untouched(run_fail, tmp_path):
    path = tmp_path / 'settings.json'
    path.write_bytes(b'{"a": "\xff"}')
    res = run_fail(path=str(path), settings={'a': 1})
    assert 'UTF-8' in res['msg'] and str(path) in res['msg']
    assert path.read_bytes() == b'{"a": "\xff"}'


def test_empty_file_is_an_empty_object(run, tmp_path):
    path = _write(tmp_path / 'settings.json', '  \n')
    res = run(path=str(path), settings={'a': '1'})
    assert res['changed'] is True
    assert json.loads(path.read_text()) == {'a': '1'}


def test_check_mode_writes_nothing_but_reports(run, tmp_path):
    missing = tmp_path / 'new' / 'settings.json'
    res = run(path=str(missing), check=True, diff=True, create_parents=True, settings={'env': {'A': '1'}})
    assert res['changed'] is True and res['changed_keys'] == ['env']
    assert json.loads(res['diff']['after']) == {'env': {'A': '1'}}
    assert not (tmp_path / 'new').exists()

    path = _write(tmp_path / 'settings.json', USER_DOC)
    os.chmod(path, 0o644)
    before = _snapshot(path)
    res = run(path=str(path), check=True, mode='0600', settings={'env': {'MY_OWN': 'other'}})
    assert res['changed'] is True and res['changed_keys'] == ['env.MY_OWN']
    assert _snapshot(path) == before


def test_check_mode_reports_mode_only_change(run, tmp_path):
    path = _write(tmp_path / 'settings.json', '{"a": "1"}\n')
    os.chmod(path, 0o644)
    res = run(path=str(path), check=True, mode='0600', settings={'a': '1'})
    assert res['changed'] is True and res['changed_keys'] == []
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    res = run(path=str(path), mode='0600', settings={'a': '1'})
    assert res['changed'] is True
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert run(path=str(path), mode='0600', settings={'a': '1'})['changed'] is False


def test_diff_shows_before_and_after_text_and_masks_secrets(run, tmp_path):
    path = _write(tmp_path / 'settings.json', '{\n  "a": "1"\n}\n')
    res = run(path=str(path), diff=True, settings={'env': {'AWS_REGION': 'us-west-2'}},
              secret_settings={'env': {'AWS_BEARER_TOKEN_BEDROCK': 'tok-SECRET-42'}})
    assert res['diff']['before'] == '{\n  "a": "1"\n}\n'
    assert res['diff']['before_header'] == str(path)
    after = json.loads(res['diff']['after'])
    assert after['env']['AWS_REGION'] == 'us-west-2'
    assert 'tok-SECRET-42' not in json.dumps(res)
    assert json.loads(path.read_text())['env'] == {'AWS_REGION': 'us-west-2', 'AWS_BEARER_TOKEN_BEDROCK': 'tok-SECRET-42'}


def test_no_diff_key_without_diff_mode(run, tmp_path):
    res = run(path=str(tmp_path / 's.json'), settings={'a': '1'})
    assert 'diff' not in res


def test_remove_option_and_pruning(run, tmp_path):
    doc = {'env': {'ANTHROPIC_MODEL': 'm', 'MY_OWN': 'x'}, 'awsAuthRefresh': 'c', 'a.b': {'c': 1}, 'keep': {}}
    path = _write(tmp_path / 'settings.json', json.dumps(doc, indent=2) + '\n')
    res = run(path=str(path), remove=['env.ANTHROPIC_MODEL', 'awsAuthRefresh', ['a.b', 'c'], 'not.there'])
    assert res['changed_keys'] == ['env.ANTHROPIC_MODEL', 'awsAuthRefresh', 'a.b.c']
    assert json.loads(path.read_text()) == {'env': {'MY_OWN': 'x'}, 'keep': {}}
    assert run(path=str(path), remove=['env.ANTHROPIC_MODEL'])['changed'] is False


def test_state_absent_removes_managed_leaves_only(run, tmp_path):
    path = _write(tmp_path / 'settings.json', USER_DOC)
    managed = {'env': {'CLAUDE_CODE_USE_BEDROCK': '1', 'AWS_REGION': 'us-east-1'}, 'awsAuthRefresh': 'x'}
    run(path=str(path), settings=managed)
    res = run(path=str(path), state='absent', settings=managed)
    assert res['changed'] is True
    assert sorted(res['changed_keys']) == ['awsAuthRefresh', 'env.AWS_REGION', 'env.CLAUDE_CODE_USE_BEDROCK']
    assert path.read_text() == USER_DOC
    assert run(path=str(path), state='absent', settings=managed)['changed'] is False


def test_state_absent_on_missing_file_creates_nothing(run, tmp_path):
    path = tmp_path / 'settings.json'
    res = run(path=str(path), state='absent', settings={'a': 1})
    assert res['changed'] is False and not path.exists()


def test_remove_rejects_bad_key_path(run_fail, tmp_path):
    res = run_fail(path=str(tmp_path / 's.json'), remove=['env..X'])
    assert 'remove' in res['msg']


def test_list_merge(run, tmp_path):
    path = _write(tmp_path / 's.json', '{"permissions": {"deny": ["Read(./.env)", "Mine"]}}')
    res = run(path=str(path), list_merge='append_unique', settings={'permissions': {'deny': ['Read(./.env)', 'WebFetch']}})
    assert res['changed_keys'] == ['permissions.deny']
    assert json.loads(path.read_text())['permissions']['deny'] == ['Read(./.env)', 'Mine', 'WebFetch']
    assert run(path=str(path), list_merge='append_unique', settings={'permissions': {'deny': ['WebFetch']}})['changed'] is False
    run(path=str(path), settings={'permissions': {'deny': ['WebFetch']}})
    assert json.loads(path.read_text())['permissions']['deny'] == ['WebFetch']


@pytest.mark.parametrize('existing, wanted', [('"1"', 1), ('1', True), ('1', 1.0), ('null', ''), ('{}', [])])
def test_type_aware_comparison(run, tmp_path, existing, wanted):
    path = _write(tmp_path / 's.json', '{"k": %s}' % existing)
    res = run(path=str(path), settings={'k': wanted})
    assert res['changed'] is True
    assert json.loads(path.read_text()) == {'k': wanted}
    assert run(path=str(path), settings={'k': wanted})['changed'] is False


def test_owner_and_group(run, tmp_path):
    nobody = pwd.getpwnam('nobody')
    if os.geteuid() != 0:
        pytest.skip('changing the owner of a file needs root')
    path = tmp_path / 's.json'
    res = run(path=str(path), owner='nobody', group=str(nobody.pw_gid), mode='0600', settings={'a': '1'})
    info = os.stat(path)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (nobody.pw_uid, nobody.pw_gid, 0o600)
    assert res['owner'] == 'nobody'
    assert run(path=str(path), owner='nobody', group=str(nobody.pw_gid), mode='0600', settings={'a': '1'})['changed'] is False


def test_follow_symlink_edits_target_and_keeps_link(run, tmp_path):
    dotfiles = tmp_path / 'dotfiles'
    dotfiles.mkdir()
    target = _write(dotfiles / 'settings.json', '{"mine": 1}\n')
    link = tmp_path / 'settings.json'
    link.symlink_to(target)
    res = run(path=str(link), settings={'a': '1'})
    assert res['path'] == str(target)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert json.loads(target.read_text()) == {'mine': 1, 'a': '1'}


def test_follow_false_replaces_link(run, tmp_path):
    target = _write(tmp_path / 'real.json', '{"mine": 1}\n')
    link = tmp_path / 'settings.json'
    link.symlink_to(target)
    run(path=str(link), follow=False, settings={'a': '1'})
    assert not link.is_symlink()
    assert target.read_text() == '{"mine": 1}\n'
    assert json.loads(link.read_text()) == {'mine': 1, 'a': '1'}


def test_missing_parent_directory(run, run_fail, tmp_path):
    path = tmp_path / 'a' / 'b' / 'settings.json'
    res = run_fail(path=str(path), settings={'x': '1'})
    assert 'create_parents' in res['msg'] and not path.parent.exists()
    run(path=str(path), create_parents=True, settings={'x': '1'})
    assert json.loads(path.read_text()) == {'x': '1'}


def test_create_false(run_fail, tmp_path):
    res = run_fail(path=str(tmp_path / 's.json'), create=False, settings={'x': '1'})
    assert 'does not exist' in res['msg']


def test_backup(run, tmp_path):
    path = _write(tmp_path / 's.json', '{"x": "0"}')
    res = run(path=str(path), backup=True, settings={'x': '1'})
    assert open(res['backup_file'], encoding='utf-8').read() == '{"x": "0"}'
    assert 'backup_file' not in run(path=str(path), backup=True, settings={'x': '1'})


@pytest.mark.parametrize('text, indent', [
    ('{\n\t"a": "1"\n}\n', '\t'),
    ('{\n    "a": "1"\n}', '    '),
    ('{"a": "1"}', None),
])
def test_indentation_and_trailing_newline_are_kept(run, tmp_path, text, indent):
    path = _write(tmp_path / 's.json', text)
    run(path=str(path), settings={'b': '2'})
    if indent is None:
        expected = '{\n  "a": "1",\n  "b": "2"\n}'
    else:
        expected = '{\n%s"a": "1",\n%s"b": "2"\n}' % (indent, indent)
    if text.endswith('\n'):
        expected += '\n'
    assert path.read_text() == expected


def test_explicit_indent_and_unicode(run, tmp_path):
    path = tmp_path / 's.json'
    run(path=str(path), indent=4, settings={'greeting': 'h\u00e9llo \u2603'})
    assert path.read_text(encoding='utf-8') == '{\n    "greeting": "h\u00e9llo \u2603"\n}\n'


@pytest.mark.parametrize('plant, expected', [
    ('fifo', 'not a regular file: {path} (a FIFO)'),
    ('dev_zero', 'not a regular file: /dev/zero (a character device) ({path} links to it)'),
    ('directory', 'not a regular file: {path} (a directory)'),
])
def test_a_settings_path_that_is_not_a_regular_file_fails_naming_it_without_blocking(run_fail, tmp_path, plant, expected):
    path = tmp_path / 'settings.json'
    if plant == 'fifo':
        os.mkfifo(path)
    elif plant == 'dev_zero':
        path.symlink_to('/dev/zero')
    else:
        path.mkdir()
    signal.alarm(20)  # safety net: a blocking read fails the test instead of hanging the suite
    try:
        res = run_fail(path=str(path), settings={'a': '1'})
    finally:
        signal.alarm(0)
    assert res['msg'] == expected.format(path=path)
    assert os.path.lexists(path) and not path.is_file()


def test_a_settings_file_above_the_cap_fails_with_its_size(run_fail, tmp_path):
    path = _write(tmp_path / 's.json', '{"a": "%s"}\n' % ('x' * (1024 * 1024)))
    size = path.stat().st_size
    res = run_fail(path=str(path), settings={'a': '1'})
    assert res['msg'] == '%s is %d bytes, above the cap of %d' % (path, size, 1024 * 1024)


def test_a_utf8_bom_is_kept(run, tmp_path):
    path = tmp_path / 's.json'
    path.write_bytes(b'\xef\xbb\xbf{\n  "mine": 1\n}\n')
    run(path=str(path), settings={'a': '1'})
    assert path.read_bytes() == b'\xef\xbb\xbf{\n  "mine": 1,\n  "a": "1"\n}\n'
