# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings role's Claude Code tuning options (token caps, prompt caching, credential scrubbing, CA store,
AWS credential chain), rendered by Ansible's own templating from the role's defaults and vars."""

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

LINUX = {'system': 'Linux', 'os_family': 'Debian'}
BWRAP = {'stat': {'exists': True}}
NO_BWRAP = {'stat': {'exists': False}}


def render(expression, **variables):
    values = dict(ROLE_VARS)
    values.setdefault('ansible_facts', LINUX)
    values.update(variables)
    return Templar(loader=LOADER, variables=values).template(trust_as_template('{{ %s }}' % expression))


def user_env(auth='none', bwrap=None, **variables):
    bwrap = BWRAP if bwrap is None else bwrap
    user = {'name': 'alice', 'auth_method': auth, 'aws_profile': '', 'home': '/home/alice', 'shell': 'bash', 'state': 'present'}
    cfg = {'name': 'alice', 'bedrock_api_key': 'ABSK-secret', 'aws_access_key_id': 'AKIDEXAMPLE', 'aws_secret_access_key': 'wJalr'}
    return render('_settings_user_public_env', _settings_user=user, settings_users=[cfg], __settings_bwrap=bwrap, **variables)


def test_no_token_caps_by_default():
    env = render('_settings_fleet_env_set')
    assert 'CLAUDE_CODE_MAX_OUTPUT_TOKENS' not in env and 'MAX_THINKING_TOKENS' not in env
    # ...and an earlier run's caps are removed: both keys are catalog keys.
    assert {'CLAUDE_CODE_MAX_OUTPUT_TOKENS', 'MAX_THINKING_TOKENS'} <= set(render('_settings_env_catalog'))
    capped = render('_settings_fleet_env_set', settings_max_output_tokens='32000', settings_max_thinking_tokens='0')
    assert (capped['CLAUDE_CODE_MAX_OUTPUT_TOKENS'], capped['MAX_THINKING_TOKENS']) == ('32000', '0')


@pytest.mark.parametrize('ttl, present, absent', [
    ('', set(), {'ENABLE_PROMPT_CACHING_1H', 'FORCE_PROMPT_CACHING_5M'}),
    ('1h', {'ENABLE_PROMPT_CACHING_1H'}, {'FORCE_PROMPT_CACHING_5M'}),
    ('5m', {'FORCE_PROMPT_CACHING_5M'}, {'ENABLE_PROMPT_CACHING_1H'}),
])
def test_prompt_cache_ttl(ttl, present, absent):
    env = render('_settings_fleet_env_set', settings_prompt_cache_ttl=ttl)
    assert {k for k in present if env.get(k) == '1'} == present
    assert not absent & set(env)


def test_prompt_caching_off_per_family():
    env = render('_settings_fleet_env_set', settings_disable_prompt_caching_families=['opus', 'mythos'])
    family_keys = {k for k in env if k.startswith('DISABLE_PROMPT_CACHING_')}
    assert family_keys == {'DISABLE_PROMPT_CACHING_OPUS', 'DISABLE_PROMPT_CACHING_MYTHOS'}
    catalog = set(render('_settings_env_catalog'))
    assert {'DISABLE_PROMPT_CACHING_' + f.upper() for f in ('opus', 'sonnet', 'haiku', 'fable', 'mythos')} <= catalog


def test_cert_store_and_aws_credential_knobs():
    env = render('_settings_fleet_env_set', settings_cert_store='bundled,system', settings_skip_aws_cred_cache=True,
                 settings_aws_chain_resolve_timeout_ms='120000')
    assert env['CLAUDE_CODE_CERT_STORE'] == 'bundled,system'
    assert env['CLAUDE_CODE_SKIP_AWS_CRED_CACHE'] == '1'
    assert env['CLAUDE_CODE_AWS_CHAIN_RESOLVE_TIMEOUT_MS'] == '120000'
    assert not {'CLAUDE_CODE_CERT_STORE', 'CLAUDE_CODE_SKIP_AWS_CRED_CACHE', 'CLAUDE_CODE_AWS_CHAIN_RESOLVE_TIMEOUT_MS'} & set(
        render('_settings_fleet_env_set'))


@pytest.mark.parametrize('auth, bwrap, mode, scrub', [
    ('static_keys', BWRAP, 'auto', True),     # keys in Claude Code's env: scrub them from its subprocesses
    ('api_key', BWRAP, 'auto', True),
    ('sso', BWRAP, 'auto', False),            # no credential in the env: nothing to scrub
    ('none', BWRAP, 'auto', False),
    ('static_keys', NO_BWRAP, 'auto', False),  # without bubblewrap Claude Code would refuse to start
    ('none', NO_BWRAP, 'always', True),
    ('static_keys', BWRAP, 'never', False),
])
def test_subprocess_env_scrub(auth, bwrap, mode, scrub):
    env = user_env(auth, bwrap, settings_subprocess_env_scrub=mode, settings_aws_profile='dev')
    assert (env.get('CLAUDE_CODE_SUBPROCESS_ENV_SCRUB') == '1') is scrub
    # the catalog owns it, so a user that no longer needs it loses it
    assert 'CLAUDE_CODE_SUBPROCESS_ENV_SCRUB' in render('_settings_env_catalog')


def test_scrub_on_macos_needs_no_bubblewrap():
    env = user_env('static_keys', NO_BWRAP, ansible_facts={'system': 'Darwin'})
    assert env['CLAUDE_CODE_SUBPROCESS_ENV_SCRUB'] == '1'


def test_a_secret_extra_env_counts_as_a_credential():
    env = user_env('none', BWRAP, settings_extra_secret_env={'GITHUB_TOKEN': 'ghp_x'})
    assert env['CLAUDE_CODE_SUBPROCESS_ENV_SCRUB'] == '1'
