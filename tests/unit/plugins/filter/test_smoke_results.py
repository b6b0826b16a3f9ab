# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The smoke role's per-user records (plugins/filter/smoke_remedy.py, smoke_results)."""
from __future__ import annotations

import jinja2

from ansible_collections.claude_fleet.bedrock.plugins.filter.smoke_remedy import FilterModule, _truncate, smoke_results

PASSWD = {'alice': ['x', '1000', '1000', '', '/home/alice', '/bin/bash'], 'bob': ['x', '1001', '1001', '', '/home/bob', '/usr/bin/fish']}


def run(user, rc=0, stdout='', stderr=None, **extra):
    result = {'item': user, 'stdout': stdout, **extra}
    if rc is not None:
        result['rc'] = rc
    if stderr is not None:
        result['stderr'] = stderr
    return result


def records(runs, probes=(), expect=''):
    return smoke_results(runs, probes=list(probes), expect=expect, passwd=PASSWD, model='m1', region='r1')


def test_an_answer_passes_with_no_cause():
    assert records([run('alice', stdout='  4\n')]) == [
        {'user': 'alice', 'status': 'passed', 'rc': 0, 'answer': '4', 'shell': '/bin/bash', 'cause': '', 'remedy': '', 'probe': ''}]


def test_an_answer_that_does_not_match_expect_is_an_unexpected_answer():
    [record] = records([run('alice', stdout='five')], expect='^4$')
    assert record['status'] == 'failed' and record['cause'] == 'unexpected_answer'
    assert record['remedy'].endswith('claude_fleet_smoke_expect requires: five')


def test_a_failure_is_explained_from_the_probe_and_the_output_of_that_user():
    probes = [{'item': run('bob', rc=1), 'stdout': 'probe error: self-signed certificate in certificate chain'},
              {'item': run('alice', rc=1), 'stdout': 'probe ok: TLS, client certificate and proxy work'}]
    alice, bob = records([run('alice', rc=1, stderr='The security token included in the request is invalid.'),
                          run('bob', rc=124)], probes)
    assert (alice['cause'], bob['cause']) == ('bad_credentials', 'tls_trust')
    assert bob['shell'] == '/usr/bin/fish' and bob['probe'].startswith('probe error: self-signed')


def test_a_run_without_rc_fails_with_its_message_and_a_null_rc():
    # A task that failed before the command ran (become failed): no rc, the reason in msg.
    [record] = records([run('alice', rc=None, msg='Timeout (12s) waiting for privilege escalation prompt')])
    assert record['status'] == 'failed' and record['rc'] is None and record['cause'] == 'unknown'


def test_a_skipped_probe_is_no_probe():
    [record] = records([run('alice', rc=124)], [{'item': run('alice', rc=124), 'skipped': True}])
    assert record['probe'] == '' and record['cause'] == 'timeout'


def test_long_texts_are_bounded_as_the_report_shows_them():
    [record] = records([run('alice', stdout='x' * 500)], [], expect='^y')
    assert len(record['answer']) == 200 and len(record['remedy']) < 200


def test_truncate_is_jinja_truncate():
    env = jinja2.Environment()
    for text in ['', 'short', 'w ' * 152, 'a' * 305, 'a' * 306, ('word ' * 80).strip()]:
        assert _truncate(text, 300) == env.from_string('{{ t | truncate(300) }}').render(t=text)


def test_the_filter_is_registered():
    assert FilterModule().filters()['smoke_results'] is smoke_results
