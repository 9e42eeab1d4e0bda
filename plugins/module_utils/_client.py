# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client of the collection: session, OAuth, token refresh, retries, pagination, typed errors."""

from __future__ import annotations

import collections
import json
import threading
import time
import traceback
from dataclasses import dataclass
from urllib.parse import quote

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.sailpoint.isc.plugins.module_utils._errors import (
    AuthenticationError,
    IscError,
    OptionError,
    TransportError,
    error_from_response,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._redact import Redactor

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
    Retry = object  # lets the subclass below be defined; IscClient refuses to start without requests
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

PAGE_SIZE = 250
# Requests one client may have in flight at once (task_status's largest concurrency); the connection pool keeps
# one connection for each, so no worker waits for or reopens a connection.
MAX_PARALLEL_REQUESTS = 16
# GET, HEAD and the token's POST change nothing, so any transient answer may be repeated, a 500 included
RETRY_STATUSES = (429, 500, 502, 503, 504)
# 429 and 503 are answered by the gateway before a PATCH reaches the service, so repeating one cannot apply a
# patch twice; after a 500, a 502, a 504 or a dropped connection the patch may already have been applied.
PATCH_RETRY_STATUSES = (429, 503)
BACKOFF_FACTOR = 1.0
BACKOFF_MAX = 30.0
BACKOFF_JITTER = 1.0
# A token is renewed this long before ISC says it expires, so that no request carries a token that dies in flight.
TOKEN_MARGIN = 30.0
# ISC's published rate limit: 100 requests per access token per 10 seconds (developer.sailpoint.com, "Rate Limits").
RATE_LIMIT = (100, 10.0)
# The gateway counts a request when it arrives, a network trip after the client let it go; the client's window is
# this share longer, so that a late first request and a prompt hundred-and-first cannot land in one window.
RATE_WINDOW_MARGIN = 0.05


@dataclass(frozen=True)
class ApiVersion:
    """What differs between API versions for task statuses."""

    name: str
    prefix: str
    has_pending_endpoint: bool
    filter_fields: frozenset
    experimental_header: bool
    # the list operation answers pending tasks too, and selects them with the "completionStatus isnull" filter
    list_includes_pending: bool

    @property
    def collection(self) -> str:
        """Path of the task-status collection below the API root."""
        # The SDK's version-less "v1" service puts the version after the resource name.
        return "/task-status/v1" if self.name == "v1" else f"{self.prefix}/task-status"


_BASE_FIELDS = frozenset({"id", "sourceId", "completionStatus", "type"})

API_VERSIONS = {
    version.name: version
    for version in (
        ApiVersion("beta", "/beta", True, _BASE_FIELDS, False, False),
        ApiVersion("v2024", "/v2024", True, _BASE_FIELDS, True, False),
        # v2025 still has pending-tasks but deprecates it; its list, with "completionStatus isnull", replaces it.
        ApiVersion("v2025", "/v2025", True, _BASE_FIELDS, True, True),
        ApiVersion("v2026", "/v2026", False, _BASE_FIELDS | {"launcher"}, True, True),
        ApiVersion("v1", "", False, _BASE_FIELDS | {"launcher"}, False, True),
    )
}


def path_segment(value, option: str = "id") -> str:
    """``value`` as one URL path segment; OptionError for anything that could leave or rewrite the path."""
    text = "" if value is None else str(value)
    if not text.strip():
        raise OptionError(f"{option} must not be empty")
    bad = [char for char in ("/", "\\", "?", "#", "%") if char in text]
    if bad or text in (".", "..") or ".." in text or any(ord(char) < 32 for char in text):
        shown = ", ".join(repr(char) for char in bad) or "a dot segment or a control character"
        raise OptionError(f"{option} {text!r} is not a task id: it contains {shown}")
    return quote(text, safe="")


class _Pacer:
    """When the requests of one client may start; shared by every thread that uses the client.

    Two rules. A hold: after a 429 every thread waits until the moment the answer named, instead of each thread
    running into the limit on its own and waiting it out separately. A sliding window: at most ``limit`` requests
    start in any ``window`` seconds, so that a bulk run mostly stays under ISC's limit instead of meeting it.
    """

    def __init__(self, rate_limit, clock, sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._held_until = float("-inf")
        self._limit, window = rate_limit or (0, 0.0)
        self._window = window * (1 + RATE_WINDOW_MARGIN)
        # the start times booked by the last ``limit`` requests: the oldest one fixes when the next may start
        self._starts = collections.deque(maxlen=self._limit)
        self._thread = threading.local()

    def hold(self, seconds):
        """Every thread holds its next request (and retry) until ``seconds`` from now, or a later hold."""
        with self._lock:
            self._held_until = max(self._held_until, self._clock() + seconds)

    def delay(self, minimum=0.0, book=False):
        """Seconds this thread waits before it sends: at least ``minimum``, past any hold it has not waited out yet,
        and, with ``book``, until the window has room; then that moment is booked as a start."""
        with self._lock:
            now = self._clock()
            start = now + minimum
            # a thread that has already slept through a hold does not wait for it again; with a real clock that
            # changes nothing, with a test's sleep hook that does not move the clock it keeps the waits countable
            if getattr(self._thread, "waited_until", float("-inf")) < self._held_until:
                start = max(start, self._held_until)
            if book and self._limit:
                if len(self._starts) == self._limit:
                    start = max(start, self._starts[0] + self._window)
                self._starts.append(start)
            if start >= self._held_until:
                self._thread.waited_until = self._held_until
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


class _WarningRetry(Retry):
    """urllib3's Retry, reporting each retry through a callback before it waits, and waiting through the pacer."""

    def __init__(self, *args, notify=None, pacer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.notify = notify
        self.pacer = pacer
        self.reason = ""

    def new(self, **kw):
        # urllib3 copies a Retry through its own constructor arguments only
        retry = super().new(**kw)
        retry.notify, retry.pacer = self.notify, self.pacer
        return retry

    def is_retry(self, method, status_code, has_retry_after=False):
        if method and method.upper() == "PATCH":
            return status_code in PATCH_RETRY_STATUSES
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        cause = f"HTTP {response.status}" if response is not None and response.status else type(error).__name__ if error else "an error"
        # the query tells pages apart; Ansible shows identical warnings only once
        retry.reason = f"{method} {url} got {cause}"
        return retry

    def sleep(self, response=None):
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


class IscClient:
    """Talks to one ISC tenant for one API version.

    Secrets (client secret, access tokens) are registered with a Redactor; every message that leaves the client
    (errors, warnings) goes through it.
    """

    def __init__(
        self,
        base_url,
        client_id=None,
        client_secret=None,
        access_token=None,
        api_version="beta",
        validate_certs=True,
        ca_path=None,
        timeout=30,
        retries=5,
        warn=None,
        sleep=time.sleep,
        clock=time.monotonic,
        rate_limit=RATE_LIMIT,
    ):
        if not HAS_REQUESTS:
            raise IscError(missing_required_lib("requests"), detail=REQUESTS_IMPORT_ERROR)
        if api_version not in API_VERSIONS:
            raise OptionError(f"api_version {api_version!r} is not one of {', '.join(API_VERSIONS)}")
        if not access_token and not (client_id and client_secret):
            raise OptionError("no credentials given: set client_id and client_secret, or access_token")
        self.base_url = base_url.rstrip("/")
        self.version = API_VERSIONS[api_version]
        self.redactor = Redactor([client_secret, access_token])
        self._client_id = client_id
        self._client_secret = client_secret
        self._token = access_token
        # a given token's lifetime is unknown: it is used until ISC refuses it
        self._token_expires_at = None
        # held while a token is checked or fetched, so that threads sharing the client fetch one token, not one each
        self._token_lock = threading.Lock()
        self._timeout = timeout
        self._warn = warn
        self._clock = clock
        # rate_limit (count, seconds) paces new requests below ISC's limit; None leaves only the hold after a 429
        self._pacer = _Pacer(rate_limit, clock, sleep)
        self._session = self._make_session(retries, validate_certs, ca_path)

    def _make_session(self, retries, validate_certs, ca_path):
        retry = _WarningRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            redirect=0,
            status_forcelist=RETRY_STATUSES,
            # PATCH is left out: a dropped connection may hide an applied patch (is_retry handles its statuses)
            allowed_methods=frozenset({"GET", "HEAD", "POST"}),
            backoff_factor=BACKOFF_FACTOR,
            backoff_max=BACKOFF_MAX,
            backoff_jitter=BACKOFF_JITTER,
            respect_retry_after_header=True,
            raise_on_status=False,
            notify=self.warn,
            pacer=self._pacer,
        )
        session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_maxsize=MAX_PARALLEL_REQUESTS)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.verify = (ca_path or True) if validate_certs else False
        session.headers.update({"Accept": "application/json", "User-Agent": "sailpoint.isc-ansible"})
        return session

    def warn(self, message):
        """Report ``message`` through the warn hook, with every secret masked."""
        if self._warn:
            self._warn(self.redactor.text(message))

    # ---- authentication

    def _can_refresh(self):
        return bool(self._client_id and self._client_secret)

    def _fetch_token(self):
        path = "/oauth/token"
        form = {"grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret}
        response = self._send("POST", path, data=form)
        if response.status_code >= 400:
            error = error_from_response("POST", path, response.status_code, response.text, self.redactor)
            if response.status_code in (400, 401):
                raise AuthenticationError(
                    self.redactor.text(f"ISC refused client_id {self._client_id!r} at {self.base_url}{path}: {error.message}"),
                    status=response.status_code,
                    detail=error.detail,
                )
            raise error
        body = self._json(response, "POST", path)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise AuthenticationError(f"POST {path} answered without an access_token", status=response.status_code)
        self.redactor.add(token)
        self._token = token
        lifetime = float(body.get("expires_in") or 0)
        self._token_expires_at = self._clock() + lifetime - min(TOKEN_MARGIN, lifetime / 2) if lifetime else None

    def _current_token(self):
        with self._token_lock:
            expired = self._token_expires_at is not None and self._clock() >= self._token_expires_at
            if (self._token is None or expired) and self._can_refresh():
                self._fetch_token()
            return self._token

    def _renewed_token(self, refused):
        """A token newer than ``refused``: fetched now, or already fetched by the thread that met a 401 first."""
        with self._token_lock:
            if self._token == refused:
                self._fetch_token()
            return self._token

    # ---- HTTP

    def _send(self, method, path, params=None, data=None, json_body=None, headers=None, token=None):
        """One request (urllib3 retries included), with ``token`` if given; TransportError when no HTTP answer arrives."""
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if self.version.experimental_header:
            all_headers["X-SailPoint-Experimental"] = "true"
        body = json.dumps(json_body) if json_body is not None else data
        # ISC counts the API calls made with a token; the token request itself is no API call of a version
        self._pacer.before_request(counted=token is not None)
        try:
            return self._session.request(method, self.base_url + path, params=params, data=body, headers=all_headers, timeout=self._timeout)
        except requests.exceptions.SSLError as exc:
            raise TransportError(
                self.redactor.text(
                    f"{method} {path}: TLS verification failed for {self.base_url} ({_root_cause(exc)}); set ca_path to the CA bundle, or validate_certs: false"
                )
            ) from None
        except requests.exceptions.RequestException as exc:
            cause = _root_cause(exc)
            if isinstance(exc, requests.exceptions.Timeout) or isinstance(cause, TimeoutError) or "timed out" in str(cause):
                raise TransportError(self.redactor.text(f"{method} {path}: no answer within timeout {self._timeout}s from {self.base_url}")) from None
            raise TransportError(self.redactor.text(f"{method} {path}: could not reach {self.base_url} ({cause})")) from None

    def request(self, method, path, params=None, json_body=None, headers=None):
        """An authenticated request to ``path`` below the API root; the response, or a typed IscError."""
        token = self._current_token()
        response = self._send(method, path, params=params, json_body=json_body, headers=headers, token=token)
        if response.status_code == 401 and self._can_refresh():
            # the token expired or was revoked early: one fresh token, one more try
            self.warn(f"{method} {path} got HTTP 401; fetching a new access token and trying once more")
            token = self._renewed_token(token)
            response = self._send(method, path, params=params, json_body=json_body, headers=headers, token=token)
        if response.status_code >= 400:
            raise error_from_response(method, path, response.status_code, response.text, self.redactor)
        return response

    def _json(self, response, method, path):
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise IscError(
                self.redactor.text(f"{method} {path} answered HTTP {response.status_code} with a body that is not JSON: {response.text[:200]!r}"),
                status=response.status_code,
            ) from None

    # ---- task statuses

    def _operation_path(self, operation):
        if operation == "list":
            return self.version.collection
        if operation == "pending":
            if not self.version.has_pending_endpoint:
                raise OptionError(f"api_version {self.version.name} has no pending-tasks operation")
            return self.version.collection + "/pending-tasks"
        raise ValueError(f"unknown operation {operation!r}")

    def get_task(self, task_id) -> dict:
        """One TaskStatus; NotFoundError on 404."""
        path = f"{self.version.collection}/{path_segment(task_id)}"
        return self._json(self.request("GET", path), "GET", path)

    def patch_task(self, task_id, operations: list) -> dict:
        """Apply RFC 6902 operations; ConflictError on a failed test, ForbiddenError without the right."""
        path = f"{self.version.collection}/{path_segment(task_id)}"
        response = self.request("PATCH", path, json_body=operations, headers={"Content-Type": "application/json-patch+json"})
        return self._json(response, "PATCH", path)

    @staticmethod
    def _query(operation, filters, sorters):
        query = {}
        if operation == "pending" and (filters or sorters):
            raise OptionError("the pending-tasks operation takes no filters or sorters")
        if filters:
            query["filters"] = filters
        if sorters:
            query["sorters"] = sorters
        return query

    def iter_tasks(self, filters=None, sorters=None, max_results=None, operation="list"):
        """TaskStatus dicts page by page: pages of up to 250, stopping on a short page or at X-Total-Count."""
        path = self._operation_path(operation)
        query = self._query(operation, filters, sorters)
        offset, total = 0, None
        while max_results is None or offset < max_results:
            limit = PAGE_SIZE if max_results is None else min(PAGE_SIZE, max_results - offset)
            # the first page also asks for the total, which saves the empty last page when it is a multiple of 250
            page_query = dict(query, limit=limit, offset=offset, **({"count": "true"} if offset == 0 else {}))
            response = self.request("GET", path, params=page_query)
            page = self._json(response, "GET", path) or []
            if offset == 0:
                total = _total(response)
            yield from page
            offset += len(page)
            if len(page) < limit or (total is not None and offset >= total):
                return

    def list_tasks(self, filters=None, sorters=None, max_results=None, operation="list") -> list:
        """Every TaskStatus of an operation (``list`` or ``pending``), up to ``max_results``."""
        return list(self.iter_tasks(filters, sorters, max_results, operation))

    def count_tasks(self, filters=None, operation="list") -> int:
        """The server's X-Total-Count; HEAD on pending-tasks, a one-item GET on the list."""
        path = self._operation_path(operation)
        query = dict(self._query(operation, filters, None), count="true", limit=1, offset=0)
        response = self.request("HEAD" if operation == "pending" else "GET", path, params=query)
        total = _total(response)
        if total is None:
            raise IscError(f"GET {path} with count=true answered without an X-Total-Count header", status=response.status_code)
        return total


def _root_cause(exc):
    """The urllib3 reason inside requests' wrapping, which otherwise repeats the whole URL and "Max retries"."""
    cause = exc.args[0] if exc.args else exc
    return getattr(cause, "reason", None) or cause


def _total(response):
    value = response.headers.get("X-Total-Count")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
