# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The preflight-only playbooks the preflight tests and bench/preflight_bench.py run against the Bedrock emulator."""
from __future__ import annotations

import yaml


def preflight_play(controller=False, role_vars=None, save_result=False):
    """A playbook (YAML text, a list of plays: more plays may be appended) that runs the _preflight role alone.

    CONTROLLER: a play on localhost that names the workstations in claude_fleet_preflight_hosts; otherwise
    setup.yml's shape, a play on the workstations that includes the role once (run_once). ROLE_VARS: the
    include's vars. SAVE_RESULT: preflight_result is written, as JSON, to the file the result_file variable names.
    """
    # As the playbooks include it: the role's one task checks its argument spec itself.
    include = {"name": "Preflight", "ansible.builtin.include_role": {"name": "claude_fleet.bedrock._preflight", "rolespec_validate": False}}
    variables = dict(role_vars or {})
    if controller:
        variables = dict({"claude_fleet_preflight_hosts": "{{ groups['workstations'] }}"}, **variables)
    else:
        include["run_once"] = True
    if variables:
        include["vars"] = variables
    tasks = [include]
    if save_result:
        save = {"name": "Save the preflight result",
                "ansible.builtin.copy": {"content": "{{ preflight_result | to_json }}", "dest": "{{ result_file }}", "mode": "0600"}}
        if not controller:
            save.update({"run_once": True, "delegate_to": "localhost", "check_mode": False})
        tasks.append(save)
    play = {"name": "Preflight on the controller only" if controller else "Preflight only",
            "hosts": "localhost" if controller else "workstations", "gather_facts": False, "tasks": tasks}
    return yaml.safe_dump([play], sort_keys=False, width=1000)
