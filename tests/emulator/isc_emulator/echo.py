"""The echo fault: a 500 whose body repeats the whole request, secrets included, in a chosen encoding.

A debugging proxy or a careless error page does this; a client that quotes error bodies must mask the bearer token
and the client secret in every form they can take there. Base64 is given at three alignments (plain, and behind one
and two extra bytes) because a secret encodes differently at each position modulo three.
"""

from __future__ import annotations

import base64
import html
import json
import urllib.parse

from isc_emulator.responses import DETAIL_CODES, Response

# One byte and two bytes in front shift every later byte to each of the other two positions of a base64 triple.
OFFSET_PADDING = {"base64-offset1": b"#", "base64-offset2": b"##"}
ENCODINGS = (
    "raw",
    "urlencoded",
    "base64",
    "base64url",
    "base64-nopad",
    "base64url-nopad",
    "base64-offset1",
    "base64-offset2",
    "json",
    "html",
)
TEXT_TYPE = "text/plain;charset=utf-8"


def request_bytes(request):
    """The request as it arrived: request line, headers (names lower-cased), blank line, body."""
    target = request.path + ("?" + request.query if request.query else "")
    lines = ["%s %s HTTP/1.1" % (request.method, target)] + ["%s: %s" % item for item in request.headers.items()]
    # The server decoded the head as latin-1, so encoding it back gives the bytes that were sent.
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + request.body


def _text(raw):
    return raw.decode("utf-8", "replace")


def encode(raw, encoding):
    """The request in one encoding, as bytes."""
    if encoding == "raw":
        return raw
    if encoding == "urlencoded":
        return urllib.parse.quote_plus(raw, safe="").encode("ascii")
    if encoding == "json":
        return json.dumps(_text(raw)).encode("ascii")
    if encoding == "html":
        return html.escape(_text(raw), quote=True).encode("utf-8")
    padded = OFFSET_PADDING.get(encoding, b"") + raw
    if encoding.startswith("base64url"):
        text = base64.urlsafe_b64encode(padded)
    else:
        text = base64.b64encode(padded)
    return text.rstrip(b"=") if encoding.endswith("-nopad") else text


def response(request, encodings):
    """The 500 answer for one encoding, shaped as a server using it would send it, or all of them in one text."""
    raw = request_bytes(request)
    note = "echo:" + "+".join(encodings)
    if len(encodings) > 1:
        body = b"".join(name.encode("ascii") + b": " + encode(raw, name) + b"\n" for name in encodings)
        return Response(500, (body,), {"Content-Type": TEXT_TYPE}, note)
    encoding = encodings[0]
    if encoding == "json":
        # An ErrorResponseDto whose message is the request: a client that quotes the message shows it unescaped.
        payload = {
            "detailCode": DETAIL_CODES[500],
            "trackingId": "echo",
            "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": _text(raw)}],
            "causes": [],
        }
        return Response(500, (json.dumps(payload).encode("ascii"),), {"Content-Type": "application/json;charset=utf-8"}, note)
    if encoding == "html":
        page = b"<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1><pre>%s</pre></body></html>"
        return Response(500, (page % encode(raw, "html"),), {"Content-Type": "text/html;charset=utf-8"}, note)
    return Response(500, (b"Internal Server Error; the request was:\n" + encode(raw, encoding),), {"Content-Type": TEXT_TYPE}, note)
