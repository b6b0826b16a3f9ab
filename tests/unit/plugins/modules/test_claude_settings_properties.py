# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based tests: whatever the user has in settings.json outside the managed keys survives."""

from __future__ import annotations

import json
import os
import tempfile

from hypothesis import HealthCheck, example, given, settings, strategies as st

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import claude_settings as utils
from ansible_collections.claude_fleet.bedrock.plugins.modules import claude_settings

from module_runner import run_module

MANAGED = {
    'env': {'CLAUDE_CODE_USE_BEDROCK': '1', 'AWS_REGION': 'eu-central-1', 'ANTHROPIC_MODEL': 'eu.anthropic.claude-sonnet-4-5-20250929-v1:0'},
    'awsAuthRefresh': 'aws sso login --profile bedrock',
}
MANAGED_TOP = set(MANAGED)
MANAGED_ENV = set(MANAGED['env'])

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2 ** 63), max_value=2 ** 63),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=20,
)
user_env = st.dictionaries(st.text(min_size=1, max_size=10).filter(lambda k: k not in MANAGED_ENV), st.text(max_size=10),
                           min_size=1, max_size=5)


@st.composite
def user_documents(draw):
    """A user's settings object without the managed keys; its env (if any) is a non-empty object.

    A user env that is an empty object is left out on purpose: removing the managed keys prunes
    objects that the removal empties (documented behaviour), so an empty env would not come back.
    """
    doc = draw(st.dictionaries(st.text(max_size=10).filter(lambda k: k not in MANAGED_TOP), json_values, max_size=6))
    if draw(st.booleans()):
        items = list(doc.items())
        position = draw(st.integers(min_value=0, max_value=len(items)))
        items.insert(position, ('env', draw(user_env)))
        doc = dict(items)
    return doc


def _invoke(capsys, args):
    return run_module(claude_settings, capsys, args)


def _run(capsys, workdir, **args):
    args.setdefault('_ansible_tmpdir', workdir)
    args.setdefault('_ansible_check_mode', False)
    return _invoke(capsys, args)


@PROPERTY_SETTINGS
@given(doc=user_documents())
@example(doc={'env': {'MINE': 'x'}, 'permissions': {'allow': ['Bash(ls)']}})
def test_user_content_survives_merge_and_removal_byte_for_byte(capsys, doc):
    original = utils.dump_settings(doc)
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, 'settings.json')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(original)

        code, res = _run(capsys, workdir, path=path, settings=MANAGED)
        assert code == 0 and res['changed'] is True
        with open(path, encoding='utf-8') as handle:
            merged = json.load(handle)
        # user keys keep their values and their order; managed keys are added
        assert [k for k in merged if k in doc] == list(doc)
        for key, value in doc.items():
            if key == 'env':
                assert utils.strict_equal({k: v for k, v in merged['env'].items() if k not in MANAGED_ENV}, value)
                assert list(merged['env'])[:len(value)] == list(value)
            else:
                assert utils.strict_equal(merged[key], value)
        assert {k: merged['env'][k] for k in MANAGED_ENV} == MANAGED['env']
        assert merged['awsAuthRefresh'] == MANAGED['awsAuthRefresh']

        code, res = _run(capsys, workdir, path=path, state='absent', settings=MANAGED)
        assert code == 0 and res['changed'] is True
        with open(path, encoding='utf-8') as handle:
            assert handle.read() == original


@PROPERTY_SETTINGS
@given(doc=user_documents(), indent=st.sampled_from([None, 0, 1, 2, 4, '\t']),
       separators=st.sampled_from([(',', ':'), (', ', ': '), (',', ': ')]), trailing=st.sampled_from(['', '\n', ' \n\n']))
def test_file_already_holding_the_managed_data_is_never_rewritten(capsys, doc, indent, separators, trailing):
    merged = utils.merge_settings(doc, MANAGED)[0]
    text = json.dumps(merged, indent=indent, separators=separators, ensure_ascii=bool(len(trailing) % 2)) + trailing
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, 'settings.json')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(text)
        inode = os.stat(path).st_ino
        code, res = _run(capsys, workdir, path=path, settings=MANAGED)
        assert code == 0 and res['changed'] is False and res['changed_keys'] == []
        with open(path, encoding='utf-8') as handle:
            assert handle.read() == text
        assert os.stat(path).st_ino == inode


@PROPERTY_SETTINGS
@given(doc=user_documents(), cut=st.integers(min_value=1), check=st.booleans())
def test_broken_json_fails_and_is_left_untouched(capsys, doc, cut, check):
    full = utils.dump_settings(doc)
    text = full[:cut % len(full)] if len(full) > 1 else '{'
    try:
        utils.parse_settings(text)
    except utils.SettingsParseError:
        pass
    else:
        text = text + ',}'  # still valid: make it invalid for sure
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, 'settings.json')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(text)
        code, res = _run(capsys, workdir, path=path, settings=MANAGED, _ansible_check_mode=check)
        assert code == 1 and res['failed'] is True
        assert path in res['msg'] and 'not valid JSON' in res['msg']
        with open(path, encoding='utf-8') as handle:
            assert handle.read() == text


@PROPERTY_SETTINGS
@given(doc=user_documents(), managed=st.dictionaries(st.sampled_from(['env', 'model', 'permissions', 'x']), json_values, max_size=3))
def test_check_mode_predicts_the_real_run_and_writes_nothing(capsys, doc, managed):
    original = utils.dump_settings(doc)
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, 'settings.json')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(original)
        code, predicted = _run(capsys, workdir, path=path, settings=managed, _ansible_check_mode=True, _ansible_diff=True)
        assert code == 0
        with open(path, encoding='utf-8') as handle:
            assert handle.read() == original
        code, real = _run(capsys, workdir, path=path, settings=managed, _ansible_diff=True)
        assert code == 0
        assert (predicted['changed'], predicted['changed_keys']) == (real['changed'], real['changed_keys'])
        assert predicted['diff'] == real['diff']
        with open(path, encoding='utf-8') as handle:
            assert handle.read() == real['diff']['after']


@PROPERTY_SETTINGS
@given(base=json_values.filter(lambda v: isinstance(v, dict)) | user_documents(), managed=json_values.filter(lambda v: isinstance(v, dict)))
def test_merge_is_idempotent_and_reports_exactly_the_changes(base, managed):
    once, changed = utils.merge_settings(base, managed)
    twice, changed_again = utils.merge_settings(once, managed)
    assert utils.strict_equal(once, twice) and changed_again == []
    assert bool(changed) == (not utils.strict_equal(base, once))
    assert list(once)[:len(base)] == list(base)


@PROPERTY_SETTINGS
@given(base=user_documents(), managed=json_values.filter(lambda v: isinstance(v, dict)),
       paths=st.lists(st.lists(st.sampled_from(['env', 'a', 'b', 'MINE', 'permissions']), min_size=1, max_size=3), max_size=4),
       state=st.sampled_from(['present', 'absent']))
def test_planning_never_modifies_the_parsed_file(base, managed, paths, state):
    # merge and remove are copy-on-write: the data read from the file must stay as read (the diff and
    # the change detection compare against it)
    snapshot = json.loads(json.dumps(base))
    result, changed = utils.plan_settings(base, managed, paths, state)
    assert utils.strict_equal(base, snapshot)
    assert bool(changed) == (not utils.strict_equal(base, result))
