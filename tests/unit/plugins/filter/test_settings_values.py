# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The value rules of the settings role, and quoting through the role's real rendering.

The quoting properties generate values the rules accept, write them with the role's own templates
(tasks/user.yml, vars/main.yml) and the modules the role uses (blockinfile, claude_settings,
community.general.ini_file), read them back with the real consumer (bash, zsh and fish sourcing the
file; json; botocore's config parser; http.client's header parser) and compare.
zsh and fish run from the host, or else from the sandbox image (chroot, read-only use).
"""
from __future__ import annotations

import glob
import http.client
import io
import json
import os
import shutil
import subprocess
import tempfile

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ansible.modules import blockinfile
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from ansible_collections.claude_fleet.bedrock.plugins.filter.settings_values import (
    FilterModule, control_character, credential_reasons, settings_credential_keys, settings_value_errors)
from ansible_collections.claude_fleet.bedrock.plugins.modules import claude_settings
from ansible_collections.community.general.plugins.modules import ini_file
from botocore.configloader import raw_config_parse

from module_runner import run_module

ROLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "settings")
MARKER = "# {mark} ANSIBLE MANAGED BLOCK claude_fleet.bedrock"
CONTROL = [chr(c) for c in range(0x20)] + ["\x7f", "\x85", "\u2028", "\u2029"]


def _load(*parts):
    with open(os.path.join(ROLE, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


USER_TASKS = {task["name"]: task for task in _load("tasks", "user.yml")}
VARS = _load("vars", "main.yml")


def _errors(option, value, kind="text"):
    return settings_value_errors([{"option": option, "value": value, "kind": kind}])


# --- the rules -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("char", CONTROL, ids=["U+%04X" % ord(c) for c in CONTROL])
def test_every_control_character_is_rejected_naming_the_option_not_the_value(char):
    value = "s3cr3t-%sX-Injected: yes" % char
    errors = _errors("settings_guardrail_identifier", value)
    assert len(errors) == 1
    assert errors[0].startswith("settings_guardrail_identifier contains a control character (U+%04X" % ord(char))
    assert "s3cr3t" not in errors[0] and "Injected" not in errors[0]


@settings(max_examples=300, deadline=None, database=None)
@given(value=st.text(max_size=40))
def test_text_is_accepted_exactly_when_it_has_no_control_character(value):
    assert (_errors("opt", value) == []) == all(c not in CONTROL for c in value)


@settings(max_examples=200, deadline=None, database=None)
@given(secret=st.text(min_size=8, max_size=30).filter(lambda s: s.strip() and control_character(s) is not None))
def test_no_message_ever_holds_the_value(secret):
    items = [{"option": "settings_bedrock_api_key", "value": secret},
             {"option": "settings_extra_secret_env", "value": {"TOKEN": secret}, "kind": "env"},
             {"option": "settings_custom_headers", "value": {"X-Key": secret}, "kind": "headers"},
             {"option": "settings_bedrock_base_url", "value": "https://gw.example/" + secret, "kind": "url"}]
    errors = settings_value_errors(items)
    assert len(errors) == 4
    assert all(secret not in error for error in errors)


@pytest.mark.parametrize("name, ok", [
    ("HTTPS_PROXY", True), ("_x", True), ("a1", True), ("1A", False), ("BAD-NAME", False), ("A B", False), ("", False),
    ("A\nB", False), ("A=B", False), ("É", False), ("A;rm", False),
])
def test_environment_names(name, ok):
    errors = _errors("settings_shell_extra_env", {name: "v"}, "env")
    assert (errors == []) == ok
    if not ok:
        assert "settings_shell_extra_env has a key that is not an environment variable name" in errors[0]
        assert "\n" not in errors[0]


def test_env_values_are_checked_per_key():
    errors = _errors("settings_users[alice].extra_env", {"GOOD": "1", "BAD": "a\nb"}, "env")
    assert errors == ["settings_users[alice].extra_env[BAD] contains a control character (U+000A LINE FEED at position 1): "
                      "values are written into shell files, HTTP headers, URLs and INI files, where it would start a new line "
                      "or end the value."]


@pytest.mark.parametrize("headers, fragment", [
    ({"X-Ok": "v", "X Bad": "v"}, "header name that is not an RFC 7230 token"),
    ({"X-Bad:": "v"}, "header name that is not an RFC 7230 token"),
    ({"": "v"}, "header name that is not an RFC 7230 token"),
    ({"X-Ok": "v\r\nX-Injected: yes"}, "settings_custom_headers[X-Ok] contains a control character (U+000D"),
    (["X-A: b"], "must be a mapping of header names to values"),
])
def test_custom_headers_are_one_name_value_per_item(headers, fragment):
    errors = _errors("settings_custom_headers", headers, "headers")
    assert len(errors) == 1 and fragment in errors[0]


@pytest.mark.parametrize("url, ok", [
    ("", True), ("https://gw.example.com/bedrock", True), ("http://127.0.0.1:8080", True),
    ("ftp://gw.example.com", False), ("gw.example.com", False), ("https://", False), ("https://gw.example.com:99999", False),
    ("https://gw.example.com/a b", False), ("https://gw.example.com/\n", False),
])
def test_urls(url, ok):
    assert (_errors("settings_bedrock_base_url", url, "url") == []) == ok


@pytest.mark.parametrize("path, ok", [
    (".config/claude-fleet/env.sh", True), ("/etc/env.sh", False), ("../x", False), ('.x"; touch /tmp/p; "', False),
    (".x$(id)", False), (".x`id`", False), ("a\\b", False),
])
def test_paths_inside_the_rc_line(path, ok):
    assert (_errors("settings_env_file", path, "path") == []) == ok


def test_names_lists_and_non_strings():
    assert _errors("settings_remove_env", ["OK", "NOT OK"], "names") == [
        "settings_remove_env has a key that is not an environment variable name (^[A-Za-z_][A-Za-z0-9_]*$): 'NOT OK'."]
    assert _errors("settings_aws_profile", {"a": 1}) == ["settings_aws_profile must be a string (got a mapping)."]
    assert _errors("settings_max_output_tokens", 4096) == [] and _errors("settings_x", None) == []
    with pytest.raises(ValueError):
        settings_value_errors([{"option": "x", "value": "", "kind": "nope"}])


@pytest.mark.parametrize("value, credential", [
    ("https://gw.example.com/bedrock", False),
    ("https://user:pw@gw.example.com", True),
    ("https://token@gw.example.com", True),
    ("https://gw.example.com/x?api_key=abc", True),
    ("https://gw.example.com/x?X-Amz-Security-Token=abc", True),
    ("https://gw.example.com/x?region=us-east-1", False),
    ("X-Amzn-Bedrock-GuardrailIdentifier: gr-1\nX-Amzn-Bedrock-GuardrailVersion: 1", False),
    ("X-Amzn-Bedrock-GuardrailIdentifier: gr-1\nAuthorization: Bearer abc", True),
    ("X-Api-Key: abc", True),
    ("Proxy-Authorization: Basic abc", True),
    ("X-Team: Bearer abc", True),
    ("X-Team: platform", False),
    ("1", False), ("us-east-1", False), ("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", False),
    ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc", False),
])
def test_credential_detection(value, credential):
    assert bool(credential_reasons(value)) == credential
    assert all("abc" not in reason and "pw" not in reason for reason in credential_reasons(value))


def test_credential_keys_of_an_env():
    env = {"ANTHROPIC_CUSTOM_HEADERS": "Authorization: Bearer x", "ANTHROPIC_BEDROCK_BASE_URL": "https://gw", "DISABLE_TELEMETRY": "1"}
    assert settings_credential_keys(env) == ["ANTHROPIC_CUSTOM_HEADERS"]


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"settings_value_errors", "settings_credential_reasons", "settings_credential_keys"}


# --- quoting through the real rendering --------------------------------------------------------------------

# What the rules accept (no control character), plus the classic shell and marker traps.
VALUE = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="".join(CONTROL)), max_size=40)
TRAPS = ["$(touch /tmp/pwned)", "`id`", "'; echo pwned; '", "\\'", "\\", "'", '"', "a\\\\'b", "$HOME", "!!", "%s",
         "# BEGIN ANSIBLE MANAGED BLOCK claude_fleet.bedrock", "# END ANSIBLE MANAGED BLOCK claude_fleet.bedrock", " lead", "trail ",
         "", "é ü 中文 🚀", "{{ lookup('env', 'HOME') }}", "-n", "--", "=", "~"]


def _template(text, variables):
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(text))


def _run(module, capsys, **args):
    code, result = run_module(module, capsys, args)
    assert code == 0, result
    return result


def _shell(name):
    """argv prefix that runs shell NAME: from the host, else from the sandbox image (None when neither has it)."""
    found = shutil.which(name)
    if found:
        return [found]
    if os.geteuid() == 0:
        for image in sorted(glob.glob("/var/cache/claude-fleet-sandbox/images/*/usr/bin/%s" % name)):
            return [shutil.which("chroot", path="/usr/sbin:/sbin:/usr/bin:/bin") or "chroot", image[: -len("/usr/bin/%s" % name)], "/usr/bin/%s" % name]
    return None


SHELLS = {"bash": _shell("bash"), "zsh": _shell("zsh"), "fish": _shell("fish")}
# Each shell reads the file on standard input (the image is never written to) and prints the variable.
READ = {"bash": 'eval "$(cat)"; printf %s "$K"', "zsh": 'eval "$(cat)"; printf %s "$K"', "fish": 'source; printf %s "$K"'}
TASK = {"bash": "User | Write the shell environment file", "zsh": "User | Write the shell environment file",
        "fish": "User | Write the fish environment"}


def _source(shell, text):
    argv = SHELLS[shell]
    if argv is None:
        pytest.skip("%s is neither on this host nor in a sandbox image (make sandbox-image, as root)" % shell)
    proc = subprocess.run(argv + ["-c", READ[shell]], input=text.encode("utf-8"), capture_output=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "HOME": "/nonexistent"}, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.decode("utf-8")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=VALUE | st.sampled_from(TRAPS))
@example(value="$(touch /tmp/pwned)")
@example(value="x # END ANSIBLE MANAGED BLOCK claude_fleet.bedrock")
def test_shell_files_give_back_the_value(capsys, shell, value):
    assert _errors("settings_shell_extra_env", {"K": value}, "env") == []
    block = _template(USER_TASKS[TASK[shell]]["ansible.builtin.blockinfile"]["block"], {
        "settings_user_settings_file": ".claude/settings.json", "_settings_user_shell_env": {"K": value},
        "_settings_user_shell_secret_env": {}, "_settings_bs": "\\"})
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, "env")
        for _run_number in range(2):  # the second run must find the block intact
            _run(blockinfile, capsys, path=path, block=block, marker=MARKER, create=True, _ansible_tmpdir=workdir)
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    assert text.count(MARKER.replace("{mark}", "BEGIN") + "\n") == 1 and text.count(MARKER.replace("{mark}", "END") + "\n") == 1
    assert _source(shell, text) == value


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=VALUE | st.sampled_from(TRAPS))
def test_settings_json_gives_back_the_value(capsys, value):
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, "settings.json")
        _run(claude_settings, capsys, path=path, settings={"env": {"K": value}}, _ansible_tmpdir=workdir)
        with open(path, encoding="utf-8") as handle:
            assert json.load(handle) == {"env": {"K": value}}


INI_VALUE = VALUE.filter(lambda v: v == v.strip())


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(profile=st.from_regex(r"\A[A-Za-z0-9_.@+-]{1,20}\Z"), value=INI_VALUE | st.sampled_from([t for t in TRAPS if t == t.strip()]))
def test_aws_config_gives_back_the_value(capsys, profile, value):
    assert _errors("settings_aws_sso_role_name", value, "ini") == []
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, "config")
        for option in ("sso_role_name", "region"):
            _run(ini_file, capsys, path=path, section="profile %s" % profile, option=option, value=value or "x",
                 mode="0600", _ansible_tmpdir=workdir)
        parsed = raw_config_parse(path)
    assert parsed == {"profile %s" % profile: {"sso_role_name": value or "x", "region": value or "x"}}


HEADER_NAME = st.from_regex(r"\A[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}\Z")


@settings(max_examples=100, deadline=None, database=None)
@given(headers=st.dictionaries(HEADER_NAME.filter(lambda n: not n.lower().startswith("x-amzn-bedrock-guardrail")),
                               VALUE.map(str.strip), max_size=4),
       guardrail=st.from_regex(r"\A[a-z0-9]{1,12}\Z"), version=st.sampled_from(["1", "DRAFT", "12"]))
def test_custom_headers_give_back_each_header(headers, guardrail, version):
    headers = dict({k.lower(): (k, v) for k, v in headers.items()}.values())
    assert _errors("settings_custom_headers", headers, "headers") == []
    variables = {"settings_guardrail_identifier": guardrail, "settings_guardrail_version": version, "settings_custom_headers": headers}
    variables["_settings_custom_headers_lines"] = _template(VARS["_settings_custom_headers_lines"], variables)
    text = _template(VARS["_settings_custom_headers_text"], variables)
    expected = [("X-Amzn-Bedrock-GuardrailIdentifier", guardrail), ("X-Amzn-Bedrock-GuardrailVersion", version)] + list(headers.items())
    # Claude Code splits ANTHROPIC_CUSTOM_HEADERS on newlines, one "Name: value" per line.
    lines = text.split("\n")
    assert [(p[0].strip(), p[2].strip()) for p in (line.partition(":") for line in lines)] == expected
    # On the wire, an HTTP parser sees exactly these headers and nothing else.
    wire = "".join(line + "\r\n" for line in lines) + "\r\n"
    message = http.client.parse_headers(io.BytesIO(wire.encode("utf-8")))
    assert not message.defects
    assert [(n, v.encode("iso-8859-1").decode("utf-8")) for n, v in message.items()] == expected


def test_each_users_fields_and_secrets_are_checked_by_name():
    users = [{"name": "alice", "bedrock_api_key": "ABSK\nsecret-value", "aws_profile": "dev]x", "extra_env": {"OK": "1"}},
             {"name": "b\nob", "extra_secret_env": {"T": "a\rb"}}, "carol"]
    errors = _errors("settings_users", users, "users")
    assert errors[0] == "settings_users[alice].aws_profile must not contain [ or ]: it names an INI section."
    assert errors[1].startswith("settings_users[alice].bedrock_api_key contains a control character (U+000A LINE FEED at position 4)")
    # A name that is itself bad is not shown: the entry's index stands for it.
    assert errors[2].startswith("settings_users[1].name contains a control character")
    assert errors[3].startswith("settings_users[1].extra_secret_env[T] contains a control character (U+000D")
    assert errors[4] == "settings_users[2] must be a mapping (got a str)."
    assert not any("secret-value" in error for error in errors)


def test_credentials_bound_for_the_world_readable_file_are_refused_with_the_remedy():
    errors = _errors("settings_managed_settings.env", {"ANTHROPIC_CUSTOM_HEADERS": "X-Api-Key: k3y", "DISABLE_TELEMETRY": "1"},
                     "world_readable_env")
    assert errors == ["settings_managed_settings.env[ANTHROPIC_CUSTOM_HEADERS] looks like a credential (the X-Api-Key header carries a "
                      "credential): the managed settings file is world-readable; set it in settings_extra_secret_env (each user's 0600 "
                      "settings.json) instead."]
