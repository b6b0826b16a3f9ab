# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's expressions rendered by Ansible's own templating, from its defaults and vars, with every filter of the
collection loaded by its FQCN, as a play resolves them (unit and integration tests of the roles' computed values).

The filters are registered by hand: Ansible's collection finder cannot be installed once other tests imported
the collection as a plain package (through .build/collections on the path)."""
from __future__ import annotations

import functools
import importlib
import os

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
LOADER = DataLoader()


def role_vars(role):
    """ROLE's defaults/main.yml, then its vars/main.yml over them."""
    out = {}
    for part in ("defaults", "vars"):
        out.update(LOADER.load_from_file(os.path.join(REPO, "roles", role, part, "main.yml"), trusted_as_template=True))
    return out


@functools.lru_cache(maxsize=None)
def collection_filters():
    """{FQCN: function} of every filter in plugins/filter."""
    found = {}
    for name in sorted(os.listdir(os.path.join(REPO, "plugins", "filter"))):
        if name.endswith(".py") and not name.startswith("_"):
            module = importlib.import_module("ansible_collections.claude_fleet.bedrock.plugins.filter." + name[:-3])
            for short, function in module.FilterModule().filters().items():
                found["claude_fleet.bedrock." + short] = function
    return found


def render(role, expression, **variables):
    """The value of EXPRESSION over ROLE's defaults and vars, VARIABLES (facts, options) over them."""
    values = role_vars(role)
    values.update(variables)
    templar = Templar(loader=LOADER, variables=values)
    templar.environment.filters.update(collection_filters())
    return templar.template(trust_as_template("{{ %s }}" % expression))
