"""A small HTTPS forward proxy for tests: CONNECT tunnels to loopback addresses only, each one counted.

Clients find it the way they find a corporate proxy, through HTTPS_PROXY; it answers CONNECT host:port with
"200 Connection established" and relays bytes both ways, so TLS runs end to end between the client and the
server and the proxy sees no plaintext. Any other method gets 405, and a CONNECT to anything but a loopback
address gets 403: a test that is routed wrongly never leaves the machine. Standard library only.

    proxy = ForwardProxy().start()      proxy.url -> "http://127.0.0.1:PORT"
    proxy.connects                      ["127.0.0.1:8443", ...], one entry per tunnel opened, in order
    proxy.stop()

Command line: `python forward_proxy.py [--port N]` prints {"url": ...} on one line, then one line per CONNECT.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import socketserver
import sys
import threading

MAX_HEAD = 65536
RELAY_CHUNK = 65536
CONNECT_TIMEOUT = 10


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


class _Handler(socketserver.StreamRequestHandler):
    # Unbuffered: whatever the client sends after the CONNECT head belongs to the tunnel, not to a read buffer.
    rbufsize = 0

    def handle(self):
        head = self.rfile.readline(MAX_HEAD)
        # The headers that follow are for the proxy, and this one needs none of them.
        while True:
            line = self.rfile.readline(MAX_HEAD)
            if line in (b"\r\n", b"\n", b""):
                break
        parts = head.decode("latin-1").split()
        if len(parts) != 3 or parts[0] != "CONNECT":
            self._answer(405, "only CONNECT is supported")
            return
        host, _colon, port = parts[1].rpartition(":")
        if not port.isdigit() or not _is_loopback(host):
            self._answer(403, "tunnels go to loopback addresses only")
            return
        try:
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT)
        except OSError as problem:
            self._answer(502, f"cannot reach {parts[1]}: {problem.strerror or problem}")
            return
        self.server.proxy.record(parts[1])
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self.wfile.flush()
        upstream.settimeout(None)
        self.connection.settimeout(None)
        backward = threading.Thread(target=_relay, args=(upstream, self.connection), daemon=True)
        backward.start()
        _relay(self.connection, upstream)
        backward.join()
        upstream.close()

    def _answer(self, status: int, reason: str):
        body = (reason + "\n").encode("utf-8")
        self.wfile.write(f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1") + body)


def _relay(source: socket.socket, target: socket.socket) -> None:
    """Copy bytes until the source closes, then close the target's writing side."""
    try:
        while True:
            chunk = source.recv(RELAY_CHUNK)
            if not chunk:
                break
            target.sendall(chunk)
    except OSError:
        pass
    try:
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class ForwardProxy:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, on_connect=None):
        self._server = _Server((host, port), _Handler)
        self._server.proxy = self
        self._lock = threading.Lock()
        self._on_connect = on_connect
        self.connects = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def record(self, target: str) -> None:
        with self._lock:
            self.connects.append(target)
        if self._on_connect:
            self._on_connect(target)

    def start(self) -> ForwardProxy:
        """Serve in a daemon thread."""
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    proxy = ForwardProxy(port=args.port, on_connect=lambda target: print(f"CONNECT {target}", flush=True))
    print(json.dumps({"url": proxy.url}), flush=True)
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
