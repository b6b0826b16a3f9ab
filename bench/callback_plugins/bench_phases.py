# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-play and per-task wall times of one ansible-playbook run, for bench/fleet_bench.py."""
from __future__ import annotations

DOCUMENTATION = r"""
name: bench_phases
type: aggregate
short_description: Write the wall time of each play and task to a JSON file (bench/fleet_bench.py)
description:
  - Records when each play and task starts (all hosts of a task together, as the linear strategy runs
    them) and writes them to the file named by E(CLAUDE_FLEET_BENCH_PHASES) when the run ends.
requirements:
  - enable in ansible.cfg or with ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_phases'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._events = []
        self._play = ''

    def _mark(self, kind, name):
        self._events.append({'kind': kind, 'play': self._play, 'name': name, 'at': time.time()})

    def v2_playbook_on_start(self, playbook):
        self._mark('playbook', os.path.basename(playbook._file_name))

    def v2_playbook_on_play_start(self, play):
        self._play = play.get_name().strip()
        self._mark('play', self._play)

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._mark('task', task.get_name().strip())

    def v2_playbook_on_handler_task_start(self, task):
        self._mark('task', task.get_name().strip())

    def v2_playbook_on_stats(self, stats):
        self._mark('end', '')
        path = os.environ.get('CLAUDE_FLEET_BENCH_PHASES')
        if path:
            with open(path, 'w', encoding='utf-8') as handle:
                json.dump(self._events, handle)
