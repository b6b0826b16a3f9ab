# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark setup.yml on sandbox fleets: ping, no-op, model change and the peer baseline per fleet size.

Run as root:  python bench/fleet_bench.py [--counts 1,10,30] [--rounds 3]

One sandbox fleet of max(--counts) workstations is converged once; each measured size is an inventory
of its first N hosts. Every round measures, for each size (the order rotates between rounds, so load
changes hit all figures alike):
  - `ansible -m ansible.builtin.ping` (the floor: Ansible's start-up and one module call per host);
  - the setup.yml no-op (fast path);
  - the model-change run (a new claude_fleet_bedrock_model for those N hosts, applied on the fast path);
  - the peer baseline: the no-op re-run of bench/peer/guide.yml, the guide's steps as a plain playbook.
Then, once: the cold converge of one workstation alone, and of one added workstation next to
--added-next-to converged ones (the fleet's first hosts).

Each run records the controller's peak memory (PSS summed over the ansible process tree, sampled)
and, for setup.yml, the wall time of each play and task (bench/callback_plugins/bench_phases.py):
the per-phase breakdown printed is the median over the rounds. The smoke test is off (it measures
Bedrock, not the collection). Prints tables and writes bench/results/fleet.json.
"""
from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
FLEET = os.path.join(ROOT, 'tests', 'infra', 'sandbox', 'fleet')
SETUP = os.path.join(ROOT, 'playbooks', 'setup.yml')
PEER = os.path.join(ROOT, 'bench', 'peer', 'guide.yml')
# Current ids (the preflight stops on LEGACY ones): the test fleet's default, and the model the change run pins.
MODELS = ('us.anthropic.claude-sonnet-5-5', 'us.anthropic.claude-opus-5-5')
RECAP = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)
KINDS = ('ping', 'noop', 'model_change', 'peer')


class MemorySampler(threading.Thread):
    """Peak PSS (bytes) of a process and all its descendants, sampled every 100 ms."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    @staticmethod
    def _tree(root: int) -> list[int]:
        children = collections.defaultdict(list)
        for name in os.listdir('/proc'):
            if name.isdigit():
                try:
                    with open('/proc/%s/stat' % name, encoding='ascii', errors='replace') as handle:
                        ppid = int(handle.read().rsplit(')', 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children[ppid].append(int(name))
        out, todo = [], [root]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, ()))
        return out

    @staticmethod
    def _pss(pid: int) -> int:
        try:
            with open('/proc/%d/smaps_rollup' % pid, encoding='ascii') as handle:
                for line in handle:
                    if line.startswith('Pss:'):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return 0

    def run(self):
        while not self.stop.wait(0.1):
            self.peak = max(self.peak, sum(self._pss(p) for p in self._tree(self.pid)))


def run(argv: list[str], env: dict, phases: str | None = None, cwd: str = ROOT) -> dict:
    """Run a command to completion (bounded): wall time, output, peak memory and phase events."""
    env = dict(env)
    if phases:
        env['CLAUDE_FLEET_BENCH_PHASES'] = phases
    started = time.time()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = MemorySampler(proc.pid)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=3600)
    finally:
        sampler.stop.set()
    elapsed = time.time() - started
    if proc.returncode != 0:
        sys.exit('%s failed (rc=%d):\n%s' % (' '.join(argv[:4]), proc.returncode, out[-3000:] + err[-2000:]))
    result = {'seconds': elapsed, 'output': out, 'peak_pss': sampler.peak, 'started': started}
    if phases and os.path.exists(phases):
        with open(phases, encoding='utf-8') as handle:
            result['events'] = json.load(handle)
        os.unlink(phases)
    return result


def changed(output: str) -> dict:
    """Changed-task count per host from the PLAY RECAP."""
    return {m.group(1): int(m.group(3)) for m in RECAP.finditer(output)}


def failed(output: str) -> list:
    """Hosts the PLAY RECAP shows unreachable or failed: a run with any is not a measurement of the collection."""
    return sorted(m.group(1) for m in RECAP.finditer(output) if int(m.group(4)) or int(m.group(5)))


def breakdown(result: dict) -> dict:
    """Seconds per phase: Ansible's start-up (to the first play), each play, each task (all hosts)."""
    events = result.get('events') or []
    if not events:
        return {}
    plays, tasks = collections.OrderedDict(), collections.OrderedDict()
    plays['start-up (before the first play)'] = events[0]['at'] - result['started']
    for index, event in enumerate(events[:-1]):
        span = events[index + 1]['at'] - event['at']
        if event['kind'] in ('play', 'task'):
            plays[event['play']] = plays.get(event['play'], 0.0) + span
        if event['kind'] == 'task':
            key = '%s / %s' % (event['play'].split('|')[0].strip(), event['name'])
            tasks[key] = tasks.get(key, 0.0) + span
    return {'plays': plays, 'tasks': tasks}


def fast_path_hosts(report_dir: str) -> int:
    """How many hosts of the run's fleet report took the fast path."""
    with open(os.path.join(report_dir, 'fleet-report.json'), encoding='utf-8') as handle:
        return sum(1 for row in json.load(handle)['hosts'] if row.get('fast_path'))


def write_inventory(directory: str, hosts: dict, group_vars: dict, host_vars: str) -> str:
    """An inventory of the given hosts with the test fleet's group_vars and a shared host_vars dir."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, 'hosts.yml'), 'w', encoding='utf-8') as handle:
        yaml.safe_dump({'all': {'children': {'workstations': {'hosts': hosts, 'vars': group_vars}}}}, handle)
    for name, target in (('group_vars', os.path.join(ROOT, 'tests', 'group_vars')), ('host_vars', host_vars)):
        if not os.path.lexists(os.path.join(directory, name)):
            os.symlink(target, os.path.join(directory, name))
    return directory


def set_model(host_vars: str, hosts, model: str) -> None:
    """Pin a model per host (host_vars beat the test fleet's group_vars)."""
    for host in hosts:
        with open(os.path.join(host_vars, host + '.yml'), 'w', encoding='utf-8') as handle:
            yaml.safe_dump({'claude_fleet_bedrock_model': model}, handle)


def fleet_up(name: str, count: int, release: str, work: str, env: dict) -> tuple[dict, dict]:
    path = os.path.join(work, name + '.yml')
    run([FLEET, 'up', '--name', name, '--release', release, '--count', str(count), '--inventory', path], env)
    with open(path, encoding='utf-8') as handle:
        group = yaml.safe_load(handle)['all']['children']['workstations']
    return group['hosts'], group.get('vars') or {}


def median(values):
    return statistics.median(values) if values else float('nan')


def main() -> int:  # pylint: disable=too-many-locals,too-many-statements,too-many-branches
    """Bring up the fleets, measure, tear down."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--counts', default='1,10,30', help='fleet sizes measured, comma separated (default 1,10,30)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--forks', type=int, default=30, help='forks = min(size, this) (default 30)')
    parser.add_argument('--release', default='bookworm')
    parser.add_argument('--no-peer', action='store_true', help='leave out the peer baseline')
    parser.add_argument('--added-next-to', type=int, default=10,
                        help='converged hosts next to the added workstation (0: no added-workstation runs)')
    parser.add_argument('--baseline-root', help='another checkout of the collection (for example main): its setup.yml no-op and '
                        'model change are measured too, on a fleet of its own, interleaved with these (kinds *_base)')
    parser.add_argument('--output', default=os.path.join(ROOT, 'bench', 'results', 'fleet.json'))
    args = parser.parse_args()
    counts = sorted({int(c) for c in args.counts.split(',') if c.strip()})
    size = max(counts + [args.added_next_to])
    work = tempfile.mkdtemp(prefix='fleet-bench-')
    tag = 'fb%d' % (os.getpid() % 100000)
    host_vars = os.path.join(work, 'host_vars')
    os.makedirs(host_vars)
    report = os.path.join(work, 'report')
    phases = os.path.join(work, 'phases.json')
    env = dict(os.environ, CLAUDE_FLEET_TEST_STATE=os.path.join(work, 'state'), ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               PYTHONPATH=os.path.join(ROOT, 'tests', 'infra', 'emulator'),
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, 'bench', 'callback_plugins'), ANSIBLE_CALLBACKS_ENABLED='bench_phases')
    fleets = [tag + 'm'] + ([tag + 'a', tag + 'b'] if args.added_next_to else []) + ([tag + 'z'] if args.baseline_root else [])
    base = os.path.abspath(args.baseline_root) if args.baseline_root else None
    base_env = dict(env, ANSIBLE_CONFIG=os.path.join(base, 'ansible.cfg')) if base else None
    figures: dict = {'counts': counts, 'rounds': args.rounds, 'release': args.release, 'runs': {}, 'phases': {}}

    def playbook(inventory, hosts_count, *extra, book=SETUP):
        forks = str(max(1, min(hosts_count, args.forks)))
        argv = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, '-f', forks, book]
        if book in (SETUP, os.path.join(base or ROOT, 'playbooks', 'setup.yml')):
            argv += ['-e', 'claude_fleet_smoke_enabled=false', '-e', 'claude_fleet_report_dir=' + report]
        return argv + list(extra)

    def record(kind, count, result):
        figures['runs'].setdefault('%s@%d' % (kind, count), []).append(
            {'seconds': result['seconds'], 'peak_pss': result['peak_pss'], 'changed': changed(result['output']),
             'failed': failed(result['output'])})
        if result.get('events'):
            figures['phases'].setdefault('%s@%d' % (kind, count), []).append(breakdown(result))

    try:
        run([sys.executable, os.path.join(ROOT, 'tests', 'infra', 'services', 'testbed.py'), 'up', '--state', env['CLAUDE_FLEET_TEST_STATE']], env)
        main_hosts, group_vars = fleet_up(fleets[0], size, args.release, work, env)
        names = list(main_hosts)
        set_model(host_vars, names, MODELS[0])
        inventories = {c: write_inventory(os.path.join(work, 'inv%d' % c), {h: main_hosts[h] for h in names[:c]}, group_vars, host_vars)
                       for c in counts}
        full = write_inventory(os.path.join(work, 'inv-all'), main_hosts, group_vars, host_vars)
        if base:
            base_hosts, base_vars = fleet_up(fleets[-1], size, args.release, work, env)
            base_names = list(base_hosts)
            set_model(host_vars, base_names, MODELS[0])
            base_inventories = {c: write_inventory(os.path.join(work, 'base%d' % c), {h: base_hosts[h] for h in base_names[:c]}, base_vars,
                                                   host_vars) for c in counts}
            base_setup = os.path.join(base, 'playbooks', 'setup.yml')
            run(playbook(write_inventory(os.path.join(work, 'base-all'), base_hosts, base_vars, host_vars), size, book=base_setup),
                base_env, cwd=base)
        figures['fresh_converge'] = {'hosts': size, 'seconds': run(playbook(full, size), env)['seconds']}
        if not args.no_peer:
            run(playbook(full, size, book=PEER), env)  # the peer's own first converge
        model = {h: 0 for h in names}
        if base:
            model.update({h: 0 for h in base_names})
        for round_index in range(args.rounds):
            order = counts[round_index % len(counts):] + counts[:round_index % len(counts)]
            for count in order:
                inventory = inventories[count]
                ping = [os.path.join(BIN, 'ansible'), '-i', inventory, '-f', str(max(1, min(count, args.forks))),
                        'workstations', '-m', 'ansible.builtin.ping']
                record('ping', count, run(ping, env))
                result = run(playbook(inventory, count), env, phases)
                result_fast = fast_path_hosts(report)
                record('noop', count, result)
                figures.setdefault('noop_fast_path_hosts', {}).setdefault(str(count), result_fast)
                subset = names[:count]
                new = 1 - model[subset[0]]
                set_model(host_vars, subset, MODELS[new])
                model.update({h: new for h in subset})
                result = run(playbook(inventory, count), env, phases)
                record('model_change', count, result)
                figures.setdefault('model_change_fast_path_hosts', {}).setdefault(str(count), fast_path_hosts(report))
                if not args.no_peer:
                    record('peer', count, run(playbook(inventory, count, book=PEER), env, phases))
                if base:
                    record('noop_base', count, run(playbook(base_inventories[count], count, book=base_setup), base_env, phases, cwd=base))
                    subset = base_names[:count]
                    new = 1 - model[subset[0]] if subset[0] in model else 1
                    set_model(host_vars, subset, MODELS[new])
                    model.update({h: new for h in subset})
                    record('model_change_base', count, run(playbook(base_inventories[count], count, book=base_setup), base_env, phases, cwd=base))
        if args.added_next_to:
            alone_hosts, _vars = fleet_up(fleets[2], 1, args.release, work, env)
            added_hosts, _vars = fleet_up(fleets[1], 1, args.release, work, env)
            set_model(host_vars, list(alone_hosts) + list(added_hosts), MODELS[0])
            alone = write_inventory(os.path.join(work, 'inv-alone'), alone_hosts, group_vars, host_vars)
            next_to = dict({h: main_hosts[h] for h in names[:args.added_next_to]}, **added_hosts)
            beside = write_inventory(os.path.join(work, 'inv-added'), next_to, group_vars, host_vars)
            record('cold_alone', 1, run(playbook(alone, 1), env, phases))
            record('cold_added', args.added_next_to, run(playbook(beside, len(next_to)), env, phases))
    finally:
        for name in reversed(fleets):
            subprocess.run([FLEET, 'down', '--name', name], capture_output=True, timeout=600, check=False)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'infra', 'services', 'testbed.py'), 'down', '--state', env['CLAUDE_FLEET_TEST_STATE']],
                       capture_output=True, timeout=60, check=False)

    def med(kind, count, key='seconds'):
        return median([r[key] for r in figures['runs'].get('%s@%d' % (kind, count), [])])

    figures.update(measured=datetime.datetime.now(datetime.timezone.utc).isoformat(), load=os.getloadavg())
    print('sandbox fleets (%s), %d interleaved rounds, forks min(size, %d), smoke off, load %.1f; medians'
          % (args.release, args.rounds, args.forks, os.getloadavg()[0]))
    print('  fresh converge of %d: %.1f s' % (size, figures['fresh_converge']['seconds']))
    print('  %5s %8s %8s %8s %8s | %7s %7s %7s | %9s %9s' % ('hosts', 'ping', 'no-op', 'model', 'peer', 'noop/p', 'model/n', 'peer/n',
                                                             'noop MB', 'peer MB'))
    summary = {}
    for count in counts:
        row = {k: med(k, count) for k in KINDS}
        row.update(noop_to_ping=row['noop'] / row['ping'], model_change_to_noop=row['model_change'] / row['noop'],
                   peer_to_noop=row['peer'] / row['noop'], noop_peak_mb=med('noop', count, 'peak_pss') / 2 ** 20,
                   peer_peak_mb=med('peer', count, 'peak_pss') / 2 ** 20)
        summary[str(count)] = row
        print('  %5d %7.2fs %7.2fs %7.2fs %7.2fs | %6.2fx %6.2fx %6.2fx | %9.0f %9.0f'
              % (count, row['ping'], row['noop'], row['model_change'], row['peer'], row['noop_to_ping'],
                 row['model_change_to_noop'], row['peer_to_noop'], row['noop_peak_mb'], row['peer_peak_mb']))
    figures['summary'] = summary
    if base:
        for count in counts:
            noop_base, change_base = med('noop_base', count), med('model_change_base', count)
            summary[str(count)].update(noop_base=noop_base, model_change_base=change_base)
            print('  %5d baseline %s: no-op %.2fs (%.2fx ping), model change %.2fs; this checkout\'s no-op = %.2fx the baseline\'s'
                  % (count, args.baseline_root, noop_base, noop_base / summary[str(count)]['ping'], change_base,
                     summary[str(count)]['noop'] / noop_base))
    changes = {k: sorted({c for r in v for c in r['changed'].values()}) for k, v in figures['runs'].items() if not k.startswith('ping')}
    print('  changed tasks per host: %s' % ', '.join('%s %s' % kv for kv in sorted(changes.items())))
    print('  fast path hosts: no-op %s, model change %s' % (figures.get('noop_fast_path_hosts'), figures.get('model_change_fast_path_hosts')))
    broken = {k: sorted({h for r in v for h in r.get('failed', [])}) for k, v in figures['runs'].items()}
    for kind, hosts in sorted(broken.items()):
        if hosts:
            print('  WARNING: %s had unreachable or failed hosts %s: its figure does not measure the collection' % (kind, ', '.join(hosts)))
    if args.added_next_to:
        alone, added = med('cold_alone', 1), med('cold_added', args.added_next_to)
        figures['added'] = {'cold_alone': alone, 'cold_added': added, 'ratio': added / alone}
        print('  cold converge of one workstation alone %.1f s; added next to %d converged ones %.1f s = %.2fx (target <= 1.10x)'
              % (alone, args.added_next_to, added, added / alone))
    for key in sorted(figures['phases']):
        samples = figures['phases'][key]
        print('  phases of %s (median of %d):' % (key, len(samples)))
        for label in samples[0]['plays']:
            print('    %7.2fs  %s' % (median([s['plays'].get(label, 0.0) for s in samples]), label))
        tasks = {t: median([s['tasks'].get(t, 0.0) for s in samples]) for t in samples[0]['tasks']}
        for label, seconds in sorted(tasks.items(), key=lambda kv: -kv[1])[:8]:
            print('      %7.2fs  %s' % (seconds, label))
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, 'w', encoding='utf-8') as handle:
        json.dump(figures, handle, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
