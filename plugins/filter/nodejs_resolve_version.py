# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve a Node.js major line or exact version against a dist mirror's index.json."""
from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: nodejs_resolve_version
short_description: Pick the Node.js release a version spec means in a dist index
version_added: 0.1.0
description:
  - Reads the parsed C(index.json) of a nodejs.org style dist mirror and returns the exact
    version (without the leading C(v)) that a major line such as C(22) or an exact version such
    as C(22.12.0) stands for.
  - A major line resolves to the highest release of that line that ships a tarball for every
    requested platform. An exact version must be listed and ship them.
  - Fails with a message naming the spec and what the mirror holds when nothing matches.
options:
  _input:
    description: The parsed C(index.json), a list of dictionaries with C(version) and C(files).
    type: list
    elements: dict
    required: true
  spec:
    description: A major line (V(22)) or an exact version (V(22.12.0)); a leading C(v) is accepted.
    type: str
    required: true
  platforms:
    description: Platforms the release must ship, as named in the index C(files) list.
    type: list
    elements: str
    default: [linux-x64]
"""

EXAMPLES = r"""
- name: Resolve the newest 22.x release on the mirror
  ansible.builtin.set_fact:
    node_version: "{{ index_json | claude_fleet.bedrock.nodejs_resolve_version('22', platforms=['linux-x64']) }}"
"""

RETURN = r"""
_value:
  description: The exact version, for example C(22.12.0).
  type: str
"""

_SPEC_RE = re.compile(r"^v?(\d+)(?:\.(\d+)\.(\d+))?$")


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def nodejs_resolve_version(index, spec, platforms=None):
    """Return the exact version SPEC resolves to in INDEX."""
    platforms = list(platforms or ["linux-x64"])
    match = _SPEC_RE.match(str(spec).strip())
    if not match:
        raise AnsibleFilterError("nodejs version %r is neither a major line (22) nor an exact version (22.12.0)" % (spec,))
    if not isinstance(index, list):
        raise AnsibleFilterError("the Node.js dist index must be a list of releases, got %s" % type(index).__name__)
    candidates = []
    for entry in index:
        if not isinstance(entry, dict):
            continue
        version = str(entry.get("version", "")).lstrip("v")
        if not re.match(r"^\d+\.\d+\.\d+$", version):
            continue
        if not all(platform in entry.get("files", []) for platform in platforms):
            continue
        if match.group(2) is None:
            if version.split(".", maxsplit=1)[0] == match.group(1):
                candidates.append(version)
        elif version == "%s.%s.%s" % match.groups():
            candidates.append(version)
    if not candidates:
        listed = sorted({str(e.get("version", "")).lstrip("v") for e in index if isinstance(e, dict)},
                        key=lambda v: _key(v) if re.match(r"^\d+\.\d+\.\d+$", v) else (0,))
        raise AnsibleFilterError(
            "no Node.js release matching %s with %s on the mirror (it lists: %s)"
            % (spec, ", ".join(platforms), ", ".join(listed[-10:]) or "nothing")
        )
    return max(candidates, key=_key)


class FilterModule:
    """Node.js version filters."""

    def filters(self):
        """Return the filters of this plugin."""
        return {"nodejs_resolve_version": nodejs_resolve_version}
