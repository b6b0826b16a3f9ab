# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark the claude_settings module: merge cost by file size, and a full module run.

Run from the repository root:  .venv/bin/python bench/settings_bench.py [--rounds 50] [--json-out FILE]

* plan: parse + deep-merge + compare + serialise (module_utils, in-process) for a typical 1 KB
  settings.json, a 100 KB one and a 1 MB one (many user keys and hooks);
* module: the real module as Ansible runs it (``python -m`` style subprocess with its arguments on
  stdin through a wrapper), first run (write) and second run (no change), on a 1 KB file.

Every loop is bounded by --rounds. Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))

from ansible_collections.claude_fleet.bedrock.plugins.module_utils import claude_settings as utils  # noqa: E402 pylint: disable=wrong-import-position

MANAGED = {
    'env': {'CLAUDE_CODE_USE_BEDROCK': '1', 'AWS_REGION': 'us-east-1', 'ANTHROPIC_MODEL': 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
            'ANTHROPIC_DEFAULT_HAIKU_MODEL': 'us.anthropic.claude-haiku-4-5-20251001-v1:0', 'CLAUDE_CODE_MAX_OUTPUT_TOKENS': '4096'},
    'awsAuthRefresh': 'aws sso login --profile bedrock',
}

RUNNER = r'''
import json, sys
from ansible.module_utils.testing import patch_module_args
from ansible_collections.claude_fleet.bedrock.plugins.modules import claude_settings
with patch_module_args(json.loads(sys.argv[1])):
    claude_settings.main()
'''


def user_document(n_keys):
    doc = {'permissions': {'allow': ['Bash(npm run test:*)', 'Read(~/src/**)'], 'deny': ['Read(./.env)']},
           'hooks': {'PostToolUse': [{'matcher': 'Edit', 'hooks': [{'type': 'command', 'command': 'prettier --write'}]}]},
           'env': {'MY_OWN': 'x'}}
    for i in range(n_keys):
        doc['user_key_%05d' % i] = {'enabled': i % 2 == 0, 'values': list(range(i % 7)), 'note': 'value %d' % i}
    return doc


def timed(func, rounds):
    samples = []
    for dummy in range(rounds):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000, max(samples) * 1000


def bench_plan(rounds):
    results = {}
    for label, n_keys in (('1KB', 8), ('100KB', 1100), ('1MB', 11000)):
        text = utils.dump_settings(user_document(n_keys))

        def once(text=text):
            before = utils.parse_settings(text)
            after, changed = utils.plan_settings(before, MANAGED)
            return utils.dump_settings(after, utils.detect_indent(text)) if changed else text
        median, worst = timed(once, rounds)
        results[label] = {'bytes': len(text), 'median_ms': round(median, 3), 'max_ms': round(worst, 3)}
    return results


def bench_module(rounds):
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, '.build', 'collections'))
    write, noop = [], []
    with tempfile.TemporaryDirectory() as workdir:
        path = os.path.join(workdir, 'settings.json')
        for dummy in range(rounds):
            with open(path, 'w', encoding='utf-8') as handle:
                handle.write(utils.dump_settings(user_document(8)))
            args = json.dumps(dict(path=path, mode='0600', settings=MANAGED, _ansible_tmpdir=workdir))
            for bucket in (write, noop):
                start = time.perf_counter()
                proc = subprocess.run([sys.executable, '-c', RUNNER, args], env=env, capture_output=True, text=True, timeout=60, check=False)
                bucket.append(time.perf_counter() - start)
                assert proc.returncode == 0, proc.stdout + proc.stderr
    return {'first_run_median_ms': round(statistics.median(write) * 1000, 1),
            'second_run_median_ms': round(statistics.median(noop) * 1000, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=50)
    parser.add_argument('--json-out')
    args = parser.parse_args()
    results = {'plan': bench_plan(args.rounds), 'module_subprocess': bench_module(max(1, min(args.rounds, 20)))}
    print(json.dumps(results, indent=2))
    if args.json_out:
        with open(args.json_out, 'w', encoding='utf-8') as handle:
            json.dump(results, handle, indent=2)


if __name__ == '__main__':
    main()
