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
