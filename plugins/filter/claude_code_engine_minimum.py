# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn an npm engines.node range into the minimum Node.js version it allows."""
from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: claude_code_engine_minimum
short_description: Minimum Node.js version an npm C(engines.node) range allows
version_added: 0.1.0
description:
  - Returns the lowest C(X.Y.Z) that satisfies a package's C(engines.node) range, for the
    forms packages actually use (C(>=22), C(>=22.0.0), C(^22.1), C(~22.1.0), C(22.x), C(22),
    and C(||) alternatives, whose lowest bound wins).
  - An empty range, C(*) or C(x) gives C(0.0.0). Fails on a range it cannot read, rather than guessing.
options:
  _input:
    description: The C(engines.node) range string.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Node.js the chosen Claude Code release needs
  ansible.builtin.set_fact:
    node_min: "{{ '>=22.0.0' | claude_fleet.bedrock.claude_code_engine_minimum }}"  # 22.0.0
"""

RETURN = r"""
_value:
  description: The minimum version as C(X.Y.Z).
  type: str
"""

_PART_RE = re.compile(r"^(>=|\^|~|=|v)?\s*v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$")


def _lowest(part: str) -> tuple[int, int, int]:
    words = re.sub(r"(>=|\^|~|=)\s+", r"\1", part.strip()).split()
    part = words[0] if words else ""
    if part in ("", "*", "x", "X"):
        return (0, 0, 0)
    match = _PART_RE.match(part)
    if not match:
        raise AnsibleFilterError("cannot read the minimum Node.js version of engines range %r" % part)
    numbers = [int(n) if n and n.isdigit() else 0 for n in match.group(2, 3, 4)]
    return (numbers[0], numbers[1], numbers[2])


def claude_code_engine_minimum(value):
    """Return the minimum version VALUE allows."""
    alternatives = str(value or "").split("||")
    lowest = min(_lowest(alt) for alt in alternatives)
    return "%d.%d.%d" % lowest


class FilterModule:
    """Claude Code helper filters."""

    def filters(self):
        """Return the filters of this plugin."""
        return {"claude_code_engine_minimum": claude_code_engine_minimum}
