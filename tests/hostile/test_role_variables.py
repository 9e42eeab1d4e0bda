# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile values for every role variable, through the collection's playbooks in check mode.

One playbook run per role covers every value: each value is one inventory host with a tenant of its own in the
emulator, so the emulator's request log tells which host sent what. A host that fails must fail with a message
that names its variable (and no other variable of the role), with no traceback, and, for a value the role can
judge alone, before any request. Values come from a named corpus and from hypothesis (collected first,
deterministically, then run in the same playbook).
"""

from __future__ import annotations

import math
import pathlib
import re

import pytest
import yaml
from hypothesis import given, settings

from ansible_collections.sailpoint.isc.tests.hostile import strategies
from ansible_collections.sailpoint.isc.tests.hostile.emulator import running_emulator
from ansible_collections.sailpoint.isc.tests.hostile.harness import names_option
from ansible_collections.sailpoint.isc.tests.hostile.ledger import LEDGER
from ansible_collections.sailpoint.isc.tests.hostile.playbook import run_playbook

ROLES_DIR = pathlib.Path(__file__).resolve().parents[2] / "roles"
PLAYBOOKS = {
    "stuck_tasks": "sailpoint.isc.clear_stuck_tasks",
    "task_report": "sailpoint.isc.task_report",
    "wait_for_tasks": "sailpoint.isc.wait_for_tasks",
    "recover_aggregations": "sailpoint.isc.recover_stuck_aggregations",
}
REPORT_DIRS = {"stuck_tasks": "stuck_tasks_report_dir", "task_report": "task_report_dir", "recover_aggregations": "recover_aggregations_report_dir"}
# the roles whose report is written only where the variable is about it, to keep each host's run short
REPORT_SWITCHES = {"stuck_tasks": "stuck_tasks_report_enabled", "recover_aggregations": "recover_aggregations_report_enabled"}
GENERATED_PER_VARIABLE = 1
HTTP_FAILURE = re.compile(r"failed with HTTP \d{3}")
SCENARIO = "hostile inputs: role variables (playbooks)"
# a message about one of these may rightly name the other
REPORT_VARIABLES = {
    "stuck_tasks_report_dir",
    "stuck_tasks_report_enabled",
    "stuck_tasks_progress_note",
    "stuck_tasks_unique_names",
    "task_report_dir",
    "task_report_formats",
    "task_report_unique_names",
    "recover_aggregations_report_dir",
    "recover_aggregations_report_enabled",
    "recover_aggregations_progress_note",
}
RELATED = {
    "stuck_tasks_max_tasks": {"stuck_tasks_ignore_max_tasks"},
    "stuck_tasks_ignore_max_tasks": {"stuck_tasks_max_tasks"},
    "recover_aggregations_max_sources": {"recover_aggregations_ignore_max_sources"},
    "recover_aggregations_ignore_max_sources": {"recover_aggregations_max_sources"},
}

NAN, INF = float("nan"), float("inf")
DURATIONS = [
    ("overflowing-days", "99999999d", "refuse"),
    ("beyond-any-int", "9" * 400, "refuse"),
    ("exponent", "1e9", "refuse"),
    ("negative", "-5m", "refuse"),
    ("empty", "", "refuse"),
    ("bool", True, "refuse"),
]
# each list variable gets a wrong type and one of the hostile strings, in turn
HOSTILE_NAMES = [["a\x00b\x1b[2J\u202e"], ["n" * 10_000], ["{{ 7 * 7 }}", "<script>x</script>"]]
COUNTS = [("minus-one", -1, "refuse"), ("inf", INF, "refuse"), ("word", "many", "refuse")]


def role_specs(role: str) -> dict:
    document = yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    return document["argument_specs"]["main"]["options"]


def _lists(variables) -> list:
    cases = []
    for number, variable in enumerate(variables):
        cases.append((variable, "dict", {"a": 1}, "refuse"))
        cases.append((variable, "hostile-strings", HOSTILE_NAMES[number % len(HOSTILE_NAMES)], "either"))
    return cases


def _corpus() -> dict:
    """role -> [(variable, label, value, expect)]; {tmp} in a value is the test's scratch folder."""
    stuck = [("stuck_tasks_older_than", *case) for case in DURATIONS]
    stuck += _lists(("stuck_tasks_unique_names", "stuck_tasks_types", "stuck_tasks_source_ids", "stuck_tasks_launchers", "stuck_tasks_exclude_names"))
    stuck += [("stuck_tasks_max_tasks", *case) for case in COUNTS] + [("stuck_tasks_concurrency", *case) for case in COUNTS[1:]]
    stuck += [
        ("stuck_tasks_max_tasks", "huge", 10**30, "either"),
        ("stuck_tasks_exclude_ids", "traversal", ["../../x"], "either"),
        ("stuck_tasks_exclude_ids", "dict", {"id": "x"}, "refuse"),
        ("stuck_tasks_completion_status", "unknown", "DONE", "refuse"),
        ("stuck_tasks_completion_status", "lower-case", "error", "either"),
        ("stuck_tasks_progress_note", "long-with-control-characters", "p\x00\x1b[31m\u202e" * 20_000, "either"),
        ("stuck_tasks_ignore_max_tasks", "word", "maybe", "refuse"),
        ("stuck_tasks_concurrency", "zero", 0, "refuse"),
        ("stuck_tasks_concurrency", "seventeen", 17, "refuse"),
        ("stuck_tasks_report_enabled", "word", "maybe", "refuse"),
        ("stuck_tasks_report_dir", "empty", "", "refuse"),
        ("stuck_tasks_report_dir", "below-a-file", "{tmp}/a-file/reports", "refuse"),
        ("stuck_tasks_report_dir", "in-proc", "/proc/hostile-reports", "refuse"),
    ]
    report = [("task_report_stuck_after", *case) for case in DURATIONS]
    report += _lists(("task_report_unique_names", "task_report_types", "task_report_source_ids"))
    report += [("task_report_max_tasks", *case) for case in COUNTS] + [("task_report_list_limit", *case) for case in COUNTS[1:]]
    report += [
        ("task_report_max_tasks", "zero", 0, "refuse"),
        ("task_report_list_limit", "zero", 0, "refuse"),
        ("task_report_max_stuck_tasks", "minus-one", -1, "refuse"),
        ("task_report_max_stuck_tasks", "nan", NAN, "refuse"),
        ("task_report_max_stuck_tasks", "zero-with-stuck-tasks", 0, "either"),
        ("task_report_formats", "unknown", ["pdf"], "refuse"),
        ("task_report_formats", "string", "json", "either"),
        ("task_report_dir", "empty", "", "refuse"),
        ("task_report_dir", "below-a-file", "{tmp}/a-file/reports", "refuse"),
        ("task_report_dir", "in-proc", "/proc/hostile-reports", "refuse"),
    ]
    wait = [
        ("wait_for_tasks_ids", "empty-list", [], "refuse"),
        ("wait_for_tasks_ids", "empty-id", [""], "refuse"),
        ("wait_for_tasks_ids", "traversal", ["../../x"], "refuse"),
        ("wait_for_tasks_ids", "slash", ["a/b"], "refuse"),
        ("wait_for_tasks_ids", "dict", {"id": "x"}, "refuse"),
        ("wait_for_tasks_ids", "unknown", ["0123456789abcdef0123456789abcdef"], "either"),
        ("wait_for_tasks_failure_statuses", "unknown", ["DONE"], "refuse"),
        ("wait_for_tasks_failure_statuses", "empty-string", [""], "refuse"),
        ("wait_for_tasks_failure_statuses", "string", "ERROR", "either"),
        ("wait_for_tasks_timeout", "zero", 0, "refuse"),
        # a real timeout: the message must point at the role's variable, not at the module's wait_timeout
        ("wait_for_tasks_timeout", "too-short-for-a-pending-task", 1, "either"),
        ("wait_for_tasks_poll_interval", "zero", 0, "refuse"),
        ("wait_for_tasks_timeout", "nan", NAN, "refuse"),
        ("wait_for_tasks_poll_interval", "nan", NAN, "refuse"),
    ]
    wait += [("wait_for_tasks_timeout", *case) for case in COUNTS] + [("wait_for_tasks_poll_interval", *case) for case in COUNTS]
    recover = [(variable, *case) for variable in ("recover_aggregations_older_than", "recover_aggregations_cooldown") for case in DURATIONS]
    recover += [("recover_aggregations_wait_timeout", *case) for case in DURATIONS[:3]]
    recover += _lists(
        (
            "recover_aggregations_source_ids",
            "recover_aggregations_source_names",
            "recover_aggregations_exclude_ids",
            "recover_aggregations_exclude_source_ids",
            "recover_aggregations_exclude_source_names",
        )
    )
    recover += [("recover_aggregations_max_sources", *case) for case in COUNTS] + [("recover_aggregations_concurrency", *case) for case in COUNTS[1:]]
    recover += [
        ("recover_aggregations_wait_timeout", "zero", "0s", "refuse"),
        ("recover_aggregations_wait_timeout", "two-days", "2d", "refuse"),
        ("recover_aggregations_unique_names", "list", ["Custom Import"], "refuse"),
        ("recover_aggregations_unique_names", "unknown-kind", {"Custom Import": "groups"}, "refuse"),
        ("recover_aggregations_unique_names", "empty-name", {"": "accounts"}, "refuse"),
        ("recover_aggregations_unique_names", "hostile-name", {"<script>x</script>\u202e": "entitlements"}, "either"),
        ("recover_aggregations_completion_status", "unknown", "DONE", "refuse"),
        ("recover_aggregations_completion_status", "lower-case", "error", "either"),
        ("recover_aggregations_progress_note", "long-with-control-characters", "p\x00\x1b[31m\u202e" * 20_000, "either"),
        ("recover_aggregations_max_sources", "huge", 10**30, "either"),
        ("recover_aggregations_concurrency", "zero", 0, "refuse"),
        ("recover_aggregations_concurrency", "seventeen", 17, "refuse"),
        ("recover_aggregations_ignore_max_sources", "word", "maybe", "refuse"),
        ("recover_aggregations_require_healthy", "word", "maybe", "refuse"),
        ("recover_aggregations_disable_optimization", "word", "maybe", "refuse"),
        ("recover_aggregations_report_enabled", "word", "maybe", "refuse"),
        ("recover_aggregations_report_dir", "empty", "", "refuse"),
        ("recover_aggregations_report_dir", "below-a-file", "{tmp}/a-file/reports", "refuse"),
        ("recover_aggregations_report_dir", "in-proc", "/proc/hostile-reports", "refuse"),
    ]
    return {"stuck_tasks": stuck, "task_report": report, "wait_for_tasks": wait, "recover_aggregations": recover}


