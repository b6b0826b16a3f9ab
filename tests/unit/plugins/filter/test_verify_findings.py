# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify_findings and verify_login_env: verify.yml's diagnosis from registered results."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.verify_findings import verify_findings
from ansible_collections.claude_fleet.bedrock.plugins.filter.verify_login_env import verify_login_env

HEALTHY_ENV = "CLAUDE_CODE_USE_BEDROCK=1\nAWS_REGION=us-east-1\nAWS_SECRET_ACCESS_KEY=wJalr\nPATH=/usr/bin\n"
VERSIONS = {"results": [{"item": "node", "rc": 0, "stdout": "v22.23.3"}, {"item": "claude", "rc": 0, "stdout": "2.1.332 (Claude Code)"}]}


def loop(**by_user):
    return {"results": [dict(value, item=user) for user, value in by_user.items()]}


def healthy(versions=None, **overrides):
    args = {
        "env_runs": loop(alice={"rc": 0, "stdout": HEALTHY_ENV}),
        "settings_stats": loop(alice={"stat": {"exists": True, "pw_name": "alice", "mode": "0600"}}),
        "probes": loop(alice={"rc": 0, "stdout": "probe ok: TLS, client certificate and proxy work"}),
        "endpoint": "https://bedrock-runtime.us-east-1.amazonaws.com",
        "region": "us-east-1",
        "users": [{"name": "alice"}],
        "auth_method": "static_keys",
    }
    args.update(overrides)
    return verify_findings(versions or VERSIONS, **args)


def test_a_healthy_workstation_has_no_finding():
    assert healthy() == []


def test_a_binary_that_does_not_run_is_a_finding():
    versions = {"results": [{"item": "node", "rc": 8, "stdout": "", "msg": "[Errno 8] Exec format error: b'/usr/local/bin/node'"},
                            {"item": "claude", "rc": 126, "stdout": "", "stderr": "/usr/bin/env: 'node': Exec format error"}]}
    found = healthy(versions=versions)
    assert found[0].startswith("node is installed but does not run (exit 8: [Errno 8] Exec format error")
    assert found[1].startswith("claude is installed but does not run (exit 126: /usr/bin/env: 'node': Exec format error")
    assert all("claude_fleet_fast_path=false" in f for f in found) and len(found) == 2


def test_a_binary_that_is_absent_is_named_with_its_role():
    versions = {"results": [{"item": "node", "rc": 0, "stdout": "v22.23.3"},
                            {"item": "claude", "rc": 2, "stdout": "", "msg": "[Errno 2] No such file or directory: b'claude'"}]}
    assert healthy(versions=versions) == ["claude is not installed system-wide: run setup.yml (role claude_code)."]


def test_an_exit_zero_without_output_is_not_healthy():
    versions = {"results": [{"item": "node", "rc": 0, "stdout": ""}, VERSIONS["results"][1]]}
    assert healthy(versions=versions)[0].startswith("node is installed but does not run (exit 0")


def test_aws_profile_over_static_keys_and_a_wrong_settings_mode():
    found = healthy(env_runs=loop(alice={"rc": 0, "stdout": HEALTHY_ENV + "AWS_PROFILE=personal\n"}),
                    settings_stats=loop(alice={"stat": {"exists": True, "pw_name": "alice", "mode": "0644"}}))
    assert found[0].startswith("alice: the login shell exports AWS_PROFILE=personal") and "auth_method: profile" in found[0]
    assert found[1] == ("alice: ~/.claude/settings.json is 0644 owned by alice; it may hold credentials and must be 0600"
                        " owned by the user.")


def test_a_users_own_auth_method_wins_over_the_fleets():
    env = loop(alice={"rc": 0, "stdout": HEALTHY_ENV + "AWS_PROFILE=dev\n"})
    assert healthy(env_runs=env, users=[{"name": "alice", "auth_method": "profile"}]) == []
    assert len(healthy(env_runs=env, users=[{"name": "alice", "auth_method": ""}])) == 1


def test_the_settings_file_option_names_the_file():
    found = healthy(settings_stats=loop(alice={"stat": {"exists": False}}), settings_file=".config/claude/settings.json")
    assert found == ["alice: no ~/.config/claude/settings.json; run setup.yml (role settings)."]


def test_shell_region_and_bedrock_flag():
    found = healthy(env_runs=loop(alice={"rc": 3, "stdout": "AWS_REGION=eu-west-1\n"}))
    assert found == ["alice: the login shell failed (exit 3); check the rc files.",
                     "alice: CLAUDE_CODE_USE_BEDROCK is not 1 in the login shell; run setup.yml (role settings).",
                     'alice: AWS_REGION is "eu-west-1", the fleet uses us-east-1.']


def test_a_failed_probe_names_the_endpoint_and_the_remedy():
    probes = loop(alice={"rc": 0, "stdout": "probe error: SSLCertVerificationError certificate verify failed"})
    (finding,) = healthy(probes=probes)
    assert finding.startswith("alice: cannot reach https://bedrock-runtime.us-east-1.amazonaws.com: SSLCertVerificationError")
    assert "claude_fleet_network_ca_certificates" in finding
    # a probe killed by its time bound is a finding too
    assert len(healthy(probes=loop(alice={"rc": 124, "stdout": ""}))) == 1
    # skipped probes (no https endpoint) are not
    assert healthy(probes=loop(alice={"skipped": True})) == []


def test_on_mantle_the_mantle_switch_is_checked():
    env = loop(alice={"rc": 0, "stdout": "CLAUDE_CODE_USE_MANTLE=1\nAWS_REGION=us-east-1\n"})
    assert healthy(env_runs=env, switch="CLAUDE_CODE_USE_MANTLE") == []
    assert healthy(env_runs=env) == ["alice: CLAUDE_CODE_USE_BEDROCK is not 1 in the login shell; run setup.yml (role settings)."]


def test_the_last_pull_report_is_read():
    ok = {"generated": "2026-12-01T08:00:00", "hosts": [{"host": "localhost", "status": "ok", "smoke": []}], "failed_hosts": []}
    assert healthy(last_report=ok) == []
    failed = {"generated": "2026-12-01T09:00:00", "failed_hosts": ["localhost"],
              "hosts": [{"host": "localhost", "status": "failed", "detail": "", "smoke": [{"status": "failed", "remedy": "Fix TLS."}]}]}
    assert healthy(last_report=failed) == ["The last ansible-pull run (2026-12-01T09:00:00) failed: Fix TLS."]


def test_bad_input_names_the_argument():
    with pytest.raises(AnsibleFilterError, match="env_runs"):
        verify_findings(VERSIONS, env_runs="x", settings_stats={"results": []})


def test_login_env_masks_secrets():
    shown = verify_login_env(loop(alice={"rc": 0, "stdout": HEALTHY_ENV}), ["CLAUDE_CODE_USE_BEDROCK", "AWS_PROFILE"], ["AWS_SECRET_ACCESS_KEY"])
    assert shown == {"alice": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_SECRET_ACCESS_KEY": "(set)"}}
