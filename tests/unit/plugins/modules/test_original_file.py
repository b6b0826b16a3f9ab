# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""original_file: records before the first converge edit, exact restore at uninstall (in-process, real modules)."""
from __future__ import annotations

import json
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible.module_utils.testing import patch_module_args
from ansible.modules import blockinfile
from ansible_collections.claude_fleet.bedrock.plugins.module_utils.original_file import project
from ansible_collections.claude_fleet.bedrock.plugins.modules import claude_settings, original_file
from ansible_collections.community.general.plugins.modules import ini_file

MARKER = "# {mark} ANSIBLE MANAGED BLOCK claude_fleet.bedrock"
BLOCK = 'if [ -r "$HOME/.config/claude-fleet/env.sh" ]; then . "$HOME/.config/claude-fleet/env.sh"; fi'
MANAGED_JSON = ["env.AWS_REGION", "env.CLAUDE_CODE_USE_BEDROCK", "awsAuthRefresh"]


def _run(module, capsys, check=False, **args):
    if check:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{"):])
    return exc.value.code, result


def _ok(module, capsys, **args):
    code, result = _run(module, capsys, **args)
    assert code == 0, result
    return result


@pytest.fixture
def home(tmp_path):
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def _record(capsys, home, rel, state, file_format="lines", **extra):
    args = dict(path=str(home / rel), home=str(home), record_dir=str(home / ".local/state/claude-fleet/originals"), state=state,
                format=file_format, marker=MARKER, _ansible_tmpdir=str(home.parent), **extra)
    return _ok(original_file, capsys, **args)


def _block(capsys, home, rel, state="present", **extra):
    return _ok(blockinfile, capsys, path=str(home / rel), block=BLOCK, marker=MARKER, create=True, state=state,
               _ansible_tmpdir=str(home.parent), **extra)


def _settings(capsys, home, state="present"):
    return _ok(claude_settings, capsys, path=str(home / ".claude/settings.json"), state=state,
               settings={"env": {"AWS_REGION": "eu-west-1", "CLAUDE_CODE_USE_BEDROCK": "1"}} if state == "present" else {},
               remove=[] if state == "present" else MANAGED_JSON, create_parents=True, _ansible_tmpdir=str(home.parent))


# Real-world dotfile shapes: no final newline, CRLF, a BOM, an empty file, a file that is only a comment.
RC_SHAPES = {
    "no-final-newline": b"alias k=kubectl",
    "crlf": b"export A=1\r\nalias ll='ls -l'\r\n",
    "bom": b"\xef\xbb\xbfexport LANG=C.UTF-8\n",
    "empty": b"",
    "debian-bashrc": b"# ~/.bashrc\ncase $- in\n    *i*) ;;\n      *) return;;\nesac\nHISTSIZE=1000\n",
    "trailing-blank-lines": b"set -o vi\n\n\n",
}


@pytest.mark.parametrize("shape", sorted(RC_SHAPES))
@pytest.mark.parametrize("where", ["BOF", "EOF"])
def test_an_untouched_rc_file_comes_back_byte_for_byte(capsys, home, shape, where):
    original = RC_SHAPES[shape]
    (home / ".bashrc").write_bytes(original)
    os.chmod(home / ".bashrc", 0o640)
    assert _record(capsys, home, ".bashrc", "saved")["action"] == "recorded"
    extra = {"insertbefore": "BOF"} if where == "BOF" else {}
    _block(capsys, home, ".bashrc", **extra)
    assert _record(capsys, home, ".bashrc", "saved")["action"] == "kept"  # a re-run keeps the first bytes
    _block(capsys, home, ".bashrc", state="absent")
    assert _record(capsys, home, ".bashrc", "restored")["action"] in ("restored", "kept")
    assert (home / ".bashrc").read_bytes() == original
    assert stat.S_IMODE(os.stat(home / ".bashrc").st_mode) == 0o640
    assert not (home / ".local").exists(), "the record directory and the parents it created are gone"


def test_a_user_edit_since_keeps_the_users_bytes(capsys, home):
    (home / ".profile").write_bytes(b"alias k=kubectl")
    _record(capsys, home, ".profile", "saved")
    _block(capsys, home, ".profile")
    with open(home / ".profile", "ab") as handle:
        handle.write(b"export EDITOR=vim\n")
    _block(capsys, home, ".profile", state="absent")
    after_removal = (home / ".profile").read_bytes()
    result = _record(capsys, home, ".profile", "restored")
    assert result["action"] == "left" and "changed by its user" in result["msg"]
    assert (home / ".profile").read_bytes() == after_removal and b"EDITOR=vim" in after_removal


def test_a_file_and_directories_the_collection_created_are_removed(capsys, home):
    (home / ".config").mkdir()
    _record(capsys, home, ".config/claude-fleet/env.sh", "saved")
    (home / ".config/claude-fleet").mkdir()
    _block(capsys, home, ".config/claude-fleet/env.sh")
    _block(capsys, home, ".config/claude-fleet/env.sh", state="absent")
    assert (home / ".config/claude-fleet/env.sh").read_bytes() == b""
    assert _record(capsys, home, ".config/claude-fleet/env.sh", "restored")["action"] == "removed"
    assert not (home / ".config/claude-fleet").exists() and (home / ".config").is_dir()


def test_a_created_file_the_user_added_to_stays(capsys, home):
    _record(capsys, home, ".zshenv", "saved")
    _block(capsys, home, ".zshenv")
    with open(home / ".zshenv", "ab") as handle:
        handle.write(b"path+=(~/bin)\n")
    _block(capsys, home, ".zshenv", state="absent")
    assert _record(capsys, home, ".zshenv", "restored")["action"] == "left"
    assert (home / ".zshenv").read_bytes() == b"path+=(~/bin)\n"


JSON_SHAPES = {
    "inline-arrays": b'{"permissions": {"allow": ["Bash(ls)", "Read"], "deny": []}, "env": {"MINE": "1"}}',
    "four-spaces-crlf": b'{\r\n    "model": "opus",\r\n    "hooks": {}\r\n}\r\n',
    "bom-tab": b'\xef\xbb\xbf{\n\t"env": {\n\t\t"AWS_REGION": "us-west-2"\n\t}\n}\n',
    "empty-object": b"{}",
}


@pytest.mark.parametrize("shape", sorted(JSON_SHAPES))
def test_an_untouched_settings_json_comes_back_byte_for_byte(capsys, home, shape):
    (home / ".claude").mkdir()
    original = JSON_SHAPES[shape]
    (home / ".claude/settings.json").write_bytes(original)
    _record(capsys, home, ".claude/settings.json", "saved", "json", managed=MANAGED_JSON)
    _settings(capsys, home)
    assert (home / ".claude/settings.json").read_bytes() != original
    _settings(capsys, home, "absent")
    assert _record(capsys, home, ".claude/settings.json", "restored", "json", managed=MANAGED_JSON)["action"] in ("restored", "kept")
    # The user's own AWS_REGION (bom-tab), removed as a catalog key by the uninstall, comes back with the bytes.
    assert (home / ".claude/settings.json").read_bytes() == original


def test_a_settings_json_the_collection_created_is_removed_with_its_directory(capsys, home):
    _record(capsys, home, ".claude/settings.json", "saved", "json", managed=MANAGED_JSON)
    _settings(capsys, home)
    _settings(capsys, home, "absent")
    assert json.loads((home / ".claude/settings.json").read_text()) == {}
    assert _record(capsys, home, ".claude/settings.json", "restored", "json", managed=MANAGED_JSON)["action"] == "removed"
    assert not (home / ".claude").exists()


def test_a_settings_json_edited_since_keeps_the_edit(capsys, home):
    (home / ".claude").mkdir()
    (home / ".claude/settings.json").write_bytes(b'{"model": "opus"}')
    _record(capsys, home, ".claude/settings.json", "saved", "json", managed=MANAGED_JSON)
    _settings(capsys, home)
    doc = json.loads((home / ".claude/settings.json").read_text())
    doc["hooks"] = {"Stop": []}
    (home / ".claude/settings.json").write_text(json.dumps(doc))
    _settings(capsys, home, "absent")
    assert _record(capsys, home, ".claude/settings.json", "restored", "json", managed=MANAGED_JSON)["action"] == "left"
    assert json.loads((home / ".claude/settings.json").read_text()) == {"model": "opus", "hooks": {"Stop": []}}


INI_MANAGED = [["default", "ca_bundle"], ["profile dev", "ca_bundle"]]


def _ini(capsys, home, state):
    return _ok(ini_file, capsys, path=str(home / ".aws/config"), section="default", option="ca_bundle", value="/etc/claude-code/ca.pem",
               state=state, create=state == "present", mode="0600", _ansible_tmpdir=str(home.parent))


@pytest.mark.parametrize("original", [None, b"[profile dev]\r\nregion = eu-west-1", b"[default]\nregion=us-east-1\n\n[profile x]\noutput = json\n"],
                         ids=["created", "crlf-no-final-newline", "default-section"])
def test_aws_config_comes_back_or_goes(capsys, home, original):
    if original is not None:
        (home / ".aws").mkdir()
        (home / ".aws/config").write_bytes(original)
    _record(capsys, home, ".aws/config", "saved", "ini", managed=INI_MANAGED)
    _ini(capsys, home, "present")
    _ini(capsys, home, "absent")
    _record(capsys, home, ".aws/config", "restored", "ini", managed=INI_MANAGED)
    if original is None:
        assert not (home / ".aws").exists()
    else:
        assert (home / ".aws/config").read_bytes() == original


def test_check_mode_writes_nothing(capsys, home):
    (home / ".bashrc").write_bytes(b"x")
    assert _record(capsys, home, ".bashrc", "saved", check=True)["changed"] is True
    assert not (home / ".local").exists()
    _record(capsys, home, ".bashrc", "saved")
    _block(capsys, home, ".bashrc")
    _block(capsys, home, ".bashrc", state="absent")
    before = (home / ".bashrc").read_bytes()
    assert _record(capsys, home, ".bashrc", "restored", check=True)["action"] == "restored"
    assert (home / ".bashrc").read_bytes() == before and (home / ".local").exists()


def test_a_home_converged_by_an_older_release_gets_no_record(capsys, home):
    (home / ".bashrc").write_bytes(b"# BEGIN ANSIBLE MANAGED BLOCK claude_fleet.bedrock\nx\n# END ANSIBLE MANAGED BLOCK claude_fleet.bedrock\n")
    assert _record(capsys, home, ".bashrc", "saved")["action"] == "skipped"
    (home / ".zshenv").write_bytes(b"x")
    assert _record(capsys, home, ".zshenv", "saved", pristine=False)["action"] == "skipped"
    assert _record(capsys, home, ".bashrc", "restored")["action"] == "none"


def test_a_symlinked_rc_file_is_restored_through_the_link(capsys, home):
    (home / "dotfiles").mkdir()
    (home / "dotfiles/bashrc").write_bytes(b"alias g=git")
    os.symlink("dotfiles/bashrc", home / ".bashrc")
    _record(capsys, home, ".bashrc", "saved")
    _block(capsys, home, ".bashrc")
    _block(capsys, home, ".bashrc", state="absent")
    _record(capsys, home, ".bashrc", "restored")
    assert os.readlink(home / ".bashrc") == "dotfiles/bashrc"
    assert (home / "dotfiles/bashrc").read_bytes() == b"alias g=git"


def test_only_regular_files_are_read(capsys, home):
    os.mkfifo(home / ".bashrc")
    code, result = _run(original_file, capsys, path=str(home / ".bashrc"), home=str(home), record_dir=str(home / ".rec"), state="saved")
    assert code != 0 and result["msg"] == "not a regular file: %s" % (home / ".bashrc")


LINE = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
               max_size=20).filter(lambda line: "ANSIBLE MANAGED BLOCK" not in line)


