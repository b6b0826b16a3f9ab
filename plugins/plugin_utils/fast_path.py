# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of the fast path of setup.yml (docs/fast-path.md): role contracts and the fingerprint.

Each role the setup playbook uses declares its contract with the fast path in meta/fast_path.yml:

    writes: true            # the role writes files on the workstation (false: it only checks or reports)
    unaffected:             # options of meta/argument_specs.yml that do not change what it writes, with why
      nodejs_download_timeout: how long a download may take, not what it installs
    inputs: [ansible_user]  # variables it reads besides its options
    pins:                   # settings only: model pins a change of which model_pins can apply alone
      options: [settings_model, ...]       # the options the pins come from (left out of the fingerprint...)
      values: "{{ ... }}"                  # environment name -> value, as the role writes them
      alone: "{{ ... }}"                   # ...while this holds: the role writes them only where model_pins does
    resolve:                # floating inputs, resolved once per run on the controller and fingerprinted
      - url: "{{ ... }}"                   # the content of a URL ('' for none)
      - file: "{{ ... }}"                  # the content of a controller file ('' for none)
      - command: [argv...]                 # the output of a controller command (with environment, when)

Every option of a writing role's argument spec is fingerprinted unless it is declared unaffected, so a
new option is picked up without a list to keep. A role that writes files also publishes, next to its
tasks, the fact <role>_fast_path_contract: {paths: [...], pin_files: [...]} that the stamp records.
"""
from __future__ import annotations

import hashlib
import json
import os

import jinja2
import yaml
from ansible.utils.vars import combine_vars
from jinja2 import meta, nodes

CONTRACT_FILE = os.path.join('meta', 'fast_path.yml')
SPEC_FILE = os.path.join('meta', 'argument_specs.yml')
COLLECTION_PREFIX = 'claude_fleet.bedrock.'
_FILE_LIMIT = 64 * 1024 * 1024
# What of the collection changes what a converge writes; not docs, tests or the changelog.
_COLLECTION_PARTS = ('roles', 'plugins', 'playbooks', 'meta')
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class ContractError(Exception):
    """A role of the play has no usable fast-path contract."""


def role_dir(name, root=COLLECTION_ROOT):
    """The directory of one of this collection's roles, from its FQCN or short name; None for other roles."""
    short = name[len(COLLECTION_PREFIX):] if name.startswith(COLLECTION_PREFIX) else name
    if '.' in short or '/' in short:
        return None
    path = os.path.join(root, 'roles', short)
    return path if os.path.isdir(path) else None


# libyaml's parser when PyYAML has it: the settings role's argument spec alone takes the pure-Python one ~0.3 s.
_LOADER = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)


