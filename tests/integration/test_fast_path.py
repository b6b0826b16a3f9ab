# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast no-op path of setup.yml (docs/fast-path.md) on one sandbox workstation.

A re-run whose inputs and managed files are unchanged skips the roles in one call per host; any
drift in a managed file, any input change, selected tags, or a removed stamp runs the roles again.
The first test proves the stamp covers every file a fresh converge writes. The model changes go
from the fleet's unsuffixed id to a dated one and back.
"""
from __future__ import annotations

import json
import os
import re
import time
import urllib.request

import pytest
import yaml

from harness import SANDBOX_SKIPS

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, *SANDBOX_SKIPS]

STAMP = "/var/lib/claude_fleet/converge.json"
with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "group_vars", "workstations.yml"), encoding="utf-8") as _handle:
    # The test fleet pins today's ids, without a date/version suffix.
    MODEL_A = yaml.safe_load(_handle)["claude_fleet_bedrock_model"]
# A dated id with its -vN:M suffix: the model changes go from one id style to the other and back.
MODEL_B = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SMOKE_OFF = {"claude_fleet_smoke_enabled": False}
FAST_CALL = "claude_fleet.bedrock._stamp : Fast path | Compare the workstation with its last converge and write new model pins"
# Trees a fresh converge writes that the stamp covers by a probe of their version-defining file
# (the node binary behind /opt/nodejs/current, the package.json of the CLI), and files the OS derives
# from managed ones (the CA bundle update-ca-certificates rebuilds from the managed anchor).
COVERED_TREES = ("/opt/nodejs/", "/usr/local/lib/node_modules/", "/etc/ssl/certs/")
# Volatile state that is not the converge's result: caches, logs, package manager state, Ansible's own.
VOLATILE = re.compile(r"^/(proc|sys|dev|run|tmp|var/tmp|var/log|var/cache|var/lib/apt|var/lib/dpkg|root)/"
                      r"|^/home/[^/]+/\.(ansible|npm|cache)/|^/home/admin/|/\.claude-fleet/cache/|^/var/lib/claude_fleet/"
                      r"|^/etc/(ld\.so\.cache|ca-certificates\.conf)$|^/usr/local/share/ca-certificates/$")


@pytest.fixture(scope="module")
def fleet(testbed_factory, fleet_factory):
    """The module's own test bed (the emulator log is read) and workstation, converged once."""
    work = fleet_factory("fast", testbed=testbed_factory())
    host = work.hosts[0]
    # Files the sandbox's boot writes (host keys, hostname) are older than the marker.
    time.sleep(1.1)
    rc, _out, err = work.root(host, "touch /var/tmp/before-converge")
    assert rc == 0, err
    rc, output, _recap = work.play(extra=SMOKE_OFF, report_dir=os.path.join(work.tmp, "report"))
    assert rc == 0, output[-3000:]
    rc, out, err = work.root(host, "find / -xdev -newer /var/tmp/before-converge \\( -type f -o -type l \\) -print")
    assert rc == 0, err
    work.written = sorted(set(out.decode().split()))
    return work


def stamp(fleet):
    return json.loads(fleet.get(fleet.hosts[0], STAMP))


def report(fleet, name):
    with open(os.path.join(fleet.tmp, name, "fleet-report.json"), encoding="utf-8") as handle:
        return {row["host"]: row for row in json.load(handle)["hosts"]}


def run(fleet, name, extra=None, **kwargs):
    rc, output, recap = fleet.play(extra=dict(SMOKE_OFF, **(extra or {})), report_dir=os.path.join(fleet.tmp, name), **kwargs)
    assert rc == 0, output[-3000:]
    return output, recap[fleet.hosts[0]]


