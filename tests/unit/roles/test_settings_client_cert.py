# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The client certificate and key the settings role hands to home_file, rendered by Ansible's own templating
from the task in roles/settings/tasks/network.yml: the configured PEM with one real final newline, a pair
OpenSSL (as Node) loads. A folded-block Jinja '\\n' once wrote a backslash and an n instead, and every
user's claude -p hung against an mTLS endpoint."""

from __future__ import annotations

import os
import ssl

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from bedrock_emulator.testing_pki import make_pki

ROLE = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'settings')
LOADER = DataLoader()
TASKS = LOADER.load_from_file(os.path.join(ROLE, 'tasks', 'network.yml'), trusted_as_template=True)
(WRITE,) = [task for task in TASKS if 'claude_fleet.bedrock.home_file' in task and task['claude_fleet.bedrock.home_file'].get('content')]


@pytest.fixture(scope='module')
def pki(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('pki')
    make_pki(str(tmp))
    return tmp


def content(item_path, **variables):
    """What the task passes as home_file's content for one loop item (a user and a path)."""
    values = {'settings_client_cert_file': '.claude/client-cert.pem', 'settings_client_key_file': '.claude/client-key.pem',
              '_settings_has_client_cert': True, 'item': [{'name': 'alice', 'home': '/home/alice'}, item_path]}
    values.update(variables)
    templar = Templar(loader=LOADER, variables=values)
    task_vars = {name: templar.template(value) for name, value in WRITE['vars'].items()}
    return Templar(loader=LOADER, variables=dict(values, **task_vars)).template(
        trust_as_template(WRITE['claude_fleet.bedrock.home_file']['content']))


@pytest.mark.parametrize('given', ['path', 'text', 'text-with-blank-lines'])
def test_the_certificate_and_key_are_the_configured_pem_with_a_real_final_newline(tmp_path, pki, given):
    cert = (pki / 'client.pem').read_text()
    key = (pki / 'client.key').read_text()
    if given == 'path':
        options = {'settings_client_cert': str(pki / 'client.pem'), 'settings_client_key': str(pki / 'client.key')}
    else:
        pad = '\n\n' if given == 'text-with-blank-lines' else ''
        options = {'settings_client_cert': pad + cert + pad, 'settings_client_key': key.strip()}
    written_cert = content('.claude/client-cert.pem', **options)
    written_key = content('.claude/client-key.pem', **options)
    assert written_cert == cert.strip() + '\n'
    assert written_key == key.strip() + '\n'
    (tmp_path / 'cert.pem').write_text(written_cert)
    (tmp_path / 'key.pem').write_text(written_key)
    ssl.create_default_context().load_cert_chain(str(tmp_path / 'cert.pem'), str(tmp_path / 'key.pem'))
