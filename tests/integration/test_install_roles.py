# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Acceptance of the nodejs and claude_code roles on sandbox workstations (Debian 12 and 13).

One fleet with a bookworm and a trixie workstation is brought up for the module and torn
down at the end. Node.js comes from the local dist mirror (tests/infra/mirror, served on
127.0.0.1), Claude Code from the npm registry the host's npm uses, reached through this
network's TLS-re-signing proxy thanks to the roles' CA option (the host bundle). The tests
run in file order: bad input on fresh hosts, converge, idempotence, version changes,
controller tarballs, failures that must leave the installed version working, removal.

Needs root (sandbox), debootstrap, npm on the host and the npm registry; skips otherwise.
Select with ``pytest -m "sandbox and network" tests/integration/test_install_roles.py``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from harness import SANDBOX_SKIPS

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MIRROR_DIR = os.path.join(REPO, ".cache", "node-mirror")
PACKS = os.path.join(REPO, ".cache", "npm-packs")
PINNED = yaml.safe_load(open(os.path.join(REPO, "roles", "claude_code", "defaults", "main.yml"), encoding="utf-8"))["claude_code_version"]
OTHER = os.environ.get("CLAUDE_FLEET_TEST_OTHER_VERSION", "2.1.331")
NODE = "22.23.3"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


serve = _load("mirror_serve", os.path.join(REPO, "tests", "infra", "mirror", "serve.py"))


def _registry():
    try:
        out = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True, timeout=30, check=True)
        view = subprocess.run(["npm", "view", "@anthropic-ai/claude-code@%s" % PINNED, "version"], capture_output=True,
                              text=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, "npm is not usable on the host: %s" % exc
    if view.returncode != 0 or view.stdout.strip() != PINNED:
        return None, "the npm registry does not serve @anthropic-ai/claude-code@%s: %s" % (PINNED, view.stderr.strip()[-300:])
    return out.stdout.strip(), ""


REGISTRY, WHY_NOT = (None, "needs root") if os.geteuid() != 0 else _registry()

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.network,
    pytest.mark.slow,
    *SANDBOX_SKIPS,
    pytest.mark.skipif(REGISTRY is None, reason=WHY_NOT or "npm registry unavailable"),
]


class Installs:
    """The module's fleet (the shared harness, without tests/group_vars), the mirror, and the roles' base variables."""

    def __init__(self, fleet, mirror):
        self.fleet = fleet
        self.mirror = mirror

    def __getattr__(self, name):
        # hosts, tmp...: the fleet's.
        return getattr(self.fleet, name)

    def ssh(self, host, command, user="admin"):
        return self.fleet.ssh(host, command, user=user, text=True)

    def play(self, extra=None, roles=("nodejs", "claude_code"), check=False, timeout=1200):
        """Run ROLES with the base variables plus EXTRA; return (rc, output, {host: changed})."""
        playbook = os.path.join(self.tmp, "play-%s.yml" % "-".join(roles))
        with open(playbook, "w", encoding="utf-8") as handle:
            yaml.safe_dump([{"name": "Install", "hosts": "workstations", "become": True, "gather_facts": True,
                             "roles": [{"role": "claude_fleet.bedrock.%s" % role} for role in roles]}], handle)
        rc, output, recap = self.fleet.play(playbook, extra=dict(self.base_vars(), **(extra or {})), check=check, timeout=timeout)
        return rc, output, {host: counts["changed"] for host, counts in recap.items()}

    def base_vars(self):
        return {
            "nodejs_install_method": "tarball",
            "nodejs_version": "22",
            "nodejs_tarball_base_url": "http://127.0.0.1:%d" % self.mirror.port,
            "claude_code_npm_registry": REGISTRY,
            "claude_code_controller_cache": PACKS,
            "claude_fleet_network_ca_certificates": ["/etc/ssl/certs/ca-certificates.crt"],
        }

    def claude_version(self, host, user="alice", shell="bash -lc"):
        proc = self.ssh(host, "sudo -u %s -i %s 'claude --version'" % (user, shell))
        return proc.stdout.strip().split(" ")[0] if proc.returncode == 0 else "rc=%d %s" % (proc.returncode, proc.stderr.strip())


