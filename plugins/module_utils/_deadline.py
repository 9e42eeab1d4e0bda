# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A deadline for each whole answer, and a way to stop a client's requests at once. Internal to this collection.

requests' ``timeout`` bounds each wait on the socket, not the answer: a server that sends one byte a second never
lets a wait run out, and holds its client as long as it likes. Here each try of a request gets ``timeout`` seconds
for all of it (connecting, the headers and the body); when they are up, its socket is shut down from a timer thread,
which ends the read that waits on it at once, and the error says that the answer was too slow. The wait between two
tries (backoff, Retry-After) is not counted.
"""

from __future__ import annotations

import socket
import threading

try:
    from requests.adapters import HTTPAdapter
    from urllib3 import connection as urllib3_connection
    from urllib3 import connectionpool
except ImportError:
    HTTPAdapter = object  # lets the classes below be defined; the client refuses to start without requests
    HAS_DEADLINE = False
else:
    HAS_DEADLINE = True

_current = threading.local()


class Stopped(ConnectionAbortedError):
    """The client was stopped (``Deadlines.stop``) before or while a request ran."""


class Deadline:
    """The deadline of the tries of one request, in the thread that sends it."""

    def __init__(self, seconds: float, stopped: threading.Event):
        self._seconds = seconds
        self._stopped = stopped
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._connections: list = []
        # whether the current (or last) try ran out of time
        self.expired = False

    def arm(self, connection) -> None:
        """Count ``connection`` in the current try, whose clock starts now unless it runs already."""
        if self._stopped.is_set():
            raise Stopped("the client was stopped")
        with self._lock:
            self._connections.append(connection)
            if self._timer is None:
                self.expired = False
                self._timer = threading.Timer(self._seconds, self.expire)
                self._timer.daemon = True
                self._timer.start()

    def disarm(self) -> None:
        """The try is over (answered, or failed before a retry): its clock stops."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._connections = None, []

    def expire(self, expired: bool = True) -> None:
        """End the current try now: every socket it uses is shut down, which wakes any read waiting on it."""
        with self._lock:
            self.expired = self.expired or expired
            connections = list(self._connections)
        for connection in connections:
            sock = getattr(connection, "sock", None)
            if sock is not None:
                try:
                    # the plain socket's shutdown: an SSL socket's own one would also drop its TLS state under the reader
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass


class Deadlines:
    """The deadlines of one client's requests in flight, so that ``stop`` can end all of them."""

    def __init__(self, seconds: float):
        self._seconds = seconds
        self._lock = threading.Lock()
        self._active: set = set()
        self.stopped = threading.Event()

    def request(self):
        """A context in which the calling thread's request runs under a fresh deadline (the context's value)."""
        return _Scope(self)

    def stop(self) -> None:
        """Stop every request of the client: those in flight end at once, later ones fail before they are sent."""
        self.stopped.set()
        with self._lock:
            active = list(self._active)
        for deadline in active:
            deadline.expire(expired=False)


class _Scope:
    def __init__(self, deadlines: Deadlines):
        self._deadlines = deadlines
        self.deadline = Deadline(deadlines._seconds, deadlines.stopped)  # pylint: disable=protected-access

    def __enter__(self) -> Deadline:
        if self._deadlines.stopped.is_set():
            raise Stopped("the client was stopped")
        with self._deadlines._lock:  # pylint: disable=protected-access
            self._deadlines._active.add(self.deadline)  # pylint: disable=protected-access
        _current.deadline = self.deadline
        return self.deadline

    def __exit__(self, *exc_info):
        _current.deadline = None
        self.deadline.disarm()
        with self._deadlines._lock:  # pylint: disable=protected-access
            self._deadlines._active.discard(self.deadline)  # pylint: disable=protected-access
        return False


def between_tries() -> None:
    """The calling thread's try failed and a retry follows: the wait before it is not counted."""
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.disarm()


def _arm(connection) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.arm(connection)


class _Armed:
    """Mixed into urllib3's connections: connecting and sending a request start the try's clock."""

    def connect(self):
        _arm(self)
        super().connect()

    def request(self, *args, **kwargs):
        _arm(self)
        return super().request(*args, **kwargs)


if HAS_DEADLINE:

    class _HTTPConnection(_Armed, urllib3_connection.HTTPConnection):
        pass

    class _HTTPSConnection(_Armed, urllib3_connection.HTTPSConnection):
        pass

    class _HTTPConnectionPool(connectionpool.HTTPConnectionPool):
        ConnectionCls = _HTTPConnection

    class _HTTPSConnectionPool(connectionpool.HTTPSConnectionPool):
        ConnectionCls = _HTTPSConnection

    _POOLS = {"http": _HTTPConnectionPool, "https": _HTTPSConnectionPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections (direct or through a proxy) run under the calling thread's deadline."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, *args, **kwargs):
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager
