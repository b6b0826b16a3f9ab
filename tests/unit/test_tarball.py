# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built collection tarball holds only the collection's own content.

It is built from this checkout as it is (after lint, tests and builds have left .ansible/, .hypothesis/,
virtualenvs and .build/ behind): every member must be a file git tracks, under the collection's own
top-level paths, and none of the test and development trees.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tarfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
BIN = os.path.dirname(sys.executable)
# What a user of the collection gets: content, its metadata and docs, the requirement files EE builds read.
SHIPPED = {'MANIFEST.json', 'FILES.json', 'README.md', 'LICENSE', 'meta', 'plugins', 'roles', 'playbooks', 'docs',
           'changelogs', 'requirements.txt', 'requirements.yml', 'execution-environment.yml', '.ansible-lint',
           '.ansible-lint-ignore', '.yamllint'}
NEVER = ('tests/', 'extensions/molecule/', 'bench/', 'requirements/', 'docs/dev/', '.ansible/', '.hypothesis/', '.build/',
         '.venv')


def test_tarball_holds_only_tracked_collection_content(tmp_path):
    version = yaml.safe_load(open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8'))['version']
    subprocess.run([os.path.join(BIN, 'ansible-galaxy'), 'collection', 'build', '--force', '--output-path', str(tmp_path)],
                   cwd=ROOT, check=True, capture_output=True)
    tracked = set(subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, check=True, capture_output=True,
                                 text=True).stdout.split('\0'))
    with tarfile.open(tmp_path / ('claude_fleet-bedrock-%s.tar.gz' % version)) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    print('%d entries' % len(names))
    assert {'MANIFEST.json', 'FILES.json', 'meta/runtime.yml', 'plugins/modules/claude_settings.py'} <= set(names)
    outside = [n for n in names if n.split('/')[0] not in SHIPPED]
    assert not outside, outside
    untracked = [m.name for m in members if m.isfile() and m.name not in ('MANIFEST.json', 'FILES.json') and m.name not in tracked]
    assert not untracked, untracked
    dev = [n for n in names if any(n == p.rstrip('/') or n.startswith(p) for p in NEVER)]
    assert not dev, dev
