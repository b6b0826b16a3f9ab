# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""User data and secrets on one real workstation, converged once by playbooks/setup.yml.

Before the converge, the corpus (corpus.py: set -e rc files, old exports of the same variables,
rc files symlinked into a dotfiles repository, fish universal variables, settings.json files with
permissions, hooks, MCP servers, unknown keys and unicode) is installed in alice's, bob's and
carol's homes. The converge runs at -vvvv with static keys (alice, bob) and a Bedrock API key
(carol's bearer token). Then:

* every corpus file is byte-identical outside the managed blocks, symbolic links still point
  into the dotfiles repository, settings.json keeps every key the role does not manage;
* no secret value is in the -vvvv output or the fleet report; every workstation file holding
  one is 0600 and owned by the user whose home holds it;
* an invalid settings.json is never overwritten (the settings role fails for it, bytes kept);
* hypothesis-generated rc files and settings.json survive a settings run the same way.
"""
from __future__ import annotations

import json
import os
import re
import stat

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from corpus import CORPUS, MANAGED_ENV_PREFIXES
from harness import BEARER_TOKEN, BEGIN, REPO, SANDBOX_SKIPS, SECRET_KEY, blocks, outside_blocks, shlex_quote

pytestmark = [pytest.mark.sandbox] + SANDBOX_SKIPS

SECRETS = {"secret key": SECRET_KEY, "bearer token": BEARER_TOKEN}
USERS_VARS = {
    "settings_users": [
        {"name": "alice"},
        {"name": "bob"},
        {"name": "carol", "auth_method": "api_key", "bedrock_api_key": BEARER_TOKEN},
    ],
}
SETTINGS_PLAY = os.path.join(REPO, "tests", "reliability", "settings_only.yml")
SANDBOX_STATE = os.environ.get("CLAUDE_FLEET_SANDBOX_STATE", "/var/lib/claude-fleet-sandbox")


class Host:
    """The converged workstation, the corpus it started with and the first run's output."""

    def __init__(self, fleet):
        self.fleet = fleet
        self.name = fleet.hosts[0]
        self.rc = None
        self.output = ""
        self.report_dir = os.path.join(fleet.tmp, "report")

    def install(self, user, rel, data, link):
        home = "/home/%s" % user
        if link:
            self.fleet.put(self.name, "%s/%s" % (home, link), data, "%s:%s" % (user, user))
            rc, _out, err = self.fleet.root(self.name, "mkdir -p %s && ln -sfn %s/%s %s/%s && chown -h %s:%s %s/%s" % (
                os.path.dirname("%s/%s" % (home, rel)), home, link, home, rel, user, user, home, rel))
            assert rc == 0, err
        else:
            self.fleet.put(self.name, "%s/%s" % (home, rel), data, "%s:%s" % (user, user))
        # Directories the corpus created (as root) belong to the user, as they would on a real workstation.
        tops = {part.split("/")[0] for part in (rel, link or rel) if "/" in part}
        for top in tops:
            rc, _out, err = self.fleet.root(self.name, "chown -R %s:%s %s/%s" % (user, user, home, top))
            assert rc == 0, err


@pytest.fixture(scope="module")
def host(fleet_factory):
    fleet = fleet_factory("rw")
    ws = Host(fleet)
    for user, rel, data, link in CORPUS:
        ws.install(user, rel, data, link)
    ws.rc, ws.output, ws.recap = fleet.play(extra=USERS_VARS, verbosity=4, report_dir=ws.report_dir)
    return ws


def test_converge_succeeds_with_the_corpus(host):
    assert host.rc == 0, host.output[-4000:]
    with open(os.path.join(host.report_dir, "fleet-report.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["failed_hosts"] == [], report
    # carol's own auth method (api_key) is reported, not the fleet's (static_keys).
    assert report["hosts"][0]["auth_methods"] == {"alice": "static_keys", "bob": "static_keys", "carol": "api_key"}
    with open(os.path.join(host.report_dir, "fleet-report.md"), encoding="utf-8") as handle:
        assert re.search(r"\| api_key \| carol \|", handle.read())


@pytest.mark.parametrize("entry", CORPUS, ids=["%s:%s" % (e[0], e[1]) for e in CORPUS])
def test_corpus_file_is_preserved_outside_the_managed_parts(host, entry):
    user, rel, data, link = entry
    path = "/home/%s/%s" % (user, rel)
    after = host.fleet.get(host.name, path)
    if link:
        _rc, target, _err = host.fleet.root(host.name, "readlink %s" % shlex_quote(path))
        assert target.decode().strip() == "/home/%s/%s" % (user, link), "the symbolic link was replaced"
    if rel.endswith(".json"):
        before_doc, after_doc = json.loads(data), json.loads(after)
        for key, value in before_doc.items():
            if key == "env":
                kept = {k: v for k, v in value.items() if not k.startswith(MANAGED_ENV_PREFIXES)}
                assert {k: after_doc["env"].get(k) for k in kept} == kept
            else:
                assert after_doc.get(key) == value, key
        assert set(after_doc) - set(before_doc) <= {"env"}
        return
    assert blocks(after) in ((0, 0), (1, 1)), "managed block markers: %s" % (blocks(after),)
    assert outside_blocks(after) == data, "bytes outside the managed block changed:\n%r" % after


def test_strict_mode_rc_files_still_give_working_shells(host):
    for user, shell in (("alice", "bash -lc"), ("alice", "bash -ic"), ("bob", "zsh -c"), ("carol", "fish -c")):
        proc = host.fleet.ssh(host.name, "sudo -u %s -i %s 'echo $CLAUDE_CODE_USE_BEDROCK; claude --version'" % (user, shell))
        lines = proc.stdout.decode().split("\n")
        assert proc.returncode == 0 and lines[0] == "1", "%s %s: %s %s" % (user, shell, proc.stdout, proc.stderr)


def test_no_secret_in_the_verbose_output_or_the_report(host):
    assert "-vvvv" in open(os.path.join(host.fleet.tmp, "run-1.log"), encoding="utf-8").readline()
    assert os.path.isdir(host.report_dir), "no fleet report was written"
    for what, value in SECRETS.items():
        assert value not in host.output, "%s in the -vvvv output" % what
        for name in os.listdir(host.report_dir):
            with open(os.path.join(host.report_dir, name), encoding="utf-8") as handle:
                assert value not in handle.read(), "%s in %s" % (what, name)


def _files_containing(host, value):
    """Workstation paths of every file holding VALUE: the overlay's upper layer holds every file written on the
    workstation (the image below is shared and read-only); /run and /dev/shm are tmpfs, searched over SSH."""
    upper = os.path.join(SANDBOX_STATE, host.fleet.name, host.name, "upper")
    assert os.path.isdir(upper), upper
    found = []
    for directory, _dirs, names in os.walk(upper):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as handle:
                if value.encode() in handle.read():
                    found.append("/" + os.path.relpath(path, upper))
    _rc, out, _err = host.fleet.root(host.name, "grep -rlF -- %s /run /dev/shm 2>/dev/null; true" % shlex_quote(value))
    return found + out.decode().split()


def test_every_file_holding_a_secret_is_private_to_its_user(host):
    for what, value in SECRETS.items():
        paths = _files_containing(host, value)
        assert paths, "the %s was not written at all" % what
        for path in paths:
            _rc, out, _err = host.fleet.root(host.name, "stat -c '%%a %%U' %s" % shlex_quote(path))
            mode, owner = out.decode().split()
            assert path.startswith("/home/"), "%s in %s, outside the users' homes" % (what, path)
            assert (mode, owner) == ("600", path.split("/")[2]), "%s in %s (%s %s)" % (what, path, mode, owner)


def test_invalid_settings_json_is_never_overwritten(host):
    path = "/home/alice/.claude/settings.json"
    original = host.fleet.get(host.name, path)
    broken = b'{"permissions": {"allow": ["Bash(ls)"],}, // a comment\n'
    host.fleet.put(host.name, path, broken, "alice:alice", "0600")
    try:
        rc, output, _recap = host.fleet.play(SETTINGS_PLAY, extra=USERS_VARS)
        assert rc != 0, output[-3000:]
        assert host.fleet.get(host.name, path) == broken
        assert "settings.json" in output and "JSON" in output, output[-3000:]
    finally:
        host.fleet.put(host.name, path, original, "alice:alice", "0600")


LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40).map(lambda s: s.replace(BEGIN, "")) | st.sampled_from([
    "set -e", "export AWS_REGION=eu-west-1", "export CLAUDE_CODE_USE_BEDROCK=0", "# END ANSIBLE MANAGED BLOCK other", "", "  ", "fi"])
RC_FILE = st.lists(LINE, max_size=12).map("\n".join).map(lambda s: s.encode("utf-8")) | st.just(b"")
JSON_VALUE = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20),
                          lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
                          max_leaves=10)
