# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Bedrock check per group of hosts (plugins/filter/preflight_targets.py)."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.preflight_targets import FilterModule, preflight_targets

KEYS = {'region': 'claude_fleet_bedrock_region', 'models': 'claude_fleet_bedrock_models',
        'endpoint_url': 'claude_fleet_bedrock_endpoint_url', 'profile': 'claude_fleet_aws_profile',
        'access_key': 'claude_fleet_aws_access_key'}
OWN = {'region': 'us-east-1', 'endpoint_url': '', 'profile': '', 'access_key': '', 'models': {'primary': 'm1'}}


def targets(hosts, hostvars, own=None):
    return preflight_targets(hosts, hostvars=hostvars, current='a', own=own or OWN, keys=KEYS)


def test_hosts_without_their_own_values_share_the_current_hosts_check():
    assert targets(['a', 'b', 'c'], {'b': {}, 'c': {'unrelated': 1}}) == [
        {'host': 'a', 'region': 'us-east-1', 'endpoint_url': '', 'profile': '', 'models': {'primary': 'm1'},
         'hosts': 3, 'label': 'us-east-1, 3 hosts'}]


def test_each_deciding_value_makes_its_own_group_in_host_order():
    hostvars = {'b': {'claude_fleet_bedrock_region': 'eu-west-1'},
                'c': {'claude_fleet_bedrock_region': 'eu-west-1', 'claude_fleet_aws_profile': 'dev'},
                'd': {'claude_fleet_bedrock_region': 'eu-west-1'},
                'e': {'claude_fleet_bedrock_models': {'primary': 'm2'}},
                'f': {'claude_fleet_aws_access_key': 'AKIA2'},
                'g': {'claude_fleet_bedrock_endpoint_url': 'https://vpce.example'}}
    result = targets(['b', 'a', 'c', 'd', 'e', 'f', 'g'], hostvars)
    assert [(t['host'], t['hosts']) for t in result] == [('b', 2), ('a', 1), ('c', 1), ('e', 1), ('f', 1), ('g', 1)]
    assert [t['label'] for t in result] == [
        'eu-west-1, 2 hosts', 'us-east-1, 1 host', 'eu-west-1, profile dev, 1 host', 'us-east-1, 1 host', 'us-east-1, 1 host',
        'us-east-1, endpoint https://vpce.example, 1 host']
    assert result[3]['models'] == {'primary': 'm2'}
    # The access key id tells credentials apart but is not part of a target.
    assert all('access_key' not in t for t in result)


def test_no_region_is_said():
    [target] = targets(['a'], {}, own=dict(OWN, region=''))
    assert target['label'] == '(no region), 1 host'


def test_rejects_incomplete_options():
    with pytest.raises(AnsibleFilterError, match='own and keys'):
        preflight_targets(['a'], hostvars={}, current='a', own={'region': 'x'}, keys=KEYS)


def test_the_filter_is_registered():
    assert FilterModule().filters()['preflight_targets'] is preflight_targets