@pytest.fixture(scope="module")
def fleet(fleet_factory):
    subprocess.run([sys.executable, os.path.join(REPO, "tests", "infra", "mirror", "build_node_mirror.py"), "--versions", NODE + ",22.23.2"],
                   check=True, timeout=1800, capture_output=True)
    for version in (PINNED, OTHER):
        for package in ("@anthropic-ai/claude-code", "@anthropic-ai/claude-code-linux-x64"):
            if not os.path.exists(os.path.join(PACKS, "%s-%s.tgz" % (package[1:].replace("/", "-"), version))):
                os.makedirs(PACKS, exist_ok=True)
                subprocess.run(["npm", "pack", "%s@%s" % (package, version), "--pack-destination", PACKS], check=True, timeout=900, capture_output=True)
    mirror = serve.MirrorServer(MIRROR_DIR)
    mirror.start()
    try:
        yield Installs(fleet_factory("ni", count=2, release="bookworm,trixie", testbed=None, group_vars=False), mirror)
    finally:
        mirror.stop()


def _nothing_installed(fleet):
    for host in fleet.hosts:
        proc = fleet.ssh(host, "test ! -e /opt/nodejs/current && ! ls -d /opt/nodejs/node-v* 2>/dev/null && test ! -e /usr/local/bin/node "
                               "&& test ! -e /etc/claude-fleet && test ! -e /usr/local/bin/claude && test ! -e /etc/claude-code && echo clean")
        assert proc.stdout.strip() == "clean", "%s changed: %s" % (host, proc.stderr)


@pytest.mark.parametrize("extra, roles, message", [
    ({"nodejs_install_method": "snap"}, ("nodejs", "claude_code"), "nodejs_install_method"),
    ({"nodejs_version": "22.x"}, ("nodejs", "claude_code"), "nodejs_version must be a major line"),
    ({"nodejs_version": "20"}, ("nodejs", "claude_code"), "nodejs_version 20 is below nodejs_minimum_version 22.0.0"),
    ({"nodejs_version": "20.19.0"}, ("nodejs", "claude_code"), "nodejs_version 20.19.0 is below nodejs_minimum_version 22.0.0"),
    ({"claude_code_version": "2.1"}, ("claude_code",), "claude_code_version 2.1 (an exact release"),
    ({"claude_code_install_source": "ftp"}, ("claude_code",), "claude_code_install_source"),
], ids=["unknown-node-method", "malformed-node-version", "node-major-below-minimum", "node-exact-below-minimum",
        "malformed-claude-version", "unknown-claude-source"])
def test_bad_input_fails_before_any_change(fleet, extra, roles, message):
    rc, output, _changed = fleet.play(extra, roles=roles)
    assert rc != 0
    assert message in output, output[-2000:]
    _nothing_installed(fleet)


def test_checksum_mismatch_installs_nothing(fleet, tmp_path):
    bad = tmp_path / "bad-mirror"
    (bad / ("v" + NODE)).mkdir(parents=True)
    shutil.copy(os.path.join(MIRROR_DIR, "index.json"), bad / "index.json")
    tarball = "node-v%s-linux-x64.tar.xz" % NODE
    os.symlink(os.path.join(MIRROR_DIR, "v" + NODE, tarball), bad / ("v" + NODE) / tarball)
    (bad / ("v" + NODE) / "SHASUMS256.txt").write_text("%s  %s\n" % ("0" * 64, tarball))
    server = serve.MirrorServer(str(bad))
    server.start()
    try:
        rc, output, _changed = fleet.play({"nodejs_tarball_base_url": "http://127.0.0.1:%d" % server.port}, roles=("nodejs",))
    finally:
        server.stop()
    assert rc != 0
    assert "did not match %s" % ("0" * 64) in output, output[-2000:]
    for host in fleet.hosts:
        proc = fleet.ssh(host, "ls -A /opt/nodejs/.downloads; test ! -e /opt/nodejs/node-v%s-linux-x64 && test ! -e /opt/nodejs/current && echo none" % NODE)
        assert proc.stdout.strip() == "none", proc.stdout


