# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real Claude Code CLI (npm @anthropic-ai/claude-code) against the emulator.

The CLI is installed once per version with ``npm install -g --prefix`` into
``<repo>/.cache/claude-cli/<version>/`` (override: CLAUDE_CLI_CACHE_DIR, CLAUDE_CLI_VERSION) and reused.
The tests skip only when the npm registry cannot be reached (or npm is not installed).
The CLI runs with HOME in a temporary directory and talks to nothing but the loopback emulator.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

CLAUDE_CLI_VERSION = os.environ.get("CLAUDE_CLI_VERSION", "2.1.332")
PACKAGE = "@anthropic-ai/claude-code"
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CACHE_ROOT = os.environ.get("CLAUDE_CLI_CACHE_DIR", os.path.join(REPO_ROOT, ".cache", "claude-cli"))
CLI_TIMEOUT = 90
US_SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NETWORK_ERRORS = ("ENOTFOUND", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH", "network", "socket hang up")


def _version_of(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60, check=False,
                             env={"PATH": "/usr/bin:/bin", "HOME": tempfile.gettempdir()})
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _install(npm, prefix):
    """npm install -g --prefix into a fresh directory, then move it into the cache (atomic rename)."""
    staging = tempfile.mkdtemp(prefix=".install-", dir=CACHE_ROOT)
    try:
        proc = subprocess.run([npm, "install", "-g", "--prefix", staging, "--no-audit", "--no-fund", "%s@%s" % (PACKAGE, CLAUDE_CLI_VERSION)],
                              capture_output=True, text=True, timeout=600, check=False)
        if proc.returncode != 0:
            pytest.fail("npm install %s@%s failed:\n%s\n%s" % (PACKAGE, CLAUDE_CLI_VERSION, proc.stdout, proc.stderr))
        binary = os.path.join(staging, "bin", "claude")
        if _version_of(binary) is None:
            # npm may skip the postinstall that puts the native binary in place; run it ourselves.
            pkg_dir = os.path.join(staging, "lib", "node_modules", PACKAGE)
            node = shutil.which("node")
            if node:
                subprocess.run([node, "install.cjs"], cwd=pkg_dir, capture_output=True, timeout=300, check=False)
        try:
            os.rename(staging, prefix)
        except OSError:
            if not os.path.isdir(prefix):  # another run won the race otherwise
                raise
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging, ignore_errors=True)


@pytest.fixture(scope="module")
def claude_bin():
    prefix = os.path.join(CACHE_ROOT, CLAUDE_CLI_VERSION)
    binary = os.path.join(prefix, "bin", "claude")
    if not os.path.exists(binary):
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed, so the Claude Code CLI cannot be fetched from the npm registry")
        probe = subprocess.run([npm, "view", "%s@%s" % (PACKAGE, CLAUDE_CLI_VERSION), "version"], capture_output=True, text=True,
                               timeout=120, check=False)
        if probe.returncode != 0:
            output = probe.stdout + probe.stderr
            if any(marker in output for marker in NETWORK_ERRORS):
                pytest.skip("the npm registry cannot be reached: %s" % output.strip().splitlines()[-1:])
            pytest.fail("npm view %s@%s failed:\n%s" % (PACKAGE, CLAUDE_CLI_VERSION, output))
        os.makedirs(CACHE_ROOT, exist_ok=True)
        _install(npm, prefix)
    version = _version_of(binary)
    assert version is not None and version.startswith(CLAUDE_CLI_VERSION), "%s --version gave %r" % (binary, version)
    return binary


def run_claude(binary, emu, home, prompt="Say hello", **env_extra):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "CLAUDE_CODE_USE_BEDROCK": "1",
        "ANTHROPIC_BEDROCK_BASE_URL": emu.url,
        "AWS_REGION": "us-east-1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "API_TIMEOUT_MS": "30000",
        "ANTHROPIC_MODEL": US_SONNET,
    }
    env.update({k: v for k, v in env_extra.items() if v is not None})
    # A subprocess timeout raises, so a hanging CLI fails the test instead of blocking it.
    return subprocess.run([binary, "-p", prompt], capture_output=True, text=True, timeout=CLI_TIMEOUT, cwd=str(home), env=env, check=False,
                          stdin=subprocess.DEVNULL)


