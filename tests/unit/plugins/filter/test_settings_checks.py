# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings role's option rules (plugins/filter/settings_checks.py): each rule once, its message naming the option."""
from __future__ import annotations

import os

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.settings_checks import (
    FilterModule, settings_mantle_errors, settings_option_errors, settings_user_errors, settings_users_errors)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
with open(os.path.join(REPO, 'roles', 'settings', 'vars', 'main.yml'), encoding='utf-8') as handle:
    VARS = yaml.safe_load(handle)
AUTH = VARS['_settings_auth_methods']
GOOD = {'state': 'present', 'auth_method': 'profile', 'aws_region': 'us-east-1', 'small_fast_model_region': '',
        'guardrail_identifier': '', 'guardrail_version': '', 'managed_env_keys': ['CLAUDE_CODE_USE_BEDROCK', 'AWS_REGION'],
        'max_output_tokens': '', 'max_thinking_tokens': 4096, 'aws_chain_resolve_timeout_ms': '', 'cert_store': ''}


def options(**changes):
    return settings_option_errors(dict(GOOD, **changes), auth_methods=AUTH, region_re=VARS['_settings_region_re'],
                                  secret_keys=VARS['_settings_secret_env_keys'])


def test_good_options_have_no_error():
    assert options() == []
    assert options(small_fast_model_region='eu-west-1', guardrail_identifier='gr-1', guardrail_version=1,
                   cert_store='bundled,system', aws_chain_resolve_timeout_ms=120000) == []


