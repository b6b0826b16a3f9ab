# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role under roles/ keeps defaults/main.yml and meta/argument_specs.yml in sync, and names its
task files in one style. Roles are discovered, so a new role is checked without editing this file."""

from __future__ import annotations

import os
import re

import pytest
import yaml

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
ROLES = sorted(name for name in os.listdir(os.path.join(REPO, "roles"))
               if os.path.isdir(os.path.join(REPO, "roles", name)))


def _load(role, *parts):
    path = os.path.join(REPO, "roles", role, *parts)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _defaults(role):
    return _load(role, "defaults", "main.yml") or {}


def _entry_points(role):
    specs = _load(role, "meta", "argument_specs.yml")
    assert specs, f"roles/{role}/meta/argument_specs.yml is missing or empty"
    return specs["argument_specs"]


def _templated(value):
    return "{{" in str(value) or "{%" in str(value)


def test_roles_are_discovered():
    # the settings, install and internal roles at least; a broken listing must not pass vacuously
    assert {"nodejs", "claude_code", "settings", "_smoke", "_stamp"} <= set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_an_option_and_every_option_has_a_default(role):
    defaults = _defaults(role)
    options = {}
    for entry in _entry_points(role).values():
        options.update(entry.get("options") or {})
    assert sorted(set(defaults) - set(options)) == [], "defaults without an argument spec entry"
    optional = {name for name, spec in options.items() if not spec.get("required")}
    assert sorted(optional - set(defaults)) == [], "optional options without a default in defaults/main.yml"


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_equal_defaults(role):
    defaults = _defaults(role)
    for entry_name, entry in _entry_points(role).items():
        for name, spec in (entry.get("options") or {}).items():
            if "default" in spec:
                assert spec["default"] == defaults[name], f"{entry_name}: {name}"
            elif name in defaults and not _templated(defaults[name]):
                # a literal default is documented; a templated one names its variable in the description
                raise AssertionError(f"{entry_name}: {name} has the literal default {defaults[name]!r} but no spec default")


@pytest.mark.parametrize("role", ROLES)
def test_options_and_vars_use_the_role_prefix(role):
    prefix = role + "_"
    for entry in _entry_points(role).values():
        for name in entry.get("options") or {}:
            assert name.startswith(prefix), name
    for name in _load(role, "vars", "main.yml") or {}:
        assert name.startswith(prefix if role.startswith("_") else "_" + prefix), name


@pytest.mark.parametrize("role", ROLES)
def test_options_are_described_and_choices_contain_the_default(role):
    for entry_name, entry in _entry_points(role).items():
        for name, spec in (entry.get("options") or {}).items():
            assert spec.get("description"), f"{entry_name}: {name}"
            if "choices" in spec and "default" in spec:
                # a list option's choices are those of its elements
                defaults = spec["default"] if spec.get("type") == "list" else [spec["default"]]
                assert all(value in spec["choices"] for value in defaults), f"{entry_name}: {name}"


@pytest.mark.parametrize("role", ROLES)
def test_task_files_use_snake_case_names(role):
    tasks = os.path.join(REPO, "roles", role, "tasks")
    names = sorted(os.listdir(tasks))
    assert [n for n in names if not re.fullmatch(r"[a-z][a-z0-9_]*\.yml", n)] == []


@pytest.mark.parametrize("role", ROLES)
def test_entry_points_have_task_files(role):
    for entry_name in _entry_points(role):
        assert os.path.isfile(os.path.join(REPO, "roles", role, "tasks", entry_name + ".yml")), entry_name


def test_secret_option_is_no_log():
    options = _entry_points("claude_code")["main"]["options"]
    assert options["claude_code_npm_auth_token"].get("no_log") is True