@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(LINE, max_size=6), newline=st.sampled_from(["\n", "\r\n"]), final=st.booleans(), where=st.sampled_from(["BOF", "EOF"]))
def test_generated_rc_files_come_back_byte_for_byte(capsys, tmp_path_factory, lines, newline, final, where):
    home = tmp_path_factory.mktemp("gen") / "home"
    home.mkdir()
    original = (newline.join(lines) + (newline if final and lines else "")).encode("utf-8")
    (home / ".bashrc").write_bytes(original)
    _record(capsys, home, ".bashrc", "saved")
    _block(capsys, home, ".bashrc", **({"insertbefore": "BOF"} if where == "BOF" else {}))
    _block(capsys, home, ".bashrc", state="absent")
    _record(capsys, home, ".bashrc", "restored")
    assert (home / ".bashrc").read_bytes() == original


def test_projection_ignores_only_what_the_collection_changes():
    block = b"# BEGIN ANSIBLE MANAGED BLOCK claude_fleet.bedrock\nx\n# END ANSIBLE MANAGED BLOCK claude_fleet.bedrock\n"
    assert project(b"a\r\nb", "lines", marker=MARKER) == project(block + b"a\nb\n", "lines", marker=MARKER)
    assert project(b"a\nb", "lines", marker=MARKER) != project(b"a\nc", "lines", marker=MARKER)
    reindented = b'{\n  "a": [\n    1,\n    2\n  ],\n  "env": {"X": "1"}\n}'
    assert project(b'{"a": [1, 2]}', "json", managed=["env.X"]) == project(reindented, "json", managed=["env.X"])
    assert project(b"[default]\nca_bundle = /x\n", "ini", managed=[["default", "ca_bundle"]]) == ""


