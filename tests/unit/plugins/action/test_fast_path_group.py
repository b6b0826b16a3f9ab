# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast_path action puts a current host in the run's group through the strategy, on every supported ansible-core."""
from __future__ import annotations

import hashlib
from unittest import mock

from ansible_collections.claude_fleet.bedrock.plugins.action import fast_path


def plugin():
    task = mock.MagicMock(async_val=0, check_mode=False, diff=False, args={})
    return fast_path.ActionModule(task, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), mock.MagicMock())


def test_with_the_strategys_add_group_the_host_joins_through_it():
    action, result = plugin(), {}
    action.add_group = mock.MagicMock(return_value=True)
    action._join(result, 'claude_fleet_fast_path')  # pylint: disable=protected-access
    action.add_group.assert_called_once_with('claude_fleet_fast_path', parent_group_names=['all'])
    assert 'add_group' not in result


def test_without_it_the_result_names_the_group_as_group_by_does():
    action, result = plugin(), {}
    if hasattr(action, 'add_group'):  # ansible-core 2.21+: hide the method to take the older path
        action.add_group = None
    action._join(result, 'claude_fleet_fast_path')  # pylint: disable=protected-access
    assert result == {'add_group': 'claude_fleet_fast_path', 'parent_groups': ['all']}


def test_rendered_pins_are_kept_across_runs_0600_bounded_and_by_collection(tmp_path):
    kept = fast_path._Kept(str(tmp_path / 'cache'))  # pylint: disable=protected-access
    assert not kept.has('k1', 'c1')
    kept.put('k1', 'c1', {'ANTHROPIC_MODEL': 'us.anthropic.claude-opus-5-5'})
    kept.save()
    path = tmp_path / 'cache' / 'fast_path.json'
    assert oct(path.stat().st_mode & 0o777) == '0o600' and oct((tmp_path / 'cache').stat().st_mode & 0o777) == '0o700'
    again = fast_path._Kept(str(tmp_path / 'cache'))  # pylint: disable=protected-access
    assert again.get('k1', 'c1') == {'ANTHROPIC_MODEL': 'us.anthropic.claude-opus-5-5'}
    assert not again.has('k1', 'c2'), 'another collection renders its own'
    for index in range(fast_path._Kept._KEEP + 5):  # pylint: disable=protected-access
        again.put('n%d' % index, 'c1', index)
    again.save()
    newest = fast_path._Kept(str(tmp_path / 'cache'))  # pylint: disable=protected-access
    assert newest.has('n%d' % (fast_path._Kept._KEEP + 4), 'c1') and not newest.has('k1', 'c1')  # pylint: disable=protected-access
    path.write_text('{not json')
    assert not fast_path._Kept(str(tmp_path / 'cache')).has('n0', 'c1'), 'an unreadable cache is empty'  # pylint: disable=protected-access
    assert not fast_path._Kept('').has('k1', 'c1'), 'no directory, no cache'  # pylint: disable=protected-access


def test_template_references_are_kept_across_runs_by_collection_and_seed_the_next_runs_first_worker(tmp_path):
    kept = fast_path._Kept(str(tmp_path / 'cache'))  # pylint: disable=protected-access
    assert kept.references('c1') is None
    text = '{{ claude_fleet_bedrock_model }}'
    known = {hashlib.sha256(text.encode('utf-8')).hexdigest(): [['claude_fleet_bedrock_model'], [], False, True]}
    kept.keep_references('c1', known)
    path = tmp_path / 'cache' / 'fast_path_references.json'
    assert oct(path.stat().st_mode & 0o777) == '0o600'
    assert fast_path._Kept(str(tmp_path / 'cache')).references('c1') == known  # pylint: disable=protected-access
    assert fast_path._Kept(str(tmp_path / 'cache')).references('c2') is None, 'another collection parses its own'  # pylint: disable=protected-access
    too_many = {str(i): [[], [], False, True] for i in range(fast_path._Kept._KEEP_REFERENCES + 1)}  # pylint: disable=protected-access
    kept.keep_references('c1', too_many)
    assert fast_path._Kept(str(tmp_path / 'cache')).references('c1') == known, 'an unbounded set is not kept'  # pylint: disable=protected-access

    action = plugin()
    action._collection_digest = lambda: 'c1'  # pylint: disable=protected-access
    shared = mock.MagicMock(added=False)
    shared.references = fast_path.fp.References()
    action._start_from_earlier(shared, fast_path._Kept(str(tmp_path / 'cache')))  # pylint: disable=protected-access
    assert shared.references.known == known and shared.added is True, 'the first worker starts from the kept references'
    with mock.patch.object(fast_path.fp, 'template_references', side_effect=AssertionError('parsed again')):
        assert shared.references.of(text) == [['claude_fleet_bedrock_model'], [], False, True]
    ongoing = mock.MagicMock(added=False)
    ongoing.references = fast_path.fp.References({'e' * 64: [[], [], False, True]})
    action._start_from_earlier(ongoing, fast_path._Kept(str(tmp_path / 'cache')))  # pylint: disable=protected-access
    assert list(ongoing.references.known) == ['e' * 64] and ongoing.added is False, 'a later worker keeps the run\'s own'
    path.write_text('{not json')
    assert fast_path._Kept(str(tmp_path / 'cache')).references('c1') is None, 'an unreadable file is no references'  # pylint: disable=protected-access