def role_tasks_ran(output):
    """Names of role tasks that ran (not skipped) on the workstation.

    Aside: argument validation, which Ansible runs whatever the tags.
    """
    ran = set()
    for match in re.finditer(r"^TASK \[claude_fleet\.bedrock\.(nodejs|claude_code|settings) : ([^\]]+)\]\s*\**\n((?:.+\n)*?)\n", output, re.M):
        if match.group(2).startswith("Validating arguments against arg spec"):
            continue
        if re.search(r"^(ok|changed): ", match.group(3), re.M):
            ran.add("%s : %s" % (match.group(1), match.group(2)))
    return ran


def test_the_stamp_covers_every_file_a_fresh_converge_writes(fleet):
    recorded = stamp(fleet)["paths"]
    # Paths a role declares written but not probed (its contract's unprobed), each with the reason.
    unprobed = stamp(fleet)["unprobed"]
    assert all(reason.strip() for reason in unprobed.values()), unprobed
    written = [p for p in fleet.written if not VOLATILE.search(p) and not p.startswith(COVERED_TREES)]
    assert written, "the converge wrote nothing outside the covered trees: the find found %d files" % len(fleet.written)
    declared = [p for p in written if any(p == u or p.startswith(u.rstrip("/") + "/") for u in unprobed)]
    assert not [p for p in declared if p in recorded], "a path is both probed and declared unprobed"
    missing = [p for p in written if p not in recorded and p not in declared]
    assert missing == [], "files the converge wrote that the stamp does not probe: %s" % missing
    assert recorded["/opt/nodejs/current"]["type"] == "link"
    assert any(p.endswith("/claude-code/package.json") and v.get("hmac") for p, v in recorded.items())


def test_a_rerun_skips_the_roles_in_one_call_and_changes_nothing(fleet):
    output, recap = run(fleet, "rerun")
    assert recap["changed"] == 0 and recap["failed"] == 0
    assert role_tasks_ran(output) == set()
    row = report(fleet, "rerun")[fleet.hosts[0]]
    assert row["fast_path"] is True
    assert row["claude_code_version"] == stamp(fleet)["facts"]["claude_code_version"]
    # The converged host has nothing left to run with the smoke test off: the smoke play leaves it out (its
    # report row comes from the stamp, above), so a no-op costs that one task per host.
    smoke_play = output[output.index("PLAY [Smoke"):output.index("PLAY [Report")]
    assert "skipping: no hosts matched" in smoke_play and fleet.hosts[0] not in smoke_play, smoke_play


def test_check_mode_on_a_current_host_writes_nothing(fleet):
    before = fleet.get(fleet.hosts[0], STAMP)
    rc, output, recap = fleet.play(extra=SMOKE_OFF, check=True, report_dir=os.path.join(fleet.tmp, "check"))
    assert rc == 0, output[-3000:]
    assert recap[fleet.hosts[0]]["changed"] == 0
    assert fleet.get(fleet.hosts[0], STAMP) == before


def test_drift_in_a_managed_file_runs_the_roles_and_repairs_it(fleet):
    host = fleet.hosts[0]
    rc, _out, err = fleet.root(host, "rm /home/alice/.claude/settings.json && echo 'alias gs=\"git status\"' >> /home/bob/.zshenv")
    assert rc == 0, err
    output, recap = run(fleet, "drift", verbosity=1)
    assert "/home/alice/.claude/settings.json is gone" in output
    assert "/home/bob/.zshenv content changed" in output
    assert recap["changed"] == 1, "only alice's settings.json is rewritten"
    assert report(fleet, "drift")[host]["fast_path"] is False
    assert json.loads(fleet.get(host, "/home/alice/.claude/settings.json"))["env"]["AWS_REGION"] == "us-east-1"
    assert b'alias gs="git status"' in fleet.get(host, "/home/bob/.zshenv")
    output, recap = run(fleet, "after-drift")
    assert recap["changed"] == 0 and role_tasks_ran(output) == set(), "the repaired host is current again"


