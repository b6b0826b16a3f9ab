# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration tests: the _preflight role and the Bedrock modules, run by ansible-playbook against the Bedrock emulator.

Every scenario runs the real `ansible-playbook` (or `ansible`) in a subprocess, on loopback only, and
compares what the role or module reports with the emulator's own request counters.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest
import yaml

from bedrock_emulator.scenario import load_scenario
from preflight_play import preflight_play

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "anthropic.claude-haiku-4-5-20251001-v1:0"
OPUS = "anthropic.claude-opus-4-6-v1"
# Today's ids: no date/version suffix.
OPUS55 = "anthropic.claude-opus-5-5"
SONNET55 = "anthropic.claude-sonnet-5-5"
HAIKU55 = "anthropic.claude-haiku-5-5"
APP_OPUS55 = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fleetopus55"
APP_PROFILES = {"application_profiles": [
    {"id": "fleetsonnet45a", "name": "fleet-sonnet-4-5", "description": "Fleet profile for Claude Sonnet 4.5", "region": "us-east-1",
     "source": f"us.{SONNET}"},
    {"id": "fleetopus55", "name": "fleet-opus-5-5", "description": "Fleet profile for Claude Opus 5.5", "region": "us-east-1",
     "source": f"us.{OPUS55}"}]}
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # the emulator's documented test key, not a real one
MODELS = {"primary": f"us.{SONNET}", "sonnet": f"us.{SONNET}", "haiku": f"us.{HAIKU}"}
TIMEOUT = 300

PLAYBOOK = preflight_play(save_result=True)


def ansible_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("ANSIBLE_")}
    env.update({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


def write_inventory(path, hosts, host_vars=None):
    lines = ["[workstations]"]
    for index in range(hosts):
        extra = " ".join(f"{k}={v}" for k, v in (host_vars or {}).get(index, {}).items())
        lines.append(f"ws{index:04d} ansible_connection=local {extra}".rstrip())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_preflight(tmp_path, server, models=None, hosts=1, extra=None, check=False, host_vars=None, verbose=False, playbook_text=PLAYBOOK):
    """Run the preflight playbook; returns (completed process, preflight_result or None).

    The claude_fleet_* settings are group variables (so host variables can override them).
    """
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True, exist_ok=True)
    write_inventory(inventory / "hosts.ini", hosts, host_vars)
    group_vars = {
        "claude_fleet_bedrock_region": "us-east-1",
        "claude_fleet_bedrock_endpoint_url": server.url,
        "claude_fleet_aws_access_key": ACCESS_KEY,
        "claude_fleet_aws_secret_key": SECRET_KEY,
        "claude_fleet_bedrock_models": models or MODELS,
        "claude_fleet_preflight_retry_delay": 0.05,
        # Each scenario checks afresh unless it is about the cache (which then lives under tmp_path).
        "claude_fleet_preflight_max_age": 0,
        "claude_fleet_preflight_cache_dir": str(tmp_path / "cache"),
    }
    variables = {}
    for key, value in (extra or {}).items():
        (group_vars if key.startswith("claude_fleet_") else variables)[key] = value
    (inventory / "group_vars" / "workstations.json").write_text(json.dumps(group_vars), encoding="utf-8")
    playbook = tmp_path / "preflight.yml"
    playbook.write_text(playbook_text, encoding="utf-8")
    result_file = tmp_path / "preflight_result.json"
    if result_file.exists():
        result_file.unlink()
    variables["result_file"] = str(result_file)
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(variables), encoding="utf-8")
    command = [os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), str(playbook), "-e", f"@{vars_file}"]
    if check:
        command.append("--check")
    if verbose:
        command.append("-vvv")
    proc = subprocess.run(command, cwd=ROOT, env=ansible_env(), capture_output=True, text=True, timeout=TIMEOUT, check=False)
    result = json.loads(result_file.read_text(encoding="utf-8")) if result_file.exists() else None
    return proc, result