SETTINGS_DOC = st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda k: k not in ("env", "awsAuthRefresh", "awsCredentialExport")),
                               JSON_VALUE, max_size=5).flatmap(
    lambda top: st.dictionaries(st.from_regex(r"\A[A-Z][A-Z0-9_]{0,10}\Z").filter(lambda k: not k.startswith(MANAGED_ENV_PREFIXES)),
                                st.text(max_size=15), max_size=3).map(lambda env: dict(top, env=env)))


@pytest.mark.reliability
@settings(max_examples=4, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(bashrc=RC_FILE, zshenv=RC_FILE, doc=SETTINGS_DOC)
def test_generated_user_files_survive_a_settings_run(host, bashrc, zshenv, doc):
    files = {("alice", ".bashrc"): bashrc, ("bob", ".zshenv"): zshenv,
             ("carol", ".claude/settings.json"): json.dumps(doc, ensure_ascii=False).encode("utf-8")}
    for (user, rel), data in files.items():
        path = "/home/%s/%s" % (user, rel)
        rc, _out, err = host.fleet.root(host.name, "rm -f %s" % shlex_quote(path))
        assert rc == 0, err
        host.fleet.put(host.name, path, data, "%s:%s" % (user, user), "0600")
    rc, output, _recap = host.fleet.play(SETTINGS_PLAY, extra=USERS_VARS)
    assert rc == 0, output[-3000:]
    for (user, rel), data in files.items():
        after = host.fleet.get(host.name, "/home/%s/%s" % (user, rel))
        if rel.endswith(".json"):
            after_doc = json.loads(after)
            assert {k: v for k, v in after_doc.items() if k != "env"} == {k: v for k, v in doc.items() if k != "env"}
            assert {k: after_doc["env"].get(k) for k in doc["env"]} == doc["env"]
        else:
            assert outside_blocks(after) == data
            assert blocks(after) == (1, 1)
    mode = stat.S_IMODE(int(host.fleet.root(host.name, "stat -c %a /home/carol/.claude/settings.json")[1].decode().strip(), 8))
    assert mode == 0o600
