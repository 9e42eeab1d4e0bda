"""Test helpers: an in-process emulator whose every API response is checked against SailPoint's specification."""

from __future__ import annotations

import collections
import contextlib
import datetime
import functools
import ipaddress
import json
import socket
import threading
import urllib.parse

import requests
from openapi_core import OpenAPI
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.testing import MockRequest, MockResponse

from isc_emulator import faults, multipart, sources
from isc_emulator.app import Emulator, Options
from isc_emulator.server import make_server, start_in_thread
from isc_emulator.spec import spec_path

SPEC_HOST = "https://acme.api.identitynow.com"
# Statuses the specification does not describe for an operation but the contract's Decisions or a gateway produce
# (409 for a failed JSON Patch test, 414 for a request line over the gateway's limit, 415 for a wrong content type);
# their bodies must still be ErrorResponseDtos.
UNDESCRIBED = {405, 409, 414, 415, 502, 503}
# Answers made bad on purpose (fault modes) are not the specification's to judge.
DELIBERATE = ("malformed:", "echo:")
# A watchdog for raw-socket exchanges, not a measure: a healthy answer takes milliseconds.
SOCKET_WATCHDOG = 30
ERROR_KEYS = {"detailCode", "trackingId", "messages", "causes"}


@functools.lru_cache(maxsize=None)
def openapi(spec_name):
    return OpenAPI.from_file_path(str(spec_path(spec_name)))


class ContractChecker:
    """Validates each (request, response) the emulator produces; failures are kept for the fixture to report."""

    def __init__(self):
        self.failures = []
        self.checked = collections.Counter()
        self.lock = threading.Lock()

    def spec_call(self, path):
        """(spec name, path as the spec's server sees it) for an API path, or None for token/control paths."""
        parts = path.strip("/").split("/")[1:]
        if len(parts) >= 2 and parts[0] in ("beta", "v2024", "v2025", "v2026") and parts[1] == "task-status":
            return parts[0], "/" + "/".join(parts)
        if parts[:2] == ["task-status", "v1"]:
            return "v1", "/" + "/".join(parts)
        located = sources.locate(parts)
        return sources.spec_call(*located) if located else None

    def check(self, request, response):
        call = self.spec_call(request.path)
        if call is None or request.path.startswith("/_control") or (response.note or "").startswith(DELIBERATE):
            return
        spec_name, spec_path_ = call
        args = urllib.parse.parse_qs(request.query, keep_blank_values=True)
        mock_request = MockRequest(SPEC_HOST, request.method.lower(), spec_path_.rstrip("/"), args={k: v[0] for k, v in args.items()})
        content_type = response.headers.get("Content-Type")
        body = b"" if request.method == "HEAD" else response.body
        try:
            openapi(spec_name).validate_response(mock_request, MockResponse(body, response.status, dict(response.headers), content_type))
        except ResponseNotFound as problem:
            if response.status not in UNDESCRIBED or set(json.loads(body)) != ERROR_KEYS:
                self._fail(request, response, problem)
        except PathError as problem:
            # A path or method the specification lacks must be refused, never served.
            if response.status not in (404, 405):
                self._fail(request, response, problem)
        except Exception as problem:  # pylint: disable=broad-except
            self._fail(request, response, problem)
        with self.lock:
            self.checked[(spec_name, response.status)] += 1

    def _fail(self, request, response, problem):
        with self.lock:
            self.failures.append("%s %s -> %d: %s" % (request.method, request.path, response.status, str(problem)[:500]))


class Running:
    """An emulator served on a free loopback port, with helpers to call it."""

    def __init__(self, emulator, server, checker):
        self.emulator = emulator
        self.server = server
        self.checker = checker
        self.info = emulator.describe(server.root_url)
        self.root = server.root_url
        self.base_url = self.info["base_url"]
        self.control_url = self.info["control_url"]
        self.session = requests.Session()

    def clients(self, tenant=None):
        if tenant is None:
            return self.info["clients"]
        return next(item["clients"] for item in self.info["tenants"] if item["name"] == tenant)

    def token(self, role="admin", tenant=None):
        client = self.clients(tenant)[role]
        base = self.base_url if tenant is None else "%s/%s" % (self.root, tenant)
        reply = self.session.post(base + "/oauth/token", data={"grant_type": "client_credentials", **{k: client[k] for k in ("client_id", "client_secret")}})
        reply.raise_for_status()
        return reply.json()["access_token"]

    def api(self, role="admin", tenant=None):
        return ApiClient(self, self.token(role, tenant), self.base_url if tenant is None else "%s/%s" % (self.root, tenant))

    def control(self, method, call, payload=None, **params):
        reply = self.session.request(method, "%s/%s" % (self.control_url, call), json=payload, params=params)
        assert reply.status_code == 200, reply.text
        return reply.json()


