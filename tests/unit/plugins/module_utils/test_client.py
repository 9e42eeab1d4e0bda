# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IscClient against a scripted fake tenant on 127.0.0.1: auth, refresh, retries, pacing, pagination, errors."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote_plus

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils import _client as client_module
from ansible_collections.sailpoint.isc.plugins.module_utils import _pacing
from ansible_collections.sailpoint.isc.plugins.module_utils._client import API_VERSIONS, IscClient, path_segment
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    OptionError,
    RateLimitedError,
    ServerAnswerError,
    ServerError,
    TransportError,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._pacing import Pacer
from ansible_collections.sailpoint.isc.tests.unit.plugins.fake_isc import FakeClock, make_task

SCRIPTED_TOKEN = "scripted-token-0123456789"
TOKEN_ANSWER = {"access_token": SCRIPTED_TOKEN, "expires_in": 750}


def _tasks(count, pending=False):
    return [make_task(number, pending=pending) for number in range(count)]


def _in_threads(count, work):
    """``work(index)`` in ``count`` threads released together, as task_status's workers share one client."""
    barrier = threading.Barrier(count)

    def run(index):
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@pytest.mark.parametrize("count, pages", [(0, 1), (1, 1), (250, 1), (251, 2), (10000, 40)])
def test_pagination_reads_every_task_with_the_fewest_pages(fake_isc, make_client, count, pages):
    fake_isc.tasks = _tasks(count)
    tasks = make_client().list_tasks()
    assert [task["id"] for task in tasks] == [task["id"] for task in fake_isc.tasks]
    gets = fake_isc.api_requests()
    assert len(gets) == pages
    assert [entry["query"]["offset"] for entry in gets] == [[str(250 * page)] for page in range(pages)]
    assert all(entry["query"]["limit"] == ["250"] for entry in gets)
    assert gets[0]["query"]["count"] == ["true"]


@pytest.mark.parametrize("count, pages", [(0, 1), (250, 2), (500, 3)])
def test_pagination_without_total_stops_on_a_short_page(fake_isc, make_client, count, pages):
    fake_isc.total_header = False
    fake_isc.tasks = _tasks(count)
    assert len(make_client().list_tasks()) == count
    assert len(fake_isc.api_requests()) == pages


@pytest.mark.parametrize("max_results, limits", [(0, []), (1, ["1"]), (260, ["250", "10"]), (5000, ["250"] * 4)])
def test_max_results_asks_only_for_what_it_needs(fake_isc, make_client, max_results, limits):
    fake_isc.tasks = _tasks(1000)
    tasks = make_client().list_tasks(max_results=max_results)
    assert len(tasks) == min(max_results, 1000)
    assert [entry["query"]["limit"][0] for entry in fake_isc.api_requests()] == limits


def test_pending_operation_and_count_use_head(fake_isc, make_client):
    fake_isc.pending = _tasks(3, pending=True)
    client = make_client()
    assert len(client.list_tasks(operation="pending")) == 3
    assert client.count_tasks(operation="pending") == 3
    assert [(entry["method"], entry["path"]) for entry in fake_isc.api_requests()] == [
        ("GET", "/beta/task-status/pending-tasks"),
        ("HEAD", "/beta/task-status/pending-tasks"),
    ]
    assert fake_isc.api_requests()[1]["query"]["count"] == ["true"]


def test_count_on_the_list_reads_one_item(fake_isc, make_client):
    fake_isc.tasks = _tasks(300)
    assert make_client(api_version="v2025").count_tasks(filters='type eq "X"') == 300
    (entry,) = fake_isc.api_requests()
    assert entry["method"] == "GET" and entry["query"]["limit"] == ["1"] and entry["query"]["filters"] == ['type eq "X"']


def test_pending_operation_refuses_filters_and_absent_endpoint(make_client):
    with pytest.raises(OptionError, match="pending-tasks"):
        make_client().list_tasks(filters='type eq "X"', operation="pending")
    with pytest.raises(OptionError, match="v2026 has no pending-tasks"):
        make_client(api_version="v2026").list_tasks(operation="pending")


