# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input: every bad option value is rejected before any change, with a message naming the option.

Each role case runs a small play (the role alone, as root, facts gathered) against one FRESH
sandbox workstation; the preflight cases run playbooks/setup.yml. After all cases the workstation
must still be fresh: no file under /etc, /opt, /usr/local or the developers' homes is newer than a
marker written before the first case, and nothing of Node.js, Claude Code or the settings exists.
The module cases run ``ansible localhost -m claude_fleet.bedrock.<module>`` against a file in a
temporary directory that must stay byte-identical. Cases run four at a time to bound the wall time.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import subprocess

import pytest
import yaml

from harness import BIN, REPO, SANDBOX_SKIPS, ansible_env, recap

pytestmark = [pytest.mark.sandbox] + SANDBOX_SKIPS

EU_MODEL = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
SETTINGS_CHOICES = "profile, sso, credential_export, api_key, static_keys, none"
BEGIN_MARKER = "# BEGIN ANSIBLE MANAGED BLOCK claude_fleet.bedrock"
END_MARKER = "# END ANSIBLE MANAGED BLOCK claude_fleet.bedrock"

# (id, kind, target, bad variables or module args, [substrings the failure message must contain][, [substrings it must not contain]])
ROLE_CASES = [
    ("node-method", "role", "nodejs", {"nodejs_install_method": "snap"},
     ["nodejs_install_method", "auto, tarball, nodesource, distro, homebrew", "snap"]),
    ("node-version-pattern", "role", "nodejs", {"nodejs_version": "22.x"},
     ["nodejs_version must be a major line such as 22 or an exact version such as 22.12.0 (got 22.x)"]),
    ("node-major-too-old", "role", "nodejs", {"nodejs_version": "20"}, ["nodejs_version 20 is below nodejs_minimum_version 22.0.0"]),
    ("node-exact-too-old", "role", "nodejs", {"nodejs_version": "18.20.4"}, ["nodejs_version 18.20.4 is below nodejs_minimum_version"]),
    ("node-minimum-pattern", "role", "nodejs", {"nodejs_minimum_version": "22"}, ["nodejs_minimum_version must be X.Y.Z (got 22)"]),
    ("node-delivery", "role", "nodejs", {"nodejs_tarball_delivery": "pigeon"}, ["nodejs_tarball_delivery", "host, controller", "pigeon"]),
    ("node-timeout-type", "role", "nodejs", {"nodejs_download_timeout": "soon"}, ["nodejs_download_timeout", "int"]),
    ("node-validate-certs-type", "role", "nodejs", {"nodejs_validate_certs": "maybe"}, ["nodejs_validate_certs", "bool"]),
    ("claude-version-pattern", "role", "claude_code", {"claude_code_version": "2.1"}, ["claude_code_version 2.1 (an exact release"]),
    ("claude-source", "role", "claude_code", {"claude_code_install_source": "ftp"}, ["claude_code_install_source", "registry, controller", "ftp"]),
    ("claude-scope", "role", "claude_code", {"claude_code_install_scope": "global"}, ["claude_code_install_scope", "system, user", "global"]),
    ("claude-state", "role", "claude_code", {"claude_code_state": "purged"}, ["claude_code_state", "present, absent", "purged"]),
    ("claude-awscli-method", "role", "claude_code", {"claude_code_install_awscli": True, "claude_code_awscli_method": "pip"},
     ["claude_code_awscli_method", "package, bundle", "pip"]),
    ("claude-fetch-timeout-type", "role", "claude_code", {"claude_code_npm_fetch_timeout": "x"}, ["claude_code_npm_fetch_timeout", "int"]),
    ("claude-ca-missing", "role", "claude_code", {"claude_fleet_network_ca_certificates": ["/nonexistent/corp-ca.pem"]},
     ['claude_fleet_network_ca_certificates item "/nonexistent/corp-ca.pem" is neither PEM text']),
    ("settings-state", "role", "settings", {"settings_state": "purge"}, ["settings_state", "present", "absent", "purge"]),
    ("settings-auth-method", "role", "settings", {"settings_auth_method": "password"},
     ["settings_auth_method must be one of %s (got password)" % SETTINGS_CHOICES]),
    ("settings-region", "role", "settings", {"settings_aws_region": "US East"}, ["settings_aws_region \"US East\" is not an AWS region"]),
    ("settings-model-id", "role", "settings", {"settings_model": "gpt-4o"}, ["settings_model \"gpt-4o\" is neither a Bedrock foundation model ID"]),
    ("settings-model-geo", "role", "settings", {"settings_model": EU_MODEL},
     ["settings_model \"%s\" is a eu. cross-region inference profile, which settings_aws_region us-east-1 cannot call" % EU_MODEL]),
    ("settings-guardrail-version", "role", "settings", {"settings_guardrail_identifier": "gr-1", "settings_guardrail_version": ""},
     ["settings_guardrail_version must be set (a version number or DRAFT) when settings_guardrail_identifier is set"]),
    ("settings-service-tier", "role", "settings", {"settings_bedrock_service_tier": "turbo"},
     ["settings_bedrock_service_tier", "default, flex, priority", "turbo"]),
    ("settings-max-output-tokens", "role", "settings", {"settings_max_output_tokens": "lots"}, ["settings_max_output_tokens must be a number or empty"]),
    ("settings-env-name", "role", "settings", {"settings_extra_env": {"BAD-NAME": "x"}},
     ["settings_extra_env has a key that is not an environment variable name (^[A-Za-z_][A-Za-z0-9_]*$): 'BAD-NAME'."]),
    ("settings-secret-in-managed", "role", "settings", {"settings_managed_env_keys": ["CLAUDE_CODE_USE_BEDROCK", "AWS_SECRET_ACCESS_KEY"]},
     ["settings_managed_env_keys must not list secrets (AWS_SECRET_ACCESS_KEY)"]),
    ("settings-user-shell", "role", "settings", {"settings_users": [{"name": "alice", "shell": "tcsh"}]}, ["shell", "bash", "zsh", "fish", "tcsh"]),
    ("settings-user-auth", "role", "settings", {"settings_users": [{"name": "alice", "auth_method": "kerberos"}]},
     ["auth_method", "static_keys", "kerberos"]),
    ("settings-region-prefix", "role", "settings", {"settings_bedrock_region_prefix": "mars"}, ["settings_bedrock_region_prefix", "mars"]),
    # Values cannot change the shape of what they are written into (plugins/filter/settings_values.py): each message
    # names the option and the reason, and for secrets never the value (the sixth item: text the output must not hold).
    ("value-shell-end-marker", "role", "settings", {"settings_shell_extra_env": {"NOTE": "ok\n" + END_MARKER}},
     ["settings_shell_extra_env[NOTE] contains a control character (U+000A LINE FEED at position 2)"]),
    ("value-shell-begin-marker", "role", "settings", {"settings_extra_env": {"NOTE": BEGIN_MARKER + "\nexport PWNED=1"}},
     ["settings_extra_env[NOTE] contains a control character (U+000A LINE FEED"]),
    ("value-shell-cr", "role", "settings", {"settings_shell_extra_env": {"A": "a\rtouch /tmp/pwned"}},
     ["settings_shell_extra_env[A] contains a control character (U+000D"]),
    ("value-shell-nul", "role", "settings", {"settings_shell_extra_env": {"A": "a\u0000b"}},
     ["settings_shell_extra_env[A] contains a control character (U+0000"]),
    ("value-shell-del", "role", "settings", {"settings_shell_extra_env": {"A": "a\u007fb"}},
     ["settings_shell_extra_env[A] contains a control character (U+007F"]),
    ("value-shell-line-separator", "role", "settings", {"settings_shell_extra_env": {"A": "a\u2028" + END_MARKER}},
     ["settings_shell_extra_env[A] contains a control character (U+2028"]),
    ("value-shell-env-name", "role", "settings", {"settings_shell_extra_env": {"A B": "x"}},
     ["settings_shell_extra_env has a key that is not an environment variable name (^[A-Za-z_][A-Za-z0-9_]*$): 'A B'."]),
    ("value-guardrail-id-injection", "role", "settings", {"settings_guardrail_identifier": "gr-x\nX-Injected: yes", "settings_guardrail_version": "1"},
     ["settings_guardrail_identifier contains a control character (U+000A"]),
    ("value-guardrail-version-injection", "role", "settings",
     {"settings_guardrail_identifier": "gr-x", "settings_guardrail_version": "1\r\nX-Injected: yes"},
     ["settings_guardrail_version contains a control character (U+000D"]),
    ("value-header-name", "role", "settings", {"settings_custom_headers": {"X Bad": "v"}},
     ["settings_custom_headers has a header name that is not an RFC 7230 token"]),
    ("value-header-name-colon", "role", "settings", {"settings_custom_headers": {"X-A: b": "c"}},
     ["settings_custom_headers has a header name that is not an RFC 7230 token"]),
    ("value-header-injection", "role", "settings", {"settings_custom_headers": {"X-Team": "a\nAuthorization: Bearer hdr-s3cret"}},
     ["settings_custom_headers[X-Team] contains a control character (U+000A"], ["hdr-s3cret"]),
    ("value-base-url-newline", "role", "settings", {"settings_bedrock_base_url": "https://gw.example.com\nX-Injected: yes"},
     ["settings_bedrock_base_url contains a control character (U+000A"]),
    ("value-base-url-not-url", "role", "settings", {"settings_bedrock_base_url": "gw.example.com"},
     ["settings_bedrock_base_url must be an absolute http:// or https:// URL"]),
    ("value-managed-credential-header", "role", "settings",
     {"settings_managed_settings": {"env": {"ANTHROPIC_CUSTOM_HEADERS": "Authorization: Bearer mgd-s3cret"}}},
     ["settings_managed_settings.env[ANTHROPIC_CUSTOM_HEADERS] looks like a credential (the Authorization header carries a credential)",
      "settings_extra_secret_env"], ["mgd-s3cret"]),
    ("value-managed-credential-url", "role", "settings",
     {"settings_managed_settings": {"env": {"ANTHROPIC_BEDROCK_BASE_URL": "https://bob:url-s3cret@gw.example.com"}}},
     ["settings_managed_settings.env[ANTHROPIC_BEDROCK_BASE_URL] looks like a credential (the URL has a user name or password"], ["url-s3cret"]),
    ("value-region-newline", "role", "settings", {"settings_aws_region": "us-east-1\n"}, ["settings_aws_region contains a control character (U+000A"]),
    ("value-model-newline", "role", "settings", {"settings_model": "anthropic.claude-sonnet-4-5-20250929-v1:0\n"},
     ["settings_model contains a control character (U+000A"]),
    ("value-profile-newline", "role", "settings", {"settings_auth_method": "profile", "settings_aws_profile": "dev\n[default]"},
     ["settings_aws_profile contains a control character (U+000A"]),
    ("value-profile-bracket", "role", "settings", {"settings_auth_method": "profile", "settings_aws_profile": "dev] [default"},
     ["settings_aws_profile must not contain [ or ]: it names an INI section."]),
    ("value-sso-start-url", "role", "settings", {"settings_aws_sso_start_url": "https://d-1.awsapps.com/start\nsso_region = x"},
     ["settings_aws_sso_start_url contains a control character (U+000A"]),
    ("value-auth-refresh-command", "role", "settings", {"settings_aws_auth_refresh_command": "aws sso login\ntouch /tmp/pwned"},
     ["settings_aws_auth_refresh_command contains a control character (U+000A"]),
    ("value-env-file-quote", "role", "settings", {"settings_env_file": ".x\"; touch /tmp/pwned; \""},
     ["settings_env_file must not contain \": the rc files source it inside a double-quoted shell word."]),
    ("value-user-extra-env", "role", "settings", {"settings_users": [{"name": "alice", "extra_env": {"A": "x\ny"}}]},
     ["settings_users[alice].extra_env[A] contains a control character (U+000A"]),
    ("value-user-secret-env-name", "role", "settings", {"settings_users": [{"name": "alice", "extra_secret_env": {"1BAD": "s"}}]},
     ["settings_users[alice].extra_secret_env has a key that is not an environment variable name"]),
    ("value-user-api-key", "role", "settings",
     {"settings_users": [{"name": "alice", "auth_method": "api_key", "bedrock_api_key": "ABSK\nuser-s3cret"}]},
     ["settings_users[alice].bedrock_api_key contains a control character (U+000A LINE FEED at position 4)"], ["user-s3cret"]),
    ("value-api-key", "role", "settings", {"settings_auth_method": "api_key", "settings_bedrock_api_key": "ABSK\rfleet-s3cret"},
     ["settings_bedrock_api_key contains a control character (U+000D CARRIAGE RETURN at position 4)"], ["fleet-s3cret"]),
    ("value-proxy-newline", "role", "settings", {"claude_fleet_network_proxy": "http://proxy.example.com:3128\n"},
     ["settings_proxy contains a control character (U+000A"]),
    ("value-otel-endpoint", "role", "settings", {"settings_otel_enabled": True, "settings_otel_exporter_otlp_endpoint": "http://otel:4317\nX: y"},
     ["settings_otel_exporter_otlp_endpoint contains a control character (U+000A"]),
    # The tuning and model policy options, and the pull role's options: one rule each in settings_values.py.
    ("value-cert-store-newline", "role", "settings", {"settings_cert_store": "system\n"},
     ["settings_cert_store contains a control character (U+000A"]),
    ("value-cert-store-choice", "role", "settings", {"settings_cert_store": "bundled,os"},
     ["settings_cert_store must be bundled, system,", "or empty (got"]),
    ("value-chain-timeout-newline", "role", "settings", {"settings_aws_chain_resolve_timeout_ms": "60000\n"},
     ["settings_aws_chain_resolve_timeout_ms contains a control character (U+000A"]),
    ("value-chain-timeout-number", "role", "settings", {"settings_aws_chain_resolve_timeout_ms": "1e3"},
     ["settings_aws_chain_resolve_timeout_ms must be a number of milliseconds or empty (got"]),
    ("value-fable-model-newline", "role", "settings", {"settings_fable_model": "us.anthropic.claude-fable-5-2-v1:0\n"},
     ["settings_fable_model contains a control character (U+000A"]),
    ("value-available-models-newline", "role", "settings", {"settings_available_models": ["opus", "sonnet\nhaiku"]},
     ["settings_available_models[1] contains a control character (U+000A"]),
    ("value-model-overrides-cr", "role", "settings", {"settings_model_overrides": {"claude-opus-5-5": "us.anthropic.claude-opus-5-5\r"}},
     ["settings_model_overrides[claude-opus-5-5] contains a control character (U+000D"]),
    ("pull-url-newline", "role", "pull", {"pull_repo_url": "https://x-access-token:pull-s3cret@git.example.com/fleet.git\n"},
     ["pull_repo_url contains a control character (U+000A"], ["pull-s3cret"]),
    ("pull-url-option", "role", "pull", {"pull_repo_url": "--upload-pack=touch /tmp/pwned@h:x"},
     ["pull_repo_url must be a git URL (https://, http://, ssh://, git://, file:// or user@host:path) without spaces."]),
    ("pull-version-newline", "role", "pull", {"pull_repo_url": "https://git.example.com/fleet.git", "pull_repo_version": "main\n"},
     ["pull_repo_version contains a control character (U+000A"]),
    ("pull-playbook-outside", "role", "pull", {"pull_repo_url": "https://git.example.com/fleet.git", "pull_playbook": "../local.yml"},
     ["pull_playbook must be a path inside the repository"]),
    ("pull-inventory-absolute", "role", "pull", {"pull_repo_url": "https://git.example.com/fleet.git", "pull_inventory": "/etc/ansible/hosts"},
     ["pull_inventory must be a path inside the repository"]),
    ("pull-venv-relative", "role", "pull", {"pull_repo_url": "https://git.example.com/fleet.git", "pull_venv": "opt/ansible"},
     ["pull_venv must be an absolute path"]),
    ("pull-report-newline", "role", "pull", {"pull_repo_url": "https://git.example.com/fleet.git", "pull_report_path": "/var/lib/r.json\n"},
     ["pull_report_path contains a control character (U+000A"]),
    ("pull-ansible-core-option", "role", "pull",
     {"pull_repo_url": "https://git.example.com/fleet.git", "pull_ansible_core": "ansible-core --index-url http://127.0.0.1/"},
     ["pull_ansible_core must be one pip requirement such as ansible-core==2.19.14."]),
    ("pull-calendar-injection", "role", "pull",
     {"pull_repo_url": "https://git.example.com/fleet.git", "pull_on_calendar": "hourly\nExecStartPre=/bin/sh -c id"},
     ["pull_on_calendar contains a control character (U+000A"]),
    ("pull-splay-newline", "role", "pull", {"pull_repo_url": "https://git.example.com/fleet.git", "pull_splay": "900\n"},
     ["pull_splay contains a control character (U+000A"]),
    ("pull-timeout-zero", "role", "pull", {"pull_repo_url": "https://git.example.com/fleet.git", "pull_timeout": 0},
     ["pull_timeout must be at least 1."]),
    ("pull-extra-vars-name", "role", "pull",
     {"pull_repo_url": "https://git.example.com/fleet.git", "pull_extra_vars": {"bad-name": "xv-s3cret"}},
     ["pull_extra_vars has a key that is not a variable name (^[A-Za-z_][A-Za-z0-9_]*$): 'bad-name'."], ["xv-s3cret"]),
    ("preflight-retries", "setup", "preflight", {"claude_fleet_preflight_retries": 0}, ["claude_fleet_preflight_retries) must be >= 1 (got 0)"]),
    ("preflight-retry-delay", "setup", "preflight", {"claude_fleet_preflight_retry_delay": -1}, ["claude_fleet_preflight_retry_delay) must be >= 0 (got -1"]),
    ("hosts-empty", "setup", "plays", {"claude_fleet_hosts": ""}, ["claude_fleet_hosts is empty"]),
    ("hosts-line-break", "setup", "plays", {"claude_fleet_hosts": "workstations\nall"}, ["claude_fleet_hosts has a control character (U+000A"]),
    # setup.yml checks the network options in the converge roles' preflight (no separate check in its preflight play).
    ("setup-network-socks", "setup", "converge", {"claude_fleet_network_proxy": "socks5://127.0.0.1:1080"},
     ["claude_fleet_network_proxy socks5://127.0.0.1:1080 is a SOCKS proxy"]),
]

