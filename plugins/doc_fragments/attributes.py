# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # for modules that only read: they run fully in check mode and never report a difference
    INFO_MODULE = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module never changes anything, so it runs in check mode exactly as it does otherwise.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: The module never changes anything, so it has no difference to show.
"""

    # for every module of the action group in meta/runtime.yml
    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/sailpoint.isc.isc) in C(module_defaults) to set defaults for this module.
    details: The connection options are the ones usually set once this way for every module of the collection.
    support: full
    membership:
      - sailpoint.isc.isc
"""
