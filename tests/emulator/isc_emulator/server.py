"""A lean threaded HTTP/1.1 server in front of the Emulator.

http.server's handler parses headers with the email package and writes in pieces; at a thousand pages a second
that parsing alone costs a quarter of a millisecond per request, so this handler reads the few things the
emulator needs and sends each response with one scatter-gather call.
"""

from __future__ import annotations

import email.utils
import http
import socket
import socketserver
import ssl
import sys
import threading
import time

from isc_emulator.app import Request
from isc_emulator.responses import Drop, Response, error

REASONS = {status.value: status.phrase for status in http.HTTPStatus}
MAX_LINE = 65536
MAX_HEADERS = 100
MAX_BODY = 10 * 1024 * 1024
SEND_BUFFER = 1024 * 1024
IDLE_TIMEOUT = 300


class BadHttp(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def http_date(_cache=[0, ""]):  # pylint: disable=dangerous-default-value
    """The Date header, formatted at most once a second."""
    now = int(time.time())
    if _cache[0] != now:
        _cache[1] = email.utils.formatdate(now, usegmt=True)
        _cache[0] = now
    return _cache[1]


class Handler(socketserver.StreamRequestHandler):
    timeout = IDLE_TIMEOUT

    def setup(self):
        super().setup()
        # No Nagle: a response's last small segment must not wait for the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A whole page (about 300 kB) should fit the send buffer, so the thread is free before the client has read it.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)

    def handle(self):
        try:
            while self._one():
                pass
        except (ConnectionError, TimeoutError, ssl.SSLError, OSError):
            return

    def _read_head(self):
        line = self.rfile.readline(MAX_LINE + 1)
        if not line:
            return None
        if len(line) > MAX_LINE:
            raise BadHttp(414, "Request line too long")
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadHttp(400, "Malformed request line")
        headers = {}
        for _index in range(MAX_HEADERS + 1):
            line = self.rfile.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                return parts, headers
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon or len(line) > MAX_LINE:
                raise BadHttp(400, "Malformed header line")
            key = name.strip().lower()
            headers[key] = headers[key] + ", " + value.strip() if key in headers else value.strip()
        raise BadHttp(431, "Too many headers")

    def _read_body(self, headers):
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise BadHttp(411, "Send a Content-Length; chunked bodies are not supported")
        try:
            length = int(headers.get("content-length") or 0)
        except ValueError:
            raise BadHttp(400, "Bad Content-Length") from None
        if length < 0 or length > MAX_BODY:
            raise BadHttp(413, "Request body too large")
        return self.rfile.read(length) if length else b""

    def _one(self):
        """Serve one request; False when the connection should close."""
        try:
            head = self._read_head()
            if head is None:
                return False
            (method, target, version), headers = head
            body = self._read_body(headers)
        except BadHttp as problem:
            self._send(error(problem.status, str(problem)), head=False, close=True)
            return False
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        path, _separator, query = target.partition("?")
        try:
            response = self.server.emulator.handle(Request(method, path, query, headers, body, self.client_address[0]))
        except Drop:
            return False
        self._send(response, head=method == "HEAD", close=not keep_alive)
        return keep_alive

    def _send(self, response: Response, head, close):
        headers = {"Content-Length": str(response.length)}
        headers.update(response.headers)
        lines = ["HTTP/1.1 %d %s" % (response.status, REASONS.get(response.status, "Unknown"))]
        lines += ["%s: %s" % item for item in headers.items()]
        lines.append("Date: " + http_date())
        if close:
            lines.append("Connection: close")
        chunks = [("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")]
        if not head:
            chunks.extend(response.chunks)
        self._send_chunks(chunks)

    def _send_chunks(self, chunks):
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.sendall(b"".join(chunks))
            return
        views = [memoryview(chunk) for chunk in chunks if chunk]
        while views:
            sent = self.connection.sendmsg(views)
            while sent:
                if sent >= len(views[0]):
                    sent -= len(views.pop(0))
                else:
                    views[0] = views[0][sent:]
                    sent = 0


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, emulator):
        self.emulator = emulator
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        if sys.exc_info()[0] in (ConnectionResetError, BrokenPipeError, ssl.SSLError, TimeoutError):
            return
        super().handle_error(request, client_address)

    @property
    def root_url(self):
        host, port = self.server_address[:2]
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return "%s://%s:%d" % (scheme, "[%s]" % host if ":" in host else host, port)


def make_server(emulator, host="127.0.0.1", port=0, tls_cert=None, tls_key=None):
    server = Server((host, port), emulator)
    if tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert, tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def start_in_thread(server):
    """For tests: serve in a daemon thread; call server.shutdown() to stop."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread
