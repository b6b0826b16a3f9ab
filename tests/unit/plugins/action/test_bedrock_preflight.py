# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight in one task: one access check per host group, a summary without secrets, a passing result reused."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from ansible.errors import AnsibleActionFail
from ansible.template import Templar

from ansible_collections.claude_fleet.bedrock.plugins.action import bedrock_preflight as bp

TARGETS = [{'host': 'ws1', 'region': 'us-east-1', 'models': {'primary': 'us.anthropic.claude-sonnet-5-5'}, 'profile': '',
            'endpoint_url': '', 'hosts': 2, 'label': 'us-east-1, 2 hosts'},
           {'host': 'ws3', 'region': 'eu-west-1', 'models': {'primary': 'eu.anthropic.claude-sonnet-5-5'}, 'profile': 'eu',
            'endpoint_url': '', 'hosts': 1, 'label': 'eu-west-1, profile eu, 1 host'}]
PASSED = {'usable': True, 'remedies': [], 'failed_references': [], 'aws_calls': 3, 'aws_retries': 0,
          'references': [{'reference': 'us.anthropic.claude-sonnet-5-5', 'names': ['primary'], 'status': 'usable',
                          'usable': True, 'remedy': '', 'profile': {'regions': ['us-east-1', 'us-west-2']}}]}


