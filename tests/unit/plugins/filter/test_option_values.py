# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The value kinds with a rule of their own (settings_values.py): the settings tuning and model policy options,
and the pull role's options. Each rule names the option and never the value; every option they cover is checked."""
from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.claude_fleet.bedrock.plugins.filter.settings_values import settings_value_errors

ROLES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles")
SECRET = "tok-s3cret"


def _load(*parts):
    with open(os.path.join(ROLES, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _errors(option, value, kind, **item):
    return settings_value_errors([dict(item, option=option, value=value, kind=kind)])


def _ok(option, value, kind, **item):
    return _errors(option, value, kind, **item) == []


@pytest.mark.parametrize("value, ok", [
    ("", True), ("0", True), ("120000", True), (120000, True), ("120000\n", False), (" 1", False), ("1e3", False),
    ("-1", False), ("\u0661\u0662", False), (True, False), ("lots", False),
])
def test_numbers_are_ascii_digits_only(value, ok):
    assert _ok("settings_aws_chain_resolve_timeout_ms", value, "number") == ok


def test_number_minimum_and_required():
    assert _errors("pull_timeout", 0, "number", minimum=1, required=True) == ["pull_timeout must be at least 1."]
    assert _errors("pull_timeout", "", "number", minimum=1, required=True) == ["pull_timeout must be set."]
    assert _errors("pull_splay", "soon", "number", required=True) == ["pull_splay must be a whole number (digits only)."]


@pytest.mark.parametrize("value, ok", [
    ("", True), ("bundled", True), ("system", True), ("bundled,system", True), ("system,bundled", True),
    ("system,system", False), ("bundled, system", False), ("system\n", False), ("both", False), ("system,", False),
])
def test_cert_store_is_a_comma_list_of_its_choices(value, ok):
    errors = _errors("settings_cert_store", value, "choice_list", choices=["bundled", "system"])
    assert (errors == []) == ok
    assert all(e.startswith("settings_cert_store ") for e in errors)


def test_choices():
    assert _errors("pull_scheduler", "anacron", "choice", choices=["auto", "systemd", "cron"], required=True) == [
        "pull_scheduler must be one of auto, systemd, cron."]
    assert _ok("pull_scheduler", "cron", "choice", choices=["auto", "systemd", "cron"])


def test_model_lists_and_maps_are_one_line_per_item():
    assert _errors("settings_available_models", ["opus", "sonnet\nhaiku"], "text_list") == [
        "settings_available_models[1] contains a control character (U+000A LINE FEED at position 6): values are written into "
        "shell files, HTTP headers, URLs and INI files, where it would start a new line or end the value."]
    assert _errors("settings_available_models", "opus", "text_list") == ["settings_available_models must be a list (got a str)."]
    assert _errors("settings_model_overrides", {"claude-opus-5-5": "arn:x\r"}, "text_map")[0].startswith(
        "settings_model_overrides[claude-opus-5-5] contains a control character (U+000D")
    assert _errors("settings_model_overrides", {"claude\nx": "y"}, "text_map") == ["settings_model_overrides has a key that is not one line of text."]
    assert _ok("settings_model_overrides", {"claude-opus-5-5": "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a"},
               "text_map")


@pytest.mark.parametrize("url, ok", [
    ("https://git.example.com/fleet/laptops.git", True),
    ("https://x-access-token:%s@git.example.com/fleet/laptops.git" % SECRET, True),
    ("ssh://git@git.example.com:2222/fleet/laptops.git", True),
    ("git@git.example.com:fleet/laptops.git", True),
    ("file:///srv/git/laptops.git", True),
    ("git.example.com/fleet/laptops", False),
    ("ftp://git.example.com/laptops", False),
    ("https://git.example.com/a b", False),
    ("https://git.example.com/%s\n" % SECRET, False),
    ("-uhttps://git.example.com/x", False),
    ("--upload-pack=touch /tmp/pwned@h:x", False),
])
def test_git_urls_never_echo_the_url(url, ok):
    errors = _errors("pull_repo_url", url, "git_url", required=True)
    assert (errors == []) == ok
    assert all(SECRET not in e and "example" not in e for e in errors)


@pytest.mark.parametrize("kind, option, value, ok, item", [
    ("git_ref", "pull_repo_version", "main", True, {}),
    ("git_ref", "pull_repo_version", "release/2.1", True, {}),
    ("git_ref", "pull_repo_version", "4f1c2e9", True, {}),
    ("git_ref", "pull_repo_version", "main\n", False, {}),
    ("git_ref", "pull_repo_version", "--orphan", False, {}),
    ("git_ref", "pull_repo_version", "a..b", False, {}),
    ("git_ref", "pull_repo_version", "topic.lock", False, {}),
    ("repo_path", "pull_playbook", "local.yml", True, {"suffix": ".yml|.yaml"}),
    ("repo_path", "pull_playbook", "plays/local.yaml", True, {"suffix": ".yml|.yaml"}),
    ("repo_path", "pull_playbook", "local.yml\n", False, {"suffix": ".yml|.yaml"}),
    ("repo_path", "pull_playbook", "../local.yml", False, {"suffix": ".yml|.yaml"}),
    ("repo_path", "pull_playbook", "local.sh", False, {"suffix": ".yml|.yaml"}),
    ("repo_path", "pull_inventory", "inventory", True, {}),
    ("repo_path", "pull_inventory", "/etc/ansible/hosts", False, {}),
    ("repo_path", "pull_inventory", "-i", False, {}),
    ("abs_path", "pull_venv", "/opt/claude_fleet/ansible", True, {}),
    ("abs_path", "pull_venv", "opt/ansible", False, {}),
    ("abs_path", "pull_venv", "/opt/../etc", False, {}),
    ("abs_path", "pull_venv", "/opt/ansible\n", False, {}),
    ("abs_path", "pull_report_path", "/var/lib/claude fleet/r.json", False, {}),
    ("pip_requirement", "pull_ansible_core", "ansible-core==2.19.14", True, {}),
    ("pip_requirement", "pull_ansible_core", "ansible-core>=2.17,<2.20", True, {}),
    ("pip_requirement", "pull_ansible_core", "ansible-core==2.19.14\n", False, {}),
    ("pip_requirement", "pull_ansible_core", "ansible-core --index-url http://x", False, {}),
    ("calendar", "pull_on_calendar", "hourly", True, {}),
    ("calendar", "pull_on_calendar", "Mon..Fri *-*-* 09:00", True, {}),
    ("calendar", "pull_on_calendar", "hourly\n", False, {}),
    ("calendar", "pull_on_calendar", "hourly\nExecStartPre=/bin/sh", False, {}),
    ("calendar", "pull_on_calendar", "-hourly", False, {}),
])
def test_pull_kinds(kind, option, value, ok, item):
    errors = _errors(option, value, kind, required=True, **item)
    assert (errors == []) == ok
    assert all(e.startswith(option + " ") for e in errors)


def test_extra_vars_keys_are_variable_names_and_values_are_never_shown():
    assert _ok("pull_extra_vars", {"claude_fleet_bedrock_model": "x\ny", "pem": "-----BEGIN\n%s\n" % SECRET}, "var_names")
    errors = _errors("pull_extra_vars", {"bad-name": SECRET, "x\ny": 1}, "var_names")
    assert errors == ["pull_extra_vars has a key that is not a variable name (^[A-Za-z_][A-Za-z0-9_]*$): 'bad-name'.",
                      "pull_extra_vars has a key that is not a variable name (^[A-Za-z_][A-Za-z0-9_]*$): "
                      "'with a control character or too long'."]
    assert _errors("pull_extra_vars", ["a"], "var_names") == ["pull_extra_vars must be a mapping of variable names to values (got a list)."]


def test_every_pull_option_is_checked():
    spec = set(_load("pull", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"])
    checked = {item["option"] for item in _load("pull", "vars", "main.yml")["_pull_value_checks"]}
    network = {"pull_ca_certificates", "pull_proxy", "pull_no_proxy"}  # the _network role's rules (tasks/preflight.yml)
    assert spec - network == checked


def test_the_settings_options_of_this_change_are_checked():
    checks = {item["option"]: item.get("kind", "text") for item in _load("settings", "vars", "main.yml")["_settings_value_checks"]}
    assert {name: checks.get(name) for name in ("settings_fable_model", "settings_available_models", "settings_model_overrides",
                                                "settings_cert_store", "settings_aws_chain_resolve_timeout_ms")} == {
        "settings_fable_model": "text", "settings_available_models": "text_list", "settings_model_overrides": "text_map",
        "settings_cert_store": "text", "settings_aws_chain_resolve_timeout_ms": "text"}
