# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one rule for numeric options: a finite number within bounds, or an OptionError naming the option.
Internal to this collection."""

from __future__ import annotations

import math

from ansible_collections.sailpoint.isc.plugins.module_utils._errors import OptionError


def _shown(number) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:g}"


def _given(value) -> str:
    # a huge integer has no repr beyond 4300 digits, and would fill the message long before
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"a number of {len(str(abs(value))) if abs(value) < 10**4000 else 'over 4000'} digits"
    return repr(value)


def bounded(option: str, value, low, high, low_included: bool = True, kind=float):
    """``value`` as ``kind`` when it is a finite number from ``low`` (or above it) to ``high``; OptionError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = kind(value)
        except (TypeError, ValueError, OverflowError):
            raise OptionError(f"{option} must be a number, got {_given(value)}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise OptionError(f"{option} must be a finite number, got {value!r}")
    if (value < low if low_included else value <= low) or value > high:
        lower = f"from {_shown(low)} to" if low_included else f"more than {_shown(low)} and at most"
        raise OptionError(f"{option} must be {lower} {_shown(high)}, got {_given(value)}")
    return kind(value)