def test_a_passing_preflight_is_reused_until_its_age_is_exceeded_then_revoked_access_stops_the_run(tmp_path, emulator):
    server = emulator()
    models = {"primary": f"us.{SONNET}", "opus": f"us.{OPUS}"}
    # Opus 4.6 is LEGACY in the emulator's catalog: accepted here, so that only its access decides.
    cached = {"claude_fleet_preflight_max_age": 3600, "claude_fleet_preflight_allow_legacy": True}
    proc, first = run_preflight(tmp_path, server, models=models, extra=cached)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert first["usable"] is True and first["reused"] is False and server.counters()["total"] > 0
    server.reset()
    proc, second = run_preflight(tmp_path, server, models=models, extra=cached)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert second["reused"] is True and second["checked_at"] == first["checked_at"]
    assert server.counters()["total"] == 0, "a reused preflight makes no AWS call"
    # Other inputs (here the models) are another preflight.
    proc, other = run_preflight(tmp_path, server, extra=cached)
    assert proc.returncode == 0 and other["reused"] is False and server.counters()["total"] > 0
    # Access to Opus is revoked: within the age the pass stands; once the age is exceeded the run stops.
    request = urllib.request.Request(server.url + "/_emulator/scenario", data=json.dumps({"scenario": "model_denied"}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:  # the loopback emulator's admin endpoint
        assert answer.status == 200
    proc, reused = run_preflight(tmp_path, server, models=models, extra=cached)
    assert proc.returncode == 0 and reused["reused"] is True, "within the age the passing preflight stands"
    time.sleep(1.1)
    proc, stopped = run_preflight(tmp_path, server, models=models, extra=dict(cached, claude_fleet_preflight_max_age=1))
    assert proc.returncode != 0
    assert stopped is None, "the play stopped before the next task"
    assert f"opus (us.{OPUS}): The caller is not authorized to use {OPUS} in us-east-1" in proc.stdout


def reference(result, ref):
    (target,) = result["targets"]
    return next(r for r in target["references"] if r["reference"] == ref)


def test_all_access_granted(tmp_path, emulator):
    server = emulator()
    proc, result = run_preflight(tmp_path, server, extra={"claude_fleet_preflight_invoke": True})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["usable"] is True and result["remedies"] == []
    assert [r["status"] for r in result["targets"][0]["references"]] == ["ok", "ok"]
    assert result["targets"][0]["caller_identity"]["account"] == "123456789012"
    assert reference(result, f"us.{SONNET}")["names"] == ["primary", "sonnet"]
    assert reference(result, f"us.{SONNET}")["regions"] == ["us-east-1", "us-east-2", "us-west-2"]
    counters = server.counters()
    assert result["aws_calls"] == counters["total"]
    assert counters["operations"]["InvokeModel"] == 2
    assert result["aws_retries"] == 0


def test_one_model_denied_fails_the_play_with_its_remedy(tmp_path, emulator):
    server = emulator("model_denied")
    proc, result = run_preflight(tmp_path, server, models={"primary": f"us.{SONNET}", "opus": f"us.{OPUS}"})
    assert proc.returncode != 0
    assert "Amazon Bedrock is not usable for Claude Code" in proc.stdout
    assert result is None  # the play stopped before the next task
    assert f"opus (us.{OPUS}): The caller is not authorized to use {OPUS} in us-east-1" in proc.stdout


def test_one_model_denied_reported_when_not_failing(tmp_path, emulator):
    server = emulator("model_denied")
    proc, result = run_preflight(tmp_path, server, models={"primary": f"us.{SONNET}", "opus": f"us.{OPUS}"}, extra={"claude_fleet_preflight_fail": False})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["usable"] is False
    assert result["failed_references"] == [f"us.{OPUS}"]
    assert reference(result, f"us.{OPUS}")["status"] == "not_authorized"
    assert reference(result, f"us.{SONNET}")["status"] == "ok"


def test_agreement_pending(tmp_path, emulator):
    server = emulator("agreement_pending")
    _proc, result = run_preflight(tmp_path, server, extra={"claude_fleet_preflight_fail": False})
    ref = reference(result, f"us.{SONNET}")
    assert ref["status"] == "agreement_pending" and "PENDING" in ref["remedy"]
    assert reference(result, f"us.{HAIKU}")["status"] == "ok"


def test_use_case_form_not_filled(tmp_path, emulator):
    server = emulator("use_case_form")
    _proc, result = run_preflight(tmp_path, server, extra={"claude_fleet_preflight_fail": False})
    assert result["usable"] is False
    assert {r["status"] for r in result["targets"][0]["references"]} == {"use_case_form_required"}
    assert all("use-case form" in r for r in result["remedies"])


def test_legacy_model_names_the_newest_active_model_of_its_family(tmp_path, emulator):
    server = emulator("legacy")
    _proc, result = run_preflight(tmp_path, server, extra={"claude_fleet_preflight_fail": False})
    ref = reference(result, f"us.{SONNET}")
    assert ref["status"] == "legacy" and not ref["usable"]
    # The successor of a dated id is the newest generation, which has no date suffix.
    assert f"successor): us.{SONNET55}." in ref["remedy"]
    _proc, allowed = run_preflight(tmp_path, server, extra={"claude_fleet_preflight_fail": False, "claude_fleet_preflight_allow_legacy": True})
    assert allowed["usable"] is True


@pytest.mark.parametrize("region, prefix", [("us-east-1", "us"), ("eu-west-1", "eu")])
def test_on_demand_id_needing_a_profile(tmp_path, emulator, region, prefix):
    server = emulator()
    _proc, result = run_preflight(tmp_path, server, models={"primary": SONNET},
                                  extra={"claude_fleet_preflight_fail": False, "claude_fleet_bedrock_region": region, "claude_fleet_preflight_invoke": True})
    ref = reference(result, SONNET)
    assert ref["status"] == "needs_inference_profile"
    assert f"use {prefix}.{SONNET} instead" in ref["remedy"]


def test_throttling_on_the_first_three_calls_succeeds_after_retries(tmp_path, emulator):
    server = emulator("throttle")
    proc, result = run_preflight(tmp_path, server, extra={"claude_fleet_preflight_invoke": True})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["usable"] is True
    counters = server.counters()
    throttled = counters["errors"]["ThrottlingException"]
    # GetCallerIdentity, ListInferenceProfiles, GetInferenceProfile, GetFoundationModel,
    # GetFoundationModelAvailability and InvokeModel each answer 429 three times first.
    assert throttled == 6 * 3
    assert result["aws_retries"] == throttled
    assert result["aws_calls"] == counters["total"]


def test_iam_denial_of_list_inference_profiles(tmp_path, emulator):
    server = emulator("iam_deny_list_profiles")
    proc, result = run_preflight(tmp_path, server, extra={"claude_fleet_preflight_fail": False})
    assert proc.returncode == 0
    assert result["usable"] is False
    assert result["failed_references"] == []
    assert any("bedrock:ListInferenceProfiles" in r for r in result["remedies"])


def test_each_host_keeps_its_own_facts_after_the_preflight(tmp_path, emulator):
    """The preflight's result reaches every host without making their facts one: on ansible-core 2.21 a run_once
    set_fact that is a host's first fact shares one dict between the hosts' fact caches, and then every fact a host
    sets later (the fast path's decision, its gathered facts) is every host's."""
    server = emulator()
    later = [{"name": "Each host its own facts", "hosts": "workstations", "gather_facts": False, "tasks": [
        {"name": "A fact of this host", "ansible.builtin.set_fact": {"mine": "{{ inventory_hostname }}", "cacheable": True}},
        {"name": "What every host sees", "ansible.builtin.copy": {
            "content": "{{ dict(groups['workstations'] | zip(groups['workstations'] | map('extract', hostvars, ['ansible_facts', 'mine'])))"
                       " | to_json }}",
            "dest": "{{ result_file }}.facts", "mode": "0600"},
         "run_once": True, "delegate_to": "localhost"}]}]
    playbook = preflight_play(save_result=True) + yaml.safe_dump(later, sort_keys=False, width=1000)
    proc, result = run_preflight(tmp_path, server, hosts=3, playbook_text=playbook)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert result["usable"] is True and result["targets"][0]["hosts"] == 3
    seen = json.loads((tmp_path / "preflight_result.json.facts").read_text(encoding="utf-8"))
    assert seen == {"ws0000": "ws0000", "ws0001": "ws0001", "ws0002": "ws0002"}


def test_calls_do_not_grow_with_the_number_of_hosts(tmp_path, emulator):
    server = emulator()
    _proc, one = run_preflight(tmp_path, server, hosts=1)
    calls_one = server.counters()["total"]
    server.reset()
    _proc, many = run_preflight(tmp_path, server, hosts=25)
    assert server.counters()["total"] == calls_one == one["aws_calls"] == many["aws_calls"]
    assert many["targets"][0]["hosts"] == 25


def test_one_check_per_distinct_region(tmp_path, emulator):
    server = emulator()
    host_vars = {2: {"claude_fleet_bedrock_region": "eu-west-1"}, 3: {"claude_fleet_bedrock_region": "eu-west-1"}}
    _proc, result = run_preflight(tmp_path, server, hosts=4, host_vars=host_vars, extra={"claude_fleet_preflight_fail": False})
    assert sorted((t["region"], t["hosts"]) for t in result["targets"]) == [("eu-west-1", 2), ("us-east-1", 2)]
    eu = next(t for t in result["targets"] if t["region"] == "eu-west-1")
    assert not eu["usable"] and "us.anthropic" in eu["remedies"][0]
    assert all(r.startswith("[eu-west-1, ") for r in result["remedies"])
    assert server.counters()["total"] == result["aws_calls"]


def test_check_mode_runs_the_read_only_checks(tmp_path, emulator):
    server = emulator("agreement_pending")
    proc, _result = run_preflight(tmp_path, server, check=True)
    assert proc.returncode != 0
    assert "agreement (AWS Marketplace subscription)" in proc.stdout
    assert server.counters()["operations"]["GetFoundationModelAvailability"] == 2


def test_secrets_never_reach_the_output(tmp_path, emulator):
    server = emulator("model_denied")
    proc, _result = run_preflight(tmp_path, server, models={"opus": f"us.{OPUS}"}, verbose=True)
    assert proc.returncode != 0
    assert SECRET_KEY not in proc.stdout + proc.stderr


def run_adhoc(module, args, server):
    command = [os.path.join(BIN, "ansible"), "localhost", "-m", f"claude_fleet.bedrock.{module}", "-a", json.dumps(args), "-o"]
    env = ansible_env()
    env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_REGION": "us-east-1"})
    proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.split("=>", 1)[1])


def test_adhoc_model_access_info(emulator):
    server = emulator()
    result = run_adhoc("model_access_info", {"endpoint_url": server.url, "references": [f"us.{HAIKU}", f"eu.{HAIKU}"]}, server)
    assert result["changed"] is False
    assert [r["status"] for r in result["references"]] == ["ok", "not_found"]
    assert result["aws_calls"] == server.counters()["total"]


def test_adhoc_inference_profile_info_lists_both_types(emulator):
    server = emulator()
    result = run_adhoc("inference_profile_info", {"endpoint_url": server.url, "model_id": SONNET}, server)
    types = {p["type"] for p in result["inference_profiles"]}
    assert types == {"SYSTEM_DEFINED", "APPLICATION"}
    app = next(p for p in result["inference_profiles"] if p["type"] == "APPLICATION")
    assert app["model_ids"] == [SONNET] and app["regions"] == ["us-east-1", "us-east-2", "us-west-2"]
    assert server.counters()["operations"]["ListInferenceProfiles"] == 2


def test_adhoc_foundation_model_info_filters(emulator):
    server = emulator()
    result = run_adhoc("foundation_model_info", {"endpoint_url": server.url, "by_provider": "Anthropic", "lifecycle_status": "LEGACY"}, server)
    # Exactly the scenario's LEGACY Anthropic models: the catalog moves on, the filter's behaviour must not.
    legacy = sorted(m.model_id for m in load_scenario("default").models.values() if m.provider == "Anthropic" and m.lifecycle == "LEGACY")
    assert "anthropic.claude-3-7-sonnet-20250219-v1:0" in legacy and "anthropic.claude-opus-4-6-v1" in legacy
    assert sorted(m["model_id"] for m in result["foundation_models"]) == legacy


def test_module_defaults_action_group(tmp_path, emulator):
    server = emulator()
    playbook = tmp_path / "group.yml"
    playbook.write_text(f"""
- name: module_defaults through the collection's action group
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/claude_fleet.bedrock.aws:
      region: us-east-1
      endpoint_url: {server.url}
      access_key: {ACCESS_KEY}
      secret_key: {SECRET_KEY}
  tasks:
    - name: Check
      claude_fleet.bedrock.model_access_info:
        references: [us.{HAIKU}]
      register: __access
    - name: Assert
      ansible.builtin.assert:
        that: __access.usable
""", encoding="utf-8")
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), str(playbook)], cwd=ROOT, env=ansible_env(), capture_output=True, text=True,
                          timeout=TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert server.counters()["operations"]["GetInferenceProfile"] == 1


