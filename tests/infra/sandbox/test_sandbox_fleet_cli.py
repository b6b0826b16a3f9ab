# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fast tests of the sandbox fleet tool: argument errors, address allocation, atomic image build.

These need neither root nor a built image (the one root-only case says so when it skips).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

# sandbox_fleet.py is beside this file (pytest puts a test file's directory on sys.path).
import sandbox_fleet as sf

HERE = os.path.dirname(os.path.abspath(__file__))
SANDBOX = HERE
FLEET = os.path.join(SANDBOX, "fleet")


@pytest.fixture(name="isolated")
def isolated_fixture(tmp_path, monkeypatch):
    """Point the module (and the CLI, through the environment) at private state and cache roots."""
    state = tmp_path / "state"
    cache = tmp_path / "cache"
    monkeypatch.setattr(sf, "STATE_ROOT", str(state))
    monkeypatch.setattr(sf, "CACHE_ROOT", str(cache))
    env = dict(os.environ, CLAUDE_FLEET_SANDBOX_STATE=str(state), CLAUDE_FLEET_SANDBOX_CACHE=str(cache),
               CLAUDE_FLEET_SANDBOX_PYTHON=sys.executable)
    return {"state": state, "cache": cache, "env": env, "tmp": tmp_path}


def _fleet(env, *args, user=None, fleet=FLEET):
    cmd = [fleet] + list(args)
    if user is not None:
        cmd = ["setpriv", "--reuid=%d" % user, "--regid=%d" % user, "--clear-groups", "--"] + cmd
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)


def _assert_one_line_error(proc, *words):
    assert proc.returncode == 2, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("fleet: error: ")
    for word in words:
        assert word in lines[0]


def _nothing_left(isolated):
    for root in (isolated["state"], isolated["cache"]):
        assert not root.exists() or not [p for p in root.iterdir() if p.name != ".lock"], list(root.iterdir())


@pytest.mark.parametrize("release", ["buster", "jessie", "bookworm,sid", ""])
def test_up_unknown_release_is_a_one_line_error(isolated, release):
    proc = _fleet(isolated["env"], "up", "--name", "bad", "--release", release, "--count", "1")
    _assert_one_line_error(proc, "release")
    if release:
        assert release.split(",")[-1] in proc.stderr
    _nothing_left(isolated)


@pytest.mark.parametrize("count", ["0", "-1"])
def test_up_non_positive_count_is_a_one_line_error(isolated, count):
    proc = _fleet(isolated["env"], "up", "--name", "bad", "--count", count)
    _assert_one_line_error(proc, "--count", count)
    _nothing_left(isolated)


@pytest.mark.parametrize("name", ["Demo", "1abc", "a_b", "x" * 41, "a/b"])
def test_up_bad_name_is_a_one_line_error(isolated, name):
    proc = _fleet(isolated["env"], "up", "--name", name, "--count", "1")
    _assert_one_line_error(proc, "--name")
    _nothing_left(isolated)


def test_up_hosts_and_count_must_agree(isolated):
    proc = _fleet(isolated["env"], "up", "--name", "bad", "--hosts", "a-1,a-2", "--count", "3")
    _assert_one_line_error(proc, "--count 3", "--hosts")
    proc = _fleet(isolated["env"], "up", "--name", "bad", "--hosts", "a-1,a-1")
    _assert_one_line_error(proc, "duplicate")
    _nothing_left(isolated)


def test_image_unknown_release_is_a_one_line_error(isolated):
    proc = _fleet(isolated["env"], "image", "--release", "hamm")
    _assert_one_line_error(proc, "hamm")
    _nothing_left(isolated)


