# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypothesis strategies of hostile values for every module option and role variable.

Each option draws from a mix: values of its own type at and beyond the edges of what makes sense, values shaped
for what the option means (durations, timestamps, URLs, ids, JSON Patch operations), and values of every wrong
type. The oracle ``must_refuse`` names the values that are wrong for certain and knowable without ISC.
"""

from __future__ import annotations

import math
import re

from hypothesis import strategies as st

# characters that change meaning in a URL path, a header, a filter, Markdown, HTML or a terminal
HOSTILE_CHARACTERS = "/\\?#%.&=+;:@\"'`<>[]{}|^~$!*()\x00\x01\x07\x08\t\n\r\x1b\x7f\u0085\u00a0\u200b\u202e\u2066\ufeff\U0001f600"
HOSTILE_STRINGS = (
    "",
    " ",
    "..",
    "../../etc/passwd",
    "%2e%2e%2f",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "1e999",
    "-0",
    "0x10",
    "null",
    "None",
    "true",
    "{{ 7 * 7 }}",
    "<script>alert(1)</script>",
    "' or '1'='1",
    '" or type eq "x',
    "\r\nX-Injected: 1",
    "\u202eevil",
    "a" * 5000,
    "\U0001f600" * 100,
)
NUMERIC_STRINGS = ("nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999", "1e308", "-1", "0", "5", "1.5", "9" * 40)
DURATION_UNITS = "smhdwSMHDW"
PLACEHOLDER_HOST = "{hostport}"

text = st.text(alphabet=st.one_of(st.characters(codec="utf-8", exclude_categories=("Cs",)), st.sampled_from(HOSTILE_CHARACTERS)), max_size=40)
wrong_types = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
    st.sampled_from(HOSTILE_STRINGS),
    st.lists(st.one_of(text, st.integers(), st.none()), max_size=4),
    st.dictionaries(text, st.one_of(text, st.integers()), max_size=3),
)
edge_floats = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, -1.0, 5e-324, 1.7976931348623157e308, 1e-9, 0.5, 1.0, 3.0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NUMERIC_STRINGS),
)
edge_ints = st.one_of(
    st.sampled_from([-1, 0, 1, 16, 17, 100, 101, 2**31, 2**63, 10**30, -(10**30)]),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from(NUMERIC_STRINGS),
    st.floats(allow_nan=True, allow_infinity=True),
)


@st.composite
def durations(draw):
    """Strings shaped like durations: numbers of any size, known and unknown units, signs and spacing."""
    parts = draw(st.lists(st.tuples(st.integers(min_value=0, max_value=10**25), st.sampled_from(DURATION_UNITS + "xyµ ")), min_size=1, max_size=4))
    sign = draw(st.sampled_from(["", "", "-", "+"]))
    return sign + draw(st.sampled_from(["", " "])).join(f"{number}{unit}" for number, unit in parts)


@st.composite
def timestamps(draw):
    """RFC 3339-like strings from year 0 to 9999 with offsets up to +-23:59, valid or one field off."""
    year = draw(st.integers(min_value=0, max_value=9999))
    month, day = draw(st.integers(min_value=0, max_value=13)), draw(st.integers(min_value=0, max_value=32))
    hour, minute, second = draw(st.integers(0, 25)), draw(st.integers(0, 60)), draw(st.integers(0, 61))
    fraction = draw(st.sampled_from(["", ".0", ".470", ".123456789123"]))
    offset = draw(
        st.one_of(
            st.sampled_from(["Z", "z", "", "+14:00", "-14:00", "+00:00", "-00:00"]),
            st.builds("{}{:02d}:{:02d}".format, st.sampled_from("+-"), st.integers(0, 99), st.integers(0, 99)),
        )
    )
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{offset}"


@st.composite
def urls(draw):
    """URLs of every shape around the emulator's address: schemes, user-info, ports, brackets, paths, queries."""
    scheme = draw(st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "", "//", "http:/", "javascript:"]))
    userinfo = draw(st.sampled_from(["", "", "user@", "user:Hostile-Pa55word-4u@", ":@", "a@b@"]))
    host = draw(st.sampled_from([PLACEHOLDER_HOST, PLACEHOLDER_HOST, "127.0.0.1:99999", "127.0.0.1:-1", "[::1", "[::1]:0", "127.0.0.1:port", "", " "]))
    path = draw(
        st.one_of(
            st.sampled_from(["/acme", "/acme/", "/acme/beta", "/acme/../globex", "/nope", "", "/acme?x=1", "/acme#f"]), text.map(lambda tail: "/acme" + tail)
        )
    )
    return scheme + userinfo + host + path