MODULE_CASES = [
    ("module-settings-state", "module", "claude_settings", {"state": "bogus", "settings": {}},
     ["value of state must be one of: present, absent, got: bogus"]),
    ("module-settings-mode", "module", "claude_settings", {"state": "present", "settings": "not-a-mapping"}, ["settings", "dict"]),
    ("module-settings-remove", "module", "claude_settings", {"state": "present", "settings": {}, "remove": {"a": 1}}, ["remove", "list"]),
    ("module-access-region", "module", "model_access_info", {"region": "nowhere-1", "models": {"primary": "x"}, "retries": "many"},
     ["retries", "int"]),
]

CASES = ROLE_CASES + MODULE_CASES

ROLE_PLAY = [{"name": "Bad input", "hosts": "workstations", "become": True, "gather_facts": True,
              "roles": [{"role": "claude_fleet.bedrock.__ROLE__"}]}]
FRESH = ("test ! -e /opt/nodejs && test ! -e /usr/local/bin/node && test ! -e /usr/local/bin/claude && test ! -e /etc/claude-code "
         "&& test ! -e /etc/claude-fleet && test ! -e /home/alice/.claude && test ! -e /home/alice/.config/claude-fleet && echo fresh")
NEWER = ("find /etc /opt /usr/local /home/alice /home/bob /home/carol /root -xdev -newer /var/tmp/bad-input-marker "
         "! -path '/root/.ansible*' 2>/dev/null")


