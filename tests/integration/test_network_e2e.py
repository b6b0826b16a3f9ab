# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Enterprise networks end to end on one sandbox workstation: proxy, CA trust, mutual TLS.

One fleet (one bookworm workstation, developers alice/bob/carol) and one test bed (Bedrock emulator,
Node.js mirror) serve the whole module; tests run in file order:

1. bad network input fails before any change, naming the option;
2. without the CA option the registry install fails naming the certificate problem and the option;
3. with it, setup.yml converges through a loopback forward proxy that demands credentials: every user's
   Claude Code requests cross the proxy (its log names the socket's UID) and reach the emulator with the
   configured model, region and keys; -vvv output and the fleet report hold no proxy password or key;
   the re-run changes nothing; a new proxy URL changes only the files that carry it;
4. HTTPS emulator with a test CA: the smoke test passes with the CA and fails within its bound with the
   TLS remedy without it; mTLS: passes with the client certificate, fails clearly without it.

Needs root (sandbox), debootstrap and the npm registry through this network's TLS-re-signing proxy.
Select with ``pytest -m "sandbox and network" tests/integration/test_network_e2e.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

import pytest
import yaml

from harness import SANDBOX_SKIPS

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PROXY = os.path.join(REPO, "tests", "infra", "proxy", "forward_proxy.py")
HOST_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
PROXY_USER = "fleet"
PROXY_PASSWORD = "Pr0xy-S3cret-%d" % os.getpid()
KEY_PASSPHRASE = "K3y-Passphrase-%d" % os.getpid()
DEVELOPERS = ("alice", "bob", "carol")
# The model the test fleet pins (tests/group_vars): what every proxied invocation must name.
with open(os.path.join(os.path.dirname(__file__), "..", "group_vars", "workstations.yml"), encoding="utf-8") as _handle:
    MODEL = yaml.safe_load(_handle)["claude_fleet_bedrock_model"]
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SMOKE_TIMEOUT = 45

pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.network,
    pytest.mark.slow,
    *SANDBOX_SKIPS,
    pytest.mark.skipif(not os.path.exists(HOST_BUNDLE), reason="the host has no CA bundle to trust the registry with"),
]


