# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that make text from ISC (task names, messages, progress) safe to print in a report.

Whatever a tenant's tasks hold is data, never markup: a task name may carry HTML, Markdown, line breaks or
bidirectional control characters that reorder what a reader sees (documented in the adjacent YAML files).
"""

from __future__ import annotations

import html

# Bidirectional embedding, override and isolate controls, and the implicit marks: they reorder the text around
# them on screen, so a report could show something other than what the tenant holds.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
LINE_BREAKS = ("\r\n", "\r", "\n", "\v", "\f", "\x85", "\u2028", "\u2029")
# Characters CommonMark, GitHub Flavored Markdown and the common extensions give a meaning to; every one of them
# may be backslash-escaped (CommonMark 2.4), which prints it as itself.
MARKDOWN_ESCAPED = frozenset("\\`*_{}[]()#+!|~^=$@")
# The HTML characters become entities: a backslash before them is not honoured by every Markdown renderer.
MARKDOWN_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# A colon or a full stop starts an autolink (https://..., www.example.com) or an emoji code (:name:), but not
# between two digits, as in the times and decimals of a report.
MARKDOWN_BETWEEN_DIGITS = frozenset(":.")
DIGITS = frozenset("0123456789")


def _is_neutralised(character: str) -> bool:
    code = ord(character)
    return character in BIDI_CONTROLS or (code < 32 and character not in "\t\n\r") or 127 <= code < 160


def visible_text(value) -> str:
    """``value`` as text in which every bidirectional or other control character is shown as ``<U+XXXX>``."""
    if value is None:
        return ""
    return "".join(f"<U+{ord(character):04X}>" if _is_neutralised(character) else character for character in str(value))


def _one_line(text: str) -> str:
    for line_break in LINE_BREAKS:
        text = text.replace(line_break, " ")
    return text.replace("\t", " ")


def markdown_cell(value) -> str:
    """``value`` as inert Markdown text on one line, safe in a table cell, a heading or a paragraph."""
    if value is None:
        return ""
    text = visible_text(_one_line(str(value)))
    escaped = []
    for index, character in enumerate(text):
        if character in MARKDOWN_ENTITIES:
            escaped.append(MARKDOWN_ENTITIES[character])
        elif character in MARKDOWN_ESCAPED:
            escaped.append("\\" + character)
        elif character in MARKDOWN_BETWEEN_DIGITS and not (0 < index < len(text) - 1 and text[index - 1] in DIGITS and text[index + 1] in DIGITS):
            escaped.append("\\" + character)
        else:
            escaped.append(character)
    return "".join(escaped)


def html_text(value) -> str:
    """``value`` as inert HTML text, safe in an element and in a quoted attribute value."""
    return html.escape(visible_text(value), quote=True)


class FilterModule:
    """Text-safety filters of the sailpoint.isc collection."""

    def filters(self):
        return {
            "markdown_cell": markdown_cell,
            "html_text": html_text,
        }