def changed_tasks(output, host):
    """Names of the tasks that reported changed on HOST."""
    return set(re.findall(r"^TASK \[([^\]]+)\][^\n]*\n(?:(?!TASK ).*\n)*?changed: \[%s\]" % re.escape(host), output, re.M))


def test_a_bad_model_pin_fails_the_host_before_any_change(fleet):
    host = fleet.hosts[0]
    before = fleet.get(host, "/home/alice/.claude/settings.json")
    rc, output, _recap = fleet.play(extra=dict(SMOKE_OFF, claude_fleet_bedrock_model="claude-best", claude_fleet_preflight=False))
    assert rc != 0
    assert "settings_model \"claude-best\" is neither a Bedrock" in output
    assert fleet.get(host, "/home/alice/.claude/settings.json") == before


def test_a_model_change_rewrites_only_the_settings_files_in_one_call(fleet):
    host = fleet.hosts[0]
    files = {user: "/home/%s/.claude/settings.json" % user for user in ("alice", "bob", "carol")}
    before = {user: json.loads(fleet.get(host, path)) for user, path in files.items()}
    output, recap = run(fleet, "model", extra={"claude_fleet_bedrock_model": MODEL_B}, verbosity=1)
    assert '"pins_changed": ["ANTHROPIC_MODEL"]' in output
    assert changed_tasks(output, host) == {FAST_CALL}
    assert recap["changed"] == 1 and role_tasks_ran(output) == set()
    assert report(fleet, "model")[host]["model"] == MODEL_B
    for user, path in files.items():
        after = json.loads(fleet.get(host, path))
        assert after["env"].pop("ANTHROPIC_MODEL") == MODEL_B
        before[user]["env"].pop("ANTHROPIC_MODEL")
        assert after == before[user], "only the pin changed in %s" % path
    output, recap = run(fleet, "model-again", extra={"claude_fleet_bedrock_model": MODEL_B})
    assert recap["changed"] == 0 and role_tasks_ran(output) == set()
    # The roles, run in full, find nothing to change: the fast path wrote what they would.
    output, recap = run(fleet, "model-full", extra={"claude_fleet_bedrock_model": MODEL_B, "claude_fleet_fast_path": False})
    assert recap["changed"] == 0
    assert any(name.startswith("settings : ") for name in role_tasks_ran(output))


def test_after_a_model_change_each_users_claude_reaches_bedrock_with_the_new_model(fleet):
    host = fleet.hosts[0]
    log = os.path.join(fleet.testbed.state, "emulator.log")
    start = os.path.getsize(log)
    _output, recap = run(fleet, "model-smoke", extra={"claude_fleet_bedrock_model": MODEL_B, "claude_fleet_smoke_enabled": True})
    assert recap["changed"] == 0
    row = report(fleet, "model-smoke")[host]
    assert row["fast_path"] is True
    assert sorted((s["user"], s["status"]) for s in row["smoke"]) == [("alice", "passed"), ("bob", "passed"), ("carol", "passed")]
    with open(log, encoding="utf-8") as handle:
        handle.seek(start)
        streams = [e for e in map(json.loads, handle.read().splitlines()) if e.get("operation") == "InvokeModelWithResponseStream"]
    assert len(streams) >= 3 and {e["model_id"] for e in streams} == {MODEL_B}


def test_a_model_change_back_to_an_unsuffixed_id_in_one_call(fleet):
    host = fleet.hosts[0]
    assert not MODEL_A.endswith(":0") and MODEL_B.endswith("-v1:0")
    log = os.path.join(fleet.testbed.state, "emulator.log")
    start = os.path.getsize(log)
    output, recap = run(fleet, "model-back", extra={"claude_fleet_smoke_enabled": True}, verbosity=1)
    assert '"pins_changed": ["ANTHROPIC_MODEL"]' in output
    assert changed_tasks(output, host) == {FAST_CALL}
    assert recap["changed"] == 1 and role_tasks_ran(output) == set()
    row = report(fleet, "model-back")[host]
    assert row["model"] == MODEL_A and row["fast_path"] is True
    for user in ("alice", "bob", "carol"):
        assert json.loads(fleet.get(host, "/home/%s/.claude/settings.json" % user))["env"]["ANTHROPIC_MODEL"] == MODEL_A
    assert sorted((s["user"], s["status"]) for s in row["smoke"]) == [("alice", "passed"), ("bob", "passed"), ("carol", "passed")]
    with open(log, encoding="utf-8") as handle:
        handle.seek(start)
        streams = [e for e in map(json.loads, handle.read().splitlines()) if e.get("operation") == "InvokeModelWithResponseStream"]
    assert len(streams) >= 3 and {e["model_id"] for e in streams} == {MODEL_A}


