# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Removal of secrets from any text or data before it leaves the collection. Internal to this collection.

Ansible masks ``no_log`` values only in the exact form they were given. A secret also travels urlencoded (in
the token request's form body, in the URL of a failed request), JSON-escaped (inside an error body) and base64
encoded (a server that echoes a request back encoded) and HTML-escaped (a proxy's error page), so every form is
replaced here. A text is always masked whole before it is cut or quoted (``Redactor.excerpt``): a secret cut in two
is no longer recognised.
"""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus

MASK = "********"
# Below this many characters an encoded fragment could match ordinary text; ISC's secrets and tokens are far longer.
MIN_ENCODED_FRAGMENT = 8


def _text_forms(secret: str) -> set[str]:
    """Every spelling under which ``secret`` can appear in a URL, a form body, a JSON document or a header."""
    json_escaped = json.dumps(secret)[1:-1]
    return {
        secret,
        quote(secret, safe=""),
        quote(secret),  # keeps "/" as requests does in paths
        quote_plus(secret),
        json_escaped,
        json.dumps(secret, ensure_ascii=False)[1:-1],
        # a JSON-escaped secret can itself be urlencoded, e.g. in a query echoed back by a server
        quote_plus(json_escaped),
        # a form body (the secret urlencoded) urlencoded once more, e.g. quoted in a URL or a form a server echoes
        quote_plus(quote_plus(secret)),
        quote(quote_plus(secret), safe=""),
        quote(quote(secret, safe=""), safe=""),
        html.escape(secret),
        html.escape(secret, quote=False),
    }


def base64_fragments(data: bytes) -> set[str]:
    """The base64 characters that encode ``data`` wherever it sits in a longer encoded text.

    Base64 turns every 3 bytes into 4 characters, so ``data`` is encoded differently at each of the 3 alignments; the
    characters made only of its own bits are the same whatever surrounds it. Standard and URL-safe alphabets, with
    padding when ``data`` ends the text.
    """
    fragments = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode("ascii")
        first = -(-offset * 8 // 6)  # the first character whose 6 bits all come from ``data``
        last = (offset + len(data)) * 8 // 6  # one past the last such character
        for fragment in (encoded[first:last], encoded[first:]):
            if len(fragment.rstrip("=")) >= MIN_ENCODED_FRAGMENT:
                fragments.add(fragment)
                fragments.add(fragment.translate(str.maketrans("+/", "-_")))
    return fragments


def secret_forms(secret: str) -> set[str]:
    """Every form of ``secret`` that a redactor masks: its text forms, and each of them base64 encoded."""
    forms = _text_forms(secret)
    for form in list(forms):
        forms |= base64_fragments(form.encode("utf-8"))
    return {form for form in forms if form}


class Redactor:
    """Holds the secrets of one connection and masks them wherever they appear."""

    def __init__(self, secrets=()):
        self._forms: list[str] = []
        # the forms as they read inside a JSON document, for the one-pass check of a whole result
        self._json_forms: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret) -> None:
        """Register one more secret, e.g. an access token fetched at run time."""
        if not secret:
            return
        forms = set(self._forms) | secret_forms(str(secret))
        # the longest form first, so that a form containing another one is masked whole
        self._forms = sorted(forms, key=len, reverse=True)
        self._json_forms = sorted({json.dumps(form, ensure_ascii=False)[1:-1] for form in forms}, key=len, reverse=True)

    def text(self, value) -> str:
        """``value`` as text with every registered secret masked (the very same string when nothing was masked)."""
        result = value if isinstance(value, str) else str(value)
        for form in self._forms:
            if form in result:
                result = result.replace(form, MASK)
        return result

    def excerpt(self, value, limit: int) -> str:
        """``value`` masked whole, then cut to about ``limit`` characters ("..." marks a cut).

        Masking first means a secret straddling the cut is recognised; a cut that falls inside a mask keeps the whole
        mask, so what is shown never ends in a fragment that reads like part of a secret.
        """
        masked = self.text(value)
        if len(masked) <= limit:
            return masked
        straddling = masked.find(MASK, max(0, limit - len(MASK) + 1))
        if 0 <= straddling < limit:
            limit = straddling + len(MASK)
        return masked[:limit] + "..."

    def data(self, value):
        """A JSON-like structure with every string (keys included) masked; ``value`` itself when nothing needs it.

        A result of thousands of tasks is checked in one pass over its JSON text: JSON escapes each character on its
        own, so a string holds a form exactly when the document holds that form's JSON spelling.
        """
        if not self._forms:
            return value
        try:
            document = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):
            return self._walk(value)
        if not any(form in document for form in self._json_forms):
            return value
        return self._walk(value)

    def _walk(self, value):
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self._walk(key): self._walk(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._walk(item) for item in value]
        return value
