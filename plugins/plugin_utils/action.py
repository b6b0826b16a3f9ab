# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's controller-side action plugins share: their argument check and their atomic file write."""
from __future__ import annotations

import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


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
