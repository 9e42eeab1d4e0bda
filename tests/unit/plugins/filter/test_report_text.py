# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile task names and messages against the reports' text filters: nothing a tenant stores may become markup."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ansible_collections.sailpoint.isc.plugins.filter.report_text import (
    BIDI_CONTROLS,
    FilterModule,
    html_text,
    markdown_cell,
    visible_text,
)

# What a hostile user or server could put in a task name, a source name, a progress text or a message.
HOSTILE = [
    "<script>alert(document.cookie)</script>",
    "<iframe src=https://evil.example/></iframe>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '<a href="https://evil.example">click</a>',
    "<style>body{display:none}</style>",
    "<!-- hidden --> visible",
    "<!--",
    "![tracker](https://evil.example/pixel.png)",
    "![tracker][ref]",
    "[click](javascript:alert(1))",
    "[click](https://evil.example 'title')",
    "[ref]: https://evil.example",
    "<https://evil.example>",
    "<mailto:boss@example.com>",
    "https://evil.example/path?q=1",
    "www.evil.example",
    "boss@example.com",
    "*emphasis* **strong** ***both***",
    "_emphasis_ __strong__ intra_word_underscores",
    "`code` ``double `tick` code``",
    "```fenced```",
    "~~struck~~ ~single~",
    "$x^2$ and $$display$$",
    ":smile: :+1:",
    "^superscript^ and [^footnote]",
    "==highlight== ++inserted++",
    "{: .class #id}",
    "Cloud | Aggregation | more | pipes",
    "escaped \\| pipe and trailing backslash \\",
    "line one\nline two\r\nthree\rfour\vfive\fsix\x85seven\u2028eight\u2029nine",
    "tab\tseparated",
    "&lt;script&gt; &amp; &#60;b&#62; &#x3C;i&#x3E;",
    "# heading",
    "> quote",
    "- item",
    "1. item",
    "+ item",
    "---",
    "===",
    "text  \nhard break",
    "back\\\\slashes\\",
    "right-to-left \u202eevil\u202c override",
    "isolates \u2066a\u2069 \u2067b\u2069 \u2068c\u2069",
    "marks \u200e\u200f\u061c and embeddings \u202a\u202b\u202d",
    "null \x00 escape \x1b[31m red \x7f del \x9b csi",
    "data:text/html;base64,PHNjcmlwdD4=",
    "2024-05-17T11:00:00.000Z",
]

# The Markdown characters that must never stand unescaped in markdown_cell's output.
MEANINGFUL = set("\\`*_{}[]()#+!|~^=$@<>")
LINE_BREAK = re.compile("[\r\n\v\f\x85\u2028\u2029]")
# Strict CommonMark with raw HTML allowed, GitHub's tables and strike-through: the most permissive renderer the
# reports may meet.
RENDERER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])


def unescaped(text: str) -> list:
    """The meaningful characters of ``text`` that no backslash escapes, and any colon or full stop not between digits."""
    found, index = [], 0
    while index < len(text):
        character = text[index]
        if character == "\\":
            index += 2
            continue
        if character == "&":
            entity = re.match(r"&(amp|lt|gt);", text[index:])
            if not entity:
                found.append(character)
            index += len(entity.group(0)) if entity else 1
            continue
        between_digits = 0 < index < len(text) - 1 and text[index - 1].isdigit() and text[index + 1].isdigit()
        if character in MEANINGFUL or (character in ":." and not between_digits):
            found.append(character)
        index += 1
    return found


def rendered_cells(cells: list) -> list:
    """Render one Markdown table row of ``cells`` and return each cell's inner HTML."""
    source = "| " + " | ".join(f"h{index}" for index in range(len(cells))) + " |\n"
    source += "|" + " --- |" * len(cells) + "\n"
    source += "| " + " | ".join(cells) + " |\n"
    output = RENDERER.render(source)
    body = output.split("<tbody>", 1)[1]
    return re.findall(r"<td>(.*?)</td>", body, flags=re.DOTALL)


def expected_text(value) -> str:
    return visible_text(re.sub("\r\n|[\r\n\v\f\x85\u2028\u2029\t]", " ", str(value))).strip()


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_cell_leaves_nothing_unescaped(value):
    cell = markdown_cell(value)
    assert unescaped(cell) == []
    assert not LINE_BREAK.search(cell)
    assert not set(cell) & BIDI_CONTROLS


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_cell_renders_as_the_text_itself(value):
    neighbour = markdown_cell("next")
    cells = rendered_cells([markdown_cell(value), neighbour])
    # the row kept its two cells, and the hostile one holds no tag, only its text
    assert len(cells) == 2 and cells[1] == "next"
    assert "<" not in cells[0]
    assert html.unescape(cells[0]).strip() == expected_text(value)


def test_markdown_cell_keeps_times_and_decimals_readable():
    assert markdown_cell("2024-05-17T11:00:00.000Z") == "2024-05-17T11:00:00.000Z"
    assert markdown_cell("3.5 h") == "3.5 h"
    assert markdown_cell("Cloud Account Aggregation") == "Cloud Account Aggregation"


@pytest.mark.parametrize(
    "value, text",
    [
        ("Cloud | Aggregation", "Cloud \\| Aggregation"),
        ("line one\nline two\r\nthree\rfour", "line one line two three four"),
        ("<b>", "&lt;b&gt;"),
        ("a&b", "a&amp;b"),
        ("https://x.example", "https\\://x\\.example"),
        ("\u202e", "&lt;U\\+202E&gt;"),
        (None, ""),
        (42, "42"),
        ("plain", "plain"),
    ],
)
def test_markdown_cell_examples(value, text):
    assert markdown_cell(value) == text


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_markdown_cell_renders_any_text_as_itself(value):
    cell = markdown_cell(value)
    assert unescaped(cell) == []
    cells = rendered_cells([cell, "next"])
    assert len(cells) == 2 and cells[1] == "next"
    assert "<" not in cells[0]
    assert html.unescape(cells[0]).strip() == expected_text(value).strip()


@pytest.mark.parametrize("value", HOSTILE)
def test_html_text_is_inert(value):
    text = html_text(value)
    assert not set(text) & set("<>\"'") and not set(text) & BIDI_CONTROLS
    assert re.sub(r"&(amp|lt|gt|quot|#x27);", "", text).count("&") == 0
    assert html.unescape(text) == visible_text(value)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_html_text_round_trips_any_text(value):
    text = html_text(value)
    assert not set(text) & set("<>\"'") and not set(text) & BIDI_CONTROLS
    assert html.unescape(text) == visible_text(value)


@pytest.mark.parametrize("character", sorted(BIDI_CONTROLS))
def test_every_bidirectional_control_is_shown(character):
    assert visible_text(f"a{character}b") == f"a<U+{ord(character):04X}>b"


def test_visible_text_keeps_ordinary_text():
    assert visible_text("Zoë 日本 tab\tline\nend") == "Zoë 日本 tab\tline\nend"
    assert visible_text(None) == ""


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"markdown_cell", "html_text"}
