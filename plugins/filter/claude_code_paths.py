# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where Claude Code reads its managed settings on a host."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.claude_paths import claude_code_paths as _paths

DOCUMENTATION = r"""
name: claude_code_paths
short_description: Managed settings paths of Claude Code for a host
version_added: 0.1.0
description:
  - From a host's facts, the directory where Claude Code reads its managed (policy) settings,
    the C(managed-settings.json) file in it, the C(managed-settings.d) drop-in directory and the
    group of root's files.
  - C(/Library/Application Support/ClaudeCode) on macOS (C(system) V(Darwin)), C(/etc/claude-code)
    on Linux and every other system, as the CLI itself reads them.
options:
  _input:
    description: The host's C(ansible_facts) (only C(system) is read; V(Linux) when it is missing).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Where the managed settings go on this host
  ansible.builtin.set_fact:
    managed_file: "{{ (ansible_facts | claude_fleet.bedrock.claude_code_paths).managed_settings }}"
"""

RETURN = r"""
_value:
  description: The paths.
  type: dict
  contains:
    system:
      description: The C(system) fact the paths were chosen for.
      type: str
    managed_dir:
      description: The managed settings directory.
      type: str
    managed_settings:
      description: The C(managed-settings.json) file.
      type: str
    drop_in_dir:
      description: The C(managed-settings.d) directory, whose C(*.json) files Claude Code merges into its managed settings.
      type: str
    root_group:
      description: The group of root's files (V(wheel) on macOS, else V(root)).
      type: str
"""


def claude_code_paths(facts):
    """Return the managed settings paths for a host with FACTS."""
    if facts is not None and not isinstance(facts, dict):
        raise AnsibleFilterError("claude_code_paths expects the host's ansible_facts (a dict), got %s" % type(facts).__name__)
    return _paths(facts)


class FilterModule:
    """Claude Code path filters."""

    def filters(self):
        """Return the filters of this plugin."""
        return {"claude_code_paths": claude_code_paths}
