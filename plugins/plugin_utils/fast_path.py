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

import yaml

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


def _load_yaml(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle) or {}


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
    }


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
    if isinstance(value, dict):
        for item in value.values():
            controller_paths(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            controller_paths(item, found)
    elif isinstance(value, str) and value.startswith('/') and '\n' not in value and len(value) < 4096 and value not in found:
        found.append(value)
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
