# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's assembly and Markdown, as the fleet_report action writes them."""

from __future__ import annotations

import datetime
import json
import os
import stat

from ansible_collections.claude_fleet.bedrock.plugins.action import fleet_report

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
BASE = {'node_version': '22.1.0', 'claude_code_version': '2.1.332', 'region': 'us-east-1', 'model': 'us.m', 'auth_method': 'static_keys',
        'auth_methods': {'alice': 'static_keys', 'carol': 'api_key'}, 'fast_path': True, 'findings': []}


def test_hosts_without_facts_fail_and_a_failed_smoke_test_fails_its_host():
    smoke = [{'user': 'alice', 'shell': '/bin/bash', 'status': 'passed'},
             {'user': 'carol', 'shell': '/usr/bin/fish', 'status': 'failed', 'remedy': 'Fix it.'}]
    report = fleet_report.assemble(['ws2', 'ws1', 'ws3'], {'ws1': dict(BASE, smoke=[]), 'ws2': dict(BASE, smoke=smoke), 'ws3': None},
                                   {'usable': True, 'remedies': []}, now=NOW)
    assert report['generated'] == '2026-01-02T03:04:05+00:00'
    assert [(r['host'], r['status']) for r in report['hosts']] == [('ws1', 'ok'), ('ws2', 'failed'), ('ws3', 'failed')]
    assert report['failed_hosts'] == ['ws2', 'ws3']
    assert report['hosts'][1]['detail'] == 'Fix it.'
    assert report['hosts'][2]['detail'] == 'unreachable or failed before the end of the converge'


def test_the_markdown_has_a_row_per_user_findings_and_remedies():
    smoke = [{'user': 'alice', 'shell': '/bin/bash', 'status': 'passed'},
             {'user': 'carol', 'shell': '/usr/bin/fish', 'status': 'failed', 'remedy': 'Fix it.'}]
    report = fleet_report.assemble(['ws1', 'ws2', 'ws3'], {'ws1': dict(BASE, smoke=[], findings=['alice: odd']), 'ws2': dict(BASE, smoke=smoke)},
                                   {'usable': False, 'remedies': ['Grant access.']}, now=NOW)
    lines = fleet_report.markdown(report).splitlines()
    assert lines[:5] == ['# Claude Code fleet report', '', 'Hosts: 3, failed: 2 (ws2, ws3).', 'Preflight: failed.',
                         'Unchanged since their last converge (fast path, docs/fast-path.md): 2 of 3.']
    assert '| ws1 | ok | 22.1.0 | 2.1.332 | us-east-1 | us.m | static_keys, api_key | | | not run |' in lines
    assert '| ws2 | failed | 22.1.0 | 2.1.332 | us-east-1 | us.m | static_keys | alice | bash | passed |' in lines
    assert '| ws2 | failed | 22.1.0 | 2.1.332 | us-east-1 | us.m | api_key | carol | fish | failed: Fix it. |' in lines
    assert '| ws3 | failed | | | | | | | | unreachable or failed before the end of the converge |' in lines
    assert lines[lines.index('## Findings') + 1] == '- ws1: alice: odd'
    assert lines[-2:] == ['## Preflight remedies', '- Grant access.']


def test_preflight_not_run_is_said_so():
    text = fleet_report.markdown(fleet_report.assemble([], {}, None, now=NOW))
    assert 'Preflight: not run.' in text and 'Hosts: 0, failed: 0.' in text


def test_the_report_says_when_the_preflight_checks_last_ran():
    report = fleet_report.assemble([], {}, {'usable': True, 'reused': True, 'checked_at': '2026-01-02T03:00:00+00:00'}, now=NOW)
    assert report['preflight']['checked_at'] == '2026-01-02T03:00:00+00:00' and report['preflight']['reused'] is True
    assert 'Preflight: passed (reused, checks last run 2026-01-02T03:00:00+00:00).' in fleet_report.markdown(report)


def test_a_host_that_failed_in_the_settings_role_is_reported_with_the_file_and_reason():
    why = {'file': '/home/alice/.claude/settings.json', 'reason': 'x', 'task': 'User | Merge',
           'summary': '/home/alice/.claude/settings.json is not valid JSON: Expecting value at line 2 column 1; the file was left untouched'}
    report = fleet_report.assemble(['ws1', 'ws2'], {'ws1': None, 'ws2': None}, None, failures={'ws1': why})
    rows = {row['host']: row for row in report['hosts']}
    assert rows['ws1']['detail'] == 'failed: ' + why['summary']
    assert rows['ws2']['detail'] == 'unreachable or failed before the end of the converge'
    assert report['failed_hosts'] == ['ws1', 'ws2']


