# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests render role templates with Ansible's Templar: give it the collection loader, as ansible-playbook does,
so that templates can call the collection's filters by their FQCN (claude_fleet.bedrock.settings_value_errors)."""
from __future__ import annotations

import os

from ansible.plugins.loader import init_plugin_loader

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
init_plugin_loader([os.path.join(REPO, ".build", "collections")])
