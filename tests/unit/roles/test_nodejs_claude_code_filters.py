# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the nodejs_* and claude_code_* filters the install roles use."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible.errors import AnsibleFilterError
from ansible_collections.claude_fleet.bedrock.plugins.filter.claude_code_engine_minimum import claude_code_engine_minimum
from ansible_collections.claude_fleet.bedrock.plugins.filter.nodejs_resolve_version import nodejs_resolve_version
from ansible_collections.claude_fleet.bedrock.plugins.filter.nodejs_shasum import nodejs_shasum

INDEX = [
    {"version": "v24.1.0", "files": ["linux-x64", "linux-arm64"]},
    {"version": "v22.23.3", "files": ["linux-x64"]},
    {"version": "v22.23.2", "files": ["linux-x64", "linux-arm64"]},
    {"version": "v22.9.0", "files": ["linux-x64", "linux-arm64"]},
    {"version": "v20.19.0", "files": ["linux-x64", "linux-arm64"]},
]


@pytest.mark.parametrize("spec, platforms, expected", [
    ("22", ["linux-x64"], "22.23.3"),
    ("v22", ["linux-x64"], "22.23.3"),
    ("22", ["linux-arm64"], "22.23.2"),
    ("22", ["linux-x64", "linux-arm64"], "22.23.2"),
    ("22.9.0", ["linux-x64"], "22.9.0"),
    ("24", ["linux-x64"], "24.1.0"),
])
def test_resolve_picks_newest_matching_release(spec, platforms, expected):
    assert nodejs_resolve_version(INDEX, spec, platforms=platforms) == expected


def test_resolve_compares_numerically_not_as_text():
    index = [{"version": "v22.9.0", "files": ["linux-x64"]}, {"version": "v22.10.0", "files": ["linux-x64"]}]
    assert nodejs_resolve_version(index, "22") == "22.10.0"


@pytest.mark.parametrize("spec", ["23", "22.23.4", "18"])
def test_resolve_fails_naming_spec_and_mirror_content(spec):
    with pytest.raises(AnsibleFilterError) as err:
        nodejs_resolve_version(INDEX, spec)
    assert spec in str(err.value)
    assert "22.23.3" in str(err.value)


@pytest.mark.parametrize("spec", ["22.x", "lts", "22.1", "", "v"])
def test_resolve_rejects_malformed_spec(spec):
    with pytest.raises(AnsibleFilterError, match="neither a major line"):
        nodejs_resolve_version(INDEX, spec)


@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=30))
def test_resolve_major_equals_max_of_that_line(versions):
    index = [{"version": "v%d.%d.%d" % v, "files": ["linux-x64"]} for v in versions]
    major = versions[0][0]
    expected = max(v for v in versions if v[0] == major)
    assert nodejs_resolve_version(index, str(major)) == "%d.%d.%d" % expected


def test_shasum_finds_file_among_others():
    digest = hashlib.sha256(b"x").hexdigest()
    text = "%s  node-v22.1.0-linux-arm64.tar.xz\n%s  node-v22.1.0-linux-x64.tar.xz\n" % ("0" * 64, digest.upper())
    assert nodejs_shasum(text, "node-v22.1.0-linux-x64.tar.xz") == digest


def test_shasum_accepts_binary_marker():
    assert nodejs_shasum("%s *node.tar.xz" % ("a" * 64), "node.tar.xz") == "a" * 64


def test_shasum_missing_file_fails_naming_it():
    with pytest.raises(AnsibleFilterError, match="node-v22.1.0-linux-x64.tar.xz is not listed"):
        nodejs_shasum("%s  other.tar.xz\n" % ("a" * 64), "node-v22.1.0-linux-x64.tar.xz")


def test_shasum_conflicting_entries_fail():
    text = "%s  f.tar.xz\n%s  f.tar.xz\n" % ("a" * 64, "b" * 64)
    with pytest.raises(AnsibleFilterError, match="different digests"):
        nodejs_shasum(text, "f.tar.xz")


def test_shasum_does_not_match_a_suffix():
    with pytest.raises(AnsibleFilterError):
        nodejs_shasum("%s  xnode.tar.xz\n" % ("a" * 64), "node.tar.xz")


@pytest.mark.parametrize("engines, expected", [
    (">=22.0.0", "22.0.0"),
    (">=22", "22.0.0"),
    (">= 18.17.1", "18.17.1"),
    ("^20.9", "20.9.0"),
    ("~22.1.0", "22.1.0"),
    ("22.x", "22.0.0"),
    ("22", "22.0.0"),
    ("^20.17.0 || >=22.9.0", "20.17.0"),
    (">=22.0.0 <25", "22.0.0"),
    ("", "0.0.0"),
    ("*", "0.0.0"),
    (None, "0.0.0"),
])
def test_engine_minimum(engines, expected):
    assert claude_code_engine_minimum(engines) == expected


@pytest.mark.parametrize("engines", ["<22", "latest", ">=abc"])
def test_engine_minimum_refuses_to_guess(engines):
    with pytest.raises(AnsibleFilterError, match="cannot read"):
        claude_code_engine_minimum(engines)
