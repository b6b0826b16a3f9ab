# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker-free sandbox fleet: disposable Debian workstations for tests and demos.

Each workstation is a cached debootstrap image under an overlayfs (one upper dir per
workstation), started in its own mount, UTS and PID namespace (``unshare``) and
``chroot``.  It shares the host network namespace and runs sshd on its own loopback
address, so Ansible reaches it over SSH like any other machine.

All mounts live inside the workstation's private mount namespace, so killing the
namespace's init (PID 1) removes every process and every mount at once.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import fcntl
import glob
import hashlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    import yaml
except ImportError:  # JSON is valid YAML: the inventory stays readable without PyYAML
    yaml = None

CACHE_ROOT = os.environ.get("CLAUDE_FLEET_SANDBOX_CACHE", "/var/cache/claude-fleet-sandbox")
STATE_ROOT = os.environ.get("CLAUDE_FLEET_SANDBOX_STATE", "/var/lib/claude-fleet-sandbox")
IMAGE_FORMAT = 3  # bump when the image recipe below changes in a way the package list does not show
INIT_MARKER = "claude-fleet-sandbox-init"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

RELEASES = {
    "bookworm": {"version": "12"},
    "trixie": {"version": "13"},
}

PACKAGES = [
    "bash", "ca-certificates", "curl", "file", "fish", "git", "gnupg", "iproute2", "less",
    "locales", "nano", "netbase", "openssh-client", "openssh-server", "procps", "python3",
    "python3-apt", "sudo", "tzdata", "unzip", "wget", "xz-utils", "zsh",
]

ADMIN_USER = "admin"
DEVELOPERS = [
    {"name": "alice", "shell": "/bin/bash"},
    {"name": "bob", "shell": "/usr/bin/zsh"},
    {"name": "carol", "shell": "/usr/bin/fish"},
]

# Automatic loopback allocation: 127.100.0.10 .. 127.100.255.250 (never 127.0.0.1).
AUTO_NET_FIRST = ipaddress.IPv4Address("127.100.0.10")
AUTO_NET_LAST = ipaddress.IPv4Address("127.100.255.250")
SSH_WAIT_SECONDS = 60
HOST_KEY_TYPES = ("ed25519", "ecdsa")
FLEET_NAME_MAX = 40


class FleetError(Exception):
    """An error reported to the user as one line; ``code`` is the exit status."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(cmd, **kwargs):
    """Run a command, raising FleetError with its stderr tail on failure."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    kwargs.setdefault("text", True)
    proc = subprocess.run(cmd, check=False, **kwargs)  # pylint: disable=subprocess-run-check
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-5:]
        raise FleetError("command failed (%s): %s: %s" % (proc.returncode, " ".join(cmd[:4]), " | ".join(tail)))
    return proc


# --------------------------------------------------------------------------- mirror / image


def _parse_sources():
    """Yield (uri, suites) pairs from the host's apt sources (one-line and deb822 formats)."""
    for path in sorted(glob.glob("/etc/apt/sources.list") + glob.glob("/etc/apt/sources.list.d/*.list")):
        try:
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    words = line.split("#", 1)[0].split()
                    if len(words) < 3 or words[0] != "deb":
                        continue
                    words = [w for w in words[1:] if not w.startswith("[")] if words[1].startswith("[") else words[1:]
                    words = [w for w in words if not w.endswith("]")]
                    if len(words) >= 2:
                        yield words[0], [words[1]]
        except OSError:
            continue
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            continue
        for stanza in text.split("\n\n"):
            fields = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line or line[:1].isspace():
                    continue
                key, value = line.split(":", 1)
                fields[key.strip().lower()] = value.split()
            if "deb" in fields.get("types", []) and fields.get("uris") and fields.get("suites"):
                for uri in fields["uris"]:
                    yield uri, fields["suites"]


def host_mirrors():
    """Return (main_mirror, security_mirror) the host's apt uses for Debian."""
    main = os.environ.get("CLAUDE_FLEET_SANDBOX_MIRROR")
    security = os.environ.get("CLAUDE_FLEET_SANDBOX_SECURITY_MIRROR")
    releases = set(RELEASES) | {"sid", "stable", "testing", "oldstable", "bullseye"}
    for uri, suites in _parse_sources():
        base = uri.rstrip("/")
        if not base.startswith(("http://", "https://", "file:/")):
            continue
        for suite in suites:
            if suite.endswith("-security") and suite.split("-")[0] in releases and not security:
                security = base
            elif suite in releases and not main:
                main = base
    if not main:
        raise FleetError("no Debian mirror found in /etc/apt/sources.list*; set CLAUDE_FLEET_SANDBOX_MIRROR", 2)
    if not security:
        security = main.rsplit("/", 1)[0] + "/debian-security"
    return main, security


def image_key(release):
    digest = hashlib.sha256(json.dumps({"format": IMAGE_FORMAT, "packages": sorted(PACKAGES),
                                        "admin": ADMIN_USER, "developers": DEVELOPERS}).encode()).hexdigest()
    return "%s-%s" % (release, digest[:12])


def image_dir(release):
    return os.path.join(CACHE_ROOT, "images", image_key(release))


