"""Timestamps as ISC writes them: UTC, milliseconds, a trailing Z."""

from __future__ import annotations

import datetime
import time

DAY_MS = 86_400_000
WINDOW_MS = 90 * DAY_MS


def now_ms():
    return int(time.time() * 1000)


def iso(ms):
    # gmtime and % formatting, not datetime.strftime: seeding 100,000 tasks formats half a million of these.
    parts = time.gmtime(ms // 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], ms % 1000)


def parse_iso(text):
    """Milliseconds since the epoch for an RFC 3339 date-time; ValueError for anything else."""
    if not isinstance(text, str) or "T" not in text.upper():
        raise ValueError("not an RFC 3339 date-time: %r" % (text,))
    moment = datetime.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("date-time without a time zone: %r" % (text,))
    return int(round(moment.timestamp() * 1000))
