# -*- coding: utf-8 -*-
# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight cache: what makes a passing preflight reusable, and for how long."""

from __future__ import annotations

from ansible_collections.claude_fleet.bedrock.plugins.plugin_utils import preflight_cache as pc

INPUTS = {'targets': [{'region': 'us-east-1', 'models': {'primary': 'us.x'}}], 'credentials': ['AKIA', 'secret', '', ''], 'checks': []}


def test_the_key_follows_inputs_credentials_and_the_controllers_aws_sources(tmp_path):
    env = {'AWS_SHARED_CREDENTIALS_FILE': str(tmp_path / 'credentials'), 'AWS_CONFIG_FILE': str(tmp_path / 'config')}
    base = pc.inputs_key(INPUTS, env)
    assert base == pc.inputs_key(INPUTS, dict(env))
    assert base != pc.inputs_key(dict(INPUTS, credentials=['AKIA', 'rotated', '', '']), env), 'a rotated secret checks again'
    assert base != pc.inputs_key(dict(INPUTS, targets=[{'region': 'us-west-2', 'models': {'primary': 'us.x'}}]), env)
    assert base != pc.inputs_key(INPUTS, dict(env, AWS_PROFILE='other'))
    (tmp_path / 'credentials').write_text('[default]\naws_access_key_id = AKIA2\n')
    assert base != pc.inputs_key(INPUTS, env), 'another credentials file checks again'
    assert 'secret' not in base


def test_only_a_passing_result_younger_than_the_maximum_age_is_reused():
    cache = {'k': {'checked': 1000.0, 'checked_at': 'then', 'result': {'usable': True}},
             'bad': {'checked': 1000.0, 'result': {'usable': False}}}
    assert pc.lookup(cache, 'k', 3600, 1000.0 + 3599)['checked_at'] == 'then'
    assert pc.lookup(cache, 'k', 3600, 1000.0 + 3600) is None, 'the age is exceeded: check again'
    assert pc.lookup(cache, 'k', 0, 1001.0) is None, 'max_age 0: always check'
    assert pc.lookup(cache, 'bad', 3600, 1001.0) is None, 'a failed preflight is never reused'
    assert pc.lookup(cache, 'other', 3600, 1001.0) is None
    assert pc.lookup(cache, 'k', 3600, 900.0) is None, 'a clock set back does not extend the age'
