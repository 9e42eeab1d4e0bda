# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Find a secret in any text, bytes or files, in every encoding a server, a logger, an event or a report could carry it.

The collection's own redactor decides what to mask; this scanner is written independently of it, so that a form
the redactor forgets is still found here. Each secret is looked for:

- as it is, urlencoded (``quote``, ``quote_plus``, upper- or lower-case escapes), JSON-escaped (ASCII or not, with
  ``\\/``), HTML-escaped (named, hex or decimal quotes and slashes), and any two of these stacked (a form body
  echoed as a URL parameter, a JSON job event quoting a JSON message, the HTML of a query string);
- base64-encoded (standard and URL-safe alphabets, with or without padding), each of the forms above, anywhere
  inside a larger encoded text: base64 of embedded bytes depends on where they start modulo 3, and for each of
  the three alignments only the characters that the secret's bytes alone decide are compared. Each such core is
  also looked for urlencoded and JSON-escaped, as a base64 blob in a query string or a JSON document would be;
- as a fragment: any run of ``FRAGMENT`` characters of the secret, which catches a secret cut off by a truncated
  message. For a JWT only its signature is looked at this way, as every JWT's header looks alike.

On top of that, ``scan_paths`` reports every JWT-shaped string, whoever issued it.

    needles(secret) -> {needle: encoding}                 what is looked for
    find_secret(text_or_bytes, secrets) -> [(encoding, offset)]   offsets in characters
    describe(text_or_bytes, secrets, where) -> [line]     one line per encoding found, for a test's message
    scan_bytes(data, secrets) -> [Hit]                    secrets: {label: value}; labels, never values, in a Hit
    scan_paths(paths, secrets, skip=...) -> Scan          every file under the paths; Hit offsets in bytes
    jwt_shaped(data) -> [offset]

Bytes are decoded as UTF-8, undecodable bytes kept as surrogates. Command line (the secrets come from a JSON file
{label: value}, never from the command line):

    python secret_scan.py --secrets FILE PATH...    prints a summary and each hit; exit status 1 when any
