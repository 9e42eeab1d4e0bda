# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Removal of secrets from any text or data before it leaves the collection.

Ansible masks ``no_log`` values only in the exact form they were given. A secret also travels urlencoded (in
the token request's form body, in the URL of a failed request) and JSON-escaped (inside an error body), so
every form is replaced here.
"""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

MASK = "********"


def secret_forms(secret: str) -> set[str]:
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
    }


class Redactor:
    """Holds the secrets of one connection and masks them wherever they appear."""

    def __init__(self, secrets=()):
        self._forms: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret) -> None:
        """Register one more secret, e.g. an access token fetched at run time."""
        if not secret:
            return
        forms = set(self._forms) | secret_forms(str(secret))
        # the longest form first, so that a form containing another one is masked whole
        self._forms = sorted(forms, key=len, reverse=True)

    def text(self, value) -> str:
        """``value`` as text with every registered secret masked."""
        result = str(value)
        for form in self._forms:
            result = result.replace(form, MASK)
        return result

    def data(self, value):
        """A copy of a JSON-like structure with every string (keys included) masked."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.data(key): self.data(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(item) for item in value]
        return value
