# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark the nodejs + claude_code roles on sandbox workstations.

Run from the repository root as root:  .venv/bin/python bench/install_bench.py [--release bookworm] [--json-out FILE]

Brings up a 3-workstation sandbox fleet (tests/infra/sandbox/fleet) and the local Node.js dist
mirror (tests/infra/mirror, 127.0.0.1), with empty controller caches in a temporary directory, in
controller-tarball mode (nodejs_tarball_delivery=controller, claude_code_install_source=controller):

* fresh converge of one workstation (``--limit`` the first): wall time, and bytes fetched from
  outside the fleet (mirror bytes served + tarballs ``npm pack`` wrote into the controller cache);
* no-op re-run of that workstation: wall time and changed count;
* converge of the two additional workstations: bytes fetched from outside the fleet, per workstation
  (target: zero; everything comes from the controller's caches over SSH).

Traffic to the mirror is loopback only; the controller's ``npm pack`` reaches the npm registry
through the npm client's own configuration. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLEET = os.path.join(ROOT, "tests", "infra", "sandbox", "fleet")
MIRROR_DIR = os.path.join(ROOT, ".cache", "node-mirror")
ENV = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_DEPRECATION_WARNINGS="false", ANSIBLE_NOCOLOR="1")


def _serve_module():
    spec = importlib.util.spec_from_file_location("mirror_serve", os.path.join(ROOT, "tests", "infra", "mirror", "serve.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dir_bytes(path):
    total = 0
    for base, _dirs, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(base, name)) for name in files)
    return total


def _play(inventory, playbook, varfile, limit):
    started = time.perf_counter()
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, playbook,
                           "-e", "@" + varfile, "--limit", limit], env=ENV, capture_output=True, text=True, timeout=3600, check=False, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise SystemExit("install_bench: ansible-playbook failed (rc=%d)" % proc.returncode)
    changed = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", proc.stdout, re.M)}
    return elapsed, changed


def main():
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", default="bookworm", choices=["bookworm", "trixie"])
    parser.add_argument("--name", default="ibench")
    parser.add_argument("--json-out", default=os.path.join(ROOT, "bench", "results", "install.json"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("install_bench: needs root (sandbox workstations)")
    serve = _serve_module()
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "infra", "mirror", "build_node_mirror.py")], check=True, timeout=1800,
                   stdout=subprocess.DEVNULL)
    registry = subprocess.run(["npm", "config", "get", "registry"], capture_output=True, text=True, check=True, timeout=30).stdout.strip()
    results = {}
    with tempfile.TemporaryDirectory(prefix="install-bench-") as tmp:
        node_cache = os.path.join(tmp, "node-cache")
        npm_cache = os.path.join(tmp, "npm-cache")
        inventory = os.path.join(tmp, "inventory.yml")
        mirror = serve.MirrorServer(MIRROR_DIR)
        mirror.start()
        playbook = os.path.join(tmp, "install.yml")
        with open(playbook, "w", encoding="utf-8") as handle:
            yaml.safe_dump([{"name": "Install", "hosts": "workstations", "become": True, "gather_facts": True,
                             "roles": [{"role": "claude_fleet.bedrock.nodejs"}, {"role": "claude_fleet.bedrock.claude_code"}]}], handle)
        varfile = os.path.join(tmp, "vars.json")
        with open(varfile, "w", encoding="utf-8") as handle:
            json.dump({"nodejs_install_method": "tarball", "nodejs_version": "22", "nodejs_tarball_delivery": "controller",
                       "nodejs_tarball_base_url": "http://127.0.0.1:%d" % mirror.port, "nodejs_tarball_controller_cache": node_cache,
                       "claude_code_install_source": "controller", "claude_code_controller_cache": npm_cache,
                       "claude_code_npm_registry": registry,
                       "claude_fleet_network_ca_certificates": ["/etc/ssl/certs/ca-certificates.crt"]}, handle)
        up = subprocess.run([FLEET, "up", "--name", args.name, "--release", args.release, "--count", "3", "--inventory", inventory],
                            env=ENV, capture_output=True, text=True, timeout=900, check=False)
        if up.returncode != 0:
            mirror.stop()
            raise SystemExit("install_bench: fleet up failed: %s" % up.stderr.strip())
        try:
            hosts = sorted(yaml.safe_load(open(inventory, encoding="utf-8"))["all"]["children"]["workstations"]["hosts"])
            first, others = hosts[0], hosts[1:]

            elapsed, changed = _play(inventory, playbook, varfile, first)
            outside = mirror.stats.snapshot()["bytes"] + _dir_bytes(npm_cache)
            results["fresh_converge_one_workstation_s"] = round(elapsed, 1)
            results["fresh_converge_changed"] = changed.get(first)
            results["first_workstation_bytes_from_outside"] = outside

            elapsed, changed = _play(inventory, playbook, varfile, first)
            results["noop_rerun_s"] = round(elapsed, 1)
            results["noop_rerun_changed"] = changed.get(first)
            results["noop_rerun_bytes_from_outside"] = mirror.stats.snapshot()["bytes"] + _dir_bytes(npm_cache) - outside

            before = mirror.stats.snapshot()["bytes"] + _dir_bytes(npm_cache)
            elapsed, changed = _play(inventory, playbook, varfile, ",".join(others))
            after = mirror.stats.snapshot()["bytes"] + _dir_bytes(npm_cache)
            results["additional_workstations"] = len(others)
            results["additional_converge_s"] = round(elapsed, 1)
            results["bytes_from_outside_per_additional_workstation"] = (after - before) // len(others)
            results["mirror_requests_total"] = mirror.stats.snapshot()["requests"]
        finally:
            subprocess.run([FLEET, "down", "--name", args.name], env=ENV, capture_output=True, timeout=300, check=False)
            mirror.stop()
    results["release"] = args.release
    for key, value in results.items():
        print("%-48s %s" % (key, value))
    os.makedirs(os.path.dirname(args.json_out), exist_ok=True)
    with open(args.json_out, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
