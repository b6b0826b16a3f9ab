# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Uninstall gives back what was there: converge, uninstall, compare bytes, on one sandbox workstation.

Real-world dotfile shapes go into alice's and bob's homes first (no final newline, CRLF, a UTF-8 BOM,
JSON with inline arrays, a tab-indented settings.json holding the user's own AWS_REGION); carol starts
with none of the files. The settings role converges them (tests/group_vars: CA certificates, so every user gets
~/.aws/config ca_bundle), one user edits one file afterwards, then playbooks/uninstall.yml runs:

* every file the user did not touch since is byte-identical to what it was, mode included;
* files and directories the collection created (~/.aws/config, ~/.claude/settings.json, ~/.claude,
  ~/.config/claude-fleet, the fish file, the record directory) are gone;
* the edited file keeps the user's edit and loses only the managed block;
* a second uninstall changes nothing;
* a record carol edited (pointed at a root-owned file, with other bytes) writes nothing
  anywhere: her file stays as it was and the run names it.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest

from harness import BEGIN, REPO, SANDBOX_SKIPS, shlex_quote

pytestmark = [pytest.mark.sandbox] + SANDBOX_SKIPS

SETTINGS_PLAY = os.path.join(REPO, "tests", "reliability", "settings_only.yml")
UNINSTALL = os.path.join(REPO, "playbooks", "uninstall.yml")

# (user, path relative to the home, bytes, mode); None bytes: the file does not exist before the converge.
SHAPES = [
    ("alice", ".bashrc", b"alias k=kubectl", "0644"),                                   # no final newline (block at the top)
    ("alice", ".profile", b"\xef\xbb\xbf# ~/.profile\r\nexport PATH=\"$HOME/bin:$PATH\"\r\n", "0640"),  # BOM and CRLF
    ("alice", ".claude/settings.json", b'{"permissions": {"allow": ["Bash(ls)", "Read"], "deny": []}, "model": "opus"}', "0600"),
    ("bob", ".claude/settings.json", b'\xef\xbb\xbf{\n\t"env": {\n\t\t"AWS_REGION": "us-west-2"\n\t}\n}', "0600"),
    ("bob", ".aws/config", b"[profile dev]\r\nregion = eu-west-1", "0600"),             # CRLF, no final newline
]
# Created by the collection: gone after the uninstall (the homes start without ~/.local).
CREATED = [
    "/home/alice/.aws", "/home/alice/.config/claude-fleet", "/home/alice/.local",
    "/home/bob/.config/claude-fleet", "/home/bob/.local",
    "/home/carol/.claude", "/home/carol/.aws", "/home/carol/.config/claude-fleet",
    "/home/carol/.config/fish/conf.d/claude-fleet-bedrock.fish", "/home/carol/.local",
]
EDITED = ("bob", ".zshenv")  # bob's own file before the converge; bob adds a line after it
# carol (fish) keeps her .bashrc; she points its record at a root-owned file before the uninstall.
TAMPERED = "/home/carol/.bashrc"
PLANTED = "/etc/profile.d/claude-fleet-planted.sh"
RECORDS = "/home/carol/.local/state/claude-fleet/originals"


@pytest.fixture(scope="module")
def roundtrip(fleet_factory):
    fleet = fleet_factory("ru")
    host = fleet.hosts[0]
    rc, _out, err = fleet.root(host, "rm -rf /home/alice/.bashrc /home/alice/.profile /home/alice/.bash_profile /home/bob/.zshenv "
                                     "/home/carol/.local /home/alice/.local /home/bob/.local")
    assert rc == 0, err
    for user, rel, data, mode in SHAPES:
        fleet.put(host, "/home/%s/%s" % (user, rel), data, "%s:%s" % (user, user), mode)
        top = rel.split("/", maxsplit=1)[0]
        if "/" in rel:
            rc, _out, err = fleet.root(host, "chown -R %s:%s /home/%s/%s" % (user, user, user, top))
            assert rc == 0, err
    fleet.put(host, "/home/bob/.zshenv", b"export X=1\n", "bob:bob")
    fleet.put(host, TAMPERED, b"# carol's own\nset -o vi\n", "carol:carol")
    before = {(user, rel): fleet.get(host, "/home/%s/%s" % (user, rel)) for user, rel, _data, _mode in SHAPES}
    converge = fleet.play(SETTINGS_PLAY)
    rc, _out, err = fleet.root(host, "printf 'export EDITED=1\\n' >> /home/bob/.zshenv")
    assert rc == 0, err
    record = "%s/%s.json" % (RECORDS, hashlib.sha256(TAMPERED.encode()).hexdigest()[:32])
    entry = json.loads(fleet.get(host, record))
    entry.update(target=PLANTED, existed=True, data=base64.b64encode(b"echo planted\n").decode())
    fleet.put(host, record, json.dumps(entry).encode(), "carol:carol", "0600")
    uninstall = fleet.play(UNINSTALL)
    again = fleet.play(UNINSTALL)
    return fleet, host, before, converge, uninstall, again


def test_the_converge_and_the_uninstall_succeed(roundtrip):
    _fleet, host, _before, converge, uninstall, again = roundtrip
    assert converge[0] == 0, converge[1][-3000:]
    assert uninstall[0] == 0, uninstall[1][-3000:]
    assert again[0] == 0 and again[2][host]["changed"] == 0, again[1][-3000:]


@pytest.mark.parametrize("shape", SHAPES, ids=["%s:%s" % (s[0], s[1]) for s in SHAPES])
def test_an_untouched_user_file_comes_back_byte_for_byte(roundtrip, shape):
    fleet, host, before, converge, _uninstall, _again = roundtrip
    user, rel, data, mode = shape
    path = "/home/%s/%s" % (user, rel)
    assert before[(user, rel)] == data
    after = fleet.get(host, path)
    assert after == data, "%s changed:\n%r\n%r" % (path, data, after)
    _rc, out, _err = fleet.root(host, "stat -c '%%a %%U' %s" % shlex_quote(path))
    assert out.decode().split() == [mode.lstrip("0"), user]


def test_the_converge_did_edit_those_files(roundtrip):
    _fleet, _host, _before, converge, _uninstall, _again = roundtrip
    # Otherwise the byte-for-byte test proves nothing: the settings role reported changes for every user.
    assert converge[2] and all(v["changed"] > 0 for v in converge[2].values())


@pytest.mark.parametrize("path", CREATED)
def test_what_the_collection_created_is_gone(roundtrip, path):
    fleet, host, _before, _converge, _uninstall, _again = roundtrip
    rc, out, _err = fleet.root(host, "test -e %s && find %s | head -20" % (shlex_quote(path), shlex_quote(path)))
    assert rc != 0, "still there: %s" % out.decode()


def test_a_file_edited_since_keeps_the_users_edit(roundtrip):
    fleet, host, _before, _converge, uninstall, _again = roundtrip
    after = fleet.get(host, "/home/%s/%s" % EDITED)
    assert after == b"export X=1\nexport EDITED=1\n", after
    assert BEGIN.encode() not in after
    assert "/home/bob/.zshenv was changed by its user since the first converge" in uninstall[1]


def test_a_record_its_user_edited_writes_nothing_and_is_named(roundtrip):
    fleet, host, _before, _converge, uninstall, _again = roundtrip
    rc, _out, _err = fleet.root(host, "test -e %s" % PLANTED)
    assert rc != 0, "the uninstall wrote where carol's record pointed"
    assert fleet.get(host, TAMPERED) == b"# carol's own\nset -o vi\n"
    assert "%s leads elsewhere than when it was recorded" % TAMPERED in uninstall[1]