IMAGE_SETUP = r"""
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
rel="$1"; main="$2"; security="$3"
rm -f /etc/apt/sources.list
mkdir -p /etc/apt/sources.list.d
cat > /etc/apt/sources.list.d/debian.sources <<EOF
Types: deb
URIs: $main
Suites: $rel $rel-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $rel-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Per-workstation identity is created at start: no host keys, machine-id or hostname in the image.
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
echo localhost > /etc/hostname
# Locale: C.UTF-8 is built in; also generate en_US.UTF-8 for tools that ask for it.
if [ -f /etc/locale.gen ]; then
  sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen
  locale-gen >/dev/null 2>&1 || true
fi
echo 'LANG=C.UTF-8' > /etc/default/locale
# sshd: key authentication only; the listen address is given on the command line.
mkdir -p /etc/ssh/sshd_config.d
cat > /etc/ssh/sshd_config.d/00-sandbox.conf <<'EOF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
UseDNS no
MaxStartups 100:30:200
MaxSessions 100
EOF
# pam_loginuid cannot always write the audit login uid inside a namespace.
sed -i 's/^session\s\+required\s\+pam_loginuid.so/session optional pam_loginuid.so/' /etc/pam.d/sshd || true
useradd --create-home --shell /bin/bash --comment 'Sandbox admin' admin
usermod -aG sudo admin
passwd -l admin >/dev/null
printf 'admin ALL=(ALL:ALL) NOPASSWD: ALL\n' > /etc/sudoers.d/90-sandbox-admin
chmod 0440 /etc/sudoers.d/90-sandbox-admin
"""


