# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox harness of every sandbox suite (integration, reliability): the loopback test bed, fleets, playbook runs.

Every workstation is a sandbox (tests/infra/sandbox/fleet), every service listens on 127.0.0.1
(tests/infra/services/testbed.py). Fleets and test beds are torn down in ``finally`` blocks and every
subprocess has a timeout, so a failing test never leaves a fleet or an emulator behind.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FLEET = os.path.join(REPO, "tests", "infra", "sandbox", "fleet")
TESTBED = os.path.join(REPO, "tests", "infra", "services", "testbed.py")
GROUP_VARS = os.path.join(REPO, "tests", "group_vars")
BIN = os.path.dirname(sys.executable)
ANSIBLE_PLAYBOOK = os.path.join(BIN, "ansible-playbook")
PINNED = yaml.safe_load(open(os.path.join(REPO, "roles", "claude_code", "defaults", "main.yml"), encoding="utf-8"))["claude_code_version"]
# The emulator's documented test credentials (tests/infra/emulator/bedrock_emulator/scenarios/default.yml), not real ones.
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
BEARER_TOKEN = "ABSKZW11bGF0b3ItYmVkcm9jay1hcGkta2V5LTAx"
BEGIN = "# BEGIN ANSIBLE MANAGED BLOCK claude_fleet.bedrock"
END = "# END ANSIBLE MANAGED BLOCK claude_fleet.bedrock"

SANDBOX_SKIPS = [
    pytest.mark.skipif(os.geteuid() != 0, reason="sandbox workstations need root (unshare, mount, chroot)"),
    pytest.mark.skipif(shutil.which("debootstrap") is None, reason="debootstrap is not installed (make deps)"),
]


