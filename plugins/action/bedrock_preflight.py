# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Bedrock preflight in one task: reuse a passing check of the same inputs, or run the access check once per
host group (model_access_info, or mantle_access_info on the Mantle endpoint), summarise, remember a pass."""
from __future__ import annotations

import datetime
import os
import time

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.common.validation import check_type_float, check_type_int
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.utils.display import Display
from ansible_collections.claude_fleet.bedrock.plugins.plugin_utils import preflight_cache
from ansible_collections.claude_fleet.bedrock.plugins.plugin_utils.action import CheckedAction

display = Display()

_MODULES = {'runtime': 'claude_fleet.bedrock.model_access_info', 'mantle': 'claude_fleet.bedrock.mantle_access_info'}
# What each access module takes from the role's check options (the rest belongs to the other endpoint).
_CHECK_OPTIONS = {
    'runtime': ('references', 'aws_ca_bundle', 'invoke', 'caller_identity', 'check_list_permission', 'allow_legacy',
                'retries', 'retry_delay'),
    'mantle': ('references', 'base_url', 'aws_ca_bundle', 'caller_identity', 'retries', 'retry_delay'),
}
# The role's credentials: read from its variables, never task arguments, so the task need not be no_log and its
# failure (bad options, unusable models) is shown, naming what to fix; no result holds them.
_ROLE_CREDENTIALS = {'access_key': '_preflight_access_key', 'secret_key': '_preflight_secret_key',
                     'session_token': '_preflight_session_token'}
# What a host group is checked for: its cache key (not its first host, size or label, so a laptop added to a group
# that passed reuses the pass).
_TARGET_KEY = ('region', 'models', 'endpoint_url', 'profile')
# A host's own credentials, when the play's hosts are grouped by their variables.
_HOST_CREDENTIALS = {'access_key': 'claude_fleet_aws_access_key', 'secret_key': 'claude_fleet_aws_secret_key',
                     'session_token': 'claude_fleet_aws_session_token'}


def summarise_target(target, outcome):
    """One host group's outcome (a module result) as the report shows it; a check that could not run is a remedy."""
    crashed = bool(outcome.get('failed')) or 'usable' not in outcome
    remedies = (['The Bedrock check could not run: %s' % to_text(outcome.get('msg') or 'unknown error')] if crashed
                else list(outcome.get('remedies') or []))
    references = [{'reference': ref.get('reference'), 'names': ref.get('names'), 'status': ref.get('status'),
                   'usable': ref.get('usable'), 'remedy': ref.get('remedy'),
                   'regions': (ref.get('profile') or {}).get('regions') or []}
                  for ref in outcome.get('references') or []]
    return {'label': target.get('label'), 'region': target.get('region'), 'profile': target.get('profile'),
            'endpoint_url': target.get('endpoint_url'), 'hosts': target.get('hosts'),
            'usable': not crashed and bool(outcome.get('usable')), 'remedies': remedies,
            'failed_references': list(outcome.get('failed_references') or []),
            'caller_identity': outcome.get('caller_identity'),
            'aws_calls': int(outcome.get('aws_calls') or 0), 'aws_retries': int(outcome.get('aws_retries') or 0),
            'references': references}


def summarise(targets):
    """The preflight's result (no secrets): usable only when every host group is, remedies labelled by group when
    there are several."""
    many = len(targets) > 1
    fresh = [t for t in targets if not t.get('reused')]
    failed_references = []
    for target in targets:
        failed_references.extend(ref for ref in target['failed_references'] if ref not in failed_references)
    return {'usable': bool(targets) and all(t['usable'] for t in targets),
            'remedies': [('[%s] ' % t['label'] if many else '') + remedy for t in targets for remedy in t['remedies']],
            'failed_references': failed_references,
            # What this run made; a reused group keeps the figures of the run that checked it.
            'aws_calls': sum(t['aws_calls'] for t in fresh),
            'aws_retries': sum(t['aws_retries'] for t in fresh),
            'reused': bool(targets) and not fresh,
            # The oldest check the result stands on (the report says when the checks last ran).
            'checked_at': min((t['checked_at'] for t in targets), default=''),
            'targets': targets}


def _number(value, check):
    """VALUE by one of ansible-core's own type checks (check_type_int, check_type_float), or None."""
    try:
        return check(value)
    except (TypeError, ValueError):
        return None


def option_problems(args, targets):
    """What is wrong with the preflight's own options, each message naming the option, before any AWS call."""
    problems = []
    check = args.get('check') or {}
    endpoint = args.get('endpoint') or 'runtime'
    if endpoint not in _MODULES:
        problems.append('claude_fleet_bedrock_endpoint (_preflight_bedrock_endpoint) must be runtime or mantle, got %r' % (endpoint,))
    max_age = _number(args.get('max_age', 3600), check_type_float)
    if max_age is None or max_age < 0:
        problems.append('claude_fleet_preflight_max_age (_preflight_max_age) must be a number of seconds >= 0, got %r'
                        % (args.get('max_age'),))
    retries = _number(check.get('retries', 10), check_type_int)
    if retries is None or retries < 1:
        problems.append('_preflight_retries (claude_fleet_preflight_retries) must be >= 1 (got %s)' % (check.get('retries'),))
    delay = _number(check.get('retry_delay', 1.0), check_type_float)
    if delay is None or delay < 0:
        problems.append('_preflight_retry_delay (claude_fleet_preflight_retry_delay) must be >= 0 (got %s)' % (check.get('retry_delay'),))
    if not boolean(args.get('group_by_host', True), strict=False) and not all(t.get('region') for t in targets):
        problems.append('The Bedrock preflight needs a region (_preflight_region or claude_fleet_bedrock_region) '
                        'unless _preflight_group_by_host is on')
    return problems


