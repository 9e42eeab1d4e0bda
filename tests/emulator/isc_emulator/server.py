"""A threaded HTTP/1.1 server in front of the Emulator; it writes each response in one send for loopback speed."""

from __future__ import annotations

import http.server
import socket
import ssl
import sys
import threading

from isc_emulator.app import Request
from isc_emulator.responses import Drop, error

REASONS = {code: phrase for code, phrase in ((s.value, s.phrase) for s in http.HTTPStatus)}
MAX_BODY = 10 * 1024 * 1024


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "isc-emulator"
    sys_version = ""

    def setup(self):
        super().setup()
        # One write per response plus no Nagle: no 40 ms delayed-ACK stalls between keep-alive requests.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._write(error(400, "Request body too large"), head=False)
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        request = Request(
            self.command, path, query, {key.lower(): value for key, value in self.headers.items()}, body, self.client_address[0],
        )
        try:
            response = self.server.emulator.handle(request)
        except Drop:
            self.close_connection = True
            return
        self._write(response, head=self.command == "HEAD")

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _write(self, response, head):
        headers = {"Content-Length": str(len(response.body))}
        headers.update(response.headers)
        lines = ["HTTP/1.1 %d %s" % (response.status, REASONS.get(response.status, "Unknown"))]
        lines += ["%s: %s" % item for item in headers.items()]
        lines.append("Date: " + self.date_time_string())
        if self.close_connection:
            lines.append("Connection: close")
        payload = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(payload if head else payload + response.body)
        self.log_request(response.status)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        """Quiet: the request log on the control surface is the record, and stderr must not carry query strings."""


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, emulator):
        self.emulator = emulator
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
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
