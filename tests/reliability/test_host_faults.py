# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host and package faults on a three-workstation fleet running the real playbooks/setup.yml.

The tests run in file order on one fleet (rh<pid>-1..3):

1. rh-3's sshd is down at the start: the run exits non-zero, fleet-report.json names rh-3 as
   failed, rh-1 and rh-2 converge (their smoke tests pass);
2. rh-3 comes back and its sshd is SIGKILLed while its converge is in the claude_code role: the
   same outcome, and the next run converges everything;
3. ansible-playbook itself is SIGKILLed while the settings role writes the users' files; on every
   host no rc file has a duplicated or half managed block and settings.json is absent or valid
   JSON; the re-run converges all three and a further run changes nothing;
4. the Node.js mirror is unreachable for a version change: a clear failure within the download
   timeout, the installed Node.js and Claude Code keep working, and a re-run with the mirror back
   converges. (Registry unreachable and checksum mismatch: tests/integration/test_install_roles.py.)
"""
from __future__ import annotations

import json
import os
import socket
import time

import pytest

from harness import PINNED, SANDBOX_SKIPS, ansible_env, blocks, started

pytestmark = [pytest.mark.sandbox, pytest.mark.reliability, pytest.mark.slow] + SANDBOX_SKIPS

RC_FILES = {"alice": [".bashrc", ".profile"], "bob": [".zshenv"], "carol": [".config/fish/conf.d/claude-fleet-bedrock.fish"]}


@pytest.fixture(scope="module")
def fleet(fleet_factory):
    return fleet_factory("rh", count=3)


def _report(directory):
    with open(os.path.join(directory, "fleet-report.json"), encoding="utf-8") as handle:
        return json.load(handle)


def _wait_for(log, needle, proc, limit=1200):
    """Poll LOG until NEEDLE shows (bounded by LIMIT seconds); False when the process ended first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with open(log, encoding="utf-8", errors="replace") as handle:
            if needle in handle.read():
                return True
        if proc.poll() is not None:
            return False
        time.sleep(0.5)
    return False


def _descendants(root):
    """Every process below ROOT now, from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, encoding="utf-8", errors="replace") as handle:
                    children.setdefault(int(handle.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
            except OSError:
                continue
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _claude_works(fleet, host):
    proc = fleet.ssh(host, "sudo -u alice -i bash -lc 'claude --version; node --version'")
    return proc.returncode == 0 and proc.stdout.decode().startswith(PINNED)


def _files_intact(fleet, host):
    problems = []
    for user, files in RC_FILES.items():
        for rel in files:
            rc, data, _err = fleet.root(host, "cat /home/%s/%s 2>/dev/null || true" % (user, rel))
            if rc == 0 and blocks(data) not in ((0, 0), (1, 1)):
                problems.append("%s:%s has %s BEGIN/END markers" % (user, rel, blocks(data)))
        rc, data, _err = fleet.root(host, "cat /home/%s/.claude/settings.json 2>/dev/null || true" % user)
        if data.strip():
            try:
                json.loads(data)
            except ValueError as exc:
                problems.append("%s settings.json is not valid JSON: %s" % (user, exc))
    return problems


def test_host_down_at_the_start(fleet):
    down = fleet.hosts[2]
    fleet.kill(down)
    report_dir = os.path.join(fleet.tmp, "report-down")
    try:
        rc, output, summary = fleet.play(report_dir=report_dir)
    finally:
        fleet.start(down)
    assert rc != 0
    assert summary[down]["unreachable"] == 1, summary
    report = _report(report_dir)
    assert report["failed_hosts"] == [down], report
    for host in fleet.hosts[:2]:
        assert summary[host]["failed"] == 0 and summary[host]["unreachable"] == 0, output[-3000:]
        row = next(r for r in report["hosts"] if r["host"] == host)
        assert row["status"] == "ok", row
        assert _claude_works(fleet, host)


def test_host_killed_in_the_middle_of_its_converge(fleet):
    victim = fleet.hosts[2]
    report_dir = os.path.join(fleet.tmp, "report-killed")
    log = os.path.join(fleet.tmp, "killed.log")
    with started(fleet.playbook_argv(report_dir=report_dir), ansible_env(fleet.testbed.state), log) as proc:
        reached = _wait_for(log, "TASK [claude_fleet.bedrock.claude_code", proc)
        fleet.kill(victim)
        rc = proc.wait(timeout=1500)
    fleet.start(victim)
    assert reached, "the run never reached the claude_code role"
    assert rc != 0
    report = _report(report_dir)
    assert report["failed_hosts"] == [victim], report
    assert all(r["status"] == "ok" for r in report["hosts"] if r["host"] != victim), report


def test_ansible_killed_mid_run_then_rerun_converges(fleet):
    log = os.path.join(fleet.tmp, "ansible-killed.log")
    with started(fleet.playbook_argv(report_dir=os.path.join(fleet.tmp, "report-ansible-killed")), ansible_env(fleet.testbed.state), log) as proc:
        reached = _wait_for(log, "TASK [claude_fleet.bedrock.settings : User | Source the environment file", proc)
        # Ansible's workers run in their own sessions: kill the whole tree, not only the process group.
        tree = _descendants(proc.pid)
        os.killpg(proc.pid, 9)
        for pid in tree:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        proc.wait(timeout=60)
    assert reached, "the run never reached the settings role's rc files"
    for host in fleet.hosts:
        assert _files_intact(fleet, host) == [], host
    report_dir = os.path.join(fleet.tmp, "report-rerun")
    rc, output, _summary = fleet.play(report_dir=report_dir)
    assert rc == 0, output[-4000:]
    assert _report(report_dir)["failed_hosts"] == []
    for host in fleet.hosts:
        assert _files_intact(fleet, host) == [], host
        for user, files in RC_FILES.items():
            for rel in files:
                assert blocks(fleet.get(host, "/home/%s/%s" % (user, rel))) == (1, 1), (host, user, rel)
    rc, output, summary = fleet.play(report_dir=os.path.join(fleet.tmp, "report-idempotent"))
    # localhost writes the fleet report (a new directory per run): only the workstations must not change.
    assert rc == 0 and all(summary[host]["changed"] == 0 for host in fleet.hosts), output[-4000:]


def test_node_mirror_unreachable_fails_clearly_and_keeps_the_installed_version(fleet):
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    port = hole.getsockname()[1]
    hole.close()  # nothing listens there any more: connection refused
    started_at = time.monotonic()
    rc, output, _summary = fleet.play(extra={"nodejs_version": "22.23.2", "nodejs_tarball_base_url": "http://127.0.0.1:%d" % port,
                                             "nodejs_download_timeout": 10},
                                      report_dir=os.path.join(fleet.tmp, "report-mirror-down"), timeout=900)
    elapsed = time.monotonic() - started_at
    with open(os.path.join(fleet.tmp, "mirror-down.seconds"), "w", encoding="utf-8") as handle:
        handle.write("%.1f\n" % elapsed)
    assert rc != 0
    assert "127.0.0.1:%d" % port in output, output[-3000:]
    for host in fleet.hosts:
        assert _claude_works(fleet, host), host
    rc, output, _summary = fleet.play(report_dir=os.path.join(fleet.tmp, "report-mirror-back"))
    assert rc == 0, output[-3000:]
