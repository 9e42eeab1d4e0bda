"""Injected faults, bad answers, gateway limits and the rate limit, per tenant."""

from __future__ import annotations

import collections
import dataclasses
import math
import random
import threading
import time

from isc_emulator import echo, malformed

INJECTABLE = (429, 500, 502, 503)
# What a request is, as the request log names it; malformed answers and echoes can be aimed at some kinds only.
REQUEST_KINDS = ("token", "list", "pending", "get", "patch")
DEFAULT_MAX_URL_LENGTH = 8192
# the furthest into an echo body a secret is moved
MAX_STRADDLE = 1 << 20
# The server reads at most this much of a request line, so a configured limit cannot go beyond it.
MAX_URL_LENGTH_CEILING = 65536


def parse_rate_limit(text):
    """'100/10' -> (100, 10.0); 'off' -> None."""
    if text is None or str(text).strip().lower() == "off":
        return None
    count, _separator, seconds = str(text).partition("/")
    try:
        limit = (int(count), float(seconds))
    except ValueError:
        raise ValueError("rate limit must be COUNT/SECONDS or off, not %r" % (text,)) from None
    if limit[0] < 1 or not 0 < limit[1] < math.inf:
        raise ValueError("rate limit must be positive: %r" % (text,))
    return limit


def format_rate_limit(limit):
    return "off" if limit is None else "%d/%g" % limit


def check_max_url_length(value):
    length = _number(value, "max_url_length", int, "an integer")
    if not 64 <= length <= MAX_URL_LENGTH_CEILING:
        raise ValueError("max_url_length must be an integer from 64 to %d, not %r" % (MAX_URL_LENGTH_CEILING, value))
    return length