def action(tmp_path, outcomes, check_mode=False, hostvars=None, **args):
    """The action with the access modules replaced by OUTCOMES (one per call, in order); returns (action, calls)."""
    task = mock.MagicMock(async_val=0, check_mode=check_mode, diff=False)
    # fail false: most tests read the whole result of an unusable preflight (verify.yml's way).
    task.args = dict({'targets': TARGETS, 'cache_inputs': {'checks': []}, 'max_age': 3600, 'fail': False,
                      'cache_dir': str(tmp_path / 'cache'), 'check': {'references': [], 'invoke': False, 'base_url': ''}}, **args)
    connection = mock.MagicMock()
    connection._shell.tmpdir = None  # pylint: disable=protected-access
    plugin = bp.ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), Templar(loader=mock.MagicMock()), mock.MagicMock())
    calls, syslog = [], []

    def execute(module_name, module_args, task_vars):
        calls.append((module_name, module_args))
        syslog.append(task_vars.get('ansible_no_target_syslog'))
        outcome = outcomes[len(calls) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    plugin._execute_module = execute  # pylint: disable=protected-access
    # The role's credentials are its variables, not task arguments (the task is not no_log).
    task_vars = {'inventory_hostname': 'ws1', 'hostvars': hostvars or {}, '_preflight_access_key': 'AKIAROLE',
                 '_preflight_secret_key': 'role-secret'}
    plugin.syslog = syslog
    return plugin, calls, task_vars


def test_each_host_group_is_checked_once_and_a_pass_is_reused_without_a_call(tmp_path):
    plugin, calls, task_vars = action(tmp_path, [PASSED, PASSED])
    first = plugin.run(task_vars=task_vars)
    assert [name for name, _args in calls] == ['claude_fleet.bedrock.model_access_info'] * 2
    assert calls[0][1]['region'] == 'us-east-1' and calls[1][1]['profile'] == 'eu'
    assert 'base_url' not in calls[0][1], 'the Mantle option is not given to the runtime check'
    assert first['usable'] is True and first['reused'] is False and first['aws_calls'] == 6
    assert first['targets'][0]['references'][0]['regions'] == ['us-east-1', 'us-west-2']

    again, calls_again, task_vars = action(tmp_path, [])
    second = again.run(task_vars=task_vars)
    assert calls_again == [], 'a reused preflight makes no AWS call'
    assert second['reused'] is True and second['checked_at'] == first['checked_at']
    assert 'role-secret' not in (tmp_path / 'cache' / 'preflight.json').read_text()


def test_another_host_group_is_checked_again(tmp_path):
    plugin, calls, task_vars = action(tmp_path, [PASSED, PASSED])
    assert plugin.run(task_vars=task_vars)['reused'] is False and len(calls) == 2
    moved = [dict(TARGETS[0], region='us-west-2'), TARGETS[1]]
    again, calls_again, task_vars = action(tmp_path, [PASSED, PASSED], targets=moved)
    assert again.run(task_vars=task_vars)['reused'] is False, 'the targets are part of the cache key'
    assert calls_again[0][1]['region'] == 'us-west-2'


def test_a_failed_group_is_a_labelled_remedy_and_is_never_remembered(tmp_path):
    failed = dict(PASSED, usable=False, remedies=['allow bedrock:InvokeModel'], failed_references=['eu.x'])
    plugin, _calls, task_vars = action(tmp_path, [PASSED, failed])
    result = plugin.run(task_vars=task_vars)
    assert not result.get('failed'), 'the role stops the play, with every remedy; the action only reports'
    preflight = result
    assert preflight['usable'] is False and preflight['failed_references'] == ['eu.x']
    assert preflight['remedies'] == ['[eu-west-1, profile eu, 1 host] allow bedrock:InvokeModel']
    again, calls, task_vars = action(tmp_path, [failed])
    preflight = again.run(task_vars=task_vars)
    assert [args['region'] for _name, args in calls] == ['eu-west-1'], 'only the group that failed is checked again'
    assert preflight['usable'] is False and preflight['reused'] is False
    assert [t['reused'] for t in preflight['targets']] == [True, False]


def test_a_workstation_added_to_a_group_that_passed_is_not_checked_again(tmp_path):
    plugin, _calls, task_vars = action(tmp_path, [PASSED, PASSED])
    first = plugin.run(task_vars=task_vars)
    grown = [dict(TARGETS[0], hosts=3, label='us-east-1, 3 hosts', host='ws9'), TARGETS[1]]
    again, calls, task_vars = action(tmp_path, [], targets=grown)
    second = again.run(task_vars=task_vars)
    assert calls == [] and second['reused'] is True
    assert second['targets'][0]['hosts'] == 3 and second['targets'][0]['label'] == 'us-east-1, 3 hosts'
    assert second['aws_calls'] == 0 and second['checked_at'] == first['checked_at']
    assert second['age'] >= 0


def test_a_new_group_is_checked_alone_and_the_result_stands_on_the_oldest_check(tmp_path):
    plugin, _calls, task_vars = action(tmp_path, [PASSED, PASSED], targets=TARGETS[:1])
    first = plugin.run(task_vars=task_vars)
    with mock.patch.object(bp.time, 'time', return_value=bp.time.time() + 60):
        again, calls, task_vars = action(tmp_path, [PASSED], targets=TARGETS)
        result = again.run(task_vars=task_vars)
    preflight = result
    assert [args['region'] for _name, args in calls] == ['eu-west-1']
    assert preflight['reused'] is False and 'age' not in result
    assert preflight['aws_calls'] == PASSED['aws_calls'], 'only the calls this run made'
    assert preflight['checked_at'] == first['checked_at'] < preflight['targets'][1]['checked_at']


def test_other_credentials_for_a_group_check_it_again(tmp_path):
    hostvars = {'ws3': {'claude_fleet_aws_access_key': 'AKIAWS3', 'claude_fleet_aws_secret_key': 'ws3-secret'}}
    plugin, _calls, task_vars = action(tmp_path, [PASSED, PASSED], hostvars=hostvars)
    plugin.run(task_vars=task_vars)
    rotated = {'ws3': dict(hostvars['ws3'], claude_fleet_aws_secret_key='ws3-rotated')}
    again, calls, task_vars = action(tmp_path, [PASSED], hostvars=rotated)
    assert again.run(task_vars=task_vars)['reused'] is False
    assert [args['secret_key'] for _name, args in calls] == ['ws3-rotated'], 'only the group whose secret changed'


def test_a_check_that_cannot_run_becomes_that_groups_remedy(tmp_path):
    plugin, _calls, task_vars = action(tmp_path, [{'failed': True, 'msg': 'boto3 is missing'}, RuntimeError('no route')],
                                       targets=TARGETS)
    preflight = plugin.run(task_vars=task_vars)
    assert preflight['usable'] is False
    assert preflight['remedies'] == ['[us-east-1, 2 hosts] The Bedrock check could not run: boto3 is missing',
                                     '[eu-west-1, profile eu, 1 host] The Bedrock check could not run: no route']


def test_a_group_uses_its_first_hosts_own_credentials(tmp_path):
    hostvars = {'ws3': {'claude_fleet_aws_access_key': 'AKIAWS3', 'claude_fleet_aws_secret_key': 'ws3-secret'}}
    plugin, calls, task_vars = action(tmp_path, [PASSED, PASSED], hostvars=hostvars)
    plugin.run(task_vars=task_vars)
    assert (calls[0][1]['access_key'], calls[0][1]['secret_key']) == ('AKIAROLE', 'role-secret')
    assert (calls[1][1]['access_key'], calls[1][1]['secret_key']) == ('AKIAWS3', 'ws3-secret')
    assert 'session_token' not in calls[1][1], 'an empty credential is left to the SDK'


def test_mantle_checks_with_its_own_module_and_options(tmp_path):
    plugin, calls, task_vars = action(tmp_path, [PASSED, PASSED], endpoint='mantle',
                                      check={'base_url': 'https://127.0.0.1:9/mantle', 'invoke': True, 'references': []})
    plugin.run(task_vars=task_vars)
    assert {name for name, _args in calls} == {'claude_fleet.bedrock.mantle_access_info'}
    assert calls[0][1]['base_url'] == 'https://127.0.0.1:9/mantle' and 'invoke' not in calls[0][1]


def test_check_mode_and_max_age_zero_remember_nothing(tmp_path):
    for kwargs in ({'check_mode': True}, {'max_age': 0}):
        plugin, _calls, task_vars = action(tmp_path, [PASSED, PASSED], **kwargs)
        assert plugin.run(task_vars=task_vars)['usable'] is True
        assert not (tmp_path / 'cache' / 'preflight.json').exists(), kwargs


@pytest.mark.parametrize('args, option', [({'targets': 'us-east-1'}, 'targets'), ({'regoin': 'x'}, 'regoin'),
                                          ({'credentials': {'secret_key': 'x'}}, 'credentials')])
def test_bad_arguments_of_the_role_are_named(tmp_path, args, option):
    plugin, _calls, task_vars = action(tmp_path, [], **args)
    with pytest.raises(AnsibleActionFail, match=option):
        plugin.run(task_vars=task_vars)


@pytest.mark.parametrize('args, option', [
    ({'max_age': 'soon'}, 'claude_fleet_preflight_max_age'), ({'max_age': -1}, 'claude_fleet_preflight_max_age'),
    ({'endpoint': 'classic'}, 'claude_fleet_bedrock_endpoint'),
    ({'check': {'retries': 0}}, '_preflight_retries (claude_fleet_preflight_retries) must be >= 1 (got 0)'),
    ({'check': {'retries': 'many'}}, 'claude_fleet_preflight_retries'),
    ({'check': {'retry_delay': -0.5}}, 'claude_fleet_preflight_retry_delay'),
    ({'group_by_host': False, 'targets': [dict(TARGETS[0], region='')]}, 'claude_fleet_bedrock_region'),
])
def test_bad_option_values_fail_the_task_named_before_any_aws_call_whatever_fail_says(tmp_path, args, option):
    """Nothing was checked: the run stops (fail false too), the message naming the option (the task is not no_log)."""
    plugin, calls, task_vars = action(tmp_path, [PASSED, PASSED], **args)
    result = plugin.run(task_vars=task_vars)
    assert calls == [], 'no AWS call with bad options'
    assert result['failed'] is True and result['usable'] is False and len(result['option_problems']) == 1
    assert result['msg'] == ['Fix the Bedrock preflight options and re-run:'] + result['option_problems']
    assert option in result['option_problems'][0]
    assert not (tmp_path / 'cache' / 'preflight.json').exists()


def test_an_unusable_model_fails_the_task_with_every_remedy_and_a_passing_group_is_still_remembered(tmp_path):
    failed = dict(PASSED, usable=False, remedies=['allow bedrock:InvokeModel'], failed_references=['eu.x'])
    plugin, _calls, task_vars = action(tmp_path, [PASSED, failed], fail=True)
    result = plugin.run(task_vars=task_vars)
    assert result == {'failed': True, 'changed': False, 'usable': False,
                      'msg': ['Amazon Bedrock is not usable for Claude Code; fix every item and re-run:',
                              '[eu-west-1, profile eu, 1 host] allow bedrock:InvokeModel']}
    again, calls, task_vars = action(tmp_path, [failed], fail=True)
    assert again.run(task_vars=task_vars)['failed'] is True
    assert [args['region'] for _name, args in calls] == ['eu-west-1'], 'the group that passed was remembered'


def test_a_usable_preflight_does_not_fail_and_the_access_modules_do_not_log_on_the_controller(tmp_path):
    plugin, calls, task_vars = action(tmp_path, [PASSED, PASSED], fail=True)
    result = plugin.run(task_vars=task_vars)
    assert not result.get('failed') and result['usable'] is True and result['option_problems'] == []
    assert len(calls) == 2 and plugin.syslog == [True, True]
    assert result['msg'] == 'Bedrock preflight passed: 2 check(s), 6 AWS call(s), 0 retry(ies).'


def test_a_region_per_host_group_is_enough_when_hosts_are_grouped(tmp_path):
    plugin, calls, task_vars = action(tmp_path, [PASSED], targets=[TARGETS[0]], group_by_host=True)
    result = plugin.run(task_vars=task_vars)
    assert result['option_problems'] == [] and result['usable'] is True and len(calls) == 1


def test_the_cache_holds_only_digests_and_the_result(tmp_path):
    plugin, _calls, task_vars = action(tmp_path, [PASSED, PASSED], cache_inputs={'credentials': ['AKIAROLE', 'role-secret']})
    plugin.run(task_vars=task_vars)
    cache = json.loads((tmp_path / 'cache' / 'preflight.json').read_text())
    assert len(cache) == len(TARGETS) and all(len(key) == 64 for key in cache), 'one entry per host group'
    assert 'AKIAROLE' not in json.dumps(cache) and 'role-secret' not in json.dumps(cache)
    assert oct((tmp_path / 'cache' / 'preflight.json').stat().st_mode & 0o777) == '0o600'