def test_204_is_an_empty_page(fake_isc, make_client):
    fake_isc.script((200, {}, TOKEN_ANSWER), (204, {}, None))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    assert make_client().list_tasks(operation="pending") == []


@pytest.mark.parametrize(
    "name, path, experimental",
    [
        ("beta", "/beta/task-status/abc", None),
        ("v2024", "/v2024/task-status/abc", "true"),
        ("v2025", "/v2025/task-status/abc", "true"),
        ("v2026", "/v2026/task-status/abc", "true"),
        ("v1", "/task-status/v1/abc", None),
    ],
)
def test_each_version_has_its_path_and_header(fake_isc, make_client, name, path, experimental):
    fake_isc.tasks = [make_task(1, id="abc")]
    assert make_client(api_version=name).get_task("abc")["id"] == "abc"
    (entry,) = fake_isc.api_requests()
    assert entry["path"] == path
    assert entry["headers"].get("X-SailPoint-Experimental") == experimental


def test_patch_sends_json_patch_content_type(fake_isc, make_client):
    fake_isc.script((200, {}, TOKEN_ANSWER), (200, {}, make_task(1)))
    operations = [{"op": "replace", "path": "/completionStatus", "value": "ERROR"}]
    make_client().patch_task("abc", operations)
    entry = fake_isc.requests[-1]
    assert entry["method"] == "PATCH"
    assert entry["headers"]["Content-Type"] == "application/json-patch+json"
    assert json.loads(entry["body"]) == operations


@pytest.mark.parametrize("bad", ["a/b", "..", "a..b", "a?b", "a%2f", "a#b", "", " ", "a\nb", "a\\b"])
def test_ids_that_would_change_the_path_are_refused_before_any_request(fake_isc, make_client, bad):
    client = make_client()
    with pytest.raises(OptionError, match="^id "):
        client.get_task(bad)
    with pytest.raises(OptionError, match="^id "):
        client.patch_task(bad, [])
    assert fake_isc.requests == []


def test_path_segment_keeps_ordinary_ids():
    assert path_segment("2c9180835d2e5168015d32f890ca1581") == "2c9180835d2e5168015d32f890ca1581"
    assert path_segment("a b:c") == "a%20b%3Ac"


def test_token_is_fetched_lazily_and_reused(fake_isc, make_client):
    client = make_client()
    assert fake_isc.requests == []
    fake_isc.tasks = _tasks(2)
    client.list_tasks()
    client.get_task(fake_isc.tasks[0]["id"])
    assert fake_isc.tokens_issued == 1
    token_request = fake_isc.requests[0]
    assert token_request["path"] == "/oauth/token"
    assert token_request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in token_request["headers"]


def test_expired_token_is_refetched_once_on_401(fake_isc, make_client):
    fake_isc.tasks = _tasks(1)
    client = make_client()
    client.list_tasks()
    fake_isc.valid_tokens.clear()  # the tenant expires every token behind the client's back
    assert len(client.list_tasks()) == 1
    assert fake_isc.tokens_issued == 2
    assert any("401" in warning and "new access token" in warning for warning in client.warnings)


def test_a_second_401_after_refresh_fails_as_authentication(fake_isc, make_client):
    client = make_client()
    fake_isc.script(
        (200, {}, {"access_token": "t1", "expires_in": 750}),
        (401, {}, {"error": "JWT is expired"}),
        (200, {}, {"access_token": "t2", "expires_in": 750}),
        (401, {}, {"error": "JWT is expired"}),
    )
    with pytest.raises(AuthenticationError, match="HTTP 401: JWT is expired"):
        client.list_tasks()
    assert len(fake_isc.requests) == 4


