# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: AWS calls and wall time of the Bedrock preflight for fleets of 1, 10 and 1000 hosts.

Runs the real ``ansible-playbook`` with a preflight-only play (``gather_facts: false``, the
``claude_fleet.bedrock._preflight`` role included with ``run_once: true``) against the Bedrock
emulator on loopback. The hosts use ``ansible_connection=local`` and are never contacted: only the
controller-side check runs. AWS calls are read from the emulator's own counters.

Targets: the same number of AWS calls for every fleet size, and a median wall time for the largest
fleet within 1.5x of the 1-host run.

    .venv/bin/python bench/preflight_bench.py [--sizes 1 10 1000] [--repeat 3] [--json FILE] [--strict]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path[:0] = [os.path.join(ROOT, "tests", "infra", "emulator"), os.path.join(ROOT, "tests", "infra")]

from bedrock_emulator.server import EmulatorServer  # noqa: E402  pylint: disable=wrong-import-position
from preflight_play import preflight_play  # noqa: E402  pylint: disable=wrong-import-position

BIN = os.path.dirname(sys.executable)
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # the emulator's documented test key
MODELS = {
    "primary": "us.anthropic.claude-sonnet-5-5",
    "opus": "us.anthropic.claude-opus-5-5",
    "sonnet": "us.anthropic.claude-sonnet-5-5",
    "haiku": "us.anthropic.claude-haiku-5-5",
}
# The bench measures the checks: a passing preflight reused from its cache (claude_fleet_preflight_max_age) makes
# no AWS call, so the cache is off in both plays.
UNCACHED = {"claude_fleet_preflight_max_age": 0}
PLAYBOOKS = {
    # The setup playbook's shape: a play on the workstations that includes the role once.
    "fleet": preflight_play(role_vars=UNCACHED),
    # A play on the controller only; the role reads the workstations' variables.
    "controller": preflight_play(controller=True, role_vars=UNCACHED),
}
TIMEOUT = 900


def write_fleet(directory, hosts, url, mode="fleet"):
    inventory = os.path.join(directory, "inventory")
    os.makedirs(os.path.join(inventory, "group_vars"), exist_ok=True)
    with open(os.path.join(inventory, "hosts.ini"), "w", encoding="utf-8") as handle:
        handle.write("[workstations]\n")
        for index in range(hosts):
            handle.write(f"ws{index:05d} ansible_connection=local\n")
    group_vars = {
        "claude_fleet_bedrock_region": "us-east-1",
        "claude_fleet_bedrock_endpoint_url": url,
        "claude_fleet_aws_access_key": ACCESS_KEY,
        "claude_fleet_aws_secret_key": SECRET_KEY,
        "claude_fleet_bedrock_models": MODELS,
    }
    with open(os.path.join(inventory, "group_vars", "workstations.json"), "w", encoding="utf-8") as handle:
        json.dump(group_vars, handle)
    playbook = os.path.join(directory, "preflight.yml")
    with open(playbook, "w", encoding="utf-8") as handle:
        handle.write(PLAYBOOKS[mode])
    return inventory, playbook


def ansible_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("ANSIBLE_")}
    env.update({
        "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


def run_once(server, inventory, playbook):
    """One ansible-playbook run: (wall seconds, child CPU seconds, emulator calls)."""
    server.reset()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook], cwd=ROOT, env=ansible_env(),
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"ansible-playbook failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, server.counters()["total"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 1000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the median is reported")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--mode", choices=["fleet", "controller", "both"], default="both",
                        help="fleet: play on the workstations with run_once; controller: play on localhost")
    args = parser.parse_args(argv)
    repeat = max(1, min(args.repeat, 20))

    modes = ["fleet", "controller"] if args.mode == "both" else [args.mode]
    report = {"repeat": repeat, "modes": {}}
    ok = True
    workdir = tempfile.mkdtemp(prefix="preflight-bench-")
    server = EmulatorServer("default").start()
    try:
        for mode in modes:
            rows = measure(server, workdir, mode, args.sizes, repeat)
            ok = print_rows(mode, rows, repeat) and ok
            report["modes"][mode] = rows
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=2)
    return 1 if args.strict and not ok else 0


def measure(server, workdir, mode, sizes, repeat):
    """Median figures per fleet size, after one warm-up run."""
    inventory, playbook = write_fleet(os.path.join(workdir, f"{mode}-warmup"), 1, server.url, mode)
    run_once(server, inventory, playbook)
    rows = []
    for size in sizes:
        inventory, playbook = write_fleet(os.path.join(workdir, f"{mode}-hosts{size}"), size, server.url, mode)
        runs = [run_once(server, inventory, playbook) for _attempt in range(repeat)]
        rows.append({
            "hosts": size,
            "aws_calls": sorted({r[2] for r in runs}),
            "wall_median_s": round(statistics.median(r[0] for r in runs), 2),
            "wall_min_s": round(min(r[0] for r in runs), 2),
            "cpu_median_s": round(statistics.median(r[1] for r in runs), 2),
        })
    return rows


def print_rows(mode, rows, repeat):
    """Print one table; True when both targets are met."""
    base = rows[0]
    calls_equal = len({tuple(r["aws_calls"]) for r in rows}) == 1 and len(base["aws_calls"]) == 1
    print(f"mode {mode}:")
    print(f"{'hosts':>6} {'AWS calls':>10} {'wall median s':>14} {'wall min s':>11} {'CPU median s':>13} {'wall vs 1st':>12}")
    for row in rows:
        ratio = row["wall_median_s"] / base["wall_median_s"] if base["wall_median_s"] else float("nan")
        row["wall_ratio"] = round(ratio, 2)
        print(f"{row['hosts']:>6} {','.join(map(str, row['aws_calls'])):>10} {row['wall_median_s']:>14.2f} {row['wall_min_s']:>11.2f} "
              f"{row['cpu_median_s']:>13.2f} {ratio:>11.2f}x")
    wall_ok = all(r["wall_ratio"] <= 1.5 for r in rows)
    print(f"AWS calls identical for every size: {'yes' if calls_equal else 'NO'}")
    print(f"wall time within 1.5x of the {base['hosts']}-host run: {'yes' if wall_ok else 'NO'} (median of {repeat} runs)")
    return calls_equal and wall_ok


if __name__ == "__main__":
    sys.exit(main())