def test_not_root_is_a_one_line_error(isolated):
    if os.geteuid() != 0:
        proc = _fleet(isolated["env"], "up", "--name", "demo", "--count", "1")
    else:
        # Drop to nobody. nobody may not traverse the checkout (a clone in root's home or a 0700
        # mktemp -d directory), so it runs a copy of the tool from a directory it can read, with
        # the system python (not root's virtualenv).
        tool = tempfile.mkdtemp(prefix="fleet-tool-")
        try:
            os.chmod(tool, 0o755)
            for name in ("fleet", "sandbox_fleet.py"):
                shutil.copy2(os.path.join(SANDBOX, name), tool)
            env = dict(isolated["env"], CLAUDE_FLEET_SANDBOX_PYTHON="/usr/bin/python3")
            proc = _fleet(env, "up", "--name", "demo", "--count", "1", user=65534, fleet=os.path.join(tool, "fleet"))
        finally:
            shutil.rmtree(tool)
    _assert_one_line_error(proc, "root")
    _nothing_left(isolated)


def test_down_of_a_missing_fleet_is_a_noop(isolated):
    if os.geteuid() != 0:
        pytest.skip("down needs root; the not-root error is covered by test_not_root_is_a_one_line_error")
    proc = _fleet(isolated["env"], "down", "--name", "ghost")
    assert proc.returncode == 0, proc.stderr
    assert "ghost does not exist" in proc.stderr
    _nothing_left(isolated)


def test_list_with_no_fleets(isolated):
    proc = _fleet(isolated["env"], "list", "--format", "molecule")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def _fake_state(isolated, name, ips):
    fdir = isolated["state"] / name
    fdir.mkdir(parents=True)
    state = {"name": name, "workstations": [{"name": "%s-%d" % (name, i), "ip": ip, "release": "bookworm"} for i, ip in enumerate(ips)]}
    (fdir / "state.json").write_text(json.dumps(state))


def test_automatic_addresses_never_collide_with_other_fleets(isolated, monkeypatch):
    monkeypatch.setattr(sf, "ip_in_use", lambda ip: False)
    _fake_state(isolated, "one", ["127.100.0.10", "127.100.0.11", "127.100.0.13"])
    ips = sf.allocate_ips(3, None, "two")
    assert ips == ["127.100.0.12", "127.100.0.14", "127.100.0.15"]
    # The fleet's own previous addresses are free for its re-creation.
    assert sf.allocate_ips(2, None, "one") == ["127.100.0.10", "127.100.0.11"]


@pytest.mark.usefixtures("isolated")
def test_automatic_addresses_skip_busy_ports(monkeypatch):
    monkeypatch.setattr(sf, "ip_in_use", lambda ip: ip == "127.100.0.10")
    assert sf.allocate_ips(1, None, "x") == ["127.100.0.11"]


def test_base_ip_collision_is_refused(isolated, monkeypatch):
    monkeypatch.setattr(sf, "ip_in_use", lambda ip: False)
    _fake_state(isolated, "one", ["127.50.0.2"])
    with pytest.raises(sf.FleetError) as err:
        sf.allocate_ips(2, "127.50.0.1", "two")
    assert err.value.code == 2 and "127.50.0.2" in str(err.value)
    assert sf.allocate_ips(2, "127.50.0.3", "two") == ["127.50.0.3", "127.50.0.4"]
    with pytest.raises(sf.FleetError):
        sf.allocate_ips(1, "10.0.0.1", "two")


def test_image_key_changes_with_the_package_list(monkeypatch):
    before = sf.image_key("bookworm")
    assert before.startswith("bookworm-")
    assert sf.image_key("trixie").startswith("trixie-")
    monkeypatch.setattr(sf, "PACKAGES", sf.PACKAGES + ["htop"])
    assert sf.image_key("bookworm") != before


def test_failed_image_build_leaves_no_image(isolated, monkeypatch):
    calls = []

    def failing_run(cmd, **_kwargs):
        calls.append(cmd[0])
        os.makedirs(os.path.join(cmd[-2], "usr"), exist_ok=True)  # debootstrap got half-way
        raise sf.FleetError("debootstrap exploded")
    monkeypatch.setattr(sf, "run", failing_run)
    monkeypatch.setattr(sf, "host_mirrors", lambda: ("http://mirror.invalid/debian", "http://mirror.invalid/debian-security"))
    with pytest.raises(sf.FleetError):
        sf.ensure_image("bookworm", quiet=True)
    assert calls == ["debootstrap"]
    images = isolated["cache"] / "images"
    assert [p.name for p in images.iterdir() if not p.name.endswith(".lock")] == []


