# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast path's controller side: role contracts, what the fingerprint covers, and the digest itself.

The contract tests read the collection's own setup.yml and roles: they fail when a role the playbook
uses has no contract (meta/fast_path.yml), or when an option of any role's argument spec changes no
fingerprint and is not declared as not affecting the converge.
"""

from __future__ import annotations

import os

import pytest
import yaml

from ansible_collections.claude_fleet.bedrock.plugins.plugin_utils import fast_path as fp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
SETUP = os.path.join(ROOT, 'playbooks', 'setup.yml')


def _roles_in(tasks):
    """Role names a task list includes or imports, blocks included."""
    for task in tasks or []:
        for key in ('block', 'rescue', 'always'):
            yield from _roles_in(task.get(key))
        for action in ('ansible.builtin.include_role', 'ansible.builtin.import_role', 'include_role', 'import_role'):
            if action in task:
                yield task[action]['name']


def plays(path=SETUP):
    """(play name, roles of the play in the order Ansible knows them) for each play of a playbook."""
    with open(path, encoding='utf-8') as handle:
        book = yaml.safe_load(handle)
    out = []
    for play in book:
        names = [r['role'] if isinstance(r, dict) else r for r in play.get('roles') or []]
        for section in ('pre_tasks', 'tasks', 'post_tasks', 'handlers'):
            names += list(_roles_in(play.get(section)))
        out.append((play['name'], names))
    return out


def converge_play(path=SETUP):
    """The play of setup.yml that runs the fast path."""
    with open(path, encoding='utf-8') as handle:
        book = yaml.safe_load(handle)
    converge = [play for play in book if 'claude_fleet.bedrock._stamp' in list(_roles_in(play.get('pre_tasks')))]
    assert len(converge) == 1, 'setup.yml has one play that runs the fast path'
    return converge[0]


def converge_contracts():
    """The contracts of the roles the fast path fingerprints (the play's _stamp_roles)."""
    return fp.play_contracts(converge_play()['vars']['_stamp_roles'])


def _role_tags(name):
    """Every tag of a role's tasks and handlers, but always."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            tags = value.get('tags') or []
            found.update([tags] if isinstance(tags, str) else tags)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
    directory = fp.role_dir(name)
    for sub in ('tasks', 'handlers'):
        for entry in sorted(os.listdir(os.path.join(directory, sub))) if os.path.isdir(os.path.join(directory, sub)) else []:
            with open(os.path.join(directory, sub, entry), encoding='utf-8') as handle:
                walk(yaml.safe_load(handle))
    return found - {'always'}


def test_setup_yml_fingerprints_exactly_the_roles_its_converge_play_includes():
    """The roles are included after the fast path (not listed under roles:), so the play names them for the stamp."""
    play = converge_play()
    assert 'roles' not in play, 'a listed role is loaded on every run, no-ops too'
    included = [task['ansible.builtin.include_role']['name'] for task in play['tasks']
                if 'ansible.builtin.include_role' in task]
    assert included and play['vars']['_stamp_roles'] == included
    assert all(c['writes'] for c in fp.play_contracts(included))


def test_each_converge_include_selects_its_role_by_any_of_its_tags():
    """--tags and --skip-tags work on an included role as on a listed one: the include carries the role's name and
    every tag of its tasks, and applies the name to them."""
    for task in converge_play()['tasks']:
        include = task['ansible.builtin.include_role']
        short = include['name'].rsplit('.', 1)[-1]
        assert include.get('public') is True, '%s: the report and the stamp read its variables' % short
        assert include['apply']['tags'] == [short]
        assert short in task['tags']
        missing = _role_tags(include['name']) - set(task['tags'])
        assert missing == set(), '%s: tags of its tasks the include does not carry: %s' % (short, sorted(missing))


def test_the_roles_own_variables_are_in_scope_as_in_a_play_that_lists_them():
    """Defaults lose to every variable; vars/main.yml win over all but extra variables."""
    contracts = [{'defaults': {'a': 'default-a', 'b': 'default-b'}, 'vars': {'_v': 'role-v', '_w': 'role-w'}},
                 {'defaults': {'c': 'default-c'}, 'vars': {}}]
    scope = fp.play_scope(contracts, {'a': 'inventory-a', '_v': 'inventory-v', '_w': 'extra-w', 'x': 1}, extra={'_w': 'extra-w'})
    assert scope == {'a': 'inventory-a', 'b': 'default-b', 'c': 'default-c', '_v': 'role-v', '_w': 'extra-w', 'x': 1}


def test_the_contract_of_a_real_role_carries_its_defaults_and_vars():
    contract = fp.load_contract('claude_fleet.bedrock.settings')
    assert contract['defaults']['settings_model'] == fp._load_yaml(os.path.join(fp.role_dir('settings'), 'defaults', 'main.yml'))['settings_model']
    assert '_settings_pins_alone' in contract['vars']


def test_role_variables_that_are_not_a_mapping_are_refused(tmp_path):
    role = tmp_path / 'roles' / 'odd'
    (role / 'meta').mkdir(parents=True)
    (role / 'meta' / 'fast_path.yml').write_text('writes: true\n')
    (role / 'vars').mkdir()
    (role / 'vars' / 'main.yml').write_text('- a list\n')
    with pytest.raises(fp.ContractError, match='vars/main.yml must be a mapping'):
        fp.load_contract('odd', root=str(tmp_path))


def digest(contracts, variables, pins_alone=False):
    return fp.fingerprint(fp.input_values(contracts, variables, lambda v: v, pins_alone))


def test_every_role_setup_yml_uses_has_a_contract():
    roles = sorted({name for _play, names in plays() for name in names})
    assert 'claude_fleet.bedrock.settings' in roles and 'claude_fleet.bedrock._smoke' in roles
    missing, problems = [], []
    for name in roles:
        try:
            problems += fp.contract_problems(fp.load_contract(name))
        except fp.ContractError as exc:
            missing.append(str(exc))
    assert missing == [], 'roles of setup.yml without a fast-path contract: %s' % missing
    assert problems == [], problems


def test_every_option_of_every_role_is_fingerprinted_or_declared_unaffected():
    contracts = converge_contracts()
    roles = sorted({name for _play, names in plays() for name in names})
    options = {name: fp.load_contract(name) for name in roles}
    variables = {o: 'value-of-%s' % o for c in options.values() for o in c['options']}
    for pins_alone in (False, True):
        base = digest(contracts, variables, pins_alone)
        undeclared = []
        for contract in options.values():
            for option in sorted(contract['options']):
                declared = option in contract['unaffected'] or (pins_alone and option in contract['pin_options'])
                changes = digest(contracts, dict(variables, **{option: 'changed'}), pins_alone) != base
                if not changes and not declared:
                    undeclared.append('%s: %s' % (contract['name'], option))
                if declared and option in contract['unaffected']:
                    assert not changes, '%s is declared unaffected yet fingerprinted' % option
        assert undeclared == [], ('options that change no fingerprint and are not declared unaffected in their role\'s '
                                  'meta/fast_path.yml (pins_alone=%s): %s' % (pins_alone, undeclared))


def test_a_new_option_of_a_writing_role_is_fingerprinted_without_a_list(tmp_path):
    role = tmp_path / 'roles' / 'newrole'
    (role / 'meta').mkdir(parents=True)
    (role / 'meta' / 'argument_specs.yml').write_text(yaml.safe_dump(
        {'argument_specs': {'main': {'options': {'newrole_a': {'type': 'str'}, 'newrole_b': {'type': 'str'}}}}}))
    (role / 'meta' / 'fast_path.yml').write_text('writes: true\nunaffected:\n  newrole_b: only a timeout\n')
    contracts = fp.play_contracts(['claude_fleet.bedrock.newrole'], root=str(tmp_path))
    assert fp.fingerprinted(contracts) == ['newrole_a']
    base = digest(contracts, {'newrole_a': '1', 'newrole_b': '1', 'other': '1'})
    assert digest(contracts, {'newrole_a': '2', 'newrole_b': '1', 'other': '1'}) != base
    assert digest(contracts, {'newrole_a': '1', 'newrole_b': '2', 'other': '2'}) == base


def test_a_role_without_a_contract_or_from_elsewhere_is_refused(tmp_path):
    (tmp_path / 'roles' / 'bare' / 'meta').mkdir(parents=True)
    with pytest.raises(fp.ContractError, match='bare has no meta/fast_path.yml'):
        fp.play_contracts(['claude_fleet.bedrock.bare'], root=str(tmp_path))
    with pytest.raises(fp.ContractError, match="not one of this collection's roles"):
        fp.play_contracts(['community.general.someone'], root=str(tmp_path))
    (tmp_path / 'roles' / 'bare' / 'meta' / 'fast_path.yml').write_text('unaffected: {}\n')
    with pytest.raises(fp.ContractError, match='writes: true or false'):
        fp.play_contracts(['bare'], root=str(tmp_path))


def test_a_stale_declaration_is_reported(tmp_path):
    role = tmp_path / 'roles' / 'r'
    (role / 'meta').mkdir(parents=True)
    (role / 'meta' / 'argument_specs.yml').write_text('argument_specs: {main: {options: {r_a: {type: str}}}}\n')
    (role / 'meta' / 'fast_path.yml').write_text('writes: true\nunaffected: {r_gone: renamed}\n')
    assert fp.contract_problems(fp.load_contract('r', root=str(tmp_path))) == [
        'r: meta/fast_path.yml declares r_gone, which is not an option of its argument spec']


def test_the_pins_leave_the_fingerprint_only_when_they_have_their_own_path():
    contracts = converge_contracts()
    names = set(fp.fingerprinted(contracts))
    alone = set(fp.fingerprinted(contracts, pins_alone=True))
    assert 'settings_model' in names and 'settings_model' not in alone
    assert names - alone == {'settings_model', 'settings_opus_model', 'settings_sonnet_model', 'settings_haiku_model',
                             'settings_fable_model', 'settings_small_fast_model'}
    assert [set(p) for p in fp.pins_declarations(contracts)] == [{'options', 'values', 'alone'}]


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


def test_the_record_step_takes_the_files_as_the_converge_left_them(tmp_path):
    # Under ansible-pull the controller is the workstation: claude_code_npmrc_path names the file the
    # claude_code role writes, absent when the run starts. The stamp must hold the fingerprint the next
    # run computes, so the record step digests the named files again after the roles.
    npmrc = tmp_path / 'npmrc'
    values = {'claude_code_npmrc_path': str(npmrc), 'nodejs_tarball_install_dir': str(tmp_path)}
    inputs, paths = fp.inputs_digest(values, collection='c1'), fp.controller_paths(values)
    assert paths == [str(npmrc), str(tmp_path)]
    at_check = fp.combine(inputs, fp.file_digests(paths))
    npmrc.write_text('registry=http://127.0.0.1:9/\n')
    at_record = fp.combine(inputs, fp.file_digests(paths))
    assert at_record != at_check
    assert at_record == fp.fingerprint(values, collection='c1'), 'the next run finds what the record step stored'


@pytest.mark.parametrize('text, names, paths, rendered, shared', [
    ("{{ a | combine(b) }}", ['a', 'b'], [], False, True),
    ("{{ lookup('ansible.builtin.file', '/etc/corp-ca.pem') ~ c }}", ['c'], ['/etc/corp-ca.pem'], False, True),
    ("{{ lookup('ansible.builtin.env', 'HOME') }}/.cache", [], [], True, True),
    ("{{ lookup('ansible.builtin.pipe', 'date') }}", [], [], True, False),
    ("{{ query('file', x) }}", ['x'], [], False, True),
    ("{{ now() }}", [], [], True, False),
    ("{{ [1, 2] | shuffle }}", [], [], True, False),
    ("{{ ansible_facts['architecture'] }}", ['ansible_facts'], [], True, True),
    ("{{ hostvars[inventory_hostname].x }}", ['hostvars', 'inventory_hostname'], [], True, False),
    ("{% for i in items %}{{ i }}{{ omit }}{% endfor %}", ['items'], [], False, True),
    ("{{ a ", [], [], True, False),
])
def test_a_template_is_known_by_the_variables_it_reads(text, names, paths, rendered, shared):
    assert fp.template_references(text) == (names, paths, rendered, shared)


def test_the_closure_follows_templates_to_the_values_they_are_made_of():
    variables = {'settings_model': '{{ claude_fleet_bedrock_model | default(_fallback) }}', 'claude_fleet_bedrock_model': 'us.a',
                 '_fallback': "{{ lookup('ansible.builtin.file', '/srv/model.txt') }}", 'unrelated': 'x',
                 'settings_paths': "{{ ansible_facts | default({}) | claude_fleet.bedrock.claude_code_paths }}", 'ansible_facts': {}}
    refs = fp.References()
    raw, rendered, paths, shared = fp.closure(['settings_model', 'settings_paths', 'settings_absent'], variables, refs)
    # The facts are not digested raw (a fact cache, or the fast path's own fact, changes them): settings_paths is rendered.
    assert sorted(raw) == ['_fallback', 'claude_fleet_bedrock_model', 'settings_model', 'settings_paths']
    assert rendered == ['settings_paths'] and paths == ['/srv/model.txt'] and shared is True
    assert refs.added and len(refs.known) == 3
    # Known references are reused (the run's workers share them), not parsed again.
    again = fp.References(refs.known)
    assert fp.closure(['settings_model'], variables, again)[0]['claude_fleet_bedrock_model'] == 'us.a' and not again.added
    # OWN comes first: a contract template is walked as if it were a variable.
    raw, _r, _p, _s = fp.closure(['__c__'], variables, refs, own={'__c__': '{{ unrelated }}', 'unrelated': 'y'})
    assert raw == {'__c__': '{{ unrelated }}', 'unrelated': 'y'}


def test_equal_values_digest_equally_and_a_change_deep_in_a_template_does_not():
    def raw_of(model, host):
        variables = {'settings_model': '{{ claude_fleet_bedrock_model }}', 'claude_fleet_bedrock_model': model,
                     'inventory_hostname': host, 'ansible_host': '127.0.0.%s' % host[-1]}
        return fp.raw_digest(fp.closure(['settings_model'], variables, fp.References())[0])
    assert raw_of('us.a', 'ws1') == raw_of('us.a', 'ws2'), 'host names no template reads do not matter'
    assert raw_of('us.a', 'ws1') != raw_of('us.b', 'ws1'), 'a value read through a template does'


def test_a_value_json_cannot_hold_digests_as_its_text():
    class Vaulted:  # what a vault-encrypted inventory value looks like to the digest
        def __init__(self, plain):
            self.plain = plain

        def __str__(self):
            return self.plain
    assert fp.raw_digest({'k': Vaulted('s3cret-1')}) != fp.raw_digest({'k': Vaulted('s3cret-2')})


def test_keys_json_cannot_sort_still_digest_and_tell_values_apart():
    assert fp.raw_digest({'m': {1: 'a', 'b': 2}}) == fp.raw_digest({'m': {'b': 2, 1: 'a'}})
    assert fp.raw_digest({'m': {1: 'a', 'b': 2}}) != fp.raw_digest({'m': {'1': 'a', 'b': 2}})
    assert fp.raw_digest({'m': {1: 'a', 'b': 2}}) != fp.raw_digest({'m': {1: 'a', 'b': 3}})


def test_a_view_of_every_host_is_never_digested_raw():
    # hostvars holds the other hosts' facts, the fast path's own decision among them: a host checked after the
    # first ones would otherwise digest differently (100 seeded clones: the first 31 current, the rest not).
    class HostVars:
        def __init__(self, facts):
            self.facts = facts

        def __str__(self):
            return str(self.facts)
    variables = {'settings_x': "{{ hostvars[inventory_hostname].x | default('a') }}", 'inventory_hostname': 'ws1'}
    before = fp.closure(['settings_x'], dict(variables, hostvars=HostVars({})), fp.References())
    after = fp.closure(['settings_x'], dict(variables, hostvars=HostVars({'ws2': {'claude_fleet_stamp': 1}})), fp.References())
    assert 'hostvars' not in before[0] and before[1] == ['settings_x']
    assert fp.raw_digest(before[0]) == fp.raw_digest(after[0])