def test_pins_shared_with_the_shell_make_a_model_change_run_the_roles(fleet):
    keys = ["CLAUDE_CODE_USE_BEDROCK", "AWS_REGION", "AWS_PROFILE", "ANTHROPIC_MODEL"]
    output, recap = run(fleet, "shell-pins", extra={"claude_fleet_bedrock_model": MODEL_B, "settings_shell_env_keys": keys})
    assert any(name.startswith("settings : ") for name in role_tasks_ran(output))
    assert b"ANTHROPIC_MODEL" in fleet.get(fleet.hosts[0], "/home/alice/.config/claude-fleet/env.sh")
    output, recap = run(fleet, "shell-pins-back", extra={"claude_fleet_bedrock_model": MODEL_B})
    assert recap["changed"] >= 1 and b"ANTHROPIC_MODEL" not in fleet.get(fleet.hosts[0], "/home/alice/.config/claude-fleet/env.sh")


def test_selected_tags_run_the_selected_role_and_write_no_stamp(fleet):
    before = fleet.get(fleet.hosts[0], STAMP)
    output, _recap = run(fleet, "tags", extra={"claude_fleet_bedrock_model": MODEL_B}, tags="settings")
    ran = role_tasks_ran(output)
    assert ran and all(name.startswith("settings : ") for name in ran), ran
    assert fleet.get(fleet.hosts[0], STAMP) == before


def test_a_node_binary_corrupted_in_place_is_not_reported_converged(fleet):
    host = fleet.hosts[0]
    # Same size, same modification time: only the content (and the inode's change time) differ.
    node, _head = fleet.overwrite_in_place(host, "/usr/local/bin/node", b"XXXX")
    rc, output, _recap = fleet.play(extra=SMOKE_OFF, report_dir=os.path.join(fleet.tmp, "corrupt"), verbosity=1)
    assert "/usr/local/bin/node link target content changed" in output, "the probe names the corrupted binary"
    # With its only host failed, Ansible ends the playbook before the report play: the run itself must fail
    # on the node that does not answer with its release, not report the host converged.
    assert rc != 0 and "expected v22.23.3" in output, "a node that does not run fails the host"
    # Repair: the roles install the release again once it is gone.
    rc, _out, err = fleet.root(host, "rm -rf \"$(dirname \"$(dirname %s)\")\"" % node)
    assert rc == 0, err
    _output, recap = run(fleet, "repaired")
    assert recap["failed"] == 0


def claude_runs(fleet):
    """(exit status, the release it names) of claude --version on the workstation."""
    rc, line = fleet.runs_version(fleet.hosts[0], "/usr/local/bin/claude")
    return rc, (line.split() or [""])[0]


