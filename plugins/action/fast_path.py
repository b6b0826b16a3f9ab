# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fast path of setup.yml in one task per host: fingerprint on the controller, one module call on the host."""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import ssl
import subprocess
import time
from urllib.error import HTTPError

from ansible import constants as C
from ansible.release import __version__ as ansible_version
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.module_utils.urls import Request
from ansible.utils.display import Display
from ansible.utils.vars import load_extra_vars

from ansible_collections.claude_fleet.bedrock.plugins.plugin_utils import fast_path as fp
from ansible_collections.claude_fleet.bedrock.plugins.plugin_utils.action import CheckedAction, write_atomic

try:  # ansible-core 2.19+ templates only strings it trusts; the contracts are this collection's own files.
    from ansible.template import trust_as_template
except ImportError:  # pragma: no cover - older ansible-core templates every string
    def trust_as_template(value):
        return value

display = Display()

_FACT = 'claude_fleet_stamp'


def _run_dir():
    """A directory private to this ansible-playbook run (its local tmp dir, shared by all workers)."""
    path = os.path.join(C.DEFAULT_LOCAL_TMP, 'claude_fleet_fast_path')
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _memo_path(host):
    return os.path.join(_run_dir(), 'host-%s.json' % to_text(host).replace('/', '_'))


def _trusted(value):
    """A contract's templates (loaded with yaml.safe_load), marked as templates Ansible may render."""
    if isinstance(value, dict):
        return {k: _trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trusted(v) for v in value]
    return trust_as_template(value) if isinstance(value, str) else value


def _fetch(url):
    """The body of URL (ansible-core's Request): a plain http:// URL without a TLS context, which costs nothing to make,
    unlike the default one (the system CAs: 0.06 s of every no-op's first host, while the others wait for it); a
    redirect is followed as for an https:// URL, with the default context."""
    if url.lower().startswith('http://'):
        try:
            return Request().open('GET', url, timeout=30, follow_redirects='none',
                                  context=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)).read()
        except HTTPError as exc:
            if not 300 <= exc.code < 400:
                raise
    return Request().open('GET', url, timeout=30, follow_redirects='safe').read()


