# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings role's model policy drop-in, run by ansible-playbook on the controller itself.

No developer users and every managed path under a temporary directory: the role writes only the
managed settings file and the model policy drop-in beside it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
APP = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/fleetopus55"
POLICY = {"settings_available_models": ["opus", "us.anthropic.claude-sonnet-5-5"], "settings_enforce_available_models": True,
          "settings_model_overrides": {"claude-opus-5-5": APP}}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the settings role writes its managed files as root (become)")

PLAYBOOK = """
- name: Settings role, managed files only
  hosts: localhost
  connection: local
  gather_facts: true
  roles:
    - claude_fleet.bedrock.settings
"""


def play(tmp_path, **variables):
    base = {"settings_users": [], "settings_managed_path": str(tmp_path / "etc" / "managed-settings.json"),
            "settings_ca_file": str(tmp_path / "etc" / "ca.pem"), "ansible_python_interpreter": sys.executable}
    base.update(variables)
    (tmp_path / "play.yml").write_text(PLAYBOOK, encoding="utf-8")
    (tmp_path / "vars.json").write_text(json.dumps(base), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update({"ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "PATH": BIN + os.pathsep + env.get("PATH", "")})
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", str(tmp_path / "play.yml"), "-e", "@" + str(tmp_path / "vars.json")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    recap = [line for line in proc.stdout.splitlines() if line.startswith("localhost ")]
    return proc, recap[-1] if recap else ""


def test_the_policy_drop_in_is_written_whole_kept_and_removed(tmp_path):
    drop_in = tmp_path / "etc" / "managed-settings.d" / "20-claude-fleet-models.json"
    proc, recap = play(tmp_path, **POLICY)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert json.loads(drop_in.read_text(encoding="utf-8")) == {
        "availableModels": ["opus", "us.anthropic.claude-sonnet-5-5"], "enforceAvailableModels": True, "modelOverrides": {"claude-opus-5-5": APP}}
    assert oct(drop_in.stat().st_mode & 0o777) == "0o644"
    proc, recap = play(tmp_path, **POLICY)
    assert proc.returncode == 0 and "changed=0" in recap, recap
    # An override dropped from the options leaves the file (a merge would keep it).
    proc, recap = play(tmp_path, **{**POLICY, "settings_model_overrides": {}})
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "modelOverrides" not in json.loads(drop_in.read_text(encoding="utf-8"))
    proc, recap = play(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert not drop_in.exists()


@pytest.mark.parametrize("variables, words", [
    ({"settings_available_models": ["opus", "eu.anthropic.claude-haiku-5-5"]},
     'settings_available_models[1] \\"eu.anthropic.claude-haiku-5-5\\" is a eu. cross-region inference profile'),
    ({"settings_model_overrides": {"claude-opus-5-5": "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/x"}},
     "is an inference profile of region eu-west-1 but settings_aws_region is us-east-1"),
    ({"settings_enforce_available_models": True}, "settings_enforce_available_models has no effect without settings_available_models"),
    (dict(POLICY, settings_managed_enabled=False), "set settings_managed_enabled to true"),
])
def test_a_bad_policy_fails_before_any_change(tmp_path, variables, words):
    proc, recap = play(tmp_path, **variables)
    assert proc.returncode != 0
    assert words in proc.stdout, proc.stdout[-3000:]
    assert "changed=0" in recap
    assert not (tmp_path / "etc").exists()
