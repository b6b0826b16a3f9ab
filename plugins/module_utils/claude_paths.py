# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where Claude Code reads its system-wide (managed) settings, per operating system.

One table for every role: the settings role writes ``managed-settings.json`` there, the claude_code
role its drop-in into ``managed-settings.d``. The directories are the ones the CLI itself uses
(2.1.332: ``/Library/Application Support/ClaudeCode`` on macOS, ``C:\\Program Files\\ClaudeCode`` on
Windows, ``/etc/claude-code`` on every other system); tests/integration/test_cli_drift.py checks
them against the binary.
"""
from __future__ import annotations

# ansible_facts['system'] -> managed settings directory; any other system reads DEFAULT_MANAGED_DIR.
MANAGED_DIRS = {
    "Darwin": "/Library/Application Support/ClaudeCode",
}
DEFAULT_MANAGED_DIR = "/etc/claude-code"
MANAGED_SETTINGS_FILE = "managed-settings.json"
DROP_IN_DIR = "managed-settings.d"
# Group of root's files: gid 0 is "wheel" on macOS (there is no group "root").
ROOT_GROUPS = {"Darwin": "wheel"}
DEFAULT_ROOT_GROUP = "root"


def claude_code_paths(facts):
    """Managed settings paths for a host, from its Ansible facts (``system``; Linux when absent)."""
    system = str((facts or {}).get("system") or "Linux")
    managed_dir = MANAGED_DIRS.get(system, DEFAULT_MANAGED_DIR)
    return {
        "system": system,
        "managed_dir": managed_dir,
        "managed_settings": managed_dir + "/" + MANAGED_SETTINGS_FILE,
        "drop_in_dir": managed_dir + "/" + DROP_IN_DIR,
        "root_group": ROOT_GROUPS.get(system, DEFAULT_ROOT_GROUP),
    }