CORPUS = _corpus()


def _generated(role: str) -> list:
    """GENERATED_PER_VARIABLE hypothesis values for every variable of the role, drawn before the playbook runs."""
    drawn: list = []
    for variable, spec in role_specs(role).items():
        values: list = []

        @settings(max_examples=GENERATED_PER_VARIABLE + 1)
        @given(value=strategies.for_option(variable, spec))
        def collect(value):
            values.append(value)

        collect()
        # the first example is always the simplest one (often null, which means "the default"): skip it
        drawn += [(variable, f"generated-{number}", value, "refuse" if _must_refuse(spec, value) else "either") for number, value in enumerate(values[1:])]
    return drawn


def _must_refuse(spec: dict, value) -> bool:
    if spec.get("type") == "int" and isinstance(value, float) and not math.isfinite(value):
        return True
    return strategies.must_refuse("", spec, value)


def _fill(value, tmp: pathlib.Path):
    return value.replace("{tmp}", str(tmp)) if isinstance(value, str) else value


def _problems(run, host, variable, expect, requests, others) -> list:
    problems = [f"traceback: {excerpt}" for excerpt in run.tracebacks(host)]
    failure = run.failure(host)
    if failure is None:
        if expect == "refuse":
            problems.append("accepted; expected a failure naming the variable before any request")
        return problems
    message = failure["msg"]
    if expect == "either" and HTTP_FAILURE.search(message):
        # ISC (the emulator) judged the value: a failure that quotes its answer blames the right party
        return problems
    if not names_option(message, variable):
        problems.append(f"failed at {failure['task']!r} without naming {variable}: {message[:300]!r}")
    wrongly_named = sorted(other for other in others - RELATED.get(variable, set()) - {variable} if names_option(message, other))
    if wrongly_named:
        problems.append(f"the message also blames {', '.join(wrongly_named)}, which are valid: {message[:300]!r}")
    if expect == "refuse" and requests:
        problems.append(f"failed only after {requests} requests to ISC; the value was knowable before any")
    return problems


