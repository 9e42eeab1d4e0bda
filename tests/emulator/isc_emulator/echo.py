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
from urllib.parse import parse_qs

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


def _secret_middle(request, raw):
    """The offset in ``raw`` of the middle of the first secret it carries (a form's client_secret, or a bearer
    token), as sent; None when it carries none."""
    spellings = []
    if "form-urlencoded" in request.headers.get("content-type", ""):
        for secret in parse_qs(request.body.decode("utf-8", "replace")).get("client_secret", []):
            spellings.append(urllib.parse.quote_plus(secret).encode("utf-8"))
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith(("bearer ", "basic ")):
        spellings.append(authorization.split(" ", 1)[1].strip().encode("latin-1"))
    found = [(raw.find(spelling), spelling) for spelling in spellings if spelling and raw.find(spelling) >= 0]
    if not found:
        return None
    start, spelling = min(found)
    return start + len(spelling) // 2


def _placed(request, raw, encoding, before, straddle):
    """(filler, echoed bytes): ``raw``, without some of its head when needed, behind dots, so that the middle of its
    first secret, once encoded, sits at ``straddle`` characters into the body (``before``: the body's text ahead of the
    echo). The head is dropped three bytes at a time, which keeps every byte's base64 alignment."""
    middle = _secret_middle(request, raw) if straddle is not None else None
    if middle is None:
        return b"", raw
    # json.dumps's opening quote comes before the first character
    quote = 1 if encoding == "json" else 0
    for skipped in range(0, middle, 3):
        # the characters ahead of the middle once encoded (the padding of a partial base64 group left out)
        ahead = len(before) + quote + len(encode(raw[skipped:middle], encoding).rstrip(b"="))
        if ahead <= straddle:
            return b"." * (straddle - ahead), raw[skipped:]
    return b"", raw


def response(request, encodings, status=500, straddle=None):
    """The answer for one encoding, shaped as a server using it would send it, or all of them in one text.

    ``straddle``: the body offset where the middle of the first secret's spelling lands, padded with dots in front.
    """
    raw = request_bytes(request)
    note = "echo:" + "+".join(encodings)
    if len(encodings) > 1:
        body = b"".join(name.encode("ascii") + b": " + encode(raw, name) + b"\n" for name in encodings)
        return _answer(status, body, TEXT_TYPE, note, b"")
    encoding = encodings[0]
    if encoding == "json":
        # An ErrorResponseDto whose message is the request: a client that quotes the message shows it unescaped.
        payload = {
            "detailCode": DETAIL_CODES[500],
            "trackingId": "echo",
            "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": None}],
            "causes": [],
        }
        # a message is quoted decoded, so the offset that matters is the one in the decoded text
        padding, echoed = _placed(request, raw, "raw", b"", straddle)
        payload["messages"][0]["text"] = _text(padding + echoed)
        return _answer(status, json.dumps(payload).encode("ascii"), "application/json;charset=utf-8", note, padding)
    if encoding == "html":
        head = b"<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1><pre>"
        padding, echoed = _placed(request, raw, "html", head, straddle)
        return _answer(status, head + padding + encode(echoed, "html") + b"</pre></body></html>", "text/html;charset=utf-8", note, padding)
    head = b"Internal Server Error; the request was:\n"
    padding, echoed = _placed(request, raw, encoding, head, straddle)
    return _answer(status, head + padding + encode(echoed, encoding), TEXT_TYPE, note, padding)


def _answer(status, body, content_type, note, padding):
    # the filler's length, for whoever takes the echo apart again
    return Response(status, (body,), {"Content-Type": content_type, "X-Echo-Padding": str(len(padding))}, note)