class ApiClient:
    def __init__(self, running, token, base_url):
        self.running = running
        self.token = token
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = "Bearer " + token

    def url(self, version, tail=""):
        prefix = "/task-status/v1" if version == "v1" else "/%s/task-status" % version
        return self.base_url + prefix + tail

    def get(self, version, tail="", **params):
        return self.session.get(self.url(version, tail), params=params)

    def head(self, version, tail="", **params):
        return self.session.head(self.url(version, tail), params=params)

    def patch(self, version, task_id, operations, content_type="application/json-patch+json"):
        data = operations if isinstance(operations, (bytes, str)) else json.dumps(operations)
        return self.session.patch(self.url(version, "/" + task_id), data=data, headers={"Content-Type": content_type})

    def source_url(self, version, tail):
        """/v2025/sources/x, or /sources/v1/x for v1: ``tail`` starts at the resource (sources/x)."""
        head, _slash, rest = tail.partition("/")
        if version == "v1":
            return "%s/%s/v1%s" % (self.base_url, head, "/" + rest if rest else "")
        return "%s/%s/%s" % (self.base_url, version, tail)

    def source_get(self, version, tail, **params):
        return self.session.get(self.source_url(version, tail), params=params, headers={"X-SailPoint-Experimental": "true"})

    def source_post(self, version, tail, fields=None, content_type=None, body=None):
        """A POST with a well-formed multipart body of ``fields``, unless content_type/body say otherwise."""
        if body is None:
            form_type, body = multipart.encode(fields or {})
            content_type = content_type or form_type
        headers = {"Content-Type": content_type} if content_type else {}
        return self.session.post(self.source_url(version, tail), data=body, headers=headers)

    def all(self, version, **params):
        reply = self.get(version, limit=250, **params)
        assert reply.status_code == 200, reply.text
        return reply.json()


def checked(emulator, checker):
    original = emulator.handle

    def handle(request):
        response = original(request)
        checker.check(request, response)
        return response

    emulator.handle = handle
    return emulator


@contextlib.contextmanager
def running_emulator(
    tasks=60,
    pending=3,
    stuck=5,
    tenants=("acme",),
    state=None,
    rate_limit=None,
    validate_requests=False,
    tls=None,
    handshake_timeout=10,
    options=None,
    **fault_settings,
):
    """``tls``: (certificate path, key path) to serve HTTPS; ``options``: more Options fields."""
    checker = ContractChecker()
    options = Options(
        tasks=tasks,
        pending=pending,
        stuck=stuck,
        tenants=tenants,
        state=state,
        faults=faults.FaultConfig(rate_limit=rate_limit, **fault_settings),
        validate_requests=validate_requests,
        **(options or {}),
    )
    emulator = checked(Emulator(options), checker)
    server = make_server(emulator, tls_cert=tls[0] if tls else None, tls_key=tls[1] if tls else None, handshake_timeout=handshake_timeout)
    start_in_thread(server)
    try:
        yield Running(emulator, server, checker)
    finally:
        server.shutdown()
        server.server_close()
        emulator.close()
    assert not checker.failures, "responses that break the specification:\n" + "\n".join(checker.failures)


def exchange(port, data, half_close=False):
    """Send raw bytes to the emulator and read one answer: (status line, headers, body); status line b"" if none.

    The answer is read by its Content-Length, or to the end of the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=SOCKET_WATCHDOG) as sock:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        return read_answer(sock)


def read_answer(sock):
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        if not chunk:
            return received.split(b"\r\n", 1)[0], {}, b""
        received += chunk
    head, body = received.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _colon, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return lines[0].encode("latin-1"), headers, body


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1: (certificate path, key path)."""
    # pylint: disable=import-outside-toplevel
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path
