# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find a secret in any text, in any encoding a server, a logger or a report could have put it in.

    find_secret(text_or_bytes, secrets) -> [(encoding, offset), ...]

The collection's own redactor decides what to mask; this scanner is written independently of it, so that a form
the redactor forgets is still found here. It looks for each secret:

- as it is, urlencoded (``quote``, ``quote_plus``, upper- or lower-case escapes), JSON-escaped (ASCII or not),
  HTML-escaped, and the combinations a server echo produces (the JSON or HTML of a urlencoded form body);
- base64-encoded (standard and URL-safe alphabets, with or without padding) inside a larger encoded text, at each
  of the three byte alignments: only the characters that the secret's bytes alone decide are compared, so a
  secret in the middle of an encoded HTTP request is found wherever it sits;
- as a fragment: any run of ``FRAGMENT`` characters of the secret, which catches a secret cut off by a truncated
  message. For a JWT only its signature is looked at this way, as every JWT's header looks alike.

Offsets count characters of the text (bytes are decoded as UTF-8, undecodable bytes kept as surrogates).
"""

from __future__ import annotations

import base64
import collections
import functools
import html
import json
import re
from urllib.parse import quote, quote_plus

# a shorter run of a random secret's characters would start to match ordinary text by chance
FRAGMENT = 16
# a base64 core shorter than this says too little to be told from chance
MIN_CORE = 12
# needles at least this long are found through an index of their first characters
KEY = 12
_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)$")


def _lower_escapes(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda match: match.group(0).lower(), text)


def _text_forms(secret: str) -> dict[str, str]:
    """needle -> encoding, for every textual spelling of ``secret``."""
    forms: dict[str, str] = {}

    def add(needle: str, encoding: str) -> None:
        if needle and needle not in forms:
            forms[needle] = encoding

    add(secret, "raw")
    urlencoded = {"urlencoded": quote(secret, safe=""), "urlencoded-path": quote(secret), "urlencoded-plus": quote_plus(secret)}
    for encoding, needle in urlencoded.items():
        add(needle, encoding)
        add(_lower_escapes(needle), encoding + "-lower")
    add(json.dumps(secret)[1:-1], "json")
    add(json.dumps(secret, ensure_ascii=False)[1:-1], "json-unicode")
    add(html.escape(secret, quote=True), "html")
    add(html.escape(secret, quote=False), "html-unquoted")
    add(html.escape(secret, quote=True).replace("&#x27;", "&#39;"), "html-decimal")
    for encoding, needle in urlencoded.items():
        # a form body urlencoded once more, as a server echoing the whole request as a URL parameter does
        add(quote_plus(needle), encoding + "-twice")
        add(quote(needle, safe=""), encoding + "-twice")
        add(json.dumps(needle)[1:-1], "json-of-" + encoding)
        add(html.escape(needle), "html-of-" + encoding)
        add(quote_plus(json.dumps(secret)[1:-1]), encoding + "-of-json")
    return forms


def _base64_cores(data: bytes) -> dict[str, str]:
    """needle -> encoding: the characters of base64(prefix + data + suffix) that ``data`` alone decides."""
    cores: dict[str, str] = {}
    for alignment in range(3):
        encoded = base64.b64encode(b"\0" * alignment + data).decode("ascii")
        # a character is decided by the data alone when its 6 bits lie wholly inside the data's bits
        first = -(-(alignment * 8) // 6)
        last = (alignment + len(data)) * 8 // 6
        core = encoded[first:last]
        if len(core) < MIN_CORE:
            continue
        cores.setdefault(core, f"base64(alignment {alignment})")
        cores.setdefault(core.translate(str.maketrans("+/", "-_")), f"base64url(alignment {alignment})")
    return cores


def secret_forms(secret: str) -> dict[str, str]:
    """Every needle this scanner looks for, mapped to the name of its encoding."""
    forms = _text_forms(secret)
    needles = dict(forms)
    # a base64 echo encodes whatever text carried the secret: the raw, urlencoded or JSON-escaped form
    for needle, encoding in forms.items():
        for core, b64 in _base64_cores(needle.encode("utf-8")).items():
            needles.setdefault(core, b64 if encoding == "raw" else f"{b64} of {encoding}")
    return needles


def _fragment_source(secret: str) -> str:
    match = _JWT.match(secret)
    return match.group(1) if match else secret


@functools.lru_cache(maxsize=4096)
def _needles(secret: str) -> tuple[tuple[str, str], ...]:
    """(needle, encoding) for every full form of ``secret`` and every fragment of it."""
    needles = dict(secret_forms(secret))
    source = _fragment_source(secret)
    for start in range(len(source) - FRAGMENT + 1):
        needles.setdefault(source[start : start + FRAGMENT], "fragment")
    return tuple(needles.items())


def _as_text(text_or_bytes) -> str:
    if isinstance(text_or_bytes, bytes):
        return text_or_bytes.decode("utf-8", errors="surrogateescape")
    return str(text_or_bytes)


def _spans(text: str, needles: dict[str, str]) -> list[tuple[int, int, str]]:
    """Where each needle occurs. Long needles are looked up by their first KEY characters, and only inside runs of
    characters that needles contain, so the cost grows with the text, not with the number of secrets."""
    index: dict[str, list[str]] = collections.defaultdict(list)
    spans = []
    for needle, encoding in needles.items():
        if len(needle) >= KEY:
            index[needle[:KEY]].append(needle)
        else:
            spans.extend((match.start(), match.start() + len(needle), encoding) for match in re.finditer(re.escape(needle), text))
    if not index:
        return spans
    alphabet = "".join(sorted({char for needle in needles for char in needle}))
    runs = re.compile("[" + "".join(re.escape(char) for char in alphabet) + "]{%d,}" % KEY)
    for run in runs.finditer(text):
        for position in range(run.start(), run.end() - KEY + 1):
            for needle in index.get(text[position : position + KEY], ()):
                if text.startswith(needle, position):
                    spans.append((position, position + len(needle), needles[needle]))
    return spans


def find_secret(text_or_bytes, secrets) -> list[tuple[str, int]]:
    """Every place where one of ``secrets`` appears in ``text_or_bytes``: (encoding, offset), ordered by offset.

    A hit inside a longer hit (the raw secret inside its own JSON form, say) is reported once, as the longer one.
    """
    text = _as_text(text_or_bytes)
    needles: dict[str, str] = {}
    for secret in secrets:
        if secret:
            for needle, encoding in _needles(str(secret)):
                needles.setdefault(needle, encoding)
    spans = _spans(text, needles)
    # longest first, so that a hit inside another one is dropped
    spans.sort(key=lambda span: (span[0], -(span[1] - span[0])))
    hits: list[tuple[str, int]] = []
    covered_until = -1
    for start, end, encoding in spans:
        if end <= covered_until:
            continue
        if start < covered_until and encoding == "fragment":
            continue
        hits.append((encoding, start))
        covered_until = max(covered_until, end)
    return hits


def describe(text_or_bytes, secrets, where: str, context: int = 30) -> list[str]:
    """One line per encoding found: where, which encoding, how often, and the text before its first hit."""
    text = _as_text(text_or_bytes)
    first: dict[str, int] = {}
    counts: dict[str, int] = collections.Counter()
    for encoding, offset in find_secret(text, secrets):
        first.setdefault(encoding, offset)
        counts[encoding] += 1
    lines = []
    for encoding, offset in first.items():
        before = text[max(0, offset - context) : offset].replace("\n", "\\n")
        lines.append(f"{where}: {encoding}, {counts[encoding]} hit(s), the first at offset {offset} after {before!r}")
    return lines
