# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for the converge_fingerprint lookup: what changes the digest and what does not."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleError

from ansible_collections.claude_fleet.bedrock.plugins.lookup import converge_fingerprint as fp


def test_the_digest_follows_values_extra_data_and_the_collection():
    base = fp.fingerprint({'settings_model': 'a'}, extra={'node_index': 'x'}, collection='c1')
    assert base == fp.fingerprint({'settings_model': 'a'}, extra={'node_index': 'x'}, collection='c1')
    assert base != fp.fingerprint({'settings_model': 'b'}, extra={'node_index': 'x'}, collection='c1')
    assert base != fp.fingerprint({'settings_model': 'a'}, extra={'node_index': 'y'}, collection='c1')
    assert base != fp.fingerprint({'settings_model': 'a'}, extra={'node_index': 'x'}, collection='c2')
    assert base != fp.fingerprint({'settings_model': 'a', 'settings_new': ''}, extra={'node_index': 'x'}, collection='c1')


def test_controller_files_named_by_values_are_part_of_the_digest(tmp_path):
    ca = tmp_path / 'ca.pem'
    ca.write_text('-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n')
    values = {'claude_fleet_network_ca_certificates': [str(ca)], 'nodejs_tarball_install_dir': '/opt/nodejs'}
    assert list(fp.controller_files(values)) == [str(ca)], 'directories and missing paths are not hashed'
    before = fp.fingerprint(values)
    ca.write_text('-----BEGIN CERTIFICATE-----\nB\n-----END CERTIFICATE-----\n')
    assert fp.fingerprint(values) != before


def test_the_collection_digest_covers_roles_and_plugins_but_not_caches(tmp_path):
    (tmp_path / 'roles' / 'x' / 'tasks').mkdir(parents=True)
    (tmp_path / 'roles' / 'x' / 'tasks' / 'main.yml').write_text('---\n')
    (tmp_path / 'plugins' / '__pycache__').mkdir(parents=True)
    before = fp.collection_digest(str(tmp_path))
    (tmp_path / 'plugins' / '__pycache__' / 'm.pyc').write_bytes(b'\0')
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'docs' / 'x.md').write_text('x')
    assert fp.collection_digest(str(tmp_path)) == before
    (tmp_path / 'roles' / 'x' / 'tasks' / 'main.yml').write_text('---\n- name: new\n')
    assert fp.collection_digest(str(tmp_path)) != before


class _Templar:
    """Templates '{{ x }}' from the variables; anything naming 'ansible_facts' is undefined, as before facts are gathered."""

    def __init__(self, variables):
        self.variables = variables

    def template(self, value):
        if isinstance(value, str) and 'ansible_facts' in value:
            raise AnsibleError("'ansible_facts' is undefined")
        if isinstance(value, str) and value.startswith('{{ ') and value.endswith(' }}'):
            return self.variables[value[3:-3]]
        return value


def run_lookup(variables, *prefixes, **kwargs):
    """The plugin's run() with its options given directly (the plugin loader is not set up in unit tests)."""
    lookup = fp.LookupModule()
    lookup._templar = _Templar(variables)
    options = {'exclude': kwargs.get('exclude', []), 'extra': kwargs.get('extra')}
    lookup.set_options = lambda var_options=None, direct=None: None
    lookup.get_option = options.__getitem__
    return lookup.run(list(prefixes), variables=variables, **kwargs)[0]


def test_the_lookup_selects_variables_by_prefix_and_exclusion():
    variables = {'settings_model': 'a', 'claude_fleet_bedrock_model': 'a', 'unrelated': 1, 'settings_managed_paths': ['/x']}
    digest = run_lookup(variables, 'settings_', exclude=['_managed_paths$'])
    assert digest == run_lookup(dict(variables, unrelated=2, settings_managed_paths=['/y']), 'settings_', exclude=['_managed_paths$'])
    assert digest != run_lookup(dict(variables, settings_model='b'), 'settings_', exclude=['_managed_paths$'])


def test_a_variable_that_needs_facts_contributes_its_template_text():
    variables = {'claude_code_awscli_bundle_url': "https://x/awscli-{{ ansible_facts['architecture'] }}.zip"}
    digest = run_lookup(variables, 'claude_code_')
    changed = {'claude_code_awscli_bundle_url': "https://y/awscli-{{ ansible_facts['architecture'] }}.zip"}
    assert digest != run_lookup(changed, 'claude_code_')


def test_templated_values_are_compared_not_their_templates():
    variables = {'settings_model': '{{ claude_fleet_bedrock_model }}', 'claude_fleet_bedrock_model': 'a'}
    assert run_lookup(variables, 'settings_') != run_lookup(dict(variables, claude_fleet_bedrock_model='b'), 'settings_')


def test_bad_arguments_are_named():
    with pytest.raises(AnsibleError, match='at least one variable name prefix'):
        run_lookup({})
    with pytest.raises(AnsibleError, match='invalid regular expression'):
        run_lookup({}, 'x_', exclude=['('])
