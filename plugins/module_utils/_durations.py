# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durations as people write them in playbooks: ``90s``, ``30m``, ``6h``, ``2d``, ``1w``, ``1h30m``."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# ISC keeps 90 days of task history; ten years is far beyond any meaningful duration and far from a date's limits.
MAX_SECONDS = 3650 * 86400
_PART = re.compile(r"(\d+)\s*([smhdw])", re.IGNORECASE)
_WHOLE = re.compile(r"^\s*(?:\d+\s*[smhdw]\s*)+$", re.IGNORECASE)


def parse_duration(value, option: str = "older_than") -> int:
    """Seconds in ``value``; a bare number counts as seconds. ValueError naming ``option`` otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"{option} must be a duration such as 90s, 30m, 6h or 2d, got {value!r}")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value)
    elif isinstance(value, str) and _WHOLE.match(value):
        seconds = sum(int(number) * UNITS[unit.lower()] for number, unit in _PART.findall(value))
    else:
        raise ValueError(f"{option} must be a duration such as 90s, 30m, 6h or 2d (units s, m, h, d, w), got {value!r}")
    if seconds < 0:
        raise ValueError(f"{option} must not be negative, got {value!r}")
    if seconds > MAX_SECONDS:
        raise ValueError(f"{option} must be at most 3650d (ten years), got {value!r}")
    return seconds