def _image_setup_script():
    lines = [IMAGE_SETUP]
    for dev in DEVELOPERS:
        lines.append("useradd --create-home --shell %s %s" % (dev["shell"], dev["name"]))
        lines.append("passwd -l %s >/dev/null" % dev["name"])
    lines.append("apt-get clean")
    lines.append("rm -rf /var/cache/apt/*.bin /var/log/*.log /var/log/apt/* /root/.bash_history")
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def file_lock(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_image(release, quiet=False):
    """Return the path of the cached image for ``release``, building it atomically if needed."""
    final = image_dir(release)
    if os.path.isfile(os.path.join(final, ".sandbox-image.json")):
        return final
    images = os.path.dirname(final)
    os.makedirs(images, exist_ok=True)
    with file_lock(os.path.join(images, ".%s.lock" % os.path.basename(final))):
        if os.path.isfile(os.path.join(final, ".sandbox-image.json")):
            return final
        # Leftovers of crashed builds are never used: remove them.
        for stale in glob.glob(os.path.join(images, ".build-%s-*" % os.path.basename(final))):
            shutil.rmtree(stale, ignore_errors=True)
        if os.path.exists(final):
            shutil.rmtree(final)
        main, security = host_mirrors()
        tmp = tempfile.mkdtemp(prefix=".build-%s-" % os.path.basename(final), dir=images)
        started = time.monotonic()
        if not quiet:
            log("building %s image %s from %s (one-time, cached)" % (release, os.path.basename(final), main))
        debs = os.path.join(CACHE_ROOT, "debs", release)
        os.makedirs(debs, exist_ok=True)
        cmd = ["debootstrap", "--variant=minbase", "--components=main", "--keyring=" + KEYRING,
               "--cache-dir=" + debs, "--include=" + ",".join(sorted(PACKAGES)), release, tmp, main]
        try:
            run(cmd)
            run(["chroot", tmp, "/bin/sh", "-c", _image_setup_script(), "setup", release, main, security],
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"})
            meta = {"release": release, "key": image_key(release), "packages": sorted(PACKAGES),
                    "mirror": main, "built": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                    "build_seconds": round(time.monotonic() - started, 1)}
            with open(os.path.join(tmp, ".sandbox-image.json"), "w", encoding="utf-8") as handle:
                json.dump(meta, handle, indent=1)
            os.chmod(tmp, 0o755)
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if not quiet:
            log("built %s image in %.0fs" % (release, time.monotonic() - started))
    return final


# --------------------------------------------------------------------------- processes and mounts


def _read(path, default=""):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return default


def _proc_stat(pid):
    """Return (comm, state, ppid) of a pid or None."""
    text = _read("/proc/%d/stat" % pid)
    if not text:
        return None
    comm = text[text.find("(") + 1:text.rfind(")")]
    rest = text[text.rfind(")") + 2:].split()
    return comm, rest[0], int(rest[1])


def all_pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def pids_under(path):
    """Pids whose root, cwd or command line refers to ``path`` (the fleet or workstation dir)."""
    path = os.path.realpath(path)
    found = []
    for pid in all_pids():
        if pid == os.getpid():
            continue
        hit = False
        for link in ("root", "cwd"):
            try:
                target = os.readlink("/proc/%d/%s" % (pid, link))
            except OSError:
                continue
            if target == path or target.startswith(path + "/"):
                hit = True
        cmdline = _read("/proc/%d/cmdline" % pid).split("\0")
        if INIT_MARKER in cmdline and any(a == path or a.startswith(path + "/") for a in cmdline):
            hit = True
        if hit:
            found.append(pid)
    return found


def mounts_under(path):
    path = os.path.realpath(path)
    result = []
    for line in _read("/proc/self/mountinfo").splitlines():
        mount_point = line.split()[4].encode().decode("unicode_escape")
        if mount_point == path or mount_point.startswith(path + "/"):
            result.append(mount_point)
    return result


def kill_and_wait(pids, sig=signal.SIGKILL, timeout=10.0):
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    remaining = list(pids)
    while remaining and time.monotonic() < deadline:
        for pid in list(remaining):
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
            stat = _read("/proc/%d/stat" % pid)
            if not stat or stat[stat.rfind(")") + 2:].startswith("Z"):
                remaining.remove(pid)
        if remaining:
            time.sleep(0.05)
    return remaining


# --------------------------------------------------------------------------- fleet state


def fleet_dir(name):
    return os.path.join(STATE_ROOT, name)


def state_path(name):
    return os.path.join(fleet_dir(name), "state.json")


def load_state(name):
    try:
        with open(state_path(name), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def save_state(state):
    path = state_path(state["name"])
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1)
    os.replace(tmp, path)


def list_fleets():
    if not os.path.isdir(STATE_ROOT):
        return []
    return sorted(d for d in os.listdir(STATE_ROOT) if os.path.isdir(os.path.join(STATE_ROOT, d)) and not d.startswith("."))


def used_ips(exclude=None):
    used = set()
    for name in list_fleets():
        if name == exclude:
            continue
        state = load_state(name) or {}
        for ws in state.get("workstations", []):
            used.add(ws["ip"])
    return used


def ip_in_use(ip):
    """True when something already listens on ip:22."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((ip, 22))
        except OSError:
            return True
    return False


def allocate_ips(count, base_ip, fleet):
    used = used_ips(exclude=fleet)
    if base_ip:
        try:
            first = ipaddress.IPv4Address(base_ip)
        except ValueError:
            raise FleetError("--base-ip %r is not an IPv4 address" % base_ip, 2) from None
        if first not in ipaddress.IPv4Network("127.0.0.0/8") or int(first) + count - 1 > int(ipaddress.IPv4Address("127.255.255.254")):
            raise FleetError("--base-ip %s: %d addresses from there do not fit in 127.0.0.0/8" % (base_ip, count), 2)
        ips = [str(first + i) for i in range(count)]
        for ip in ips:
            if ip in used:
                raise FleetError("--base-ip %s: address %s is used by another sandbox fleet" % (base_ip, ip), 2)
            if ip.endswith(".0") or ip.endswith(".255") or ip_in_use(ip):
                raise FleetError("--base-ip %s: address %s is not usable (reserved or port 22 busy)" % (base_ip, ip), 2)
        return ips
    ips = []
    candidate = AUTO_NET_FIRST
    while len(ips) < count and candidate <= AUTO_NET_LAST:
        ip = str(candidate)
        if ip not in used and not ip.endswith((".0", ".255")) and not ip_in_use(ip):
            ips.append(ip)
        candidate += 1
    if len(ips) < count:
        raise FleetError("no free loopback addresses left for %d workstations" % count, 2)
    return ips


# --------------------------------------------------------------------------- workstation init (runs inside the namespaces)


def _mount(*args):
    subprocess.run(["mount"] + list(args), check=True)


def _owner_of(merged, user):
    with open(os.path.join(merged, "etc/passwd"), encoding="utf-8") as handle:
        for line in handle:
            fields = line.split(":")
            if fields[0] == user:
                return int(fields[2]), int(fields[3]), fields[5]
    raise KeyError(user)


def _write(path, content, mode=0o644, uid=0, gid=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(content)
    os.chmod(path, mode)
    os.chown(path, uid, gid)


def _prepare_root(cfg):
    merged = cfg["merged"]
    # A seeded workstation stacks the seed's files (a snapshot of its upper dir) over the image.
    lower = "%s:%s" % (cfg["seed"], cfg["image"]) if cfg.get("seed") else cfg["image"]
    _mount("-t", "overlay", "overlay", "-o", "lowerdir=%s,upperdir=%s,workdir=%s" % (lower, cfg["upper"], cfg["work"]), merged)
    _mount("-t", "proc", "-o", "nosuid,nodev,noexec", "proc", os.path.join(merged, "proc"))
    _mount("-t", "sysfs", "-o", "ro,nosuid,nodev,noexec", "sysfs", os.path.join(merged, "sys"))
    dev = os.path.join(merged, "dev")
    _mount("-t", "tmpfs", "-o", "mode=755,nosuid,size=1m", "sandbox-dev", dev)
    for node in ("null", "zero", "full", "random", "urandom", "tty"):
        target = os.path.join(dev, node)
        with open(target, "w", encoding="utf-8"):
            pass
        _mount("--bind", "/dev/" + node, target)
    os.makedirs(os.path.join(dev, "pts"))
    os.makedirs(os.path.join(dev, "shm"))
    _mount("-t", "devpts", "-o", "newinstance,ptmxmode=0666,mode=0620,gid=5", "devpts", os.path.join(dev, "pts"))
    os.symlink("pts/ptmx", os.path.join(dev, "ptmx"))
    _mount("-t", "tmpfs", "-o", "mode=1777,nosuid,nodev,size=256m", "shm", os.path.join(dev, "shm"))
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, os.path.join(dev, name))
    _mount("-t", "tmpfs", "-o", "mode=755,nosuid,nodev,size=64m", "sandbox-run", os.path.join(merged, "run"))
    for sub, mode in (("sshd", 0o755), ("lock", 0o1777), ("user", 0o755)):
        os.makedirs(os.path.join(merged, "run", sub))
        os.chmod(os.path.join(merged, "run", sub), mode)


def _personalise(cfg):
    merged = cfg["merged"]
    etc = os.path.join(merged, "etc")
    name = cfg["name"]
    _write(os.path.join(etc, "hostname"), name + "\n")
    _write(os.path.join(etc, "hosts"), "127.0.0.1\tlocalhost\n%s\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n" % (cfg["ip"], name))
    resolv = os.path.join(etc, "resolv.conf")
    if os.path.islink(resolv):
        os.unlink(resolv)
    _write(resolv, cfg["resolv"])
    # No init system runs here and the network namespace is the host's: packages installed later
    # must not start daemons that would bind host ports (invoke-rc.d honours policy-rc.d).
    _write(os.path.join(merged, "usr/sbin/policy-rc.d"), "#!/bin/sh\n# sandbox workstation: do not start services\nexit 101\n", 0o755)
    _write(os.path.join(etc, "machine-id"), hashlib.md5(("%s %s" % (cfg["fleet"], name)).encode()).hexdigest() + "\n", 0o444)
    for user in [ADMIN_USER] + [d["name"] for d in DEVELOPERS]:
        uid, gid, home = _owner_of(merged, user)
        ssh_dir = os.path.join(merged, home.lstrip("/"), ".ssh")
        os.makedirs(ssh_dir, exist_ok=True)
        os.chmod(ssh_dir, 0o700)
        os.chown(ssh_dir, uid, gid)
        _write(os.path.join(ssh_dir, "authorized_keys"), cfg["pubkey"], 0o600, uid, gid)
    # Own host keys per workstation.  No RSA: a 3072-bit RSA key takes seconds (a minute on a
    # busy 2-CPU host), ed25519 and ECDSA take milliseconds and every current client speaks them.
    for kind in HOST_KEY_TYPES:
        key = os.path.join(etc, "ssh", "ssh_host_%s_key" % kind)
        for stale in (key, key + ".pub"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(stale)
        subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "root@%s" % name, "-f", key], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def _unblock_signals():
    signal.pthread_sigmask(signal.SIG_SETMASK, [])


def _start_sshd(cfg, logf):
    host_keys = [a for kind in HOST_KEY_TYPES for a in ("-h", "/etc/ssh/ssh_host_%s_key" % kind)]
    return subprocess.Popen(  # pylint: disable=consider-using-with,subprocess-popen-preexec-fn
        ["chroot", cfg["merged"], "/usr/sbin/sshd", "-D", "-e", "-o", "ListenAddress=%s:22" % cfg["ip"]] + host_keys,
        stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, close_fds=True, preexec_fn=_unblock_signals,
        env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"})


def workstation_init(config_path):
    """PID 1 of a workstation: mount, personalise, run sshd, reap orphans; SIGUSR1 restarts sshd."""
    with open(config_path, encoding="utf-8") as handle:
        cfg = json.load(handle)
    signals = {signal.SIGCHLD, signal.SIGUSR1, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    logf = open(os.path.join(cfg["dir"], "sshd.log"), "a", encoding="utf-8")  # pylint: disable=consider-using-with
    _prepare_root(cfg)
    _personalise(cfg)
    socket.sethostname(cfg["name"])
    sshd = _start_sshd(cfg, logf)
    while True:
        info = signal.sigtimedwait(signals, 60)
        while True:  # reap everything that exited (sshd and orphans re-parented to us)
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if sshd is not None and pid == sshd.pid:
                print("%s: sshd exited (wait status %d)" % (cfg["name"], _status), flush=True)
                sshd = None
        if info is None:
            continue
        if info.si_signo == signal.SIGUSR1 and sshd is None:
            sshd = _start_sshd(cfg, logf)
        elif info.si_signo in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            # Our /proc is the host's; the namespace's own proc is mounted in the chroot.
            for entry in os.listdir(os.path.join(cfg["merged"], "proc")):
                pid = int(entry) if entry.isdigit() else 1
                if pid != 1:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            return 0


# --------------------------------------------------------------------------- fleet operations


def _is_sandbox_process(pid, directory):
    """True when pid is a live init (or its unshare parent) of a workstation under ``directory``.

    Checking the directory, not just the marker, keeps a recycled pid of another fleet safe.
    """
    if not pid:
        return False
    stat = _proc_stat(pid)
    if stat is None or stat[1] in ("Z", "X"):
        return False
    cmdline = _read("/proc/%d/cmdline" % pid).split("\0")
    prefix = os.path.realpath(directory) + "/"
    return INIT_MARKER in cmdline and any(arg.startswith(prefix) for arg in cmdline)


def init_alive(fleet, ws):
    return _is_sandbox_process(ws.get("init_pid"), _ws_dir(fleet, ws["name"]))


def wait_ssh(ip, deadline, alive=None):
    """Wait until ip:22 sends an SSH banner; return True on success, False on timeout or when alive() has failed
    for a second: right after the spawn, while the init execs, its /proc entry can read as not (yet) ours
    (a fleet up under load failed in 1.5 s with "timed out after 60s" and its init running)."""
    dead_since = None
    while time.monotonic() < deadline:
        if alive is not None:
            if alive():
                dead_since = None
            elif dead_since is None:
                dead_since = time.monotonic()
            elif time.monotonic() - dead_since >= 1:
                return False
        try:
            with socket.create_connection((ip, 22), timeout=2) as sock:
                sock.settimeout(2)
                if sock.recv(64).startswith(b"SSH-"):
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def _ws_dir(fleet, ws_name):
    return os.path.join(fleet_dir(fleet), ws_name)


def spawn_workstation(state, ws):
    wdir = _ws_dir(state["name"], ws["name"])
    for sub in ("upper", "work", "merged"):
        os.makedirs(os.path.join(wdir, sub), exist_ok=True)
    os.chmod(os.path.join(wdir, "upper"), 0o755)
    cfg = {
        "fleet": state["name"], "name": ws["name"], "ip": ws["ip"], "image": ws["image"], "seed": state.get("seed_layer"), "dir": wdir,
        "upper": os.path.join(wdir, "upper"), "work": os.path.join(wdir, "work"),
        "merged": os.path.join(wdir, "merged"), "pubkey": state["public_key"], "resolv": _read("/etc/resolv.conf"),
    }
    config_path = os.path.join(wdir, "workstation.json")
    with open(config_path, "w", encoding="utf-8") as handle:
        json.dump(cfg, handle, indent=1)
    with open(os.path.join(wdir, "init.log"), "a", encoding="utf-8") as logf:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            ["unshare", "--mount", "--uts", "--pid", "--fork", "--propagation", "private", "--",
             sys.executable, os.path.abspath(__file__), INIT_MARKER, config_path],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, start_new_session=True, close_fds=True)
    ws["unshare_pid"] = proc.pid
    # The forked child of unshare is the namespace's PID 1.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = _read("/proc/%d/task/%d/children" % (proc.pid, proc.pid)).split()
        if children:
            ws["init_pid"] = int(children[0])
            break
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    return proc


def teardown(name, quiet=False):
    """Remove every process, mount and file of fleet ``name``; True when something existed."""
    fdir = fleet_dir(name)
    if not os.path.isdir(fdir):
        return False
    state = load_state(name) or {}
    pids = []
    for ws in state.get("workstations", []):
        for key in ("init_pid", "unshare_pid"):
            pid = ws.get(key)
            if _is_sandbox_process(pid, fdir):
                pids.append(pid)
    left = kill_and_wait(pids)
    # Anything else still rooted in the fleet directory (crash leftovers, stray sessions).
    for _attempt in range(3):
        stray = pids_under(fdir)
        if not stray:
            break
        left = kill_and_wait(stray)
    for mount_point in sorted(mounts_under(fdir), key=len, reverse=True):
        subprocess.run(["umount", "-l", mount_point], check=False, stderr=subprocess.DEVNULL)
    if left or pids_under(fdir):
        raise FleetError("fleet %s: processes %s survived SIGKILL" % (name, left or pids_under(fdir)))
    for inv in state.get("inventories", []):
        with contextlib.suppress(OSError):
            if os.path.isfile(inv) and "sandbox_fleet: %s" % name in _read(inv):
                os.unlink(inv)
    shutil.rmtree(fdir)
    if not quiet:
        log("fleet %s: removed %d workstation(s)" % (name, len(state.get("workstations", []))))
    return True


def write_inventory(state, path):
    hosts = {}
    for ws in state["workstations"]:
        hosts[ws["name"]] = {
            "ansible_host": ws["ip"],
            "ansible_port": 22,
            "ansible_user": ADMIN_USER,
            "ansible_ssh_private_key_file": state["private_key"],
            "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes",
            "ansible_python_interpreter": "/usr/bin/python3",
            "sandbox_release": ws["release"],
        }
    inventory = {
        "all": {
            "children": {
                "workstations": {
                    "hosts": hosts,
                    "vars": {
                        "sandbox_fleet": state["name"],
                        "sandbox_developers": [dict(d) for d in DEVELOPERS],
                    },
                }
            }
        }
    }
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = tempfile.NamedTemporaryFile("w", dir=directory, delete=False, suffix=".tmp", encoding="utf-8")  # pylint: disable=consider-using-with
    with tmp:
        tmp.write("# Generated by tests/infra/sandbox/fleet for sandbox fleet %s; removed by `fleet down`.\n" % state["name"])
        if yaml is not None:
            yaml.safe_dump(inventory, tmp, default_flow_style=False, sort_keys=False)
        else:
            json.dump(inventory, tmp, indent=2)
            tmp.write("\n")
    os.chmod(tmp.name, 0o644)
    os.replace(tmp.name, path)


def validate_name(name, what="--name"):
    if not name or len(name) > FLEET_NAME_MAX or not name[0].isalpha() or \
            not all(c.isalnum() and c.isascii() or c == "-" for c in name) or name != name.lower():
        raise FleetError("%s %r must be 1-%d lowercase letters, digits or '-', starting with a letter" % (what, name, FLEET_NAME_MAX), 2)


def parse_releases(text):
    releases = [r.strip() for r in text.split(",") if r.strip()]
    if not releases:
        raise FleetError("--release is empty; choose from %s" % ", ".join(sorted(RELEASES)), 2)
    for rel in releases:
        if rel not in RELEASES:
            raise FleetError("unknown release %r; choose from %s" % (rel, ", ".join(sorted(RELEASES))), 2)
    return releases


def require_root():
    if os.geteuid() != 0:
        raise FleetError("must run as root (needs unshare, mount and chroot)", 2)
    for tool in ("unshare", "chroot", "mount", "ssh-keygen", "debootstrap"):
        if shutil.which(tool) is None:
            raise FleetError("required host tool %r not found (apt-get install debootstrap openssh-client util-linux)" % tool, 2)


def find_seed(spec, fleet):
    """(state, workstation) that ``--seed-from`` names: HOST, or FLEET/HOST when the name is in several fleets."""
    seed_fleet, _sep, host = spec.rpartition("/")
    for part, what in ((seed_fleet, "--seed-from fleet"), (host, "--seed-from workstation")):
        if part or what.endswith("workstation"):
            validate_name(part, what)
    found = [(state, ws) for state in (load_state(n) for n in ([seed_fleet] if seed_fleet else list_fleets())) if state
             for ws in state.get("workstations", []) if ws["name"] == host]
    if not found:
        raise FleetError("--seed-from %s: no such workstation (see `fleet list`)" % spec, 2)
    if len(found) > 1:
        raise FleetError("--seed-from %s: fleets %s each have one; say FLEET/HOST" % (spec, ", ".join(s["name"] for s, _ws in found)), 2)
    state, ws = found[0]
    if state["name"] == fleet:
        raise FleetError("--seed-from %s is in fleet %s, which up re-creates: seed from another fleet" % (spec, fleet), 2)
    upper = os.path.join(_ws_dir(state["name"], host), "upper")
    if not os.path.isdir(upper) or not os.path.isdir(ws.get("image", "")):
        raise FleetError("--seed-from %s: its upper directory or image is gone" % spec, 2)
    return state, ws


def snapshot_seed(seed_state, seed_ws, fdir):
    """Copy the seed's upper directory (its changes to the image) into the fleet: every workstation's middle layer.

    A copy, not the seed's own directory: overlayfs must not see a lower layer change, and the seed
    goes on running. Owners, modes, times, links, whiteouts and overlay xattrs are kept (cp -a as root);
    inode numbers and change times are the copy's, the same for every workstation of the fleet.
    """
    layer = os.path.join(fdir, "seed")
    os.makedirs(layer, mode=0o755)
    run(["cp", "-a", "--one-file-system", os.path.join(_ws_dir(seed_state["name"], seed_ws["name"]), "upper") + "/.", layer])
    return layer


def cmd_up(args):  # pylint: disable=too-many-locals,too-many-branches,too-many-statements
    validate_name(args.name)
    releases = parse_releases(args.release)
    seed = find_seed(args.seed_from, args.name) if args.seed_from else None
    if seed and set(releases) != {seed[1]["release"]}:
        raise FleetError("--seed-from %s is a %s workstation: --release must be %s" % (args.seed_from, seed[1]["release"], seed[1]["release"]), 2)
    names = None
    if args.hosts:
        names = [h.strip() for h in args.hosts.split(",") if h.strip()]
        for host in names:
            validate_name(host, "--hosts entry")
        if len(set(names)) != len(names):
            raise FleetError("--hosts has duplicate names: %s" % args.hosts, 2)
        if args.count is not None and args.count != len(names):
            raise FleetError("--count %d does not match the %d names in --hosts" % (args.count, len(names)), 2)
        args.count = len(names)
    elif args.count is None:
        args.count = 1
    if args.count <= 0:
        raise FleetError("--count must be a positive integer, got %d" % args.count, 2)
    if args.count > 200:
        raise FleetError("--count %d is too large (at most 200)" % args.count, 2)
    require_root()
    started = time.monotonic()
    wanted = sorted(set(releases))
    images = {}
    if seed:  # the seed's files are changes to its own image
        images[wanted[0]] = seed[1]["image"]
    elif len(wanted) > 1:
        errors = []

        def build(rel):
            try:
                images[rel] = ensure_image(rel)
            except FleetError as exc:
                errors.append(exc)
        threads = [threading.Thread(target=build, args=(rel,)) for rel in wanted]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
    else:
        images[wanted[0]] = ensure_image(wanted[0])

    os.makedirs(STATE_ROOT, exist_ok=True)
    with file_lock(os.path.join(STATE_ROOT, ".lock")):
        if teardown(args.name, quiet=True):
            log("fleet %s: removed the previous instance first" % args.name)
        ips = allocate_ips(args.count, args.base_ip, args.name)
        fdir = fleet_dir(args.name)
        os.makedirs(fdir, mode=0o700)
        key = os.path.join(fdir, "id_ed25519")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sandbox-%s" % args.name, "-f", key])
        state = {
            "name": args.name, "created": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "private_key": key, "public_key": _read(key + ".pub"),
            "inventories": [os.path.join(fdir, "inventory.yml")] + ([os.path.abspath(args.inventory)] if args.inventory else []),
            "workstations": [
                {"name": names[i] if names else "%s-%d" % (args.name, i + 1), "ip": ip, "release": releases[i % len(releases)],
                 "image": images[releases[i % len(releases)]]}
                for i, ip in enumerate(ips)
            ],
        }
        save_state(state)
    try:
        if seed:
            state["seeded_from"] = "%s/%s" % (seed[0]["name"], seed[1]["name"])
            state["seed_layer"] = snapshot_seed(seed[0], seed[1], fdir)
            save_state(state)
        for ws in state["workstations"]:
            spawn_workstation(state, ws)
        save_state(state)
        # Every init generates host keys at once: a large fleet on a busy machine gets longer.
        deadline = time.monotonic() + SSH_WAIT_SECONDS + len(state["workstations"]) // 2
        results = {}

        def waiter(ws):
            results[ws["name"]] = wait_ssh(ws["ip"], deadline, lambda: init_alive(args.name, ws))
        threads = [threading.Thread(target=waiter, args=(ws,)) for ws in state["workstations"]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        failed = [ws for ws in state["workstations"] if not results[ws["name"]]]
        if failed:
            wdir = _ws_dir(args.name, failed[0]["name"])
            why = "timed out after %ds" % (SSH_WAIT_SECONDS + len(state["workstations"]) // 2) if init_alive(args.name, failed[0]) else "its init exited"
            detail = [line for f in ("init.log", "sshd.log") for line in _read(os.path.join(wdir, f)).strip().splitlines()[-2:]]
            raise FleetError("sshd did not come up on %s (%s): %s" % (", ".join(w["name"] for w in failed), why, " | ".join(detail)))
        for inv in state["inventories"]:
            write_inventory(state, inv)
    except BaseException:
        if not os.environ.get("CLAUDE_FLEET_SANDBOX_KEEP_FAILED"):  # debugging aid: keep a failed fleet for inspection
            with contextlib.suppress(FleetError):
                teardown(args.name, quiet=True)
        raise
    for ws in state["workstations"]:
        print("%s\t%s\t%s" % (ws["name"], ws["ip"], ws["release"]))
    log("fleet %s: %d workstation(s) up in %.1fs; inventory %s" % (
        args.name, len(state["workstations"]), time.monotonic() - started, state["inventories"][-1]))
    return 0


def cmd_down(args):
    if not args.all and not args.name:
        raise FleetError("down needs --name NAME or --all", 2)
    if args.name:
        validate_name(args.name)
    if os.geteuid() != 0:
        raise FleetError("must run as root (needs to kill namespaced processes and unmount)", 2)
    names = list_fleets() if args.all else [args.name]
    if not names:
        log("no sandbox fleets exist; nothing to do")
    os.makedirs(STATE_ROOT, exist_ok=True)
    with file_lock(os.path.join(STATE_ROOT, ".lock")):
        for name in names:
            if not teardown(name):
                log("fleet %s does not exist; nothing to do" % name)
    return 0


def _workstation_pids(fleet, host):
    state = load_state(fleet)
    if state is None:
        raise FleetError("fleet %s does not exist" % fleet, 2)
    for ws in state["workstations"]:
        if ws["name"] == host:
            if not init_alive(fleet, ws):
                raise FleetError("workstation %s is not running (its namespace init is gone)" % host)
            return state, ws, ws["init_pid"]
    raise FleetError("fleet %s has no workstation %r (has %s)" % (fleet, host, ", ".join(w["name"] for w in state["workstations"])), 2)


def sshd_pids(init_pid, listener_only=False):
    """Host pids of every sshd process (listener and sessions) in a workstation's PID namespace."""
    try:
        target_ns = os.readlink("/proc/%d/ns/pid" % init_pid)
    except OSError:
        return []
    result = []
    for pid in all_pids():
        stat = _proc_stat(pid)
        if not stat or not stat[0].startswith("sshd") or stat[1] in ("Z", "X"):
            continue
        if listener_only and stat[2] != init_pid:
            continue
        try:
            if os.readlink("/proc/%d/ns/pid" % pid) == target_ns:
                result.append(pid)
        except OSError:
            continue
    return result


def cmd_kill(args):
    require_root()
    _state, ws, init_pid = _workstation_pids(args.name, args.host)
    sig = getattr(signal, "SIG" + args.signal.upper().replace("SIG", ""), None)
    if not isinstance(sig, signal.Signals):
        raise FleetError("unknown signal %r" % args.signal, 2)
    pids = sshd_pids(init_pid, listener_only=args.listener_only)
    if not pids:
        log("%s: sshd is not running" % args.host)
        return 0
    left = kill_and_wait(pids, sig, timeout=10.0 if sig in (signal.SIGKILL, signal.SIGTERM) else 0.0)
    if sig == signal.SIGKILL and left:
        raise FleetError("%s: sshd pids %s survived SIGKILL" % (args.host, left))
    log("%s: sent %s to sshd (%s)" % (ws["name"], sig.name, " ".join(map(str, pids))))
    return 0


def cmd_start(args):
    require_root()
    _state, ws, init_pid = _workstation_pids(args.name, args.host)
    running = sshd_pids(init_pid)
    if running:  # resume after `kill --signal STOP`; harmless otherwise
        kill_and_wait(running, signal.SIGCONT, timeout=0)
    if not sshd_pids(init_pid, listener_only=True):
        os.kill(init_pid, signal.SIGUSR1)
    if not wait_ssh(ws["ip"], time.monotonic() + SSH_WAIT_SECONDS):
        raise FleetError("%s: sshd did not come back within %ds" % (args.host, SSH_WAIT_SECONDS))
    log("%s: sshd is accepting connections on %s:22" % (ws["name"], ws["ip"]))
    return 0


def cmd_list(args):
    if args.name:
        validate_name(args.name)
    fleets = [args.name] if args.name and args.name in list_fleets() else ([] if args.name else list_fleets())
    rows = []
    for name in fleets:
        state = load_state(name) or {"workstations": []}
        for ws in state["workstations"]:
            status = ("up" if sshd_pids(ws["init_pid"]) else "sshd-down") if init_alive(name, ws) else "dead"
            rows.append({"fleet": name, "host": ws["name"], "ip": ws["ip"], "release": ws["release"], "status": status,
                         "user": ADMIN_USER, "port": 22, "identity_file": state.get("private_key")})
    if args.format == "json":
        print(json.dumps(rows, indent=1))
        return 0
    if args.format == "molecule":  # the molecule delegated driver's instance config
        print(json.dumps([{"instance": r["host"], "address": r["ip"], "user": r["user"], "port": r["port"],
                           "identity_file": r["identity_file"]} for r in rows], indent=1))
        return 0
    if not rows:
        print("no sandbox fleets")
        return 0
    print("%-16s %-20s %-16s %-10s %s" % ("FLEET", "HOST", "IP", "RELEASE", "STATUS"))
    for row in rows:
        print("%-16s %-20s %-16s %-10s %s" % (row["fleet"], row["host"], row["ip"], row["release"], row["status"]))
    return 0


def cmd_image(args):
    releases = parse_releases(args.release)
    require_root()
    for rel in releases:
        print(ensure_image(rel))
    if args.prune:
        keep = {image_key(rel) for rel in RELEASES}
        in_use = {ws["image"] for name in list_fleets() for ws in (load_state(name) or {}).get("workstations", [])}
        images = os.path.join(CACHE_ROOT, "images")
        for entry in sorted(os.listdir(images)):
            path = os.path.join(images, entry)
            if os.path.isdir(path) and not entry.startswith(".") and entry not in keep and path not in in_use:
                shutil.rmtree(path)
                log("pruned outdated image %s" % entry)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="fleet", description="Docker-free sandbox fleet of Debian workstations.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="create (or re-create) a fleet and wait until every sshd accepts connections")
    up.add_argument("--name", required=True)
    up.add_argument("--release", default="bookworm", help="release or comma list assigned round-robin (bookworm, trixie)")
    up.add_argument("--count", type=int, help="number of workstations <name>-1..<name>-N (default 1)")
    up.add_argument("--hosts", help="explicit comma list of workstation names instead of <name>-N")
    up.add_argument("--inventory", help="also write the YAML inventory here")
    up.add_argument("--base-ip", help="first loopback address (default: automatic, never shared between fleets)")
    up.add_argument("--seed-from", metavar="[FLEET/]HOST",
                    help="start every workstation with the files of this workstation of another fleet (a snapshot of "
                         "its overlay upper dir under each one's own); identity (host keys, hostname, keys) stays per workstation")
    up.set_defaults(func=cmd_up)
    down = sub.add_parser("down", help="destroy a fleet: processes, mounts, files")
    down.add_argument("--name")
    down.add_argument("--all", action="store_true")
    down.set_defaults(func=cmd_down)
    lst = sub.add_parser("list", help="list fleets and workstation status")
    lst.add_argument("--name", help="only this fleet")
    lst.add_argument("--format", choices=["table", "json", "molecule"], default="table")
    lst.add_argument("--json", dest="format", action="store_const", const="json", help="same as --format json")
    lst.set_defaults(func=cmd_list)
    img = sub.add_parser("image", help="build (or reuse) the cached image(s)")
    img.add_argument("--release", default="bookworm", help="release or comma list (bookworm, trixie)")
    img.add_argument("--prune", action="store_true", help="also delete cached images of older recipes that no fleet uses")
    img.set_defaults(func=cmd_image)
    kill = sub.add_parser("kill", help="kill one workstation's sshd (listener and sessions)")
    kill.add_argument("--name", required=True)
    kill.add_argument("--host", required=True)
    kill.add_argument("--signal", default="KILL", help="signal name (default KILL)")
    kill.add_argument("--listener-only", action="store_true",
                      help="only the listening sshd: new connections fail, established sessions go on")
    kill.set_defaults(func=cmd_kill)
    start = sub.add_parser("start", help="start one workstation's sshd again")
    start.add_argument("--name", required=True)
    start.add_argument("--host", required=True)
    start.set_defaults(func=cmd_start)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [INIT_MARKER]:
        return workstation_init(argv[1])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except FleetError as exc:
        print("fleet: error: %s" % exc, file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("fleet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