def test_missing_region_and_models_become_remedies(tmp_path, emulator):
    server = emulator()
    host_vars = {1: {"claude_fleet_bedrock_region": "''"}}
    proc, _result = run_preflight(tmp_path, server, hosts=2, host_vars=host_vars)
    assert proc.returncode != 0
    assert "The Bedrock check could not run: A region is required" in proc.stdout
    _proc, result = run_preflight(tmp_path, server, models={"primary": ""}, extra={"claude_fleet_preflight_fail": False})
    assert result["usable"] is False
    assert result["remedies"] == ["The Bedrock check could not run: No model reference to check: references and models are empty."]


CONTROLLER_PLAYBOOK = preflight_play(controller=True, save_result=True,
                                     role_vars={"claude_fleet_preflight_retry_delay": 0.05, "claude_fleet_preflight_fail": False})


def test_controller_play_groups_the_workstations(tmp_path, emulator):
    server = emulator()
    host_vars = {1: {"claude_fleet_bedrock_region": "eu-west-1"}}
    proc, result = run_preflight(tmp_path, server, hosts=3, host_vars=host_vars, playbook_text=CONTROLLER_PLAYBOOK)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted((t["region"], t["hosts"]) for t in result["targets"]) == [("eu-west-1", 1), ("us-east-1", 2)]
    assert result["usable"] is False and server.counters()["total"] == result["aws_calls"]