def test_sigv4_prompt_prints_emulator_reply(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator()
    guardrail_headers = "X-Amzn-Bedrock-GuardrailIdentifier: gr-fleet01\nX-Amzn-Bedrock-GuardrailVersion: 3\nX-Fleet-Team: platform"
    proc = run_claude(claude_bin, emu, tmp_path, AWS_REGION="us-west-2", AWS_ACCESS_KEY_ID=emu.access_key_id,
                      AWS_SECRET_ACCESS_KEY=emu.secret_access_key, ANTHROPIC_CUSTOM_HEADERS=guardrail_headers)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Hello from the Bedrock emulator (model %s, region us-west-2)." % US_SONNET in proc.stdout
    streams = emu.requests("InvokeModelWithResponseStream")
    assert streams, emu.requests()
    main = streams[-1]
    assert (main["model_id"], main["region"], main["status"]) == (US_SONNET, "us-west-2", 200)
    assert (main["guardrail_identifier"], main["guardrail_version"]) == ("gr-fleet01", "3")
    assert main["custom_headers"]["x-fleet-team"] == "platform"
    assert main["auth"] == "sigv4" and main["principal"] == emu.access_key_id
    assert main["user_agent"].startswith("claude-cli/" + CLAUDE_CLI_VERSION)
    # The CLI probes models with 1-token InvokeModel calls and lists the system-defined profiles.
    probes = emu.requests("InvokeModel")
    assert any(p["status"] == 200 and p["max_tokens"] == 1 for p in probes)
    assert emu.requests("ListInferenceProfiles")
    assert all(e["region"] == "us-west-2" for e in emu.requests() if e["region"])


def test_bearer_token_prompt(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator()
    model = "global.anthropic.claude-haiku-4-5-20251001-v1:0"
    proc = run_claude(claude_bin, emu, tmp_path, AWS_BEARER_TOKEN_BEDROCK=emu.bearer_token, ANTHROPIC_MODEL=model)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Hello from the Bedrock emulator (model %s, region us-east-1)." % model in proc.stdout
    entries = emu.requests()
    assert entries and all(e["auth"] == "bearer" for e in entries)
    assert emu.requests("InvokeModelWithResponseStream")[-1]["model_id"] == model


def test_eu_region_profile(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator()
    model = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
    proc = run_claude(claude_bin, emu, tmp_path, AWS_REGION="eu-central-1", ANTHROPIC_MODEL=model, AWS_ACCESS_KEY_ID=emu.access_key_id,
                      AWS_SECRET_ACCESS_KEY=emu.secret_access_key)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "(model %s, region eu-central-1)" % model in proc.stdout


def test_wrong_secret_reports_an_error(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator()
    proc = run_claude(claude_bin, emu, tmp_path, AWS_ACCESS_KEY_ID=emu.access_key_id, AWS_SECRET_ACCESS_KEY="not-the-right-secret")
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "The request signature we calculated does not match" in output
    assert "Hello from the Bedrock emulator" not in output
    assert emu.counters()["errors"].get("InvalidSignatureException", 0) >= 1


def test_model_without_access_reports_an_error(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator("model_denied")
    proc = run_claude(claude_bin, emu, tmp_path, ANTHROPIC_MODEL="us.anthropic.claude-opus-4-6-v1", AWS_ACCESS_KEY_ID=emu.access_key_id,
                      AWS_SECRET_ACCESS_KEY=emu.secret_access_key)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "You don't have access to the model with the specified model ID." in output
    assert emu.requests("InvokeModelWithResponseStream")[-1]["error_code"] == "AccessDeniedException"


def test_use_case_form_reports_an_error(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator("use_case_form")
    proc = run_claude(claude_bin, emu, tmp_path, AWS_ACCESS_KEY_ID=emu.access_key_id, AWS_SECRET_ACCESS_KEY=emu.secret_access_key)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Model use case details have not been submitted" in output


def test_throttling_is_retried_by_the_cli(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator(overrides={"faults": {"InvokeModelWithResponseStream": {"throttle_first": 3}}})
    proc = run_claude(claude_bin, emu, tmp_path, CLAUDE_CODE_MAX_RETRIES="4", AWS_ACCESS_KEY_ID=emu.access_key_id,
                      AWS_SECRET_ACCESS_KEY=emu.secret_access_key)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Hello from the Bedrock emulator (model %s, region us-east-1)." % US_SONNET in proc.stdout
    assert [e["status"] for e in emu.requests("InvokeModelWithResponseStream")] == [429, 429, 429, 200]


def test_throttling_without_retries_reports_an_error(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator(overrides={"faults": {"InvokeModelWithResponseStream": {"throttle_first": 3}}})
    proc = run_claude(claude_bin, emu, tmp_path, AWS_ACCESS_KEY_ID=emu.access_key_id, AWS_SECRET_ACCESS_KEY=emu.secret_access_key)
    assert proc.returncode != 0
    assert "Hello from the Bedrock emulator" not in proc.stdout
    assert [e["status"] for e in emu.requests("InvokeModelWithResponseStream")] == [429]


_ISOLATED = r"""
import json, subprocess, sys
sys.path.insert(0, sys.argv[1])
from bedrock_emulator import EmulatorServer
with EmulatorServer() as server:
    env = {"PATH": "/usr/bin:/bin", "HOME": sys.argv[3], "CLAUDE_CODE_USE_BEDROCK": "1", "ANTHROPIC_BEDROCK_BASE_URL": server.url,
           "AWS_REGION": "us-east-1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_MAX_RETRIES": "0",
           "ANTHROPIC_MODEL": sys.argv[4], "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
    proc = subprocess.run([sys.argv[2], "-p", "Say hello"], env=env, cwd=sys.argv[3], capture_output=True, text=True, timeout=90,
                          stdin=subprocess.DEVNULL)
    print(json.dumps({"rc": proc.returncode, "out": proc.stdout, "err": proc.stderr, "ops": [e["operation"] for e in server.requests()]}))
"""


def test_cli_needs_nothing_but_loopback(claude_bin, tmp_path):
    """Emulator and CLI together in a new network namespace whose only interface is lo."""
    unshare, ip_tool = shutil.which("unshare"), shutil.which("ip") or "/usr/sbin/ip"
    probe = subprocess.run([unshare or "unshare", "-n", "true"], capture_output=True, check=False) if unshare else None
    if probe is None or probe.returncode != 0 or not os.path.exists(ip_tool):
        pytest.skip("needs unshare -n and ip (root or CAP_SYS_ADMIN) to cut the network off; the other CLI tests still run")
    emulator_dir = os.path.dirname(os.path.abspath(__file__))
    script = '"%s" link set lo up && exec "$0" "$@"' % ip_tool
    proc = subprocess.run([unshare, "-n", "sh", "-c", script, sys.executable, "-c", _ISOLATED, emulator_dir, claude_bin,
                           str(tmp_path), US_SONNET], capture_output=True, text=True, timeout=CLI_TIMEOUT + 30, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["rc"] == 0, result
    assert "Hello from the Bedrock emulator (model %s, region us-east-1)." % US_SONNET in result["out"]
    assert "InvokeModelWithResponseStream" in result["ops"]


# --- Amazon Bedrock (Mantle): CLAUDE_CODE_USE_MANTLE=1, the Anthropic Messages API ---------------------------------

def mantle_model(emu, region="us-east-1"):
    """A Mantle model id (no geo prefix, no version suffix) of the scenario's catalog, for example anthropic.claude-sonnet-4-5."""
    from bedrock_emulator.mantle import mantle_id  # pylint: disable=import-outside-toplevel
    return sorted(mantle_id(m.model_id) for m in emu.scenario.models_in(region) if m.provider == "Anthropic" and m.streaming)[-1]


def run_claude_mantle(binary, emu, home, base_url=None, **env_extra):
    """The CLI on Mantle, as the settings role configures it: CLAUDE_CODE_USE_MANTLE without CLAUDE_CODE_USE_BEDROCK."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "CLAUDE_CODE_USE_MANTLE": "1",
        "ANTHROPIC_BEDROCK_MANTLE_BASE_URL": base_url or emu.url,
        "AWS_REGION": "us-east-1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "API_TIMEOUT_MS": "30000",
    }
    env.update({k: v for k, v in env_extra.items() if v is not None})
    return subprocess.run([binary, "-p", "Say hello"], capture_output=True, text=True, timeout=CLI_TIMEOUT, cwd=str(home), env=env, check=False,
                          stdin=subprocess.DEVNULL)


def test_mantle_sigv4_prompt(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator()
    model = mantle_model(emu, "us-west-2")
    proc = run_claude_mantle(claude_bin, emu, tmp_path, AWS_REGION="us-west-2", ANTHROPIC_MODEL=model, AWS_ACCESS_KEY_ID=emu.access_key_id,
                             AWS_SECRET_ACCESS_KEY=emu.secret_access_key)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Hello from the Bedrock emulator (model %s, region us-west-2)." % model in proc.stdout
    main = emu.requests("MessagesStream")[-1]
    assert (main["service"], main["path"], main["model_id"], main["region"], main["auth"], main["status"]) == (
        "bedrock-mantle", "/v1/messages", model, "us-west-2", "sigv4", 200)
    assert main["user_agent"].startswith("claude-cli/" + CLAUDE_CLI_VERSION)
    # The CLI probes with 1-token Messages calls, signed for the bedrock-mantle service, and never calls bedrock-runtime.
    probes = emu.requests("Messages")
    assert probes and all(p["max_tokens"] == 1 for p in probes)
    assert {e["service"] for e in emu.requests()} == {"bedrock-mantle"}


def test_mantle_bearer_prompt_with_the_aws_base_path(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator()
    model = mantle_model(emu)
    proc = run_claude_mantle(claude_bin, emu, tmp_path, base_url=emu.url + "/anthropic", ANTHROPIC_MODEL=model,
                             AWS_BEARER_TOKEN_BEDROCK=emu.bearer_token)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Hello from the Bedrock emulator (model %s, region us-east-1)." % model in proc.stdout
    entries = emu.requests()
    assert entries and all(e["auth"] == "bearer" and e["path"] == "/anthropic/v1/messages" for e in entries)


def test_mantle_model_without_access_reports_an_error(claude_bin, bedrock_emulator, tmp_path):
    probe = bedrock_emulator()
    model = mantle_model(probe)
    full = next(m.model_id for m in probe.scenario.models.values() if m.model_id.startswith(model))
    emu = bedrock_emulator(overrides={"access": {full: "DENIED"}})
    proc = run_claude_mantle(claude_bin, emu, tmp_path, ANTHROPIC_MODEL=model, AWS_ACCESS_KEY_ID=emu.access_key_id,
                             AWS_SECRET_ACCESS_KEY=emu.secret_access_key)
    assert proc.returncode != 0
    assert "Hello from the Bedrock emulator" not in proc.stdout
    assert "You don't have access to the model" in proc.stdout + proc.stderr
    assert emu.requests("MessagesStream")[-1]["error_code"] == "AccessDeniedException"


def test_mantle_throttling_is_retried_by_the_cli(claude_bin, bedrock_emulator, tmp_path):
    emu = bedrock_emulator(overrides={"faults": {"MessagesStream": {"throttle_first": 2}}})
    model = mantle_model(emu)
    proc = run_claude_mantle(claude_bin, emu, tmp_path, CLAUDE_CODE_MAX_RETRIES="3", ANTHROPIC_MODEL=model, AWS_ACCESS_KEY_ID=emu.access_key_id,
                             AWS_SECRET_ACCESS_KEY=emu.secret_access_key)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [e["status"] for e in emu.requests("MessagesStream")] == [429, 429, 200]


def test_bedrock_flag_wins_over_mantle_flag(claude_bin, bedrock_emulator, tmp_path):
    """Why the settings role leaves CLAUDE_CODE_USE_BEDROCK out on Mantle: with both flags the CLI stays on bedrock-runtime
    for a geo-prefixed model (Mantle only serves the unprefixed anthropic.* ids in that hybrid mode)."""
    emu = bedrock_emulator()
    proc = run_claude(claude_bin, emu, tmp_path, CLAUDE_CODE_USE_MANTLE="1", ANTHROPIC_BEDROCK_MANTLE_BASE_URL=emu.url,
                      AWS_ACCESS_KEY_ID=emu.access_key_id, AWS_SECRET_ACCESS_KEY=emu.secret_access_key)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert emu.requests("InvokeModelWithResponseStream") and not emu.requests("MessagesStream")


def test_skip_mantle_auth_sends_no_signature(claude_bin, bedrock_emulator, tmp_path):
    """CLAUDE_CODE_SKIP_MANTLE_AUTH=1: no SigV4 (a gateway would sign); the emulator, which wants one, says so."""
    emu = bedrock_emulator()
    proc = run_claude_mantle(claude_bin, emu, tmp_path, CLAUDE_CODE_SKIP_MANTLE_AUTH="1", ANTHROPIC_MODEL=mantle_model(emu),
                             AWS_ACCESS_KEY_ID=emu.access_key_id, AWS_SECRET_ACCESS_KEY=emu.secret_access_key)
    assert proc.returncode != 0
    entries = emu.requests()
    assert entries and all(e["auth"] is None and e["error_code"] == "MissingAuthenticationTokenException" for e in entries)