@pytest.mark.parametrize('changes, message', [
    ({'state': 'purge'}, 'settings_state must be present or absent (got purge).'),
    ({'auth_method': 'password'}, 'settings_auth_method must be one of %s (got password).' % ', '.join(AUTH)),
    ({'aws_region': 'US East'}, 'settings_aws_region "US East" is not an AWS region such as us-east-1 or eu-central-1.'),
    ({'small_fast_model_region': 'mars'}, 'settings_small_fast_model_region "mars" is not an AWS region.'),
    ({'guardrail_identifier': 'gr-1'},
     'settings_guardrail_version must be set (a version number or DRAFT) when settings_guardrail_identifier is set.'),
    ({'managed_env_keys': ['AWS_REGION', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECRET_ACCESS_KEY']},
     'settings_managed_env_keys must not list secrets (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN): the managed settings file'
     ' is world-readable.'),
    ({'max_output_tokens': 'lots'}, 'settings_max_output_tokens must be a number or empty.'),
    ({'max_thinking_tokens': '-1'}, 'settings_max_thinking_tokens must be a number or empty.'),
    ({'aws_chain_resolve_timeout_ms': '2s'}, 'settings_aws_chain_resolve_timeout_ms must be a number of milliseconds or empty (got "2s").'),
    ({'cert_store': 'system,os'}, 'settings_cert_store must be bundled, system, "bundled,system" or empty (got "system,os").'),
])
def test_each_rule_has_one_message_naming_its_option(changes, message):
    assert options(**changes) == [message]


def test_every_broken_rule_is_reported_at_once():
    assert len(options(state='x', auth_method='x', aws_region='x', max_output_tokens='x', cert_store='x')) == 5


def test_missing_options_are_a_filter_error():
    with pytest.raises(AnsibleFilterError, match='cert_store'):
        settings_option_errors({'state': 'present'}, auth_methods=AUTH, region_re='.', secret_keys=[])


PASSWD = {'alice': ['x', '1000', '1000', '', '/home/alice', '/bin/bash'], 'bob': ['x', '1001', '1001', '', '/home/bob', '/bin/zsh']}


def test_users_that_do_not_exist_and_unknown_keys_are_named():
    users = [{'name': 'alice', 'shel': 'bash'}, {'name': 'carol'}, {'name': 'dave', 'shel': 'zsh', 'group': 'x'}]
    assert settings_users_errors(users, passwd=PASSWD, host='ws1', user_keys=VARS['_settings_user_keys']) == [
        'settings_users names users that do not exist on ws1: carol, dave.',
        'settings_users entries have unknown keys: shel, group (known: %s).' % ', '.join(VARS['_settings_user_keys'])]
    assert settings_users_errors([{'name': 'bob', 'shell': 'zsh'}], passwd=PASSWD, host='ws1', user_keys=VARS['_settings_user_keys']) == []


FLEET = {'sso_configure': False, 'sso_start_url': '', 'sso_account_id': '', 'sso_role_name': '', 'bedrock_api_key': '',
         'aws_access_key_id': '', 'aws_secret_access_key': ''}
USER = {'name': 'alice', 'shell': 'bash', 'home': '/home/alice', 'state': 'present', 'auth_method': 'none', 'aws_profile': ''}


def user(cfg=None, fleet=None, **changes):
    return settings_user_errors(dict(USER, **changes), cfg=cfg or {'name': 'alice'}, fleet=dict(FLEET, **(fleet or {})),
                                shells=VARS['_settings_shells'], auth_methods=AUTH)


@pytest.mark.parametrize('changes, message', [
    ({'shell': 'tcsh'}, 'settings_users[alice].shell "tcsh" is not supported (bash, zsh or fish); set shell explicitly when the'
     ' login shell is something else.'),
    ({'state': 'gone'}, 'settings_users[alice].state must be present or absent.'),
    ({'auth_method': 'kerberos'}, 'settings_users[alice].auth_method "kerberos" must be one of %s.' % ', '.join(AUTH)),
    ({'home': 'home/alice'}, 'settings_users[alice].home must be an absolute path.'),
    ({'auth_method': 'credential_export'},
     'settings_aws_profile (or settings_users[alice].aws_profile) must be set for auth method credential_export.'),
])
def test_each_user_rule_has_one_message(changes, message):
    assert user(**changes) == [message]


def test_sso_configure_needs_its_options_only_when_they_are_missing():
    sso = {'sso_configure': True, 'sso_start_url': 'https://x.awsapps.com/start', 'sso_account_id': '123456789012',
           'sso_role_name': 'Dev'}
    assert user(auth_method='sso', aws_profile='p', fleet=sso) == []
    assert user(auth_method='sso', aws_profile='p', fleet=dict(sso, sso_account_id='1234')) == [
        'settings_aws_sso_configure needs settings_aws_sso_start_url, settings_aws_sso_account_id (12 digits) and'
        ' settings_aws_sso_role_name.']
    assert user(auth_method='sso', aws_profile='p', fleet=dict(sso, sso_configure=False, sso_role_name='')) == []


def test_the_secrets_of_a_method_come_from_the_user_or_the_fleet_and_are_never_shown():
    api = 'User alice: auth method api_key needs settings_bedrock_api_key (or settings_users[].bedrock_api_key).'
    assert user(auth_method='api_key') == [api]
    assert user(auth_method='api_key', fleet={'bedrock_api_key': 'ABSK-fleet'}) == []
    assert user(auth_method='api_key', cfg={'name': 'alice', 'bedrock_api_key': 'ABSK-own'}) == []
    # The user's key wins over the fleet's, even empty.
    assert user(auth_method='api_key', cfg={'name': 'alice', 'bedrock_api_key': ''}, fleet={'bedrock_api_key': 'ABSK-fleet'}) == [api]
    errors = user(auth_method='static_keys', cfg={'name': 'alice', 'aws_access_key_id': 'AKIDSECRETID'})
    assert errors == ['User alice: auth method static_keys needs settings_aws_access_key_id and settings_aws_secret_access_key'
                      ' (or the settings_users[] keys).']
    assert 'AKIDSECRETID' not in errors[0]
    assert user(auth_method='static_keys', fleet={'aws_access_key_id': 'ID', 'aws_secret_access_key': 'S'}) == []


def pins(**values):
    return [{'option': option, 'value': value} for option, value in values.items()]


def test_mantle_errors_name_the_endpoint_the_url_and_each_pin_with_its_mantle_id():
    assert settings_mantle_errors(pins(settings_model='us.anthropic.claude-opus-5-5'), endpoint='runtime', mantle=False, base_url='') == []
    assert settings_mantle_errors([], endpoint='Mantle', mantle=False, base_url='') == [
        'settings_bedrock_endpoint (claude_fleet_bedrock_endpoint) must be runtime or mantle, got "Mantle".']
    errors = settings_mantle_errors(
        pins(settings_model='', settings_opus_model='us.anthropic.claude-opus-4-6-v1[1m]', settings_sonnet_model='anthropic.claude-sonnet-4-5',
             settings_haiku_model='arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0'),
        endpoint='mantle', mantle=True, base_url='https://gw.example/anthropic?x=1')
    assert errors == [
        'settings_mantle_base_url "https://gw.example/anthropic?x=1" is not an http(s) URL without credentials, query or fragment.',
        'settings_opus_model "us.anthropic.claude-opus-4-6-v1[1m]" cannot be called on Amazon Bedrock (Mantle), which serves model ids'
        ' without a geo prefix, version suffix or ARN: use "anthropic.claude-opus-4-6[1m]".',
        'settings_haiku_model "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-haiku-4-5-20251001-v1:0" cannot be called'
        ' on Amazon Bedrock (Mantle), which serves model ids without a geo prefix, version suffix or ARN.']


def test_the_filters_are_registered():
    assert set(FilterModule().filters()) == {'settings_option_errors', 'settings_users_errors', 'settings_user_errors',
                                             'settings_mantle_errors'}
