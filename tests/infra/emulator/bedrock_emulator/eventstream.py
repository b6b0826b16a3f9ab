# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS event stream (application/vnd.amazon.eventstream) message encoding.

Each message: prelude (total length, headers length: two big-endian uint32), prelude CRC32,
headers, payload, message CRC32 (over everything before it). Header values here are all
strings (value type 7). botocore.eventstream decodes and checks what this produces.
"""

from __future__ import annotations

import binascii
import struct

STRING_TYPE = 7


def encode_headers(headers):
    out = bytearray()
    for name, value in headers.items():
        name_b = name.encode("utf-8")
        value_b = value.encode("utf-8")
        out += struct.pack(">B", len(name_b)) + name_b
        out += struct.pack(">BH", STRING_TYPE, len(value_b)) + value_b
    return bytes(out)


def encode_message(headers, payload):
    header_bytes = encode_headers(headers)
    total = 12 + len(header_bytes) + len(payload) + 4
    prelude = struct.pack(">II", total, len(header_bytes))
    message = prelude + struct.pack(">I", binascii.crc32(prelude) & 0xFFFFFFFF) + header_bytes + payload
    return message + struct.pack(">I", binascii.crc32(message) & 0xFFFFFFFF)


def event(event_type, payload, content_type="application/json"):
    """An ``event`` message, e.g. a ``chunk`` of InvokeModelWithResponseStream."""
    return encode_message({":event-type": event_type, ":content-type": content_type, ":message-type": "event"}, payload)


def exception(exception_type, payload, content_type="application/json"):
    """An in-stream modelled exception, e.g. ``throttlingException``."""
    return encode_message({":exception-type": exception_type, ":content-type": content_type, ":message-type": "exception"}, payload)
