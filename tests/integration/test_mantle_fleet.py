# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One sandbox workstation converged on Amazon Bedrock (Mantle) (tests/mantle.yml over tests/group_vars).

setup.yml runs the controller preflight against the emulator's Mantle Messages API, converges the workstation,
and the smoke test runs every developer's real ``claude -p`` in their login shell (bash, zsh, fish). The test then
runs each user's ``claude -p`` itself and reads the emulator log: every answer came from Mantle's /v1/messages
with the pinned Mantle model ids, none from bedrock-runtime.
"""
from __future__ import annotations

import json
import os

import pytest
import yaml

from harness import REPO, SANDBOX_SKIPS, shlex_quote

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, *SANDBOX_SKIPS]

with open(os.path.join(REPO, "tests", "mantle.yml"), encoding="utf-8") as _handle:
    MANTLE = yaml.safe_load(_handle)
PINS = {v for k, v in MANTLE.items() if k.startswith("claude_fleet_bedrock_") and k.endswith("model")}
USERS = {"alice": "bash", "bob": "zsh", "carol": "fish"}


def emulator_log(bed):
    with open(os.path.join(bed.state, "emulator.log"), encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture(scope="module")
def fleet(testbed_factory, fleet_factory):
    """The module's own test bed (the emulator log is read) and workstation, converged once on Mantle."""
    bed = testbed_factory()
    work = fleet_factory("mntl", testbed=bed)
    rc, output, _recap = work.play(extra=MANTLE, report_dir=os.path.join(work.tmp, "converge"))
    work.converge_output = output
    assert rc == 0, output[-4000:]
    return work, bed


def test_converge_and_smoke_on_mantle_for_every_user_and_shell(fleet):
    work, bed = fleet
    with open(os.path.join(work.tmp, "converge", "fleet-report.json"), encoding="utf-8") as handle:
        row = json.load(handle)["hosts"][0]
    smoke = {s["user"]: s["status"] for s in row["smoke"]}
    assert smoke == {user: "passed" for user in USERS}, row["smoke"]
    log = emulator_log(bed)
    # The controller preflight: one 1-token Messages call per distinct pin.
    probes = [e for e in log if e["operation"] == "Messages" and e["max_tokens"] == 1 and e["status"] == 200]
    assert PINS <= {e["model_id"] for e in probes}
    # The workstations' CLIs streamed from Mantle's /v1/messages, with the pinned ids, signed for bedrock-mantle.
    streams = [e for e in log if e["operation"] == "MessagesStream"]
    assert streams and all(e["path"] == "/v1/messages" and e["service"] == "bedrock-mantle" and e["auth"] == "sigv4" for e in streams)
    assert {e["model_id"] for e in streams} <= PINS and all(e["status"] == 200 for e in streams)
    assert [e for e in log if e["service"] == "bedrock-runtime"] == []


def test_settings_on_the_workstation(fleet):
    work, _bed = fleet
    host = work.hosts[0]
    managed = json.loads(work.get(host, "/etc/claude-code/managed-settings.json"))["env"]
    assert managed["CLAUDE_CODE_USE_MANTLE"] == "1"
    assert managed["ANTHROPIC_BEDROCK_MANTLE_BASE_URL"] == work.testbed.read("emulator.url")
    assert "CLAUDE_CODE_USE_BEDROCK" not in managed and "ANTHROPIC_BEDROCK_BASE_URL" not in json.dumps(managed)
    user_env = json.loads(work.get(host, "/home/alice/.claude/settings.json"))["env"]
    assert user_env["ANTHROPIC_DEFAULT_SONNET_MODEL"] == MANTLE["claude_fleet_bedrock_sonnet_model"]
    assert "CLAUDE_CODE_USE_BEDROCK" not in user_env


@pytest.mark.parametrize("user", sorted(USERS))
def test_each_users_real_claude_answers_through_mantle(fleet, user):
    work, bed = fleet
    before = len(emulator_log(bed))
    # su - runs the user's login shell (bash, zsh or fish), which reads the environment the role wrote.
    command = "su - %s -c %s" % (user, shlex_quote("claude -p 'Say hello'"))
    rc, out, err = work.root(work.hosts[0], "timeout 120 " + command, timeout=180)
    assert rc == 0, err
    assert "Hello from the Bedrock emulator (model %s, region us-east-1)." % MANTLE["claude_fleet_bedrock_model"] in out.decode()
    new = emulator_log(bed)[before:]
    assert any(e["operation"] == "MessagesStream" and e["model_id"] == MANTLE["claude_fleet_bedrock_model"] for e in new), new


def test_a_runtime_pin_stops_the_run_before_any_change(fleet):
    work, _bed = fleet
    host = work.hosts[0]
    before = work.get(host, "/home/alice/.claude/settings.json")
    bad = dict(MANTLE, claude_fleet_bedrock_haiku_model="us.anthropic.claude-haiku-4-5-20251001-v1:0")
    rc, output, _recap = work.play(extra=bad, report_dir=os.path.join(work.tmp, "bad-pin"))
    assert rc != 0
    assert "cannot be called on Amazon Bedrock (Mantle)" in output and "anthropic.claude-haiku-4-5" in output
    assert work.get(host, "/home/alice/.claude/settings.json") == before
