# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""roles/_smoke/files/tls_probe.py, run as the smoke test and verify.yml run it (python3 -c CODE URL
SETTINGS), against loopback HTTPS servers with a CA made here."""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import urllib.error

import pytest
from cryptography.hazmat.primitives import serialization
from bedrock_emulator.testing_pki import make_pki

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
with open(os.path.join(REPO, "roles", "_smoke", "files", "tls_probe.py"), encoding="utf-8") as _handle:
    CODE = _handle.read()
SETTINGS = ".claude/settings.json"


def test_the_code_survives_a_shell_command_line():
    # become passes environment values through a shell command line; these characters break it there.
    assert [c for c in '"$`\\' if c in CODE] == []


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    # The emulator's test PKI: its certificates carry the key identifiers Python 3.13's strict verification wants.
    tmp = tmp_path_factory.mktemp("pki")
    make_pki(str(tmp))
    return tmp


class _Forbidden(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(403)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def https_url(pki):
    """An HTTPS endpoint that answers 403, as Bedrock does to an unsigned GET."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Forbidden)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(pki / "server.pem"), str(pki / "server.key"))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://localhost:%d/" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture()
def closing_url():
    """An endpoint that accepts and closes every connection during the handshake (as one demanding a client certificate may)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    stop = threading.Event()

    def serve():
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _addr = sock.accept()
            except OSError:
                continue
            conn.recv(1024)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield "https://localhost:%d/" % sock.getsockname()[1]
    stop.set()
    thread.join(5)
    sock.close()


def run(home, url, env=None, settings=None):
    if settings is not None:
        os.makedirs(home / ".claude", exist_ok=True)
        (home / SETTINGS).write_text(settings if isinstance(settings, str) else json.dumps({"env": settings}))
    base = {"HOME": str(home), "PATH": os.environ.get("PATH", "")}
    proc = subprocess.run([sys.executable, "-c", CODE, url, SETTINGS], env=dict(base, **(env or {})), capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return proc.stdout.splitlines()


def test_trust_from_settings_json_passes_and_an_http_error_answer_counts_as_reached(tmp_path, pki, https_url):
    assert run(tmp_path, https_url, settings={"NODE_EXTRA_CA_CERTS": str(pki / "ca.pem")}) == [
        "probe ok: TLS, client certificate and proxy work"]


def test_without_the_ca_the_certificate_error_is_named(tmp_path, https_url):
    (line,) = run(tmp_path, https_url)
    assert line.startswith("probe error: SSLCertVerificationError")
    assert "client certificate is configured" not in line


def test_settings_json_env_wins_over_the_login_shell(tmp_path, pki, https_url):
    out = run(tmp_path, https_url, env={"NODE_EXTRA_CA_CERTS": str(tmp_path / "missing.pem")},
              settings={"NODE_EXTRA_CA_CERTS": str(pki / "ca.pem")})
    assert out == ["probe ok: TLS, client certificate and proxy work"]


def test_a_missing_ca_file_is_an_error_not_a_crash(tmp_path, https_url):
    (line,) = run(tmp_path, https_url, settings={"NODE_EXTRA_CA_CERTS": str(tmp_path / "missing.pem")})
    assert line.startswith("probe error: FileNotFoundError")


def test_a_symlinked_settings_file_is_not_followed(tmp_path, pki, https_url):
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"env": {"NODE_EXTRA_CA_CERTS": str(pki / "ca.pem")}}))
    os.makedirs(tmp_path / ".claude")
    os.symlink(target, tmp_path / SETTINGS)
    (line,) = run(tmp_path, https_url)
    assert line.startswith("probe error: SSLCertVerificationError")


@pytest.mark.parametrize("settings", ["{not json", "[1, 2]", json.dumps({"env": ["x"]}), "\ufeff" + json.dumps({"env": {"A": 1}})])
def test_an_unreadable_settings_file_is_ignored(tmp_path, https_url, settings):
    (line,) = run(tmp_path, https_url, settings=settings)
    assert line.startswith("probe error: SSLCertVerificationError")


def test_aws_profile_over_static_keys_is_noted(tmp_path, pki, https_url):
    keys = {"NODE_EXTRA_CA_CERTS": str(pki / "ca.pem"), "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE"}
    out = run(tmp_path, https_url, env={"AWS_PROFILE": "personal"}, settings=keys)
    assert out[0].startswith("probe note: AWS_PROFILE is set") and out[1].startswith("probe ok")
    assert "personal" not in "\n".join(out) and "AKIAEXAMPLE" not in "\n".join(out)
    out = run(tmp_path, https_url, env={"AWS_PROFILE": "personal"}, settings=dict(keys, AWS_BEARER_TOKEN_BEDROCK="token"))
    assert out == ["probe ok: TLS, client certificate and proxy work"]


def test_a_proxy_url_with_credentials_is_not_printed(monkeypatch):
    # urllib's own errors rarely quote the proxy URL; one that does must not print it.
    spec = importlib.util.spec_from_file_location("tls_probe", os.path.join(REPO, "roles", "_smoke", "files", "tls_probe.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    proxy = "http://user:s3cret@127.0.0.1:3128"

    def refuse(*_args, **_kwargs):
        raise urllib.error.URLError("cannot connect to %s" % proxy)

    monkeypatch.setattr(module.urllib.request.OpenerDirector, "open", refuse)
    (line,) = module.probe("https://localhost:1/", {"HTTPS_PROXY": proxy})
    assert line == "probe error: URLError cannot connect to the proxy"


def test_a_handshake_ended_by_the_endpoint_suggests_a_client_certificate(tmp_path, closing_url):
    (line,) = run(tmp_path, closing_url)
    assert line.startswith("probe error:") and "it may demand one" in line


def _mtls_settings(pki, tmp_path, cert_bytes=None, passphrase=None):
    """settings.json env naming the test PKI's client certificate and its key encrypted with 'right-passphrase'."""
    cert = tmp_path / "client-cert.pem"
    cert.write_bytes(cert_bytes if cert_bytes is not None else (pki / "client.pem").read_bytes())
    key = serialization.load_pem_private_key((pki / "client.key").read_bytes(), password=None)
    (tmp_path / "client-key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                                serialization.BestAvailableEncryption(b"right-passphrase")))
    return {"NODE_EXTRA_CA_CERTS": str(pki / "ca.pem"), "CLAUDE_CODE_CLIENT_CERT": str(cert),
            "CLAUDE_CODE_CLIENT_KEY": str(tmp_path / "client-key.pem"), "CLAUDE_CODE_CLIENT_KEY_PASSPHRASE": passphrase or "right-passphrase"}


def test_a_client_certificate_that_loads_passes(tmp_path, pki, https_url):
    assert run(tmp_path, https_url, settings=_mtls_settings(pki, tmp_path)) == ["probe ok: TLS, client certificate and proxy work"]


@pytest.mark.parametrize("damage", ["literal-backslash-n", "empty", "wrong-passphrase"])
def test_a_client_certificate_that_does_not_load_is_named(tmp_path, pki, https_url, damage):
    # The PEM a folded-block Jinja '\n' produced: a footer followed by a backslash and an n, no final newline.
    good = (pki / "client.pem").read_bytes()
    cert = {"literal-backslash-n": good.rstrip(b"\n") + b"\\n", "empty": b""}.get(damage)
    settings = _mtls_settings(pki, tmp_path, cert, passphrase="not-the-passphrase" if damage == "wrong-passphrase" else None)
    (line,) = run(tmp_path, https_url, settings=settings)
    assert line.startswith("probe error: SSLError the client certificate or its key does not load"), line
    assert "None" not in line and "not-the-passphrase" not in line


def test_an_error_without_a_reason_is_named_by_its_type_and_message():
    spec = importlib.util.spec_from_file_location("tls_probe", os.path.join(REPO, "roles", "_smoke", "files", "tls_probe.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # ssl.SSLError's reason is None for a PEM that does not load, a short code otherwise: not the message.
    assert module.describe(ssl.SSLError(9, "[SSL] PEM lib (_ssl.c:3905)")) == ("SSLError", "[SSL] PEM lib (_ssl.c:3905)")
    assert module.describe(TimeoutError()) == ("TimeoutError", "TimeoutError()")
    assert module.describe(urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))) == (
        "ConnectionRefusedError", "[Errno 111] Connection refused")