@st.composite
def task_ids(draw):
    return draw(st.one_of(text, st.sampled_from(HOSTILE_STRINGS), st.builds(lambda a, b: a + b, st.sampled_from(["{pending}", "{completed}", "x"]), text)))


patch_operations = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {
                "op": st.sampled_from(["add", "replace", "test", "remove", "move", "copy", "", "REPLACE"]),
                "path": st.one_of(
                    st.sampled_from(["/completionStatus", "/completed", "/progress", "/percentComplete", "/id", "/", "", "/../x", "/attributes/a~1b"]),
                    text,
                ),
                "value": st.one_of(wrong_types, timestamps(), st.sampled_from(["ERROR", "error", "DONE"])),
            }
        ),
        wrong_types,
    ),
    max_size=3,
)

# option name -> a strategy shaped for what it means; any other option draws by its type
SHAPED = {
    "base_url": urls(),
    "older_than": durations(),
    "completed": st.one_of(timestamps(), st.sampled_from(["now", "NOW", " now ", "yesterday"])),
    "id": task_ids(),
    "ids": st.lists(task_ids(), max_size=4),
    "patch": patch_operations,
    "ca_path": st.one_of(st.sampled_from(["/nonexistent/ca.pem", "/dev/null", "/", "~/x", "$HOME/x", "/tmp/ca\x00.pem"]), text),
    "access_token": st.one_of(text, st.sampled_from(["tok en", "tok\nen", "\u00e9", "a" * 10000])),
    "tenant": st.one_of(text, st.sampled_from(["acme.evil.example", "../acme", "a" * 64, "-acme", "acme-"])),
}
TYPED = {
    "float": edge_floats,
    "int": edge_ints,
    "bool": st.one_of(st.booleans(), st.sampled_from(["yes", "no", "maybe", "1", "2", "", "TRUE"])),
    "str": st.one_of(text, st.sampled_from(HOSTILE_STRINGS)),
    "path": st.one_of(text, st.sampled_from(HOSTILE_STRINGS)),
    "list": st.lists(st.one_of(text, st.sampled_from(HOSTILE_STRINGS)), max_size=4),
    "dict": st.dictionaries(text, text, max_size=3),
}


def for_option(name: str, spec: dict):
    """Values for one option (or role variable) of the given argument spec entry."""
    own = SHAPED.get(name)
    if own is None and spec.get("choices"):
        own = st.one_of(st.sampled_from(list(spec["choices"])), st.sampled_from([str(choice).upper() for choice in spec["choices"]]))
    typed = TYPED.get(spec.get("type", "str"), TYPED["str"])
    if name.endswith(("older_than", "stuck_after")):
        own = durations()
    strategies = [strategy for strategy in (own, typed) if strategy is not None]
    return st.one_of(*strategies, wrong_types)


NUMERIC_TYPES = ("int", "float")
_NONFINITE = re.compile(r"^\s*[-+]?(nan|inf|infinity)\s*$", re.IGNORECASE)


def must_refuse(name: str, spec: dict, value) -> bool:
    """True when ``value`` is certainly wrong for the option and knowably so without ISC."""
    if spec.get("type") in NUMERIC_TYPES:
        if isinstance(value, float) and not math.isfinite(value):
            return True
        if isinstance(value, str) and (_NONFINITE.match(value) or _overflows(value)):
            return True
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            return True
    if name in ("id",) and isinstance(value, str) and _bad_id(value):
        return True
    if name == "ids" and isinstance(value, list) and any(isinstance(item, str) and _bad_id(item) for item in value):
        return True
    return False


def _overflows(value: str) -> bool:
    try:
        return not math.isfinite(float(value))
    except ValueError:
        return False


def _bad_id(value: str) -> bool:
    return not value.strip() or any(char in value for char in "/\\?#%") or ".." in value or any(ord(char) < 32 for char in value)
