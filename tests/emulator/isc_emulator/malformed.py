"""The malformed fault: answers a broken server, proxy or gateway gives after the request was served.

Each kind turns a successful answer into a bad one. The request itself was handled first, so a PATCH answered with
a malformed body has been applied, as happens when a proxy mangles the response of a service that did the work.
"""

from __future__ import annotations

import json

from isc_emulator.responses import JSON_TYPE, Response

# Answers of any kind: the token endpoint's and the task-status operations'.
ANY = ("not_json", "truncated", "short_body", "html_error", "html_page", "empty")
TOKEN = ("token_expires_in", "token_expires_in_huge", "token_expires_in_negative", "token_no_access_token")
TASK = ("wrong_type", "missing_fields", "wrong_field_types")
LIST = ("items_not_objects", "total_count")
KINDS = ANY + TOKEN + TASK + LIST

TASK_REQUESTS = ("list", "pending", "get", "patch")
LIST_REQUESTS = ("list", "pending")
MISSING = ("id", "created", "modified", "completed", "completionStatus")
WRONG_TYPES = {
    "id": 12345,
    "created": 1700000000000,
    "modified": ["yesterday"],
    "completed": True,
    "completionStatus": {"status": "SUCCESS"},
    "percentComplete": "fifty",
    "progress": 7,
    "messages": "none",
    "attributes": [],
    "target": "a source",
    "launcher": 5,
}
# Envoy's words when it loses the upstream: text where JSON was promised.
NOT_JSON = b"upstream connect error or disconnect/reset before headers. reset reason: connection termination"
HTML_ERROR = b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
HTML_PAGE = (
    b'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>'
    b'<body><form method="post" action="/login"><input name="username"><input name="password" type="password">'
    b"<button>Sign in</button></form></body></html>"
)


def applies(kind, request_kind, method):
    """Whether a malformed kind can spoil the answer to a request of this kind."""
    if method == "HEAD":
        # Only headers travel: of the body's kinds, none can show.
        return kind == "total_count" and request_kind in LIST_REQUESTS
    if kind in ANY:
        return True
    if kind in TOKEN:
        return request_kind == "token"
    if kind in TASK:
        return request_kind in TASK_REQUESTS
    return request_kind in LIST_REQUESTS


def spoil(kind, response):
    """A new Response: ``response`` (a successful answer) made bad in the way ``kind`` names."""
    note = "malformed:" + kind
    headers = dict(response.headers)
    body = response.body
    if kind == "not_json":
        return Response(200, (NOT_JSON,), {"Content-Type": JSON_TYPE}, note)
    if kind == "truncated":
        return Response(200, (body[: len(body) // 2],), headers, note)
    if kind == "short_body":
        # The promised length, half the bytes, then the connection closes.
        headers["Content-Length"] = str(len(body))
        spoiled = Response(200, (body[: len(body) // 2],), headers, note)
        spoiled.close = True
        return spoiled
    if kind == "html_error":
        return Response(502, (HTML_ERROR,), {"Content-Type": "text/html"}, note)
    if kind == "html_page":
        return Response(200, (HTML_PAGE,), {"Content-Type": "text/html;charset=utf-8"}, note)
    if kind == "empty":
        return Response(200, (), {"Content-Type": JSON_TYPE}, note)
    if kind == "total_count":
        headers["X-Total-Count"] = "many"
        return Response(response.status, response.chunks, headers, note)
    payload = _changed(kind, json.loads(body))
    return Response(response.status, (json.dumps(payload).encode("utf-8"),), headers, note)


def _changed(kind, payload):
    if kind == "token_expires_in":
        return dict(payload, expires_in="soon")
    if kind == "token_expires_in_huge":
        # More digits than a float holds: float() of it overflows.
        return dict(payload, expires_in=10**400)
    if kind == "token_expires_in_negative":
        return dict(payload, expires_in=-payload.get("expires_in", 750))
    if kind == "token_no_access_token":
        return {key: value for key, value in payload.items() if key != "access_token"}
    if kind == "wrong_type":
        return {"items": payload, "count": len(payload)} if isinstance(payload, list) else [payload]
    if kind == "items_not_objects":
        return [None, 42, "a task", []] + payload
    tasks = payload if isinstance(payload, list) else [payload]
    for task in tasks:
        if kind == "missing_fields":
            for key in MISSING:
                task.pop(key, None)
        else:
            task.update(WRONG_TYPES)
    return payload