def test_token_is_renewed_before_it_expires(fake_isc, make_client):
    now = [1000.0]
    fake_isc.expires_in = 100
    fake_isc.tasks = _tasks(1)
    client = make_client(clock=lambda: now[0])
    client.list_tasks()
    now[0] += 69  # 100 s lifetime minus the 30 s margin: still valid
    client.list_tasks()
    assert fake_isc.tokens_issued == 1
    now[0] += 2
    client.list_tasks()
    assert fake_isc.tokens_issued == 2
    assert not any("401" in warning for warning in client.warnings)


def test_concurrent_workers_fetch_exactly_one_token(fake_isc, make_client):
    fake_isc.tasks = _tasks(8)
    fake_isc.token_delay = 0.2
    client = make_client()
    _in_threads(4, lambda index: [client.get_task(task["id"]) for task in fake_isc.tasks[index::4]])
    assert fake_isc.tokens_issued == 1
    assert len(fake_isc.api_requests()) == 8
    assert {entry["headers"]["Authorization"] for entry in fake_isc.api_requests()} == {"Bearer token-1"}


def test_a_token_refused_to_several_workers_is_renewed_once(fake_isc, make_client):
    fake_isc.tasks = _tasks(4)
    client = make_client()
    client.get_task(fake_isc.tasks[0]["id"])
    fake_isc.valid_tokens.clear()
    # the four refusals are answered only once all four requests arrived, so every worker meets the 401 with token-1
    fake_isc.refusals_together = threading.Barrier(4)
    _in_threads(4, lambda index: client.get_task(fake_isc.tasks[index]["id"]))
    assert fake_isc.tokens_issued == 2
    used = [entry["headers"]["Authorization"] for entry in fake_isc.api_requests()[1:]]
    # every worker that was refused token-1 tried once more, with the one token-2
    assert used.count("Bearer token-1") == 4 and used.count("Bearer token-2") == 4 and len(used) == 8


def test_a_given_access_token_is_used_and_never_refreshed(fake_isc, make_client):
    fake_isc.valid_tokens.add("given")
    fake_isc.tasks = _tasks(1)
    client = make_client(client_id=None, client_secret=None, access_token="given")
    assert len(client.list_tasks()) == 1
    fake_isc.valid_tokens.clear()
    with pytest.raises(AuthenticationError) as error:
        client.list_tasks()
    assert fake_isc.tokens_issued == 0
    assert "given" not in error.value.message


def test_bad_client_secret_names_the_client_id_but_not_the_secret(fake_isc, make_client, fake_secret):
    wrong = fake_secret + "wrong"
    with pytest.raises(AuthenticationError) as error:
        make_client(client_secret=wrong).list_tasks()
    text = error.value.message + json.dumps(error.value.detail)
    assert "'cid'" in error.value.message and "invalid_client" in text
    for form in (wrong, quote_plus(wrong), json.dumps(wrong)[1:-1], fake_secret, quote_plus(fake_secret)):
        assert form not in text


def test_retries_honour_retry_after_and_warn(fake_isc, make_client):
    fake_isc.tasks = _tasks(2)
    fake_isc.script((429, {"Retry-After": "7"}, {"message": " Rate Limit Exceeded "}), (503, {"Retry-After": "2"}, None))
    client = make_client()
    assert len(client.list_tasks()) == 2
    assert client.sleeps == [7.0, 2.0]
    assert len(client.warnings) == 2
    assert "HTTP 429" in client.warnings[0] and "7.0s" in client.warnings[0] and "Retry-After" in client.warnings[0]


def test_retries_back_off_exponentially_with_jitter_when_no_retry_after(fake_isc, make_client):
    fake_isc.tasks = _tasks(1)
    client = make_client(retries=4)
    fake_isc.script((200, {}, TOKEN_ANSWER), (502, {}, None), (504, {}, None), (503, {}, None), (502, {}, None))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    assert len(client.list_tasks()) == 1
    # urllib3 retries the first time at once, then waits factor * 2**(n-1) plus up to BACKOFF_JITTER
    assert client.sleeps[0] == 2.0 or 2.0 <= client.sleeps[0] <= 3.0
    assert 4.0 <= client.sleeps[1] <= 5.0 and 8.0 <= client.sleeps[2] <= 9.0
    assert len(client.warnings) == 4


