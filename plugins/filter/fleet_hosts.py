# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check claude_fleet_hosts, the inventory group or host every play of the collection's playbooks targets."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.settings_values import control_character

DOCUMENTATION = r"""
name: fleet_hosts
short_description: Check C(claude_fleet_hosts), the group or host the collection's playbooks target
version_added: 0.1.0
description:
  - Returns the value unchanged when it is one inventory group or host name (or host pattern) without
    whitespace or control characters. Fails naming C(claude_fleet_hosts) otherwise, before the play starts.
  - An empty value would make every play match no host and the run succeed having done nothing (an unset
    AWX survey answer, for example); the fleet report reads C(groups[claude_fleet_hosts]), so a space or a
    line break cannot be part of it either.
  - The playbooks pass each play's C(hosts) through it. That templating is done by the controller's main
    process, so the collection's filters are also loaded there once, before the strategy forks its workers;
    each worker would otherwise import every filter module of the collection for its first template.
options:
  _input:
    description: The value of C(claude_fleet_hosts).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Converge the laptops group
  hosts: "{{ claude_fleet_hosts | default('workstations') | claude_fleet.bedrock.fleet_hosts }}"
  tasks: []
"""

RETURN = r"""
_value:
  description: The value, unchanged.
  type: str
"""


def fleet_hosts(value):
    """Return VALUE when it can name the hosts of a play, else fail naming claude_fleet_hosts."""
    if not isinstance(value, str):
        raise AnsibleFilterError("claude_fleet_hosts must be one inventory group or host name, a string (got %s)" % type(value).__name__)
    if not value.strip():
        raise AnsibleFilterError("claude_fleet_hosts is empty: set it to the inventory group to converge (default workstations) or unset it")
    found = control_character(value)
    if found is not None:
        raise AnsibleFilterError("claude_fleet_hosts has a control character (%s at index %d)" % (found[1], found[0]))
    if any(char.isspace() for char in value):
        raise AnsibleFilterError("claude_fleet_hosts %r has whitespace: it must be one inventory group or host name" % value)
    return value


class FilterModule:
    """Playbook helper filters."""

    def filters(self):
        """Return the filters of this plugin."""
        return {"fleet_hosts": fleet_hosts}
