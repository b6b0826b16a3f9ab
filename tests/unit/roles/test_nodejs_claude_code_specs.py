# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nodejs and claude_code roles keep defaults/main.yml and meta/argument_specs.yml in sync."""

from __future__ import annotations

import os

import pytest
import yaml

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
ROLES = ["nodejs", "claude_code"]


def _load(role, *parts):
    with open(os.path.join(REPO, "roles", role, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("role", ROLES)
def test_spec_options_equal_defaults(role):
    defaults = _load(role, "defaults", "main.yml")
    options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert set(defaults) == set(options)
    for name, spec in options.items():
        assert spec.get("default") == defaults[name], name
        assert name.startswith(role + "_"), name


@pytest.mark.parametrize("role", ROLES)
def test_choices_contain_default(role):
    options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        if "choices" in spec:
            assert spec["default"] in spec["choices"], name


def test_secret_option_is_no_log():
    options = _load("claude_code", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    assert options["claude_code_npm_auth_token"].get("no_log") is True
