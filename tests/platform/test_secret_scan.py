# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The secret scanner finds a secret in every encoding it claims, wherever it sits, and nothing else."""

from __future__ import annotations

import base64
import html
import json
import sys
import urllib.parse
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "utils"))

import secret_scan  # noqa: E402  pylint: disable=wrong-import-position

SECRETS = {
    "hex client secret": "3f9a0c51d2e84b67a1c09e3d5f7b2a4c6e8d0f1a3b5c7e9d2f4a6c8e0b1d3f5a",
    "JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg",
    "awkward secret": "p@ss/w+rd=&<\"q'>\\\u00fc~",
}
# what a hostile server echoes: a client secret and a bearer token inside a whole HTTP request
SECRET = "Hostile/Secret+&=%\u00fc\"<>' #\\-0123456789abcdef"
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJhYmMiLCJjbGllbnRfaWQiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1oZXJlMDEyMzQ1"
REQUEST = f"POST /acme/oauth/token HTTP/1.1\r\nauthorization: Bearer {TOKEN}\r\n\r\ngrant_type=client_credentials&client_secret={quote_plus(SECRET)}"


def plantings(secret: str):
    """(form, bytes holding the secret) for every encoding the scanner claims to cover, at every alignment."""
    raw = secret.encode("utf-8")
    yield "raw", b"before " + raw + b" after"
    yield "urlencoded", ("client_secret=" + urllib.parse.quote(secret, safe="") + "&x=1").encode()
    yield "form-encoded", urllib.parse.urlencode({"grant_type": "client_credentials", "client_secret": secret}).encode()
    yield "form-encoded twice", ("next=" + quote_plus(urllib.parse.urlencode({"client_secret": secret}))).encode()
    yield "JSON", json.dumps({"msg": "failed: " + secret}).encode()
    yield "JSON in JSON", json.dumps({"stdout": json.dumps({"msg": secret})}).encode()
    yield "JSON, non-ASCII kept", json.dumps({"msg": secret}, ensure_ascii=False).encode("utf-8")
    yield "JSON, slashes escaped", json.dumps({"msg": secret}).replace("/", "\\/").encode()
    yield "HTML", ("<td>" + html.escape(secret) + "</td>").encode()
    yield "HTML of a query string", ("<a href='?s=" + html.escape(quote(secret, safe="")) + "'>").encode()
    yield "truncated", b"detail: " + raw[:-3] + b"..."
    for prefix_length in range(6):
        for suffix in (b"", b"x", b"xy", b" trailing bytes"):
            data = b"p" * prefix_length + raw + suffix
            for name, encode in (("base64", base64.b64encode), ("urlsafe base64", base64.urlsafe_b64encode)):
                encoded = encode(data)
                yield f"{name}, {prefix_length} bytes before", b"blob " + encoded + b" end"
                yield f"{name} unpadded, {prefix_length} bytes before", b"blob " + encoded.rstrip(b"=") + b" end"
                yield f"{name} in a query, {prefix_length} bytes before", urllib.parse.quote(encoded.decode(), safe="").encode()
                yield f"{name} in JSON, {prefix_length} bytes before", json.dumps({"body": encoded.decode()}).encode()
    yield "Basic header", b"Authorization: Basic " + base64.b64encode(b"client-id:" + raw)


def scattered_near_miss(secret: str) -> str:
    """The secret with one character in every eight changed: no run of FRAGMENT of its characters is left."""
    return "".join(("A" if char != "A" else "B") if index % 8 == 7 else char for index, char in enumerate(secret))


@pytest.mark.parametrize("label", sorted(SECRETS))
def test_every_planted_form_is_found(label):
    secret = SECRETS[label]
    missed = [form for form, data in plantings(secret) if not secret_scan.scan_bytes(data, {label: secret})]
    assert not missed