class _Shared:
    """What the run's workers share, under a lock: the references of each template and contract templates rendered.

    The workers of one task run at once; the first renders, the others wait for it and reuse what it rendered
    instead of rendering the same templates again (2 cores, 30 workers: rendering per host was most of a no-op).
    The file is in the run's private directory and is removed with it; it holds no secret the run did not have.
    """

    def __init__(self):
        self._path = os.path.join(_run_dir(), 'shared.json')
        self._lock = None
        self.references, self.rendered, self.added = None, {}, False

    def __enter__(self):
        self._lock = os.open(self._path + '.lock', os.O_WRONLY | os.O_CREAT, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            with open(self._path, encoding='utf-8') as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            data = {}
        self.references = fp.References(data.get('references'))
        self.rendered = dict(data.get('rendered') or {})
        return self

    def __exit__(self, *exc):
        try:
            if self.added or self.references.added:
                tmp = '%s.%d' % (self._path, os.getpid())
                with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w', encoding='utf-8') as handle:
                    json.dump({'references': self.references.known, 'rendered': self.rendered}, handle, default=str)
                os.replace(tmp, self._path)
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
        return False


class _Kept:
    """Contract templates rendered by earlier runs (the model pins and whether they can be applied alone), on the
    controller (0600 in a 0700 directory), by the digest of what they read, the collection and ansible-core.

    Only templates that are a function of their variables' values are kept; the values are model ids and flags,
    never a secret. At most _KEEP entries, newest first; an unreadable file is an empty cache."""

    _KEEP = 64
    _KEEP_REFERENCES = 4096

    def __init__(self, directory):
        self._path = os.path.join(os.path.expanduser(directory), 'fast_path.json') if directory else None
        self._data, self._added = None, False

    @staticmethod
    def _read(path):
        """A kept file's mapping; an unreadable one is empty."""
        try:
            with open(path, encoding='utf-8') as handle:
                data = json.load(handle)
        except (OSError, ValueError, TypeError):
            return {}
        return data if isinstance(data, dict) else {}

    def _entries(self):
        if self._data is None:
            self._data = self._read(self._path)
        return self._data

    @staticmethod
    def _key(key, collection):
        return hashlib.sha256(json.dumps([key, collection, ansible_version]).encode('utf-8')).hexdigest()

    def has(self, key, collection):
        return self._path is not None and isinstance(self._entries().get(self._key(key, collection)), dict)

    def get(self, key, collection):
        return self._entries()[self._key(key, collection)]['value']

    def put(self, key, collection, value):
        if self._path is not None:
            self._entries()[self._key(key, collection)] = {'value': value, 'at': time.time()}
            self._added = True

    def _references_path(self):
        return os.path.join(os.path.dirname(self._path), 'fast_path_references.json')

    def references(self, collection):
        """The template references an earlier run found (a function of the template texts, the collection and
        ansible-core): parsing them again took the first host of each run about 0.1 to 0.2 s."""
        data = self._read(self._references_path()) if self._path else {}
        ok = data.get('key') == self._key('references', collection) and isinstance(data.get('known'), dict)
        return data['known'] if ok else None

    def keep_references(self, collection, known):
        """Keep the template references the run knows (at most _KEEP_REFERENCES: beyond, the next run parses again)."""
        if self._path is None or len(known) > self._KEEP_REFERENCES:
            return
        try:
            os.makedirs(os.path.dirname(self._path), mode=0o700, exist_ok=True)
            write_atomic(self._references_path(),
                         json.dumps({'key': self._key('references', collection), 'known': known}, sort_keys=True), 0o600,
                         prefix='.fast_path-')
        except OSError as exc:
            display.vvv('fast_path: could not write the template references: %s' % exc)

    def save(self):
        if not self._added:
            return
        newest = dict(sorted(self._entries().items(), key=lambda kv: -float(kv[1].get('at', 0)))[:self._KEEP])
        try:
            os.makedirs(os.path.dirname(self._path), mode=0o700, exist_ok=True)
            write_atomic(self._path, json.dumps(newest, sort_keys=True, default=str), 0o600, prefix='.fast_path-')
        except OSError as exc:  # a cache that cannot be written costs time, not correctness
            display.vvv('fast_path: could not write %s: %s' % (self._path, exc))


class ActionModule(CheckedAction):
    """state=check before the roles: fingerprint and compare (and apply pins alone); state=record after them."""

    NAME = 'fast_path'
    ARGS = frozenset(('state', 'path', 'roles', 'extra', 'usable', 'reason', 'facts', 'max_age', 'group', 'cache_dir'))

    def _template(self, value):
        try:
            return self._templar.template(value)
        except AnsibleError:
            # Needs facts not gathered yet: its template text still changes when the variable does.
            return {'untemplated': repr(value)}

    def _collection_digest(self):
        """Computed once per run for all hosts (the first worker to need it writes it)."""
        memo = os.path.join(_run_dir(), 'collection.sha256')
        try:
            with open(memo, encoding='ascii') as handle:
                return handle.read().strip()
        except OSError:
            digest = fp.collection_digest()
            tmp = '%s.%d' % (memo, os.getpid())
            with open(tmp, 'w', encoding='ascii') as handle:
                handle.write(digest)
            os.replace(tmp, memo)
            return digest

    @staticmethod
    def _contracts(roles):
        """The play's role contracts, read once per run for all hosts (the first worker to need them writes them)."""
        key = hashlib.sha256(json.dumps([str(r) for r in roles]).encode('utf-8')).hexdigest()
        memo = os.path.join(_run_dir(), 'contracts-%s.json' % key)
        try:
            with open(memo, encoding='utf-8') as handle:
                return [dict(c, options=set(c['options'])) for c in json.load(handle)]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        contracts = fp.play_contracts(roles)  # raises ContractError, which is never memoised
        tmp = '%s.%d' % (memo, os.getpid())
        with open(tmp, 'w', encoding='utf-8') as handle:
            json.dump([dict(c, options=sorted(c['options'])) for c in contracts], handle)
        os.replace(tmp, memo)
        return contracts

    def _resolve_one(self, entry):
        """Digest of one floating input (None: it could not be resolved), memoised for the whole run."""
        key = hashlib.sha256(json.dumps(entry, sort_keys=True, default=repr).encode('utf-8')).hexdigest()
        memo = os.path.join(_run_dir(), 'resolved-%s.json' % key)
        try:
            with open(memo, encoding='utf-8') as handle:
                return json.load(handle)['digest']
        except (OSError, ValueError, KeyError):
            pass
        digest = None
        try:
            if entry.get('url'):
                data = _fetch(str(entry['url']))
                digest = hashlib.sha256(data).hexdigest() if data else None
            elif entry.get('file'):
                digest = fp.controller_files([entry['file']]).get(entry['file'], '')
            elif entry.get('command'):
                env = dict(os.environ, **{str(k): str(v) for k, v in (entry.get('environment') or {}).items()})
                proc = subprocess.run([str(a) for a in entry['command']], env=env, capture_output=True, timeout=120, check=False)
                out = proc.stdout.strip()
                digest = hashlib.sha256(out).hexdigest() if proc.returncode == 0 and out else None
            else:
                digest = ''
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Unreachable mirror or registry: the roles run and report it themselves.
            display.vvv('fast_path: could not resolve %s: %s' % (entry, exc))
            digest = None
        tmp = '%s.%d' % (memo, os.getpid())
        with open(tmp, 'w', encoding='utf-8') as handle:
            json.dump({'digest': digest}, handle)
        os.replace(tmp, memo)
        return digest

    def _resolve(self, contracts, task_vars, shared):
        """Digests of the contracts' floating inputs, or None when one cannot be resolved."""
        out = []
        for contract in contracts:
            for entry in contract['resolve']:
                entry = self._shared_template(_trusted(entry), task_vars, shared)
                if not isinstance(entry, dict) or 'untemplated' in entry or not entry.get('when', True) \
                        or not (entry.get('url') or entry.get('file') or entry.get('command')):
                    continue
                digest = self._resolve_one(entry)
                if digest is None:
                    return None
                out.append(digest)
        return out

    def _start_from_earlier(self, shared, kept):
        """The run's first worker starts from the template references an earlier run parsed (kept)."""
        if not shared.references.known:
            earlier = kept.references(self._collection_digest())
            if earlier:
                shared.references, shared.added = fp.References(earlier), True

    def _shared_template(self, value, task_vars, shared, name='__contract__', digest=False, kept=None):
        """VALUE rendered once per run for all hosts whose variables it reads are equal (raw), when that holds.

        With DIGEST, only what the fingerprint takes of it is kept and returned: its digest and the paths it names
        (a rendered variable may be a secret; the shared file never holds one). With KEPT (a _Kept), a template that
        is a function of its variables alone (no lookup, fact or time) is also kept across runs on the controller."""
        def render():
            out = self._template(value)
            return {'digest': fp.raw_digest(out), 'paths': fp.controller_paths(out)} if digest else out
        raw, rendered, _named, same = fp.closure([name], task_vars, shared.references, own={name: value})
        if not same:
            return render()
        key = ('d' if digest else 'v') + fp.raw_digest(raw)
        if key not in shared.rendered:
            across = kept is not None and not rendered
            if across and kept.has(key, self._collection_digest()):
                shared.rendered[key] = kept.get(key, self._collection_digest())
            else:
                shared.rendered[key] = render()
                if across:
                    kept.put(key, self._collection_digest(), shared.rendered[key])
            shared.added = True
        return shared.rendered[key]

    def run(self, tmp=None, task_vars=None):
        result, args, task_vars = self.start(tmp, task_vars)
        state = args.get('state', 'check')
        path = args.get('path') or '/var/lib/claude_fleet/converge.json'
        host = task_vars.get('inventory_hostname')
        try:
            contracts = self._contracts(args.get('roles') or [])
        except fp.ContractError as exc:
            if state == 'record':
                raise AnsibleActionFail('fast_path: %s' % exc)
            display.warning('fast_path: %s' % exc)
            return self._decision(result, usable=False, reasons=[str(exc)])
        if state == 'record':
            return self._record(result, task_vars, path, host, contracts)
        if state != 'check':
            raise AnsibleActionFail('fast_path: state must be check or record, got %s' % state)
        if not self._templar.template(args.get('usable', True)):
            return self._decision(result, usable=False, reasons=[args.get('reason') or 'the fast path is off'])
        return self._check(result, task_vars, path, host, contracts)

    def _decision(self, result, usable, reasons, current=False, facts=None, pins_changed=None):
        result.update(changed=result.get('changed', False), current=current, reasons=reasons, pins_changed=pins_changed or [])
        result['ansible_facts'] = {_FACT: {'usable': usable, 'current': current, 'reasons': reasons, 'facts': facts or {}}}
        return result

    def _scope(self, contracts, task_vars):
        """The variables the contracts are rendered with: the play's, and the roles' own (fp.play_scope), which a play
        that includes its roles after the fast path (setup.yml) does not have yet."""
        manager = self._task.get_variable_manager()
        extra = getattr(manager, 'extra_vars', None)
        if extra is None:  # a task without its variable manager
            extra = load_extra_vars(loader=self._loader)
        scope = fp.play_scope([dict(c, defaults=_trusted(c['defaults']), vars=_trusted(c['vars'])) for c in contracts],
                              task_vars, extra)
        self._templar.available_variables = scope
        return scope

    def _check(self, result, task_vars, path, host, contracts):
        module_vars, task_vars = task_vars, self._scope(contracts, task_vars)
        kept = _Kept(self._task.args.get('cache_dir'))
        with _Shared() as shared:
            self._start_from_earlier(shared, kept)
            pins = None
            for declared in fp.pins_declarations(contracts):
                # Rendered with the role's own variables (_scope).
                # Kept across runs: the settings role's rules behind `alone` took most of a no-op's first host.
                alone = self._shared_template(_trusted(declared.get('alone', False)), task_vars, shared, kept=kept)
                values = self._shared_template(_trusted(declared.get('values')), task_vars, shared, kept=kept)
                if boolean(alone, strict=False) and isinstance(values, dict):
                    pins = dict(pins or {}, **{str(k): '' if v is None else str(v) for k, v in values.items()})
            resolved = self._resolve(contracts, task_vars, shared)
            if resolved is None:
                return self._decision(result, usable=False, reasons=['a floating version could not be resolved on the controller'])
            # What the fingerprinted variables are made of, untemplated: rendering them all took a worker most of a
            # second per host; only the values whose templates look beyond their variables are rendered.
            raw, rendered, named, _same = fp.closure(fp.fingerprinted(contracts, pins_alone=pins is not None), task_vars,
                                                     shared.references)
            taken = {name: self._shared_template(raw[name], task_vars, shared, name, digest=True) for name in rendered}
            kept.save()
            if shared.references.added:
                kept.keep_references(self._collection_digest(), shared.references.known)
        values = {'raw': fp.raw_digest(raw), 'rendered': {name: part['digest'] for name, part in taken.items()}}
        inputs = fp.inputs_digest(values, {'resolved': resolved, 'extra': self._task.args.get('extra') or {}}, self._collection_digest())
        files = fp.controller_paths([raw, named] + [part['paths'] for part in taken.values()])
        digest = fp.combine(inputs, fp.file_digests(files))
        # The record step after the roles reads these back (it digests the files again); they never appear in the output.
        memo = _memo_path(host)
        with open(os.open(memo, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w', encoding='utf-8') as handle:
            json.dump({'inputs': inputs, 'files': files, 'pins': pins}, handle)
        module_args = {'path': path, 'fingerprint': digest, 'max_age': int(self._task.args.get('max_age') or 0)}
        if pins is not None:
            module_args['pins'] = pins
        answer = self._execute_module(module_name='claude_fleet.bedrock.model_pins' if pins is not None else
                                      'claude_fleet.bedrock.converge_stamp_info', module_args=module_args, task_vars=module_vars)
        if answer.get('failed'):
            result.update(answer)
            return result
        current = bool(answer.get('applied') if pins is not None else answer.get('current'))
        facts = dict(answer.get('facts') or {})
        if pins is not None and current:
            facts['model'] = pins.get('ANTHROPIC_MODEL', facts.get('model', ''))
        result['changed'] = bool(answer.get('changed'))
        for key in ('files', 'diff'):
            if key in answer:
                result[key] = answer[key]
        if current and self._task.args.get('group'):
            self._join(result, str(self._task.args['group']))
        return self._decision(result, usable=True, reasons=answer.get('reasons') or [], current=current, facts=facts,
                              pins_changed=answer.get('pins_changed'))

    def _join(self, result, group):
        """Put this host in group, for this run only: the playbook's later plays leave such hosts out.

        No task of its own: a task that only runs group_by costs a worker per host on every no-op."""
        add_group = getattr(self, 'add_group', None)
        if add_group is not None:  # ansible-core 2.21+: the strategy adds it when asked (RPC)
            add_group(group, parent_group_names=['all'])
        else:  # older: the strategy adds the group named in any task result
            result.update(add_group=group, parent_groups=['all'])

    def _record(self, result, task_vars, path, host, contracts):
        try:
            with open(_memo_path(host), encoding='utf-8') as handle:
                memo = json.load(handle)
        except (OSError, ValueError) as exc:
            raise AnsibleActionFail('fast_path: no fingerprint of this run for %s (state=check did not run): %s' % (host, exc))
        paths, pin_files, unprobed = [], [], {}
        for contract in contracts:
            if not contract['writes']:
                continue
            name = '%s_fast_path_contract' % contract['name']
            published = self._template(task_vars[name]) if name in task_vars else None
            if not isinstance(published, dict) or not isinstance(published.get('paths'), list):
                raise AnsibleActionFail('fast_path: role %s did not publish %s (a mapping with paths): it writes files, '
                                        'so the stamp cannot be recorded' % (contract['name'], name))
            paths += published['paths']
            pin_files += published.get('pin_files') or []
            # Paths the role writes but does not probe, each with its reason (converge_stamp checks them).
            declared = published.get('unprobed') or []
            if not isinstance(declared, list) or not all(isinstance(d, dict) and isinstance(d.get('paths'), list) for d in declared):
                raise AnsibleActionFail('fast_path: %s.unprobed must be a list of {paths, reason}' % name)
            for entry in declared:
                unprobed.update((p, entry.get('reason')) for p in entry['paths'])
        # The controller files as the converge left them: on a controller that is also the workstation
        # (ansible-pull) the roles may have written one (fp.combine).
        fingerprint = fp.combine(memo['inputs'], fp.file_digests(memo['files']))
        module_args = {'path': path, 'fingerprint': fingerprint, 'paths': paths, 'unprobed': unprobed,
                       'facts': self._template(self._task.args.get('facts') or {})}
        if memo.get('pins') is not None:
            module_args.update(pins=memo['pins'], pin_files=pin_files)
        answer = self._execute_module(module_name='claude_fleet.bedrock.converge_stamp', module_args=module_args, task_vars=task_vars)
        result.update(answer)
        return result
