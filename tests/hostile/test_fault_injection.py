# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Truthful results under faults: 500 pending tasks closed by task_status while 20% of the answers are faults.

The faults (429, 500, 502, 503 and dropped connections) are drawn from a seeded sequence, so every run meets the
same ones. Afterwards every task must be as the result reports it: closed when reported handled; still pending
when reported failed, unless the failure says that its PATCH may have been applied. A rerun without faults then
closes the rest and changes nothing else.
"""

from __future__ import annotations

import datetime
import json
import re

from ansible_collections.sailpoint.isc.tests.hostile.emulator import new_task, running_emulator
from ansible_collections.sailpoint.isc.tests.hostile.harness import leaks, run_module
from ansible_collections.sailpoint.isc.tests.hostile.ledger import LEDGER
from ansible_collections.sailpoint.isc.tests.hostile.playbook import run_playbook

TASKS = 500
FAULT_RATE = 0.2
SCENARIO = f"fault injection: {TASKS} tasks closed, {FAULT_RATE:.0%} faults"
MAYBE_APPLIED = ("may have been applied", "may have applied", "might have been applied", "may already have been applied")


def _close(emulator, ids):
    args = dict(emulator.connection(), ids=ids, completion_status="ERROR", completed="now", progress="closed by the hostile suite", concurrency=8, retries=3)
    # ISC's rate limit is not what this run is about: the client's own window would only make it slow
    return run_module("task_status", args, env={"SAIL_RATE_LIMIT": "off"}, budget=20 * TASKS, guard_seconds=600)


def test_every_task_ends_as_reported():
    with running_emulator(tenants=("acme",), tasks=10, pending=0, stuck=0) as emulator:
        created = emulator.put_tasks([new_task(completionStatus=None, completed=None, percentComplete=5) for _task in range(TASKS)])
        ids = [task["id"] for task in created]
        emulator.set_faults(fault_rate=FAULT_RATE, statuses=[429, 500, 502, 503], retry_after=0, drop_rate=0.05, fault_seed=20)
        seq = emulator.last_seq()
        observation = _close(emulator, ids)
        emulator.set_faults()
        faults = sum(1 for entry in emulator.requests(since=seq) if entry.get("fault"))
        state = {task["id"]: task for task in emulator.tasks()}
        result = observation.result
        failures = {failure["id"]: failure for failure in result.get("failures") or []}
        wrong = []
        for task_id in ids:
            closed = state[task_id].get("completionStatus") == "ERROR"
            failure = failures.get(task_id)
            if failure is None and not closed:
                wrong.append(f"{task_id}: reported handled, but it is still pending")
            elif failure is not None and closed and not any(phrase in str(failure.get("msg")) for phrase in MAYBE_APPLIED):
                wrong.append(f"{task_id}: reported failed ({str(failure.get('msg'))[:200]}), but it was closed")
        problems = []
        if observation.outcome in ("traceback", "runaway"):
            problems.append(f"{observation.outcome}: {observation.msg[:500]}")
        closed_count = sum(1 for task_id in ids if state[task_id].get("completionStatus") == "ERROR")
        if closed_count and not result.get("changed"):
            problems.append(f"{closed_count} tasks were closed, but the result says changed: false")
        problems += leaks(observation, emulator.secrets())
        rerun = _close(emulator, ids)
        after = {task["id"]: task for task in emulator.tasks()}
        still_pending = [task_id for task_id in ids if after[task_id].get("completionStatus") != "ERROR"]
        if still_pending or rerun.outcome != "accepted":
            problems.append(f"the rerun without faults left {len(still_pending)} tasks pending ({rerun.outcome}: {rerun.msg[:300]})")
    LEDGER.row(SCENARIO).record(
        runs=2,
        faults_injected=faults,
        tasks_targeted=TASKS,
        tasks_correct=TASKS - len(wrong),
        tracebacks=observation.outcome in ("traceback", "runaway"),
        leaks_found=sum(1 for problem in problems if problem.startswith(observation.module)),
    )
    LEDGER.notes.append(
        f"{SCENARIO}: {faults} faults met, {len(failures)} tasks reported failed, {closed_count} closed by the first run, "
        f"{observation.requests} HTTP attempts; the rerun: {rerun.requests} HTTP attempts"
    )
    assert faults, "the emulator injected no fault"
    assert not wrong and not problems, LEDGER.found(
        SCENARIO, problems + wrong[:20] + ([f"... {len(wrong) - 20} more"] if len(wrong) > 20 else []), scenario=SCENARIO
    )


ROLE_TASKS = 12
ROLE_SCENARIO = f"fault injection: stuck_tasks role, {ROLE_TASKS} tasks, 30% faults"


def test_stuck_tasks_role_reports_what_happened(tmp_path, collections_path):
    """The role under faults: its report and its summary say which tasks were closed, exactly those are, and the
    run shows the change although part of it failed."""
    with running_emulator(tenants=("acme",), tasks=4, pending=0, stuck=0) as emulator:
        stuck = emulator.put_tasks(
            [new_task(completionStatus=None, completed=None, created=_days_ago(3), launched=_days_ago(3)) for _task in range(ROLE_TASKS)]
        )
        ids = {task["id"] for task in stuck}
        connection = emulator.connection()
        hosts = {
            "acme": {
                "isc_base_url": connection["base_url"],
                "isc_client_id": connection["client_id"],
                "isc_client_secret": connection["client_secret"],
                "stuck_tasks_report_dir": str(tmp_path / "reports"),
            }
        }
        emulator.set_faults(fault_rate=0.3, statuses=[500, 502], fault_seed=4)
        seq = emulator.last_seq()
        run = run_playbook("sailpoint.isc.clear_stuck_tasks", tmp_path / "run", collections_path, hosts, env={"SAIL_RATE_LIMIT": "off"})
        emulator.set_faults()
        faults = sum(1 for entry in emulator.requests(since=seq) if entry.get("fault"))
        closed = {task["id"] for task in emulator.tasks() if task["id"] in ids and task.get("completionStatus") == "ERROR"}
    problems = [f"traceback: {excerpt}" for excerpt in run.tracebacks()]
    reports = sorted((tmp_path / "reports" / "acme").glob("stuck-tasks-*-applied.json"))
    reported: set = set()
    if not reports:
        problems.append("no report was written")
    else:
        report = json.loads(reports[-1].read_text(encoding="utf-8"))
        reported = set(report.get("closed_ids") or [])
        if reported != closed:
            problems.append(
                f"the report lists {len(reported)} closed tasks, the tenant has {len(closed)} closed: "
                f"reported but open {sorted(reported - closed)}, closed but not reported {sorted(closed - reported)}"
            )
    recap = re.search(r"^acme\s*:.*changed=(\d+)", run.stdout, re.M)
    if closed and (recap is None or recap.group(1) == "0"):
        problems.append(f"{len(closed)} tasks were closed, but the play recap shows no change: {recap.group(0) if recap else 'no recap line'}")
    LEDGER.row(ROLE_SCENARIO).record(
        faults_injected=faults,
        tasks_targeted=ROLE_TASKS,
        tasks_correct=sum(1 for task_id in ids if (task_id in reported) == (task_id in closed)) if reports else 0,
        tracebacks=len(run.tracebacks()),
    )
    assert faults, "the emulator injected no fault"
    assert run.results, f"ansible-playbook recorded no result (rc {run.returncode}):\n{run.stdout[-3000:]}"
    assert not problems, LEDGER.found(ROLE_SCENARIO, problems, scenario=ROLE_SCENARIO)


def _days_ago(days):
    return (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