# --- today's model vocabulary and the model policy ------------------------------------------------


def test_current_unsuffixed_ids_and_the_1m_suffix_pass(tmp_path, emulator):
    server = emulator()
    models = {"primary": f"us.{OPUS55}[1m]", "opus": f"us.{OPUS55}", "sonnet": f"global.{SONNET55}", "haiku": f"us.{HAIKU55}",
              "fable": "us.anthropic.claude-fable-5-2"}
    proc, result = run_preflight(tmp_path, server, models=models, extra={"claude_fleet_preflight_invoke": True})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {r["reference"]: r["status"] for r in result["targets"][0]["references"]} == {ref: "ok" for ref in models.values()}
    log = server.counters()
    assert log["operations"]["InvokeModel"] == len(models)
    # AWS never sees the [1m] suffix: both pins of Opus 5.5 resolve the same profile.
    assert reference(result, f"us.{OPUS55}[1m]")["regions"] == reference(result, f"us.{OPUS55}")["regions"] == ["us-east-1", "us-east-2", "us-west-2"]


def test_legacy_opus_4_6_proposes_opus_5_5(tmp_path, emulator):
    server = emulator()
    _proc, result = run_preflight(tmp_path, server, models={"opus": f"us.{OPUS}"}, extra={"claude_fleet_preflight_fail": False})
    ref = reference(result, f"us.{OPUS}")
    assert ref["status"] == "legacy"
    assert f"successor): us.{OPUS55}." in ref["remedy"]


