# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils._durations import parse_duration


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("90s", 90),
        ("30m", 1800),
        ("6h", 21600),
        ("2d", 172800),
        ("1w", 604800),
        ("1h30m", 5400),
        ("1H 30M", 5400),
        (" 45 ", 45),
        ("0s", 0),
        ("120", 120),
        (15, 15),
        ("2d12h", 216000),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "6x", "h6", "-5m", "1.5h", "6 hours", "5m-", True, None, [], "1h and 2m"])
def test_malformed_durations_name_the_option(text):
    with pytest.raises(ValueError, match="^older_than must"):
        parse_duration(text)


def test_the_option_name_is_the_callers():
    with pytest.raises(ValueError, match="^wait_for must"):
        parse_duration("soon", option="wait_for")


def test_negative_integer_is_refused():
    with pytest.raises(ValueError, match="negative"):
        parse_duration(-1)
