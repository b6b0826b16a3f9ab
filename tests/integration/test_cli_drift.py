# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift check: every environment variable and settings key the roles write is one the pinned Claude Code knows.

The CLI is the one the emulator tests install with npm (tests/infra/emulator/test_claude_cli.py, cached in
.cache/claude-cli/<version>), at the version the claude_code role pins. Its bundle declares the environment
variables it reads as lazy getters (``NAME:()=>``), reads a few more as ``process.env.NAME``, and declares its
settings schema as ``key:()=>schema...describe(...)``;
both are read from the binary. The keys the roles write come from the roles themselves (their catalogs,
rendered by Ansible's templating), not from a copy here, so a rename upstream fails this build rather than
a fleet. Two real runs show the CLI enforcing the version range of the role's drop-in. The test also
prints the Bedrock-related variables the CLI reads that the settings role has no option for.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import claude_paths
from role_render import render
# The same npm install and cache as the emulator's real-CLI tests.
from test_claude_cli import CLAUDE_CLI_VERSION, claude_bin  # noqa: F401  pylint: disable=unused-import

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
# Where a declaration may start: after "," or "{" in an object literal.
_NAME_BEFORE = re.compile(rb'([A-Za-z_$][A-Za-z0-9_$]*)$')
_ENV_NAME = re.compile(r'^[A-Z_][A-Z0-9_]{2,}$')
# The CLI variables a Bedrock fleet may care about (the OpenTelemetry family is configured through its own options).
_BEDROCK_RELATED = re.compile(r'BEDROCK|MANTLE|^AWS_|_AWS_|^ANTHROPIC_(DEFAULT_|MODEL$|SMALL_FAST|CUSTOM_HEADERS)|PROMPT_CACHING|'
                              r'MAX_OUTPUT_TOKENS|THINKING_TOKENS|CERT_STORE|ENV_SCRUB|^CLAUDE_CODE_USE_|^CLAUDE_CODE_SKIP_')


@pytest.fixture(scope='module')
def cli(claude_bin):  # noqa: F811  pylint: disable=redefined-outer-name
    """What the pinned CLI's bundle declares: environment variables, settings keys, and its raw bytes."""
    with open(os.path.realpath(claude_bin), 'rb') as handle:
        data = handle.read()
    declared = []
    start = 0
    while True:
        at = data.find(b':()=>', start)
        if at < 0:
            break
        match = _NAME_BEFORE.search(data, max(0, at - 80), at)
        if match and data[match.start() - 1:match.start()] in (b',', b'{'):
            declared.append((match.start(), at, match.group(1).decode('ascii')))
        start = at + 5
    env = {entry[2] for entry in declared if _ENV_NAME.match(entry[2])}
    # ...and the ones it reads straight from process.env (telemetry, some provider switches).
    env |= {name.decode('ascii') for name in re.findall(rb'process\.env(?:\.|\[")([A-Z_][A-Z0-9_]{2,})', data)}
    settings = set()
    for index, (_start, at, name) in enumerate(declared):
        end = declared[index + 1][0] if index + 1 < len(declared) else at + 4000
        if name[0].islower() and b'.describe(' in data[at:min(end, at + 4000)]:
            settings.add(name)
    assert len(env) > 500 and len(settings) > 100, 'the bundle format changed: %d env names, %d settings keys' % (len(env), len(settings))
    return {'env': env, 'settings': settings, 'data': data}


def _written_env_keys():
    """Every env key the settings role (its catalog) and the claude_code role (its drop-in) can write."""
    keys = set(render('settings', '_settings_env_catalog'))
    for variables in ({}, {'claude_code_disable_updates': False}):
        keys |= set(render('claude_code', '_claude_code_update_policy', **variables).get('env', {}))
    return keys


def _written_settings_keys():
    """Top-level settings keys the roles write, from the documents they build for each case."""
    keys = set()
    for auth in ('none', 'sso', 'credential_export'):
        user = {'name': 'alice', 'auth_method': auth, 'aws_profile': 'dev', 'home': '/home/alice', 'shell': 'bash', 'state': 'present'}
        keys |= set(render('settings', '_settings_user_settings', _settings_user=user, settings_users=[{'name': 'alice'}]))
    for variables in ({}, {'claude_code_disable_updates': False, 'claude_code_auto_updates_channel': 'stable'}):
        keys |= set(render('claude_code', '_claude_code_update_policy', **variables))
    keys.add('env')  # the managed settings file's env block
    return keys


def test_the_cli_under_test_is_the_version_the_role_pins():
    with open(os.path.join(REPO, 'roles', 'claude_code', 'defaults', 'main.yml'), encoding='utf-8') as handle:
        pinned = str(yaml.safe_load(handle)['claude_code_version'])
    assert CLAUDE_CLI_VERSION == pinned, 'the drift check reads %s but claude_code_version pins %s' % (CLAUDE_CLI_VERSION, pinned)


def test_every_env_key_the_roles_write_is_one_the_cli_reads(cli):
    written = _written_env_keys()
    assert {'CLAUDE_CODE_USE_BEDROCK', 'AWS_REGION', 'DISABLE_AUTOUPDATER'} <= written  # the catalogs were read
    unknown = sorted(written - cli['env'])
    assert not unknown, 'Claude Code %s reads none of these env keys the roles write: %s' % (CLAUDE_CLI_VERSION, unknown)


def test_every_settings_key_the_roles_write_is_one_the_cli_knows(cli):
    written = _written_settings_keys()
    assert {'env', 'awsAuthRefresh', 'awsCredentialExport', 'requiredMinimumVersion', 'requiredMaximumVersion',
            'autoUpdatesChannel'} <= written
    unknown = sorted(written - cli['settings'])
    assert not unknown, 'Claude Code %s has no settings key %s' % (CLAUDE_CLI_VERSION, unknown)


def test_the_managed_settings_paths_are_the_clis(cli):
    # The table of module_utils/claude_paths.py against the strings the CLI builds its paths from.
    for path in list(claude_paths.MANAGED_DIRS.values()) + [claude_paths.DEFAULT_MANAGED_DIR]:
        assert path.encode() in cli['data'], path
    for name in (claude_paths.MANAGED_SETTINGS_FILE, claude_paths.DROP_IN_DIR):
        assert b'"' + name.encode() + b'"' in cli['data'], name


def test_print_the_bedrock_variables_the_collection_does_not_offer(cli, capsys):
    offered = _written_env_keys()
    missing = sorted(name for name in cli['env'] - offered if _BEDROCK_RELATED.search(name))
    with capsys.disabled():
        print('\nClaude Code %s reads %d Bedrock-related variables the collection has no option for:\n  %s'
              % (CLAUDE_CLI_VERSION, len(missing), '\n  '.join(missing)))
    assert 'CLAUDE_CODE_USE_BEDROCK' not in missing and 'CLAUDE_CODE_USE_BEDROCK' in cli['env']


def _run_with_drop_in(binary, document, tmp_path):
    """Run the CLI with DOCUMENT as the role's drop-in in /etc/claude-code, inside a private mount namespace
    (an overlay on /etc that only this process sees), against a closed loopback port."""
    if os.geteuid() != 0 or shutil.which('unshare') is None:
        pytest.skip('needs root and unshare(1) to give the CLI a private /etc/claude-code')
    for name in ('upper', 'work', 'home'):
        (tmp_path / name).mkdir()
    (tmp_path / 'drop-in.json').write_text(json.dumps(document), encoding='utf-8')
    script = ('mount -t overlay overlay -o lowerdir=/etc,upperdir={t}/upper,workdir={t}/work /etc'
              ' && mkdir -p /etc/claude-code/managed-settings.d'
              ' && cp {t}/drop-in.json /etc/claude-code/managed-settings.d/10-claude-fleet-updates.json'
              ' && exec "$0" -p hi').format(t=tmp_path)
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path / 'home'), 'CLAUDE_CODE_USE_BEDROCK': '1', 'AWS_REGION': 'us-east-1',
           'ANTHROPIC_BEDROCK_BASE_URL': 'http://127.0.0.1:9', 'CLAUDE_CODE_MAX_RETRIES': '0', 'API_TIMEOUT_MS': '5000'}
    proc = subprocess.run(['unshare', '-m', 'sh', '-c', script, os.path.realpath(binary)], capture_output=True, text=True,
                          timeout=120, env=env, stdin=subprocess.DEVNULL, check=False)
    if 'overlay' in proc.stderr and proc.returncode != 0 and 'Claude Code' not in proc.stdout + proc.stderr:
        pytest.fail('could not set up the private /etc: %s' % proc.stderr)
    return proc