def test_the_local_report_is_the_json_report_written_atomically_0640(tmp_path):
    report = fleet_report.assemble(['localhost'], {'localhost': dict(BASE, smoke=[])}, None, now=NOW)
    path = tmp_path / 'lib' / 'claude_fleet' / 'report.json'
    fleet_report.write_local(str(path), report)
    assert json.loads(path.read_text(encoding='utf-8')) == report
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    fleet_report.write_local(str(path), dict(report, failed_hosts=['localhost']))
    assert json.loads(path.read_text(encoding='utf-8'))['failed_hosts'] == ['localhost']
    assert sorted(os.listdir(path.parent)) == ['report.json'], 'no temporary file is left'


def test_a_host_the_fast_path_left_out_of_the_later_plays_is_reported_from_its_stamp():
    stamp = {'usable': True, 'current': True, 'reasons': [], 'facts': {'node_version': '22.1.0', 'model': 'us.m'}}
    facts = fleet_report.fast_path_facts({'claude_fleet_stamp': stamp}, ['workstations', 'claude_fleet_fast_path'])
    assert facts == {'node_version': '22.1.0', 'model': 'us.m', 'smoke': [], 'smoke_enabled': False, 'fast_path': True,
                     'fast_path_reasons': [], 'findings': []}
    report = fleet_report.assemble(['ws1'], {'ws1': facts}, {'usable': True}, now=NOW)
    assert [(r['host'], r['status'], r['fast_path']) for r in report['hosts']] == [('ws1', 'ok', True)]


def test_a_host_outside_the_fast_path_group_or_not_current_has_no_stamp_report():
    stamp = {'usable': True, 'current': True, 'reasons': [], 'facts': {'node_version': '22.1.0'}}
    # Current, but the smoke play was to run on it (not in the group): without its own facts it failed there.
    assert fleet_report.fast_path_facts({'claude_fleet_stamp': stamp}, ['workstations']) is None
    assert fleet_report.fast_path_facts({'claude_fleet_stamp': dict(stamp, current=False)}, ['claude_fleet_fast_path']) is None
    assert fleet_report.fast_path_facts({}, ['claude_fleet_fast_path']) is None
    assert fleet_report.fast_path_facts(None, None) is None


class CountingHostvars(dict):
    """hostvars whose every hostvars[host] is counted: ansible-core computes all of a host's variables for each."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reads = {}

    def __getitem__(self, host):
        self.reads[host] = self.reads.get(host, 0) + 1
        return super().__getitem__(host)

    def get(self, host, default=None):
        return self[host] if host in self else default


def test_the_action_reads_each_hosts_variables_once_and_reports_every_host(tmp_path):
    from unittest import mock  # pylint: disable=import-outside-toplevel
    from ansible.template import Templar  # pylint: disable=import-outside-toplevel

    stamp = {'usable': True, 'current': True, 'reasons': [], 'facts': {'node_version': '22.1.0', 'model': 'us.m'}}
    hostvars = CountingHostvars({
        'ws1': {'_report_host': dict(BASE, smoke=[]), 'group_names': ['workstations']},
        'ws2': {'ansible_facts': {'claude_fleet_stamp': stamp}, 'group_names': ['workstations', 'claude_fleet_fast_path']},
        'ws3': {'settings_failure': {'summary': '/home/alice/.claude/settings.json is not JSON'}, 'group_names': ['workstations']},
    })
    task = mock.MagicMock(async_val=0, check_mode=False, diff=False)
    task.args = {'group_hosts': ['ws1', 'ws2', 'ws3', 'gone'], 'dir': str(tmp_path), 'formats': ['json'], 'preflight': {'usable': True},
                 'fail': False}
    plugin = fleet_report.ActionModule(task, mock.MagicMock(), mock.MagicMock(), mock.MagicMock(), Templar(loader=mock.MagicMock()),
                                       mock.MagicMock())
    plugin.run(task_vars={'hostvars': hostvars})
    assert hostvars.reads == {'ws1': 1, 'ws2': 1, 'ws3': 1}
    written = json.loads((tmp_path / 'fleet-report.json').read_text())
    assert [(r['host'], r['status']) for r in written['hosts']] == [('gone', 'failed'), ('ws1', 'ok'), ('ws2', 'ok'), ('ws3', 'failed')]
    assert written['hosts'][2]['fast_path'] is True and 'is not JSON' in written['hosts'][3]['detail']
