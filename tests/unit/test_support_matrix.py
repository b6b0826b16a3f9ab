# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declared dependency ranges and pins follow tests/support-matrix.yml, the two toolchains make test runs.

Floors are the oldest tested versions, upper bounds the next major after the newest tested one; the
execution environment and requirements/ pin the tested sets exactly. Run under either toolchain, the
installed versions must be the matrix's row for that ansible-core.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import re
import sys

import pytest
import yaml

import ansible_collections
from ansible.release import __version__ as ANSIBLE_CORE_VERSION

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
COLLECTIONS = ('amazon.aws', 'community.general')


def _yaml(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def _text(path):
    with open(os.path.join(ROOT, path), encoding='utf-8') as handle:
        return handle.read()


def _pins(path):
    """name -> version of the `name==version` lines of a pip requirements file."""
    pins = {}
    for line in _text(path).splitlines():
        match = re.match(r'^([A-Za-z0-9_.-]+)==(\S+)', line.strip())
        if match:
            pins[match.group(1).lower().replace('_', '-')] = match.group(2)
    return pins


MATRIX = _yaml('tests/support-matrix.yml')
NEWEST, OLDEST, PULL = MATRIX['newest'], MATRIX['oldest'], MATRIX['pull']


def _range(name):
    return '>=%s,<%d.0.0' % (OLDEST[name], int(NEWEST[name].split('.')[0]) + 1)


@pytest.mark.parametrize('name', COLLECTIONS)
def test_galaxy_yml_and_requirements_yml_declare_the_tested_range(name):
    assert _yaml('galaxy.yml')['dependencies'][name] == _range(name)
    versions = {c['name']: c['version'] for c in _yaml('requirements.yml')['collections']}
    assert versions[name] == _range(name)


def test_requires_ansible_is_the_oldest_tested_core():
    major_minor = '.'.join(OLDEST['ansible_core'].split('.')[:2])
    assert _yaml('meta/runtime.yml')['requires_ansible'] == '>=%s.0' % major_minor


def test_collection_python_requirements_are_the_tested_floors():
    assert _yaml('meta/execution-environment.yml')['dependencies']['python'] == 'requirements.txt'
    lines = [line for line in _text('requirements.txt').splitlines() if line and not line.startswith('#')]
    assert lines == ['boto3>=%s' % OLDEST['boto3'], 'botocore>=%s' % OLDEST['botocore']]


@pytest.mark.parametrize('row, files', [
    ('newest', ('requirements/dev.txt', 'requirements/constraints.txt')),
    ('oldest', ('requirements/floor.txt', 'requirements/floor-constraints.txt')),
])
def test_toolchain_pins_are_the_matrix_rows(row, files):
    for path in files:
        pins = _pins(path)
        for name in ('ansible', 'ansible-core', 'boto3', 'botocore'):
            assert pins[name] == MATRIX[row][name.replace('-', '_')], (path, name)


def test_execution_environment_pins_the_newest_tested_set():
    ee = _yaml('execution-environment.yml')
    deps = ee['dependencies']
    assert deps['ansible_core']['package_pip'] == 'ansible-core==%s' % NEWEST['ansible_core']
    versions = {c['name']: c.get('version') for c in deps['galaxy']['collections']}
    for name in COLLECTIONS:
        assert versions[name] == '==%s' % NEWEST[name]
    constraints = _pins('requirements/constraints.txt')
    python = dict(line.split('==') for line in deps['python'])
    assert python == {'boto3': NEWEST['boto3'], 'botocore': NEWEST['botocore'], 'jmespath': constraints['jmespath']}
    assert re.match(r'^[^:@]+(:[0-9][^:]*|@sha256:[0-9a-f]{64})$', ee['images']['base_image']['name']), 'base image not pinned'


def test_installed_toolchain_is_a_matrix_row():
    rows = [row for row in (NEWEST, OLDEST) if row['ansible_core'] == ANSIBLE_CORE_VERSION]
    assert rows, 'ansible-core %s is neither toolchain of tests/support-matrix.yml' % ANSIBLE_CORE_VERSION
    row = rows[0]
    assert '%d.%d' % sys.version_info[:2] == row['python']
    assert importlib.metadata.version('ansible') == row['ansible']
    for name in COLLECTIONS:
        namespace, collection = name.split('.')
        manifests = [os.path.join(path, namespace, collection, 'MANIFEST.json') for path in ansible_collections.__path__]
        manifests = [path for path in manifests if os.path.exists(path)]
        assert manifests, name
        with open(manifests[0], encoding='utf-8') as handle:
            assert json.load(handle)['collection_info']['version'] == row[name]
    import boto3  # pylint: disable=import-outside-toplevel
    import botocore  # pylint: disable=import-outside-toplevel
    assert (boto3.__version__, botocore.__version__) == (row['boto3'], row['botocore'])


def test_readme_states_the_tested_range():
    readme = ' '.join(_text('README.md').split())
    stated = ('ansible-core %s (Python %s) and %s (Python %s)'
              % (OLDEST['ansible_core'], OLDEST['python'], NEWEST['ansible_core'], NEWEST['python']))
    assert stated in readme


def test_tests_config_declares_the_modules_python_floor():
    assert re.match(r'^>=3\.\d+$', _yaml('tests/config.yml')['modules']['python_requires'])


def _version(text):
    return tuple(int(part) for part in text.split('.'))


def test_the_pull_role_installs_the_pull_rows_core_and_its_collections_are_in_the_declared_ranges():
    requirement = 'ansible-core==%s' % PULL['ansible_core']
    assert _yaml('roles/pull/defaults/main.yml')['pull_ansible_core'] == requirement
    spec = _yaml('roles/pull/meta/argument_specs.yml')['argument_specs']['main']['options']['pull_ansible_core']
    assert spec['default'] == requirement
    # The laptop's core is one the collection declares and the oldest toolchain tests.
    assert PULL['ansible_core'] == OLDEST['ansible_core'] and PULL['python'] == OLDEST['python']
    for name in COLLECTIONS:
        assert _version(OLDEST[name]) <= _version(PULL[name]) < (int(NEWEST[name].split('.')[0]) + 1,), name


def test_docs_state_the_pull_mode_combination():
    support = ' '.join(_text('docs/support.md').split())
    stated = ('| pull mode (`make test-pull`, a laptop) | %s | core only | %s | %s | %s |'
              % (PULL['python'], PULL['ansible_core'], PULL['amazon.aws'], PULL['community.general']))
    assert stated in support
    assert '`ansible-core==%s`' % PULL['ansible_core'] in _text('docs/ansible-pull.md')
