"""The request log the control surface serves: what was asked and answered, never a secret."""

from __future__ import annotations

import collections
import threading
import urllib.parse

from isc_emulator import auth
from isc_emulator.clock import iso

SECRET_WORDS = ("secret", "token", "password", "assertion", "code", "key")
REDACTED = "REDACTED"
MAX_ENTRIES = 100_000


def redact_query(query):
    """The query string with the value of any secret-looking parameter replaced."""
    lowered = query.lower()
    if not any(word in lowered for word in SECRET_WORDS):
        return query
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    safe = [(key, REDACTED if any(word in key.lower() for word in SECRET_WORDS) else value) for key, value in pairs]
    return urllib.parse.urlencode(safe)


def _basic_client_id(authorization):
    try:
        credentials = auth.basic_credentials(authorization)
    except auth.BadClientAuth:
        return None
    return credentials[0] if credentials else None


class RequestLog:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries = collections.deque(maxlen=MAX_ENTRIES)
        self._seq = 0

    def add(self, request, tenant, response, started, note=None):
        client_id = None
        if request.path.endswith("/oauth/token"):
            client_id = urllib.parse.parse_qs(request.query).get("client_id", [None])[0]
            if client_id is None and "form-urlencoded" in request.headers.get("content-type", ""):
                client_id = urllib.parse.parse_qs(request.body.decode("utf-8", "replace")).get("client_id", [None])[0]
            if client_id is None:
                client_id = _basic_client_id(request.headers.get("authorization"))
        entry = {
            "tenant": tenant.name if tenant else None,
            "method": request.method,
            "path": request.path,
            "query": redact_query(request.query),
            "status": response.status if response else None,
            "time": started,
            "client_id": client_id or request.client_id,
            "fault": note or (response.note if response else None),
            "spec_violation": request.spec_violation,
            "kind": request.kind,
            "hooks": request.hooks,
        }
        with self._lock:
            self._seq += 1
            entry["seq"] = self._seq
            self._entries.append(entry)

    def since(self, seq=0, tenant=None):
        with self._lock:
            entries = list(self._entries)
        # Timestamps are formatted when read: the log is written on every request and read rarely.
        return [dict(entry, time=iso(int(entry["time"] * 1000))) for entry in entries if entry["seq"] > seq and (tenant is None or entry["tenant"] == tenant)]

    def count(self, tenant, client_id, start, end, method=None):
        """Requests of a client between two epoch times (start included, end not), of one method when given."""
        with self._lock:
            return sum(
                1
                for entry in self._entries
                if entry["tenant"] == tenant and entry["client_id"] == client_id and start <= entry["time"] < end and method in (None, entry["method"])
            )

    def clear(self, tenant=None):
        with self._lock:
            if tenant is None:
                self._entries.clear()
            else:
                self._entries = collections.deque((e for e in self._entries if e["tenant"] != tenant), maxlen=MAX_ENTRIES)