def test_rate_limited_after_every_retry(fake_isc, make_client):
    client = make_client(retries=2)
    fake_isc.script((200, {}, TOKEN_ANSWER), *[(429, {"Retry-After": "1"}, {"message": " Rate Limit Exceeded "})] * 3)
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    with pytest.raises(RateLimitedError, match="HTTP 429: Rate Limit Exceeded") as error:
        client.list_tasks()
    assert error.value.status == 429
    assert len(client.warnings) == 2


def test_a_hold_keeps_every_thread_until_the_longest_retry_after():
    clock = FakeClock()
    pacer = Pacer(None, clock, clock.sleep)
    pacer.hold(7)
    # another thread about to send waits for the hold, then sends at once
    assert pacer.delay() == 7
    pacer.pause(pacer.delay())
    assert clock.now == 1007 and pacer.delay() == 0
    pacer.hold(2)
    pacer.hold(1)
    # its own Retry-After of 1 s, but another thread's 429 asked for 2
    assert pacer.delay(1.0) == 2


def test_a_429_met_by_one_worker_holds_the_others(fake_isc, make_client):
    fake_isc.tasks = _tasks(1)
    task_id = fake_isc.tasks[0]["id"]
    client = make_client(rate_limit=None)
    client.get_task(task_id)
    fake_isc.script((429, {"Retry-After": "2"}, None), (429, {"Retry-After": "1"}, None))
    _in_threads(2, lambda index: client.get_task(task_id))
    # whichever 429 arrived first, the run's clock passed the longest Retry-After before both retries were answered
    assert client.fake_clock.now >= 1002
    assert len(fake_isc.api_requests()) == 1 + 2 + 2
    assert len(client.warnings) == 2


def test_while_workers_wait_out_a_429_every_request_still_gets_done(fake_isc, make_client):
    fake_isc.tasks = _tasks(1)
    task_id = fake_isc.tasks[0]["id"]
    client = make_client(rate_limit=None)
    client.get_task(task_id)
    fake_isc.script((429, {"Retry-After": "1"}, {"message": " Rate Limit Exceeded "}))
    _in_threads(4, lambda index: [client.get_task(task_id) for _unused in range(25)])
    assert len(fake_isc.api_requests()) == 1 + 100 + 1
    assert client.fake_clock.now >= 1001
    assert len(client.warnings) == 1


def _starts(count, limit, window):
    """The start times the window allows ``count`` requests sent at once at time 0."""
    starts = [0.0] * min(count, limit)
    while len(starts) < count:
        starts.append(starts[-limit] + window)
    return starts


def test_the_window_lets_no_more_than_its_limit_start_even_across_threads(fake_isc, make_client):
    fake_isc.tasks = _tasks(1)
    task_id = fake_isc.tasks[0]["id"]
    client = make_client(clock=lambda: 0.0, rate_limit=(5, 10.0))
    _in_threads(4, lambda index: [client.get_task(task_id) for _unused in range(5)])
    window = 10.0 * (1 + _pacing.RATE_WINDOW_MARGIN)
    # the clock stands still, so each API request sleeps exactly until the start it booked; the token takes no place
    expected = [start for start in _starts(20, 5, window) if start > 0]
    assert sorted(client.sleeps) == pytest.approx(expected)
    assert len(fake_isc.requests) == 21 and client.warnings == []


def test_the_window_slides_with_the_clock(fake_isc, make_client):
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    fake_isc.tasks = _tasks(1)
    task_id = fake_isc.tasks[0]["id"]
    client = make_client(clock=lambda: now[0], sleep=sleep, rate_limit=(5, 10.0))
    window = 10.0 * (1 + _pacing.RATE_WINDOW_MARGIN)
    for _unused in range(5):
        client.get_task(task_id)
    now[0] = 4.0
    client.get_task(task_id)
    assert now[0] == pytest.approx(window)  # the sixth request waited until the first left the window
    now[0] += window
    client.get_task(task_id)
    assert now[0] == pytest.approx(2 * window)  # the window had room again: no wait


