"""Responses as ISC shapes them, errors included."""

from __future__ import annotations

import json
import uuid

DETAIL_CODES = {
    400: "400.1 Bad Request Content",
    403: "403 Forbidden",
    404: "404 Not found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    411: "411 Length Required",
    413: "413 Payload Too Large",
    414: "414 URI Too Long",
    415: "415 Unsupported Media Type",
    431: "431 Request Header Fields Too Large",
    500: "500.0 Internal Fault",
    502: "502 Bad Gateway",
    503: "503 Service Unavailable",
}
JSON_TYPE = "application/json;charset=utf-8"


class Response:
    """A status, headers and a body kept as chunks, so a page of stored tasks is sent without being copied into one string."""

    __slots__ = ("status", "headers", "chunks", "note", "close", "drip")

    def __init__(self, status, chunks=(), headers=None, note=None):
        self.status = status
        self.chunks = tuple(chunks)
        self.headers = headers or {}
        # Why the response was made (an injected fault, a rate limit) for the request log.
        self.note = note
        # Close the connection after sending, whatever the client asked for.
        self.close = False
        # Seconds between the bytes sent (the drip fault); 0 sends the answer at once.
        self.drip = 0.0

    @property
    def body(self):
        return b"".join(self.chunks)

    @property
    def length(self):
        return sum(len(chunk) for chunk in self.chunks)


class Drop(Exception):
    """Close the connection without answering, as a failing gateway does."""


def raw_json(status, chunks, headers=None, note=None):
    """A JSON response from already serialized pieces (bytes)."""
    merged = {"Content-Type": JSON_TYPE}
    merged.update(headers or {})
    return Response(status, chunks, merged, note)


def json_response(status, payload, headers=None, note=None):
    return raw_json(status, (json.dumps(payload, separators=(",", ":")).encode("utf-8"),), headers, note)


def json_array(status, items, headers=None):
    """A JSON array of serialized items (bytes), sent as is."""
    return raw_json(status, (b"[", b",".join(items), b"]"), headers)


def error(status, text, note=None):
    """An ErrorResponseDto; the text names the problem, never a secret."""
    payload = {
        "detailCode": DETAIL_CODES.get(status, str(status)),
        "trackingId": uuid.uuid4().hex,
        "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": text}],
        "causes": [],
    }
    return json_response(status, payload, note=note)


def unauthorized(message):
    return json_response(401, {"error": message})


def rate_limited(retry_after, note="rate_limit"):
    return json_response(429, {"message": " Rate Limit Exceeded "}, {"Retry-After": str(retry_after)}, note)
