# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark setup.yml on one sandbox fleet: fresh converge, no-op re-run, model-change re-run.

The no-op and model-change re-runs take the fast path (docs/fast-path.md); the same no-op with
claude_fleet_fast_path=false (every role runs and finds nothing to do) is measured for comparison.

Run as root:  python bench/fleet_bench.py [--count 10] [--rounds 2]

All figures come from one run on the same fleet, so they compare as ratios on a shared,
noisy machine: the no-op re-run against `ansible all -m ansible.builtin.ping` (target <= 5x),
the model-change re-run against the no-op re-run (target <= 1.2x). Rounds alternate the
measurements so that load changes hit them alike. The smoke test is off (it measures Bedrock,
not the collection). Prints a table and writes bench/results/fleet.json.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
FLEET = os.path.join(ROOT, 'tests', 'sandbox', 'fleet')
MODELS = ('us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'us.anthropic.claude-opus-4-5-20251101-v1:0')
RECAP = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


def run(argv: list[str], env: dict) -> tuple[float, str]:
    """Run a command to completion (bounded); return its wall time and output."""
    started = time.monotonic()
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit('%s failed (rc=%d):\n%s' % (' '.join(argv[:3]), proc.returncode, proc.stdout[-3000:] + proc.stderr[-2000:]))
    return elapsed, proc.stdout


def changed(output: str) -> dict:
    """Changed-task count per host from the PLAY RECAP."""
    return {m.group(1): int(m.group(3)) for m in RECAP.finditer(output)}


def fast_path_hosts(report_dir: str) -> int:
    """How many hosts of the run's fleet report took the fast path."""
    with open(os.path.join(report_dir, 'fleet-report.json'), encoding='utf-8') as handle:
        return sum(1 for row in json.load(handle)['hosts'] if row.get('fast_path'))


def main() -> int:
    """Bring up the fleet, measure, tear down."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--count', type=int, default=10)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--release', default='bookworm')
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix='fleet-bench-')
    name = 'fbench%d' % os.getpid()
    inventory = os.path.join(work, 'inventory')
    os.makedirs(inventory)
    env = dict(os.environ, CLAUDE_FLEET_TEST_STATE=os.path.join(work, 'state'), ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               ANSIBLE_FORKS=str(args.count), PYTHONPATH=os.path.join(ROOT, 'tests', 'emulator'))
    playbook = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, os.path.join(ROOT, 'playbooks', 'setup.yml'),
                '-e', 'claude_fleet_smoke_enabled=false', '-e', 'claude_fleet_report_dir=' + os.path.join(work, 'report')]
    ping = [os.path.join(BIN, 'ansible'), '-i', inventory, 'workstations', '-m', 'ansible.builtin.ping']
    figures: dict = {'count': args.count, 'release': args.release, 'noop': [], 'ping': [], 'model_change': [], 'noop_full': []}
    report = os.path.join(work, 'report')
    try:
        run([sys.executable, os.path.join(ROOT, 'tests', 'services', 'testbed.py'), 'up', '--state', env['CLAUDE_FLEET_TEST_STATE']], env)
        run([FLEET, 'up', '--name', name, '--release', args.release, '--count', str(args.count),
             '--inventory', os.path.join(inventory, 'hosts.yml')], env)
        os.symlink(os.path.join(ROOT, 'tests', 'group_vars'), os.path.join(inventory, 'group_vars'))
        figures['fresh_converge'], _out = run(playbook + ['-e', 'claude_fleet_bedrock_model=' + MODELS[0]], env)
        model = 0
        for _round in range(args.rounds):
            elapsed, out = run(playbook + ['-e', 'claude_fleet_bedrock_model=' + MODELS[model]], env)
            figures['noop'].append(elapsed)
            figures.setdefault('noop_changed', changed(out))
            figures.setdefault('noop_fast_path_hosts', fast_path_hosts(report))
            figures['ping'].append(run(ping, env)[0])
            model = 1 - model
            elapsed, out = run(playbook + ['-e', 'claude_fleet_bedrock_model=' + MODELS[model]], env)
            figures['model_change'].append(elapsed)
            figures.setdefault('model_change_changed', changed(out))
            figures.setdefault('model_change_fast_path_hosts', fast_path_hosts(report))
            elapsed, out = run(playbook + ['-e', 'claude_fleet_bedrock_model=' + MODELS[model], '-e', 'claude_fleet_fast_path=false'], env)
            figures['noop_full'].append(elapsed)
            figures.setdefault('noop_full_changed', changed(out))
    finally:
        subprocess.run([FLEET, 'down', '--name', name], capture_output=True, timeout=300, check=False)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'services', 'testbed.py'), 'down', '--state', env['CLAUDE_FLEET_TEST_STATE']],
                       capture_output=True, timeout=60, check=False)
    noop, ping_time, change, full = (statistics.median(figures[k]) for k in ('noop', 'ping', 'model_change', 'noop_full'))
    figures.update(noop_median=noop, ping_median=ping_time, model_change_median=change, noop_full_median=full,
                   noop_to_ping=noop / ping_time, model_change_to_noop=change / noop, noop_full_to_noop=full / noop,
                   measured=datetime.datetime.now(datetime.timezone.utc).isoformat(), load=os.getloadavg())
    print('fleet of %d %s workstations, forks %d, load %.1f' % (args.count, args.release, args.count, os.getloadavg()[0]))
    print('  fresh converge          %7.1f s' % figures['fresh_converge'])
    print('  ansible ping            %7.1f s (median of %d)' % (ping_time, len(figures['ping'])))
    print('  no-op re-run            %7.1f s  = %.1fx ping (target <= 5x); changed per host %s; fast path on %d/%d hosts'
          % (noop, figures['noop_to_ping'], sorted(set(figures['noop_changed'].values())), figures['noop_fast_path_hosts'], args.count))
    print('  model-change re-run     %7.1f s  = %.2fx no-op (target <= 1.2x); changed per host %s; fast path on %d/%d hosts'
          % (change, figures['model_change_to_noop'], sorted(set(figures['model_change_changed'].values())),
             figures['model_change_fast_path_hosts'], args.count))
    print('  no-op, fast path off    %7.1f s  = %.1fx the fast no-op; changed per host %s'
          % (full, figures['noop_full_to_noop'], sorted(set(figures['noop_full_changed'].values()))))
    os.makedirs(os.path.join(ROOT, 'bench', 'results'), exist_ok=True)
    with open(os.path.join(ROOT, 'bench', 'results', 'fleet.json'), 'w', encoding='utf-8') as handle:
        json.dump(figures, handle, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