def _count(summary, run, host, variable, expect, requests):
    failure = run.failure(host)
    named = failure is not None and names_option(failure["msg"], variable)
    summary.tried += 1
    summary.refused_naming_option += named
    summary.refused_without_naming += failure is not None and not named
    summary.accepted += failure is None
    summary.tracebacks += bool(run.tracebacks(host))
    summary.missed_refusals += expect == "refuse" and failure is None
    if expect == "refuse":
        summary.requests_for_local_errors += requests


@pytest.mark.parametrize("role", sorted(PLAYBOOKS))
def test_every_role_variable(role, tmp_path, collections_path):
    specs = role_specs(role)
    cases = [("(none)", "baseline", None, "accept")] + CORPUS[role] + _generated(role)
    (tmp_path / "a-file").write_text("a file where a folder is expected\n", encoding="utf-8")
    hosts = {f"h{number:03d}": case for number, case in enumerate(cases)}
    with running_emulator(tenants=tuple(hosts), tasks=4, pending=0, stuck=1) as emulator:
        hostvars = {}
        for host, (variable, label, value, _expect) in hosts.items():
            connection = emulator.connection(host)
            variables = {"isc_base_url": connection["base_url"], "isc_client_id": connection["client_id"], "isc_client_secret": connection["client_secret"]}
            if role in REPORT_DIRS:
                variables[REPORT_DIRS[role]] = str(tmp_path / "reports")
            # the reports cost most of a host's run: written in full only where the variable is about them
            if role in REPORT_SWITCHES and variable not in REPORT_VARIABLES:
                variables[REPORT_SWITCHES[role]] = False
            if role == "task_report" and variable not in REPORT_VARIABLES:
                variables["task_report_formats"] = ["json"]
            if role == "wait_for_tasks":
                waited = emulator.pending_task(host) if label == "too-short-for-a-pending-task" else emulator.completed_task(host)
                variables["wait_for_tasks_ids"] = [waited["id"]]
                variables["wait_for_tasks_poll_interval"] = 1
            if variable in specs:
                variables[variable] = _fill(value, tmp_path)
            hostvars[host] = variables
        run = run_playbook(PLAYBOOKS[role], tmp_path / "run", collections_path, hostvars, check=True)
        requests = {host: len(emulator.requests(tenant=host)) for host in hosts}
    report = []
    row = LEDGER.row(SCENARIO)
    summary = LEDGER.summary(SCENARIO)
    row.record()
    for host, (variable, label, value, expect) in hosts.items():
        problems = _problems(run, host, variable, expect, requests[host], set(specs))
        if expect == "accept" and run.failure(host) is not None:
            problems.append(f"the baseline host failed: {run.failure(host)['msg'][:300]!r}")
        row.record(
            runs=0, bad_inputs_tried=variable in specs, tracebacks=bool(run.tracebacks(host)), clear_errors=run.failure(host) is not None and not problems
        )
        if variable in specs:
            _count(summary, run, host, variable, expect, requests[host])
        if problems:
            shown = repr(value) if len(repr(value)) < 120 else repr(value)[:120] + "..."
            LEDGER.found(f"{role}: {variable}={shown} ({label}, host {host})", problems, scenario=SCENARIO)
            report.append(f"{host} {variable}={shown} ({label}): " + "; ".join(problems))
    assert run.results, f"ansible-playbook recorded no result (rc {run.returncode}):\n{run.stdout[-3000:]}"
    assert not report, f"{len(report)} of {len(hosts)} hosts met their value wrongly:\n" + "\n".join(report)


