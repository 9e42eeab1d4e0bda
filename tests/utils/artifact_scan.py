"""Find secrets in files and bytes, in every encoding an output, an event, a log or a report could carry them.

A secret leaks as itself, but also urlencoded (a query string or a form body echoed back), JSON-escaped (a job
event), HTML-escaped (a report), or base64-encoded, standard or URL-safe, with or without padding, and anywhere
inside a longer encoded text (a Basic header, an echoed body, a blob in a log). Base64 of a secret embedded in
other bytes depends on where the secret starts modulo 3; for each of the three alignments the characters that
depend only on the secret's own bytes are the same wherever it sits, so they are the needle. Every needle is also
looked for urlencoded and JSON-escaped, as a base64 text in a query string or a JSON document would be.

    needles(secret) -> {bytes: form name}     what is looked for
    scan_bytes(data, secrets) -> [Hit]        secrets: {label: value}; labels, never values, appear in a Hit
    scan_paths(paths, secrets, skip=...) -> Scan    every file under the paths (recursively)
    jwt_shaped(data) -> [offset]              JWT-like strings (three base64url parts), whoever issued them

Command line (the secrets come from a JSON file {label: value}, never from the command line):

    python secret_scan.py --secrets FILE PATH...    prints a summary and each hit; exit status 1 when any
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import html
import json
import re
import sys
import urllib.parse
from pathlib import Path

# Shorter values give base64 needles of a few characters that match by chance.
MIN_SECRET_LENGTH = 8
JWT_SHAPE = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


@dataclasses.dataclass(frozen=True)
class Hit:
    path: str
    label: str
    form: str
    offset: int

    def __str__(self):
        return f"{self.path}:{self.offset}: {self.label} ({self.form})"


@dataclasses.dataclass
class Scan:
    files: int
    bytes: int
    needles: int
    hits: list

    def summary(self):
        return f"{len(self.hits)} hits in {self.files} files ({self.bytes} bytes), {self.needles} needles"


def _base64_cores(data: bytes) -> dict:
    """For each alignment, the base64 characters that only the secret's own bytes determine."""
    cores = {}
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + data)
        # The first character wholly inside the secret starts at bit 8*shift; the last one ends by bit 8*(shift+len).
        core = encoded[(8 * shift + 5) // 6 : (8 * (shift + len(data))) // 6]
        cores[f"base64 at offset {shift} mod 3"] = core
        cores[f"urlsafe base64 at offset {shift} mod 3"] = core.translate(bytes.maketrans(b"+/", b"-_"))
    return cores


def _json_escaped(text: str) -> set:
    once = json.dumps(text)[1:-1]
    return {once, json.dumps(once)[1:-1], once.replace("/", "\\/"), json.dumps(text, ensure_ascii=False)[1:-1]}


def _urlencoded(text: str) -> set:
    forms = {urllib.parse.quote(text, safe=""), urllib.parse.quote_plus(text, safe="")}
    return forms | {re.sub(r"%[0-9A-F]{2}", lambda match: match.group(0).lower(), form) for form in forms}


def needles(secret: str) -> dict:
    """Every form of the secret that is looked for: {needle bytes: form name}, each distinct needle once."""
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"a secret shorter than {MIN_SECRET_LENGTH} characters cannot be told from chance matches")
    found = {}

    def add(form, value):
        data = value if isinstance(value, bytes) else value.encode("utf-8")
        found.setdefault(data, form)

    add("raw", secret)
    for value in _urlencoded(secret):
        add("urlencoded", value)
    for value in _json_escaped(secret):
        add("JSON-escaped", value)
    add("HTML-escaped", html.escape(secret, quote=True))
    add("HTML-escaped", html.escape(secret, quote=True).replace("/", "&#x2F;"))
    for form, core in _base64_cores(secret.encode("utf-8")).items():
        add(form, core)
        text = core.decode("ascii")
        for value in _urlencoded(text):
            add(form + ", urlencoded", value)
        for value in _json_escaped(text):
            add(form + ", JSON-escaped", value)
    return found


def _all_needles(secrets: dict) -> list:
    return [(label, form, needle) for label, secret in secrets.items() for needle, form in needles(secret).items()]


def _find(data: bytes, path: str, all_needles: list) -> list:
    hits = []
    for label, form, needle in all_needles:
        offset = data.find(needle)
        if offset >= 0:
            hits.append(Hit(path, label, form, offset))
    return hits


def scan_bytes(data: bytes, secrets: dict, path: str = "<bytes>") -> list:
    return _find(data, path, _all_needles(secrets))


def jwt_shaped(data: bytes) -> list:
    return [match.start() for match in JWT_SHAPE.finditer(data)]


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
    all_needles = _all_needles(secrets)
    scan = Scan(files=0, bytes=0, needles=len(all_needles), hits=[])
    for path in files_under(paths, skip):
        data = path.read_bytes()
        scan.files += 1
        scan.bytes += len(data)
        scan.hits.extend(_find(data, str(path), all_needles))
        scan.hits.extend(Hit(str(path), "a JWT-shaped token", "raw", offset) for offset in jwt_shaped(data))
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