# A hostile user can edit her records: none of their contents may choose where uninstall writes, what
# mode it sets, or which directories it removes; a record that is not as written is reported, not used.
RECORDS = ".local/state/claude-fleet/originals"


def _record_file(home, rel):
    return home / RECORDS / original_file._record_name(str(home / rel))


def _converged_bashrc(capsys, home, original=b"alias k=kubectl"):
    (home / ".bashrc").write_bytes(original)
    _record(capsys, home, ".bashrc", "saved")
    _block(capsys, home, ".bashrc")
    _block(capsys, home, ".bashrc", state="absent")
    return json.loads(_record_file(home, ".bashrc").read_text())


def test_a_record_pointed_at_another_file_writes_nothing_there(capsys, home):
    entry = _converged_bashrc(capsys, home)
    (home / "victim").write_bytes(b"mine\n")
    entry.update(target=str(home / "victim"), data="Z2FyYmFnZQ==")
    _record_file(home, ".bashrc").write_text(json.dumps(entry))
    result = _record(capsys, home, ".bashrc", "restored")
    assert result["action"] == "left" and "leads elsewhere" in result["msg"]
    assert (home / "victim").read_bytes() == b"mine\n" and (home / ".bashrc").read_bytes() == b"alias k=kubectl\n"


@pytest.mark.parametrize("field, value, reason", [
    ("mode", 0o4755, "mode is not a permission mode"),
    ("mode", "0644", "mode is not a permission mode"),
    ("data", "not base64!", "data is not base64"),
    ("existed", "yes", "existed is not true or false"),
    ("path", "/etc/shadow", "not the record of this file"),
    ("format", "json", "recorded with format"),
    ("target", "../../etc/passwd", "target is not an absolute path"),
])
def test_a_record_with_a_field_not_as_written_is_reported_and_not_used(capsys, home, field, value, reason):
    entry = _converged_bashrc(capsys, home)
    entry[field] = value
    _record_file(home, ".bashrc").write_text(json.dumps(entry))
    result = _record(capsys, home, ".bashrc", "restored")
    assert result["action"] == "unusable" and reason in result["msg"] and str(_record_file(home, ".bashrc")) in result["msg"]
    assert result["changed"] is False and _record_file(home, ".bashrc").exists()
    assert (home / ".bashrc").read_bytes() == b"alias k=kubectl\n", "the file stays as the removal left it"
    assert stat.S_IMODE(os.stat(home / ".bashrc").st_mode) & 0o7000 == 0


