# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""RFC 3339 timestamps as ISC writes them: UTC, milliseconds, ``Z``."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_RFC3339 = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})"
    r"(?:\.(?P<fraction>\d+))?(?P<offset>[Zz]|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(text: str) -> datetime:
    """Return the timezone-aware UTC instant of an RFC 3339 date-time; ValueError when it is not one.

    RFC 3339 requires an offset, so a timestamp without one is refused rather than guessed.
    """
    match = _RFC3339.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time such as 2024-05-17T19:33:16.470Z")
    fraction = (match.group("fraction") or "0")[:6].ljust(6, "0")
    offset = match.group("offset").upper()
    offset = "+00:00" if offset == "Z" else offset
    try:
        parsed = datetime.fromisoformat(f"{match.group('date')}T{match.group('time')}.{fraction}{offset}")
        return parsed.astimezone(timezone.utc)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date-time: {exc}") from None
    except OverflowError:
        # 0001-01-01T00:00:00+14:00 or 9999-12-31T23:59:59-14:00: valid text whose UTC instant no calendar date holds
        raise ValueError(f"{text!r} lies outside the years 1 to 9999 once converted to UTC") from None


def format_timestamp(instant: datetime) -> str:
    """Format an aware datetime the way ISC does: ``2020-07-11T21:23:15.000Z``."""
    utc = instant.astimezone(timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def same_instant(first: object, second: object) -> bool:
    """True when both are RFC 3339 strings naming the same instant (milliseconds compared, as ISC stores them)."""
    if not isinstance(first, str) or not isinstance(second, str):
        return False
    try:
        return format_timestamp(parse_rfc3339(first)) == format_timestamp(parse_rfc3339(second))
    except ValueError:
        return False