def test_check_mode_on_fresh_hosts_changes_nothing(fleet):
    rc, output, changed = fleet.play(check=True)
    assert rc == 0, output[-3000:]
    assert all(changed[h] > 0 for h in fleet.hosts), changed
    _nothing_installed(fleet)


def test_converge_then_rerun_changes_nothing_and_downloads_nothing(fleet):
    rc, output, _changed = fleet.play()
    assert rc == 0, output[-3000:]
    for host in fleet.hosts:
        assert fleet.claude_version(host) == PINNED
        assert fleet.claude_version(host, user="bob", shell="zsh -lc") == PINNED
        proc = fleet.ssh(host, "node --version; readlink /opt/nodejs/current; sudo stat -c '%a %U' /etc/claude-fleet/npmrc; "
                               "find /usr/local /opt/nodejs -xdev -perm -o+w ! -type l | head -3")
        assert proc.stdout.split("\n")[:3] == ["v" + NODE, "node-v%s-linux-x64" % NODE, "600 root"], proc.stdout
        assert proc.stdout.split("\n")[3:] == [""], "world-writable: %s" % proc.stdout
    before = fleet.mirror.stats.snapshot()
    rc, output, changed = fleet.play()
    assert rc == 0, output[-3000:]
    assert changed == {h: 0 for h in fleet.hosts}, output[-3000:]
    after = fleet.mirror.stats.snapshot()
    tarball_bytes = sum(v for k, v in after["paths"].items() if k.endswith(".tar.xz")) - sum(
        v for k, v in before["paths"].items() if k.endswith(".tar.xz"))
    assert tarball_bytes == 0


def test_self_update_is_disabled_by_managed_settings(fleet):
    for host in fleet.hosts:
        proc = fleet.ssh(host, "cat /etc/claude-code/managed-settings.d/10-claude-fleet-updates.json")
        assert json.loads(proc.stdout)["env"] == {"DISABLE_AUTOUPDATER": "1", "DISABLE_UPDATES": "1"}


def test_downgrade_and_upgrade_follow_the_pin(fleet):
    rc, output, _changed = fleet.play({"claude_code_version": OTHER}, roles=("claude_code",))
    assert rc == 0, output[-3000:]
    assert [fleet.claude_version(h) for h in fleet.hosts] == [OTHER] * len(fleet.hosts)
    rc, output, _changed = fleet.play({"claude_code_version": PINNED}, roles=("claude_code",))
    assert rc == 0, output[-3000:]
    assert [fleet.claude_version(h) for h in fleet.hosts] == [PINNED] * len(fleet.hosts)


def test_unreachable_registry_fails_clearly_and_keeps_the_installed_version(fleet):
    hole = serve.Blackhole()
    try:
        rc, output, _changed = fleet.play({"claude_code_version": OTHER, "claude_code_npm_fetch_timeout": 5, "claude_code_npm_fetch_retries": 0,
                                           "claude_code_npm_registry": "http://127.0.0.1:%d/" % hole.port}, roles=("claude_code",), timeout=600)
    finally:
        hole.stop()
    assert rc != 0
    assert "Could not resolve @anthropic-ai/claude-code@%s" % OTHER in output
    assert "the installed version (%s) is untouched" % PINNED in output
    assert [fleet.claude_version(h) for h in fleet.hosts] == [PINNED] * len(fleet.hosts)


def test_node_below_the_release_engines_fails_before_install(fleet):
    rc, output, _changed = fleet.play({"claude_code_version": OTHER, "claude_code_node_minimum_version": "99.0.0"}, roles=("claude_code",))
    assert rc != 0
    assert "needs Node.js >= 99.0.0" in output and "the host has v%s" % NODE in output
    assert [fleet.claude_version(h) for h in fleet.hosts] == [PINNED] * len(fleet.hosts)


