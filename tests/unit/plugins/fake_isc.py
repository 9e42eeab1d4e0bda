# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tiny scripted ISC on 127.0.0.1 for unit tests of the client: real sockets, no network beyond loopback.

Imported by tests as ansible_collections.sailpoint.isc.tests.unit.plugins.fake_isc (a conftest is not importable
under ansible-test); the fixtures live in tests/unit/conftest.py.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def make_task(number: int | str = "a1", pending: bool = False, **fields) -> dict:
    """A whole TaskStatus as ISC sends it: id ``number`` (an int as 32 hex digits, as ISC's ids look), completed with
    SUCCESS unless ``pending``; ``fields`` replace any of its fields."""
    task = {
        "id": f"{number:032x}" if isinstance(number, int) else number,
        "type": "QUARTZ",
        "uniqueName": "Cloud Account Aggregation",
        "description": "Aggregate",
        "parentName": None,
        "launcher": "sweep",
        "target": {"id": "src1", "type": "APPLICATION", "name": "Source"},
        "created": "2026-01-01T00:00:00.000Z",
        "modified": None,
        "launched": "2026-01-01T00:00:01.000Z",
        "completed": None if pending else "2026-01-01T00:05:00.000Z",
        "completionStatus": None if pending else "SUCCESS",
        "messages": [],
        "returns": [],
        "attributes": {"taskDefinitionName": "CLOUD_ACCOUNT_AGGREGATION"},
        "progress": None,
        "percentComplete": 0 if pending else 100,
    }
    task.update(fields)
    return task


# "/", "+", "&", "=" and "%" all change when urlencoded, '"' and "\\" when JSON-escaped
FAKE_SECRET = 's3cr3t/+&=%x"q\\'


class FakeClock:
    """A clock that stands still until someone sleeps: ``sleep`` records the seconds and moves the clock on by them.

    Retries, holds and the rate window then run at once and are measured in the time they would take.
    """

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class FakeIsc:
    """State of the fake tenant; tests change it directly."""

    def __init__(self):
        self.tasks: list[dict] = []
        self.pending: list[dict] = []
        self.requests: list[dict] = []
        self.scripted: list[tuple] = []  # (status, headers, body) answered before the normal behaviour
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.expires_in = 750
        self.total_header = True
        self.url = ""
        self.delay = 0.0
        self.token_delay = 0.0  # a slow token endpoint widens the window in which threads could race for a token
        # API answers wait until this event is set (None: they do not wait), a server that takes its time
        self.hold: threading.Event | None = None
        # requests refused for an invalid token are answered together, once this many have arrived (None: at once)
        self.refusals_together: threading.Barrier | None = None
        self.drip = 0.0  # seconds between the bytes of an answer: a server that never lets a socket read time out
        self.dripping = threading.Event()  # set when a dripped answer has begun
        self.lock = threading.Lock()  # the server answers each request in its own thread

    def script(self, *answers):
        self.scripted.extend(answers)

    def api_requests(self):
        return [entry for entry in self.requests if entry["path"] != "/oauth/token"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeIsc

    def log_message(self, *args):
        pass

    def _answer(self, status, body=None, headers=None):
        data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        if self.fake.drip:
            return self._drip(status, data)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, str(value))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _drip(self, status, data):
        answer = f"HTTP/1.1 {status} Answer\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data
        self.close_connection = True
        self.fake.dripping.set()
        for byte in answer:
            try:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
            except OSError:
                return
            time.sleep(self.fake.drip)

    def _handle(self):
        fake = self.fake
        url = urlsplit(self.path)
        url = url._replace(path=url.path.removeprefix("/acme"))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        fake.requests.append(
            {"method": self.command, "path": url.path, "query": parse_qs(url.query), "headers": dict(self.headers), "body": body, "time": time.monotonic()}
        )
        with fake.lock:
            scripted = fake.scripted.pop(0) if fake.scripted else None
        if scripted:
            status, headers, answer = scripted
            if status is None:  # drop the connection without an answer
                self.close_connection = True
                self.connection.shutdown(2)
                return
            return self._answer(status, answer, headers)
        if url.path == "/oauth/token":
            form = parse_qs(body)
            if form.get("client_secret") != [FAKE_SECRET]:
                return self._answer(401, {"error": "invalid_client", "error_description": "Bad credentials " + body})
            time.sleep(fake.token_delay)
            with fake.lock:
                fake.tokens_issued += 1
                token = f"token-{fake.tokens_issued}"
                fake.valid_tokens.add(token)
            return self._answer(200, {"access_token": token, "token_type": "bearer", "expires_in": fake.expires_in})
        if self.headers.get("Authorization", "").removeprefix("Bearer ") not in fake.valid_tokens:
            if fake.refusals_together is not None:
                fake.refusals_together.wait(30)
            return self._answer(401, {"error": "JWT validation failed: JWT is expired"})
        if fake.hold is not None:
            fake.hold.wait(30)
        time.sleep(fake.delay)
        return self._collection(url)

    def _collection(self, url):
        fake, query = self.fake, parse_qs(url.query)
        parts = url.path.split("/")
        items = fake.pending if parts[-1] == "pending-tasks" else fake.tasks
        if parts[-1] not in ("task-status", "pending-tasks", "v1"):
            match = [task for task in fake.tasks + fake.pending if task["id"] == parts[-1]]
            return self._answer(200, match[0]) if match else self._answer(404, None)
        limit, offset = int(query.get("limit", ["250"])[0]), int(query.get("offset", ["0"])[0])
        headers = {"X-Total-Count": len(items)} if query.get("count") == ["true"] and fake.total_header else {}
        return self._answer(200, items[offset : offset + limit], headers)

    do_GET = do_HEAD = do_POST = do_PATCH = _handle


def serve(fake: FakeIsc) -> ThreadingHTTPServer:
    """Serve ``fake`` on a free loopback port, in a daemon thread; sets ``fake.url``."""
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.handle_error = lambda request, address: None  # a client that timed out leaves a broken pipe behind
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/acme"
    return server
