# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live tests of tests/infra/sandbox/fleet: real workstations, SSH, Ansible, and a clean teardown.

They need root (unshare, mount, chroot) and the cached images (built on first use, about a
minute per release, from the Debian mirror the host's apt uses).  Fleet names are unique per
run, so they never touch fleets other people have up on the same machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading

import pytest
import yaml

# sandbox_fleet.py is beside this file (pytest puts a test file's directory on sys.path).
import sandbox_fleet as sf

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
SANDBOX = HERE
FLEET = os.path.join(SANDBOX, "fleet")
PREFIX = "pyt%d" % os.getpid()


pytestmark = [
    pytest.mark.sandbox,
    pytest.mark.skipif(os.geteuid() != 0, reason="sandbox workstations need root (unshare, mount, chroot)"),
    pytest.mark.skipif(shutil.which("debootstrap") is None, reason="debootstrap is not installed (make deps)"),
]

ENV = dict(os.environ, CLAUDE_FLEET_SANDBOX_PYTHON=sys.executable, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
           ANSIBLE_SSH_ARGS="-o ControlMaster=no", ANSIBLE_DEPRECATION_WARNINGS="false")
ANSIBLE = os.path.join(os.path.dirname(sys.executable), "ansible")
if not os.path.exists(ANSIBLE):
    ANSIBLE = shutil.which("ansible") or "ansible"


def fleet(*args, check=True):
    proc = subprocess.run([FLEET] + list(args), env=ENV, capture_output=True, text=True, timeout=600, check=False)
    if check:
        assert proc.returncode == 0, "fleet %s: rc=%d\n%s" % (" ".join(args), proc.returncode, proc.stderr)
    return proc


def ensure_image(release):
    proc = fleet("image", "--release", release, check=False)
    if proc.returncode != 0 and "debootstrap" in proc.stderr:
        pytest.skip("cannot build the %s image (Debian mirror unreachable?): %s" % (release, proc.stderr.strip()))
    assert proc.returncode == 0, proc.stderr


def ssh(state, ws, command, user="admin", extra=()):
    cmd = ["ssh", "-i", state["private_key"], "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR"] + list(extra) + ["%s@%s" % (user, ws["ip"]), command]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def ansible(inventory, *args):
    return subprocess.run([ANSIBLE, "-i", inventory] + list(args), env=ENV, capture_output=True, text=True, timeout=300, check=False)


def banner(ip):
    with socket.create_connection((ip, 22), timeout=5) as sock:
        sock.settimeout(5)
        return sock.recv(64)


def fleet_footprint(name):
    """Every trace of a fleet on the host: processes, mounts in any mount namespace, files."""
    fdir = os.path.realpath(sf.fleet_dir(name))
    pids = sf.pids_under(fdir)
    mounts = []
    for pid in sf.all_pids():
        for line in sf._read("/proc/%d/mountinfo" % pid).splitlines():  # pylint: disable=protected-access
            fields = line.split()
            if len(fields) > 4 and (fields[4].startswith(fdir + "/") or fields[4] == fdir):
                mounts.append((pid, fields[4]))
    return {"pids": pids, "mounts": mounts, "dir": os.path.exists(fdir)}


@pytest.fixture(name="demo", scope="module")
def demo_fixture(tmp_path_factory):
    """One bookworm workstation for the whole module; always torn down."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    ensure_image("bookworm")
    name = PREFIX + "a"
    inventory = str(tmp_path_factory.mktemp("inv") / "inventory.yml")
    fleet("up", "--name", name, "--release", "bookworm", "--count", "1", "--inventory", inventory)
    state = sf.load_state(name)
    try:
        yield {"name": name, "inventory": inventory, "state": state, "ws": state["workstations"][0]}
    finally:
        fleet("down", "--name", name, check=False)


def test_inventory_shape(demo):
    with open(demo["inventory"], encoding="utf-8") as handle:
        inv = yaml.safe_load(handle)
    group = inv["all"]["children"]["workstations"]
    host = group["hosts"]["%s-1" % demo["name"]]
    assert host["ansible_host"] == demo["ws"]["ip"]
    assert host["ansible_host"].startswith("127.")
    assert host["ansible_user"] == "admin"
    assert host["ansible_python_interpreter"] == "/usr/bin/python3"
    assert host["sandbox_release"] == "bookworm"
    assert os.stat(host["ansible_ssh_private_key_file"]).st_mode & 0o077 == 0
    assert group["vars"]["sandbox_developers"] == [
        {"name": "alice", "shell": "/bin/bash"}, {"name": "bob", "shell": "/usr/bin/zsh"}, {"name": "carol", "shell": "/usr/bin/fish"}]


def test_ansible_ping_with_become(demo):
    proc = ansible(demo["inventory"], "workstations", "-m", "ansible.builtin.ping", "-b")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"pong"' in proc.stdout
    proc = ansible(demo["inventory"], "workstations", "-m", "ansible.builtin.command", "-a", "id -un", "-b")
    assert proc.returncode == 0 and "root" in proc.stdout, proc.stdout + proc.stderr
    proc = ansible(demo["inventory"], "workstations", "-m", "ansible.builtin.command", "-a", "id -un")
    assert proc.returncode == 0 and "admin" in proc.stdout, proc.stdout + proc.stderr


def test_workstation_identity_and_users(demo):
    ws, state = demo["ws"], demo["state"]
    proc = ssh(state, ws, "hostname; . /etc/os-release; echo $VERSION_CODENAME; getent passwd alice bob carol admin | cut -d: -f1,7;"
                          " test -f /home/alice/.bashrc && echo dotfiles; sudo -n true && echo sudo-ok")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split()
    assert lines[0] == ws["name"]
    assert lines[1] == "bookworm"
    assert "alice:/bin/bash" in lines and "bob:/usr/bin/zsh" in lines and "carol:/usr/bin/fish" in lines
    assert "dotfiles" in lines and "sudo-ok" in lines
    # Developers log in with their own shells.
    for user, shell in (("bob", "zsh"), ("carol", "fish")):
        proc = ssh(state, ws, "ps -o comm= -p $PPID; echo $SHELL", user=user)
        assert proc.returncode == 0, proc.stderr
        assert shell in proc.stdout


def test_ssh_is_key_only(demo):
    no_keys = ("-o", "PubkeyAuthentication=no", "-o", "PreferredAuthentications=password,keyboard-interactive")
    proc = ssh(demo["state"], demo["ws"], "true", extra=no_keys)
    assert proc.returncode == 255
    assert "Permission denied (publickey)" in proc.stderr


def test_sshd_listens_only_on_its_own_address(demo):
    ws = demo["ws"]
    # The listener only: session children of earlier tests may exit while we read their fds.
    listeners = sf.sshd_pids(ws["init_pid"], listener_only=True)
    assert listeners
    inodes = set()
    for pid in listeners:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    bound = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in sf._read(table).splitlines()[1:]:  # pylint: disable=protected-access
            fields = line.split()
            if fields[9] in inodes and fields[3] == "0A":  # LISTEN
                bound.add(fields[1])
    expected = "%08X:0016" % int.from_bytes(socket.inet_aton(ws["ip"]), "little")
    assert bound == {expected}


def test_host_keys_are_per_workstation_not_in_the_image(demo):
    ws = demo["ws"]
    upper = os.path.join(sf.fleet_dir(demo["name"]), ws["name"], "upper", "etc", "ssh")
    assert os.path.exists(os.path.join(upper, "ssh_host_ed25519_key"))
    assert not [f for f in os.listdir(os.path.join(ws["image"], "etc", "ssh")) if f.startswith("ssh_host_")]


def test_workstation_does_not_carry_the_host_ca_bundle(demo):
    extra = sorted(p for p in os.listdir("/usr/local/share/ca-certificates") if p.endswith(".crt")) \
        if os.path.isdir("/usr/local/share/ca-certificates") else []
    if not extra:
        pytest.skip("the host trusts no local CA in /usr/local/share/ca-certificates, nothing to compare")
    bundle = sf._read(os.path.join(demo["ws"]["image"], "etc/ssl/certs/ca-certificates.crt"))  # pylint: disable=protected-access
    assert "BEGIN CERTIFICATE" in bundle
    for name in extra:
        pem = sf._read(os.path.join("/usr/local/share/ca-certificates", name)).strip()  # pylint: disable=protected-access
        body = "".join(pem.split("-----")[2].split()) if pem.count("-----") >= 4 else pem
        assert body[:200] not in "".join(bundle.split()), "host CA %s leaked into the image" % name


def test_dns_and_apt_sources_follow_the_host(demo):
    ws, state = demo["ws"], demo["state"]
    proc = ssh(state, ws, "cat /etc/resolv.conf; echo ===; cat /etc/apt/sources.list.d/debian.sources")
    assert proc.returncode == 0, proc.stderr
    resolv, sources = proc.stdout.split("===\n")
    assert resolv == sf._read("/etc/resolv.conf")  # pylint: disable=protected-access
    main, security = sf.host_mirrors()
    assert "URIs: %s\n" % main in sources and "URIs: %s\n" % security in sources
    assert "Suites: bookworm bookworm-updates" in sources


def test_kill_and_start_one_sshd(demo):
    name, ws = demo["name"], demo["ws"]
    fleet("kill", "--name", name, "--host", ws["name"])
    with pytest.raises(ConnectionRefusedError):
        banner(ws["ip"])
    rows = json.loads(fleet("list", "--name", name, "--format", "json").stdout)
    assert [r["status"] for r in rows] == ["sshd-down"]
    # Killing again is harmless; starting brings it back.
    fleet("kill", "--name", name, "--host", ws["name"])
    fleet("start", "--name", name, "--host", ws["name"])
    assert banner(ws["ip"]).startswith(b"SSH-2.0-")
    rows = json.loads(fleet("list", "--name", name, "--format", "json").stdout)
    assert [r["status"] for r in rows] == ["up"]
    proc = ansible(demo["inventory"], "workstations", "-m", "ansible.builtin.ping", "-b")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_kill_listener_only_keeps_established_sessions(demo):
    name, ws, state = demo["name"], demo["ws"], demo["state"]
    cmd = ["ssh", "-i", state["private_key"], "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "admin@%s" % ws["ip"], "echo ready; read line; echo got $line"]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as session:
        try:
            assert session.stdout.readline().strip() == "ready"
            fleet("kill", "--name", name, "--host", ws["name"], "--listener-only")
            with pytest.raises(ConnectionRefusedError):
                banner(ws["ip"])
            out, _err = session.communicate("still-here\n", timeout=30)
            assert session.returncode == 0
            assert out.strip() == "got still-here"
        finally:
            if session.poll() is None:
                session.kill()
    fleet("start", "--name", name, "--host", ws["name"])
    assert banner(ws["ip"]).startswith(b"SSH-2.0-")


def test_stopped_sshd_resumes_on_start(demo):
    name, ws = demo["name"], demo["ws"]
    fleet("kill", "--name", name, "--host", ws["name"], "--signal", "STOP")
    states = [sf._proc_stat(p)[1] for p in sf.sshd_pids(ws["init_pid"])]  # pylint: disable=protected-access
    assert states and set(states) == {"T"}
    fleet("start", "--name", name, "--host", ws["name"])
    assert banner(ws["ip"]).startswith(b"SSH-2.0-")


def test_kill_unknown_host_is_an_error(demo):
    proc = fleet("kill", "--name", demo["name"], "--host", "nope-9", check=False)
    assert proc.returncode == 2 and "nope-9" in proc.stderr


def test_mixed_releases_round_robin_and_down_leaves_nothing(tmp_path):
    ensure_image("bookworm")
    ensure_image("trixie")
    name = PREFIX + "b"
    inventory = str(tmp_path / "inv.yml")
    try:
        fleet("up", "--name", name, "--release", "bookworm,trixie", "--count", "3", "--inventory", inventory)
        state = sf.load_state(name)
        assert [w["release"] for w in state["workstations"]] == ["bookworm", "trixie", "bookworm"]
        assert len({w["ip"] for w in state["workstations"]}) == 3
        for ws in state["workstations"]:
            proc = ssh(state, ws, ". /etc/os-release; echo $VERSION_CODENAME")
            assert proc.stdout.strip() == ws["release"], proc.stderr
        proc = ansible(inventory, "all", "-m", "ansible.builtin.ping", "-b")
        assert proc.returncode == 0, proc.stdout + proc.stderr
        before = fleet_footprint(name)
        assert before["pids"] and before["mounts"] and before["dir"]
        pids = [p for w in state["workstations"] for p in (w["init_pid"], w["unshare_pid"])] + before["pids"]
    finally:
        fleet("down", "--name", name)
    after = fleet_footprint(name)
    assert after == {"pids": [], "mounts": [], "dir": False}
    assert [pid for pid in pids if ours(pid)] == []
    assert not os.path.exists(inventory)
    for ws in state["workstations"]:
        with pytest.raises(OSError):
            banner(ws["ip"])
    # A second down is a no-op with a message.
    proc = fleet("down", "--name", name)
    assert "does not exist" in proc.stderr


def ours(pid):
    """True while pid is a live sandbox process (a recycled pid running something else is fine)."""
    stat = sf._proc_stat(pid)  # pylint: disable=protected-access
    if stat is None or stat[1] in ("Z", "X"):
        return False
    cmdline = sf._read("/proc/%d/cmdline" % pid)  # pylint: disable=protected-access
    return sf.INIT_MARKER in cmdline or "sshd" in stat[0]


def test_two_fleets_in_parallel_never_collide(tmp_path):
    ensure_image("bookworm")
    names = [PREFIX + "c", PREFIX + "d"]
    results = {}

    def up(name):
        results[name] = fleet("up", "--name", name, "--count", "2", "--inventory", str(tmp_path / (name + ".yml")), check=False)
    threads = [threading.Thread(target=up, args=(n,)) for n in names]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for name in names:
            assert results[name].returncode == 0, results[name].stderr
        states = [sf.load_state(n) for n in names]
        ips = [{w["ip"] for w in s["workstations"]} for s in states]
        assert len(ips[0]) == 2 and len(ips[1]) == 2 and not ips[0] & ips[1]
        for name in names:
            proc = ansible(str(tmp_path / (name + ".yml")), "all", "-m", "ansible.builtin.ping", "-b")
            assert proc.returncode == 0, proc.stdout + proc.stderr
        # Downing one leaves the other running.
        fleet("down", "--name", names[0])
        assert fleet_footprint(names[0]) == {"pids": [], "mounts": [], "dir": False}
        for ws in states[1]["workstations"]:
            assert banner(ws["ip"]).startswith(b"SSH-")
    finally:
        for name in names:
            fleet("down", "--name", name, check=False)


def test_up_after_a_crash_cleans_up_leftovers(tmp_path):
    ensure_image("bookworm")
    name = PREFIX + "e"
    try:
        fleet("up", "--name", name, "--count", "1", "--inventory", str(tmp_path / "inv.yml"))
        old = sf.load_state(name)["workstations"][0]
        old_pids = sf.pids_under(sf.fleet_dir(name))
        assert old["init_pid"] in old_pids
        # The crash: the tool dies and its state file is lost; the workstation lives on.
        os.unlink(sf.state_path(name))
        os.kill(old["unshare_pid"], signal.SIGKILL)
        fleet("up", "--name", name, "--count", "1", "--inventory", str(tmp_path / "inv.yml"))
        new = sf.load_state(name)["workstations"][0]
        assert [p for p in old_pids if ours(p)] == []
        assert new["init_pid"] != old["init_pid"]
        proc = ansible(str(tmp_path / "inv.yml"), "all", "-m", "ansible.builtin.ping", "-b")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:
        fleet("down", "--name", name, check=False)
    assert fleet_footprint(name) == {"pids": [], "mounts": [], "dir": False}


def test_seeded_fleet_starts_with_the_seeds_files_and_its_own_identity(tmp_path):
    ensure_image("bookworm")
    seed_name, clones_name = PREFIX + "f", PREFIX + "g"
    try:
        fleet("up", "--name", seed_name, "--count", "1")
        seed_state = sf.load_state(seed_name)
        seed = seed_state["workstations"][0]
        # A new file, a file of the image removed (a whiteout) and a directory of the image replaced (opaque).
        proc = ssh(seed_state, seed, "sudo sh -c 'echo converged > /opt/seeded && chmod 0640 /opt/seeded && rm /usr/bin/nano"
                                     " && rm -rf /usr/share/doc/zsh && mkdir /usr/share/doc/zsh && touch /usr/share/doc/zsh/only'")
        assert proc.returncode == 0, proc.stderr
        inventory = str(tmp_path / "clones.yml")
        fleet("up", "--name", clones_name, "--count", "2", "--seed-from", seed["name"], "--inventory", inventory)
        state = sf.load_state(clones_name)
        assert state["seeded_from"] == "%s/%s" % (seed_name, seed["name"])
        look = ("sudo stat -c '%a %U' /opt/seeded; sudo cat /opt/seeded; ls /usr/bin/nano 2>&1; ls /usr/share/doc/zsh; hostname;"
                " sudo cat /etc/ssh/ssh_host_ed25519_key.pub")
        seen = {}
        for ws in state["workstations"]:
            proc = ssh(state, ws, look)
            assert proc.returncode == 0, proc.stderr
            lines = proc.stdout.splitlines()
            assert lines[:3] == ["640 root", "converged", "ls: cannot access '/usr/bin/nano': No such file or directory"], lines
            assert lines[3:5] == ["only", ws["name"]], lines
            seen[ws["name"]] = lines[5]
        seed_key = ssh(seed_state, seed, "sudo cat /etc/ssh/ssh_host_ed25519_key.pub").stdout.strip()
        assert len(set(seen.values()) | {seed_key}) == 3
        # Each clone's changes are its own; the seed's later changes reach no clone.
        first, second = state["workstations"]
        assert ssh(state, first, "sudo sh -c 'echo mine > /opt/seeded'").returncode == 0
        assert ssh(seed_state, seed, "sudo sh -c 'echo later > /opt/seeded'").returncode == 0
        assert ssh(state, second, "sudo cat /opt/seeded").stdout == "converged\n"
        assert ssh(state, first, "sudo cat /opt/seeded").stdout == "mine\n"
        proc = ansible(inventory, "all", "-m", "ansible.builtin.ping", "-b")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:
        fleet("down", "--name", clones_name, check=False)
        fleet("down", "--name", seed_name, check=False)
    for name in (clones_name, seed_name):
        assert fleet_footprint(name) == {"pids": [], "mounts": [], "dir": False}
