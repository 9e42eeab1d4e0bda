# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters built by the collection mean exactly what was asked, checked with the emulator's own parser."""

from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils._filters import combine, condition, is_null, quote

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is not installed (tests/unit/requirements.txt)")
from hypothesis import given, settings  # noqa: E402  pylint: disable=wrong-import-position
from hypothesis import strategies as st


def _emulator_filters():
    """The emulator's public filter parser; this test reads it from the repository, as the task_status test does."""
    here = os.path.dirname(os.path.abspath(__file__))
    emulator_dir = os.path.normpath(os.path.join(here, "..", "..", "..", "emulator"))
    if emulator_dir not in sys.path:
        sys.path.insert(0, emulator_dir)
    try:
        from isc_emulator import filters  # pylint: disable=import-error,import-outside-toplevel
    except ImportError as error:
        pytest.skip(f"the emulator's filter parser (tests/emulator/isc_emulator) cannot be imported: {error}")
    return filters


VALUES = st.text(min_size=0, max_size=40)
FIELDS = st.sampled_from(["id", "sourceId", "completionStatus", "type", "launcher"])


@settings(max_examples=400, deadline=None)
@given(field=FIELDS, values=st.lists(VALUES, min_size=1, max_size=5, unique=True))
def test_any_value_round_trips_through_the_emulator_parser(field, values):
    parsed = _emulator_filters().parse(condition(field, values), "v2026")
    assert parsed.field == field
    assert parsed.op == ("eq" if len(values) == 1 else "in")
    assert list(parsed.values) == values


@settings(max_examples=200, deadline=None)
@given(first=st.lists(VALUES, min_size=1, max_size=3, unique=True), second=VALUES)
def test_values_cannot_escape_their_condition_when_combined(first, second):
    filters = _emulator_filters()
    raw = 'launcher eq "a" or launcher eq "b"'
    tree = filters.parse(combine(condition("type", first), is_null("completionStatus"), condition("sourceId", [second]), raw), "v2026")
    assert isinstance(tree, filters.And) and len(tree.operands) == 4
    assert list(tree.operands[0].values) == first
    assert tree.operands[1] == filters.Comparison("completionStatus", "isnull")
    assert tree.operands[2].values == (second,)
    # the raw expression's "or" stays inside its parentheses
    assert isinstance(tree.operands[3], filters.Or)


@given(value=VALUES)
def test_quote_matches_the_emulator(value):
    assert quote(value) == _emulator_filters().quote(value)


def test_condition_shapes():
    assert condition("type", ["A"]) == 'type eq "A"'
    assert condition("type", ["A", "B", "A"]) == 'type in ("A", "B")'
    assert condition("type", []) is None
    assert quote('a"b\\c') == '"a\\"b\\\\c"'


def test_combine_skips_empty_parts_and_keeps_a_single_one_bare():
    assert combine(None, "", "  ") is None
    assert combine('type eq "A"', None) == 'type eq "A"'
    assert combine("a eq 1", "b eq 2 or c eq 3") == "(a eq 1) and (b eq 2 or c eq 3)"
