# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Digest of everything on the controller that decides what a converge writes to a host."""
from __future__ import annotations

DOCUMENTATION = r"""
name: converge_fingerprint
short_description: Digest of a converge's inputs, for the fast no-op path of setup.yml
version_added: 0.1.0
description:
  - Returns one SHA-256 digest (hex) of
    the values of every variable of the host whose name starts with one of the given prefixes (role
    defaults, inventory, group and host variables, extra variables), templated;
    the content of every controller file those values name by absolute path (CA bundles, certificates,
    tarballs);
    the content of this collection's roles and plugins, so that upgrading the collection re-converges;
    and O(extra), for inputs resolved at run time (a floating Node.js release index, the registry's
    C(latest) release).
  - A variable that cannot be templated yet (it needs facts that are not gathered) contributes its
    template text instead, which still changes whenever the variable is changed.
  - The digest depends on secret values; treat it as sensitive (C(no_log)) and store it only where the
    secrets themselves could be read.
options:
  _terms:
    description: Prefixes of the variable names to include, for example V(nodejs_), V(settings_).
    type: list
    elements: str
    required: true
  exclude:
    description: Regular expressions; variables whose name matches one are left out (outputs of the run, report options).
    type: list
    elements: str
    default: []
  extra:
    description: Further data to include, for example run-time resolutions of floating versions.
    type: raw
    default: null
"""

EXAMPLES = r"""
- name: Fingerprint the inputs of the workstation roles
  ansible.builtin.set_fact:
    _fingerprint: "{{ lookup('claude_fleet.bedrock.converge_fingerprint', 'nodejs_', 'claude_code_', 'settings_',
                             exclude=['_installed_version$']) }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: One hex SHA-256 digest.
  type: list
  elements: str
"""

import hashlib
import json
import os
import re

from ansible.errors import AnsibleError
from ansible.plugins.lookup import LookupBase

_FILE_LIMIT = 64 * 1024 * 1024
# What of the collection changes what a converge writes; not docs, tests or the changelog.
_COLLECTION_PARTS = ('roles', 'plugins', 'playbooks', 'meta')


def _file_digest(path):
    sha = hashlib.sha256()
    with open(path, 'rb') as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b''):
            sha.update(block)
    return sha.hexdigest()


def collection_digest(root):
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


def controller_files(value, found=None):
    """Digests of the regular controller files named by absolute path anywhere in value."""
    found = {} if found is None else found
    if isinstance(value, dict):
        for item in value.values():
            controller_files(item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            controller_files(item, found)
    elif isinstance(value, str) and value.startswith('/') and '\n' not in value and len(value) < 4096 and value not in found:
        try:
            if os.path.isfile(value) and os.path.getsize(value) <= _FILE_LIMIT:
                found[value] = _file_digest(value)
        except OSError:
            pass
    return found


def fingerprint(values, extra=None, collection=''):
    """The digest of templated variable values, the controller files they name, extra data and the collection."""
    document = {'variables': values, 'files': controller_files(values), 'extra': extra, 'collection': collection}
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=repr).encode('utf-8')).hexdigest()


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        prefixes = tuple(str(term) for term in terms)
        if not prefixes:
            raise AnsibleError('converge_fingerprint needs at least one variable name prefix')
        try:
            excluded = [re.compile(pattern) for pattern in self.get_option('exclude')]
        except re.error as exc:
            raise AnsibleError('converge_fingerprint: exclude holds an invalid regular expression: %s' % exc)
        variables = variables or {}
        values = {}
        for name in sorted(n for n in variables if n.startswith(prefixes) and not any(x.search(n) for x in excluded)):
            try:
                values[name] = self._templar.template(variables[name])
            except AnsibleError:
                # Needs facts not gathered yet: its template text still changes when the variable does.
                values[name] = {'untemplated': repr(variables[name])}
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        return [fingerprint(values, self.get_option('extra'), collection_digest(root))]
