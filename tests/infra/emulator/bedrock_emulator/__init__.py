# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local Amazon Bedrock emulator (bedrock, bedrock-runtime, STS GetCallerIdentity) for tests.

    from bedrock_emulator import EmulatorServer
    with EmulatorServer("default", overrides={"access": {...}}) as emu:
        print(emu.url, emu.requests(), emu.counters())

``python -m bedrock_emulator --scenario default --port 0`` runs it standalone; see docs/emulator.md.
"""

from __future__ import annotations

from .scenario import ScenarioError, bundled_scenarios, deep_merge, load_scenario
from .server import EmulatorServer

__all__ = ["EmulatorServer", "ScenarioError", "bundled_scenarios", "deep_merge", "load_scenario"]
