# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings role's endpoint choice (runtime | mantle), rendered by Ansible's own templating from the role's defaults and vars."""

from __future__ import annotations

import os

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'settings')
LOADER = DataLoader()
ROLE_VARS = {}
for part in ('defaults', 'vars'):
    ROLE_VARS.update(LOADER.load_from_file(os.path.join(ROLE, part, 'main.yml'), trusted_as_template=True))


def render(expression, **variables):
    values = dict(ROLE_VARS)
    values.update(variables)
    return Templar(loader=LOADER, variables=values).template(trust_as_template('{{ %s }}' % expression))


def test_runtime_is_the_default_and_sets_no_mantle_key():
    env = render('_settings_fleet_env_set')
    assert env['CLAUDE_CODE_USE_BEDROCK'] == '1'
    assert not {'CLAUDE_CODE_USE_MANTLE', 'ANTHROPIC_BEDROCK_MANTLE_BASE_URL', 'CLAUDE_CODE_SKIP_MANTLE_AUTH'} & set(env)
    assert render('_settings_mantle_errors') == []


def test_mantle_sets_the_mantle_keys_and_not_use_bedrock():
    env = render('_settings_fleet_env_set', claude_fleet_bedrock_endpoint='mantle', claude_fleet_bedrock_region='eu-west-1')
    assert env['CLAUDE_CODE_USE_MANTLE'] == '1'
    assert env['ANTHROPIC_BEDROCK_MANTLE_BASE_URL'] == 'https://bedrock-mantle.eu-west-1.api.aws/anthropic'
    assert 'CLAUDE_CODE_USE_BEDROCK' not in env and 'CLAUDE_CODE_SKIP_MANTLE_AUTH' not in env
    # The bedrock-runtime gateway options do not apply on Mantle.
    env = render('_settings_fleet_env_set', claude_fleet_bedrock_endpoint='mantle', settings_bedrock_base_url='http://gw.example',
                 settings_skip_bedrock_auth=True)
    assert 'ANTHROPIC_BEDROCK_BASE_URL' not in env and 'CLAUDE_CODE_SKIP_BEDROCK_AUTH' not in env
    assert render('_settings_fleet_env_set', settings_bedrock_base_url='http://gw.example')['ANTHROPIC_BEDROCK_BASE_URL'] == 'http://gw.example'
    # The endpoint keys are fleet policy: managed settings, and the shell (like CLAUDE_CODE_USE_BEDROCK).
    managed = render('_settings_managed_env', claude_fleet_bedrock_endpoint='mantle')
    assert {'CLAUDE_CODE_USE_MANTLE', 'ANTHROPIC_BEDROCK_MANTLE_BASE_URL'} <= set(managed)
    assert 'CLAUDE_CODE_USE_MANTLE' in ROLE_VARS['settings_shell_env_keys']
    # Every key the role can set is one it also removes when it is no longer set.
    catalog = render('_settings_env_catalog')
    assert {'CLAUDE_CODE_USE_MANTLE', 'ANTHROPIC_BEDROCK_MANTLE_BASE_URL', 'CLAUDE_CODE_SKIP_MANTLE_AUTH'} <= set(catalog)


def test_mantle_base_url_and_skip_auth_options():
    env = render('_settings_fleet_env_set', settings_bedrock_endpoint='mantle', settings_mantle_base_url='https://gw.example.internal/anthropic',
                 settings_skip_mantle_auth=True)
    assert env['ANTHROPIC_BEDROCK_MANTLE_BASE_URL'] == 'https://gw.example.internal/anthropic'
    assert env['CLAUDE_CODE_SKIP_MANTLE_AUTH'] == '1'
    # skip_mantle_auth means nothing on runtime
    assert 'CLAUDE_CODE_SKIP_MANTLE_AUTH' not in render('_settings_fleet_env_set', settings_skip_mantle_auth=True)


def test_use_bedrock_false_sets_neither_provider():
    env = render('_settings_fleet_env_set', settings_bedrock_endpoint='mantle', settings_use_bedrock=False)
    assert not {'CLAUDE_CODE_USE_BEDROCK', 'CLAUDE_CODE_USE_MANTLE', 'ANTHROPIC_BEDROCK_MANTLE_BASE_URL'} & set(env)


@pytest.mark.parametrize('pin', ['anthropic.claude-opus-5-5', 'anthropic.claude-sonnet-4-5', 'anthropic.claude-opus-4-6[1m]'])
def test_mantle_accepts_plain_model_ids(pin):
    assert render('_settings_mantle_errors', settings_bedrock_endpoint='mantle', settings_opus_model=pin) == []


@pytest.mark.parametrize('pin, proposal', [
    ('us.anthropic.claude-opus-5-5', 'anthropic.claude-opus-5-5'),
    ('anthropic.claude-sonnet-4-5-20250929-v1:0', 'anthropic.claude-sonnet-4-5'),
    ('global.anthropic.claude-haiku-4-5-20251001-v1:0', 'anthropic.claude-haiku-4-5'),
    ('anthropic.claude-opus-4-6-v1[1m]', 'anthropic.claude-opus-4-6[1m]'),
    ('anthropic.claude-sonnet-4-5-20250929', 'anthropic.claude-sonnet-4-5'),
    ('arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3', None),
])
def test_mantle_rejects_runtime_ids_and_names_the_mantle_id(pin, proposal):
    errors = render('_settings_mantle_errors', settings_bedrock_endpoint='mantle', settings_opus_model=pin)
    assert len(errors) == 1 and errors[0].startswith('settings_opus_model "%s"' % pin) and 'Mantle' in errors[0]
    if proposal:
        assert errors[0].endswith('use "%s".' % proposal)
    else:
        assert 'use "' not in errors[0]
    # the same pin is fine on bedrock-runtime
    assert render('_settings_mantle_errors', settings_opus_model=pin) == []


@pytest.mark.parametrize('endpoint', ['Mantle', 'runtime ', 'bedrock-mantle', ''])
def test_unknown_endpoint_is_named(endpoint):
    errors = render('_settings_mantle_errors', settings_bedrock_endpoint=endpoint)
    assert errors and errors[0].startswith('settings_bedrock_endpoint (claude_fleet_bedrock_endpoint) must be runtime or mantle')


@pytest.mark.parametrize('url, ok', [
    ('https://bedrock-mantle.us-east-1.api.aws/anthropic', True), ('http://127.0.0.1:8080', True),
    ('https://user:pw@gw.example/anthropic', False), ('https://gw.example/anthropic?x=1', False), ('gw.example', False),
    ('https://gw.example/a\nb', False),
])
def test_mantle_base_url_is_checked(url, ok):
    errors = render('_settings_mantle_errors', settings_bedrock_endpoint='mantle', settings_mantle_base_url=url)
    assert (errors == []) == ok, errors