def test_the_default_pace_is_isc_published_limit():
    assert _pacing.RATE_LIMIT == (100, 10.0)


def test_zero_retries_means_no_retry(fake_isc, make_client):
    client = make_client(retries=0)
    fake_isc.script((200, {}, TOKEN_ANSWER), (503, {}, None))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    with pytest.raises(ServerError):
        client.list_tasks()
    assert client.warnings == [] and client.sleeps == []


def test_dropped_connection_is_retried(fake_isc, make_client):
    fake_isc.tasks = _tasks(1)
    client = make_client()
    fake_isc.script((200, {}, TOKEN_ANSWER), (None, None, None))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    assert len(client.list_tasks()) == 1
    assert len(client.warnings) == 1


@pytest.mark.parametrize("status, retried", [(429, True), (503, True), (500, False), (502, False), (504, False)])
def test_patch_is_repeated_only_when_it_cannot_have_been_applied(fake_isc, make_client, status, retried):
    client = make_client()
    fake_isc.script((200, {}, TOKEN_ANSWER), (status, {"Retry-After": "0"}, None), (200, {}, make_task(1)))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    if retried:
        client.patch_task("abc", [])
    else:
        with pytest.raises(ServerError):
            client.patch_task("abc", [])
    assert [entry["method"] for entry in fake_isc.requests].count("PATCH") == (2 if retried else 1)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_500_on_a_read_is_retried_with_a_warning(fake_isc, make_client, method):
    fake_isc.pending = _tasks(1, pending=True)
    client = make_client()
    fake_isc.script((200, {}, TOKEN_ANSWER), (500, {}, ERROR_DTO))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    read = client.count_tasks if method == "HEAD" else client.list_tasks
    assert read(operation="pending") in (1, [fake_isc.pending[0]])
    assert [entry["method"] for entry in fake_isc.api_requests()] == [method, method]
    (warning,) = client.warnings
    assert f"{method} " in warning and "HTTP 500" in warning


def test_a_500_on_the_token_request_is_retried(fake_isc, make_client):
    fake_isc.tasks = _tasks(1)
    client = make_client()
    fake_isc.script((500, {}, ERROR_DTO))
    assert len(client.list_tasks()) == 1
    assert [entry["path"] for entry in fake_isc.requests][:2] == ["/oauth/token", "/oauth/token"]


def test_dropped_patch_is_not_repeated(fake_isc, make_client):
    client = make_client()
    fake_isc.script((200, {}, TOKEN_ANSWER), (None, None, None), (200, {}, make_task(1)))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    with pytest.raises(TransportError):
        client.patch_task("abc", [])
    assert [entry["method"] for entry in fake_isc.requests].count("PATCH") == 1


ERROR_DTO = {
    "detailCode": "400.1 Bad Request Content",
    "trackingId": "t-42",
    "causes": [],
    "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": "Invalid filter field 'foo'"}],
}


@pytest.mark.parametrize(
    "status, body, error_type, text",
    [
        (400, ERROR_DTO, BadRequestError, "Invalid filter field 'foo'"),
        (403, None, ForbiddenError, "lack the right"),
        (404, None, NotFoundError, "HTTP 404"),
        (409, dict(ERROR_DTO, detailCode="409.0 Conflict", messages=[{"text": "test failed"}]), ConflictError, "test failed"),
        (500, ERROR_DTO, ServerError, "trackingId t-42"),
    ],
)
def test_error_answers_become_typed_errors(fake_isc, make_client, status, body, error_type, text):
    client = make_client(retries=0)
    fake_isc.script((200, {}, TOKEN_ANSWER), (status, {}, body))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    with pytest.raises(error_type, match=text) as error:
        client.list_tasks(filters="foo eq 1")
    assert error.value.status == status
    assert error.value.message.startswith("GET /beta/task-status failed with HTTP")


def test_not_found_on_get(fake_isc, make_client):
    with pytest.raises(NotFoundError):
        make_client().get_task("nope")


