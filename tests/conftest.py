# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fixtures every suite shares: Bedrock emulators (bedrock_emulator's plugin), and for the sandbox suites
(tests/integration, tests/reliability) loopback test beds and sandbox fleets (tests/infra/harness.py); all
torn down.

The plugin's fixture is imported rather than listed in ``pytest_plugins``, which pytest accepts only in the
rootdir's conftest.py."""
from __future__ import annotations

import os

import pytest

from bedrock_emulator.pytest_plugin import bedrock_emulator  # noqa: F401  pylint: disable=unused-import
from harness import Fleet, Testbed

SHARED = "shared"


@pytest.fixture(name="emulator")
def emulator_fixture(bedrock_emulator):  # noqa: F811  pylint: disable=redefined-outer-name
    """Factory: ``emulator(scenario="default", overrides=None)`` -> a started EmulatorServer, stopped after the test."""
    return lambda scenario="default", overrides=None: bedrock_emulator(scenario, overrides=overrides).server


@pytest.fixture(scope="session")
def testbed(tmp_path_factory):
    """One loopback test bed for the session."""
    bed = Testbed(str(tmp_path_factory.mktemp("testbed")))
    try:
        bed.up()
        yield bed
    finally:
        bed.down()


@pytest.fixture(scope="module")
def testbed_factory(tmp_path_factory):
    """Test beds of a module's own (an emulator log, a scenario or a fault no other module sees); all go at its end."""
    made = []

    def make(*emulator_args):
        bed = Testbed(str(tmp_path_factory.mktemp("testbed")))
        made.append(bed)
        bed.up(*emulator_args)
        return bed

    try:
        yield make
    finally:
        for bed in made:
            bed.down()


@pytest.fixture(scope="module")
def fleet_factory(request, tmp_path_factory):
    """Create fleets for a module; every one of them is destroyed at the module's end (or sooner, by fleet.down()).

    TESTBED: the session's test bed (default), a Testbed, or None for none. GROUP_VARS: link tests/group_vars in."""
    made = []

    def make(prefix, count=1, release="bookworm", testbed=SHARED, group_vars=True, skip_without_image=False):
        name = "%s%d" % (prefix, os.getpid() % 100000)
        bed = request.getfixturevalue("testbed") if testbed == SHARED else testbed
        fleet = Fleet(name, str(tmp_path_factory.mktemp(name)), bed, count=count, release=release, group_vars=group_vars)
        made.append(fleet)
        return fleet.up(skip_without_image=skip_without_image)

    try:
        yield make
    finally:
        for fleet in made:
            fleet.down()