@pytest.mark.parametrize("plant", ["not-json", "fifo", "dev-zero", "link"])
def test_a_planted_record_is_never_followed_or_read_unbounded(capsys, home, plant):
    _converged_bashrc(capsys, home)
    record = _record_file(home, ".bashrc")
    record.unlink()
    (home / "elsewhere.json").write_text("{}")
    {"not-json": lambda: record.write_bytes(b"\x00" * 100),
     "fifo": lambda: os.mkfifo(record),
     "dev-zero": lambda: os.symlink("/dev/zero", record),
     "link": lambda: os.symlink(home / "elsewhere.json", record)}[plant]()
    result = _record(capsys, home, ".bashrc", "restored")
    assert result["action"] == "unusable", result
    assert (home / ".bashrc").read_bytes() == b"alias k=kubectl\n" and os.path.lexists(record)


def test_a_deleted_record_is_reported_by_the_index(capsys, home):
    _converged_bashrc(capsys, home)
    _record_file(home, ".bashrc").unlink()
    result = _record(capsys, home, ".bashrc", "restored")
    assert result["action"] == "missing" and "is gone" in result["msg"]
    assert not (home / ".local").exists(), "the last entry of the index takes the record directory with it"


def test_an_index_cannot_make_uninstall_remove_directories_outside_the_record_path(capsys, home):
    _converged_bashrc(capsys, home)
    for victim in (home.parent / "victim", home / "empty-of-mine"):
        victim.mkdir()
    index = home / RECORDS / "index.json"
    data = json.loads(index.read_text())
    data["created_dirs"] = [str(home / "empty-of-mine"), str(home.parent / "victim"), str(home)] + data["created_dirs"]
    index.write_text(json.dumps(data))
    _record(capsys, home, ".bashrc", "restored")
    assert (home.parent / "victim").is_dir() and (home / "empty-of-mine").is_dir()
    assert (home / ".bashrc").read_bytes() == b"alias k=kubectl"


