# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The leak scanner finds what the suite relies on it to find, and nothing else."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.sailpoint.isc.tests.utils.secret_scan import describe, find_secret

SECRET = "Hostile/Secret+&=%\u00fc\"<>' #\\-0123456789abcdef"
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJqdGkiOiJhYmMiLCJjbGllbnRfaWQiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1oZXJlMDEyMzQ1"
REQUEST = f"POST /acme/oauth/token HTTP/1.1\r\nauthorization: Bearer {TOKEN}\r\n\r\ngrant_type=client_credentials&client_secret={quote_plus(SECRET)}"


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
    assert find_secret(text, [SECRET]), f"the client secret was missed in {encoding} at offset {prefix}"
    assert find_secret(text, [TOKEN]), f"the token was missed in {encoding} at offset {prefix}"


def test_finds_a_truncated_token_and_bytes():
    assert [encoding for encoding, _offset in find_secret("detail: Bearer " + TOKEN[:-20], [TOKEN])] == ["fragment"]
    assert find_secret(("x" + SECRET).encode("utf-8"), [SECRET]) == [("raw", 1)]


def test_reports_a_hit_once_as_its_longest_form():
    assert find_secret(json.dumps({"msg": quote_plus(SECRET)}), [SECRET]) == [("urlencoded-plus", 9)]


@given(st.text(max_size=2000))
def test_no_hit_in_text_without_the_secret(text):
    # the secret's own characters cannot come together by chance in a generated text this short
    assert not find_secret(text.replace("0123456789abcdef", ""), [SECRET, TOKEN])


def test_describe_groups_hits_by_encoding():
    lines = describe("a " + SECRET + " b " + SECRET, [SECRET], "stdout")
    assert lines == ["stdout: raw, 2 hit(s), the first at offset 2 after 'a '"]