def _run_case(case, fleet, tmp):
    case_id, kind, target, variables = case[:4]
    if kind == "module":
        path = os.path.join(tmp, case_id, "settings.json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write('{"keep": true}\n')
        args = dict(variables, path=path) if target == "claude_settings" else variables
        argv = [os.path.join(BIN, "ansible"), "localhost", "-m", "claude_fleet.bedrock.%s" % target, "-a", json.dumps(args)]
        proc = subprocess.run(argv, env=ansible_env(), capture_output=True, text=True, timeout=300, check=False, cwd=REPO)
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        return proc.returncode, proc.stdout + proc.stderr, {"digest": digest}
    if kind == "setup":
        argv = fleet.playbook_argv(extra=variables, report_dir=os.path.join(tmp, case_id, "report"))
    else:
        playbook = os.path.join(tmp, "play-%s.yml" % target)
        with open(playbook, "w", encoding="utf-8") as handle:
            yaml.safe_dump(json.loads(json.dumps(ROLE_PLAY).replace("__ROLE__", target)), handle)
        argv = fleet.playbook_argv(playbook, extra=variables)
    proc = subprocess.run(argv, env=ansible_env(fleet.testbed.state), capture_output=True, text=True, timeout=900, check=False, cwd=REPO)
    return proc.returncode, proc.stdout + proc.stderr, recap(proc.stdout)


@pytest.fixture(scope="module")
def results(fleet_factory, tmp_path_factory):
    """Run every case once against one fresh workstation; returns ({id: (rc, output, recap)}, files changed on the host)."""
    fleet = fleet_factory("rb")
    host = fleet.hosts[0]
    rc, _out, err = fleet.root(host, "touch /var/tmp/bad-input-marker && sleep 1.1")
    assert rc == 0, err
    tmp = str(tmp_path_factory.mktemp("bad-input"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case[0]: pool.submit(_run_case, case, fleet, tmp) for case in CASES}
        done = {case_id: future.result(timeout=1800) for case_id, future in futures.items()}
    _rc, newer, _err = fleet.root(host, NEWER)
    _rc, fresh, _err = fleet.root(host, FRESH)
    return done, newer.decode().split(), fresh.decode().strip()


def test_at_least_80_cases():
    assert len(CASES) >= 80 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_value_is_rejected_before_any_change(results, case):
    done, newer, fresh = results
    rc, output, summary = done[case[0]]
    assert rc != 0, output[-3000:]
    flat = " ".join(output.split())
    for expected in case[4]:
        assert " ".join(expected.split()) in flat, "%r not in output:\n%s" % (expected, output[-3000:])
    for secret in case[5] if len(case) > 5 else []:
        assert secret not in output, "%r (a secret) is in the output" % secret
    if case[1] == "module":
        assert summary["digest"] == hashlib.sha256(b'{"keep": true}\n').hexdigest()
    else:
        assert all(host["changed"] == 0 for host in summary.values()), summary
        assert newer == [], "files changed on the workstation: %s" % newer
        assert fresh == "fresh"