def test_created_dirs_of_a_record_must_lie_between_the_home_and_the_file(capsys, home):
    _record(capsys, home, ".config/claude-fleet/env.sh", "saved")
    (home.parent / "victim").mkdir()
    record = _record_file(home, ".config/claude-fleet/env.sh")
    entry = json.loads(record.read_text())
    entry["created_dirs"] = [str(home.parent / "victim")]
    record.write_text(json.dumps(entry))
    result = _record(capsys, home, ".config/claude-fleet/env.sh", "restored")
    assert result["action"] == "unusable" and "created_dirs" in result["msg"]
    assert (home.parent / "victim").is_dir()


def test_a_linked_record_directory_is_not_followed(capsys, home):
    (home / ".local/state").mkdir(parents=True)
    (home / "elsewhere").mkdir()
    os.symlink(home / "elsewhere", home / ".local/state/claude-fleet")
    (home / ".bashrc").write_bytes(b"x")
    result = _record(capsys, home, ".bashrc", "saved")
    assert result["action"] == "unrecorded" and "symlink" in result["msg"]
    assert os.listdir(home / "elsewhere") == []


def test_it_runs_only_as_the_user_who_owns_the_home(capsys, home):
    if os.geteuid() != 0:
        pytest.skip("needs root to give the home to another user")  # the unit suite runs as root in CI
    (home / ".bashrc").write_bytes(b"x")
    os.chown(home, 65534, 65534)
    code, result = _run(original_file, capsys, path=str(home / ".bashrc"), home=str(home), record_dir=str(home / RECORDS),
                        state="restored")
    assert code != 0 and "runs as the user who owns" in result["msg"]
    assert not (home / ".local").exists()


def test_a_large_file_fits_its_record(capsys, home):
    original = b"# " + b"x" * (original_file.MAX_BYTES - 3)  # a byte below the limit, no final newline: the removal adds one
    (home / ".bashrc").write_bytes(original)
    _record(capsys, home, ".bashrc", "saved")
    _block(capsys, home, ".bashrc")
    _block(capsys, home, ".bashrc", state="absent")
    assert _record(capsys, home, ".bashrc", "restored")["action"] == "restored"
    assert (home / ".bashrc").read_bytes() == original
