# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Look a file's SHA-256 up in a Node.js SHASUMS256.txt."""
from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: nodejs_shasum
short_description: Find a file's SHA-256 in the text of a SHASUMS256.txt
version_added: 0.1.0
description:
  - Parses the C(sha256sum) style lines (C(<64 hex>  <file name>), binary marker C(*) accepted)
    of a Node.js C(SHASUMS256.txt) and returns the digest of one file, in lower case.
  - Fails naming the file when it is not listed or listed twice with different digests.
options:
  _input:
    description: The text of C(SHASUMS256.txt).
    type: str
    required: true
  filename:
    description: The file name to look up, for example C(node-v22.12.0-linux-x64.tar.xz).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Checksum of the tarball to download
  ansible.builtin.set_fact:
    node_sha256: "{{ shasums_text | claude_fleet.bedrock.nodejs_shasum('node-v22.12.0-linux-x64.tar.xz') }}"
"""

RETURN = r"""
_value:
  description: The lower-case hexadecimal SHA-256 digest.
  type: str
"""

_LINE_RE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


def nodejs_shasum(text, filename):
    """Return the SHA-256 of FILENAME listed in TEXT."""
    found = set()
    for line in str(text).splitlines():
        match = _LINE_RE.match(line.strip())
        if match and match.group(2).strip().lstrip("./") == filename:
            found.add(match.group(1).lower())
    if not found:
        raise AnsibleFilterError("%s is not listed in SHASUMS256.txt" % filename)
    if len(found) > 1:
        raise AnsibleFilterError("%s is listed in SHASUMS256.txt with %d different digests" % (filename, len(found)))
    return found.pop()


class FilterModule:
    """Node.js checksum filters."""

    def filters(self):
        """Return the filters of this plugin."""
        return {"nodejs_shasum": nodejs_shasum}
