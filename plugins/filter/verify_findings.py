# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The findings of verify.yml (the _smoke role's diagnose entry point) from what it read on a workstation."""
from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.filter.smoke_remedy import smoke_remedy

DOCUMENTATION = r"""
name: verify_findings
short_description: Diagnose a workstation from what verify.yml read on it
version_added: 0.1.0
description:
  - Turns the registered results of the diagnose tasks into plain findings, each naming the user, the
    variable or file and the fix. An empty list means no problem was found.
  - Never includes a value it read except the names of variables, modes, owners and the public
    C(AWS_PROFILE) and C(AWS_REGION) values.
options:
  _input:
    description: Registered result of C(node --version) and C(claude --version) (a loop over the two names).
    type: dict
    required: true
  env_runs:
    description: Registered result of C(env) through each user's login shell (a loop over user names).
    type: dict
    required: true
  settings_stats:
    description: Registered result of M(ansible.builtin.stat) on each user's settings file (a loop over user names).
    type: dict
    required: true
  probes:
    description: Registered result of the TLS probe (roles/_smoke/files/tls_probe.py) per user (a loop over user names).
    type: dict
    default: {}
  endpoint:
    description: The Bedrock endpoint the probe connected to, named in findings.
    type: str
    default: ''
  region:
    description: The fleet's region; a login shell with another C(AWS_REGION) is a finding.
    type: str
    default: ''
  users:
    description: The settings role's C(settings_users); a user's C(auth_method) overrides O(auth_method).
    type: list
    elements: dict
    default: []
  auth_method:
    description: The fleet's authentication method (C(settings_auth_method)).
    type: str
    default: ''
  switch:
    description: The variable that must be C(1) in each login shell (C(CLAUDE_CODE_USE_MANTLE) on the Mantle endpoint).
    type: str
    default: CLAUDE_CODE_USE_BEDROCK
  settings_file:
    description: The settings file relative to the home, as named in findings.
    type: str
    default: .claude/settings.json
  last_report:
    description: The local report ansible-pull left (its parsed JSON), or empty.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Diagnose
  ansible.builtin.set_fact:
    verify_findings: "{{ versions | claude_fleet.bedrock.verify_findings(env_runs=envs, settings_stats=stats, probes=probes) }}"
"""

RETURN = r"""
_value:
  description: Findings, most fundamental first (binaries, reachability, each user's shell, each settings file, the last pull).
  type: list
  elements: str
"""

_ENV_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.M)
_OWNER_MODES = ("0600", "0400")


def _results(value, name):
    if not isinstance(value, dict) or not isinstance(value.get("results", []), list):
        raise AnsibleFilterError("verify_findings: %s must be a registered loop result" % name)
    return value.get("results", [])


def login_env(run):
    """The variables a login shell printed with `env` (later lines win, as in the shell)."""
    return dict(_ENV_LINE.findall(run.get("stdout") or ""))


def _binary(run):
    name = run.get("item", "?")
    rc = run.get("rc")
    text = ((run.get("stderr") or "") + "\n" + (run.get("msg") or "")).strip()
    if rc == 0 and (run.get("stdout") or "").strip():
        return None
    # Ansible could not execute it at all: not on the PATH.
    if rc is None or "[Errno 2]" in (run.get("msg") or ""):
        if name == "claude":
            return "claude is not installed system-wide: run setup.yml (role claude_code)."
        return "node is not installed: run setup.yml (role nodejs)."
    first = next((line for line in text.splitlines() if line.strip()), "no output")[:160]
    role = "claude_code" if name == "claude" else "nodejs"
    return ("%s is installed but does not run (exit %s: %s): reinstall it with setup.yml -e claude_fleet_fast_path=false"
            " (role %s)." % (name, rc, first, role))


def verify_findings(versions, env_runs, settings_stats, probes=None, endpoint="", region="", users=None, auth_method="",
                    settings_file=".claude/settings.json", last_report=None, switch="CLAUDE_CODE_USE_BEDROCK"):
    """Plain findings, each with its remedy."""
    out = []
    for run in _results(versions, "_input"):
        finding = _binary(run)
        if finding:
            out.append(finding)
    for run in _results(probes or {"results": []}, "probes"):
        lines = (run.get("stdout") or "").splitlines()
        errors = [line for line in lines if line.startswith("probe error:")]
        if errors or (run.get("rc") not in (0, None) and not run.get("skipped")):
            why = errors[0][len("probe error:"):].strip() if errors else "the probe exited %s" % run.get("rc")
            remedy = smoke_remedy(why, rc=1)["remedy"]
            out.append("%s: cannot reach %s: %s - %s" % (run.get("item", "?"), endpoint, why[:160], remedy))
    # As the settings role resolves it: the user's own method, else the fleet's.
    methods = {u.get("name"): u.get("auth_method") or auth_method for u in users or [] if isinstance(u, dict)}
    for run in _results(env_runs, "env_runs"):
        user = run.get("item", "?")
        env = login_env(run)
        if run.get("rc", 1) != 0:
            out.append("%s: the login shell failed (exit %s); check the rc files." % (user, run.get("rc", "?")))
        if env.get(switch, "") != "1":
            out.append("%s: %s is not 1 in the login shell; run setup.yml (role settings)." % (user, switch))
        if region and env.get("AWS_REGION", "") != region:
            out.append('%s: AWS_REGION is "%s", the fleet uses %s.' % (user, env.get("AWS_REGION", ""), region))
        if env.get("AWS_PROFILE") and methods.get(user) == "static_keys":
            out.append("%s: the login shell exports AWS_PROFILE=%s (an rc file line outside the managed block); with static keys"
                       " the AWS SDK then uses that profile and ignores the keys. Remove the export, or give %s auth_method: profile."
                       % (user, env["AWS_PROFILE"], user))
    shown = "~/" + settings_file.lstrip("/")
    for st in _results(settings_stats, "settings_stats"):
        user = st.get("item", "?")
        stat = st.get("stat") or {}
        if not stat.get("exists"):
            out.append("%s: no %s; run setup.yml (role settings)." % (user, shown))
        elif stat.get("pw_name") != user or stat.get("mode") not in _OWNER_MODES:
            out.append("%s: %s is %s owned by %s; it may hold credentials and must be 0600 owned by the user."
                       % (user, shown, stat.get("mode"), stat.get("pw_name")))
    report = last_report or {}
    if report:
        failed = [row for row in report.get("hosts", []) if row.get("status") == "failed"]
        for row in failed:
            detail = row.get("detail") or "; ".join(s.get("remedy", "") for s in row.get("smoke", []) if s.get("status") == "failed")
            out.append("The last ansible-pull run (%s) failed: %s" % (report.get("generated", "?"), detail or "see its log."))
    return out


class FilterModule:
    """verify.yml's diagnosis."""

    def filters(self):
        return {"verify_findings": verify_findings}