def test_unreachable_host_is_a_transport_error(make_client):
    client = IscClient("http://127.0.0.1:9", client_id="cid", client_secret="a-long-secret", retries=3, sleep=FakeClock().sleep)
    with pytest.raises(TransportError, match="nothing accepts connections at http://127.0.0.1:9.*check base_url or tenant") as error:
        client.list_tasks()
    # a port nobody listens on stays closed: no retry, and the request cannot have been applied
    assert client.redactor and error.value.maybe_sent is False


def test_tls_failure_names_the_options(tmp_path):
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
        capture_output=True,
        check=False,
    )
    if made.returncode:
        pytest.skip("openssl is not available to make a self-signed certificate")
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.handle_request, daemon=True).start()
    client = IscClient(f"https://127.0.0.1:{server.server_address[1]}", access_token="x", retries=0)
    with pytest.raises(TransportError, match="ca_path") as raised:
        client.get_task("abc")
    # turning verification off is never the advice
    assert "validate_certs" not in raised.value.message
    server.server_close()


def test_timeout_is_a_transport_error(fake_isc, make_client):
    fake_isc.valid_tokens.add("given")
    client = make_client(client_id=None, client_secret=None, access_token="given", retries=0, timeout=0.2)
    # the server holds its answer until the client has given up, however loaded the machine is
    fake_isc.hold = threading.Event()
    try:
        with pytest.raises(TransportError, match=r"within timeout 0\.2s"):
            client.list_tasks()
    finally:
        fake_isc.hold.set()


def test_missing_requests_is_reported_with_missing_required_lib(monkeypatch):
    monkeypatch.setattr(client_module, "HAS_REQUESTS", False)
    with pytest.raises(Exception) as error:
        IscClient("http://127.0.0.1:9", access_token="x")
    assert "requests" in str(error.value) and "required" in str(error.value)


def test_versions_table():
    assert API_VERSIONS["beta"].has_pending_endpoint and not API_VERSIONS["beta"].list_includes_pending
    assert [name for name, version in API_VERSIONS.items() if version.list_includes_pending] == ["v2025", "v2026", "v1"]
    assert not API_VERSIONS["v2026"].has_pending_endpoint and "launcher" in API_VERSIONS["v2026"].filter_fields
    assert API_VERSIONS["v1"].collection == "/task-status/v1"
    assert [name for name, version in API_VERSIONS.items() if version.experimental_header] == ["v2024", "v2025", "v2026"]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """A self-signed HTTPS server on 127.0.0.1 that answers every GET with an empty task list."""
    import ssl
    import subprocess
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "k.pem", folder / "c.pem"
    made = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        capture_output=True,
        check=False,
    )
    if made.returncode:
        pytest.skip("openssl is not available to make a self-signed certificate")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802  (the name http.server calls)
            body = b"[]"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", str(cert)
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_modules_tls_options_win_over_the_environment(tls_server, monkeypatch, tmp_path, variable):
    url, cert = tls_server
    wrong = tmp_path / "wrong.pem"
    wrong.write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    monkeypatch.setenv(variable, str(wrong))
    assert IscClient(url, access_token="x", retries=0, ca_path=cert).list_tasks() == []
    assert IscClient(url, access_token="x", retries=0, validate_certs=False).list_tasks() == []
    # without an option of its own the client verifies as usual, and fails on the self-signed certificate
    with pytest.raises(TransportError, match="TLS verification failed"):
        IscClient(url, access_token="x", retries=0).list_tasks()


def test_https_on_a_plain_http_port_says_so(fake_isc):
    client = IscClient(fake_isc.url.replace("http://", "https://"), access_token="x", retries=2, sleep=FakeClock().sleep)
    with pytest.raises(TransportError, match="does not speak TLS on that port.*scheme of base_url") as error:
        client.list_tasks()
    assert "ca_path" not in error.value.message and error.value.maybe_sent is False


