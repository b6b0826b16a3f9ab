# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The claude_code role's drop-in policy (the role's own rendering is tested in tests/unit/roles/test_claude_code_paths.py)."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.claude_code_update_policy import (
    OWNED_KEYS, FilterModule, claude_code_update_policy)

PINNED = {'disable_updates': True, 'auto_updates_channel': '', 'enforce_version': True, 'version': '2.1.332',
          'policy_version': '2.1.332'}


def policy(**changes):
    return claude_code_update_policy(dict(PINNED, **changes))


def test_a_pinned_release_with_self_update_off_is_floor_and_ceiling():
    assert policy() == {'settings': {'env': {'DISABLE_AUTOUPDATER': '1', 'DISABLE_UPDATES': '1'},
                                     'requiredMinimumVersion': '2.1.332', 'requiredMaximumVersion': '2.1.332'},
                        'remove': ['autoUpdatesChannel']}


def test_latest_resolved_is_a_floor_only():
    result = policy(version='latest', policy_version='2.1.340')
    assert result['settings']['requiredMinimumVersion'] == '2.1.340'
    assert 'requiredMaximumVersion' not in result['settings'] and 'requiredMaximumVersion' in result['remove']


def test_an_unknown_release_neither_sets_nor_removes_the_version_keys():
    result = policy(version='latest', policy_version='')
    assert result == {'settings': {'env': {'DISABLE_AUTOUPDATER': '1', 'DISABLE_UPDATES': '1'}}, 'remove': ['autoUpdatesChannel']}


def test_self_update_on_may_set_the_channel_and_removes_the_env_keys():
    result = policy(disable_updates=False, auto_updates_channel='stable')
    assert result == {'settings': {'autoUpdatesChannel': 'stable', 'requiredMinimumVersion': '2.1.332'},
                      'remove': ['env.DISABLE_AUTOUPDATER', 'env.DISABLE_UPDATES', 'requiredMaximumVersion']}


def test_the_channel_is_moot_while_self_update_is_off():
    result = policy(auto_updates_channel='rc')
    assert 'autoUpdatesChannel' not in result['settings'] and 'autoUpdatesChannel' in result['remove']


def test_nothing_to_enforce_removes_every_owned_key():
    result = policy(disable_updates=False, enforce_version=False)
    assert result == {'settings': {}, 'remove': OWNED_KEYS}


def test_rejects_what_is_not_a_mapping():
    with pytest.raises(AnsibleFilterError, match='dictionary'):
        claude_code_update_policy(['x'])


def test_the_filter_is_registered():
    assert FilterModule().filters()['claude_code_update_policy'] is claude_code_update_policy
