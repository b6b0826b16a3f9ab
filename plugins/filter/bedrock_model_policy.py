# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Claude Code's model policy (availableModels, enforceAvailableModels, modelOverrides) for a fleet on Bedrock."""
from __future__ import annotations

DOCUMENTATION = r"""
name: bedrock_model_policy
short_description: Check a Claude Code model policy and shape it for the managed settings
version_added: 0.1.0
description:
  - Takes the fleet's model policy and returns its managed-settings keys, its errors and the Bedrock references
    it names, so that the settings role writes it and the preflight checks every model and profile it names
    exactly as it checks the model pins.
  - C(availableModels) entries are either names Claude Code matches itself (family aliases such as V(opus),
    version prefixes such as V(sonnet-5), Anthropic model ids such as V(claude-opus-5-5)) or Bedrock references
    (model ids, inference profile ids, ARNs), which are validated like pins (P(claude_fleet.bedrock.bedrock_pin_errors#filter)).
  - C(modelOverrides) maps Anthropic model ids (V(claude-opus-5-5)) to Bedrock references, typically application
    inference profile ARNs; each value is validated like a pin.
  - C(enforceAvailableModels) needs a non-empty C(availableModels).
options:
  _input:
    description: A dictionary with C(available_models) (list), C(enforce_available_models) (bool) and C(model_overrides) (dict).
    type: dict
    required: true
  region:
    description: Region the fleet calls Bedrock in.
    type: str
    required: true
  region_option:
    description: Name of the region option, shown in errors.
    type: str
    default: the region
  prefix:
    description: Prefix of the option names shown in errors.
    type: str
    default: settings_
"""

EXAMPLES = r"""
- name: Shape the policy
  ansible.builtin.set_fact:
    __policy: >-
      {{ {'available_models': ['opus', 'us.anthropic.claude-sonnet-5-5'], 'enforce_available_models': true,
          'model_overrides': {'claude-opus-5-5': 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123'}}
         | claude_fleet.bedrock.bedrock_model_policy(region='us-east-1') }}
"""

RETURN = r"""
_value:
  description:
    - C(settings), the managed-settings keys to write (only those set; an empty list or mapping is not set);
      C(unset), the keys of the policy that are not set (to remove); C(errors), one sentence per bad value;
      C(references), option name (C(availableModels[0]), C(modelOverrides[claude-opus-5-5])) to each Bedrock reference named.
  type: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock_ids import model_policy_errors
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock_ids import model_policy_references

KEYS = ("availableModels", "enforceAvailableModels", "modelOverrides")


def bedrock_model_policy(data, region, region_option="the region", prefix="settings_"):
    """Return settings, unset, errors and references of a model policy (see DOCUMENTATION)."""
    if not isinstance(data, Mapping):
        raise AnsibleFilterError("bedrock_model_policy expects a dictionary with available_models, enforce_available_models and model_overrides")
    available = data.get("available_models") or []
    enforce = data.get("enforce_available_models", False)
    overrides = data.get("model_overrides") or {}
    errors = model_policy_errors(available, enforce, overrides, str(region or ""), region_option, prefix)
    settings = {}
    if not errors:
        if available:
            settings["availableModels"] = [str(entry) for entry in available]
        if enforce:
            settings["enforceAvailableModels"] = True
        if overrides:
            settings["modelOverrides"] = {str(k): str(v) for k, v in overrides.items()}
    return {
        "settings": settings,
        "unset": [key for key in KEYS if key not in settings],
        "errors": errors,
        # Also when some value is bad: the preflight reports each reference it can read.
        "references": model_policy_references(available if isinstance(available, (list, tuple)) else [],
                                              overrides if isinstance(overrides, Mapping) else {}),
    }


class FilterModule:
    """claude_fleet.bedrock model policy filter."""

    def filters(self):
        return {"bedrock_model_policy": bedrock_model_policy}