def failure(header, remedies):
    """The result of a preflight that stops the run: what to fix, and nothing else (the run ends here)."""
    return {'failed': True, 'changed': False, 'usable': False, 'msg': [header] + list(remedies)}


class ActionModule(CheckedAction):
    """Controller only (delegate_to: localhost, run_once). Returns the preflight's result; fails, listing every
    remedy, on bad options, and on an unusable model unless fail is false."""

    NAME = 'bedrock_preflight'
    ARGS = frozenset(('endpoint', 'targets', 'check', 'group_by_host', 'cache_inputs', 'max_age', 'cache_dir', 'fail'))

    def _credentials(self, target, args, task_vars):
        """The group's credentials: its first host's own, else the role's (credentials are told apart by host)."""
        own = dict((name, to_text(self._templar.template(task_vars[variable]) or '') if variable in task_vars else '')
                   for name, variable in _ROLE_CREDENTIALS.items())
        host = target.get('host')
        if boolean(args.get('group_by_host', True), strict=False) and host and host != task_vars.get('inventory_hostname'):
            hostvars = (task_vars.get('hostvars') or {}).get(host) or {}
            for name, variable in _HOST_CREDENTIALS.items():
                if variable in hostvars:
                    own[name] = to_text(self._templar.template(hostvars[variable]) or '')
        return own

    def _check(self, endpoint, target, args, credentials, task_vars):  # pylint: disable=too-many-arguments,too-many-positional-arguments
        module_args = dict((name, value) for name, value in (args.get('check') or {}).items()
                           if name in _CHECK_OPTIONS[endpoint] and value not in (None, ''))
        module_args.update(region=target.get('region'), models=target.get('models'))
        for name in ('endpoint_url', 'profile'):
            if target.get(name):
                module_args[name] = target[name]
        module_args.update((name, value) for name, value in credentials.items() if value)
        try:
            # Not logged on the controller's syslog (the task is not no_log; the module is given the credentials).
            return self._execute_module(module_name=_MODULES[endpoint], module_args=module_args,
                                        task_vars=dict(task_vars, ansible_no_target_syslog=True))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Becomes a remedy of that host group, like a module failure.
            return {'failed': True, 'msg': to_text(exc)}

    def run(self, tmp=None, task_vars=None):
        result, args, task_vars = self.start(tmp, task_vars)
        targets = args.get('targets') or []
        if not isinstance(targets, list) or not all(isinstance(t, dict) for t in targets):
            raise AnsibleActionFail('bedrock_preflight: targets must be a list of host groups')
        # The role's argument spec first (the role is imported with rolespec_validate false: its check is here, one
        # task less per run), then the rules between options. Bad options stop the run whatever fail says: nothing
        # was checked.
        problems = self.role_spec_errors('_preflight', task_vars) or option_problems(args, targets)
        if problems:
            result.update(failure('Fix the Bedrock preflight options and re-run:', problems), option_problems=problems)
            return result
        endpoint = args.get('endpoint') or 'runtime'
        max_age = float(args.get('max_age', 3600))
        path = os.path.join(os.path.expanduser(args.get('cache_dir') or '~/.cache/claude_fleet'), 'preflight.json')
        cache, now = preflight_cache.load(path), time.time()
        checked_at = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).isoformat()
        common = dict(args.get('cache_inputs') or {}, endpoint=endpoint)
        remember = max_age > 0 and not self._task.check_mode
        summaries, oldest, stored = [], now, False
        for target in targets:
            # Each host group is its own cache entry, keyed by what it is checked for and the credentials it is
            # checked with (only ever digested): a laptop added to a group that passed is not checked again.
            credentials = self._credentials(target, args, task_vars)
            key = preflight_cache.inputs_key(dict(common, target={name: target.get(name) for name in _TARGET_KEY},
                                                  credentials=credentials))
            entry = preflight_cache.lookup(cache, key, max_age, now)
            if entry is not None:
                summaries.append(dict(entry['result'], label=target.get('label'), hosts=target.get('hosts'), reused=True,
                                      checked_at=entry.get('checked_at', '')))
                oldest = min(oldest, float(entry['checked']))
                continue
            summary = dict(summarise_target(target, self._check(endpoint, target, args, credentials, task_vars)),
                           reused=False, checked_at=checked_at)
            summaries.append(summary)
            if summary['usable'] and remember:
                preflight_cache.remember(cache, key, summary, now)
                stored = True
        preflight = summarise(summaries)
        warnings = []
        if stored:  # the groups that passed, also when another did not
            try:
                preflight_cache.save(path, cache)
            except OSError as exc:
                warnings.append('could not write the preflight cache %s: %s' % (path, exc))
        if not preflight['usable'] and boolean(args.get('fail', True), strict=False):
            result.update(failure('Amazon Bedrock is not usable for Claude Code; fix every item and re-run:', preflight['remedies']))
        else:
            # At the top level: the role registers this result as the preflight_result of every host (a fact set by a
            # run_once set_fact would be one dict shared by the hosts' fact caches on ansible-core 2.21, and every fact a
            # host set later, its fast-path decision or its gathered facts, would become every host's).
            result.update(preflight, changed=False, option_problems=[])
            if preflight['reused']:
                result['age'] = round(now - oldest, 1)
            # The summary the run shows at any verbosity (the whole result only with -v).
            result['msg'] = 'Bedrock preflight %s: %d check(s), %d AWS call(s), %d retry(ies)%s' % (
                'passed' if preflight['usable'] else 'FAILED (_preflight_fail is off)', len(preflight['targets']),
                preflight['aws_calls'], preflight['aws_retries'],
                '.' if preflight['usable'] else ': ' + ' | '.join(preflight['remedies']))
            display.display(result['msg'])
        if warnings:
            result['warnings'] = warnings
        return result
