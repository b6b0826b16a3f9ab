# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/mantle.py against the Bedrock emulator's Mantle Messages API: statuses and remedies."""

from __future__ import annotations

import pytest
from botocore.credentials import Credentials

from bedrock_emulator.mantle import mantle_id
from bedrock_emulator.pytest_plugin import bedrock_emulator  # noqa: F401  pylint: disable=unused-import

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.mantle import MantleCaller
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.mantle import default_base_url
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.mantle import mantle_model_id
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.mantle import proposed_model_id
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.mantle import run_mantle_checks


def _model(emu):
    return sorted(mantle_id(m.model_id) for m in emu.scenario.models_in("us-east-1") if m.provider == "Anthropic")[0]


def _full(emu, mid):
    return next(m.model_id for m in emu.scenario.models.values() if mantle_id(m.model_id) == mid)


def _caller(emu, secret=None, bearer=None, base=None, retries=0):
    creds = Credentials(emu.access_key_id, secret or emu.secret_access_key)
    return MantleCaller(base or emu.url, "us-east-1", credentials=creds, bearer_token=bearer, retries=retries, delay=0.0, sleep=lambda _s: None)


def test_ids():
    assert default_base_url("eu-west-1") == "https://bedrock-mantle.eu-west-1.api.aws/anthropic"
    assert mantle_model_id("anthropic.claude-opus-5-5[1m]") == "anthropic.claude-opus-5-5"
    assert mantle_model_id("us.anthropic.claude-opus-5-5") is None
    assert mantle_model_id("anthropic.claude-sonnet-4-5-20250929-v1:0") is None
    assert proposed_model_id("global.anthropic.claude-sonnet-4-5-20250929-v1:0") == "anthropic.claude-sonnet-4-5"
    assert proposed_model_id("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/x") is None


def test_usable_model_sigv4_and_bearer(bedrock_emulator):  # noqa: F811
    emu = bedrock_emulator()
    model = _model(emu)
    for caller in (_caller(emu), _caller(emu, bearer=emu.bearer_token), _caller(emu, base=emu.url + "/anthropic")):
        result = run_mantle_checks(caller, [model + "[1m]"], {model + "[1m]": ["opus"]})
        assert result["usable"] and result["remedies"] == [] and result["aws_calls"] == 1, result
    probe = emu.requests("Messages")[0]
    assert (probe["max_tokens"], probe["model_id"], probe["service"]) == (1, model, "bedrock-mantle")
    assert {e["auth"] for e in emu.requests()} == {"sigv4", "bearer"}


def test_denied_model_and_unknown_model_and_runtime_pin(bedrock_emulator):  # noqa: F811
    probe = bedrock_emulator()
    model = _model(probe)
    emu = bedrock_emulator(overrides={"access": {_full(probe, model): "DENIED"}})
    refs = [model, "anthropic.claude-nonexistent-9", "us." + _full(probe, model)]
    result = run_mantle_checks(_caller(emu), refs, {model: ["opus"]})
    statuses = [r["status"] for r in result["references"]]
    assert statuses == ["access_denied", "not_found", "invalid_reference"]
    assert result["failed_references"] == refs and not result["usable"]
    assert result["remedies"][0].startswith("opus (%s): %s is not enabled" % (model, model))
    assert "pin %s instead" % model in result["remedies"][2]


def test_iam_denials_name_the_actions(bedrock_emulator):  # noqa: F811
    emu = bedrock_emulator(overrides={"iam": {"deny": ["bedrock-mantle:CreateInference"]}})
    result = run_mantle_checks(_caller(emu), [_model(emu)], account="123456789012")
    assert result["references"][0]["status"] == "access_denied"
    assert "bedrock-mantle:CreateInference" in result["remedies"][0] and "arn:aws:bedrock-mantle:us-east-1:123456789012:project/*" in result["remedies"][0]
    emu = bedrock_emulator(overrides={"iam": {"deny": ["bedrock-mantle:CallWithBearerToken"]}})
    result = run_mantle_checks(_caller(emu, bearer=emu.bearer_token), [_model(emu)])
    assert "allow bedrock-mantle:CallWithBearerToken" in result["remedies"][0]


def test_bad_credentials_are_reported_once(bedrock_emulator):  # noqa: F811
    emu = bedrock_emulator()
    model = _model(emu)
    result = run_mantle_checks(_caller(emu, secret="wrong"), [model, "anthropic.claude-other-1"])
    assert [r["status"] for r in result["references"]] == ["credentials_invalid"]
    assert len(result["remedies"]) == 1 and "bedrock-mantle" in result["remedies"][0]
    assert result["failed_references"] == [model, "anthropic.claude-other-1"] and result["aws_calls"] == 1


@pytest.mark.parametrize("retries, usable", [(3, True), (1, False)])
def test_throttling_is_retried_within_the_bound(bedrock_emulator, retries, usable):  # noqa: F811
    emu = bedrock_emulator(overrides={"faults": {"Messages": {"throttle_first": 2}}})
    result = run_mantle_checks(_caller(emu, retries=retries), [_model(emu)])
    assert result["usable"] is usable
    assert result["aws_calls"] == min(retries, 2) + 1
    if not usable:
        assert result["references"][0]["status"] == "throttled"


def test_unreachable_endpoint(bedrock_emulator):  # noqa: F811
    emu = bedrock_emulator()
    url = emu.url
    emu.stop()
    result = run_mantle_checks(_caller(emu, base=url), [_model(emu)])
    assert result["references"][0]["status"] == "unreachable" and url in result["remedies"][0]
