# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start and stop the loopback services a test or demo fleet talks to.

``python tests/infra/services/testbed.py up --state DIR`` builds the local Node.js dist mirror
(cached), then starts the Bedrock emulator and the mirror server in the background and
writes what the inventories read: DIR/emulator.url, DIR/mirror.url, DIR/registry.url,
DIR/emulator.log (the emulator's JSON-lines request log) and DIR/pids.
``down --state DIR`` stops them. ``up`` on a state dir that holds a running testbed stops
it first, so a crashed run never leaves two emulators behind.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
DEFAULT_SCENARIO = os.path.join(ROOT, 'tests', 'infra', 'emulator', 'bedrock_emulator', 'scenarios', 'default.yml')
START_TIMEOUT = 30


def _wait_for(path: str, proc: subprocess.Popen, what: str) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path):
            with open(path, encoding='utf-8') as handle:
                return handle.read().strip()
        if proc.poll() is not None:
            raise SystemExit('testbed: %s exited with %s before it was ready' % (what, proc.returncode))
        time.sleep(0.05)
    proc.kill()
    raise SystemExit('testbed: %s did not start within %ss' % (what, START_TIMEOUT))


def _spawn(argv: list[str], log: str, env: dict | None = None) -> subprocess.Popen:
    with open(log, 'ab') as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=ROOT, env=env)


def down(state: str) -> None:
    """Stop every process recorded in STATE/pids (process groups), then forget them."""
    pids = os.path.join(state, 'pids')
    if not os.path.exists(pids):
        return
    with open(pids, encoding='utf-8') as handle:
        recorded = [int(line) for line in handle.read().split()]
    for pid in recorded:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + 5
    for pid in recorded:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    os.remove(pids)


def up(state: str, scenario: str, emulator_args: list[str]) -> dict:
    """Start the emulator and the mirror; return the URLs written into STATE."""
    os.makedirs(state, exist_ok=True)
    down(state)
    for name in ('emulator.url', 'mirror.port'):
        if os.path.exists(os.path.join(state, name)):
            os.remove(os.path.join(state, name))
    python = sys.executable
    subprocess.run([python, os.path.join(ROOT, 'tests', 'infra', 'mirror', 'build_node_mirror.py')], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, 'tests', 'infra', 'emulator'))
    emulator = _spawn([python, '-m', 'bedrock_emulator', '--scenario', scenario, '--port', '0',
                       '--url-file', os.path.join(state, 'emulator.url'),
                       '--log', os.path.join(state, 'emulator.log')] + emulator_args,
                      os.path.join(state, 'emulator.out'), env)
    mirror = _spawn([python, os.path.join(ROOT, 'tests', 'infra', 'mirror', 'serve.py'), '--dir', os.path.join(ROOT, '.cache', 'node-mirror'),
                     '--port-file', os.path.join(state, 'mirror.port')], os.path.join(state, 'mirror.out'))
    with open(os.path.join(state, 'pids'), 'w', encoding='utf-8') as handle:
        handle.write('%d\n%d\n' % (emulator.pid, mirror.pid))
    urls = {
        'emulator': _wait_for(os.path.join(state, 'emulator.url'), emulator, 'the Bedrock emulator'),
        'mirror': 'http://127.0.0.1:%s' % _wait_for(os.path.join(state, 'mirror.port'), mirror, 'the Node.js mirror'),
        'registry': subprocess.run(['npm', 'config', 'get', 'registry'], check=True, capture_output=True, text=True).stdout.strip(),
    }
    for name, value in urls.items():
        with open(os.path.join(state, name + '.url'), 'w', encoding='utf-8') as handle:
            handle.write(value + '\n')
    return urls


def main() -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('action', choices=['up', 'down'])
    parser.add_argument('--state', required=True, help='directory for URLs, pids and logs')
    parser.add_argument('--scenario', default=DEFAULT_SCENARIO, help='emulator scenario file')
    parser.add_argument('emulator_args', nargs='*', help='extra emulator arguments (after --)')
    args = parser.parse_args()
    if args.action == 'down':
        down(args.state)
        return 0
    print(json.dumps(up(os.path.abspath(args.state), args.scenario, args.emulator_args)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
