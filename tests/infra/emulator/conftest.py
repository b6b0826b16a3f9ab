# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's own tests: ``emu``, one emulator on the default scenario (the ``bedrock_emulator`` factory
comes from tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def emu(bedrock_emulator):
    return bedrock_emulator()
