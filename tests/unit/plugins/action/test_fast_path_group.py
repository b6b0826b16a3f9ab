# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast_path action puts a current host in the run's group through the strategy, on every supported ansible-core."""
from __future__ import annotations

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
