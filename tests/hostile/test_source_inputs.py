# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile values for every option of source_aggregation and source_info, in check mode: a named corpus, then
properties over generated values, judged as test_module_inputs judges the task modules; and over every run, the
proof that check mode sends no launch (nor a connection test, unless check_connection_in_check_mode asks for it).
"""

from __future__ import annotations

import re

import pytest
from ansible.module_utils.parsing.convert_bool import boolean
from hypothesis import HealthCheck, given, settings

from ansible_collections.sailpoint.isc.tests.hostile import strategies
from ansible_collections.sailpoint.isc.tests.hostile.cases import DROP, INF, NAN
from ansible_collections.sailpoint.isc.tests.hostile.harness import judge, module_argument_spec, run_module
from ansible_collections.sailpoint.isc.tests.hostile.ledger import LEDGER
from ansible_collections.sailpoint.isc.tests.hostile.test_module_inputs import _fill

LAUNCH = "source_aggregation"
INFO = "source_info"
CORPUS = "hostile inputs: sources, named corpus"
PROPERTIES = "hostile inputs: sources, generated (hypothesis)"
EXAMPLES_PER_OPTION = 15
# a source made for this suite, with no aggregation running, so that a check-mode run would launch
TARGET = "Hostile Launch Target"
LAUNCHES = re.compile(r"/load-(accounts|entitlements)$")
CONNECTION_TESTS = re.compile(r"/connector/check-connection$")
CONNECTION_OPTIONS = (
    "base_url",
    "tenant",
    "client_id",
    "client_secret",
    "access_token",
    "api_version",
    "validate_certs",
    "ca_path",
    "timeout",
    "retries",
    "rate_limit",
)


@pytest.fixture(scope="module")
def target(emulator):
    """The suite's own source: a check-mode launch on it predicts a change (so that "no POST" means something)."""
    emulator.control("POST", "/sources", {"name": TARGET})
    observation = run_module(LAUNCH, dict(base_args(emulator, LAUNCH)), check_mode=True)
    assert observation.outcome == "accepted" and observation.result["changed"] is True, observation.describe()
    return TARGET


def base_args(emulator, module) -> dict:
    args = dict(emulator.connection(), retries=1, timeout=10, api_version="v2025")
    if module == LAUNCH:
        args["source_name"] = TARGET
    return args


def _arguments(emulator, module, values) -> dict:
    args = base_args(emulator, module)
    for key, value in values.items():
        if value is DROP:
            args.pop(key, None)
        else:
            args[key] = value
    return _fill(args, {"base_url": emulator.base_url, "hostport": emulator.base_url.split("/")[2]})