def test_a_model_named_only_in_available_models_without_access_fails_before_any_change(tmp_path, emulator):
    server = emulator(overrides={"access": {SONNET55: "DENIED"}})
    marker = tmp_path / "changed"
    playbook = PLAYBOOK + f"""
- name: A workstation change that must not happen
  hosts: workstations
  gather_facts: false
  tasks:
    - name: Change
      ansible.builtin.file:
        path: {marker}
        state: touch
        mode: "0600"
"""
    proc, result = run_preflight(tmp_path, server, models={"primary": f"us.{OPUS55}"}, playbook_text=playbook,
                                 extra={"claude_fleet_bedrock_available_models": ["opus", f"us.{SONNET55}"]})
    assert proc.returncode != 0
    assert result is None and not marker.exists()
    assert "Amazon Bedrock is not usable for Claude Code" in proc.stdout
    assert f"availableModels[1] (us.{SONNET55}): The caller is not authorized to use {SONNET55} in us-east-1" in proc.stdout


def test_model_overrides_profiles_are_checked_like_pins(tmp_path, emulator):
    server = emulator(overrides=APP_PROFILES)
    missing = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/nosuchprofile"
    _proc, result = run_preflight(tmp_path, server, models={"primary": f"us.{OPUS55}"},
                                  extra={"claude_fleet_preflight_fail": False,
                                         "claude_fleet_bedrock_model_overrides": {"claude-opus-5-5": APP_OPUS55, "claude-sonnet-5-5": missing}})
    assert reference(result, APP_OPUS55)["status"] == "ok" and reference(result, APP_OPUS55)["names"] == ["modelOverrides[claude-opus-5-5]"]
    assert reference(result, missing)["status"] == "not_found"
    assert result["failed_references"] == [missing]
    assert any(r.startswith(f"modelOverrides[claude-sonnet-5-5] ({missing}): Inference profile") for r in result["remedies"])
