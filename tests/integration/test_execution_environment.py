# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution-environment.yml produces an ansible-builder context that installs the pinned, tested set.

After `ansible-builder create`, the Python requirements are combined the way the image build does
(ansible-builder introspect over the collections the context installs, with the definition's
exclusions) and resolved with pip; the resolved boto3/botocore and ansible-core, and the collection
versions, are printed and must be the newest row of tests/support-matrix.yml (docs/support.md).
Needs PyPI (pip resolves without installing).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
MATRIX = yaml.safe_load(open(os.path.join(ROOT, 'tests', 'support-matrix.yml'), encoding='utf-8'))
NEWEST = MATRIX['newest']


def _run(*argv, **kwargs):
    proc = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=900, **kwargs)
    assert proc.returncode == 0, (argv, proc.stdout[-2000:], proc.stderr[-4000:])
    return proc.stdout


def test_ansible_builder_create_resolves_the_tested_versions(tmp_path):
    work = tmp_path / 'ee'
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns('.venv*', '.build', '.cache', '.git', '.ansible', '.hypothesis',
                                                              'tests', 'extensions', 'bench'))
    version = yaml.safe_load((work / 'galaxy.yml').read_text())['version']
    tarball = 'claude_fleet-bedrock-%s.tar.gz' % version
    _run(os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(work / '.build' / 'dist'), cwd=work)
    ctx = tmp_path / 'ctx'
    _run(os.path.join(BIN, 'ansible-builder'), 'create', '-f', 'execution-environment.yml', '-c', str(ctx), cwd=work)
    build = ctx / '_build'
    assert (build / 'galaxy' / tarball).is_file()
    assert 'ansible-galaxy collection install' in (ctx / 'Dockerfile').read_text()

    # The collections the image installs, at the pinned versions.
    wanted = {c['name']: c.get('version') for c in yaml.safe_load((build / 'requirements.yml').read_text())['collections']}
    assert wanted == {'amazon.aws': '==%s' % NEWEST['amazon.aws'], 'community.general': '==%s' % NEWEST['community.general'],
                      'galaxy/%s' % tarball: None}

    # Install them as the image build does (amazon.aws and community.general from this toolchain, which is
    # the same newest row; Galaxy is not needed) and combine their Python requirements with the definition's.
    colls = tmp_path / 'collections'
    _run(os.path.join(BIN, 'ansible-galaxy'), 'collection', 'install', '--force', '--no-deps', '-p', str(colls), str(build / 'galaxy' / tarball))
    import ansible_collections  # pylint: disable=import-outside-toplevel
    for name in ('amazon.aws', 'community.general'):
        namespace, collection = name.split('.')
        source = next(os.path.join(p, namespace, collection) for p in ansible_collections.__path__
                      if os.path.isdir(os.path.join(p, namespace, collection)))
        manifest = json.load(open(os.path.join(source, 'MANIFEST.json'), encoding='utf-8'))
        assert manifest['collection_info']['version'] == NEWEST[name]
        os.makedirs(colls / 'ansible_collections' / namespace, exist_ok=True)
        os.symlink(source, colls / 'ansible_collections' / namespace / collection)
    combined = tmp_path / 'combined.txt'
    _run(os.path.join(BIN, 'ansible-builder'), 'introspect', '--user-pip', str(build / 'requirements.txt'),
         '--exclude-pip-reqs', str(build / 'exclude-requirements.txt'), '--write-pip', str(combined), str(colls))
    requirements = combined.read_text()
    print('combined Python requirements:\n' + requirements)
    assert 'aiobotocore' not in requirements
    # This collection's floors reach other EE builds through meta/execution-environment.yml.
    assert 'boto3>=%s  # from collection claude_fleet.bedrock' % MATRIX['oldest']['boto3'] in requirements
    assert 'boto3==%s  # from collection user' % NEWEST['boto3'] in requirements

    # Resolve them with the pinned ansible-core, as the image's pip would (same Python: 3.13).
    core = yaml.safe_load((work / 'execution-environment.yml').read_text())['dependencies']['ansible_core']['package_pip']
    report = tmp_path / 'report.json'
    _run(sys.executable, '-m', 'pip', 'install', '--dry-run', '--quiet', '--ignore-installed', '--disable-pip-version-check',
         '--report', str(report), '-r', str(combined), core)
    resolved = {item['metadata']['name'].lower(): item['metadata']['version'] for item in json.loads(report.read_text())['install']}
    print('resolved: ' + ', '.join('%s %s' % (n, resolved[n]) for n in ('ansible-core', 'boto3', 'botocore')))
    print('collections: ' + ', '.join('%s %s' % (n, NEWEST[n]) for n in ('amazon.aws', 'community.general')))
    assert (resolved['ansible-core'], resolved['boto3'], resolved['botocore']) == (NEWEST['ansible_core'], NEWEST['boto3'], NEWEST['botocore'])
