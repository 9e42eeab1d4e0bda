"""Responses as ISC shapes them, errors included."""

from __future__ import annotations

import json
import uuid

DETAIL_CODES = {
    400: "400.1 Bad Request Content", 403: "403 Forbidden", 404: "404 Not found", 405: "405 Method Not Allowed",
    409: "409 Conflict", 415: "415 Unsupported Media Type", 500: "500.0 Internal Fault", 502: "502 Bad Gateway",
    503: "503 Service Unavailable",
}
JSON_TYPE = "application/json;charset=utf-8"


class Response:
    __slots__ = ("status", "headers", "body", "note")

    def __init__(self, status, body=b"", headers=None, note=None):
        self.status = status
        self.body = body
        self.headers = headers or {}
        # Why the response was made (an injected fault, a rate limit) for the request log.
        self.note = note


class Drop(Exception):
    """Close the connection without answering, as a failing gateway does."""


def raw_json(status, text, headers=None, note=None):
    merged = {"Content-Type": JSON_TYPE}
    merged.update(headers or {})
    return Response(status, text.encode("utf-8"), merged, note)


def json_response(status, payload, headers=None, note=None):
    return raw_json(status, json.dumps(payload, separators=(",", ":")), headers, note)


def error(status, text, note=None):
    """An ErrorResponseDto; the text names the problem, never a secret."""
    payload = {
        "detailCode": DETAIL_CODES.get(status, str(status)), "trackingId": uuid.uuid4().hex,
        "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": text}], "causes": [],
    }
    return json_response(status, payload, note=note)


def unauthorized(message):
    return json_response(401, {"error": message})


def rate_limited(retry_after, note="rate_limit"):
    return json_response(429, {"message": " Rate Limit Exceeded "}, {"Retry-After": str(retry_after)}, note)
