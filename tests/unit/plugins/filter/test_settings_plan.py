# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings role's per-user plan (plugins/filter/settings_plan.py)."""
from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.settings_plan import (
    FilterModule, settings_env_values, settings_macos_passwd, settings_shell_env, settings_user_secret_env, settings_user_top,
    settings_users_resolved)

PASSWD = {'alice': ['x', '1000', '1000', '', '/home/alice', '/bin/bash'], 'bob': ['x', '1001', '1001', '', '/Users/bob', '/opt/homebrew/bin/fish']}
DEFAULTS = {'state': 'present', 'auth_method': 'profile', 'aws_profile': 'bedrock'}


def test_users_take_the_login_shell_home_and_fleet_defaults_unless_they_set_their_own():
    users = [{'name': 'alice', 'bedrock_api_key': 'ABSK-secret'},
             {'name': 'bob', 'shell': '/usr/bin/zsh', 'home': '/srv/bob', 'state': 'absent', 'auth_method': 'sso', 'aws_profile': 7},
             {'name': 'alice', 'shell': '', 'aws_profile': None}]
    assert settings_users_resolved(users, passwd=PASSWD, defaults=DEFAULTS) == [
        {'name': 'alice', 'shell': 'bash', 'home': '/home/alice', 'state': 'present', 'auth_method': 'profile', 'aws_profile': 'bedrock'},
        {'name': 'bob', 'shell': 'zsh', 'home': '/srv/bob', 'state': 'absent', 'auth_method': 'sso', 'aws_profile': '7'},
        {'name': 'alice', 'shell': 'bash', 'home': '/home/alice', 'state': 'present', 'auth_method': 'profile', 'aws_profile': 'bedrock'}]


def test_resolution_needs_the_defaults():
    with pytest.raises(AnsibleFilterError, match='defaults'):
        settings_users_resolved([], passwd={}, defaults={'state': 'present'})


def test_macos_users_are_read_from_dscacheutil():
    found = {'item': 'bob', 'stdout': 'name: bob\nuid: 501\ngid: 20\ndir: /Users/bob\nshell: /bin/zsh: really\n',
             'stdout_lines': ['name: bob', 'uid: 501', 'gid: 20', 'dir: /Users/bob', 'shell: /bin/zsh: really', '']}
    assert settings_macos_passwd([found, {'item': 'nobody', 'stdout': '', 'stdout_lines': []}, {'item': 'x', 'skipped': True}]) == {
        'bob': ['*', '501', '20', '', '/Users/bob', '/bin/zsh: really']}


def test_env_values_are_text_true_is_1_and_none_or_false_leave():
    assert settings_env_values({'A': True, 'B': False, 'C': None, 'D': 5, 'E': 'e', 'F': ''}) == {'A': '1', 'D': '5', 'E': 'e', 'F': ''}
    assert settings_env_values(None) == {}


SECRETS = {'bedrock_api_key': 'FLEET-KEY', 'aws_access_key_id': 'FID', 'aws_secret_access_key': 'FSECRET', 'aws_session_token': '',
           'otlp_headers': '', 'proxy': '', 'client_key_passphrase': ''}


def secret_env(method, cfg=None, fleet_env=None, credential_keys=(), extra=None, **secrets):
    return settings_user_secret_env(cfg or {'name': 'alice'}, auth_method=method, secrets=dict(SECRETS, **secrets),
                                    fleet_env=fleet_env or {}, credential_keys=list(credential_keys), extra_secret_env=extra or {})


def test_each_method_brings_its_own_credentials_the_users_first():
    assert secret_env('none') == {}
    assert secret_env('profile') == {}
    assert secret_env('api_key') == {'AWS_BEARER_TOKEN_BEDROCK': 'FLEET-KEY'}
    assert secret_env('api_key', cfg={'bedrock_api_key': 'OWN'}) == {'AWS_BEARER_TOKEN_BEDROCK': 'OWN'}
    assert secret_env('static_keys') == {'AWS_ACCESS_KEY_ID': 'FID', 'AWS_SECRET_ACCESS_KEY': 'FSECRET'}
    assert secret_env('static_keys', cfg={'aws_session_token': 'TOKEN'}) == {
        'AWS_ACCESS_KEY_ID': 'FID', 'AWS_SECRET_ACCESS_KEY': 'FSECRET', 'AWS_SESSION_TOKEN': 'TOKEN'}


def test_the_other_secrets_follow_in_order_and_the_users_extra_wins():
    env = secret_env('api_key', otlp_headers='Authorization=Basic x', proxy='http://u:p@proxy:3128', client_key_passphrase='pp',
                     fleet_env={'ANTHROPIC_CUSTOM_HEADERS': 'Authorization: Bearer t', 'AWS_REGION': 'us-east-1'},
                     credential_keys=['ANTHROPIC_CUSTOM_HEADERS'], extra={'Z': 1, 'Y': None})
    assert list(env.items()) == [
        ('AWS_BEARER_TOKEN_BEDROCK', 'FLEET-KEY'), ('OTEL_EXPORTER_OTLP_HEADERS', 'Authorization=Basic x'),
        ('HTTPS_PROXY', 'http://u:p@proxy:3128'), ('HTTP_PROXY', 'http://u:p@proxy:3128'), ('CLAUDE_CODE_CLIENT_KEY_PASSPHRASE', 'pp'),
        ('ANTHROPIC_CUSTOM_HEADERS', 'Authorization: Bearer t'), ('Z', '1')]


def test_the_top_level_command_of_sso_and_credential_export_quotes_the_profile():
    assert settings_user_top('sso', profile="dev's") == {'awsAuthRefresh': "aws sso login --profile 'dev'\"'\"'s'"}
    assert settings_user_top('sso', profile='dev', refresh_command='my-login') == {'awsAuthRefresh': 'my-login'}
    assert settings_user_top('credential_export', profile='dev') == {
        'awsCredentialExport': 'aws configure export-credentials --profile dev --format process'}
    assert settings_user_top('profile', profile='dev') == {}


def test_the_shell_exports_the_listed_keys_in_their_order_then_the_extra_env():
    env = {'AWS_REGION': 'us-east-1', 'ANTHROPIC_MODEL': 'm', 'HTTPS_PROXY': 'http://proxy'}
    assert list(settings_shell_env(env, keys=['ANTHROPIC_MODEL', 'NOT_SET', 'HTTPS_PROXY', 'ANTHROPIC_MODEL'],
                                   extra_env={'X': True, 'Y': False}).items()) == [
        ('ANTHROPIC_MODEL', 'm'), ('HTTPS_PROXY', 'http://proxy'), ('X', '1')]


def test_the_filters_are_registered():
    assert set(FilterModule().filters()) == {'settings_users_resolved', 'settings_macos_passwd', 'settings_env_values',
                                             'settings_user_secret_env', 'settings_user_top', 'settings_shell_env'}