def _load_yaml(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.load(handle, Loader=_LOADER) or {}  # a safe loader, C or Python


def spec_options(path):
    """Every option name of every entry point of a role's argument spec."""
    try:
        specs = _load_yaml(os.path.join(path, SPEC_FILE)).get('argument_specs') or {}
    except FileNotFoundError:
        return set()
    return {name for entry in specs.values() for name in ((entry or {}).get('options') or {})}


def load_contract(name, root=COLLECTION_ROOT):
    """A role's contract (meta/fast_path.yml) with its spec's options; raises ContractError when it has none."""
    path = role_dir(name, root)
    if path is None:
        raise ContractError('role %s is not one of this collection\'s roles: the fast path cannot tell what it '
                            'writes (set claude_fleet_fast_path: false to run it)' % name)
    try:
        data = _load_yaml(os.path.join(path, CONTRACT_FILE))
    except FileNotFoundError:
        raise ContractError('role %s has no %s: the fast path cannot tell what it writes' % (name, CONTRACT_FILE))
    except yaml.YAMLError as exc:
        raise ContractError('role %s: %s is not valid YAML: %s' % (name, CONTRACT_FILE, exc))
    if not isinstance(data, dict) or not isinstance(data.get('writes'), bool):
        raise ContractError('role %s: %s must be a mapping with writes: true or false' % (name, CONTRACT_FILE))
    pins = data.get('pins') or {}
    return {
        'name': os.path.basename(path),
        'writes': data['writes'],
        'options': spec_options(path),
        'unaffected': dict(data.get('unaffected') or {}),
        'inputs': list(data.get('inputs') or []),
        'pins': pins if pins.get('options') else None,
        'pin_options': list(pins.get('options') or []),
        'resolve': list(data.get('resolve') or []),
        # The role's own variables, for a play that includes the role only on hosts that converge (play_scope).
        'defaults': _role_vars(path, 'defaults'),
        'vars': _role_vars(path, 'vars'),
    }


def _role_vars(path, kind):
    """A role's defaults/main.yml or vars/main.yml (untemplated), {} when it has none."""
    try:
        data = _load_yaml(os.path.join(path, kind, 'main.yml'))
    except FileNotFoundError:
        return {}
    except yaml.YAMLError as exc:
        raise ContractError('role %s: %s/main.yml is not valid YAML: %s' % (os.path.basename(path), kind, exc))
    if not isinstance(data, dict):
        raise ContractError('role %s: %s/main.yml must be a mapping' % (os.path.basename(path), kind))
    return data


def play_scope(contracts, variables, extra=()):
    """VARIABLES as a task of a play that lists the contracts' roles under roles: would see them.

    setup.yml includes its converge roles after the fast path has ended the play for the hosts that are current, so
    a no-op never loads them; the fast path still renders their contracts with their variables. As in a play that
    lists them: each role's defaults lose to every other variable, and its vars/main.yml win over all but the extra
    variables (EXTRA, their names); set_fact and include parameters are left out, as no task sets a role's vars."""
    scope = {}
    for contract in contracts:  # combine_vars: as Ansible layers them (hash_behaviour too)
        scope = combine_vars(scope, contract.get('defaults') or {})
    scope = combine_vars(scope, variables)
    for contract in contracts:
        scope = combine_vars(scope, {name: value for name, value in (contract.get('vars') or {}).items() if name not in extra})
    return scope


def contract_problems(contract):
    """Declarations that name no option of the role's spec (stale after an option was removed or renamed)."""
    stale = sorted(set(contract['unaffected']) - contract['options'])
    stale += sorted(set(contract['pin_options']) - contract['options'])
    return ['%s: %s declares %s, which is not an option of its argument spec' % (contract['name'], CONTRACT_FILE, n) for n in stale]


def play_contracts(role_names, root=COLLECTION_ROOT):
    """Contracts of the distinct roles of a play (FQCN or short names), in order."""
    seen, out = set(), []
    for name in role_names:
        contract = load_contract(name, root)
        if contract['name'] not in seen:
            seen.add(contract['name'])
            out.append(contract)
    return out


def fingerprinted(contracts, pins_alone=False):
    """Names of the variables whose values decide what the play's writing roles write."""
    names = set()
    for contract in contracts:
        if contract['writes']:
            names |= contract['options'] - set(contract['unaffected'])
            names |= set(contract['inputs'])
            if pins_alone:
                names -= set(contract['pin_options'])
    return sorted(names)


def input_values(contracts, variables, template, pins_alone=False):
    """The templated values of the fingerprinted variables that are defined (template: value -> value)."""
    return {name: template(variables[name]) for name in fingerprinted(contracts, pins_alone) if name in variables}


class _AnyName(dict):
    """Every filter and test name exists: templates are only parsed here, never run."""

    def __contains__(self, key):
        return True

    def __getitem__(self, key):
        return _never_called

    def get(self, key, default=None):
        return _never_called


def _never_called(*_args, **_kwargs):  # pragma: no cover - parsed templates are never rendered
    raise AssertionError('fast_path only parses templates')


_PARSER = jinja2.Environment(extensions=['jinja2.ext.do', 'jinja2.ext.loopcontrols'])
_PARSER.filters, _PARSER.tests = _AnyName(), _AnyName()
# What a template may do beyond its variables' values: such templates are rendered for real (below).
_CALLS = frozenset(('lookup', 'query', 'q', 'now'))
_FILE_LOOKUPS = frozenset(('file', 'ansible.builtin.file'))  # their paths are digested like any other
_IMPURE_FILTERS = frozenset(('random', 'shuffle', 'ansible.builtin.random', 'ansible.builtin.shuffle'))
# Whole-inventory views and the facts (a fact cache changes them on every run): a template naming one is rendered.
_RENDERED_NAMES = frozenset(('hostvars', 'vars', 'ansible_facts'))
# Views whose raw value is not their content: a template naming one is rendered for each host.
_PER_HOST_NAMES = frozenset(('hostvars', 'vars'))
# Lookups whose answer is the same for every host of a run (the controller's environment).
_RUN_LOOKUPS = frozenset(('env', 'ansible.builtin.env'))
# Differs on every run and is never part of what a role writes.
_CONSTANT_NAMES = frozenset(('omit',))


def is_template(value):
    return isinstance(value, str) and ('{{' in value or '{%' in value)


def _is_path(value):
    return isinstance(value, str) and value.startswith('/') and '\n' not in value and len(value) < 4096


def template_references(text):
    """(names, paths, rendered, shared) of one template: the variables it reads, the absolute paths it names, whether
    it must be rendered to know its value (a lookup, the time, randomness, the facts or a whole-inventory view), and
    whether hosts whose variables are equal render it equally within a run (not the time, randomness, a
    whole-inventory view or a lookup other than file and env)."""
    try:
        ast = _PARSER.parse(text)
        names = set(meta.find_undeclared_variables(ast))
    except jinja2.TemplateError:
        return [], [], True, False
    rendered, shared = bool(names & _RENDERED_NAMES), not names & _PER_HOST_NAMES
    for node in ast.find_all((nodes.Call, nodes.Filter)):
        if isinstance(node, nodes.Filter):
            if node.name in _IMPURE_FILTERS:
                rendered, shared = True, False
        elif isinstance(node.node, nodes.Name) and node.node.name in _CALLS:
            first = node.args[0].value if node.args and isinstance(node.args[0], nodes.Const) else None
            if node.node.name == 'now' or first not in _FILE_LOOKUPS:
                rendered = True
                shared = shared and node.node.name != 'now' and first in _RUN_LOOKUPS
    paths = [n.value for n in ast.find_all(nodes.Const) if _is_path(n.value)]
    return sorted(names - _CONSTANT_NAMES - set(_CALLS)), paths, rendered, shared


def _leaves(value):
    """The scalars of a value, through its mappings' values and its lists."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


def _templates_in(value, found):
    found.extend(str(leaf) for leaf in _leaves(value) if is_template(leaf))
    return found


class References:
    """template_references of each template text, kept by the digest of the text (shared by a run's workers)."""

    def __init__(self, known=None):
        self.known = dict(known or {})
        self.added = False

    def of(self, text):
        key = hashlib.sha256(text.encode('utf-8')).hexdigest()
        if key not in self.known:
            self.known[key] = list(template_references(text))
            self.added = True
        return self.known[key]


def closure(names, variables, references, own=None):
    """The values of NAMES and of every variable their templates read, transitively, as they are before templating.

    Returns (raw, rendered, paths, shared): raw maps each variable reached to its untemplated value (absent ones are
    left out; OWN's values come before VARIABLES'); rendered lists the variables whose value must be rendered
    (template_references); paths are the absolute paths named in templates; shared is false when a template reached
    renders differently per host even with equal values. Two hosts with equal raw values render equal values, so
    the fingerprint can be taken from raw values without rendering a template: what a value is made of is digested.
    """
    own = own or {}
    raw, rendered, paths, shared = {}, set(), [], True
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in raw or (name not in own and name not in variables):
            continue
        raw[name] = own[name] if name in own else variables[name]
        for text in _templates_in(raw[name], []):
            read, named, render, same = references.of(text)
            if render:
                rendered.add(name)
            shared = shared and same
            # Not the facts or a whole-inventory view themselves: what they are is not what the template takes
            # of them (hostvars holds every host's facts, the fast path's own among them); the value is rendered.
            stack.extend(n for n in read if n not in _RENDERED_NAMES)
            paths.extend(p for p in named if p not in paths)
    return raw, sorted(rendered), paths, shared


def _canonical(value):
    """VALUE with every mapping's keys as text, in order (YAML allows keys JSON cannot sort: 1 and 'a' together)."""
    if isinstance(value, dict):
        return [[repr(type(k).__name__) + ':' + str(k), _canonical(v)] for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))]
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def raw_digest(raw):
    """Digest of untemplated values (str() of what JSON cannot hold: a vault value digests as its plaintext)."""
    try:
        text = json.dumps(raw, sort_keys=True, default=str)
    except TypeError:
        text = json.dumps(_canonical(raw), default=str)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def pins_declarations(contracts):
    """The pins declarations ({options, values, alone} templates) of the play's writing roles."""
    return [c['pins'] for c in contracts if c['writes'] and c['pins']]


