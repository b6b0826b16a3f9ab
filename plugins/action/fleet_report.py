# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report on the controller, assembled and written in Python (one task, milliseconds)."""
from __future__ import annotations

import datetime
import json
import os
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.claude_fleet.bedrock.plugins.plugin_utils.action import CheckedAction
from ansible_collections.claude_fleet.bedrock.plugins.plugin_utils.action import write_atomic

# The fast_path action's host fact, and the group it puts current hosts in (roles/_stamp, check.yml).
FAST_PATH_FACT = 'claude_fleet_stamp'
FAST_PATH_GROUP = 'claude_fleet_fast_path'
_UNREACHED = 'unreachable or failed before the end of the converge'


def assemble(hosts, facts, preflight, now=None, failures=None):
    """The report: one row per host of the group (hosts without collected facts are failed).

    FAILURES maps a host to its settings_failure fact (the settings role's file and reason), shown for a failed host."""
    rows = []
    failures = failures or {}
    for host in sorted(hosts):
        fact = facts.get(host)
        if not isinstance(fact, dict):
            why = failures.get(host)
            detail = 'failed: %s' % why['summary'] if isinstance(why, dict) and why.get('summary') else _UNREACHED
            rows.append({'host': host, 'status': 'failed', 'detail': detail})
            continue
        failed = [s for s in fact.get('smoke') or [] if s.get('status') == 'failed']
        rows.append(dict(fact, host=host, status='failed' if failed else 'ok', detail=' '.join(s.get('remedy', '') for s in failed)))
    preflight = preflight or {}
    return {
        'generated': (now or datetime.datetime.now(datetime.timezone.utc)).isoformat(),
        'preflight': {'usable': preflight.get('usable'), 'remedies': preflight.get('remedies') or [],
                      # When the checks last ran; reused: a passing result younger than claude_fleet_preflight_max_age.
                      'checked_at': preflight.get('checked_at'), 'reused': bool(preflight.get('reused'))},
        'hosts': rows,
        'failed_hosts': [r['host'] for r in rows if r['status'] == 'failed'],
    }


def fast_path_facts(host_facts, group_names):
    """The report facts of a host the fast path found current and left out of the later plays (None otherwise).

    The facts its last converge recorded, as the _report role's collect.yml would store them (smoke off)."""
    stamp = (host_facts or {}).get(FAST_PATH_FACT) if isinstance(host_facts, dict) else None
    if FAST_PATH_GROUP not in (group_names or []) or not isinstance(stamp, dict) or not stamp.get('current'):
        return None
    return dict(stamp.get('facts') or {}, smoke=[], smoke_enabled=False, fast_path=True, fast_path_reasons=[], findings=[])


def _when(preflight):
    if not preflight.get('checked_at'):
        return ''
    return ' (%s %s)' % ('reused, checks last run' if preflight.get('reused') else 'checks run', preflight['checked_at'])


def _cell(value):
    return '' if value is None else to_text(value)


def markdown(report):
    """fleet-report.md: a summary, one table row per host (per user when the smoke test ran), findings, remedies."""
    rows, failed = report['hosts'], report['failed_hosts']
    usable = report['preflight']['usable']
    lines = ['# Claude Code fleet report', '',
             'Hosts: %d, failed: %d%s.' % (len(rows), len(failed), ' (%s)' % ', '.join(failed) if failed else ''),
             'Preflight: %s%s.' % ('passed' if usable else ('not run' if usable is None else 'failed'), _when(report['preflight'])),
             'Unchanged since their last converge (fast path, docs/fast-path.md): %d of %d.'
             % (sum(1 for r in rows if r.get('fast_path')), len(rows)),
             '', '| host | status | node | claude | region | model | auth | user | shell | smoke |',
             '|---|---|---|---|---|---|---|---|---|---|']
    for row in rows:
        if row['status'] == 'failed' and 'node_version' not in row:
            lines.append('| %s | failed | | | | | | | | %s |' % (row['host'], row['detail']))
            continue
        keys = ('host', 'status', 'node_version', 'claude_code_version', 'region', 'model')
        head = '| %s |' % ' | '.join(_cell(row.get(k)) for k in keys)
        methods = row.get('auth_methods') or {}
        if row.get('smoke'):
            for smoke in row['smoke']:
                status = smoke.get('status', '')
                lines.append('%s %s | %s | %s | %s |' % (
                    head, _cell(methods.get(smoke.get('user'), row.get('auth_method'))), _cell(smoke.get('user')),
                    os.path.basename(_cell(smoke.get('shell'))), status if status == 'passed' else '%s: %s' % (status, _cell(smoke.get('remedy')))))
        else:
            auth = ', '.join(dict.fromkeys(_cell(v) for v in methods.values())) or _cell(row.get('auth_method'))
            lines.append('%s %s | | | not run |' % (head, auth))
    found = [r for r in rows if r.get('findings')]
    if found:
        lines += ['', '## Findings'] + ['- %s: %s' % (r['host'], m) for r in found for m in r['findings']]
    if report['preflight']['remedies']:
        lines += ['', '## Preflight remedies'] + ['- %s' % m for m in report['preflight']['remedies']]
    return '\n'.join(lines) + '\n'


