# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate Claude Code model pins with the collection's one model vocabulary (module_utils/bedrock_ids.py)."""
from __future__ import annotations

DOCUMENTATION = r"""
name: bedrock_pin_errors
short_description: Why Claude Code model pins cannot be used in their region
version_added: 0.1.0
description:
  - Checks each model pin with the same parser the preflight and the IAM policy filter use
    (C(parse_reference) in the collection's Bedrock module utilities), and returns one error per bad pin.
  - 'A pin may be an Anthropic model id with or without its date and version suffix (V(anthropic.claude-opus-5-5),
    V(anthropic.claude-sonnet-4-5-20250929-v1:0)), a cross-region inference profile id with a prefix Claude Code knows
    (V(us.), V(eu.), V(apac.), V(jp.), V(au.), V(us-gov.), V(global.)) whose geography serves the pin''s region, or a Bedrock ARN
    of that region (foundation model, inference profile, application inference profile).'
  - Any of them may end with Claude Code's V([1m]) suffix (1M-token context); the suffix stays in the pin and is
    stripped from every AWS call.
  - Empty pins are not set and not checked.
options:
  _input:
    description: The pins, each a dictionary with C(option) (the name shown in the error), C(value), C(region) and C(region_option).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Fail on pins that cannot work
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ __errors | join(' ') }}"
  vars:
    __errors: >-
      {{ [{'option': 'settings_model', 'value': settings_model, 'region': 'us-east-1', 'region_option': 'settings_aws_region'}]
         | claude_fleet.bedrock.bedrock_pin_errors }}
"""

RETURN = r"""
_value:
  description: One sentence per bad pin, naming the option, its value and the fix; empty when every pin is usable.
  type: list
  elements: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.claude_fleet.bedrock.plugins.module_utils.bedrock_ids import pin_errors


def bedrock_pin_errors(pins):
    """Return the errors of ``pins`` (see DOCUMENTATION)."""
    if not isinstance(pins, (list, tuple)) or not all(isinstance(pin, Mapping) and "option" in pin for pin in pins):
        raise AnsibleFilterError("bedrock_pin_errors expects a list of {option, value, region, region_option} dictionaries")
    return pin_errors(pins)


class FilterModule:
    """claude_fleet.bedrock pin filter."""

    def filters(self):
        return {"bedrock_pin_errors": bedrock_pin_errors}
