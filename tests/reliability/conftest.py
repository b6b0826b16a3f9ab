# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the reliability suite: one loopback test bed per session, sandbox fleets per module."""
from __future__ import annotations

import os

import pytest

from harness import Fleet, Testbed


@pytest.fixture(scope="session")
def testbed(tmp_path_factory):
    bed = Testbed(str(tmp_path_factory.mktemp("testbed")))
    try:
        bed.up()
        yield bed
    finally:
        bed.down()


@pytest.fixture(scope="module")
def fleet_factory(tmp_path_factory, testbed):
    """Create fleets for a module; every one of them is destroyed at the module's end."""
    made = []

    def make(prefix, count=1, release="bookworm"):
        name = "%s%d" % (prefix, os.getpid() % 100000)
        fleet = Fleet(name, str(tmp_path_factory.mktemp(name)), testbed, count=count, release=release)
        made.append(fleet)
        return fleet.up()

    try:
        yield make
    finally:
        for fleet in made:
            fleet.down()
