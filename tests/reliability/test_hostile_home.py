# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A hostile user on a real workstation: what alice plants in her home cannot steer root or stall the run.

One sandbox workstation is converged by the settings role (with a client certificate). Each case then
plants something in alice's home as alice would (owned by her), runs the part of the collection that
meets it, and asserts:

* nothing outside the homes changed: names, owners, modes and SHA-256 of everything under /etc,
  /usr/local, /root and /var/lib are the same before and after (Ansible's own /root/.ansible is left out);
* the run ended by itself: every ansible-playbook has a subprocess timeout, a safety net only;
* the failure names the planted path and the reason, and the planted thing is left as it was.

The root-side phase of the settings role (client certificate and key, tasks/network.yml) runs after the
user phase. A ~/.claude link planted before a full run makes the user phase fail first (as alice, so
harmlessly); a user reaches the root phase with the link in place by swapping it in between the two.
The tests get there deterministically by running the role with ``--tags settings_preflight,settings_network``
(the tags an administrator uses to rotate certificates), which runs the preflight and the root phase only.
The converge stamp's probes are exercised by recording a stamp and probing it with the modules themselves.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess

import pytest
import yaml

from harness import REPO, SANDBOX_SKIPS, shlex_quote

pytestmark = [pytest.mark.sandbox] + SANDBOX_SKIPS

SETTINGS_PLAY = os.path.join(REPO, "tests", "reliability", "settings_only.yml")
HOME = "/home/alice"
# A bound for one settings run on one workstation; a hang would otherwise stall the suite.
RUN_TIMEOUT = 900
SNAPSHOT = r"""
set -eu
find /etc /usr/local /root /var/lib -xdev -path /root/.ansible -prune -o -printf '%p|%y|%u|%g|%m|%l\n' | LC_ALL=C sort
find /etc /usr/local /root /var/lib -xdev -path /root/.ansible -prune -o -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
"""


def _pki(tmp):
    """A self-signed client certificate and its key (PEM text), made with openssl on the controller."""
    key, cert = os.path.join(tmp, "client.key"), os.path.join(tmp, "client.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=alice-client"], check=True, capture_output=True, timeout=120)
    return open(cert, encoding="ascii").read(), open(key, encoding="ascii").read()


class Workstation:
    def __init__(self, fleet, cert, key):
        self.fleet = fleet
        self.host = fleet.hosts[0]
        self.cert_vars = {"claude_fleet_network_client_cert": cert, "claude_fleet_network_client_key": key}

    def root(self, command):
        rc, out, err = self.fleet.root(self.host, command)
        assert rc == 0, "%s: %s" % (command, err)
        return out.decode("utf-8", "replace")

    def as_alice(self, command):
        return self.root("su -s /bin/sh alice -c %s" % shlex_quote(command))

    def snapshot(self):
        return self.root(SNAPSHOT)

    def play(self, extra=None, tags=None, verbosity=0, playbook=SETTINGS_PLAY, check=False):
        return self.fleet.play(playbook, extra=extra, tags=tags, verbosity=verbosity, timeout=RUN_TIMEOUT, check=check)


@pytest.fixture(scope="module")
def ws(fleet_factory, tmp_path_factory):
    fleet = fleet_factory("hh")
    cert, key = _pki(str(tmp_path_factory.mktemp("pki")))
    station = Workstation(fleet, cert, key)
    rc, output, _recap = station.play(extra=station.cert_vars)
    assert rc == 0, output[-4000:]
    assert station.root("stat -c '%U %a' /home/alice/.claude/client-key.pem").split() == ["alice", "600"]
    return station


@pytest.fixture
def planted(ws):
    """Keep alice's .claude, .config and .aws aside; whatever a case plants is removed and they come back."""
    ws.root("cd %s && for d in .claude .config .aws .bash_login; do [ ! -e $d ] && [ ! -L $d ] || mv $d $d.keep; done" % HOME)
    try:
        yield ws
    finally:
        ws.root("cd %s && for d in .claude .config .aws .bash_login; do rm -rf $d; [ ! -e $d.keep ] && [ ! -L $d.keep ] || mv $d.keep $d; done"
                % HOME)


def _changed(before, after):
    old, new = set(before.splitlines()), set(after.splitlines())
    return sorted(old ^ new)


def _assert_refused(output, message):
    assert message in output, "expected %r in the output:\n%s" % (message, output[-6000:])


@pytest.mark.parametrize("phase", ["write", "remove"])
def test_a_claude_link_to_a_root_directory_cannot_make_root_write_or_remove_there(planted, phase):
    """The review's attack: ~/.claude -> /etc/ssl/certs before the root phase (client certificate and key)."""
    ws = planted
    if phase == "remove":
        # The files root would remove, planted in the target: root must not delete them.
        ws.root("touch /etc/ssl/certs/client-cert.pem /etc/ssl/certs/client-key.pem")
    ws.as_alice("ln -s /etc/ssl/certs %s/.claude" % HOME)
    before = ws.snapshot()
    try:
        rc, output, _recap = ws.play(extra=ws.cert_vars if phase == "write" else None, tags="settings_preflight,settings_network")
        after = ws.snapshot()
        assert rc != 0, "the host must fail on the planted link"
        _assert_refused(output, "refusing /home/alice/.claude: .claude is a symlink")
        assert _changed(before, after) == []
        assert ws.root("readlink %s/.claude" % HOME).strip() == "/etc/ssl/certs"
    finally:
        if phase == "remove":
            ws.root("rm -f /etc/ssl/certs/client-cert.pem /etc/ssl/certs/client-key.pem")
    if phase == "write":
        assert ws.root("ls /etc/ssl/certs | grep -c '^client-' || true").strip() == "0"


