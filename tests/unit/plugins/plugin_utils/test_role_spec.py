# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role argument spec checked inside a role's one action (imported with rolespec_validate false), not by a task
of its own: the same check as ansible.builtin.validate_argument_spec, each bad option named, before any change."""

from __future__ import annotations

import os
from unittest import mock

import pytest
import yaml
from ansible.errors import AnsibleActionFail
from ansible.template import Templar, trust_as_template

from ansible_collections.claude_fleet.bedrock.plugins.action import bedrock_preflight, fleet_report
from ansible_collections.claude_fleet.bedrock.plugins.plugin_utils import action as action_utils

PLAYBOOKS = os.path.join(os.path.dirname(action_utils.ROLES), 'playbooks')


def plugin(module, variables=None, **args):
    """The action as the task executor makes it: its templar sees the task's variables."""
    task = mock.MagicMock(async_val=0, check_mode=False, diff=False)
    task.args = args
    connection = mock.MagicMock()
    connection._shell.tmpdir = None  # pylint: disable=protected-access
    templar = Templar(loader=mock.MagicMock(), variables=variables or {})
    return module.ActionModule(task, connection, mock.MagicMock(), mock.MagicMock(), templar, mock.MagicMock())


def test_the_options_are_the_role_argument_spec_entry_point():
    options = action_utils.role_options('_preflight')
    assert options['_preflight_retries']['type'] == 'int' and options['_preflight_secret_key']['no_log'] is True
    assert set(action_utils.role_options('_report')) >= {'_report_dir', '_report_formats'}


@pytest.mark.parametrize('variables, option', [
    ({'_preflight_retries': 'many'}, '_preflight_retries'),
    ({'_preflight_group_by_host': 'perhaps'}, '_preflight_group_by_host'),
    ({'_preflight_references': {'not': 'a list'}}, '_preflight_references'),
])
def test_a_bad_role_variable_is_named_and_no_aws_call_is_made(tmp_path, variables, option):
    """As the role's own validation task named it, in the task's failure, also with fail false."""
    action = plugin(bedrock_preflight, targets=[{'host': 'ws1', 'region': 'us-east-1', 'models': {}}], cache_dir=str(tmp_path),
                    fail=False)
    action._execute_module = mock.MagicMock()  # pylint: disable=protected-access
    result = action.run(task_vars=dict(variables, inventory_hostname='ws1', hostvars={}))
    assert action._execute_module.call_count == 0  # pylint: disable=protected-access
    assert result['failed'] is True and len(result['option_problems']) == 1 and option in result['option_problems'][0]
    assert result['msg'][1:] == result['option_problems']


def test_good_role_variables_pass_templated():
    task_vars = {'claude_fleet_preflight_retries': 3, '_preflight_retries': trust_as_template('{{ claude_fleet_preflight_retries }}'),
                 '_preflight_invoke': 'no', '_preflight_region': 'eu-west-1'}
    action = plugin(bedrock_preflight, task_vars)
    assert action.role_spec_errors('_preflight', task_vars) == []


def test_a_variable_that_cannot_be_templated_is_named_and_a_secret_one_without_the_error_text():
    action = plugin(bedrock_preflight)
    errors = action.role_spec_errors('_preflight', {
        '_preflight_region': trust_as_template('{{ undefined_region_variable }}'),
        '_preflight_secret_key': trust_as_template('{{ undefined_secret_s3cr3t }}')})
    assert len(errors) == 2
    region = [e for e in errors if e.startswith('_preflight_region')][0]
    secret = [e for e in errors if e.startswith('_preflight_secret_key')][0]
    assert 'undefined_region_variable' in region, 'the error says what is undefined'
    assert secret == '_preflight_secret_key could not be templated' and 's3cr3t' not in secret


def test_a_message_never_quotes_a_no_log_options_value(monkeypatch):
    """ansible-core's messages may quote a value (a bad choice, an int that is not one)."""
    monkeypatch.setitem(action_utils._SPECS, ('_test', 'main'), {  # pylint: disable=protected-access
        '_test_pin': {'type': 'int', 'no_log': True}, '_test_mode': {'type': 'str', 'choices': ['a', 'b']}})
    errors = plugin(bedrock_preflight).role_spec_errors('_test', {'_test_pin': 'pin-s3cr3t', '_test_mode': 'pin-s3cr3t'})
    assert len(errors) == 2 and all('pin-s3cr3t' not in e for e in errors), errors
    assert any('_test_pin' in e for e in errors) and any('_test_mode' in e for e in errors)


def test_the_report_fails_naming_a_bad_report_option_before_writing(tmp_path):
    action = plugin(fleet_report, group_hosts=[], dir=str(tmp_path / 'report'), formats=['json'])
    with pytest.raises(AnsibleActionFail, match='_report_formats'):
        action.run(task_vars={'_report_formats': ['pdf'], 'hostvars': {}})
    assert not (tmp_path / 'report').exists()


@pytest.mark.parametrize('playbook, role', [('setup.yml', '_preflight'), ('setup.yml', '_report'), ('verify.yml', '_preflight'),
                                            ('verify.yml', '_report')])
def test_the_playbooks_leave_the_check_to_the_action(playbook, role):
    """ansible-core would add a validation task of its own; the action checks the same spec (one task less per run)."""
    with open(os.path.join(PLAYBOOKS, playbook), encoding='utf-8') as handle:
        plays = yaml.safe_load(handle)
    imports = [task[key] for play in plays for section in ('pre_tasks', 'tasks') for task in play.get(section) or []
               for key in ('ansible.builtin.import_role', 'ansible.builtin.include_role')
               if key in task and task[key]['name'] == 'claude_fleet.bedrock.%s' % role and 'tasks_from' not in task[key]]
    assert imports and all(found.get('rolespec_validate') is False for found in imports)