def report_json(report):
    return json.dumps(report, indent=2, sort_keys=True, separators=(',', ': ')) + '\n'


def write_local(path, report):
    """The local report of a machine that is its own controller (ansible-pull), read there by verify.yml."""
    os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
    # 0640: the report names hosts and users, no secret.
    write_atomic(path, report_json(report), 0o640)


class ActionModule(CheckedAction):
    """Runs on the controller only: reads each host's _report_host fact and writes the report files."""

    NAME = 'fleet_report'
    ARGS = frozenset(('group_hosts', 'dir', 'formats', 'preflight', 'fail', 'local_path'))

    def run(self, tmp=None, task_vars=None):
        result, args, task_vars = self.start(tmp, task_vars)
        # The role's argument spec, checked here (the report play imports the role with rolespec_validate false).
        errors = self.role_spec_errors('_report', task_vars)
        if errors:
            raise AnsibleActionFail('fleet_report: the report options are not valid: %s' % '; '.join(errors))
        hosts = list(args.get('group_hosts') or [])
        hostvars = task_vars.get('hostvars') or {}
        facts, failures = {}, {}
        for host in hosts:
            # Once per host: each hostvars[host] computes all of that host's variables again.
            variables = hostvars.get(host)
            if not isinstance(variables, Mapping):  # not in the inventory
                facts[host] = None
                continue
            facts[host] = variables.get('_report_host')
            failures[host] = variables.get('settings_failure')
            if facts[host] is None:
                facts[host] = fast_path_facts(variables.get('ansible_facts'), variables.get('group_names'))
        report = assemble(hosts, facts, args.get('preflight'), failures=failures)
        text = markdown(report)
        directory = args.get('dir')
        formats = args.get('formats') if args.get('formats') is not None else ['json', 'markdown']
        if not directory:
            raise AnsibleActionFail('fleet_report: dir is required')
        # Check mode writes nothing, not even the report on the controller (verify.yml --check, setup.yml --check).
        if self._task.check_mode:
            formats = []
        try:
            if formats:
                os.makedirs(directory, mode=0o750, exist_ok=True)
            # 0640: the report names hosts and users, no secret.
            if 'json' in formats:
                write_atomic(os.path.join(directory, 'fleet-report.json'), report_json(report), 0o640)
            if 'markdown' in formats:
                write_atomic(os.path.join(directory, 'fleet-report.md'), text, 0o640)
        except OSError as exc:
            raise AnsibleActionFail('fleet_report: could not write the report in %s: %s' % (directory, exc))
        local = args.get('local_path')
        if local and not self._task.check_mode:
            if not os.path.isabs(local):
                raise AnsibleActionFail('fleet_report: local_path must be an absolute path')
            try:
                write_local(local, report)
            except OSError as exc:
                raise AnsibleActionFail('fleet_report: could not write the local report %s: %s' % (local, exc))
        # The report is output of the run, not managed state: writing it is not a change.
        result.update(changed=False, msg=text.splitlines(), _ansible_verbose_always=True)
        if report['failed_hosts'] and args.get('fail', True):
            result.update(failed=True, msg='%d of %d host(s) failed: %s. See %s/fleet-report.md.' % (
                len(report['failed_hosts']), len(report['hosts']), ', '.join(report['failed_hosts']), directory), summary=text.splitlines())
        return result
