# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
from urllib.parse import quote, quote_plus, urlencode

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils._redact import MASK, Redactor, secret_forms

SECRET = 'p@ss w/rd+&="\\é'


@pytest.mark.parametrize(
    "text",
    [
        f"secret is {SECRET}!",
        urlencode({"client_secret": SECRET}),
        f"GET /x?s={quote(SECRET, safe='')}",
        f"GET /x/{quote(SECRET)}",
        json.dumps({"echo": SECRET}),
        json.dumps({"echo": SECRET}, ensure_ascii=False),
        quote_plus(json.dumps(SECRET)[1:-1]),
    ],
)
def test_every_form_is_masked(text):
    masked = Redactor([SECRET]).text(text)
    assert MASK in masked
    for form in secret_forms(SECRET):
        assert form not in masked


def test_data_masks_nested_strings_and_keys_and_keeps_other_types():
    data = {"a": [SECRET, 1, None, True], SECRET: {"b": f"x{quote_plus(SECRET)}y"}}
    assert Redactor([SECRET]).data(data) == {"a": [MASK, 1, None, True], MASK: {"b": f"x{MASK}y"}}


def test_tokens_added_later_are_masked_and_empty_secrets_ignored():
    redactor = Redactor([None, ""])
    assert redactor.text("nothing to hide") == "nothing to hide"
    redactor.add("eyJhbGciOi.token")
    assert redactor.text("Bearer eyJhbGciOi.token") == f"Bearer {MASK}"


def test_a_secret_containing_another_is_masked_whole():
    redactor = Redactor(["abc", "abcdef"])
    assert redactor.text("abcdef") == MASK


LONG_SECRET = 's3cr3t/+&=%x"q\\-long-enough'


@pytest.mark.parametrize("offset", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("alphabet", ["standard", "urlsafe"])
@pytest.mark.parametrize("padded", [True, False])
@pytest.mark.parametrize("spelling", ["raw", "urlencoded", "json"])
def test_base64_of_a_text_holding_the_secret_is_masked_at_any_alignment(offset, alphabet, padded, spelling):
    import base64

    secret = {"raw": LONG_SECRET, "urlencoded": quote_plus(LONG_SECRET), "json": json.dumps(LONG_SECRET)[1:-1]}[spelling]
    echoed = ("x" * offset + "client_secret=" + secret + "&grant_type=client_credentials").encode()
    encoded = base64.b64encode(echoed).decode() if alphabet == "standard" else base64.urlsafe_b64encode(echoed).decode()
    if not padded:
        encoded = encoded.rstrip("=")
    masked = Redactor([LONG_SECRET]).text(f"server said: {encoded}")
    assert MASK in masked
    # what is left of the encoded text decodes to no part of the secret longer than a byte or two
    for form in secret_forms(LONG_SECRET):
        assert form not in masked


def test_base64_of_the_secret_at_the_end_keeps_no_padding_clue():
    import base64

    encoded = base64.b64encode(("Authorization: Bearer " + LONG_SECRET).encode()).decode()
    assert MASK in Redactor([LONG_SECRET]).text(encoded)


def test_short_fragments_are_not_masked_everywhere():
    # a secret so short that its base64 fragments would match ordinary text is masked only in its text forms
    assert Redactor(["ab"]).text("YWJj and ab") == f"YWJj and {MASK}"


def test_data_without_any_secret_is_returned_as_is():
    value = {"tasks": [{"id": "1", "progress": "ok"}] * 3}
    assert Redactor([LONG_SECRET]).data(value) is value


def test_data_with_a_secret_deep_inside_is_masked():
    value = {"tasks": [{"id": "1", "messages": [{"text": f"echo {quote_plus(LONG_SECRET)}"}]}]}
    masked = Redactor([LONG_SECRET]).data(value)
    assert masked["tasks"][0]["messages"][0]["text"] == f"echo {MASK}"
    assert value["tasks"][0]["messages"][0]["text"] != masked["tasks"][0]["messages"][0]["text"]


def test_a_form_body_urlencoded_once_more_is_masked():
    form = urlencode({"client_secret": LONG_SECRET})
    for echoed in (quote_plus(form), quote(form, safe="")):
        assert quote_plus(LONG_SECRET) not in Redactor([LONG_SECRET]).text(echoed)
        assert MASK in Redactor([LONG_SECRET]).text(echoed)