"""

from __future__ import annotations

import argparse
import base64
import collections
import dataclasses
import functools
import html
import json
import re
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

# shorter values give base64 cores of a few characters that match ordinary text by chance
MIN_SECRET_LENGTH = 8
# a shorter run of a random secret's characters would start to match ordinary text by chance
FRAGMENT = 16
# needles at least this long are found through an index of their first characters
KEY = 12
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.([A-Za-z0-9_-]{8,})")
JWT_LABEL = "a JWT-shaped token"
_ESCAPE = re.compile(r"%[0-9A-F]{2}")


@dataclasses.dataclass(frozen=True)
class Hit:
    path: str
    label: str
    encoding: str
    offset: int

    def __str__(self):
        return f"{self.path}:{self.offset}: {self.label} ({self.encoding})"


@dataclasses.dataclass
class Scan:
    files: int
    bytes: int
    needles: int
    hits: list

    def summary(self):
        return f"{len(self.hits)} hits in {self.files} files ({self.bytes} bytes), {self.needles} needles"


def _one_layer(text: str) -> dict[str, str]:
    """encoding -> needle: ``text`` urlencoded, JSON-escaped or HTML-escaped once, in each spelling."""
    urlencoded = {"urlencoded": quote(text, safe=""), "urlencoded-path": quote(text), "urlencoded-plus": quote_plus(text)}
    forms = dict(urlencoded)
    forms.update({name + "-lower": _ESCAPE.sub(lambda match: match.group(0).lower(), needle) for name, needle in urlencoded.items()})
    escaped = json.dumps(text)[1:-1]
    forms.update({"json": escaped, "json-unicode": json.dumps(text, ensure_ascii=False)[1:-1], "json-slashes": escaped.replace("/", "\\/")})
    quoted = html.escape(text, quote=True)
    forms.update(
        {
            "html": quoted,
            "html-unquoted": html.escape(text, quote=False),
            "html-decimal": quoted.replace("&#x27;", "&#39;"),
            "html-slashes": quoted.replace("/", "&#x2F;"),
        }
    )
    return forms


def _text_forms(secret: str) -> dict[str, str]:
    """needle -> encoding, for the secret as it is and under one or two layers of escaping."""
    forms = {secret: "raw"}
    once = {}
    for encoding, needle in _one_layer(secret).items():
        once.setdefault(needle, encoding)
    for needle, encoding in once.items():
        forms.setdefault(needle, encoding)
    for inner_needle, inner in once.items():
        for outer, needle in _one_layer(inner_needle).items():
            # a second layer that changes nothing is the first layer's form, already named
            forms.setdefault(needle, f"{outer} of {inner}")
    return forms


def _base64_cores(data: bytes) -> dict[str, str]:
    """alphabet name -> core: the characters of base64(prefix + data + suffix) that ``data`` alone decides."""
    cores = {}
    for alignment in range(3):
        encoded = base64.b64encode(b"\0" * alignment + data).decode("ascii")
        # a character is decided by the data alone when its 6 bits lie wholly inside the data's bits
        core = encoded[-(-(alignment * 8) // 6) : (alignment + len(data)) * 8 // 6]
        cores[f"base64(alignment {alignment})"] = core
        cores[f"base64url(alignment {alignment})"] = core.translate(str.maketrans("+/", "-_"))
    return cores


@functools.lru_cache(maxsize=4096)
def _needles(secret: str) -> tuple[tuple[str, str], ...]:
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"a secret shorter than {MIN_SECRET_LENGTH} characters cannot be told from chance matches")
    forms = _text_forms(secret)
    found = dict(forms)
    # a base64 echo encodes whatever text carried the secret: the raw form or any escaped one
    for form, encoding in forms.items():
        for b64, core in _base64_cores(form.encode("utf-8", errors="surrogatepass")).items():
            name = b64 if encoding == "raw" else f"{b64} of {encoding}"
            found.setdefault(core, name)
            for outer, needle in _one_layer(core).items():
                found.setdefault(needle, f"{outer} of {name}")
    match = JWT.fullmatch(secret)
    source = match.group(1) if match else secret
    for start in range(len(source) - FRAGMENT + 1):
        found.setdefault(source[start : start + FRAGMENT], "fragment")
    return tuple(found.items())


def needles(secret: str) -> dict[str, str]:
    """Every needle looked for in a text, mapped to the name of its encoding; ValueError for a too short secret."""
    return dict(_needles(secret))


class _Matcher:
    """Every needle of a set of labelled secrets, ready to be looked for in many texts. Long needles are looked up
    by their first KEY characters, and only inside runs of characters that needles contain, so the cost grows with
    the text, not with the number of secrets."""

    def __init__(self, secrets: dict):
        self.table: dict[str, tuple[str, str]] = {}
        for label, secret in secrets.items():
            for needle, encoding in _needles(str(secret)):
                self.table.setdefault(needle, (label, encoding))
        self.index: dict[str, list[str]] = collections.defaultdict(list)
        self.short = []
        for needle in self.table:
            if len(needle) >= KEY:
                self.index[needle[:KEY]].append(needle)
            else:
                self.short.append(needle)
        alphabet = sorted({char for needle in self.index for char in needle})
        self.runs = re.compile("[" + "".join(re.escape(char) for char in alphabet) + "]{%d,}" % KEY) if alphabet else None

    def _spans(self, text: str):
        for needle in self.short:
            for match in re.finditer(re.escape(needle), text):
                yield match.start(), match.end(), needle
        if self.runs is None:
            return
        for run in self.runs.finditer(text):
            for position in range(run.start(), run.end() - KEY + 1):
                for needle in self.index.get(text[position : position + KEY], ()):
                    if text.startswith(needle, position):
                        yield position, position + len(needle), needle

    def find(self, text: str) -> list[tuple[int, str, str]]:
        """(offset, label, encoding) of every hit, by offset. A hit inside a longer hit (the raw secret inside its
        own JSON form, say) is reported once, as the longer one; overlapping fragments count once."""
        spans = sorted(self._spans(text), key=lambda span: (span[0], -(span[1] - span[0])))
        hits = []
        covered_until = -1
        for start, end, needle in spans:
            label, encoding = self.table[needle]
            if end <= covered_until or (start < covered_until and encoding == "fragment"):
                continue
            hits.append((start, label, encoding))
            covered_until = max(covered_until, end)
        return hits


def _as_text(text_or_bytes) -> str:
    if isinstance(text_or_bytes, bytes):
        return text_or_bytes.decode("utf-8", errors="surrogateescape")
    return str(text_or_bytes)


def find_secret(text_or_bytes, secrets) -> list[tuple[str, int]]:
    """Every place where one of ``secrets`` (values) appears: (encoding, offset in characters), ordered by offset."""
    matcher = _Matcher({secret: secret for secret in secrets})
    return [(encoding, offset) for offset, _label, encoding in matcher.find(_as_text(text_or_bytes))]


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


def _byte_offset(text: str, offset: int) -> int:
    return len(text[:offset].encode("utf-8", errors="surrogateescape"))


def _scan(data: bytes, path: str, matcher: _Matcher) -> list:
    text = _as_text(data)
    return [Hit(path, label, encoding, _byte_offset(text, offset)) for offset, label, encoding in matcher.find(text)]


def scan_bytes(data: bytes, secrets: dict, path: str = "<bytes>") -> list:
    """Every hit of the labelled ``secrets`` in ``data``."""
    return _scan(data, path, _Matcher(secrets))


def jwt_shaped(data) -> list:
    """The offsets of JWT-like strings (three base64url parts, a JSON header), in bytes for bytes."""
    text = _as_text(data)
    offsets = [match.start() for match in JWT.finditer(text)]
    return [_byte_offset(text, offset) for offset in offsets] if isinstance(data, bytes) else offsets


def files_under(paths, skip=lambda path: False) -> list:
    """Every regular file under the paths, sorted; ``skip(path)`` leaves out a file or a whole folder."""
    found = []
    for root in map(Path, paths):
        if skip(root):
            continue
        if root.is_file():
            found.append(root)
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not any(skip(parent) for parent in [path, *path.parents]):
                found.append(path)
    return found


def scan_paths(paths, secrets: dict, skip=lambda path: False) -> Scan:
    """Every hit of the labelled ``secrets`` and every JWT-shaped string in the files under ``paths``."""
    matcher = _Matcher(secrets)
    scan = Scan(files=0, bytes=0, needles=len(matcher.table), hits=[])
    for path in files_under(paths, skip):
        data = path.read_bytes()
        scan.files += 1
        scan.bytes += len(data)
        scan.hits.extend(_scan(data, str(path), matcher))
        scan.hits.extend(Hit(str(path), JWT_LABEL, "raw", offset) for offset in jwt_shaped(data))
    return scan


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--secrets", required=True, help="JSON file: {label: secret}")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    secrets = json.loads(Path(args.secrets).read_text(encoding="utf-8"))
    scan = scan_paths(args.paths, secrets)
    for hit in scan.hits:
        print(hit)
    print(f"secret scan: {scan.summary()}")
    return 1 if scan.hits else 0


if __name__ == "__main__":
    sys.exit(main())
