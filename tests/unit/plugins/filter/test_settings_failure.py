# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible_collections.claude_fleet.bedrock.plugins.filter.settings_failure import FilterModule, settings_failure


def test_a_module_failure_names_the_file_once():
    result = {"failed": True, "path": "/home/alice/.claude/settings.json", "line": 2,
              "msg": "/home/alice/.claude/settings.json is not valid JSON: Expecting value at line 2 column 1; the file was left untouched"}
    found = settings_failure(result, task="User | Merge")
    assert found["file"] == "/home/alice/.claude/settings.json"
    assert found["summary"] == result["msg"] and found["task"] == "User | Merge"


def test_a_message_without_the_path_gets_it_in_front():
    found = settings_failure({"failed": True, "dest": "/home/bob/.profile", "msg": "Permission denied"})
    assert found["summary"] == "/home/bob/.profile: Permission denied"


def test_a_loop_failure_reports_its_first_failed_item():
    result = {"failed": True, "msg": "One or more items failed", "results": [
        {"failed": False, "msg": "All assertions passed"},
        {"failed": True, "msg": "settings_users[bob].shell \"tcsh\" is not supported\n (bash, zsh or fish)."}]}
    found = settings_failure(result)
    assert found == {"file": "", "reason": 'settings_users[bob].shell "tcsh" is not supported (bash, zsh or fish).',
                     "summary": 'settings_users[bob].shell "tcsh" is not supported (bash, zsh or fish).', "task": ""}


def test_long_reasons_are_bounded_and_odd_input_is_survived():
    assert len(settings_failure({"msg": "x" * 5000})["reason"]) == 600
    assert settings_failure(None)["reason"] == "failed"
    assert FilterModule().filters()["settings_failure"] is settings_failure
