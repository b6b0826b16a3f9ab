# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark the sandbox fleet: cold image build, warm create of N workstations, destroy.

Run as root:  python3 bench/sandbox_bench.py [--release bookworm] [--count 3] [--runs 3] [--skip-cold]

* cold create: builds the image from scratch into a temporary cache directory (debootstrap
  downloads every package again, nothing is reused), then brings the fleet up from it;
* warm create: `fleet up` with the image already cached, until every sshd accepts connections;
* destroy: `fleet down` until no process, mount or file is left.

Prints a table and writes the figures as JSON to bench/results/sandbox.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLEET = os.path.join(ROOT, "tests", "infra", "sandbox", "fleet")


def timed(args, env=None):
    started = time.monotonic()
    proc = subprocess.run([FLEET] + args, env=env, capture_output=True, text=True, timeout=1800, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit("fleet %s failed (rc=%d): %s" % (" ".join(args), proc.returncode, proc.stderr.strip()))
    return elapsed


def summary(values):
    return {"runs": len(values), "min": round(min(values), 2), "median": round(statistics.median(values), 2),
            "max": round(max(values), 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", default="bookworm")
    parser.add_argument("--count", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-cold", action="store_true", help="skip the from-scratch image build")
    parser.add_argument("--output", default=os.path.join(ROOT, "bench", "results", "sandbox.json"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("sandbox_bench: must run as root")
    name = "bench%d" % os.getpid()
    results = {"release": args.release, "count": args.count, "host_cpus": os.cpu_count(),
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat()}

    if not args.skip_cold:
        cache = tempfile.mkdtemp(prefix="claude-fleet-sandbox-cold-")
        env = dict(os.environ, CLAUDE_FLEET_SANDBOX_CACHE=cache)
        try:
            build = timed(["image", "--release", args.release], env)
            up = timed(["up", "--name", name, "--release", args.release, "--count", str(args.count)], env)
            down = timed(["down", "--name", name], env)
        finally:
            subprocess.run([FLEET, "down", "--name", name], env=env, capture_output=True, check=False)
            shutil.rmtree(cache, ignore_errors=True)
        results["cold"] = {"image_build_s": round(build, 2), "create_s": round(build + up, 2), "destroy_s": round(down, 2)}

    timed(["image", "--release", args.release])  # make sure the shared cache holds the image
    ups, downs = [], []
    try:
        for _run in range(args.runs):
            ups.append(timed(["up", "--name", name, "--release", args.release, "--count", str(args.count)]))
            downs.append(timed(["down", "--name", name]))
    finally:
        subprocess.run([FLEET, "down", "--name", name], capture_output=True, check=False)
    results["warm_create_s"] = summary(ups)
    results["destroy_s"] = summary(downs)

    print("sandbox fleet benchmark: %d x %s workstation(s), %d run(s), %d CPUs" % (args.count, args.release, args.runs, os.cpu_count()))
    if "cold" in results:
        print("  cold create (image from scratch + up): %6.1f s  (image build %.1f s)" % (results["cold"]["create_s"], results["cold"]["image_build_s"]))
    print("  warm create (up until sshd answers):   %6.2f s median  (min %.2f, max %.2f)" % (
        results["warm_create_s"]["median"], results["warm_create_s"]["min"], results["warm_create_s"]["max"]))
    print("  destroy (down, nothing left):          %6.2f s median  (min %.2f, max %.2f)" % (
        results["destroy_s"]["median"], results["destroy_s"]["min"], results["destroy_s"]["max"]))
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)
    print("  written to %s" % args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
