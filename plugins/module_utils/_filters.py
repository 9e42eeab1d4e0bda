# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ISC filter expressions built with correct quoting, so that no value can change an expression's meaning."""

from __future__ import annotations


def quote(value) -> str:
    """A double-quoted ISC string literal; only backslash and double quote need escaping in the grammar."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def condition(field: str, values) -> str | None:
    """``field eq "v"`` for one value, ``field in ("a", "b")`` for several, None for none."""
    values = list(dict.fromkeys(str(value) for value in values or ()))
    if not values:
        return None
    if len(values) == 1:
        return f"{field} eq {quote(values[0])}"
    return f"{field} in ({', '.join(quote(value) for value in values)})"


def is_null(field: str) -> str:
    return f"{field} isnull"


def combine(*expressions) -> str | None:
    """The ``and`` of every non-empty expression; each is parenthesised when more than one, so a raw expression
    holding ``or`` keeps its meaning."""
    parts = [expression.strip() for expression in expressions if expression and expression.strip()]
    if len(parts) <= 1:
        return parts[0] if parts else None
    return " and ".join(f"({part})" for part in parts)