def _true(value) -> bool:
    """Whether Ansible reads ``value`` as true for a bool option (yes, 1, "on", ...)."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        return False


def writes_sent(emulator, since, args) -> list:
    """The writes a check-mode run sent: any launch, and a connection test unless the run asked for them."""
    allowed = _true(args.get("check_connection")) and _true(args.get("check_connection_in_check_mode"))
    return [
        f"{entry['method']} {entry['path']}"
        for entry in emulator.requests(since=since)
        if entry["method"] == "POST" and (LAUNCHES.search(entry["path"]) or (CONNECTION_TESTS.search(entry["path"]) and not allowed))
    ]


def _check(emulator, module, option, values, expect, source):
    args = _arguments(emulator, module, values)
    since = emulator.last_seq()
    observation = run_module(module, args, check_mode=True)
    problems = judge(observation, option, None, expect, emulator.secrets(), LEDGER.summary(source))
    problems += [f"check mode sent {write}" for write in writes_sent(emulator, since, args)]
    row = LEDGER.row(source)
    row.runs += 1
    row.bad_inputs_tried += 1
    row.clear_errors += observation.outcome == "refused" and not problems
    row.tracebacks += observation.outcome in ("traceback", "runaway")
    row.leaks_found += sum(problem.startswith("secret shown") for problem in problems)
    return problems, observation


NAMED = [
    (LAUNCH, "source_id", {"source_name": DROP, "source_id": "a/../b"}, "refuse"),
    (LAUNCH, "source_id", {"source_name": DROP, "source_id": "abc%2Fdef"}, "refuse"),
    (LAUNCH, "source_id", {"source_name": DROP, "source_id": "x?y=1"}, "refuse"),
    (LAUNCH, "source_id", {"source_name": DROP, "source_id": " "}, "refuse"),
    (LAUNCH, "source_id", {"source_name": DROP, "source_id": None}, "refuse"),
    (LAUNCH, "source_id", {"source_name": DROP, "source_id": "no-such-source"}, "either"),
    (LAUNCH, "source_name", {"source_name": '" or name sw "'}, "either"),
    (LAUNCH, "source_name", {"source_name": '\\"\\'}, "either"),
    (LAUNCH, "source_name", {"source_name": "a" * 9000}, "either"),
    (LAUNCH, "source_name", {"source_name": ""}, "refuse"),
    (LAUNCH, "source_name", {"source_name": TARGET, "source_id": "abc"}, "refuse"),
    (LAUNCH, "kind", {"kind": "ACCOUNTS"}, "refuse"),
    (LAUNCH, "disable_optimization", {"kind": "entitlements", "disable_optimization": True}, "refuse"),
    (LAUNCH, "if_running", {"if_running": "later"}, "refuse"),
    (LAUNCH, "wait_timeout", {"wait": True, "wait_timeout": NAN}, "refuse"),
    (LAUNCH, "wait_timeout", {"wait_timeout": INF}, "refuse"),
    (LAUNCH, "wait_timeout", {"wait_timeout": 0}, "refuse"),
    (LAUNCH, "wait_timeout", {"wait_timeout": 86401}, "refuse"),
    (LAUNCH, "wait_sleep", {"wait": True, "wait_sleep": 0.1}, "refuse"),
    (LAUNCH, "wait_sleep", {"wait_sleep": "1e999"}, "refuse"),
    (LAUNCH, "require_healthy", {"require_healthy": "maybe"}, "refuse"),
    (INFO, "ids", {"ids": ["../x"]}, "refuse"),
    (INFO, "ids", {"ids": ["ok", ""]}, "refuse"),
    (INFO, "ids", {"ids": ['" or id sw "']}, "either"),
    (INFO, "ids", {"ids": [f"{number:032x}" for number in range(400)]}, "either"),
    (INFO, "names", {"names": [""]}, "refuse"),
    (INFO, "names", {"names": ["a" * 9000]}, "either"),
    (INFO, "names", {"names": ["x"], "ids": ["y"]}, "refuse"),
    (INFO, "max_results", {"max_results": -1}, "refuse"),
    (INFO, "max_results", {"max_results": 10**30}, "refuse"),
    (INFO, "check_connection", {"check_connection": True}, "either"),
    (INFO, "check_connection_in_check_mode", {"check_connection": True, "check_connection_in_check_mode": True, "ids": ["{source}"]}, "either"),
]


@pytest.mark.parametrize("module, option, values, expect", NAMED, ids=[f"{case[0]}-{case[1]}-{index}" for index, case in enumerate(NAMED)])
def test_named_case(module, option, values, expect, emulator, target):
    source_id = next(found["source"]["id"] for found in emulator.control("GET", "/sources") if found["source"]["name"] == target)
    values = {key: [source_id if item == "{source}" else item for item in value] if isinstance(value, list) else value for key, value in values.items()}
    problems, observation = _check(emulator, module, option, values, expect, CORPUS)
    assert not problems, LEDGER.found(f"{module} {option}", problems, observation.describe(), CORPUS)


def _options():
    for module in (LAUNCH, INFO):
        for option, spec in module_argument_spec(module).items():
            if option not in CONNECTION_OPTIONS:
                yield pytest.param(module, option, spec, id=f"{module}-{option}")


# options whose hostile value only matters with another one set, and base options a value would clash with
CONTEXT = {
    "source_id": {"source_name": DROP},
    "wait_timeout": {"wait": True},
    "wait_sleep": {"wait": True},
    "check_connection_in_check_mode": {"check_connection": True, "max_results": 1},
    "check_connection": {"max_results": 1},
}


@pytest.mark.parametrize("module, option, spec", list(_options()))
def test_any_value_of_every_option_in_check_mode(module, option, spec, emulator, target):
    del target

    @settings(max_examples=EXAMPLES_PER_OPTION, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(value=strategies.for_option(option, spec))
    def check(value):
        expect = "refuse" if strategies.must_refuse(option, spec, value) else "either"
        problems, observation = _check(emulator, module, option, dict(CONTEXT.get(option, {}), **{option: value}), expect, PROPERTIES)
        assert not problems, "\n".join(problems) + "\n" + observation.describe()

    try:
        check()
    except (AssertionError, ExceptionGroup) as error:
        for failure in error.exceptions if isinstance(error, ExceptionGroup) else [error]:
            first, _newline, rest = str(failure).partition("\n")
            LEDGER.found(f"{module} {option} (generated, smallest failing value)", [first], rest, PROPERTIES)
        raise
