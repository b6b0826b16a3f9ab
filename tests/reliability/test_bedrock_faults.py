# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bedrock faults through the emulator, seen by the real playbooks/setup.yml against a FRESH workstation.

Each case starts its own emulator (tests/infra/emulator) with a fault, points the fleet at it with
claude_fleet_bedrock_endpoint_url and runs setup.yml. Retryable faults (throttling bursts,
ServiceUnavailable) must be absorbed by the preflight's retries, and the retry count reported;
an access denial for one model must stop the run before any workstation changes, with a remedy
naming the model, the region and the IAM action. Passing cases stop after the preflight play
(--tags preflight); the converge itself is covered by test_host_faults.py.
"""
from __future__ import annotations

import collections
import os
import subprocess

import pytest

from harness import REPO, SANDBOX_SKIPS, ansible_env, recap

pytestmark = [pytest.mark.sandbox] + SANDBOX_SKIPS

OPUS = "us.anthropic.claude-opus-4-6-v1"
CHECKED_OPS = ("GetCallerIdentity", "ListInferenceProfiles", "GetInferenceProfile", "GetFoundationModel", "GetFoundationModelAvailability")
FRESH = ("test ! -e /opt/nodejs && test ! -e /usr/local/bin/claude && test ! -e /etc/claude-code && test ! -e /etc/claude-fleet "
         "&& test ! -e /home/alice/.claude && test ! -e /home/alice/.config/claude-fleet && echo fresh")


@pytest.fixture(scope="module")
def fresh(fleet_factory):
    return fleet_factory("rf")


def _run(fresh, server, preflight_only=True, **extra):
    """setup.yml against the fresh workstation and SERVER; with PREFLIGHT_ONLY, --tags preflight."""
    variables = {"claude_fleet_bedrock_endpoint_url": server.url, "claude_fleet_preflight_retry_delay": 0.2, "claude_fleet_preflight_invoke": True}
    variables.update(extra)
    argv = fresh.playbook_argv(extra=variables, report_dir=os.path.join(fresh.tmp, "report-%d" % (fresh.runs + 1)))
    if preflight_only:
        argv += ["--tags", "preflight"]
    proc = subprocess.run(argv, env=ansible_env(fresh.testbed.state), capture_output=True, text=True, timeout=900, check=False, cwd=REPO)
    return proc.returncode, proc.stdout + proc.stderr, recap(proc.stdout)


def _assert_fresh(fresh):
    _rc, out, _err = fresh.root(fresh.hosts[0], FRESH)
    assert out.decode().strip() == "fresh", "the workstation changed"


def test_throttling_burst_is_retried_and_counted(fresh, emulator):
    server = emulator(overrides={"faults": {op: {"throttle_first": 4} for op in CHECKED_OPS + ("InvokeModel",)}})
    rc, output, _summary = _run(fresh, server)
    assert rc == 0, output[-3000:]
    counters = server.counters()
    throttled = counters["errors"]["ThrottlingException"]
    assert throttled == 4 * 6
    assert "%d retry(ies)" % throttled in output, output[-3000:]
    _assert_fresh(fresh)


def test_service_unavailable_is_retried_and_counted(fresh, emulator):
    server = emulator(overrides={"faults": {op: {"unavailable_first": 2} for op in CHECKED_OPS}})
    rc, output, _summary = _run(fresh, server)
    assert rc == 0, output[-3000:]
    unavailable = server.counters()["errors"]["ServiceUnavailableException"]
    assert unavailable == 2 * len(CHECKED_OPS)
    assert "%d retry(ies)" % unavailable in output, output[-3000:]


def test_service_unavailable_beyond_the_retry_budget_fails_before_any_change(fresh, emulator):
    server = emulator(overrides={"faults": {"GetFoundationModelAvailability": {"unavailable_first": 50}}})
    rc, output, summary = _run(fresh, server, preflight_only=False, claude_fleet_preflight_retries=3)
    assert rc != 0
    assert "Amazon Bedrock is not usable for Claude Code" in output, output[-3000:]
    assert all(host["changed"] == 0 for host in summary.values()), summary
    # Each model's availability is asked at most claude_fleet_preflight_retries (3) times, however many the fleet pins.
    calls = collections.Counter(e.get("model_id") for e in server.requests() if e.get("operation") == "GetFoundationModelAvailability")
    assert calls and max(calls.values()) <= 3, calls
    _assert_fresh(fresh)


def test_access_denied_for_one_model_stops_before_any_workstation_changes(fresh, emulator):
    server = emulator("model_denied")
    rc, output, summary = _run(fresh, server, preflight_only=False, claude_fleet_bedrock_opus_model=OPUS,
                               claude_fleet_bedrock_models={"primary": "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "opus": OPUS})
    assert rc != 0
    flat = " ".join(output.split())
    assert "Amazon Bedrock is not usable for Claude Code" in flat
    remedy = next(line for line in output.splitlines() if "opus (%s)" % OPUS in line)
    assert "anthropic.claude-opus-4-6-v1" in remedy and "us-east-1" in remedy and "bedrock:" in remedy, remedy
    assert all(host["changed"] == 0 for host in summary.values()), summary
    assert "TASK [claude_fleet.bedrock.nodejs" not in output
    _assert_fresh(fresh)