def test_unusable_report_folder_stops_the_role_before_any_change(tmp_path, collections_path):
    """For real, not in check mode: a report folder that cannot be created fails the run, naming the variable,
    before a single task is closed."""
    (tmp_path / "a-file").write_text("a file where a folder is expected\n", encoding="utf-8")
    folders = {"below-a-file": str(tmp_path / "a-file" / "reports"), "in-proc": "/proc/hostile-reports", "empty": ""}
    hosts = {f"h{number:03d}": label for number, label in enumerate(folders)}
    with running_emulator(tenants=tuple(hosts), tasks=4, pending=0, stuck=3) as emulator:
        hostvars = {}
        for host, label in hosts.items():
            connection = emulator.connection(host)
            hostvars[host] = {
                "isc_base_url": connection["base_url"],
                "isc_client_id": connection["client_id"],
                "isc_client_secret": connection["client_secret"],
                "stuck_tasks_report_dir": folders[label],
            }
        run = run_playbook(PLAYBOOKS["stuck_tasks"], tmp_path / "run", collections_path, hostvars)
        patches = {host: sum(1 for entry in emulator.requests(tenant=host) if entry["method"] == "PATCH") for host in hosts}
    problems = [f"traceback: {excerpt}" for excerpt in run.tracebacks()]
    row = LEDGER.row(SCENARIO)
    row.record()
    for host, label in hosts.items():
        failure = run.failure(host)
        if failure is None:
            problems.append(f"{label}: the run succeeded with stuck_tasks_report_dir={folders[label]!r}")
        elif not names_option(failure["msg"], "stuck_tasks_report_dir"):
            problems.append(f"{label}: failed at {failure['task']!r} without naming stuck_tasks_report_dir: {failure['msg'][:300]!r}")
        if patches[host]:
            problems.append(f"{label}: {patches[host]} tasks were closed (PATCH) before the report folder was found unusable")
        row.record(
            runs=0, bad_inputs_tried=1, clear_errors=failure is not None and names_option(failure["msg"], "stuck_tasks_report_dir") and not patches[host]
        )
    assert run.results, f"ansible-playbook recorded no result (rc {run.returncode}):\n{run.stdout[-3000:]}"
    assert not problems, LEDGER.found("stuck_tasks: an unusable report folder, for real", problems, scenario=SCENARIO)
