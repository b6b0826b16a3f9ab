# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/verify.yml (diagnostics, no changes) on one converged sandbox workstation.

On a healthy workstation it finds nothing and changes nothing, also in check mode. With two faults
a user can make by hand (an `export AWS_PROFILE=...` in the ~/.profile of a static-keys user,
a settings.json opened to 0644) it names each user, the variable or file and the fix, on screen and
in the fleet report; the smoke test of setup.yml names the same AWS_PROFILE cause for the user whose
Claude Code it breaks.
"""
from __future__ import annotations

import json
import os

import pytest

from harness import REPO, SANDBOX_SKIPS, SECRET_KEY

pytestmark = [pytest.mark.sandbox, pytest.mark.slow, *SANDBOX_SKIPS]

VERIFY = os.path.join(REPO, "playbooks", "verify.yml")
# Every file the roles write in the users' homes and /etc, with owner, mode and content digest.
SNAPSHOT = ("find /home /etc/claude-code /etc/profile.d /var/lib/claude_fleet -xdev \\( -type f -o -type l \\)"
            " -not -path '*/.ansible/*' -not -path '*/.npm/*' -not -path '*/.cache/*' -print0 2>/dev/null | sort -z"
            " | xargs -0 stat -c '%n %U %a %s %Y'")


@pytest.fixture(scope="module")
def fleet(fleet_factory):
    """One workstation on the session's test bed, converged once."""
    work = fleet_factory("vfy")
    rc, output, _recap = work.play(extra={"claude_fleet_smoke_enabled": False}, report_dir=os.path.join(work.tmp, "converge"))
    assert rc == 0, output[-3000:]
    return work


def report_row(fleet, name):
    with open(os.path.join(fleet.tmp, name, "fleet-report.json"), encoding="utf-8") as handle:
        rows = json.load(handle)["hosts"]
    assert [r["host"] for r in rows] == fleet.hosts
    return rows[0]


def snapshot(fleet):
    rc, out, err = fleet.root(fleet.hosts[0], SNAPSHOT)
    assert rc == 0, err
    return out.decode()


def test_verify_on_a_converged_host_finds_nothing_and_changes_nothing(fleet):
    host = fleet.hosts[0]
    before = snapshot(fleet)
    assert "/home/alice/.claude/settings.json" in before
    for check in (False, True):
        name = "verify-check" if check else "verify"
        rc, output, recap = fleet.play(playbook=VERIFY, check=check, report_dir=os.path.join(fleet.tmp, name))
        assert rc == 0, output[-3000:]
        assert recap[host]["changed"] == 0 and recap[host]["failed"] == 0, recap
        assert "No problem found on %s" % host in output, output[-3000:]
        # Check mode writes nothing, not even the report on the controller.
        assert os.path.exists(os.path.join(fleet.tmp, name)) is not check
        if not check:
            assert report_row(fleet, name)["findings"] == []
        # The environment each login shell sees is shown with secrets masked.
        assert '"CLAUDE_CODE_USE_BEDROCK": "1"' in output and SECRET_KEY not in output
    assert snapshot(fleet) == before


def test_verify_and_the_smoke_test_name_a_users_aws_profile(fleet):
    host = fleet.hosts[0]
    rc, _out, err = fleet.root(host, "echo 'export AWS_PROFILE=personal' >> /home/alice/.profile && chmod 0644 /home/bob/.claude/settings.json")
    assert rc == 0, err
    try:
        rc, output, recap = fleet.play(playbook=VERIFY, report_dir=os.path.join(fleet.tmp, "verify-faults"))
        assert rc == 0, output[-3000:]
        assert recap[host]["changed"] == 0
        findings = report_row(fleet, "verify-faults")["findings"]
        assert len(findings) == 2, findings
        assert findings[0].startswith("alice: the login shell exports AWS_PROFILE=personal") and "auth_method: profile" in findings[0]
        assert findings[1].startswith("bob: ~/.claude/settings.json is 0644 owned by bob"), findings
        with open(os.path.join(fleet.tmp, "verify-faults", "fleet-report.md"), encoding="utf-8") as handle:
            markdown = handle.read()
        assert "## Findings" in markdown and "- %s: alice: the login shell exports AWS_PROFILE=personal" % host in markdown

        # setup.yml repairs the mode it manages; alice's own export stays, and her smoke test names it.
        rc, output, recap = fleet.play(report_dir=os.path.join(fleet.tmp, "smoke-faults"))
        assert rc != 0, "a failed smoke test must fail the run"
        smoke = {s["user"]: s for s in report_row(fleet, "smoke-faults")["smoke"]}
        assert smoke["alice"]["status"] == "failed" and smoke["alice"]["cause"] == "aws_profile_overrides_keys", smoke["alice"]
        assert "AWS_PROFILE" in smoke["alice"]["remedy"]
        assert (smoke["bob"]["status"], smoke["carol"]["status"]) == ("passed", "passed"), smoke
        rc, out, err = fleet.root(host, "stat -c %a /home/bob/.claude/settings.json; tail -n 1 /home/alice/.profile")
        assert rc == 0, err
        assert out.decode().split("\n")[:2] == ["600", "export AWS_PROFILE=personal"]
    finally:
        rc, _out, err = fleet.root(host, "sed -i '/^export AWS_PROFILE=personal$/d' /home/alice/.profile")
        assert rc == 0, err


@pytest.mark.parametrize("binary", ["node", "claude"])
def test_verify_names_a_binary_corrupted_in_place(fleet, binary):
    host = fleet.hosts[0]
    path = "/usr/local/bin/" + binary
    assert fleet.runs_version(host, path)[0] == 0
    # Same size, modification time and inode: what the fast path's stamp would not see without the change time.
    resolved, head = fleet.overwrite_in_place(host, path, b"XXXX")
    try:
        assert fleet.runs_version(host, path)[0] != 0, "the overwritten %s still runs" % resolved
        name = "verify-%s-corrupt" % binary
        _rc, output, recap = fleet.play(playbook=VERIFY, report_dir=os.path.join(fleet.tmp, name))
        assert recap[host]["changed"] == 0 and recap[host]["failed"] == 0, output[-3000:]
        findings = report_row(fleet, name)["findings"]
        assert findings and findings[0].startswith("%s is installed but does not run (exit " % binary), findings
        assert "setup.yml -e claude_fleet_fast_path=false" in findings[0]
        assert "No problem found on %s" % host not in output
        with open(os.path.join(fleet.tmp, name, "fleet-report.md"), encoding="utf-8") as handle:
            assert "- %s: %s is installed but does not run" % (host, binary) in handle.read()
    finally:
        fleet.overwrite_in_place(host, path, head)
    assert fleet.runs_version(host, path)[0] == 0