def ansible_env(state=None):
    """The environment of every ansible command: this checkout's ansible.cfg, no colour, no host AWS settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and not k.startswith("AWS_")}
    env.update({
        "ANSIBLE_CONFIG": os.path.join(REPO, "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
        "CLAUDE_FLEET_SANDBOX_PYTHON": sys.executable,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    if state:
        env["CLAUDE_FLEET_TEST_STATE"] = state
    return env


def recap(output):
    """{host: {ok, changed, unreachable, failed}} from the PLAY RECAP."""
    found = {}
    for match in re.finditer(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output, re.M):
        found[match.group(1)] = {"ok": int(match.group(2)), "changed": int(match.group(3)),
                                 "unreachable": int(match.group(4)), "failed": int(match.group(5))}
    return found


class Testbed:
    """The Bedrock emulator and the Node.js mirror of tests/infra/services/testbed.py, in STATE."""

    def __init__(self, state):
        self.state = state

    def up(self, *emulator_args):
        """Start the test bed; EMULATOR_ARGS go to the emulator (testbed.py up -- ARGS)."""
        argv = [sys.executable, TESTBED, "up", "--state", self.state] + (["--"] + list(emulator_args) if emulator_args else [])
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=1800, check=False, cwd=REPO)
        assert proc.returncode == 0, proc.stdout + proc.stderr

    def down(self):
        subprocess.run([sys.executable, TESTBED, "down", "--state", self.state], capture_output=True, timeout=120, check=False, cwd=REPO)

    def read(self, name):
        with open(os.path.join(self.state, name), encoding="utf-8") as handle:
            return handle.read().strip()


class Fleet:
    """One sandbox fleet with an inventory directory (tests/group_vars linked in unless GROUP_VARS is false).

    TESTBED (a Testbed or None) is the loopback test bed the playbooks find in CLAUDE_FLEET_TEST_STATE."""

    def __init__(self, name, tmp, testbed=None, count=1, release="bookworm", group_vars=True):
        self.name = name
        self.tmp = tmp
        self.testbed = testbed
        self.count = count
        self.release = release
        self.group_vars = group_vars
        self.inventory_dir = os.path.join(tmp, "inventory")
        self.inventory = os.path.join(self.inventory_dir, "hosts.yml")
        self.hosts = []
        self.address = {}
        self.key = None
        self.runs = 0

    def up(self, skip_without_image=False):
        """Bring the fleet up (a half-made one is taken down again); SKIP_WITHOUT_IMAGE: skip, naming why, when
        the sandbox image cannot be built."""
        os.makedirs(self.inventory_dir, exist_ok=True)
        link = os.path.join(self.inventory_dir, "group_vars")
        if self.group_vars and not os.path.islink(link):
            os.symlink(GROUP_VARS, link)
        try:
            proc = subprocess.run([FLEET, "up", "--name", self.name, "--release", self.release, "--count", str(self.count),
                                   "--inventory", self.inventory], env=ansible_env(), capture_output=True, text=True, timeout=900, check=False)
            if skip_without_image and proc.returncode != 0 and "debootstrap" in proc.stderr:
                pytest.skip("cannot build the sandbox image (Debian mirror unreachable?): %s" % proc.stderr.strip())
            assert proc.returncode == 0, proc.stderr
            with open(self.inventory, encoding="utf-8") as handle:
                hosts = yaml.safe_load(handle)["all"]["children"]["workstations"]["hosts"]
        except BaseException:
            self.down()
            raise
        self.hosts = sorted(hosts)
        self.address = {h: v["ansible_host"] for h, v in hosts.items()}
        self.key = next(iter(hosts.values()))["ansible_ssh_private_key_file"]
        return self

    def down(self):
        subprocess.run([FLEET, "down", "--name", self.name], env=ansible_env(), capture_output=True, timeout=300, check=False)

    def kill(self, host):
        proc = subprocess.run([FLEET, "kill", "--name", self.name, "--host", host], env=ansible_env(), capture_output=True, text=True,
                              timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr

    def start(self, host):
        proc = subprocess.run([FLEET, "start", "--name", self.name, "--host", host], env=ansible_env(), capture_output=True, text=True,
                              timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr

    def ssh(self, host, command, user="admin", timeout=120, stdin=None, text=False):
        """Run COMMAND on HOST as USER; the CompletedProcess carries bytes, or str with TEXT."""
        argv = ["ssh", "-i", self.key, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", "%s@%s" % (user, self.address[host]), command]
        return subprocess.run(argv, capture_output=True, timeout=timeout, check=False, input=stdin, text=text)

    def root(self, host, command, timeout=120, stdin=None):
        """Run COMMAND as root on HOST; returns (rc, stdout bytes, stderr text)."""
        proc = self.ssh(host, "sudo sh -c %s" % shlex_quote(command), timeout=timeout, stdin=stdin)
        return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")

    def put(self, host, path, data, owner, mode="0644"):
        """Write DATA (bytes) to PATH on HOST as root, then chown/chmod it."""
        command = "mkdir -p %s && cat > %s && chown %s %s && chmod %s %s" % (
            shlex_quote(os.path.dirname(path)), shlex_quote(path), owner, shlex_quote(path), mode, shlex_quote(path))
        rc, _out, err = self.root(host, command, stdin=data)
        assert rc == 0, err

    def get(self, host, path):
        rc, out, err = self.root(host, "cat %s" % shlex_quote(path))
        assert rc == 0, "%s:%s: %s" % (host, path, err)
        return out

    def overwrite_in_place(self, host, path, data):
        """Write DATA (bytes) over the start of the file PATH resolves to, keeping its inode, size and
        modification time (only the change time moves); returns (resolved path, the bytes it replaced)."""
        script = ('f=$(readlink -f %s) && m=$(stat -c %%y "$f") && s=$(stat -c %%s "$f") && test "$s" -ge %d && '
                  'old=$(head -c %d "$f" | od -An -v -tx1 | tr -d " \\n") && '
                  'dd of="$f" bs=1 seek=0 conv=notrunc status=none && touch -d "$m" "$f" && '
                  'test "$(stat -c %%y "$f")" = "$m" && test "$(stat -c %%s "$f")" = "$s" && echo "$f $old"'
                  % (shlex_quote(path), len(data), len(data)))
        rc, out, err = self.root(host, script, stdin=data)
        assert rc == 0, err
        resolved, old = out.decode().split()
        return resolved, bytes.fromhex(old)

    def runs_version(self, host, binary):
        """(exit status, first line of stdout) of BINARY --version as root on HOST, executed directly: a shell
        (or execvp) would run a file the kernel refuses (ENOEXEC) as a shell script instead."""
        code = ("import subprocess, sys\n"
                "try:\n"
                "    proc = subprocess.run([sys.argv[1], '--version'], stdin=subprocess.DEVNULL, capture_output=True, timeout=60)\n"
                "except OSError as exc:\n"
                "    sys.exit('cannot execute: %s' % exc)\n"
                "sys.stdout.buffer.write(proc.stdout)\n"
                "sys.exit(proc.returncode)\n")
        rc, out, _err = self.root(host, "python3 -c %s %s" % (shlex_quote(code), shlex_quote(binary)))
        return rc, (out.decode("utf-8", "replace").splitlines() or [""])[0].strip()

    def playbook_argv(self, playbook=None, extra=None, verbosity=0, check=False, report_dir=None, forks=None, tags=None, args=()):
        """ansible-playbook's argv: EXTRA (a dict) in a vars file, ARGS (more command-line arguments) last."""
        self.runs += 1
        argv = [ANSIBLE_PLAYBOOK, "-i", self.inventory_dir, playbook or os.path.join(REPO, "playbooks", "setup.yml")]
        variables = dict(extra or {})
        if report_dir:
            variables["claude_fleet_report_dir"] = report_dir
        if variables:
            varfile = os.path.join(self.tmp, "vars-%d.json" % self.runs)
            with open(varfile, "w", encoding="utf-8") as handle:
                json.dump(variables, handle)
            argv += ["-e", "@" + varfile]
        if verbosity:
            argv.append("-" + "v" * verbosity)
        if check:
            argv += ["--check", "--diff"]
        if forks:
            argv += ["--forks", str(forks)]
        if tags:
            argv += ["--tags", tags]
        return argv + list(args)

    def play(self, playbook=None, extra=None, verbosity=0, check=False, report_dir=None, timeout=1500, forks=None, tags=None, args=()):
        """Run a playbook (default: setup.yml); returns (rc, output, recap)."""
        argv = self.playbook_argv(playbook, extra, verbosity, check, report_dir, forks, tags, args)
        proc = subprocess.run(argv, env=ansible_env(self.testbed.state if self.testbed else None), capture_output=True, text=True,
                              timeout=timeout, check=False, cwd=REPO)
        output = proc.stdout + proc.stderr
        with open(os.path.join(self.tmp, "run-%d.log" % self.runs), "w", encoding="utf-8") as handle:
            handle.write(" ".join(argv) + "\n" + output)
        return proc.returncode, output, recap(output)


def shlex_quote(text):
    return "'" + text.replace("'", "'\"'\"'") + "'"


def outside_blocks(data):
    """DATA (bytes) with every claude_fleet.bedrock managed block (markers included) cut out."""
    text = data.decode("utf-8", "surrogateescape")
    pattern = re.compile(r"^%s\n.*?^%s\n?" % (re.escape(BEGIN), re.escape(END)), re.M | re.S)
    return pattern.sub("", text).encode("utf-8", "surrogateescape")


def blocks(data):
    return data.decode("utf-8", "surrogateescape").count(BEGIN), data.decode("utf-8", "surrogateescape").count(END)


@contextlib.contextmanager
def started(argv, env, log):
    """Popen ARGV with output to LOG; the process group is killed on exit if still running."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
        proc.wait(timeout=60)
