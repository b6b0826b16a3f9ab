# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-OS managed settings paths (one table) and the claude_code role's update and version policy.

The roles' expressions are rendered by Ansible's own templating from their defaults and vars, with the
collection's filters loaded, over the facts of a Debian, a RHEL and a macOS host.
"""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.claude_code_paths import FilterModule, claude_code_paths
from role_render import render

# The facts that decide (as gathered on each OS; only "system" matters).
DEBIAN = {'system': 'Linux', 'os_family': 'Debian', 'distribution': 'Debian', 'architecture': 'x86_64'}
RHEL = {'system': 'Linux', 'os_family': 'RedHat', 'distribution': 'RedHat', 'architecture': 'x86_64'}
DARWIN = {'system': 'Darwin', 'os_family': 'Darwin', 'distribution': 'MacOSX', 'architecture': 'arm64'}
MAC_DIR = '/Library/Application Support/ClaudeCode'


@pytest.mark.parametrize('facts, managed_dir, group', [
    (DEBIAN, '/etc/claude-code', 'root'),
    (RHEL, '/etc/claude-code', 'root'),
    (DARWIN, MAC_DIR, 'wheel'),
    ({'system': 'FreeBSD'}, '/etc/claude-code', 'root'),  # the CLI reads /etc/claude-code on every non-macOS Unix
    ({}, '/etc/claude-code', 'root'),                       # facts not gathered: Linux
])
def test_the_table(facts, managed_dir, group):
    paths = claude_code_paths(facts)
    assert paths['managed_dir'] == managed_dir
    assert paths['managed_settings'] == managed_dir + '/managed-settings.json'
    assert paths['drop_in_dir'] == managed_dir + '/managed-settings.d'
    assert paths['root_group'] == group
    assert FilterModule().filters()['claude_code_paths'] is claude_code_paths


def test_facts_that_are_not_a_dict_are_an_error():
    with pytest.raises(AnsibleFilterError, match='ansible_facts'):
        claude_code_paths('Darwin')


@pytest.mark.parametrize('facts, managed_dir, group', [(DEBIAN, '/etc/claude-code', 'root'), (RHEL, '/etc/claude-code', 'root'),
                                                       (DARWIN, MAC_DIR, 'wheel')])
def test_both_roles_write_where_claude_code_reads_on_each_os(facts, managed_dir, group):
    assert render('settings', '_settings_managed_file', ansible_facts=facts) == managed_dir + '/managed-settings.json'
    assert render('settings', '_settings_root_group', ansible_facts=facts) == group
    assert render('settings', '_settings_ca_path', ansible_facts=facts) == managed_dir + '/ca-certificates.pem'
    # The update-policy drop-in goes into the same directory's managed-settings.d (it went to /etc on macOS before).
    assert render('claude_code', '_claude_code_update_policy_file', ansible_facts=facts) == (
        managed_dir + '/managed-settings.d/10-claude-fleet-updates.json')
    assert render('claude_code', '_claude_code_paths.root_group', ansible_facts=facts) == group


def test_explicit_paths_win():
    assert render('settings', '_settings_managed_file', ansible_facts=DARWIN, settings_managed_path='/opt/x.json') == '/opt/x.json'
    assert render('claude_code', '_claude_code_update_policy_file', ansible_facts=DARWIN,
                  claude_code_update_policy_file='/etc/cc/managed-settings.d/x.json') == '/etc/cc/managed-settings.d/x.json'


# --- the drop-in's update and version policy -------------------------------------------------------

ALL_KEYS = {'env.DISABLE_AUTOUPDATER', 'env.DISABLE_UPDATES', 'autoUpdatesChannel', 'requiredMinimumVersion', 'requiredMaximumVersion'}


def policy(**variables):
    variables.setdefault('ansible_facts', DEBIAN)
    return (render('claude_code', '_claude_code_update_policy', **variables),
            set(render('claude_code', '_claude_code_update_policy_remove', **variables)))


def _written(document):
    return {('env.' + k) for k in document.get('env', {})} | (set(document) - {'env'})


def test_a_pinned_release_is_floor_and_ceiling():
    document, remove = policy()
    assert document == {'env': {'DISABLE_AUTOUPDATER': '1', 'DISABLE_UPDATES': '1'},
                        'requiredMinimumVersion': '2.1.332', 'requiredMaximumVersion': '2.1.332'}
    assert remove == ALL_KEYS - _written(document) == {'autoUpdatesChannel'}


def test_latest_is_the_resolved_version_as_floor_only():
    document, remove = policy(claude_code_version='latest', _claude_code_target='2.1.340')
    assert document['requiredMinimumVersion'] == '2.1.340'
    assert 'requiredMaximumVersion' in remove and 'requiredMaximumVersion' not in document


def test_latest_unresolved_leaves_the_version_keys_alone():
    # A run limited to the configure tag: no version is known, so neither written nor removed.
    document, remove = policy(claude_code_version='latest')
    assert not {'requiredMinimumVersion', 'requiredMaximumVersion'} & (set(document) | remove)


def test_the_resolved_target_wins_over_the_pin():
    document, _remove = policy(claude_code_version='2.1.332', _claude_code_target='2.1.332')
    assert document['requiredMaximumVersion'] == '2.1.332'


def test_self_update_on_has_no_ceiling_and_may_set_the_channel():
    document, remove = policy(claude_code_disable_updates=False, claude_code_auto_updates_channel='stable')
    assert document == {'autoUpdatesChannel': 'stable', 'requiredMinimumVersion': '2.1.332'}
    assert remove == {'env.DISABLE_AUTOUPDATER', 'env.DISABLE_UPDATES', 'requiredMaximumVersion'}


def test_the_channel_is_moot_while_self_update_is_off():
    document, remove = policy(claude_code_auto_updates_channel='rc')
    assert 'autoUpdatesChannel' not in document and 'autoUpdatesChannel' in remove


def test_enforcement_off_removes_the_version_keys():
    document, remove = policy(claude_code_enforce_version=False)
    assert document == {'env': {'DISABLE_AUTOUPDATER': '1', 'DISABLE_UPDATES': '1'}}
    assert {'requiredMinimumVersion', 'requiredMaximumVersion'} <= remove


def test_nothing_to_enforce_is_an_empty_policy():
    document, remove = policy(claude_code_disable_updates=False, claude_code_enforce_version=False)
    assert document == {} and remove == ALL_KEYS
