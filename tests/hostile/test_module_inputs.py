# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile values for every option of both modules: the named corpus, then properties over generated values.

Each run is one module's main() against the in-process emulator (harness.py). A run fails the test when the user
would have seen a traceback, when a refusal does not name the option or comes after a request, when a value that
is certainly wrong was not refused, or when a secret shows anywhere in the result.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from ansible_collections.sailpoint.isc.tests.hostile import strategies
from ansible_collections.sailpoint.isc.tests.hostile.cases import CASES, DROP, PATCH
from ansible_collections.sailpoint.isc.tests.hostile.harness import MODULES, input_counts, judge, module_argument_spec, run_module
from ansible_collections.sailpoint.isc.tests.hostile.ledger import LEDGER

CORPUS = "hostile inputs: named corpus"
PROPERTIES = "hostile inputs: generated (hypothesis)"
EXAMPLES_PER_OPTION = 20


def _fill(value, places):
    """``value`` with the placeholders of cases.py filled in, in every string however deeply nested."""
    if isinstance(value, str):
        for key, replacement in places.items():
            value = value.replace("{" + key + "}", replacement)
        return value
    if isinstance(value, list):
        return [_fill(item, places) for item in value]
    if isinstance(value, dict):
        return {_fill(key, places): _fill(item, places) for key, item in value.items()}
    return value


def _mentions(value, placeholder) -> bool:
    return ("{" + placeholder + "}") in repr(value)


def _places(emulator, value) -> dict:
    places = {"base_url": emulator.base_url, "hostport": emulator.base_url.split("/")[2]}
    if _mentions(value, "pending"):
        places["pending"] = emulator.pending_task()["id"]
    if _mentions(value, "completed"):
        places["completed"] = emulator.completed_task()["id"]
    return places


def base_args(emulator, module) -> dict:
    """Valid arguments the hostile value is added to: a connection, and for task_status a task and a change."""
    args = dict(emulator.connection(), retries=1, timeout=10)
    if module == PATCH:
        args.update(id="{pending}", completion_status="ERROR")
    return args


def _arguments(emulator, module, values) -> tuple[dict, dict]:
    args = base_args(emulator, module)
    for key, value in values.items():
        if value is DROP:
            args.pop(key, None)
        else:
            args[key] = value
    return args, _places(emulator, args)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_named_case(case, emulator):
    args, places = _arguments(emulator, case.module, case.values)
    args = _fill(args, places)
    env = _fill(case.env, places)
    observation = run_module(case.module, args, env=env, check_mode=case.check_mode)
    problems = judge(observation, case.option, case.env_name, case.expect, emulator.secrets() + list(case.probes), LEDGER.summary(CORPUS))
    LEDGER.row(CORPUS).record(**input_counts(observation, problems))
    assert not problems, LEDGER.found(case.name, problems, observation.describe(), CORPUS)


def _options():
    for module in MODULES:
        for option, spec in module_argument_spec(module).items():
            yield pytest.param(module, option, spec, id=f"{module}-{option}")


# options whose hostile value only matters with another option set, and base options a value would clash with
CONTEXT = {
    "wait_timeout": {"wait": True, "id": "{completed}"},
    "wait_sleep": {"wait": True, "id": "{completed}"},
    "ids": {"id": DROP},
    "concurrency": {"ids": ["{pending}"], "id": DROP},
    "access_token": {"client_id": DROP, "client_secret": DROP},
    "tenant": {"base_url": DROP},
}


@pytest.mark.parametrize("module, option, spec", list(_options()))
def test_any_value_of_every_option(module, option, spec, emulator):
    row = LEDGER.row(PROPERTIES)
    summary = LEDGER.summary(PROPERTIES)

    @settings(max_examples=EXAMPLES_PER_OPTION, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(value=strategies.for_option(option, spec))
    def check(value):
        values = dict(CONTEXT.get(option, {}), **{option: value})
        args, places = _arguments(emulator, module, values)
        args = _fill(args, places)
        expect = "refuse" if strategies.must_refuse(option, spec, value) else "either"
        observation = run_module(module, args, check_mode=True)
        problems = judge(observation, option, None, expect, emulator.secrets() + ["Hostile-Pa55word-4u"], summary)
        row.record(**input_counts(observation, problems))
        assert not problems, "\n".join(problems) + "\n" + observation.describe()

    try:
        check()
    except (AssertionError, ExceptionGroup) as error:
        # hypothesis raises the smallest failing example of each distinct failure: those are the findings
        for failure in error.exceptions if isinstance(error, ExceptionGroup) else [error]:
            first, _newline, rest = str(failure).partition("\n")
            LEDGER.found(f"{module} {option} (generated, smallest failing value)", [first], rest, PROPERTIES)
        raise
