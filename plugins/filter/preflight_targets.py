# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Group the play's hosts by what decides their Bedrock check: one preflight check per group."""
from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: preflight_targets
short_description: Group hosts by the Bedrock check they need (region, endpoint, profile, access key id, models)
version_added: 0.2.0
description:
  - Takes the host names and returns one target per distinct (region, endpoint URL, profile, access key id, models),
    in the order the hosts come, each with the first host that has it and the number of hosts.
  - A host variable that is not set takes the value of the current host (the play's own options).
  - An access key id names exactly one secret, so credentials are told apart by profile and access key id;
    no secret is read.
options:
  _input:
    description: The host names (the current host alone when the preflight does not group by host).
    type: list
    elements: str
    required: true
  hostvars:
    description: The play's C(hostvars).
    type: dict
    required: true
  current:
    description: The current host (C(inventory_hostname)), whose values are O(own).
    type: str
    required: true
  own:
    description: The current host's values.
    type: dict
    required: true
    suboptions:
      region:
        description: The region.
        type: str
      endpoint_url:
        description: The endpoint URL.
        type: str
      profile:
        description: The AWS profile.
        type: str
      access_key:
        description: The access key id.
        type: str
      models:
        description: The models to check.
        type: raw
  keys:
    description: The host variable of each of O(own)'s keys (C(region), C(endpoint_url), C(profile), C(access_key), C(models)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: One check per group of hosts
  ansible.builtin.debug:
    msg: >-
      {{ groups['workstations'] | claude_fleet.bedrock.preflight_targets(hostvars=hostvars, current=inventory_hostname,
         own={'region': 'us-east-1', 'endpoint_url': '', 'profile': '', 'access_key': '', 'models': {}},
         keys={'region': 'claude_fleet_bedrock_region', 'models': 'claude_fleet_bedrock_models',
               'endpoint_url': 'claude_fleet_bedrock_endpoint_url', 'profile': 'claude_fleet_aws_profile',
               'access_key': 'claude_fleet_aws_access_key'}) }}
"""

RETURN = r"""
_value:
  description: One target per group.
  type: list
  elements: dict
  contains:
    host:
      description: The first host of the group.
      type: str
    region:
      description: The group's region.
      type: str
    endpoint_url:
      description: The group's endpoint URL.
      type: str
    profile:
      description: The group's AWS profile.
      type: str
    models:
      description: The group's models.
      type: raw
    hosts:
      description: How many hosts the group has.
      type: int
    label:
      description: The group in words (region, profile, endpoint, host count).
      type: str
"""

_FIELDS = ("region", "endpoint_url", "profile", "access_key", "models")


def preflight_targets(hosts, hostvars, current, own, keys):
    """The targets of ``hosts`` (see DOCUMENTATION)."""
    if not isinstance(own, Mapping) or not isinstance(keys, Mapping) or not all(f in own and f in keys for f in _FIELDS):
        raise AnsibleFilterError("preflight_targets: own and keys must each have %s" % ", ".join(_FIELDS))
    groups = {}
    for host in hosts or []:
        if host == current:
            values = [own[f] for f in _FIELDS]
        else:
            variables = hostvars[host]
            values = [variables[keys[f]] if keys[f] in variables else own[f] for f in _FIELDS]
        group = groups.setdefault(str(values), {"values": values, "host": host, "count": 0})
        group["count"] += 1
    out = []
    for group in groups.values():
        region, endpoint_url, profile, _access_key, models = group["values"]
        count = group["count"]
        label = [region or "(no region)"]
        label += ["profile %s" % profile] if profile else []
        label += ["endpoint %s" % endpoint_url] if endpoint_url else []
        label.append("%d host%s" % (count, "" if count == 1 else "s"))
        out.append({"host": group["host"], "region": region, "endpoint_url": endpoint_url, "profile": profile, "models": models,
                    "hosts": count, "label": ", ".join(label)})
    return out


class FilterModule:
    """Preflight filters."""

    def filters(self):
        return {"preflight_targets": preflight_targets}
