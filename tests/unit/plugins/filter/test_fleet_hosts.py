# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""claude_fleet_hosts as every play of the collection's playbooks reads it (plugins/filter/fleet_hosts.py)."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.fleet_hosts import fleet_hosts


@pytest.mark.parametrize('value', ['workstations', 'localhost', 'laptops:&eu', 'dev-vm-01.example.com', 'ws[0:9]'])
def test_a_group_host_or_pattern_is_returned_unchanged(value):
    assert fleet_hosts(value) == value


@pytest.mark.parametrize('value, expected', [
    ('', 'claude_fleet_hosts is empty'),
    ('  ', 'claude_fleet_hosts is empty'),
    ('workstations\nall', 'claude_fleet_hosts has a control character (U+000A'),
    ('work\x1b[2Jstations', 'claude_fleet_hosts has a control character (U+001B'),
    ('work stations', "claude_fleet_hosts 'work stations' has whitespace"),
    (['workstations'], 'claude_fleet_hosts must be one inventory group or host name, a string (got list)'),
    (None, 'claude_fleet_hosts must be one inventory group or host name, a string (got NoneType)'),
])
def test_a_value_that_names_no_group_fails_naming_the_variable(value, expected):
    with pytest.raises(AnsibleFilterError) as caught:
        fleet_hosts(value)
    assert expected in str(caught.value)