def test_image_build_is_atomic_and_cached(isolated, monkeypatch):
    calls = []

    def fake_run(cmd, **_kwargs):
        calls.append(cmd[0])
        if cmd[0] == "debootstrap":
            os.makedirs(os.path.join(cmd[-2], "etc"))
        return subprocess.CompletedProcess(cmd, 0, "", "")
    monkeypatch.setattr(sf, "run", fake_run)
    monkeypatch.setattr(sf, "host_mirrors", lambda: ("http://mirror.invalid/debian", "http://mirror.invalid/debian-security"))
    images = isolated["cache"] / "images"
    images.mkdir(parents=True)
    stale = images / (".build-%s-crashed" % sf.image_key("bookworm"))
    stale.mkdir()
    path = sf.ensure_image("bookworm", quiet=True)
    assert calls == ["debootstrap", "chroot"]
    assert os.path.basename(path) == sf.image_key("bookworm")
    assert json.loads((images / sf.image_key("bookworm") / ".sandbox-image.json").read_text())["release"] == "bookworm"
    assert not stale.exists()
    assert sorted(p.name for p in images.iterdir() if not p.name.endswith(".lock")) == [sf.image_key("bookworm")]
    # Second call: cached, nothing runs.
    assert sf.ensure_image("bookworm", quiet=True) == path
    assert calls == ["debootstrap", "chroot"]


def test_host_mirror_discovery_reads_deb822_and_one_line_sources(tmp_path, monkeypatch):
    one_line = tmp_path / "sources.list"
    one_line.write_text("# comment\ndeb [arch=amd64] http://one.invalid/debian bookworm main\n")
    deb822 = tmp_path / "debian.sources"
    deb822.write_text("Types: deb\nURIs: http://sec.invalid/debian-security\nSuites: bookworm-security\nComponents: main\n")

    def fake_glob(pattern):
        return {"/etc/apt/sources.list": [str(one_line)], "/etc/apt/sources.list.d/*.sources": [str(deb822)]}.get(pattern, [])
    monkeypatch.setattr(sf.glob, "glob", fake_glob)
    monkeypatch.delenv("CLAUDE_FLEET_SANDBOX_MIRROR", raising=False)
    monkeypatch.delenv("CLAUDE_FLEET_SANDBOX_SECURITY_MIRROR", raising=False)
    assert sf.host_mirrors() == ("http://one.invalid/debian", "http://sec.invalid/debian-security")


def _seed_fleet(isolated, name, hosts, release="bookworm"):
    """A fleet's state with workstations whose upper directories and image exist (nothing runs)."""
    image = isolated["tmp"] / "image"
    image.mkdir(exist_ok=True)
    fdir = isolated["state"] / name
    fdir.mkdir(parents=True)
    for host in hosts:
        (fdir / host / "upper").mkdir(parents=True)
    state = {"name": name, "workstations": [{"name": h, "ip": "127.60.0.%d" % (i + 2), "release": release, "image": str(image)}
                                            for i, h in enumerate(hosts)]}
    (fdir / "state.json").write_text(json.dumps(state))


def test_up_seed_from_a_missing_workstation_is_a_one_line_error(isolated):
    _seed_fleet(isolated, "seedf", ["seedf-1"])
    for spec in ("ghost-1", "seedf/ghost-1", "other/seedf-1"):
        proc = _fleet(isolated["env"], "up", "--name", "clones", "--count", "2", "--seed-from", spec)
        _assert_one_line_error(proc, "--seed-from", spec, "no such workstation")
    assert not (isolated["state"] / "clones").exists()


def test_up_seed_from_a_bad_name_is_a_one_line_error(isolated):
    proc = _fleet(isolated["env"], "up", "--name", "clones", "--seed-from", "Seed/x")
    _assert_one_line_error(proc, "--seed-from fleet")
    proc = _fleet(isolated["env"], "up", "--name", "clones", "--seed-from", "seed/")
    _assert_one_line_error(proc, "--seed-from workstation")
    _nothing_left(isolated)


