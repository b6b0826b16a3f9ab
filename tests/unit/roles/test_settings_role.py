# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Static and property tests of the settings role: argument specs, validation patterns, rc blocks."""

from __future__ import annotations

import os
import re
import tempfile

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ansible.modules import blockinfile

from module_runner import run_module

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'settings')


def _load(*parts):
    with open(os.path.join(ROLE, *parts), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


DEFAULTS = _load('defaults', 'main.yml')
SPECS = _load('meta', 'argument_specs.yml')['argument_specs']['main']['options']
VARS = _load('vars', 'main.yml')


def test_argument_specs_and_defaults_have_the_same_options_and_defaults():
    assert sorted(SPECS) == sorted(DEFAULTS)
    for name, spec in SPECS.items():
        assert spec.get('default') == DEFAULTS[name], name
        assert spec['description'], name


def test_all_options_use_the_role_prefix():
    assert all(name.startswith('settings_') for name in DEFAULTS)
    assert all(name.startswith('_settings_') for name in VARS)


def test_secret_options_are_no_log_in_the_spec():
    secrets = {'settings_bedrock_api_key', 'settings_aws_access_key_id', 'settings_aws_secret_access_key',
               'settings_aws_session_token', 'settings_otel_exporter_otlp_headers', 'settings_extra_secret_env',
               'settings_proxy', 'settings_client_key', 'settings_client_key_passphrase'}
    assert {name for name, spec in SPECS.items() if spec.get('no_log')} == secrets
    user_secrets = {k for k, v in SPECS['settings_users']['options'].items() if v.get('no_log')}
    assert user_secrets == {'bedrock_api_key', 'aws_access_key_id', 'aws_secret_access_key', 'aws_session_token', 'extra_secret_env'}


def test_managed_keys_are_catalog_keys_and_never_secrets():
    catalog = set(VARS['_settings_fleet_env'])
    assert set(DEFAULTS['settings_managed_env_keys']) <= catalog
    assert not set(DEFAULTS['settings_managed_env_keys']) & set(VARS['_settings_secret_env_keys'])
    assert not set(DEFAULTS['settings_shell_env_keys']) & set(VARS['_settings_secret_env_keys'])


def test_model_pins_are_not_in_the_shell_environment():
    # one place per user for model IDs: ~/.claude/settings.json
    pins = {k for k in VARS['_settings_fleet_env'] if k.endswith('_MODEL')}
    assert pins and not pins & set(DEFAULTS['settings_shell_env_keys'])


def test_user_keys_list_matches_the_spec():
    assert sorted(VARS['_settings_user_keys']) == sorted(SPECS['settings_users']['options'])


# What a model pin may be is tested over the bedrock_pin_errors filter's vocabulary
# (tests/unit/plugins/module_utils/test_bedrock_vocabulary.py).
REGION_RE = re.compile(VARS['_settings_region_re'])


@pytest.mark.parametrize('region, valid', [
    ('us-east-1', True), ('eu-central-2', True), ('ap-southeast-4', True), ('us-gov-west-1', True), ('il-central-1', True),
    ('us-east', False), ('useast1', False), ('US-EAST-1', False), ('us-east-1a', False), ('', False),
])
def test_region_pattern(region, valid):
    assert bool(REGION_RE.match(region)) == valid


# --- rc blocks: the user's own startup-file content survives byte for byte --------------------------------

MARKER = DEFAULTS['settings_block_marker']
BLOCK = 'if [ -r "$HOME/.config/claude-fleet/env.sh" ]; then . "$HOME/.config/claude-fleet/env.sh"; fi'
rc_lines = st.lists(st.text(alphabet=st.characters(blacklist_categories=('Cs',), blacklist_characters='\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'),
                            max_size=30).filter(lambda line: 'ANSIBLE MANAGED BLOCK' not in line), max_size=12)


def _blockinfile(capsys, **args):
    code, result = run_module(blockinfile, capsys, args)
    assert code == 0, result
    return result


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=rc_lines, where=st.sampled_from(['BOF', 'EOF']))
@example(lines=['# ~/.bashrc', 'case $- in', '    *i*) ;;', '      *) return;;', 'esac', 'export MINE=1'], where='BOF')
def test_rc_content_outside_the_block_survives_byte_for_byte(capsys, lines, where):
    original = ''.join(line + '\n' for line in lines)
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, 'rc')
        with open(path, 'w', encoding='utf-8') as handle:
            handle.write(original)
        args = dict(path=path, block=BLOCK, marker=MARKER, create=True, _ansible_tmpdir=workdir)
        if where == 'BOF':
            args['insertbefore'] = 'BOF'
        assert _blockinfile(capsys, **args)['changed'] is True
        with open(path, encoding='utf-8') as handle:
            text = handle.read()
        begin, end = MARKER.replace('{mark}', 'BEGIN'), MARKER.replace('{mark}', 'END')
        managed = begin + '\n' + BLOCK + '\n' + end + '\n'
        assert text.count(managed) == 1
        assert text.replace(managed, '', 1) == original
        assert text.startswith(managed) if where == 'BOF' else text.endswith(managed)
        # second run: nothing to do
        assert _blockinfile(capsys, **args)['changed'] is False
        # removal restores the user's file exactly
        assert _blockinfile(capsys, **dict(args, state='absent'))['changed'] is True
        with open(path, encoding='utf-8') as handle:
            assert handle.read() == original
