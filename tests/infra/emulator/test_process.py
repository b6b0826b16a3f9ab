# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m bedrock_emulator`` as a separate process, the way shell tests and benchmarks run it."""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from bedrock_emulator.testing_pki import make_pki

EMULATOR_DIR = os.path.dirname(os.path.abspath(__file__))


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = EMULATOR_DIR + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture
def spawn():
    procs = []

    def start(*args):
        proc = subprocess.Popen([sys.executable, "-m", "bedrock_emulator", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=_env(), text=True)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def _get(url):
    with urllib.request.urlopen(url, timeout=10) as response:  # nosec - loopback emulator
        return json.loads(response.read())


def test_process_prints_url_writes_url_file_and_log(spawn, tmp_path):
    url_file, log = tmp_path / "url", tmp_path / "log.jsonl"
    overrides = tmp_path / "overrides.yml"
    overrides.write_text("iam:\n  deny: [bedrock:ListFoundationModels]\n", encoding="utf-8")
    proc = spawn("--scenario", "throttle", "--port", "0", "--url-file", str(url_file), "--log", str(log), "--overrides", str(overrides))
    first = proc.stdout.readline().strip()
    assert first.startswith("listening http://127.0.0.1:")
    url = first.split(" ", 1)[1]
    assert url_file.read_text(encoding="utf-8").strip() == url
    assert _get(url + "/_emulator/health")["status"] == "ok"
    scenario = _get(url + "/_emulator/scenario")
    assert scenario["iam"]["deny"] == ["bedrock:ListFoundationModels"] and scenario["faults"]["InvokeModel"] == {"throttle_first": 3}
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(url + "/foundation-models", timeout=10)  # pylint: disable=consider-using-with  # nosec
    assert exc.value.code == 403
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e["error_code"] for e in entries] == ["MissingAuthenticationTokenException"]


def test_process_rejects_invalid_scenario(spawn, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("extends: default\naccount_id: '12'\n", encoding="utf-8")
    proc = spawn("--scenario", str(bad))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and out == ""
    assert "account_id: must be 12 digits" in err


def test_process_check_mode(spawn):
    proc = spawn("--scenario", "legacy", "--check")
    out, dummy = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "anthropic.claude-opus-4-6-v1" in json.loads(out)["models"]


def test_aws_env_points_a_subprocess_at_the_emulator(bedrock_emulator):
    emu = bedrock_emulator()
    env = dict(os.environ)
    for key in [k for k in env if k.startswith("AWS_")]:
        if key != "AWS_CA_BUNDLE":
            del env[key]
    env.update(emu.aws_env("eu-west-1"))
    code = ("import boto3, json; b = boto3.client('bedrock'); s = boto3.client('sts');"
            "print(json.dumps([s.get_caller_identity()['Account'], len(b.list_inference_profiles()['inferenceProfileSummaries'])]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=True)
    account, profiles = json.loads(out.stdout)
    assert account == "123456789012" and profiles > 0
    assert {e["region"] for e in emu.requests()} == {"eu-west-1"}


def test_process_serves_https_with_client_certificates(spawn, tmp_path):
    pki = make_pki(str(tmp_path))
    proc = spawn("--port", "0", "--tls-cert", pki["server.pem"], "--tls-key", pki["server.key"], "--client-ca", pki["ca.pem"])
    url = proc.stdout.readline().strip().split(" ", 1)[1]
    assert url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=pki["ca.pem"])
    context.load_cert_chain(pki["client.pem"], pki["client.key"])
    with urllib.request.urlopen(url + "/_emulator/health", context=context, timeout=10) as response:  # nosec - loopback emulator
        assert json.loads(response.read())["status"] == "ok"


def test_process_rejects_half_tls_configuration(spawn, tmp_path):
    pki = make_pki(str(tmp_path))
    proc = spawn("--tls-cert", pki["server.pem"])
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and out == "" and "--tls-cert and --tls-key go together" in err