@pytest.mark.parametrize("label", sorted(SECRETS))
def test_unrelated_and_near_miss_data_is_clean(label):
    secret = SECRETS[label]
    near_miss = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    # every form of a secret that differs only at its end is told apart; what remains is its fragments
    encodings = {hit.encoding for _form, data in plantings(near_miss) for hit in secret_scan.scan_bytes(data, {label: secret})}
    assert encodings <= {"fragment"}
    clean = [data for _form, data in plantings(scattered_near_miss(secret))]
    clean.append(base64.b64encode(secret[: len(secret) // 2].encode()))
    assert not [data for data in clean if secret_scan.scan_bytes(data, {label: secret})]


def test_hits_name_the_label_never_the_secret(tmp_path):
    secret = SECRETS["hex client secret"]
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "1.json").write_text(json.dumps({"stdout": base64.b64encode(b"xx" + secret.encode()).decode()}))
    (tmp_path / "clean.txt").write_text("nothing here")
    scan = secret_scan.scan_paths([tmp_path], {"the client secret": secret})
    assert scan.files == 2 and len(scan.hits) == 1
    assert "the client secret" in str(scan.hits[0]) and secret not in str(scan.hits[0]) and secret not in scan.summary()


def test_hit_offsets_count_bytes_in_files(tmp_path):
    (tmp_path / "log").write_bytes("\u00fc\u00fc ".encode() + SECRETS["hex client secret"].encode())
    scan = secret_scan.scan_paths([tmp_path], {"secret": SECRETS["hex client secret"]})
    assert [(hit.encoding, hit.offset) for hit in scan.hits] == [("raw", 5)]


def test_skipped_paths_are_not_read(tmp_path):
    secret = SECRETS["hex client secret"]
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "envvars").write_text(secret)
    (tmp_path / "stdout").write_text("ok")
    scan = secret_scan.scan_paths([tmp_path], {"secret": secret}, skip=lambda path: path.name == "env")
    assert (scan.files, scan.hits) == (1, [])


def test_jwt_shaped_strings_are_reported_whoever_issued_them(tmp_path):
    (tmp_path / "stdout").write_text("token " + SECRETS["JWT"] + " used")
    scan = secret_scan.scan_paths([tmp_path], {"an unrelated secret": SECRETS["hex client secret"]})
    assert [hit.label for hit in scan.hits] == ["a JWT-shaped token"]


def test_a_short_secret_is_refused():
    with pytest.raises(ValueError, match="shorter than"):
        secret_scan.needles("short")
    with pytest.raises(ValueError, match="shorter than"):
        secret_scan.find_secret("any text", ["short"])


def test_command_line_exit_status(tmp_path, capsys):
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps({"secret": SECRETS["hex client secret"]}))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "log").write_text("fine")
    assert secret_scan.main(["--secrets", str(secrets_file), str(tmp_path / "out")]) == 0
    (tmp_path / "out" / "log").write_text(urllib.parse.quote(SECRETS["hex client secret"]))
    assert secret_scan.main(["--secrets", str(secrets_file), str(tmp_path / "out")]) == 1
    assert "1 hits in 1 files" in capsys.readouterr().out


def _b64(text, urlsafe=False, pad=True):
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(text.encode("utf-8")).decode("ascii")
    return encoded if pad else encoded.rstrip("=")


ENCODINGS = {
    "raw": lambda text: text,
    "urlencoded": quote_plus,
    "urlencoded-path": lambda text: quote(text, safe=""),
    "json": json.dumps,
    "json-ascii-off": lambda text: json.dumps(text, ensure_ascii=False),
    "html": html.escape,
    "base64": _b64,
    "base64url": lambda text: _b64(text, urlsafe=True),
    "base64-nopad": lambda text: _b64(text, pad=False),
    "base64url-nopad": lambda text: _b64(text, urlsafe=True, pad=False),
}


@pytest.mark.parametrize("prefix", range(3), ids=["aligned", "offset-1", "offset-2"])
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_finds_both_secrets_of_an_echoed_request_in_every_encoding(encoding, prefix):
    text = "500 Internal Server Error: " + ENCODINGS[encoding]("#" * prefix + REQUEST) + " (end)"
    assert secret_scan.find_secret(text, [SECRET]), f"the client secret was missed in {encoding} at offset {prefix}"
    assert secret_scan.find_secret(text, [TOKEN]), f"the token was missed in {encoding} at offset {prefix}"


def test_finds_a_truncated_token_and_bytes():
    assert [encoding for encoding, _offset in secret_scan.find_secret("detail: Bearer " + TOKEN[:-20], [TOKEN])] == ["fragment"]
    assert secret_scan.find_secret(("x" + SECRET).encode("utf-8"), [SECRET]) == [("raw", 1)]


def test_reports_a_hit_once_as_its_longest_form():
    assert secret_scan.find_secret(json.dumps({"msg": quote_plus(SECRET)}), [SECRET]) == [("urlencoded-plus", 9)]


@given(st.text(max_size=2000))
def test_no_hit_in_text_without_the_secret(text):
    # the secret's own characters cannot come together by chance in a generated text this short
    assert not secret_scan.find_secret(text.replace("0123456789abcdef", ""), [SECRET, TOKEN])


def test_describe_groups_hits_by_encoding():
    lines = secret_scan.describe("a " + SECRET + " b " + SECRET, [SECRET], "stdout")
    assert lines == ["stdout: raw, 2 hit(s), the first at offset 2 after 'a '"]