def test_up_seed_from_an_ambiguous_name_or_its_own_fleet_is_refused(isolated):
    _seed_fleet(isolated, "one", ["ws-1"])
    _seed_fleet(isolated, "two", ["ws-1"])
    proc = _fleet(isolated["env"], "up", "--name", "clones", "--seed-from", "ws-1")
    _assert_one_line_error(proc, "one, two", "FLEET/HOST")
    # up re-creates its own fleet first, which would destroy the seed.
    proc = _fleet(isolated["env"], "up", "--name", "one", "--seed-from", "one/ws-1")
    _assert_one_line_error(proc, "fleet one")
    assert json.loads((isolated["state"] / "one" / "state.json").read_text())["workstations"][0]["name"] == "ws-1"
    assert not (isolated["state"] / "clones").exists()


def test_up_seed_from_needs_the_seeds_release(isolated):
    _seed_fleet(isolated, "seedf", ["seedf-1"], release="trixie")
    proc = _fleet(isolated["env"], "up", "--name", "clones", "--seed-from", "seedf-1")
    _assert_one_line_error(proc, "trixie workstation", "--release must be trixie")
    assert not (isolated["state"] / "clones").exists()


def test_up_seed_from_a_workstation_whose_files_are_gone_is_refused(isolated):
    _seed_fleet(isolated, "seedf", ["seedf-1"])
    shutil.rmtree(isolated["state"] / "seedf" / "seedf-1" / "upper")
    proc = _fleet(isolated["env"], "up", "--name", "clones", "--seed-from", "seedf/seedf-1")
    _assert_one_line_error(proc, "is gone")
    assert not (isolated["state"] / "clones").exists()


def test_a_seeded_workstation_mounts_the_seed_layer_between_its_upper_dir_and_the_image(monkeypatch):
    mounts = []

    class Mounted(Exception):
        """Stops _prepare_root after its first mount (the root overlay)."""

    def first_mount(*args):
        mounts.append(args)
        raise Mounted()
    monkeypatch.setattr(sf, "_mount", first_mount)
    cfg = {"image": "/img", "upper": "/ws/upper", "work": "/ws/work", "merged": "/ws/merged"}
    for seed, lower in ((None, "lowerdir=/img,"), ("/fleet/seed", "lowerdir=/fleet/seed:/img,")):
        with pytest.raises(Mounted):
            sf._prepare_root(dict(cfg, seed=seed))  # pylint: disable=protected-access
        assert mounts[-1][:4] == ("-t", "overlay", "overlay", "-o") and mounts[-1][4].startswith(lower), mounts[-1]


def test_seed_snapshot_keeps_modes_times_links_and_is_a_copy(isolated):
    _seed_fleet(isolated, "seedf", ["seedf-1"])
    upper = isolated["state"] / "seedf" / "seedf-1" / "upper"
    (upper / "opt").mkdir(mode=0o750)
    (upper / "opt" / "tool").write_text("converged\n")
    os.chmod(upper / "opt" / "tool", 0o755)
    os.utime(upper / "opt" / "tool", (1_000_000_000, 1_000_000_000))
    os.symlink("opt/tool", upper / "link")
    state = json.loads((isolated["state"] / "seedf" / "state.json").read_text())
    target = isolated["state"] / "clones"
    target.mkdir()
    layer = sf.snapshot_seed(state, state["workstations"][0], str(target))
    copied = os.stat(os.path.join(layer, "opt", "tool"))
    assert layer == str(target / "seed")
    assert (copied.st_mode & 0o7777, copied.st_mtime, os.stat(os.path.join(layer, "opt")).st_mode & 0o7777) == (0o755, 1_000_000_000, 0o750)
    assert os.readlink(os.path.join(layer, "link")) == "opt/tool"
    assert copied.st_ino != (upper / "opt" / "tool").stat().st_ino
    (upper / "opt" / "tool").write_text("changed later\n")
    assert open(os.path.join(layer, "opt", "tool"), encoding="utf-8").read() == "converged\n"
