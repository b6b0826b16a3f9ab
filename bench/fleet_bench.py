# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark setup.yml on sandbox fleets: ping, no-op, model change and the peer baseline per fleet size.

Run as root:  python bench/fleet_bench.py [--counts 1,10,30,100] [--rounds 3] [--cold-rounds 2]

One sandbox fleet of max(--counts) workstations is brought up converged; each measured size is an
inventory of its first N hosts. Every round measures, for each size (the order rotates between rounds,
so load changes hit all figures alike):
  - `ansible -m ansible.builtin.ping` (the floor: Ansible's start-up and one module call per host);
  - the setup.yml no-op (fast path);
  - the model-change run (each of those N hosts gets the other claude_fleet_bedrock_model, applied on
    the fast path);
  - the peer baseline: the no-op re-run of bench/peer/guide.yml, the guide's steps as a plain playbook.
Then --cold-rounds rounds of the cold converge of one workstation alone and of one added workstation
next to --added-next-to converged ones (the fleet's first hosts): fresh workstations each round, the
order alternating, medians printed. Each cold run must change its new host and nothing else, with no
failed or unreachable host.

Seeding (the default; --no-seed converges every workstation for real, about 130 s of CPU each here):
one workstation is converged for real (setup.yml, then the peer's first converge), and the fleet is
its clones: `tests/infra/sandbox/fleet up --seed-from` stacks a snapshot of the seed's overlay upper
dir under each clone's own (the clones keep their own host keys, hostname and machine-id). A clone's
large binaries then have the snapshot's inode and change time, which the converge stamp probes, so
bench/seed_stamp.yml records each clone's inherited stamp again with the collection's converge_stamp
module (the seed's fingerprint, paths, pins and facts; the clone's own probes, with the stamp's key),
as setup.yml's record step would. The clones are proven real before anything is measured: the first
setup.yml no-op over the whole fleet must report every host on the fast path with changed=0 (else the
bench stops), and every model-change run must change every host it covers (else it is reported).

Each run records the controller's peak memory (PSS summed over the ansible process tree, sampled)
and, for setup.yml, the wall time of each play and task (bench/callback_plugins/bench_phases.py):
the per-phase breakdown printed is the median over the rounds. The smoke test is off (it measures
Bedrock, not the collection). Prints tables and writes bench/results/fleet.json; exits 1 when a check
above failed.
"""
from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import re
import shutil
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
SEED_STAMP = os.path.join(ROOT, 'bench', 'seed_stamp.yml')
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


def slow_path_reasons(report_dir: str) -> dict:
    """Why each host of the run's fleet report that ran the roles did (the fast path's reasons)."""
    with open(os.path.join(report_dir, 'fleet-report.json'), encoding='utf-8') as handle:
        return {row['host']: row.get('fast_path_reasons') for row in json.load(handle)['hosts'] if not row.get('fast_path')}


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


def fleet_up(name: str, count: int, release: str, work: str, env: dict,  # pylint: disable=too-many-arguments,too-many-positional-arguments
             seed_from: str | None = None) -> tuple[dict, dict]:
    path = os.path.join(work, name + '.yml')
    argv = [FLEET, 'up', '--name', name, '--release', release, '--count', str(count), '--inventory', path]
    run(argv + (['--seed-from', seed_from] if seed_from else []), env)
    with open(path, encoding='utf-8') as handle:
        group = yaml.safe_load(handle)['all']['children']['workstations']
    return group['hosts'], group.get('vars') or {}


def fleet_down(name: str) -> None:
    subprocess.run([FLEET, 'down', '--name', name], capture_output=True, timeout=600, check=False)


def flip_models(host_vars: str, hosts, model: dict) -> None:
    """Give each host the other model (every host of the run has a change to apply)."""
    for host in hosts:
        model[host] = 1 - model.get(host, 0)
        set_model(host_vars, [host], MODELS[model[host]])


def cold_problems(kind: str, result: dict, new: list, converged: list, fast: int) -> list:
    """What makes a cold run not a measurement: its new host unchanged, a converged host changed or off the fast path."""
    counts, problems = changed(result['output']), []
    problems += ['%s: %s failed or unreachable' % (kind, h) for h in failed(result['output'])]
    problems += ['%s: the new host %s reported changed=%s' % (kind, h, counts.get(h)) for h in new if not counts.get(h)]
    problems += ['%s: the converged host %s reported changed=%s' % (kind, h, counts.get(h)) for h in converged if counts.get(h) != 0]
    if fast != len(converged):
        problems.append('%s: %d hosts on the fast path, expected the %d converged ones' % (kind, fast, len(converged)))
    return problems


def median(values):
    return statistics.median(values) if values else float('nan')


def main() -> int:  # pylint: disable=too-many-locals,too-many-statements,too-many-branches
    """Bring up the fleets, measure, tear down."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--counts', default='1,10,30', help='fleet sizes measured, comma separated (default 1,10,30; up to 200)')
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--forks', type=int, default=30, help='forks = min(size, this) (default 30)')
    parser.add_argument('--release', default='bookworm')
    parser.add_argument('--no-peer', action='store_true', help='leave out the peer baseline')
    parser.add_argument('--no-seed', action='store_true', help='converge every workstation for real instead of cloning one')
    parser.add_argument('--added-next-to', type=int, default=10,
                        help='converged hosts next to the added workstation (0: no added-workstation runs)')
    parser.add_argument('--cold-rounds', type=int, default=2,
                        help='rounds of the cold converge alone and added, fresh workstations each, order alternating (default 2)')
    parser.add_argument('--baseline-root', help='another checkout of the collection (for example main): its setup.yml no-op and '
                        'model change are measured too, on a fleet of its own (seeded from a workstation it converged, unless '
                        '--no-seed or it has no bench/seed_stamp.yml), interleaved with these (kinds *_base)')
    parser.add_argument('--output', default=os.path.join(ROOT, 'bench', 'results', 'fleet.json'))
    args = parser.parse_args()
    counts = sorted({int(c) for c in args.counts.split(',') if c.strip()})
    if not counts or counts[0] < 1 or args.rounds < 1 or args.cold_rounds < 0 or args.added_next_to < 0:
        parser.error('--counts needs sizes >= 1, --rounds >= 1, --cold-rounds and --added-next-to >= 0')
    cold_rounds = args.cold_rounds if args.added_next_to else 0
    size = max(counts + [args.added_next_to])
    if size > 200:
        parser.error('at most 200 workstations (the sandbox fleet\'s limit)')
    work = tempfile.mkdtemp(prefix='fleet-bench-')
    tag = 'fb%d' % (os.getpid() % 100000)
    host_vars = os.path.join(work, 'host_vars')
    os.makedirs(host_vars)
    report = os.path.join(work, 'report')
    phases = os.path.join(work, 'phases.json')
    env = dict(os.environ, CLAUDE_FLEET_TEST_STATE=os.path.join(work, 'state'), ANSIBLE_CONFIG=os.path.join(ROOT, 'ansible.cfg'),
               PYTHONPATH=os.path.join(ROOT, 'tests', 'infra', 'emulator'),
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, 'bench', 'callback_plugins'), ANSIBLE_CALLBACKS_ENABLED='bench_phases',
               # SSH masters of this run only: never one another run (or checkout) left to an address a new workstation reuses.
               ANSIBLE_SSH_CONTROL_PATH_DIR=os.path.join(work, 'cp'))
    fleets: list = []  # every fleet this run created, torn down at the end whatever happens
    base = os.path.abspath(args.baseline_root) if args.baseline_root else None
    base_env = dict(env, ANSIBLE_CONFIG=os.path.join(base, 'ansible.cfg')) if base else None
    figures: dict = {'counts': counts, 'rounds': args.rounds, 'cold_rounds': cold_rounds, 'release': args.release,
                     'seeded': not args.no_seed, 'runs': {}, 'phases': {}}
    problems: list = []

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

    def up(name, count, seed_from=None):
        fleets.append(name)
        return fleet_up(name, count, args.release, work, env, seed_from)

    try:
        run([sys.executable, os.path.join(ROOT, 'tests', 'infra', 'services', 'testbed.py'), 'up', '--state', env['CLAUDE_FLEET_TEST_STATE']], env)
        if args.no_seed:
            main_hosts, group_vars = up(tag + 'm', size)
        else:
            # One real converge (and the peer's), then the fleet as its clones with their stamps recorded again.
            seed_hosts, seed_vars = up(tag + 's', 1)
            set_model(host_vars, seed_hosts, MODELS[0])
            seed_inventory = write_inventory(os.path.join(work, 'inv-seed'), seed_hosts, seed_vars, host_vars)
            result = run(playbook(seed_inventory, 1), env)
            seeding = {'seed': list(seed_hosts)[0], 'converge_seconds': result['seconds']}
            if failed(result['output']) or not changed(result['output']).get(seeding['seed']):
                sys.exit('the seed converge did not converge %s:\n%s' % (seeding['seed'], result['output'][-3000:]))
            if not args.no_peer:
                run(playbook(seed_inventory, 1, book=PEER), env)  # the peer's own first converge, cloned with the rest
            started = time.time()
            main_hosts, group_vars = up(tag + 'm', size, seed_from='%s/%s' % (tag + 's', seeding['seed']))
            seeding['clone_up_seconds'] = time.time() - started
        names = list(main_hosts)
        set_model(host_vars, names, MODELS[0])
        inventories = {c: write_inventory(os.path.join(work, 'inv%d' % c), {h: main_hosts[h] for h in names[:c]}, group_vars, host_vars)
                       for c in counts}
        full = write_inventory(os.path.join(work, 'inv-all'), main_hosts, group_vars, host_vars)
        if base:
            base_setup = os.path.join(base, 'playbooks', 'setup.yml')
            base_seed_stamp = os.path.join(base, 'bench', 'seed_stamp.yml')
            seed_from = None
            if not args.no_seed and os.path.exists(base_seed_stamp):
                # Seeded like this checkout's fleet, from a workstation the baseline converged itself (the
                # fingerprint holds the collection's digest, so this checkout's seed is not current for it).
                base_seed, _vars = up(tag + 'y', 1)
                set_model(host_vars, base_seed, MODELS[0])
                run(playbook(write_inventory(os.path.join(work, 'base-seed'), base_seed, _vars, host_vars), 1, book=base_setup),
                    base_env, cwd=base)
                seed_from = '%s/%s' % (tag + 'y', list(base_seed)[0])
            base_hosts, base_vars = up(tag + 'z', size, seed_from=seed_from)
            base_names = list(base_hosts)
            set_model(host_vars, base_names, MODELS[0])
            base_inventories = {c: write_inventory(os.path.join(work, 'base%d' % c), {h: base_hosts[h] for h in base_names[:c]}, base_vars,
                                                   host_vars) for c in counts}
            base_all = write_inventory(os.path.join(work, 'base-all'), base_hosts, base_vars, host_vars)
            if seed_from:
                run(playbook(base_all, size, book=base_seed_stamp), base_env, cwd=base)
            result = run(playbook(base_all, size, book=base_setup), base_env, cwd=base)
            if seed_from and (fast_path_hosts(report) != size or failed(result['output'])):
                sys.exit('seeding the baseline failed: its first no-op over the %d clones: %d on the fast path, failed %s'
                         % (size, fast_path_hosts(report), failed(result['output'])))
        if args.no_seed:
            figures['fresh_converge'] = {'hosts': size, 'seconds': run(playbook(full, size), env)['seconds']}
            if not args.no_peer:
                run(playbook(full, size, book=PEER), env)  # the peer's own first converge
        else:
            seeding['stamp_seconds'] = run(playbook(full, size, book=SEED_STAMP), env)['seconds']
            result = run(playbook(full, size), env)
            proof = {'hosts': size, 'fast_path_hosts': fast_path_hosts(report), 'seconds': result['seconds'],
                     'changed': sorted({c for h, c in changed(result['output']).items() if h in main_hosts}), 'failed': failed(result['output'])}
            seeding['first_noop'] = proof
            figures['seeding'] = seeding
            if proof['fast_path_hosts'] != size or proof['changed'] != [0] or proof['failed']:
                sys.exit('seeding failed: the first no-op over the %d clones: %d on the fast path, changed %s, failed %s'
                         % (size, proof['fast_path_hosts'], proof['changed'], proof['failed']))
        model = {h: 0 for h in names}
        for round_index in range(args.rounds):
            order = counts[round_index % len(counts):] + counts[:round_index % len(counts)]
            for count in order:
                inventory = inventories[count]
                ping = [os.path.join(BIN, 'ansible'), '-i', inventory, '-f', str(max(1, min(count, args.forks))),
                        'workstations', '-m', 'ansible.builtin.ping']
                record('ping', count, run(ping, env))
                result = run(playbook(inventory, count), env, phases)
                record('noop', count, result)
                figures.setdefault('noop_fast_path_hosts', {}).setdefault(str(count), []).append(fast_path_hosts(report))
                flip_models(host_vars, names[:count], model)
                result = run(playbook(inventory, count), env, phases)
                record('model_change', count, result)
                fast = fast_path_hosts(report)
                figures.setdefault('model_change_fast_path_hosts', {}).setdefault(str(count), []).append(fast)
                unchanged = sorted(h for h in names[:count] if not changed(result['output']).get(h))
                if unchanged or fast != count:
                    problems.append('model change at %d: %d on the fast path; not changed: %s' % (count, fast, ', '.join(unchanged) or 'none'))
                if not args.no_peer:
                    record('peer', count, run(playbook(inventory, count, book=PEER), env, phases))
                if base:
                    record('noop_base', count, run(playbook(base_inventories[count], count, book=base_setup), base_env, phases, cwd=base))
                    flip_models(host_vars, base_names[:count], model)
                    record('model_change_base', count, run(playbook(base_inventories[count], count, book=base_setup), base_env, phases, cwd=base))
        converged = names[:args.added_next_to]
        for cold_index in range(cold_rounds):
            alone_hosts, _vars = up('%sb%d' % (tag, cold_index), 1)
            added_hosts, _vars = up('%sa%d' % (tag, cold_index), 1)
            set_model(host_vars, list(alone_hosts) + list(added_hosts), MODELS[0])
            alone = write_inventory(os.path.join(work, 'inv-alone%d' % cold_index), alone_hosts, group_vars, host_vars)
            next_to = dict({h: main_hosts[h] for h in converged}, **added_hosts)
            beside = write_inventory(os.path.join(work, 'inv-added%d' % cold_index), next_to, group_vars, host_vars)
            for kind in ('cold_alone', 'cold_added') if cold_index % 2 == 0 else ('cold_added', 'cold_alone'):
                if kind == 'cold_alone':
                    result = run(playbook(alone, 1), env, phases)
                    found = cold_problems(kind, result, list(alone_hosts), [], fast_path_hosts(report))
                    record(kind, 1, result)
                else:
                    result = run(playbook(beside, len(next_to)), env, phases)
                    found = cold_problems(kind, result, list(added_hosts), converged, fast_path_hosts(report))
                    record(kind, args.added_next_to, result)
                if found:  # kept for a look at what the run did
                    log = os.path.join(work, '%s-%d.log' % (kind, cold_index))
                    with open(log, 'w', encoding='utf-8') as handle:
                        handle.write(result['output'])
                    shutil.copy(os.path.join(report, 'fleet-report.json'), log[:-4] + '-report.json')
                    problems += ['%s (output: %s; why the roles ran: %s)' % (p, log, slow_path_reasons(report)) for p in found]
            for name in fleets[-2:]:
                fleet_down(name)
            del fleets[-2:]
    finally:
        for name in reversed(fleets):
            fleet_down(name)
        subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'infra', 'services', 'testbed.py'), 'down', '--state', env['CLAUDE_FLEET_TEST_STATE']],
                       capture_output=True, timeout=60, check=False)

    def med(kind, count, key='seconds'):
        return median([r[key] for r in figures['runs'].get('%s@%d' % (kind, count), [])])

    figures.update(measured=datetime.datetime.now(datetime.timezone.utc).isoformat(), load=os.getloadavg())
    print('sandbox fleets (%s), %d interleaved rounds, forks min(size, %d), smoke off, load %.1f; medians'
          % (args.release, args.rounds, args.forks, os.getloadavg()[0]))
    if args.no_seed:
        print('  fresh converge of %d: %.1f s' % (size, figures['fresh_converge']['seconds']))
    else:
        seeding, proof = figures['seeding'], figures['seeding']['first_noop']
        print('  seeded: converge of %s %.1f s; %d clones up in %.1f s, their stamps recorded in %.1f s; first no-op over them %.1f s: '
              '%d of %d on the fast path, changed %s'
              % (seeding['seed'], seeding['converge_seconds'], size, seeding['clone_up_seconds'], seeding['stamp_seconds'],
                 proof['seconds'], proof['fast_path_hosts'], size, proof['changed']))
    print('  %5s %8s %8s %8s %8s | %7s %7s %7s | %9s %9s %9s' % ('hosts', 'ping', 'no-op', 'model', 'peer', 'noop/p', 'model/n', 'peer/n',
                                                                 'ping MB', 'noop MB', 'peer MB'))
    summary = {}
    for count in counts:
        row = {k: med(k, count) for k in KINDS}
        row.update(noop_to_ping=row['noop'] / row['ping'], model_change_to_noop=row['model_change'] / row['noop'],
                   peer_to_noop=row['peer'] / row['noop'], ping_peak_mb=med('ping', count, 'peak_pss') / 2 ** 20,
                   noop_peak_mb=med('noop', count, 'peak_pss') / 2 ** 20, peer_peak_mb=med('peer', count, 'peak_pss') / 2 ** 20,
                   noop_max_peak_mb=max(r['peak_pss'] for r in figures['runs']['noop@%d' % count]) / 2 ** 20)
        summary[str(count)] = row
        print('  %5d %7.2fs %7.2fs %7.2fs %7.2fs | %6.2fx %6.2fx %6.2fx | %9.0f %9.0f %9.0f'
              % (count, row['ping'], row['noop'], row['model_change'], row['peer'], row['noop_to_ping'],
                 row['model_change_to_noop'], row['peer_to_noop'], row['ping_peak_mb'], row['noop_peak_mb'], row['peer_peak_mb']))
    figures['summary'] = summary
    # Each round measures ping, no-op and model change of a size one after the other, so the ratio within a round
    # sees one load; the median of those per-round ratios is printed beside the ratio of the medians above.
    print('  per-round ratios (each round\'s runs of a size follow one another), median [rounds]:')
    for count in counts:
        def paired(top, bottom, count=count):
            tops, bottoms = figures['runs'].get('%s@%d' % (top, count), []), figures['runs'].get('%s@%d' % (bottom, count), [])
            return [t['seconds'] / b['seconds'] for t, b in zip(tops, bottoms)]
        rounds = {'noop/ping': paired('noop', 'ping'), 'model/noop': paired('model_change', 'noop')}
        if base:
            rounds['noop/baseline noop'] = paired('noop', 'noop_base')
        summary[str(count)]['per_round'] = rounds
        print('  %5d %s' % (count, '; '.join('%s %.2fx [%s]' % (k, median(v), ' '.join('%.2f' % x for x in v))
                                             for k, v in rounds.items())))
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
    if cold_rounds:
        alone_runs = [r['seconds'] for r in figures['runs']['cold_alone@1']]
        added_runs = [r['seconds'] for r in figures['runs']['cold_added@%d' % args.added_next_to]]
        alone, added = median(alone_runs), median(added_runs)
        figures['added'] = {'cold_alone': alone, 'cold_added': added, 'ratio': added / alone, 'alone_runs': alone_runs, 'added_runs': added_runs}
        print('  cold converge of one workstation alone %.1f s (%s); added next to %d converged ones %.1f s (%s) = %.2fx (target <= 1.10x); '
              '%d rounds, order alternating' % (alone, ', '.join('%.1f' % x for x in alone_runs), args.added_next_to, added,
                                                ', '.join('%.1f' % x for x in added_runs), added / alone, cold_rounds))
    for key in sorted(figures['phases']):
        samples = figures['phases'][key]
        print('  phases of %s (median of %d):' % (key, len(samples)))
        for label in samples[0]['plays']:
            print('    %7.2fs  %s' % (median([s['plays'].get(label, 0.0) for s in samples]), label))
        tasks = {t: median([s['tasks'].get(t, 0.0) for s in samples]) for t in samples[0]['tasks']}
        for label, seconds in sorted(tasks.items(), key=lambda kv: -kv[1])[:8]:
            print('      %7.2fs  %s' % (seconds, label))
    figures['problems'] = problems
    for problem in problems:
        print('  CHECK FAILED: %s' % problem)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, 'w', encoding='utf-8') as handle:
        json.dump(figures, handle, indent=2)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
