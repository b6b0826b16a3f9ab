# -*- coding: utf-8 -*-

# Copyright: Contributors to the claude_fleet.bedrock collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The model references and the caller check shared by the access modules (model_access_info on bedrock-runtime,
    # mantle_access_info on Mantle); each module's description says which references its endpoint takes.
    DOCUMENTATION = r"""
options:
  references:
    description:
      - Model references to check, in the form the module's endpoint takes. Duplicates are checked once.
      - At least one of O(references) and O(models) is required.
    type: list
    elements: str
  models:
    description:
      - Named model references, for example the fleet's pins by name (C(primary), C(haiku)...).
      - Names appear in RV(remedies) and RV(references[].names). Empty values are ignored.
    type: dict
  caller_identity:
    description:
      - Call STS C(GetCallerIdentity) first, return RV(caller_identity) and stop early when the credentials are rejected.
      - The account id is also used in remedies.
    type: bool
    default: false
"""
