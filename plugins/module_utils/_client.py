# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one HTTP client of the collection: session, OAuth, token refresh, retries, pagination, typed errors."""

from __future__ import annotations

import base64
import binascii
import json
import math
import threading
import time
import traceback
from dataclasses import dataclass
from urllib.parse import quote

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.sailpoint.isc.plugins.module_utils._deadline import DeadlineAdapter, Deadlines, Stopped
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import (
    AuthenticationError,
    IscError,
    OptionError,
    ServerAnswerError,
    TransportError,
    error_from_response,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._pacing import RATE_LIMIT, Pacer, make_retry
from ansible_collections.sailpoint.isc.plugins.module_utils._redact import Redactor

try:
    import requests
    from urllib3.filepost import encode_multipart_formdata
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None

PAGE_SIZE = 250
# Requests one client may have in flight at once (task_status's largest concurrency); the connection pool keeps
# one connection for each, so no worker waits for or reopens a connection.
MAX_PARALLEL_REQUESTS = 16
# A token is renewed this long before ISC says it expires, so that no request carries a token that dies in flight.
TOKEN_MARGIN = 30.0
# A token lifetime beyond a day is not one ISC issues; such an answer is treated as "lifetime unknown".
MAX_TOKEN_LIFETIME = 86400.0
# How much of a body that is not what ISC should send is quoted in an error.
QUOTED_BODY = 200


@dataclass(frozen=True)
class ApiVersion:
    """What differs between API versions for task statuses."""

    name: str
    # path of the task-status collection below the API root
    collection: str
    has_pending_endpoint: bool
    experimental_header: bool
    # the list operation answers pending tasks too, and selects them with the "completionStatus isnull" filter
    list_includes_pending: bool
    # the versions without pending-tasks filter their list by launcher too
    launcher_filter: bool = False

    def resource(self, name: str) -> str:
        """The path of another resource collection of this version below the API root: ``/v2025/sources``, and for
        v1, whose services put the version after their first segment, ``/sources/v1``."""
        return f"/{name}/v1" if self.name == "v1" else f"/{self.name}/{name}"

    @property
    def filter_fields(self) -> frozenset:
        """The fields the list operation filters by."""
        return frozenset({"id", "sourceId", "completionStatus", "type"} | ({"launcher"} if self.launcher_filter else set()))


API_VERSIONS = {
    version.name: version
    for version in (
        ApiVersion(name="beta", collection="/beta/task-status", has_pending_endpoint=True, experimental_header=False, list_includes_pending=False),
        ApiVersion(name="v2024", collection="/v2024/task-status", has_pending_endpoint=True, experimental_header=True, list_includes_pending=False),
        # v2025 still has pending-tasks but deprecates it; its list, with "completionStatus isnull", replaces it.
        ApiVersion(name="v2025", collection="/v2025/task-status", has_pending_endpoint=True, experimental_header=True, list_includes_pending=True),
        ApiVersion(
            name="v2026",
            collection="/v2026/task-status",
            has_pending_endpoint=False,
            experimental_header=True,
            list_includes_pending=True,
            launcher_filter=True,
        ),
        # the version-less service the official Python SDK calls puts the version after the resource name
        ApiVersion(
            name="v1", collection="/task-status/v1", has_pending_endpoint=False, experimental_header=False, list_includes_pending=True, launcher_filter=True
        ),
    )
}


@dataclass(frozen=True)
class Page:
    """One answered page of a task listing."""

    tasks: list
    # X-Total-Count, when asked for and usable
    total: int | None
    # the server's Date header as sent, or None
    date: str | None


def path_segment(value, option: str = "id") -> str:
    """``value`` as one URL path segment; OptionError for anything that could leave or rewrite the path."""
    text = "" if value is None else str(value)
    if not text.strip():
        raise OptionError(f"{option} must not be empty")
    bad = [char for char in ("/", "\\", "?", "#", "%") if char in text]
    if bad or text in (".", "..") or ".." in text or any(ord(char) < 32 or ord(char) == 127 for char in text):
        shown = ", ".join(repr(char) for char in bad) or "a dot segment or a control character"
        raise OptionError(f"{option} {text!r} is not a task id: it contains {shown}")
    return quote(text, safe="")


def token_claims(token) -> dict:
    """The claims of a JWT access token, read without verifying it (only ISC can); {} when it is not a JWT."""
    parts = str(token or "").split(".")
    if len(parts) != 3:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return {}
    return claims if isinstance(claims, dict) else {}


class IscClient:
    """Talks to one ISC tenant for one API version.

    Takes validated settings (``_connection.client_from_params`` checks the options). Secrets (client secret, access
    tokens) are registered with a Redactor; every message that leaves the client (errors, warnings) goes through it.
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
        timeout=30.0,
        retries=5,
        warn=None,
        sleep=None,
        clock=time.monotonic,
        rate_limit=RATE_LIMIT,
        pace_file=None,
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
        # requests lets REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE override a session's verify; given with each request,
        # the module's own ca_path or validate_certs always wins (proxies still come from the environment)
        self._verify = (ca_path or True) if validate_certs else False
        self._warn = warn
        self._clock = clock
        # each try of a request has ``timeout`` seconds for its whole answer; stop() ends every request at once
        self._deadlines = Deadlines(timeout)
        sleep = sleep or self._sleep
        # rate_limit (count, seconds) paces new requests below the tenant's limit; None leaves only the hold after a 429
        self._pacer = Pacer(rate_limit, clock, sleep)
        # the window the previous module run of this client left (pace_file: a PaceFile, or None for none)
        self._pace_file = pace_file if rate_limit else None
        if self._pace_file is not None:
            self._pacer.preload(self._pace_file.load(clock, self.warn))
        self._session = self._new_session(make_retry(retries, self.warn, self._pacer))
        # writes that are no PATCH (an aggregation's launch is a POST, like the token request) go through a session
        # that repeats them only where they cannot have been applied
        self._write_session = self._new_session(make_retry(retries, self.warn, self._pacer, write=True))

    @staticmethod
    def _new_session(retry):
        session = requests.Session()
        adapter = DeadlineAdapter(max_retries=retry, pool_maxsize=MAX_PARALLEL_REQUESTS)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        session.headers.update({"Accept": "application/json", "User-Agent": "sailpoint.isc-ansible"})
        return session

    def close(self):
        """Leave this run's window for the next run of the same client, and release the connections."""
        if self._pace_file is not None:
            self._pace_file.save(self._pacer.starts(), self._clock, self.warn)
        self._session.close()
        self._write_session.close()

    def stop(self):
        """End every request of this client now, from any thread: those in flight and any later one fail at once."""
        self._deadlines.stop()

    def _sleep(self, seconds):
        # a backoff or a hold after 429 ends early when the client is stopped
        if self._deadlines.stopped.wait(seconds):
            raise Stopped("the client was stopped")

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
        if not isinstance(token, str) or not token.strip():
            raise ServerAnswerError(self._blame("POST", path, response, "an answer without an access_token"), status=response.status_code)
        self.redactor.add(token)
        self._token = token
        self._token_expires_at = self._expiry(body.get("expires_in"))

    def _expiry(self, expires_in):
        """When a fetched token must be renewed; None (use it until refused) when ISC named no usable lifetime."""
        try:
            lifetime = float(expires_in)
        except (TypeError, ValueError, OverflowError):
            lifetime = 0.0
        if not math.isfinite(lifetime) or lifetime <= 0 or lifetime > MAX_TOKEN_LIFETIME:
            if expires_in is not None:
                self.warn(
                    f"ISC answered the token request with expires_in {self.redactor.excerpt(str(expires_in), 40)!r}, which is no lifetime; "
                    "the token is used until ISC refuses it"
                )
            return None
        return self._clock() + lifetime - min(TOKEN_MARGIN, lifetime / 2)

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

    def claims(self) -> dict:
        """The current token's claims ({} when it is no JWT); fetches a token when none is held yet."""
        return token_claims(self._current_token())

    # ---- HTTP

    def _send(self, method, path, params=None, data=None, json_body=None, headers=None, token=None, write=False):
        """One request (urllib3 retries included), with ``token`` if given; TransportError when no HTTP answer arrives.

        ``write``: a request that must not be repeated where it may have been applied."""
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if self.version.experimental_header:
            all_headers["X-SailPoint-Experimental"] = "true"
        body = json.dumps(json_body) if json_body is not None else data
        scope = self._deadlines.request()
        session = self._write_session if write else self._session
        try:
            # ISC counts the API calls made with a token; the token request itself is no API call of a version
            self._pacer.before_request(counted=token is not None)
            with scope:
                return session.request(method, self.base_url + path, params=params, data=body, headers=all_headers, timeout=self._timeout, verify=self._verify)
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(method, path, exc, too_slow=scope.deadline.expired) from None
        except Stopped:
            raise TransportError(f"{method} {path}: stopped before {self.base_url} answered") from None
        except OSError as exc:
            # requests' own check of a CA bundle that went missing or bad after the settings were checked
            raise TransportError(self.redactor.text(f"{method} {path}: could not set up the connection to {self.base_url} ({exc})"), maybe_sent=False) from None

    def _transport_error(self, method, path, exc, too_slow=False):
        cause = _root_cause(exc)
        text = str(cause)
        where = f"{method} {path}"
        # a request that left may have been applied; one that never connected cannot have been
        sent = not (isinstance(exc, requests.exceptions.SSLError) or _connect_failure(exc))
        if self._deadlines.stopped.is_set():
            message = f"{where}: stopped before {self.base_url} answered"
        elif too_slow:
            message = (
                f"{where}: the answer from {self.base_url} was too slow: not complete within timeout {self._timeout}s "
                "(connecting, headers and body together); the server or a proxy on the way sends too slowly"
            )
        elif isinstance(exc, requests.exceptions.SSLError):
            if any(marker in text.lower() for marker in ("wrong version number", "record layer failure", "unknown protocol", "http request")):
                message = f"{where}: {self.base_url} does not speak TLS on that port ({cause}); check the scheme of base_url (http or https) and its port"
            elif self._verify is not True:
                message = (
                    f"{where}: TLS verification failed for {self.base_url} ({cause}); the CA bundle in ca_path does not vouch for its certificate: "
                    "set ca_path to the bundle of the CA that signed it"
                )
            else:
                message = (
                    f"{where}: TLS verification failed for {self.base_url} ({cause}); if a private CA signed its certificate, "
                    "set ca_path to that CA's PEM bundle"
                )
        elif (
            isinstance(exc, requests.exceptions.ChunkedEncodingError)
            or "incompleteread" in text.lower().replace(" ", "")
            or "connection broken" in text.lower()
        ):
            message = f"{where}: the answer from {self.base_url} was cut short ({cause}); the server or a proxy on the way broke it off"
        elif isinstance(exc, requests.exceptions.ProxyError):
            message = f"{where}: the proxy refused or failed the connection to {self.base_url} ({cause}); check HTTPS_PROXY, HTTP_PROXY and NO_PROXY"
        elif isinstance(exc, requests.exceptions.Timeout) or isinstance(cause, TimeoutError) or "timed out" in text:
            message = f"{where}: no answer within timeout {self._timeout}s from {self.base_url}"
        elif _name_not_resolved(text):
            message = f"{where}: the host of {self.base_url} does not resolve ({cause}); check base_url or tenant for a typing error, and the proxy settings"
        elif "refused" in text.lower():
            message = (
                f"{where}: nothing accepts connections at {self.base_url} ({cause}); check base_url or tenant, its port and scheme, and the proxy settings"
            )
        else:
            message = f"{where}: could not reach {self.base_url} ({cause})"
        return TransportError(self.redactor.text(message), maybe_sent=sent)

    def request(self, method, path, params=None, json_body=None, headers=None, data=None, write=False):
        """An authenticated request to ``path`` below the API root; the response, or a typed IscError.

        ``write``: a POST that must not be repeated where it may have been applied (as a PATCH never is)."""
        token = self._current_token()
        sent = dict(params=params, data=data, json_body=json_body, headers=headers, write=write)
        response = self._send(method, path, token=token, **sent)
        if response.status_code == 401 and self._can_refresh():
            # the token expired or was revoked early: one fresh token, one more try (ISC applied nothing it refused)
            self.warn(f"{method} {path} got HTTP 401; fetching a new access token and trying once more")
            token = self._renewed_token(token)
            response = self._send(method, path, token=token, **sent)
        if response.status_code >= 400:
            raise error_from_response(method, path, response.status_code, response.text, self.redactor)
        return response

    def _blame(self, method, path, response, what):
        # masked whole before it is cut and quoted: a secret cut in two, or with its quotes escaped, is not recognised
        quoted = self.redactor.excerpt(response.text, QUOTED_BODY) if response is not None else ""
        return self.redactor.text(f"{method} {path}: ISC answered HTTP {response.status_code} with {what}, which is not what its API specifies: {quoted!r}")

    def _json(self, response, method, path, expect=None, masked=False):
        """The JSON body of an answer (None for an empty one), of type ``expect`` when given; ServerAnswerError else.

        ``masked``: every secret is masked in the body's text before it is decoded, which costs one scan of the text
        instead of a walk over every string of the decoded tasks.
        """
        if response.status_code == 204 or not response.content:
            return None
        text = response.text
        try:
            if masked:
                body = self._masked_json(text)
            else:
                body = json.loads(text)
        except (ValueError, RecursionError):
            raise ServerAnswerError(self._blame(method, path, response, "a body that is not JSON"), status=response.status_code) from None
        if expect is not None and not isinstance(body, expect):
            kind = "a list" if expect is list else "an object"
            raise ServerAnswerError(self._blame(method, path, response, f"JSON that is not {kind}"), status=response.status_code)
        return body

    def _masked_json(self, text):
        masked = self.redactor.text(text)
        # the redactor hands back the very same string when it masked nothing
        if masked is text:
            return json.loads(text)
        try:
            return json.loads(masked)
        except ValueError:
            # a secret spelled across JSON syntax: decode as sent, then mask string by string
            return self.redactor.data(json.loads(text))

    def _task(self, body, method, path, response):
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise ServerAnswerError(self._blame(method, path, response, "a task without an id"), status=response.status_code)
        return body

    # ---- task statuses

    def _operation_path(self, operation):
        if operation == "list":
            return self.version.collection
        if operation == "pending":
            if not self.version.has_pending_endpoint:
                raise OptionError(f"api_version {self.version.name} has no pending-tasks operation")
            return self.version.collection + "/pending-tasks"
        raise ValueError(f"unknown operation {operation!r}")

    def get_object(self, path, what="an object", id_required=True) -> dict:
        """The JSON object at ``path`` (with a string ``id`` unless told otherwise), secrets masked; ServerAnswerError
        for anything else, NotFoundError on 404."""
        response = self.request("GET", path)
        return self._object(response, "GET", path, what, id_required)

    def post_form(self, path, fields=None, what="an object") -> dict:
        """A write sent as ``multipart/form-data`` (ISC's aggregation launches), always a well-formed body even without
        fields; repeated only where it cannot have been applied (HTTP 429 or 503, a connection that never opened)."""
        body, content_type = multipart_body(fields or {})
        response = self.request("POST", path, data=body, headers={"Content-Type": content_type}, write=True)
        return self._object(response, "POST", path, what, id_required=False)

    def post(self, path, what="an object") -> dict:
        """A POST without a body whose repetition does no harm (a connection test); its JSON object answer."""
        response = self.request("POST", path)
        return self._object(response, "POST", path, what, id_required=False)

    def iter_objects(self, path, query=None, max_results=None, what="objects"):
        """Pages of another of ISC's list operations (sources): objects with a string ``id``, up to 250 a page, until
        a short page, X-Total-Count or ``max_results``; secrets already masked."""
        offset, total = 0, None
        while max_results is None or offset < max_results:
            limit = PAGE_SIZE if max_results is None else min(PAGE_SIZE, max_results - offset)
            page_query = dict(query or {}, limit=limit, offset=offset, **({"count": "true"} if offset == 0 else {}))
            response = self.request("GET", path, params=page_query)
            page = self._json(response, "GET", path, list, masked=True)
            if page is None or not all(isinstance(item, dict) and isinstance(item.get("id"), str) for item in page):
                raise ServerAnswerError(self._blame("GET", path, response, f"something other than a list of {what} with ids"), status=response.status_code)
            total = _total(response) if offset == 0 else total
            yield page
            offset += len(page)
            if len(page) < limit or (total is not None and offset >= total):
                return

    def _object(self, response, method, path, what, id_required):
        body = self._json(response, method, path, dict, masked=True)
        if body is None:
            raise ServerAnswerError(self._blame(method, path, response, f"an empty body where {what} belongs"), status=response.status_code)
        if id_required and not isinstance(body.get("id"), str):
            raise ServerAnswerError(self._blame(method, path, response, f"{what} without an id"), status=response.status_code)
        return body

    def get_task(self, task_id) -> dict:
        """One TaskStatus; NotFoundError on 404."""
        path = f"{self.version.collection}/{path_segment(task_id)}"
        response = self.request("GET", path)
        return self._task(self._json(response, "GET", path, dict), "GET", path, response)

    def patch_task(self, task_id, operations: list) -> dict:
        """Apply RFC 6902 operations; ConflictError on a failed test, ForbiddenError without the right."""
        path = f"{self.version.collection}/{path_segment(task_id)}"
        response = self.request("PATCH", path, json_body=operations, headers={"Content-Type": "application/json-patch+json"})
        return self._task(self._json(response, "PATCH", path, dict), "PATCH", path, response)

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

    def read_page(self, operation="list", filters=None, sorters=None, limit=PAGE_SIZE, offset=0, count=False) -> Page:
        """One page of an operation (``list`` or ``pending``): its TaskStatus dicts (every secret already masked), the
        X-Total-Count when ``count`` and ISC sent a usable one, and the server's Date header."""
        path = self._operation_path(operation)
        query = dict(self._query(operation, filters, sorters), limit=limit, offset=offset, **({"count": "true"} if count else {}))
        response = self.request("GET", path, params=query)
        if response.status_code != 204 and not response.content:
            raise ServerAnswerError(self._blame("GET", path, response, "an empty body where a list of tasks belongs"), status=response.status_code)
        tasks = self._json(response, "GET", path, list, masked=True) or []
        if not all(isinstance(task, dict) and isinstance(task.get("id"), str) and task["id"] for task in tasks):
            raise ServerAnswerError(self._blame("GET", path, response, "a list holding something other than tasks with an id"), status=response.status_code)
        return Page(tasks, _total(response) if count else None, response.headers.get("Date"))

    def iter_pages(self, filters=None, sorters=None, max_results=None, operation="list", page_size=PAGE_SIZE):
        """Lists of TaskStatus dicts, a page at a time: up to ``page_size`` each, stopping on a short page or at
        X-Total-Count. Every secret the client knows is already masked in them."""
        offset, total = 0, None
        while max_results is None or offset < max_results:
            limit = page_size if max_results is None else min(page_size, max_results - offset)
            # the first page also asks for the total, which saves the empty last page when it is a multiple of the size
            page = self.read_page(operation, filters, sorters, limit, offset, count=offset == 0)
            if offset == 0:
                total = page.total
            yield page.tasks
            offset += len(page.tasks)
            if len(page.tasks) < limit or (total is not None and offset >= total):
                return

    def iter_tasks(self, filters=None, sorters=None, max_results=None, operation="list"):
        """TaskStatus dicts one by one, read page by page (stop reading early by stopping the iteration)."""
        for page in self.iter_pages(filters, sorters, max_results, operation):
            yield from page

    def list_tasks(self, filters=None, sorters=None, max_results=None, operation="list") -> list:
        """Every TaskStatus of an operation (``list`` or ``pending``), up to ``max_results``."""
        return list(self.iter_tasks(filters, sorters, max_results, operation))

    def count_tasks(self, filters=None, operation="list") -> int:
        """The server's X-Total-Count; HEAD on pending-tasks, a one-item GET on the list."""
        path = self._operation_path(operation)
        query = dict(self._query(operation, filters, None), count="true", limit=1, offset=0)
        method = "HEAD" if operation == "pending" else "GET"
        response = self.request(method, path, params=query)
        total = _total(response)
        if total is None:
            raise ServerAnswerError(self._blame(method, path, response, "no usable X-Total-Count header"), status=response.status_code)
        return total


def multipart_body(fields: dict) -> tuple:
    """``(body, content type)`` of a ``multipart/form-data`` request holding ``fields`` (name -> text), with a fresh
    boundary; with no field it is the closing boundary alone, as SailPoint's SDKs send it (ISC answers HTTP 500 to a
    multipart request without a boundary)."""
    return encode_multipart_formdata(fields)


def _root_cause(exc):
    """The urllib3 reason inside requests' wrapping, which otherwise repeats the whole URL and "Max retries"."""
    cause = exc.args[0] if exc.args else exc
    return getattr(cause, "reason", None) or cause


def _name_not_resolved(text):
    lowered = text.lower()
    return any(marker in lowered for marker in ("name or service not known", "nodename nor servname", "failed to resolve", "name resolution", "getaddrinfo"))


def _connect_failure(exc):
    """Whether the request never reached the server: refused, unresolved, or the connection never opened."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    text = str(_root_cause(exc)).lower()
    return isinstance(exc, requests.exceptions.ConnectionError) and (
        "newconnectionerror" in text or "failed to establish" in text or "refused" in text or _name_not_resolved(text)
    )


def _total(response):
    value = response.headers.get("X-Total-Count")
    try:
        total = int(value) if value is not None else None
    except ValueError:
        return None
    return total if total is None or total >= 0 else None
