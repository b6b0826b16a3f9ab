# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""execution-environment.yml produces an ansible-builder context that installs this collection."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)


def test_ansible_builder_create(tmp_path):
    work = tmp_path / 'ee'
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns('.venv', '.build', '.cache', '.git', 'tests', 'molecule', 'bench'))
    version = yaml.safe_load((work / 'galaxy.yml').read_text())['version']
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(work / '.build' / 'dist')],
                   cwd=work, check=True, capture_output=True)
    subprocess.run([os.path.join(BIN, 'ansible-builder'), 'create', '-f', 'execution-environment.yml', '-c', str(tmp_path / 'ctx')],
                   cwd=work, check=True, capture_output=True)
    ctx = tmp_path / 'ctx'
    requirements = yaml.safe_load((ctx / '_build' / 'requirements.yml').read_text())
    names = [c['name'] for c in requirements['collections']]
    assert 'galaxy/claude_fleet-bedrock-%s.tar.gz' % version in names
    assert {'amazon.aws', 'community.general'} <= set(names)
    assert (ctx / '_build' / 'galaxy' / ('claude_fleet-bedrock-%s.tar.gz' % version)).is_file()
    assert 'boto3' in (ctx / '_build' / 'requirements.txt').read_text()
    assert 'ansible-galaxy collection install' in (ctx / 'Dockerfile').read_text()
