# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test tree's modules import by their basename (no packages, pytest's default import mode): two test files
of one name anywhere under tests/ cannot be collected in one session ("import file mismatch"), and a test file
named like a helper module on the path (tests/infra) would shadow it."""
from __future__ import annotations

import collections
import os

TESTS = os.path.abspath(os.path.join(os.path.dirname(__file__), '..'))


def _modules():
    """(basename, path) of every Python file under tests/ outside a package (a package's modules import by its name)."""
    for directory, dirs, files in os.walk(TESTS):
        dirs[:] = [d for d in dirs if not os.path.exists(os.path.join(directory, d, '__init__.py')) and not d.startswith('.')]
        for name in files:
            if name.endswith('.py') and name != 'conftest.py':
                yield name[:-3], os.path.relpath(os.path.join(directory, name), TESTS)


def test_every_test_module_and_helper_has_its_own_basename():
    seen = collections.defaultdict(list)
    for name, path in _modules():
        seen[name].append(path)
    assert len(seen) > 50, 'the walk found almost nothing: %s' % sorted(seen)
    assert 'harness' in seen and 'test_test_tree' in seen
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}