def test_the_cli_refuses_a_version_outside_the_roles_range(claude_bin, tmp_path):  # noqa: F811  pylint: disable=redefined-outer-name
    # The drop-in the role writes for a fleet pinned to a newer release than the binary: the binary must not run.
    document = render('claude_code', '_claude_code_update_policy', claude_code_version='2.1.400')
    assert document['requiredMinimumVersion'] == '2.1.400'
    proc = _run_with_drop_in(claude_bin, document, tmp_path)
    assert proc.returncode != 0
    assert 'older than the minimum version required by your organization (2.1.400)' in proc.stdout + proc.stderr


def test_the_cli_runs_inside_the_roles_range(claude_bin, tmp_path):  # noqa: F811  pylint: disable=redefined-outer-name
    document = render('claude_code', '_claude_code_update_policy')
    assert document['requiredMinimumVersion'] == document['requiredMaximumVersion'] == CLAUDE_CLI_VERSION
    proc = _run_with_drop_in(claude_bin, document, tmp_path)
    output = proc.stdout + proc.stderr
    # Past the version check: it gets as far as Bedrock (nothing listens on the loopback port, no credentials).
    assert 'required by your organization' not in output and 'allowed by your organization' not in output
    assert 'API Error' in output or 'credentials' in output.lower(), output
