# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # for modules that only read: they run fully in check mode and never report a difference
    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    details: The module never changes anything, so it runs in check mode exactly as it does otherwise.
  diff_mode:
    support: N/A
    details: The module never changes anything, so it has no difference to show.
"""