@pytest.mark.parametrize("plant, message", [
    ("mkfifo {home}/.claude/settings.json", "not a regular file: /home/alice/.claude/settings.json (a FIFO)"),
    ("ln -s /dev/zero {home}/.claude/settings.json",
     "not a regular file: /dev/zero (a character device) (/home/alice/.claude/settings.json links to it)"),
], ids=["fifo", "dev-zero"])
def test_a_fifo_or_a_dev_zero_link_at_settings_json_fails_the_host_naming_it(planted, plant, message):
    ws = planted
    ws.root("cp -a %s/.claude.keep %s/.claude && rm -f %s/.claude/settings.json" % (HOME, HOME, HOME))
    ws.as_alice(plant.format(home=HOME))
    before = ws.snapshot()
    rc, output, _recap = ws.play(extra=ws.cert_vars)
    assert rc != 0
    _assert_refused(output, message)
    assert _changed(before, ws.snapshot()) == []
    kind = ws.root("stat -c %%F %s/.claude/settings.json" % HOME).strip()
    assert kind in ("fifo", "symbolic link"), "the planted thing is left alone"


@pytest.mark.parametrize("plant, message", [
    # env.sh's directory -> /etc/profile.d: the user phase writes as alice, who may not write there.
    ("mkdir -p {home}/.config && ln -s /etc/profile.d {home}/.config/claude-fleet", "/home/alice/.config/claude-fleet"),
    # ~/.aws/config -> /etc/shadow: read and written as alice only, so denied.
    ("mkdir -p {home}/.aws && ln -s /etc/shadow {home}/.aws/config", "/home/alice/.aws/config"),
], ids=["env-dir-link", "aws-config-link"])
def test_links_in_the_user_phase_are_followed_with_alices_rights_only(planted, plant, message):
    ws = planted
    ws.root("cp -a %s/.claude.keep %s/.claude" % (HOME, HOME))
    ws.as_alice(plant.format(home=HOME))
    before = ws.snapshot()
    rc, output, _recap = ws.play(extra=ws.cert_vars)
    assert rc != 0
    _assert_refused(output, message)
    assert "permission denied" in output.lower() or "operation not permitted" in output.lower()
    assert _changed(before, ws.snapshot()) == []


def _stamp_play(tmp, name, tasks):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump([{"name": name, "hosts": "workstations", "become": True, "gather_facts": False, "tasks": tasks}], handle)
    return path


STAMP = "/var/lib/claude_fleet/hostile-test.json"
FP = "5a" * 32


def test_a_probed_rc_file_linked_to_proc_kmsg_does_not_block_the_stamp(planted, tmp_path):
    """~/.bash_login -> /proc/kmsg: the root-side probe blocked on it; it must now end the fast path at once."""
    ws = planted
    if ws.root("test -e /proc/kmsg && echo yes || echo no").strip() != "yes":
        pytest.fail("/proc/kmsg is missing in the workstation: this case needs it")
    paths = ["%s/.bash_login" % HOME, "%s/.bashrc" % HOME]
    record = _stamp_play(str(tmp_path), "record.yml", [
        {"name": "Record", "claude_fleet.bedrock.converge_stamp": {"path": STAMP, "fingerprint": FP, "paths": paths}}])
    compare = _stamp_play(str(tmp_path), "compare.yml", [
        {"name": "Compare", "claude_fleet.bedrock.converge_stamp_info": {"path": STAMP, "fingerprint": FP}, "register": "info"},
        {"name": "Show", "ansible.builtin.debug": {"msg": "REASONS {{ info.reasons | to_json }}"}}])
    rc, output, _recap = ws.play(playbook=record)
    assert rc == 0, output[-4000:]
    try:
        ws.as_alice("ln -s /proc/kmsg %s/.bash_login" % HOME)
        before = ws.snapshot()
        rc, output, _recap = ws.play(playbook=compare)
        assert rc == 0, output[-4000:]
        assert "/home/alice/.bash_login appeared" in output
        assert _changed(before, ws.snapshot()) == []
        # Recorded with the link in place, the probe stays non-blocking and the host is current.
        rc, output, _recap = ws.play(playbook=record)
        assert rc == 0, output[-4000:]
        rc, output, _recap = ws.play(playbook=compare)
        assert rc == 0 and 'REASONS []' in output, output[-4000:]
    finally:
        ws.root("rm -f %s" % STAMP)


def test_no_digest_of_a_secret_bearing_file_is_shown_at_vvvv_diff(ws, tmp_path):
    secret_files = ["%s/.claude/settings.json" % HOME, "%s/.claude/client-key.pem" % HOME, "%s/.config/claude-fleet/env.sh" % HOME]
    record = _stamp_play(str(tmp_path), "record-secrets.yml", [
        {"name": "Record", "claude_fleet.bedrock.converge_stamp": {"path": STAMP, "fingerprint": FP, "paths": secret_files}}])
    try:
        rc, output, _recap = ws.play(playbook=record, verbosity=4, check=True)
        assert rc == 0, output[-4000:]
        assert '"hmac"' in output, "the diff shows the keyed probes"
        for path in secret_files:
            digest = hashlib.sha256(ws.fleet.get(ws.host, path)).hexdigest()
            assert digest not in output, "%s: its SHA-256 is in the -vvvv --diff output" % path
        shown = json.dumps(output)
        assert "BEGIN PRIVATE KEY" not in shown
    finally:
        ws.root("rm -f %s" % STAMP)