def test_node_version_change_installs_side_by_side_and_switches(fleet):
    rc, output, _changed = fleet.play({"nodejs_version": "22.23.2", "nodejs_tarball_delivery": "controller",
                                       "nodejs_tarball_controller_cache": os.path.join(fleet.tmp, "node-cache")}, roles=("nodejs",))
    assert rc == 0, output[-3000:]
    for host in fleet.hosts:
        proc = fleet.ssh(host, "node --version; readlink /opt/nodejs/current; ls /opt/nodejs")
        lines = proc.stdout.split()
        assert lines[:2] == ["v22.23.2", "node-v22.23.2-linux-x64"], proc.stdout
        assert "node-v%s-linux-x64" % NODE in lines[2:]
    assert [fleet.claude_version(h) for h in fleet.hosts] == [PINNED] * len(fleet.hosts)


def test_controller_tarballs_install_with_no_registry_on_hosts(fleet):
    hole = serve.Blackhole()
    try:
        rc, output, _changed = fleet.play({"claude_code_version": OTHER, "claude_code_install_source": "controller"}, roles=("claude_code",))
        assert rc == 0, output[-3000:]
        assert [fleet.claude_version(h) for h in fleet.hosts] == [OTHER] * len(fleet.hosts)
        # The hosts' npm now points at a registry that never answers: the tarballs must suffice.
        rc, output, _changed = fleet.play({"claude_code_version": PINNED, "claude_code_install_source": "controller",
                                           "claude_code_npm_fetch_timeout": 5, "claude_code_npm_fetch_retries": 0,
                                           "claude_code_npm_registry": "http://127.0.0.1:%d/" % hole.port}, roles=("claude_code",))
    finally:
        hole.stop()
    assert rc == 0, output[-3000:]
    assert [fleet.claude_version(h) for h in fleet.hosts] == [PINNED] * len(fleet.hosts)


def test_user_scope_installs_under_home_without_root(fleet):
    extra = {"claude_code_install_scope": "user", "claude_code_user": "carol", "claude_code_install_source": "controller"}
    rc, output, _changed = fleet.play(extra, roles=("claude_code",))
    assert rc == 0, output[-3000:]
    for host in fleet.hosts:
        proc = fleet.ssh(host, "sudo -u carol /home/carol/.local/bin/claude --version; sudo stat -c '%U %a' /home/carol/.local/lib/node_modules "
                               "/home/carol/.claude-fleet/npmrc")
        lines = proc.stdout.split("\n")
        assert lines[0] == "%s (Claude Code)" % PINNED, proc.stdout
        assert lines[1].split()[0] == "carol" and int(lines[1].split()[1], 8) & 0o002 == 0, "world-writable or not carol's: %s" % lines[1]
        assert lines[2] == "carol 600", proc.stdout
    rc, output, changed = fleet.play(extra, roles=("claude_code",))
    assert rc == 0 and changed == {h: 0 for h in fleet.hosts}, output[-3000:]


def test_absent_uninstalls_cleanly(fleet):
    rc, output, _changed = fleet.play({"claude_code_state": "absent"}, roles=("claude_code",))
    assert rc == 0, output[-3000:]
    for host in fleet.hosts:
        proc = fleet.ssh(host, "for p in /usr/local/bin/claude /usr/local/lib/node_modules/@anthropic-ai /etc/claude-fleet/npmrc "
                               "/etc/claude-code/managed-settings.d/10-claude-fleet-updates.json; do sudo test -e $p && echo left:$p; done; node --version")
        assert proc.stdout.split()[:-1] == [], "left behind: %s" % proc.stdout
        assert proc.stdout.split()[-1].startswith("v22."), "Node.js must stay: %s" % proc.stdout
    rc, output, changed = fleet.play({"claude_code_state": "absent"}, roles=("claude_code",))
    assert rc == 0 and changed == {h: 0 for h in fleet.hosts}, output[-3000:]
