# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's controller-side action plugins share: their argument check, their role's argument spec
check and their atomic file write."""
from __future__ import annotations

import os
import tempfile

import yaml

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

# The collection's roles (this file is plugins/plugin_utils/action.py).
ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), 'roles')
_SPECS: dict = {}


def role_options(role, entry='main'):
    """The options of one entry point of a role of this collection (its meta/argument_specs.yml), read once per process."""
    if (role, entry) not in _SPECS:
        with open(os.path.join(ROLES, role, 'meta', 'argument_specs.yml'), encoding='utf-8') as handle:
            _SPECS[(role, entry)] = yaml.safe_load(handle)['argument_specs'][entry].get('options') or {}
    return _SPECS[(role, entry)]


class CheckedAction(ActionBase):
    """An action plugin NAME of the controller whose options are the frozenset ARGS; an unknown option fails the task, naming it."""

    TRANSFERS_FILES = False
    NAME = ''
    ARGS: frozenset = frozenset()

    def start(self, tmp, task_vars):
        """(result, args, task_vars) for run(): the base class's result, and the task's options once checked."""
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self._task.args
        unknown = sorted(set(args) - self.ARGS)
        if unknown:
            raise AnsibleActionFail('%s: unsupported option(s) %s' % (self.NAME, ', '.join(unknown)))
        return result, args, task_vars

    def role_spec_errors(self, role, task_vars, entry='main'):
        """What ansible.builtin.validate_argument_spec would say of ROLE's variables, each message naming the option.

        For a role whose only task is this action, imported with rolespec_validate false: checking the spec here
        instead of in a task of its own costs every run one task less, and the check is the same (ansible-core's
        ArgumentSpecValidator on the templated role variables). A variable that cannot be templated is named too
        (without the error's text for a no_log option, which may quote the value)."""
        options = role_options(role, entry)
        values, errors = {}, []
        for name, spec in options.items():
            if name not in task_vars:
                continue
            try:
                values[name] = self._templar.template(task_vars[name])
            except AnsibleError as exc:
                errors.append('%s could not be templated%s' % (name, '' if spec.get('no_log') else ': %s' % to_text(exc)))
        if errors:
            return errors
        # ansible-core's messages may quote a value: never a no_log option's.
        secrets = sorted({to_text(values[name]) for name, spec in options.items()
                          if spec.get('no_log') and name in values and len(to_text(values[name])) >= 3}, key=len, reverse=True)
        messages = []
        for message in ArgumentSpecValidator(options).validate(values).error_messages:
            for secret in secrets:
                message = message.replace(secret, '********')
            messages.append(message)
        return messages


def write_atomic(path, text, mode, prefix=None):
    """Write TEXT to PATH through a temporary file of its directory with MODE, renamed over PATH (no partial file)."""
    directory, name = os.path.split(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix or '.%s.' % name)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
