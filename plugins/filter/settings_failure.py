# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Summarise a failed task of the settings role for the fleet report: which file, and why."""
from __future__ import annotations

DOCUMENTATION = r"""
name: settings_failure
short_description: The file and the reason of a failed task result
version_added: 0.2.0
description:
  - Takes C(ansible_failed_result) in a rescue and returns C({file, reason, task}) for the fleet report.
  - For a loop, the first failed item gives the file and the reason.
  - Only the C(path)/C(dest) and C(msg) fields are read; modules mask their no_log parameters in C(msg).
options:
  _input:
    description: The failed task's result.
    type: dict
    required: true
  task:
    description: The failed task's name.
    type: str
    default: ''
"""

EXAMPLES = r"""
- name: Record why this host failed
  ansible.builtin.set_fact:
    settings_failure: "{{ ansible_failed_result | claude_fleet.bedrock.settings_failure(task=ansible_failed_task.name) }}"
"""

RETURN = r"""
_value:
  description: C(file) (may be empty), C(reason) (at most 600 characters), C(summary) (the reason, naming the file) and C(task).
  type: dict
"""

MAX_REASON = 600


def settings_failure(result, task=""):
    result = result if isinstance(result, dict) else {}
    failed_items = [item for item in result.get("results") or [] if isinstance(item, dict) and item.get("failed")]
    source = failed_items[0] if failed_items else result
    path = source.get("path") or source.get("dest") or ""
    reason = source.get("msg") or result.get("msg") or "failed"
    if not isinstance(reason, str):
        reason = str(reason)
    reason = " ".join(reason.split())[:MAX_REASON]
    path = path if isinstance(path, str) else ""
    summary = reason if not path or path in reason else "%s: %s" % (path, reason)
    return {"file": path, "reason": reason, "summary": summary, "task": task or ""}


class FilterModule:
    """Failure summaries of the settings role."""

    def filters(self):
        return {"settings_failure": settings_failure}
