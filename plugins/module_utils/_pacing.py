# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When the client's requests may start, and which of them urllib3 may repeat. Internal to this collection.

ISC counts requests per client id and API version at its gateway (100 per 10 seconds unless the tenant's contract
says otherwise) and answers 429 with ``Retry-After`` over it. One ``Pacer`` is shared by every thread of a client.
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
import os
import re
import socket
import threading
import time
import traceback

from ansible_collections.sailpoint.isc.plugins.module_utils._deadline import between_tries
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import NOT_APPLIED_STATUSES
from ansible_collections.sailpoint.isc.plugins.module_utils._private_files import private_folder, read_file, write_file

try:
    from urllib3 import exceptions as urllib3_exceptions
    from urllib3.exceptions import MaxRetryError, NewConnectionError
    from urllib3.util.retry import Retry
except ImportError:
    HAS_URLLIB3 = False
    URLLIB3_IMPORT_ERROR: str | None = traceback.format_exc()
    Retry = object  # lets the subclass below be defined; the client refuses to start without requests
else:
    HAS_URLLIB3 = True
    URLLIB3_IMPORT_ERROR = None

# ISC's published rate limit: 100 requests per client id and API version per 10 seconds (developer.sailpoint.com,
# "Rate Limits").
RATE_LIMIT = (100, 10.0)
# The gateway counts a request when it arrives, a network trip after the client let it go; the client's window is
# this share longer, so that a late first request and a prompt hundred-and-first cannot land in one window.
RATE_WINDOW_MARGIN = 0.05
# GET, HEAD and the token's POST change nothing, so any transient answer may be repeated, a 500 included
RETRY_STATUSES = (429, 500, 502, 503, 504)
# repeating a PATCH (or any other write) answered so cannot apply it twice (see _errors.write_may_have_applied)
PATCH_RETRY_STATUSES = NOT_APPLIED_STATUSES
BACKOFF_FACTOR = 1.0
BACKOFF_MAX = 30.0
BACKOFF_JITTER = 1.0
_RATE_LIMIT_TEXT = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*s?\s*$")
MAX_RATE_COUNT = 100000
MAX_RATE_SECONDS = 86400.0
# A saved window holds at most MAX_RATE_COUNT start times of about 20 characters each.
MAX_PACE_BYTES = 4 * 1024 * 1024
# A saved start: a wall-clock time in seconds, written by json.dumps of a float; no room for huge numbers
_NUMBER_TEXT = r"-?\d{1,20}(?:\.\d{1,20})?(?:[eE][-+]?\d{1,3})?"
_NUMBER = re.compile(_NUMBER_TEXT)
_SAVED_STARTS = re.compile(rf"\s*\[\s*(?:{_NUMBER_TEXT}(?:\s*,\s*{_NUMBER_TEXT})*)?\s*\]\s*")


def parse_rate_limit(value, option: str = "rate_limit"):
    """``(count, seconds)`` from ``"100/10"``, or None for ``"off"``; ValueError naming ``option`` otherwise."""
    text = str(value).strip().lower() if value is not None else "off"
    if text in ("off", "none", "0"):
        return None
    match = _RATE_LIMIT_TEXT.match(text)
    if not match:
        raise ValueError(f"{option} must be REQUESTS/SECONDS such as 100/10, or off, got {value!r}")
    count, seconds = int(match.group(1)), float(match.group(2))
    if not 1 <= count <= MAX_RATE_COUNT or not 0 < seconds <= MAX_RATE_SECONDS:
        raise ValueError(f"{option} must allow 1 to {MAX_RATE_COUNT} requests per more than 0 and at most {MAX_RATE_SECONDS:.0f} seconds, got {value!r}")
    return count, seconds