def check_type_names(value):
    """Task-definition names (a list, or one comma-separated string), upper-cased; ValueError for anything else."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise ValueError("rejected_types must be a list of task-definition names such as CLOUD_ENTITLEMENT_IMPORT")
    return tuple(dict.fromkeys(item.strip().upper() for item in value))


def _number(value, name, kind, what):
    # Numbers, or their text (templated control calls often send text); never a boolean.
    try:
        if isinstance(value, bool):
            raise TypeError(value)
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError("%s must be %s, not %r" % (name, what, value)) from None


def _share(value, name):
    share = _number(value, name, float, "a number between 0 and 1")
    if not 0 <= share <= 1:
        raise ValueError("%s must be a number between 0 and 1, not %r" % (name, value))
    return share


def _count(value, name):
    count = _number(value, name, int, "a non-negative integer")
    if count < 0:
        raise ValueError("%s must be a non-negative integer, not %r" % (name, value))
    return count


def _names(value, name, known):
    """A list of names out of ``known`` (a single name is a list of one); 'all' is every one."""
    if value == "all":
        return tuple(known)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("%s must be a list of names out of %s" % (name, ", ".join(known)))
    unknown = [item for item in value if item not in known]
    if unknown:
        raise ValueError("%s: unknown %s; known: %s" % (name, ", ".join(map(repr, unknown)), ", ".join(known)))
    return tuple(dict.fromkeys(value))


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
    max_url_length: int = DEFAULT_MAX_URL_LENGTH
    # None: every draw is random; a number seeds the tenant's draws, so a sequential client meets the same faults.
    fault_seed: int = None
    malformed: tuple = ()
    malformed_rate: float = 1.0
    malformed_on: tuple = REQUEST_KINDS
    echo: tuple = ()
    echo_rate: float = 1.0
    echo_on: tuple = REQUEST_KINDS
    # the status of an echo answer: 500, or 200 for a server that echoes in place of the answer it owed
    echo_status: int = 500
    # None, or the offset in an echo's body where the middle of the first secret's spelling is put (by padding in
    # front of the echoed request), so that a client cutting the body there cuts the secret in two
    echo_straddle: int = None
    # milliseconds between the bytes of an answer (0: sent at once): a server whose every byte comes in time
    drip_ms: int = 0
    drip_on: tuple = REQUEST_KINDS
    # task-definition names the type filter refuses with 400 "Unsupported Task Definition type", as ISC does live
    # with some documented names (upper case; a filter's values compare without case)
    rejected_types: tuple = ()

    # Settings a POST /_control/faults keeps from the command line when it leaves them out.
    BASELINE = ("rate_limit", "token_ttl", "max_url_length", "rejected_types")

    def updated(self, data):
        """A new config from the control surface's JSON; ValueError names a bad key or value."""
        unknown = set(data) - {field.name for field in dataclasses.fields(self)} - {"tenant"}
        if unknown:
            raise ValueError("unknown fault settings: %s" % ", ".join(sorted(unknown)))
        changes = {}
        for key in ("fault_rate", "drop_rate", "malformed_rate", "echo_rate"):
            if key in data:
                changes[key] = _share(data[key], key)
        for key in ("latency_ms", "retry_after", "token_ttl", "drip_ms"):
            if key in data:
                changes[key] = _count(data[key], key)
        if "statuses" in data:
            statuses = data["statuses"]
            if not isinstance(statuses, list) or not statuses:
                raise ValueError("statuses must be a non-empty subset of %s" % (INJECTABLE,))
            statuses = tuple(_number(status, "statuses", int, "a list of statuses") for status in statuses)
            if not set(statuses) <= set(INJECTABLE):
                raise ValueError("statuses must be a non-empty subset of %s" % (INJECTABLE,))
            changes["statuses"] = statuses
        if "require_experimental" in data:
            if not isinstance(data["require_experimental"], bool):
                raise ValueError("require_experimental must be true or false")
            changes["require_experimental"] = data["require_experimental"]
        if "rate_limit" in data:
            changes["rate_limit"] = parse_rate_limit(data["rate_limit"])
        if "max_url_length" in data:
            changes["max_url_length"] = check_max_url_length(data["max_url_length"])
        if "fault_seed" in data:
            changes["fault_seed"] = None if data["fault_seed"] is None else _count(data["fault_seed"], "fault_seed")
        if "malformed" in data:
            changes["malformed"] = _names(data["malformed"], "malformed", malformed.KINDS)
        if "echo" in data:
            changes["echo"] = _names(data["echo"], "echo", echo.ENCODINGS)
        if "echo_status" in data:
            status = _number(data["echo_status"], "echo_status", int, "200 or 500")
            if status not in (200, 500):
                raise ValueError("echo_status must be 200 or 500, not %r" % (data["echo_status"],))
            changes["echo_status"] = status
        if "echo_straddle" in data:
            straddle = data["echo_straddle"]
            changes["echo_straddle"] = None if straddle is None else min(_count(straddle, "echo_straddle"), MAX_STRADDLE)
        for key in ("malformed_on", "echo_on", "drip_on"):
            if key in data:
                changes[key] = _names(data[key], key, REQUEST_KINDS)
        if "rejected_types" in data:
            changes["rejected_types"] = check_type_names(data["rejected_types"])
        return dataclasses.replace(self, **changes)

    def rejected_type(self, values):
        """The first of a type filter's values this tenant refuses, or None."""
        return next((value for value in values if value.upper() in self.rejected_types), None)

    def cleared(self):
        """No fault at all, with the command line's rate limit, token lifetime and URL limit."""
        return type(self)(**{key: getattr(self, key) for key in self.BASELINE})

    def rng(self):
        return random.Random(self.fault_seed)

    def as_json(self):
        data = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        for key in ("statuses", "malformed", "malformed_on", "echo", "echo_on", "drip_on", "rejected_types"):
            data[key] = list(data[key])
        data["rate_limit"] = format_rate_limit(self.rate_limit)
        return data


class RateLimiter:
    """A sliding window per key: exact, so Retry-After says when the oldest request leaves it."""

    def __init__(self, clock=time.monotonic):
        self._lock = threading.Lock()
        self._seen = collections.defaultdict(collections.deque)
        self.clock = clock

    def admit(self, key, limit):
        """0 when admitted, else the whole seconds to wait."""
        if limit is None:
            return 0
        count, window = limit
        now = self.clock()
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