def test_a_claude_binary_corrupted_in_place_is_not_reported_converged_and_is_repaired(fleet):
    host = fleet.hosts[0]
    version = stamp(fleet)["facts"]["claude_code_version"]
    assert claude_runs(fleet) == (0, version)
    # Same size, same modification time, same inode: only the content (and the inode's change time) differ.
    claude, _head = fleet.overwrite_in_place(host, "/usr/local/bin/claude", b"XXXX")
    assert claude_runs(fleet)[0] != 0, "the overwritten %s still runs" % claude
    output, recap = run(fleet, "claude-corrupt", verbosity=1)
    assert "/usr/local/bin/claude link target content changed" in output, "the probe names the corrupted binary"
    row = report(fleet, "claude-corrupt")[host]
    assert row["fast_path"] is False and recap["changed"] >= 1
    # The roles found the CLI that does not run and installed the release again.
    assert claude_runs(fleet) == (0, version)
    assert row["claude_code_version"] == version
    output, recap = run(fleet, "claude-repaired")
    assert recap["changed"] == 0 and role_tasks_ran(output) == set(), "the repaired host is current again"


def emulator_scenario(fleet, overrides):
    """Replace the loopback emulator's scenario (the default one with OVERRIDES) through its admin endpoint."""
    request = urllib.request.Request(fleet.testbed.read("emulator.url") + "/_emulator/scenario", method="POST",
                                     data=json.dumps({"overrides": overrides}).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def test_revoked_model_access_stops_the_first_run_after_the_preflight_age_before_any_change(fleet):
    host = fleet.hosts[0]
    cache = {"claude_fleet_preflight_max_age": 3600, "claude_fleet_preflight_cache_dir": os.path.join(fleet.tmp, "preflight-cache")}
    run(fleet, "preflight-checked", extra=cache)
    with open(os.path.join(fleet.tmp, "preflight-checked", "fleet-report.json"), encoding="utf-8") as handle:
        checked = json.load(handle)["preflight"]
    assert checked["usable"] is True and checked["reused"] is False
    opus = "anthropic.claude-opus-5-5"
    emulator_scenario(fleet, {"access": {opus: "DENIED"}})
    try:
        # Within the age the passing preflight stands (no AWS call) and the host takes the fast path.
        _output, recap = run(fleet, "preflight-reused", extra=cache)
        assert recap["changed"] == 0 and report(fleet, "preflight-reused")[host]["fast_path"] is True
        with open(os.path.join(fleet.tmp, "preflight-reused", "fleet-report.json"), encoding="utf-8") as handle:
            reused = json.load(handle)["preflight"]
        assert reused["reused"] is True and reused["checked_at"] == checked["checked_at"]
        # A change is waiting (alice's settings.json is gone); the first run after the age checks again and stops.
        rc, _out, err = fleet.root(host, "rm /home/alice/.claude/settings.json")
        assert rc == 0, err
        before = fleet.get(host, STAMP)
        time.sleep(1.1)
        rc, output, recaps = fleet.play(extra=dict(SMOKE_OFF, **dict(cache, claude_fleet_preflight_max_age=1)),
                                        report_dir=os.path.join(fleet.tmp, "preflight-revoked"))
        assert rc != 0
        assert "The caller is not authorized to use %s" % opus in output, output[-3000:]
        assert recaps[host]["changed"] == 0 and role_tasks_ran(output) == set() and FAST_CALL not in output
        rc, _out, _err = fleet.root(host, "test ! -e /home/alice/.claude/settings.json")
        assert rc == 0, "the run that stopped wrote alice's settings.json"
        assert fleet.get(host, STAMP) == before
    finally:
        emulator_scenario(fleet, {})
    # Access restored: the next run checks afresh and repairs the waiting change.
    _output, recap = run(fleet, "preflight-restored", extra=dict(cache, claude_fleet_preflight_max_age=1))
    assert recap["changed"] == 1
    assert json.loads(fleet.get(host, "/home/alice/.claude/settings.json"))["env"]["AWS_REGION"] == "us-east-1"


def test_uninstall_removes_the_stamp(fleet):
    rc, output, _recap = fleet.play(playbook=os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                                          "playbooks", "uninstall.yml"))
    assert rc == 0, output[-3000:]
    rc, _out, _err = fleet.root(fleet.hosts[0], "test ! -e %s" % STAMP)
    assert rc == 0, "the stamp survived the uninstall"