class Pacer:
    """When the requests of one client may start; shared by every thread that uses the client.

    Two rules. A hold: after a 429 every thread waits until the moment the answer named, instead of each thread
    running into the limit on its own and waiting it out separately. A sliding window: at most ``limit`` requests
    start in any ``window`` seconds, so that a bulk run mostly stays under the limit instead of meeting it.
    """

    def __init__(self, rate_limit, clock, sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._held_until = float("-inf")
        self._limit, window = rate_limit or (0, 0.0)
        self._window = window * (1 + RATE_WINDOW_MARGIN)
        # the start times booked by the last ``limit`` requests: the oldest one fixes when the next may start
        self._starts = collections.deque(maxlen=self._limit or None)

    def starts(self) -> list:
        """The start times booked in the current window (this pacer's clock)."""
        with self._lock:
            return list(self._starts)

    def preload(self, starts) -> None:
        """Take ``starts`` (this pacer's clock) as requests already sent, e.g. by the previous run of the same client."""
        with self._lock:
            now = self._clock()
            for start in sorted(starts):
                if now - self._window < start <= now:
                    self._starts.append(start)

    def hold(self, seconds):
        """Every thread holds its next request (and retry) until ``seconds`` from now, or a later hold."""
        with self._lock:
            self._held_until = max(self._held_until, self._clock() + seconds)

    def delay(self, minimum=0.0, book=False):
        """Seconds to wait before sending: at least ``minimum``, past any hold, and, with ``book``, until the window
        has room; then that moment is booked as a start."""
        with self._lock:
            now = self._clock()
            start = max(now + minimum, self._held_until)
            if book and self._limit:
                if len(self._starts) == self._limit:
                    start = max(start, self._starts[0] + self._window)
                self._starts.append(start)
            # compared rather than subtracted, so that an own Retry-After is reported and slept exactly
            return minimum if start == now + minimum else start - now

    def pause(self, seconds):
        """Sleep ``seconds``, then on through any hold that another thread's 429 set meanwhile."""
        while seconds > 0:
            self._sleep(seconds)
            seconds = self.delay()

    def before_request(self, counted=True):
        """Wait for this thread's turn to send a new request; one that is not ``counted`` takes no place in the window."""
        self.pause(self.delay(book=counted))


class PaceFile:
    """The window of one client id, API version and tenant, kept between the module runs of a play.

    ISC counts requests per client id and API version, not per process: a role lists tasks in one module run and
    patches them in the next, and a fresh window in the second would run into the limit the first one used. Each run
    saves the starts of its last window (wall-clock times) in the user's private folder (``_private_files``), under a
    name derived from the tenant, client id and version (no secret), and the next run of the same client starts from
    them. Whatever is found there that is not such a file is ignored with a warning and replaced.
    """

    def __init__(self, base_url: str, client_id: str | None, api_version: str, folder: str | None = None):
        key = hashlib.sha256(f"{base_url}\n{client_id or ''}\n{api_version}".encode()).hexdigest()[:32]
        self.name = f"sailpoint-isc-pace-{key}.json"
        self._folder = folder

    @property
    def path(self) -> str:
        """Where the window is kept: in the folder given, else in the first usable private folder (OSError if none)."""
        folder = self._folder
        if folder is None:
            folder, descriptor = private_folder()
            os.close(descriptor)
        return os.path.join(folder, self.name)

    def _open_folder(self, warn, doing: str):
        try:
            return private_folder(self._folder)
        except OSError as error:
            _warn(warn, f"the rate window of this client is not {doing}: no private folder for it ({error})")
            return None, None

    def load(self, clock, warn=None) -> list:
        """The saved starts on ``clock``'s scale; [] when there are none or they cannot be read (with a warning)."""
        folder, descriptor = self._open_folder(warn, "carried over from the previous run")
        if descriptor is None:
            return []
        try:
            data = read_file(descriptor, self.name, MAX_PACE_BYTES)
            saved = None if data is None else parse_starts(data)
        except (OSError, ValueError) as error:
            _warn(warn, f"ignored the rate window saved at {os.path.join(folder, self.name)} and will replace it: {error}")
            return []
        finally:
            os.close(descriptor)
        offset = clock() - time.time()
        return [start + offset for start in saved or ()]

    def save(self, starts, clock, warn=None) -> None:
        """Save ``starts`` (on ``clock``'s scale) as wall-clock times; a folder that cannot be written costs nothing
        but the head start of the next run."""
        folder, descriptor = self._open_folder(warn, "saved for the next run")
        if descriptor is None:
            return
        offset = time.time() - clock()
        try:
            write_file(descriptor, self.name, json.dumps([start + offset for start in starts]).encode("ascii"))
        except OSError as error:
            _warn(warn, f"could not save the rate window at {os.path.join(folder, self.name)}: {error}")
        finally:
            os.close(descriptor)


def parse_starts(data: bytes) -> list:
    """The start times of a saved window: a JSON list of plain numbers, read without recursion or big integers;
    ValueError for anything else."""
    text = data.decode("ascii", errors="replace")
    if not _SAVED_STARTS.fullmatch(text):
        raise ValueError("it is not a list of plain numbers")
    starts = [float(number) for number in _NUMBER.findall(text)]
    if not all(math.isfinite(start) for start in starts):
        raise ValueError("it holds a number out of range")
    return starts


def _warn(warn, message):
    if warn:
        warn(message)


def unrecoverable(error) -> bool:
    """Whether a failed connection cannot succeed on a retry: the host name does not resolve, or nothing listens."""
    if not HAS_URLLIB3 or error is None:
        return False
    # urllib3 2 names a resolution failure itself; urllib3 1.26 wraps the socket.gaierror in a NewConnectionError
    name_resolution = getattr(urllib3_exceptions, "NameResolutionError", None)
    if name_resolution is not None and isinstance(error, name_resolution):
        return True
    reason = getattr(error, "__cause__", None) or (error.args[-1] if getattr(error, "args", None) else None)
    if isinstance(error, NewConnectionError):
        return isinstance(reason, (socket.gaierror, ConnectionRefusedError)) or "refused" in str(error).lower()
    return False


class PacedRetry(Retry):
    """urllib3's Retry, reporting each retry through a callback before it waits, and waiting through the pacer."""

    def __init__(self, *args, notify=None, pacer=None, write=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.notify = notify
        self.pacer = pacer
        # every request through this Retry is a write that must not be applied twice, whatever its method
        self.write = write
        self.reason = ""

    def new(self, **kw):
        # urllib3 copies a Retry through its own constructor arguments only
        retry = super().new(**kw)
        retry.notify, retry.pacer, retry.write = self.notify, self.pacer, self.write
        return retry

    def _is_method_retryable(self, method):
        # a write that may have reached the service (a dropped connection, a read timeout) is never repeated
        return not self.write and super()._is_method_retryable(method)

    def is_retry(self, method, status_code, has_retry_after=False):
        if self.write or (method and method.upper() == "PATCH"):
            return status_code in PATCH_RETRY_STATUSES
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if unrecoverable(error):
            # a name that does not resolve or a port nobody listens on stays so: fail now, not after the backoff
            raise MaxRetryError(_pool, url, error) from error
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        cause = f"HTTP {response.status}" if response is not None and response.status else type(error).__name__ if error else "an error"
        # the query tells pages apart; Ansible shows identical warnings only once
        retry.reason = f"{method} {url} got {cause}"
        return retry

    def sleep(self, response=None):
        between_tries()
        own = self.get_retry_after(response) if response is not None and self.respect_retry_after_header else None
        how = "as its Retry-After asks" if own is not None else "backing off"
        own = self.get_backoff_time() if own is None else own
        if response is not None and response.status == 429:
            # the limit is the client's, not this thread's: every other thread of the client waits as well
            self.pacer.hold(own)
        # a retry books no place in the window: the try it repeats has one, and ISC refused that try
        wait = self.pacer.delay(own)
        if wait > own:
            how = "as another request's HTTP 429 asks"
        if self.notify:
            self.notify(f"{self.reason}; retry {len(self.history)} in {wait:.1f}s ({how})")
        self.pacer.pause(wait)


def make_retry(retries, notify, pacer, write=False):
    """The Retry of a client's session: reads and the token request after any transient answer, PATCH (and with
    ``write`` every request) only when it cannot have been applied."""
    return PacedRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        redirect=0,
        status_forcelist=RETRY_STATUSES,
        # PATCH and writes are left out: a dropped connection may hide an applied write (is_retry handles their statuses)
        allowed_methods=frozenset({"GET", "HEAD", "POST"}),
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=BACKOFF_MAX,
        backoff_jitter=BACKOFF_JITTER,
        respect_retry_after_header=True,
        raise_on_status=False,
        notify=notify,
        pacer=pacer,
        write=write,
    )
