"""Injected faults and the gateway's rate limit, per tenant."""

from __future__ import annotations

import collections
import dataclasses
import math
import threading
import time

INJECTABLE = (429, 500, 502, 503)


def parse_rate_limit(text):
    """'100/10' -> (100, 10.0); 'off' -> None."""
    if text is None or str(text).strip().lower() == "off":
        return None
    count, _separator, seconds = str(text).partition("/")
    try:
        limit = (int(count), float(seconds))
    except ValueError:
        raise ValueError("rate limit must be COUNT/SECONDS or off, not %r" % (text,)) from None
    if limit[0] < 1 or limit[1] <= 0:
        raise ValueError("rate limit must be positive: %r" % (text,))
    return limit


def format_rate_limit(limit):
    return "off" if limit is None else "%d/%g" % limit


def _share(value, name):
    value = float(value)
    if not 0 <= value <= 1:
        raise ValueError("%s must be between 0 and 1" % name)
    return value


@dataclasses.dataclass(frozen=True)
class FaultConfig:
    fault_rate: float = 0.0
    statuses: tuple = INJECTABLE
    drop_rate: float = 0.0
    latency_ms: int = 0
    retry_after: int = 1
    require_experimental: bool = False
    rate_limit: tuple = (100, 10.0)
    token_ttl: int = 750

    def updated(self, data):
        """A new config from the control surface's JSON; ValueError names a bad key or value."""
        unknown = set(data) - {field.name for field in dataclasses.fields(self)} - {"tenant"}
        if unknown:
            raise ValueError("unknown fault settings: %s" % ", ".join(sorted(unknown)))
        changes = {}
        for key in ("fault_rate", "drop_rate"):
            if key in data:
                changes[key] = _share(data[key], key)
        for key in ("latency_ms", "retry_after", "token_ttl"):
            if key in data:
                changes[key] = int(data[key])
                if changes[key] < 0:
                    raise ValueError("%s must not be negative" % key)
        if "statuses" in data:
            statuses = tuple(int(status) for status in data["statuses"])
            if not statuses or set(statuses) - set(INJECTABLE):
                raise ValueError("statuses must be a non-empty subset of %s" % (INJECTABLE,))
            changes["statuses"] = statuses
        if "require_experimental" in data:
            changes["require_experimental"] = bool(data["require_experimental"])
        if "rate_limit" in data:
            changes["rate_limit"] = parse_rate_limit(data["rate_limit"])
        return dataclasses.replace(self, **changes)

    def as_json(self):
        data = dataclasses.asdict(self)
        data["statuses"] = list(self.statuses)
        data["rate_limit"] = format_rate_limit(self.rate_limit)
        return data


class RateLimiter:
    """A sliding window per key: exact, so Retry-After says when the oldest request leaves it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._seen = collections.defaultdict(collections.deque)

    def admit(self, key, limit):
        """0 when admitted, else the whole seconds to wait."""
        if limit is None:
            return 0
        count, window = limit
        now = time.monotonic()
        with self._lock:
            seen = self._seen[key]
            while seen and seen[0] <= now - window:
                seen.popleft()
            if len(seen) >= count:
                return max(1, math.ceil(seen[0] + window - now))
            seen.append(now)
            return 0

    def clear(self):
        with self._lock:
            self._seen.clear()
