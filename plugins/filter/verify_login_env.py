# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each developer's login shell sees, secrets masked (verify.yml's screen output)."""
from __future__ import annotations

from ansible_collections.claude_fleet.bedrock.plugins.filter.verify_findings import login_env, _results

DOCUMENTATION = r"""
name: verify_login_env
short_description: The listed variables each login shell sees, secrets masked
version_added: 0.1.0
description:
  - From the registered result of C(env) run through each user's login shell, returns per user the variables
    named in O(names) with their values and those in O(secret_names) as C((set)).
options:
  _input:
    description: Registered result of C(env) through each user's login shell (a loop over user names).
    type: dict
    required: true
  names:
    description: Variables shown with their value.
    type: list
    elements: str
    required: true
  secret_names:
    description: Variables shown only as C((set)).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Show what each login shell sees
  ansible.builtin.debug:
    msg: "{{ envs | claude_fleet.bedrock.verify_login_env(['AWS_REGION'], ['AWS_SECRET_ACCESS_KEY']) }}"
"""

RETURN = r"""
_value:
  description: User name to a mapping of variable names to values (secrets as C((set))).
  type: dict
"""


def verify_login_env(env_runs, names, secret_names):
    """{user: {name: value}}; a secret's value is never returned."""
    shown = {}
    for run in _results(env_runs, "_input"):
        env = login_env(run)
        shown[run.get("item", "?")] = {k: "(set)" if k in secret_names else env[k] for k in list(names) + list(secret_names) if k in env}
    return shown


class FilterModule:
    """verify.yml's masked view of the login shells."""

    def filters(self):
        return {"verify_login_env": verify_login_env}
