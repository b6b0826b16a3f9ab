# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load benchmark: converge N sandbox workstations at once and measure the controller.

Brings up the loopback test bed (tests/infra/services/testbed.py) and a fresh sandbox fleet of
``--count`` workstations (tests/infra/sandbox/fleet), runs the real playbooks/setup.yml with
``--forks`` equal to the count, and samples every 0.5 s the summed RSS of ansible-playbook and
all its descendants on the controller (its forks, ssh clients, local npm): the peak is the
controller memory figure. Wall time, the recap and the fleet report's failed hosts are recorded.
Then bench/preflight_bench.py runs a 1000-host preflight (controller side only) and its AWS call
count is added. The fleet and the test bed are always torn down.

    .venv/bin/python bench/load_bench.py [--count 10] [--json bench/results/load.json] [--skip-preflight]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.dirname(sys.executable)
FLEET = os.path.join(ROOT, "tests", "infra", "sandbox", "fleet")
TESTBED = os.path.join(ROOT, "tests", "infra", "services", "testbed.py")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children():
    """{ppid: [pid]} of every process now."""
    tree = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def tree_rss(root):
    """Summed RSS in bytes of ROOT and its descendants, and the number of processes."""
    tree = _children()
    todo, total, count = [root], 0, 0
    while todo:
        pid = todo.pop()
        try:
            with open("/proc/%d/statm" % pid, encoding="utf-8") as handle:
                total += int(handle.read().split()[1]) * PAGE
                count += 1
        except OSError:
            continue
        todo.extend(tree.get(pid, []))
    return total, count


class Sampler(threading.Thread):
    def __init__(self, pid, interval=0.5):
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.peak_procs = 0
        self.samples = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            rss, procs = tree_rss(self.pid)
            self.samples += 1
            if rss > self.peak:
                self.peak, self.peak_procs = rss, procs
            self.stop.wait(self.interval)


def env(state):
    out = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    out.update({"ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", "CLAUDE_FLEET_TEST_STATE": state,
                "PATH": BIN + os.pathsep + os.environ.get("PATH", ""), "CLAUDE_FLEET_SANDBOX_PYTHON": sys.executable})
    return out


def converge(count, forks, work):
    name = "lb%d" % (os.getpid() % 100000)
    state = os.path.join(work, "state")
    inventory = os.path.join(work, "inventory")
    os.makedirs(inventory)
    os.symlink(os.path.join(ROOT, "tests", "group_vars"), os.path.join(inventory, "group_vars"))
    subprocess.run([sys.executable, TESTBED, "up", "--state", state], check=True, timeout=1800, capture_output=True, cwd=ROOT)
    try:
        subprocess.run([FLEET, "up", "--name", name, "--count", str(count), "--inventory", os.path.join(inventory, "hosts.yml")],
                       check=True, timeout=900, capture_output=True, env=env(state))
        report = os.path.join(work, "report")
        argv = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, os.path.join(ROOT, "playbooks", "setup.yml"), "--forks", str(forks),
                "-e", "claude_fleet_report_dir=%s" % report]
        log = os.path.join(work, "converge.log")
        started = time.monotonic()
        with open(log, "wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env(state), cwd=ROOT, start_new_session=True)
            sampler = Sampler(proc.pid)
            sampler.start()
            try:
                rc = proc.wait(timeout=3600)
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, 9)
                sampler.stop.set()
                sampler.join(timeout=10)
        wall = time.monotonic() - started
        with open(log, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        recap = {m.group(1): {"changed": int(m.group(2)), "unreachable": int(m.group(3)), "failed": int(m.group(4))}
                 for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", text, re.M)}
        failed = None
        if os.path.exists(os.path.join(report, "fleet-report.json")):
            with open(os.path.join(report, "fleet-report.json"), encoding="utf-8") as handle:
                failed = json.load(handle)["failed_hosts"]
        return {"hosts": count, "forks": forks, "rc": rc, "wall_seconds": round(wall, 1), "peak_rss_mib": round(sampler.peak / 2**20, 1),
                "processes_at_peak": sampler.peak_procs, "samples": sampler.samples, "failed_hosts": failed,
                "recap_failed": sorted(h for h, r in recap.items() if r["failed"] or r["unreachable"]), "log": log}
    finally:
        subprocess.run([FLEET, "down", "--name", name], timeout=600, capture_output=True, check=False)
        subprocess.run([sys.executable, TESTBED, "down", "--state", state], timeout=120, capture_output=True, check=False, cwd=ROOT)


def preflight(size, work):
    out = os.path.join(work, "preflight.json")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "preflight_bench.py"), "--sizes", str(size), "--repeat", "1", "--json", out],
                   check=True, timeout=1800, capture_output=True, cwd=ROOT)
    with open(out, encoding="utf-8") as handle:
        return json.load(handle)["rows"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--forks", type=int, default=0, help="default: --count")
    parser.add_argument("--preflight-hosts", type=int, default=1000)
    parser.add_argument("--skip-preflight", action="store_true")
    parser.add_argument("--skip-converge", action="store_true")
    parser.add_argument("--json")
    args = parser.parse_args()
    result = {"load_average_at_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="load-bench-") as work:
        if not args.skip_converge:
            result["converge"] = converge(args.count, args.forks or args.count, work)
            print(json.dumps(result["converge"]), flush=True)
        if not args.skip_preflight:
            result["preflight"] = preflight(args.preflight_hosts, work)
            print(json.dumps(result["preflight"]), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2)
    converged = result.get("converge", {"rc": 0})
    return 0 if converged["rc"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
