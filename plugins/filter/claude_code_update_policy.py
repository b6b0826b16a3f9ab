# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The claude_code role's update and version policy: what its managed-settings drop-in holds and which keys it removes."""
from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: claude_code_update_policy
short_description: The update and version policy of the claude_code role's managed-settings drop-in
version_added: 0.2.0
description:
  - Returns the keys the drop-in sets (C(settings)) and the keys of it the role owns and removes (C(remove)).
  - Self-update off sets C(env.DISABLE_AUTOUPDATER) and C(env.DISABLE_UPDATES); self-update on may set C(autoUpdatesChannel).
  - Version enforcement sets C(requiredMinimumVersion) to the release the run installs, and C(requiredMaximumVersion)
    too when the release is pinned and self-update is off.
  - While the release is not known (C(latest), not resolved), the version keys are neither set nor removed.
options:
  _input:
    description: The role's inputs.
    type: dict
    required: true
    suboptions:
      disable_updates:
        description: C(claude_code_disable_updates).
        type: bool
        required: true
      auto_updates_channel:
        description: C(claude_code_auto_updates_channel).
        type: str
        required: true
      enforce_version:
        description: C(claude_code_enforce_version).
        type: bool
        required: true
      version:
        description: C(claude_code_version) (C(latest) or a release).
        type: str
        required: true
      policy_version:
        description: The release this run installs, empty while unknown.
        type: str
        required: true
"""

EXAMPLES = r"""
- name: Write the policy
  claude_fleet.bedrock.claude_settings:
    path: /etc/claude-code/managed-settings.d/10-claude-fleet-updates.json
    settings: "{{ __policy.settings }}"
    remove: "{{ __policy.remove }}"
  vars:
    __policy: >-
      {{ {'disable_updates': true, 'auto_updates_channel': '', 'enforce_version': true, 'version': '2.1.332',
          'policy_version': '2.1.332'} | claude_fleet.bedrock.claude_code_update_policy }}
"""

RETURN = r"""
_value:
  description: The policy.
  type: dict
  contains:
    settings:
      description: The drop-in's document (empty when there is nothing to enforce).
      type: dict
    remove:
      description: The keys the role owns that the document does not set (dotted, C(env.NAME) for environment keys).
      type: list
      elements: str
"""

_ENV_KEYS = ["env.DISABLE_AUTOUPDATER", "env.DISABLE_UPDATES"]
_VERSION_KEYS = ["requiredMinimumVersion", "requiredMaximumVersion"]
# Every key of the drop-in the role owns.
OWNED_KEYS = _ENV_KEYS + ["autoUpdatesChannel"] + _VERSION_KEYS


def claude_code_update_policy(options):
    """{settings, remove} of the drop-in (see DOCUMENTATION)."""
    if not isinstance(options, Mapping):
        raise AnsibleFilterError("claude_code_update_policy expects a dictionary of the role's inputs")
    version = str(options.get("policy_version") or "")
    settings = {}
    if options["disable_updates"]:
        settings["env"] = {"DISABLE_AUTOUPDATER": "1", "DISABLE_UPDATES": "1"}
    elif options["auto_updates_channel"]:
        settings["autoUpdatesChannel"] = options["auto_updates_channel"]
    if options["enforce_version"] and version:
        settings["requiredMinimumVersion"] = version
        if options["version"] != "latest" and options["disable_updates"]:
            settings["requiredMaximumVersion"] = version
    keep = set(settings) | (set(_ENV_KEYS) if "env" in settings else set())
    # The version keys stay as they are while the version is unknown.
    if options["enforce_version"] and not version:
        keep |= set(_VERSION_KEYS)
    return {"settings": settings, "remove": [key for key in OWNED_KEYS if key not in keep]}


class FilterModule:
    """claude_code role policy filter."""

    def filters(self):
        return {"claude_code_update_policy": claude_code_update_policy}
