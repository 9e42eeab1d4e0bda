"""A lean threaded HTTP/1.1 server in front of the Emulator.

http.server's handler parses headers with the email package and writes in pieces; at a thousand pages a second
that parsing alone costs a quarter of a millisecond per request, so this handler reads the few things the
emulator needs and sends each response with one scatter-gather call.
"""

from __future__ import annotations

import email.utils
import http
import re
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback

from isc_emulator.app import Request
from isc_emulator.faults import MAX_URL_LENGTH_CEILING
from isc_emulator.responses import Drop, Response, error

REASONS = {status.value: status.phrase for status in http.HTTPStatus}
MAX_LINE = MAX_URL_LENGTH_CEILING
MAX_HEADERS = 100
MAX_BODY = 10 * 1024 * 1024
SEND_BUFFER = 1024 * 1024
IDLE_TIMEOUT = 300
# How long a TLS client may take to start and finish its handshake; it holds only its own thread meanwhile.
HANDSHAKE_TIMEOUT = 10
# After refusing a request, read what the client still sends for this long (or this much) before closing, so that
# closing with unread data does not reset the connection and destroy the answer before the client reads it.
LINGER_SECONDS = 2
LINGER_BYTES = 64 * 1024 * 1024
TLS_HANDSHAKE_RECORD = b"\x16"
CONTENT_LENGTH = re.compile(r"[0-9]{1,15}")


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
            header = self.rfile.readline(MAX_LINE + 1)
            if header in (b"\r\n", b"\n", b""):
                return parts, headers, len(line.rstrip(b"\r\n"))
            name, colon, value = header.decode("latin-1").partition(":")
            if not colon or len(header) > MAX_LINE:
                raise BadHttp(400, "Malformed header line")
            key = name.strip().lower()
            headers[key] = headers[key] + ", " + value.strip() if key in headers else value.strip()
        raise BadHttp(431, "Too many headers")

    def _read_body(self, headers):
        if "transfer-encoding" in headers:
            raise BadHttp(411, "Send a Content-Length; chunked and other transfer codings are not supported")
        text = headers.get("content-length", "0").strip()
        # Digits only: int() would take a sign, spaces, underscores and other scripts' digits; and one value only.
        if not CONTENT_LENGTH.fullmatch(text):
            raise BadHttp(400, "Bad Content-Length %r: one decimal number of bytes is needed" % text[:40])
        length = int(text)
        if length > MAX_BODY:
            raise BadHttp(413, "Request body too large: %d bytes; at most %d" % (length, MAX_BODY))
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            # The client stopped sending (it may still read): say why instead of closing in silence.
            raise BadHttp(400, "The body ended after %d of the %d bytes Content-Length announced" % (len(body), length))
        return body

    def _one(self):
        """Serve one request; False when the connection should close."""
        try:
            head = self._read_head()
            if head is None:
                return False
            (method, target, version), headers, line_length = head
            body = self._read_body(headers)
        except BadHttp as problem:
            self._refuse(error(problem.status, str(problem)))
            return False
        connection = headers.get("connection", "").lower()
        keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        path, _separator, query = target.partition("?")
        request = Request(method, path, query, headers, body, self.client_address[0], line_length=line_length)
        try:
            response = self.server.emulator.handle(request)
        except Drop:
            return False
        except Exception:  # pylint: disable=broad-except
            # A bug in the emulator: the client still gets an answer, and the traceback goes where a developer looks.
            self.server.internal_errors += 1
            traceback.print_exc(file=sys.stderr)
            response = error(500, "The emulator failed on this request (see its standard error)", note="internal")
        close = response.close or not keep_alive
        self._send(response, head=method == "HEAD", close=close)
        return not close

    def _refuse(self, response):
        """Answer a request that could not be read, then close without resetting the connection."""
        self._send(response, head=False, close=True)
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(LINGER_SECONDS)
            drained = 0
            while drained < LINGER_BYTES:
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass

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
        if response.drip:
            self._drip(b"".join(chunks), response.drip)
            return
        self._send_chunks(chunks)

    def _drip(self, data, pause):
        """Send ``data`` a byte at a time, ``pause`` seconds apart, until it is sent or the client has gone."""
        for index in range(len(data)):
            try:
                self.connection.sendall(data[index : index + 1])
            except OSError:
                return
            self.server.emulator.sleep(pause)

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

    def __init__(self, address, emulator, tls_context=None, handshake_timeout=HANDSHAKE_TIMEOUT):
        self.emulator = emulator
        self.tls_context = tls_context
        self.handshake_timeout = handshake_timeout
        # Requests the emulator failed on (answered 500); the hostile-request tests expect none.
        self.internal_errors = 0
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, Handler)

    def finish_request(self, request, client_address):
        """Runs in the connection's own thread: the TLS handshake happens here, never in the accepting thread."""
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(self.handshake_timeout)
        try:
            first = request.recv(1, socket.MSG_PEEK)
            if not first:
                return
            if first != TLS_HANDSHAKE_RECORD:
                PlainOnTlsHandler(request, client_address, self)
                return
            secure = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(secure, client_address, self)
        finally:
            self.shutdown_request(secure)

    def handle_error(self, request, client_address):
        if sys.exc_info()[0] in (ConnectionResetError, BrokenPipeError, ssl.SSLError, TimeoutError):
            return
        super().handle_error(request, client_address)

    @property
    def root_url(self):
        host, port = self.server_address[:2]
        scheme = "https" if self.tls_context is not None else "http"
        return "%s://%s:%d" % (scheme, "[%s]" % host if ":" in host else host, port)


class PlainOnTlsHandler(Handler):
    """Plain HTTP sent to the TLS port gets a plain answer saying so, as web servers do, instead of silence."""

    def _one(self):
        try:
            self._read_head()
        except BadHttp:
            pass
        self._refuse(error(400, "The plain HTTP request was sent to an HTTPS port; use https://"))
        return False


def make_server(emulator, host="127.0.0.1", port=0, tls_cert=None, tls_key=None, handshake_timeout=HANDSHAKE_TIMEOUT):
    context = None
    if tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(tls_cert, tls_key)
    return Server((host, port), emulator, context, handshake_timeout)


def start_in_thread(server):
    """For tests: serve in a daemon thread; call server.shutdown() to stop."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return thread