def test_a_host_that_does_not_resolve_fails_at_once():
    clock = FakeClock()
    client = IscClient("https://no-such-tenant.invalid", access_token="x", retries=5, sleep=clock.sleep, clock=clock)
    with pytest.raises(TransportError, match="does not resolve.*check base_url or tenant") as error:
        client.list_tasks()
    assert clock.sleeps == [] and error.value.maybe_sent is False


@pytest.mark.parametrize(
    "answer, text",
    [
        ({"access_token": "", "expires_in": 750}, "without an access_token"),
        ({"token": "x"}, "without an access_token"),
        (["not", "an", "object"], "without an access_token"),
    ],
)
def test_a_malformed_token_answer_blames_the_server(fake_isc, make_client, answer, text):
    client = make_client(retries=0)
    fake_isc.script((200, {}, answer))
    with pytest.raises(ServerAnswerError, match=f"ISC answered HTTP 200 with an answer {text}"):
        client.list_tasks()


@pytest.mark.parametrize("expires_in", ["soon", None, -5, 1e300, "nan"])
def test_a_token_lifetime_that_is_no_number_is_used_until_refused(fake_isc, make_client, expires_in):
    fake_isc.tasks = _tasks(1)
    fake_isc.expires_in = expires_in
    client = make_client()
    assert len(client.list_tasks()) == 1
    assert client._token_expires_at is None  # pylint: disable=protected-access
    assert all("expires_in" in warning for warning in client.warnings)


@pytest.mark.parametrize(
    "answer, text",
    [
        ({"id": "x"}, "JSON that is not a list"),
        ([1, 2], "a list holding something other than tasks"),
        ([{"id": "a"}, {"name": "no id"}], "a list holding something other than tasks with an id"),
        ("<html>", "JSON that is not a list"),
    ],
)
def test_a_malformed_list_blames_the_server(fake_isc, make_client, answer, text):
    client = make_client(retries=0)
    fake_isc.script((200, {}, TOKEN_ANSWER), (200, {}, answer))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    with pytest.raises(ServerAnswerError, match=text):
        client.list_tasks()


def test_a_task_without_an_id_blames_the_server(fake_isc, make_client):
    client = make_client(retries=0)
    fake_isc.script((200, {}, TOKEN_ANSWER), (200, {}, {"completionStatus": None}))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    with pytest.raises(ServerAnswerError, match="a task without an id"):
        client.get_task("abc")


def test_a_count_that_is_no_number_blames_the_server(fake_isc, make_client):
    client = make_client(retries=0)
    fake_isc.script((200, {}, TOKEN_ANSWER), (200, {"X-Total-Count": "many"}, []))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    with pytest.raises(ServerAnswerError, match="no usable X-Total-Count"):
        client.count_tasks(operation="pending")


def test_claims_of_a_jwt_are_read_and_anything_else_has_none():
    import base64

    payload = base64.urlsafe_b64encode(json.dumps({"identity_id": "i1", "authorities": ["ORG_ADMIN"]}).encode()).decode().rstrip("=")
    assert client_module.token_claims(f"h.{payload}.s") == {"identity_id": "i1", "authorities": ["ORG_ADMIN"]}
    assert client_module.token_claims("opaque-token") == {}
    assert client_module.token_claims("a.%%%.c") == {}
    assert client_module.token_claims(f"h.{base64.urlsafe_b64encode(b'[1]').decode()}.s") == {}


def test_pages_come_masked_even_when_isc_echoes_the_secret(fake_isc, make_client, fake_secret):
    fake_isc.tasks = [make_task(1, progress=f"echo {fake_secret}"), make_task(2, messages=[{"text": quote_plus(fake_secret)}])]
    tasks = make_client().list_tasks()
    assert fake_secret not in json.dumps(tasks) and quote_plus(fake_secret) not in json.dumps(tasks)
    assert tasks[0]["progress"] == "echo ********" and tasks[1]["messages"][0]["text"] == "********"


def test_the_next_run_of_a_client_starts_from_the_window_the_last_one_left(fake_isc, fake_secret, tmp_path):
    from ansible_collections.sailpoint.isc.plugins.module_utils._pacing import PaceFile

    fake_isc.tasks = _tasks(1)
    task_id = fake_isc.tasks[0]["id"]
    pace = PaceFile(fake_isc.url, "cid", "beta", folder=str(tmp_path))
    first_clock = FakeClock()
    first = IscClient(
        fake_isc.url, client_id="cid", client_secret=fake_secret, rate_limit=(5, 10.0), clock=first_clock, sleep=first_clock.sleep, pace_file=pace
    )
    for _unused in range(5):
        first.get_task(task_id)
    first.close()
    # the next module run of the same client, at once: the window is full, so its first request waits
    second_clock = FakeClock()
    second = IscClient(
        fake_isc.url, client_id="cid", client_secret=fake_secret, rate_limit=(5, 10.0), clock=second_clock, sleep=second_clock.sleep, pace_file=pace
    )
    second.get_task(task_id)
    assert len(second_clock.sleeps) == 1 and 0 < second_clock.sleeps[0] <= 10.0 * (1 + _pacing.RATE_WINDOW_MARGIN)
    # another client id, another window
    other_clock = FakeClock()
    other = IscClient(
        fake_isc.url,
        client_id="cid",
        client_secret=fake_secret,
        rate_limit=(5, 10.0),
        clock=other_clock,
        sleep=other_clock.sleep,
        pace_file=PaceFile(fake_isc.url, "other", "beta", folder=str(tmp_path)),
    )
    other.get_task(task_id)
    assert other_clock.sleeps == []


def test_a_pace_file_that_cannot_be_read_or_written_costs_nothing(tmp_path):
    from ansible_collections.sailpoint.isc.plugins.module_utils._pacing import PaceFile

    pace = PaceFile("https://acme.example", "cid", "beta", folder=str(tmp_path / "missing"))
    assert pace.load(FakeClock()) == []
    pace.save([1.0, 2.0], FakeClock())
    garbled = PaceFile("https://acme.example", "cid", "beta", folder=str(tmp_path))
    with open(garbled.path, "w", encoding="utf-8") as handle:
        handle.write("{not json")
    assert garbled.load(FakeClock()) == []
    assert "cid" not in garbled.path and "acme" not in garbled.path


def test_a_huge_token_lifetime_is_no_lifetime(fake_isc, make_client):
    fake_isc.tasks = _tasks(1)
    fake_isc.expires_in = 10**400
    client = make_client()
    assert len(client.list_tasks()) == 1 and client._token_expires_at is None  # pylint: disable=protected-access


def test_an_empty_list_answer_blames_the_server(fake_isc, make_client):
    client = make_client(retries=0)
    fake_isc.script((200, {}, TOKEN_ANSWER), (200, {}, None))
    fake_isc.valid_tokens.add(SCRIPTED_TOKEN)
    with pytest.raises(ServerAnswerError, match="an empty body where a list of tasks belongs"):
        client.list_tasks()


def test_an_answer_that_drips_fails_as_too_slow_after_the_timeout(fake_isc, make_client):
    # every byte comes well within the timeout, so only a deadline for the whole answer ends the wait
    fake_isc.drip = 0.2
    client = make_client(timeout=1, retries=0)
    started = time.monotonic()
    with pytest.raises(TransportError, match="too slow") as raised:
        client.list_tasks()
    assert "no answer" not in raised.value.message
    # a hang (the answer takes a minute at this pace) against no hang, not a measure of speed
    assert time.monotonic() - started < 20


def test_stop_ends_a_request_waiting_on_a_dripping_answer(fake_isc, make_client):
    fake_isc.drip = 0.2
    client = make_client(timeout=3600, retries=5, sleep=None)
    outcome = {}

    def read():
        try:
            client.list_tasks()
        except TransportError as error:
            outcome["error"] = error.message

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert fake_isc.dripping.wait(30)
    client.stop()
    reader.join(30)
    assert not reader.is_alive() and "stopped" in outcome["error"]
    with pytest.raises(TransportError, match="stopped"):
        client.list_tasks()