class Bed:
    """The module's workstation (the shared harness) and test bed, the forward proxy and helpers."""

    def __init__(self, fleet, testbed):
        self.fleet = fleet
        self.bed = testbed
        self.host = fleet.hosts[0]
        self.pki = os.path.join(fleet.tmp, "pki")
        self.proxy_dir = os.path.join(fleet.tmp, "proxy")
        self.proxy = None

    @property
    def tmp(self):
        return self.fleet.tmp

    @property
    def state(self):
        return self.bed.state

    def ssh(self, command, user="admin"):
        return self.fleet.ssh(self.host, command, user=user, text=True)

    def testbed(self, *emulator_args):
        """(Re)start the test bed with EMULATOR_ARGS."""
        self.bed.up(*emulator_args)

    def start_proxy(self):
        os.makedirs(self.proxy_dir, exist_ok=True)
        port_file = os.path.join(self.proxy_dir, "proxy.port")
        self.proxy = subprocess.Popen([sys.executable, PROXY, "--port-file", port_file, "--log", os.path.join(self.proxy_dir, "proxy.log"),
                                       "--user", PROXY_USER], env=dict(os.environ, FORWARD_PROXY_PASSWORD=PROXY_PASSWORD),
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(port_file):
            assert time.monotonic() < deadline and self.proxy.poll() is None, "the forward proxy did not start"
            time.sleep(0.1)
        with open(port_file, encoding="utf-8") as handle:
            return int(handle.read())

    def proxy_log(self):
        path = os.path.join(self.proxy_dir, "proxy.log")
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def emulator_log(self):
        with open(os.path.join(self.state, "emulator.log"), encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    def setup(self, extra=None, tags=None, verbose=False, timeout=1800):
        """Run playbooks/setup.yml with the test fleet's group_vars plus EXTRA; return (rc, output, changed, changed task names)."""
        variables = dict({"claude_fleet_report_dir": os.path.join(self.tmp, "report"), "claude_fleet_smoke_timeout": SMOKE_TIMEOUT},
                         **(extra or {}))
        rc, output, recap = self.fleet.play(extra=variables, tags=tags, verbosity=3 if verbose else 0, timeout=timeout)
        changed = {host: counts["changed"] for host, counts in recap.items()}
        tasks = [block.split("]", 1)[0] for block in output.split("\nTASK [")[1:] if re.search(r"^changed: \[", block, re.M)]
        return rc, output, changed, tasks


@pytest.fixture(scope="module")
def bed(testbed_factory, fleet_factory):
    testbed = testbed_factory()
    env = Bed(fleet_factory("nw", testbed=testbed), testbed)
    from bedrock_emulator.testing_pki import make_pki  # pylint: disable=import-outside-toplevel
    os.makedirs(env.pki)
    make_pki(env.pki)
    _encrypt_client_key(env.pki)
    try:
        yield env
    finally:
        if env.proxy is not None:
            env.proxy.terminate()
            env.proxy.wait(timeout=30)


def _encrypt_client_key(pki):
    """Re-write client.key with a passphrase, so the passphrase option is exercised."""
    from cryptography.hazmat.primitives import serialization  # pylint: disable=import-outside-toplevel
    path = os.path.join(pki, "client.key")
    with open(path, "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    with open(path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.BestAvailableEncryption(KEY_PASSPHRASE.encode())))


def _nothing_installed(bed):
    proc = bed.ssh("test ! -e /opt/nodejs/current && test ! -e /usr/local/bin/node && test ! -e /etc/claude-code "
                   "&& test ! -e /usr/local/bin/claude && echo clean")
    assert proc.stdout.strip() == "clean", "the workstation changed: %s" % proc.stderr


@pytest.mark.parametrize("extra, message", [
    ({"claude_fleet_network_proxy": "socks5://127.0.0.1:1080"}, "claude_fleet_network_proxy socks5://127.0.0.1:1080 is a SOCKS proxy"),
    ({"claude_fleet_network_ca_certificates": ["__NOT_PEM__"]}, "without a PEM certificate"),
    ({"claude_fleet_network_client_cert": "__CLIENT_CERT__"}, "claude_fleet_network_client_cert is set without its key"),
], ids=["socks-proxy", "ca-not-pem", "cert-without-key"])
def test_bad_network_input_fails_before_any_change(bed, extra, message):
    not_pem = os.path.join(bed.tmp, "not-a-certificate.der")
    with open(not_pem, "wb") as handle:
        handle.write(b"\x30\x82\x01\x0a binary DER, not PEM")
    extra = json.loads(json.dumps(extra).replace("__NOT_PEM__", not_pem).replace("__CLIENT_CERT__", os.path.join(bed.pki, "client.pem")))
    rc, output, _changed, _tasks = bed.setup(dict(extra, claude_fleet_preflight=False))
    assert rc != 0
    assert message in re.sub(r"\s+", " ", output), output[-3000:]
    _nothing_installed(bed)


def test_registry_install_without_the_ca_option_names_the_certificate_problem(bed):
    extra = {"claude_fleet_network_ca_certificates": [], "claude_code_install_source": "registry", "claude_fleet_preflight": False}
    rc, output, _changed, _tasks = bed.setup(extra, tags="nodejs,claude_code")
    assert rc != 0
    text = re.sub(r"\s+", " ", output)
    assert re.search(r"SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT|certificate", text), output[-3000:]
    assert "set claude_fleet_network_ca_certificates" in text
    assert bed.ssh("test ! -e /usr/local/bin/claude && echo absent").stdout.strip() == "absent"


@pytest.fixture(scope="module")
def proxied(bed):
    """Converge through the credential-demanding proxy with the CA option (registry install); keep the -vvv output."""
    port = bed.start_proxy()
    proxy_url = "http://%s:%s@127.0.0.1:%d" % (PROXY_USER, PROXY_PASSWORD, port)
    with open(os.path.join(bed.state, "registry.url"), encoding="utf-8") as handle:
        registry_host = urllib.parse.urlsplit(handle.read().strip()).hostname
    # The registry is reached directly (this network's own TLS-re-signing path); Bedrock goes through the test proxy,
    # which only connects to loopback targets.
    extra = {"claude_fleet_network_proxy": proxy_url, "claude_fleet_network_no_proxy": registry_host,
             "claude_code_install_source": "registry", "claude_fleet_network_ca_certificates": [HOST_BUNDLE]}
    rc, output, changed, _tasks = bed.setup(extra, verbose=True)
    return {"rc": rc, "output": output, "changed": changed, "extra": extra, "port": port}


def test_with_the_ca_option_the_registry_install_succeeds_through_the_proxy(bed, proxied):
    assert proxied["rc"] == 0, proxied["output"][-5000:]
    assert bed.ssh("sudo -u alice -i bash -lc 'claude --version'").returncode == 0


def test_each_users_claude_code_goes_through_the_proxy_to_bedrock(bed, proxied):
    assert proxied["rc"] == 0, proxied["output"][-5000:]
    emulator = bed.emulator_log()
    uids = {}
    for user in DEVELOPERS:
        uids[user] = int(bed.ssh("id -u %s" % user).stdout.strip())
    log = bed.proxy_log()
    for user, uid in uids.items():
        mine = [e for e in log if e["uid"] == uid and e["status"] == 200]
        assert mine, "no proxied request from %s (uid %d) in %s" % (user, uid, log[-10:])
    invokes = [e for e in emulator if e.get("model_id") and e.get("service") == "bedrock-runtime"]
    assert invokes, "the emulator saw no model invocation"
    for entry in invokes:
        assert entry["model_id"] == MODEL and entry["region"] == "us-east-1"
        assert entry["auth"] == "sigv4" and entry["principal"] == ACCESS_KEY
    assert not [e for e in log if e["status"] == 407 and e["uid"] in uids.values()], "a developer's request lacked the proxy credentials"


def test_no_proxy_password_in_verbose_output_or_report_and_secret_files_are_0600(bed, proxied):
    assert PROXY_PASSWORD not in proxied["output"]
    report_dir = os.path.join(bed.tmp, "report")
    for name in os.listdir(report_dir):
        with open(os.path.join(report_dir, name), encoding="utf-8") as handle:
            assert PROXY_PASSWORD not in handle.read(), name
    for user in DEVELOPERS:
        stat = bed.ssh("sudo stat -c '%%a %%U' /home/%s/.claude/settings.json" % user).stdout.strip()
        assert stat == "600 %s" % user
        assert PROXY_PASSWORD in bed.ssh("sudo cat /home/%s/.claude/settings.json" % user).stdout
        assert PROXY_PASSWORD not in bed.ssh("sudo cat /home/%s/.config/claude-fleet/env.sh /home/%s/.bashrc" % (user, user)).stdout
    assert bed.ssh("sudo stat -c '%a' /etc/claude-fleet/npmrc").stdout.strip() == "600"


def test_rerun_changes_nothing(bed, proxied):
    rc, output, changed, _tasks = bed.setup(proxied["extra"])
    assert rc == 0, output[-5000:]
    assert changed.get(bed.host) == 0, output[-8000:]


def test_a_new_proxy_url_changes_only_the_files_that_carry_it(bed, proxied):
    # Same proxy, other credentials spelled differently: a new URL the proxy still accepts.
    extra = dict(proxied["extra"], claude_fleet_network_proxy="http://%s:%s@localhost:%d" % (PROXY_USER, PROXY_PASSWORD, proxied["port"]))
    rc, output, changed, tasks = bed.setup(extra)
    assert rc == 0, output[-5000:]
    carriers = ("Write the npm configuration", "Merge the Bedrock settings into ~/.claude/settings.json")
    assert tasks and all(any(c in t for c in carriers) for t in tasks), tasks
    assert changed.get(bed.host) == len(tasks)


def _https(bed, client_ca=False):
    args = ["--tls-cert", os.path.join(bed.pki, "server.pem"), "--tls-key", os.path.join(bed.pki, "server.key")]
    bed.testbed(*(args + (["--client-ca", os.path.join(bed.pki, "ca.pem")] if client_ca else [])))


def test_https_endpoint_passes_with_the_ca_option_and_fails_in_bounded_time_without(bed, proxied):
    _https(bed)
    trusted = {"claude_fleet_network_ca_certificates": [HOST_BUNDLE, os.path.join(bed.pki, "ca.pem")], "claude_fleet_preflight": False}
    rc, output, _changed, _tasks = bed.setup(trusted, tags="settings,smoke,report")
    assert rc == 0, output[-5000:]
    started = time.monotonic()
    untrusted = {"claude_fleet_network_ca_certificates": [HOST_BUNDLE], "claude_fleet_preflight": False}
    rc, output, _changed, _tasks = bed.setup(untrusted, tags="settings,smoke,report")
    elapsed = time.monotonic() - started
    assert rc != 0
    text = re.sub(r"\s+", " ", output)
    assert "TLS trust failed" in text and "claude_fleet_network_ca_certificates" in text, output[-5000:]
    # Bounded: the CLI is killed after its timeout rather than hanging (a generous ceiling for the whole play on a loaded host).
    assert elapsed < 900


def test_mtls_endpoint_passes_with_the_client_certificate_and_fails_clearly_without(bed, proxied):
    _https(bed, client_ca=True)
    base = {"claude_fleet_network_ca_certificates": [HOST_BUNDLE, os.path.join(bed.pki, "ca.pem")], "claude_fleet_preflight": False}
    rc, output, _changed, _tasks = bed.setup(base, tags="settings,smoke,report")
    assert rc != 0
    text = re.sub(r"\s+", " ", output)
    assert "client certificate" in text and "claude_fleet_network_client_cert" in text, output[-5000:]
    with_cert = dict(base, claude_fleet_network_client_cert=os.path.join(bed.pki, "client.pem"),
                     claude_fleet_network_client_key=os.path.join(bed.pki, "client.key"),
                     claude_fleet_network_client_key_passphrase=KEY_PASSPHRASE)
    rc, output, _changed, _tasks = bed.setup(with_cert, tags="settings,smoke,report", verbose=True)
    assert rc == 0, output[-5000:]
    with open(os.path.join(bed.pki, "client.key"), encoding="utf-8") as handle:
        key_body = handle.read().splitlines()[1]
    assert KEY_PASSPHRASE not in output and key_body not in output
    # Byte for byte what was configured, with a real final newline (OpenSSL and Node reject a PEM ending in a backslash and an n).
    expected = {}
    for name, source in (("client-cert.pem", "client.pem"), ("client-key.pem", "client.key")):
        with open(os.path.join(bed.pki, source), "rb") as handle:
            expected[name] = hashlib.sha256(handle.read().strip() + b"\n").hexdigest()
    for user in DEVELOPERS:
        for name, digest in expected.items():
            stat = bed.ssh("sudo stat -c '%%a %%U' /home/%s/.claude/%s" % (user, name)).stdout.strip()
            assert stat == "600 %s" % user, name
            assert bed.ssh("sudo sha256sum /home/%s/.claude/%s" % (user, name)).stdout.split()[:1] == [digest], name
