# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registers the bedrock_emulator fixtures for tests/emulator."""

from __future__ import annotations

pytest_plugins = ["bedrock_emulator.pytest_plugin"]