def _file_digest(path):
    sha = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b''):
            sha.update(block)
    return sha.hexdigest()


def collection_digest(root=COLLECTION_ROOT):
    """Digest of the collection's roles, plugins, playbooks and meta (paths and contents)."""
    sha = hashlib.sha256()
    for part in _COLLECTION_PARTS:
        for directory, subdirs, files in os.walk(os.path.join(root, part)):
            subdirs[:] = sorted(d for d in subdirs if d != '__pycache__')
            for name in sorted(files):
                if name.endswith(('.pyc', '.pyo')):
                    continue
                path = os.path.join(directory, name)
                sha.update(os.path.relpath(path, root).encode('utf-8') + b'\0')
                sha.update(_file_digest(path).encode('ascii'))
    return sha.hexdigest()


def controller_paths(value, found=None):
    """The absolute paths named anywhere in value (the controller files it may name), present or not."""
    found = [] if found is None else found
    for leaf in _leaves(value):
        if _is_path(leaf) and leaf not in found:
            found.append(leaf)
    return found


def file_digests(paths):
    """Digests of the regular files among paths (directories and missing paths are left out)."""
    found = {}
    for path in paths:
        try:
            if os.path.isfile(path) and os.path.getsize(path) <= _FILE_LIMIT:
                found[path] = _file_digest(path)
        except OSError:
            pass
    return found


def controller_files(value):
    """Digests of the regular controller files named by absolute path anywhere in value."""
    return file_digests(controller_paths(value))


def inputs_digest(values, extra=None, collection=''):
    """The digest of the templated variable values, extra data and the collection (no file content)."""
    document = {'variables': values, 'extra': extra, 'collection': collection}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=repr).encode('utf-8')).hexdigest()


def combine(inputs, files):
    """The fingerprint: the inputs' digest and the digests of the controller files they name.

    Kept apart so that the record step after the roles can take the files again: when the controller is
    the workstation (ansible-pull, or a controller in its own fleet), a file an option names may be one
    the converge itself writes or rebuilds (claude_code_npmrc_path, a CA bundle update-ca-certificates
    rebuilds), and the stamp must hold the state the converge left, not the one before it.
    """
    document = {'inputs': inputs, 'files': files}
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode('utf-8')).hexdigest()


def fingerprint(values, extra=None, collection=''):
    """The digest of templated variable values, the controller files they name, extra data and the collection."""
    return combine(inputs_digest(values, extra, collection), controller_files(values))
