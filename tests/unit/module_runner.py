# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way the unit tests run a module's main(): as Ansible does (run_module), or with a mocked
AnsibleAWSModule whose Bedrock clients wrap a fake (run_aws_module). tests/unit/conftest.py puts this
directory on sys.path (pytest's default import mode), so test files import it as ``module_runner``."""
from __future__ import annotations

import json
from unittest.mock import MagicMock

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.claude_fleet.bedrock.plugins.module_utils import bedrock as bm


def run_module(module, capsys, args):
    """Run MODULE.main() with ARGS like Ansible does; return (exit code, parsed JSON result, no_log masking applied)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out[out.index('{'):])


class ModuleExit(Exception):
    """How a mocked AnsibleAWSModule leaves main(): KIND is "exit" or "fail", RESULT what it was given."""

    def __init__(self, kind, result):
        super().__init__(kind)
        self.kind = kind
        self.result = result
        self.module_kwargs = {}
        self.services = []


def _exiting(kind):
    def raiser(**result):
        raise ModuleExit(kind, result)
    return raiser


def _failing_with_error(error, **_kwargs):
    raise ModuleExit("fail", {"msg": str(error)})


def run_aws_module(monkeypatch, module, client, params, **attributes):
    """Run MODULE.main() with a mocked AnsibleAWSModule (PARAMS, ATTRIBUTES such as region) and bedrock_clients wrapping CLIENT.

    Returns the ModuleExit, with the AnsibleAWSModule keyword arguments (module_kwargs) and the services
    the module asked clients for (services)."""
    aws_module = MagicMock()
    aws_module.params = params
    for name, value in attributes.items():
        setattr(aws_module, name, value)
    aws_module.exit_json.side_effect = _exiting("exit")
    aws_module.fail_json.side_effect = _exiting("fail")
    aws_module.fail_json_aws_error.side_effect = _failing_with_error
    constructor = MagicMock(return_value=aws_module)
    monkeypatch.setattr(module, "AnsibleAWSModule", constructor)
    requested = []

    def clients(_module, stats, services=("bedrock",)):
        requested.extend(services)
        return {name: RetryingBotoClientWrapper(client, bm.counting_retry(stats, retries=3, delay=0)) for name in services}

    monkeypatch.setattr(module, "bedrock_clients", clients)
    with pytest.raises(ModuleExit) as excinfo:
        module.main()
    assert constructor.call_args.kwargs["supports_check_mode"] is True
    excinfo.value.module_kwargs = constructor.call_args.kwargs
    excinfo.value.services = requested
    return excinfo.value
