# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64
import html
import json
from types import SimpleNamespace
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.sailpoint.isc.plugins.module_utils._client import QUOTED_BODY, IscClient
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import QUOTED_ERROR, error_from_response
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


# ---- masked whole, then cut: no part of a secret survives a cut, in any of its spellings
#
# The bound: no 8 consecutive characters of any spelling of the secret may appear in what is shown. Eight is the
# redactor's MIN_ENCODED_FRAGMENT: base64 characters at a secret's edges mix in bits of the text around it, so the
# run of characters made only of the secret's bits is what can be masked, and below eight such a run could match
# ordinary text.
RUN = 8
FILLER = "~"


def _base64_cores(text: str) -> list[str]:
    """The base64 characters made only of ``text``'s bits, at each of the three alignments and in both alphabets."""
    data = text.encode("utf-8")
    cores = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data + b"\0\0\0").decode("ascii")
        core = encoded[(offset * 8 + 5) // 6 : (offset + len(data)) * 8 // 6]
        cores += [core, core.translate(str.maketrans("+/", "-_"))]
    return cores


def _spellings(secret: str) -> list[str]:
    form = quote_plus(secret)
    texts = [secret, form, quote_plus(form), quote(secret, safe=""), json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]]
    texts += [html.escape(secret), html.escape(form)]
    return texts + [core for text in (secret, form) for core in _base64_cores(text)]


def _runs(spellings) -> set[str]:
    return {spelling[index : index + RUN] for spelling in spellings for index in range(len(spelling) - RUN + 1)}


def _echoes(secret: str) -> dict[str, str]:
    """A server's echo of a text holding ``secret``, as the emulator's ``echo`` encodings spell it."""
    form = f"client_secret={quote_plus(secret)}"
    echoes = {
        "raw": secret,
        "urlencoded": quote_plus(form),
        "json-escaped": json.dumps(secret)[1:-1],
        "html": html.escape(form),
        "html-raw": html.escape(secret),
    }
    for offset in range(3):
        encoded = base64.b64encode((FILLER * offset + form + FILLER * 3).encode()).decode()
        echoes[f"base64-offset{offset}"] = encoded
        echoes[f"base64url-offset{offset}"] = encoded.translate(str.maketrans("+/", "-_")).rstrip("=")
    return echoes


def _quoted(limit: int, echo: str):
    """Bodies with ``echo`` placed across the cut at ``limit``: from wholly after it to wholly before it."""
    for before in range(max(0, limit - len(echo) - 1), limit + 2):
        yield FILLER * before + echo + FILLER * 40


SECRETS = st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF, exclude_characters="*" + FILLER), min_size=16, max_size=64)


def _shown(secret: str, name: str, quoted: int) -> list[str]:
    """What a person sees of the ``name`` echo of ``secret`` placed across the cut at ``quoted``, at every position."""
    redactor = Redactor([secret])
    client = IscClient("http://127.0.0.1:9", client_id="cid", client_secret=secret, rate_limit=None)
    shown = []
    for body in _quoted(quoted, _echoes(secret)[name]):
        if quoted == QUOTED_ERROR:
            shown.append(error_from_response("POST", "/oauth/token", 500, body, redactor).message)
        else:
            answer = SimpleNamespace(status_code=200, text=body)
            shown.append(client._blame("POST", "/oauth/token", answer, "a body that is not JSON"))  # pylint: disable=protected-access
    return shown


@settings(max_examples=10)
@given(secret=SECRETS)
@example(secret="0lient_000000000")
def test_a_secret_straddling_a_cut_is_masked_in_every_spelling_at_every_position(secret):
    runs = _runs(_spellings(secret))
    # the same echoes of another secret: a run found there too comes from the text around the secret (base64 of
    # "client_secret=" holds "lient_" whatever the secret is), not from the secret
    other = "".join("A" if character != "A" else "B" for character in secret)
    for name in _echoes(secret):
        for quoted in (QUOTED_ERROR, QUOTED_BODY):
            innocent = "\n".join(_shown(other, name, quoted))
            for message in _shown(secret, name, quoted):
                leaked = [run for run in runs if run in message and run not in innocent]
                assert not leaked, f"{name}: {message}"


@pytest.mark.parametrize("limit", range(1, 30))
def test_excerpt_never_ends_inside_a_mask(limit):
    shown = Redactor([LONG_SECRET]).excerpt(f"abc {LONG_SECRET} def", limit)
    assert MASK in shown or len(shown) == limit + 3
    assert shown.count("*") % len(MASK) == 0


def test_a_secret_with_both_quote_characters_is_masked_before_it_is_quoted():
    secret = "it's a \"secret\" of 'quotes'"
    client = IscClient("http://127.0.0.1:9", client_id="cid", client_secret=secret, rate_limit=None)
    answer = SimpleNamespace(status_code=200, text=f"<p>{secret}</p>")
    message = client._blame("GET", "/beta/task-status", answer, "a body that is not JSON")  # pylint: disable=protected-access
    assert MASK in message and "secret" not in message.replace("client_secret", "")
