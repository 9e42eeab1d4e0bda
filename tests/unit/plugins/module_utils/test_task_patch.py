# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import dataclasses
import itertools
import re
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import jsonpatch
import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils import _task_patch as task_patch
from ansible_collections.sailpoint.isc.plugins.module_utils._client import API_VERSIONS
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    OptionError,
    ServerError,
    TransportError,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._redact import Redactor
from ansible_collections.sailpoint.isc.plugins.module_utils._timestamps import (
    format_timestamp,
    parse_rfc3339,
    same_instant,
)
from ansible_collections.sailpoint.isc.tests.unit.plugins import fake_isc

NOW = datetime(2024, 5, 17, 20, 0, 0, 123000, tzinfo=timezone.utc)
NOW_TEXT = "2024-05-17T20:00:00.123Z"
PENDING_TASK = {
    "description": "Aggregate source accounts",
    "target": None,
    "created": "2024-05-17T18:00:00.000Z",
    "modified": "2024-05-17T18:05:00.000Z",
    "launched": "2024-05-17T18:00:01.000Z",
    "completed": None,
    "completionStatus": None,
    "attributes": {},
    "progress": "Started",
    "percentComplete": 40,
}


def pending_task(task_id="a1", **overrides):
    """The task of these tests: pending, launched two hours before NOW, 40 % done."""
    return fake_isc.make_task(task_id, **dict(PENDING_TASK, **overrides))


def params(**overrides):
    base = {
        "id": None,
        "ids": None,
        "completion_status": None,
        "completed": None,
        "progress": None,
        "percent_complete": None,
        "patch": None,
        "only_pending": True,
        "guard": True,
        "concurrency": 4,
        "tasks": None,
    }
    base.update(overrides)
    return base


def run(client, options, check_mode, diff, now=NOW):
    """What the module does: validate its options into a plan, then run the plan."""
    return task_patch.run(client, task_patch.validate(options, now), check_mode, diff, now=now)


class FakeClient:
    """Stands in for IscClient: GET and PATCH on a dict of tasks, RFC 6902 tests honoured (409), a request log."""

    def __init__(self, tasks, get_errors=None, patch_errors=None, before_patch=None, secrets=(), version="beta", pending_reads=False, claims=None):
        # with pending_reads False the fake has no pending-tasks operation, so beta reads each task by id
        self.version = dataclasses.replace(API_VERSIONS[version], has_pending_endpoint=API_VERSIONS[version].has_pending_endpoint and pending_reads)
        self.token_claims = claims or {}
        self.tasks = {task["id"]: copy.deepcopy(task) for task in tasks}
        self.redactor = Redactor(secrets)
        self.get_errors = get_errors or {}
        self.patch_errors = patch_errors or {}
        self.before_patch = before_patch
        self.log = []
        self._lock = threading.Lock()

    def _record(self, *entry):
        with self._lock:
            self.log.append(entry)

    def get_task(self, task_id):
        self._record("GET", task_id)
        if task_id in self.get_errors:
            raise self.get_errors[task_id]
        if task_id not in self.tasks:
            raise NotFoundError(f"GET /beta/task-status/{task_id} failed with HTTP 404", status=404)
        return copy.deepcopy(self.tasks[task_id])

    def claims(self):
        return self.token_claims

    def count_tasks(self, filters=None, operation="list"):
        self._record("COUNT", operation)
        return sum(1 for task in self.tasks.values() if task["completionStatus"] is None)

    def iter_pages(self, filters=None, sorters=None, max_results=None, operation="list", page_size=250):
        if operation == "pending":
            selected = [task for task in self.tasks.values() if task["completionStatus"] is None]
        else:
            wanted = re.findall(r'"([^"]*)"', filters or "")
            selected = [task for task in self.tasks.values() if task["id"] in wanted]
            if not self.version.list_includes_pending:
                selected = [task for task in selected if task["completionStatus"] is not None]
        for start in range(0, max(len(selected), 1), page_size):
            # one request per page, as ISC answers
            self._record("LIST", operation, filters)
            yield copy.deepcopy(selected[start : start + page_size])

    def patch_task(self, task_id, operations):
        self._record("PATCH", task_id, copy.deepcopy(operations))
        assert all(operation.get("value") is not None for operation in operations), "null sent"
        if self.before_patch:
            self.before_patch(self, task_id)
        if task_id in self.patch_errors:
            raise self.patch_errors[task_id]
        try:
            updated = jsonpatch.apply_patch(self.tasks[task_id], operations)
        except jsonpatch.JsonPatchTestFailed:
            raise ConflictError(f"PATCH /beta/task-status/{task_id} failed with HTTP 409", status=409) from None
        updated["modified"] = format_timestamp(NOW + timedelta(seconds=1))
        self.tasks[task_id] = updated
        return copy.deepcopy(updated)

    def patches(self):
        return [entry for entry in self.log if entry[0] == "PATCH"]


# ---------------------------------------------------------------------------------------------------------------
# timestamps
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-05-17T19:33:16.470Z", "2024-05-17T19:33:16.470Z"),
        ("2024-05-17T19:33:16Z", "2024-05-17T19:33:16.000Z"),
        ("2024-05-17t19:33:16.4z", "2024-05-17T19:33:16.400Z"),
        ("2024-05-17T21:33:16.470123+02:00", "2024-05-17T19:33:16.470Z"),
        ("2024-05-17 19:33:16+00:00", "2024-05-17T19:33:16.000Z"),
    ],
)
def test_timestamps_normalise_to_isc_format(text, expected):
    assert format_timestamp(parse_rfc3339(text)) == expected


@pytest.mark.parametrize("text", ["2024-05-17", "2024-05-17T19:33:16", "yesterday", "2024-13-01T00:00:00Z", ""])
def test_timestamps_refuse_what_is_not_rfc3339(text):
    with pytest.raises(ValueError):
        parse_rfc3339(text)


def test_same_instant_compares_instants_not_spelling():
    assert same_instant("2024-05-17T19:33:16.470Z", "2024-05-17T21:33:16.47+02:00")
    assert not same_instant("2024-05-17T19:33:16.470Z", "2024-05-17T19:33:16.471Z")
    assert not same_instant(None, "2024-05-17T19:33:16.470Z")


# ---------------------------------------------------------------------------------------------------------------
# validation: bad input is an error naming the option, before any request
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["error", "Error", "ERROR", " error "])
def test_completion_status_any_case_in_upper_case_out(given):
    plan = task_patch.validate(params(id="a1", completion_status=given), NOW)
    assert plan.desired.fields == {"completionStatus": "ERROR"}


@pytest.mark.parametrize(
    "overrides, option",
    [
        ({"completion_status": "DONE"}, "completion_status"),
        ({"completion_status": "TEMP_ERROR"}, "completion_status"),
        ({"completed": "last tuesday"}, "completed"),
        ({"completed": "2024-05-17T19:33:16"}, "completed"),
        ({"completed": "2024-05-17T20:00:01Z"}, "lies in the future"),
        ({"percent_complete": 101}, "percent_complete"),
        ({"percent_complete": -1}, "percent_complete"),
        ({"concurrency": 0, "progress": "x"}, "concurrency"),
        ({"concurrency": 17, "progress": "x"}, "concurrency"),
        ({"patch": {"op": "replace"}}, "patch must be a list"),
        ({"patch": ["replace"]}, "patch[0]"),
        ({"patch": [{"op": "remove", "path": "/progress"}]}, "patch[0]: op 'remove'"),
        ({"patch": [{"op": "move", "from": "/a", "path": "/progress"}]}, "patch[0] has unsupported keys: from"),
        ({"patch": [{"op": "replace", "path": "/progress"}]}, "patch[0] needs a value"),
        ({"patch": [{"op": "replace", "path": "/progress", "value": None}]}, "patch[0] needs a value that is not null"),
        ({"patch": [{"op": "test", "path": "/completionStatus", "value": None}]}, "not null"),
        ({"patch": [{"op": "replace", "path": "/launcher", "value": "me"}]}, "path '/launcher' is not writable"),
        ({"patch": [{"op": "replace", "path": "/attributes/x", "value": 1}]}, "is not writable"),
        ({"patch": [{"op": "test", "path": "/nope", "value": 1}]}, "outside the task"),
        ({"patch": [{"op": "replace", "path": "progress", "value": "x"}]}, "JSON Pointer"),
        ({"patch": [{"op": "replace", "path": "/percentComplete", "value": "50"}]}, "patch[0].value must be an integer"),
        ({"patch": [{"op": "replace", "path": "/completionStatus", "value": "nah"}]}, "patch[0].value"),
        ({"completion_status": "ERROR", "patch": [{"op": "replace", "path": "/completionStatus", "value": "ERROR"}]}, "option completion_status sets too"),
        ({"patch": [{"op": "test", "path": "/percentComplete", "value": 40}]}, "nothing to change"),
    ],
)
def test_bad_input_names_the_option(overrides, option):
    with pytest.raises(OptionError) as exc:
        task_patch.validate(params(id="a1", **overrides), NOW)
    assert option in exc.value.message


def test_nothing_to_change_is_an_error():
    with pytest.raises(OptionError, match="nothing to change"):
        task_patch.validate(params(id="a1"), NOW)


def test_duplicate_ids_are_refused():
    with pytest.raises(OptionError, match="ids must not repeat a task id; repeated: a1"):
        task_patch.validate(params(ids=["a1", "a2", "a1"], completion_status="ERROR"), NOW)


@pytest.mark.parametrize("bad", ["a/b", "..", ".", "a..b", "a?b=1", "a%2Fb", "a#b", "a\\b", "a\nb", "a\x01b", "", "  "])
def test_ids_that_would_change_the_path_are_refused(bad):
    with pytest.raises(OptionError, match=r"ids\[1\]"):
        task_patch.validate(params(ids=["a1", bad], completion_status="ERROR"), NOW)
    with pytest.raises(OptionError, match=r"^id "):
        task_patch.validate(params(id=bad, completion_status="ERROR"), NOW)


def test_bad_input_sends_no_request():
    client = FakeClient([pending_task()])
    with pytest.raises(OptionError):
        run(client, params(id="a1", completion_status="FINISHED"), False, False, now=NOW)
    assert client.log == []


def test_empty_ids_change_nothing():
    client = FakeClient([])
    result = run(client, params(ids=[], completion_status="ERROR"), False, True, now=NOW)
    assert result["changed"] is False and result["tasks"] == [] and result["patch"] == {} and client.log == []


def test_completed_is_normalised_to_isc_format():
    plan = task_patch.validate(params(id="a1", completed="2024-05-17T21:33:16.47+02:00"), NOW)
    assert plan.desired.fields == {"completed": "2024-05-17T19:33:16.470Z"}
    assert plan.desired.completed_now is False


# ---------------------------------------------------------------------------------------------------------------
# the diff: only the difference, nothing when there is none
# ---------------------------------------------------------------------------------------------------------------


def desired(**overrides):
    return task_patch.validate(params(id="a1", **overrides), NOW).desired


def changes(plan):
    return [operation for operation in plan.operations if operation["op"] != "test"]


def test_pending_task_gets_status_and_completed():
    plan = task_patch.plan_task(pending_task(), desired(completion_status="error", completed="now"), NOW)
    assert changes(plan) == [
        {"op": "replace", "path": "/completionStatus", "value": "ERROR"},
        {"op": "replace", "path": "/completed", "value": NOW_TEXT},
    ]
    assert plan.predicted["completionStatus"] == "ERROR" and plan.predicted["completed"] == NOW_TEXT
    assert plan.changed_fields == ("completionStatus", "completed")


def test_no_difference_means_no_operations():
    task = pending_task(progress="Cleared", percentComplete=100)
    plan = task_patch.plan_task(task, desired(progress="Cleared", percent_complete=100), NOW)
    assert plan.operations == [] and plan.changed_fields == () and plan.predicted == task


def test_only_changed_fields_are_sent():
    plan = task_patch.plan_task(pending_task(), desired(progress="Started", percent_complete=100), NOW)
    assert changes(plan) == [{"op": "replace", "path": "/percentComplete", "value": 100}]


def test_status_compared_case_insensitively():
    task = pending_task(completionStatus="Error", completed="2024-05-17T19:00:00.000Z")
    plan = task_patch.plan_task(task, desired(completion_status="ERROR", only_pending=False), NOW)
    assert plan.operations == [] and plan.predicted["completionStatus"] == "Error"


def test_status_in_another_case_through_raw_patch_needs_no_change():
    task = pending_task(completionStatus="Success", completed="2024-05-17T19:00:00.000Z")
    wanted = desired(only_pending=False, patch=[{"op": "replace", "path": "/completionStatus", "value": "success"}])
    assert task_patch.plan_task(task, wanted, NOW).operations == []


def test_same_instant_in_another_spelling_needs_no_change():
    task = pending_task(completed="2024-05-17T19:33:16.470Z", completionStatus="ERROR")
    plan = task_patch.plan_task(task, desired(completed="2024-05-17T21:33:16.470+02:00", only_pending=False), NOW)
    assert plan.operations == []


def test_completed_before_created_is_reported_not_sent():
    plan = task_patch.plan_task(pending_task(), desired(completed="2024-05-17T17:00:00Z"), NOW)
    assert plan.operations == [] and "before the task was created" in plan.error


def test_diff_uses_add_for_a_missing_writable_field():
    task = pending_task()
    del task["progress"]
    assert task_patch.diff_operations(task, dict(task, progress="x")) == [{"op": "add", "path": "/progress", "value": "x"}]


def test_diff_never_touches_fields_that_are_not_writable():
    task = pending_task()
    target = dict(task, launcher="someone else", completionStatus="ERROR")
    assert task_patch.diff_operations(task, target) == [{"op": "replace", "path": "/completionStatus", "value": "ERROR"}]


# ---------------------------------------------------------------------------------------------------------------
# completed: now
# ---------------------------------------------------------------------------------------------------------------


def test_now_sets_completed_when_the_task_has_none():
    plan = task_patch.plan_task(pending_task(), desired(completed="NOW"), NOW)
    assert changes(plan) == [{"op": "replace", "path": "/completed", "value": NOW_TEXT}]


def test_now_keeps_an_existing_completed():
    task = pending_task(completed="2024-05-17T19:00:00.000Z", completionStatus="ERROR")
    plan = task_patch.plan_task(task, desired(completed="now", completion_status="error", only_pending=False), NOW)
    assert plan.operations == []


def test_now_on_a_rerun_changes_nothing():
    client = FakeClient([pending_task()])
    first = run(client, params(id="a1", completion_status="ERROR", completed="now"), False, False, now=NOW)
    later = NOW + timedelta(minutes=5)
    second = run(client, params(id="a1", completion_status="ERROR", completed="now", only_pending=False), False, False, now=later)
    assert first["changed"] is True and second["changed"] is False
    assert second["task"]["completed"] == NOW_TEXT and len(client.patches()) == 1


# ---------------------------------------------------------------------------------------------------------------
# only_pending
# ---------------------------------------------------------------------------------------------------------------


def test_finished_task_left_alone_and_reported():
    task = pending_task(completionStatus="SUCCESS", completed="2024-05-17T19:00:00.000Z")
    client = FakeClient([task])
    result = run(client, params(id="a1", completion_status="ERROR", completed="now"), False, True, now=NOW)
    assert result["changed"] is False and result["patch"] == {"a1": []} and client.patches() == []
    assert result["left_alone"] == [{"id": "a1", "reason": result["left_alone"][0]["reason"]}]
    assert "SUCCESS" in result["left_alone"][0]["reason"] and "only_pending" in result["left_alone"][0]["reason"]
    assert result["task"] == task and result["diff"] == {"before": {}, "after": {}}


def test_finished_task_changed_when_only_pending_is_false():
    task = pending_task(completionStatus="SUCCESS", completed="2024-05-17T19:00:00.000Z")
    plan = task_patch.plan_task(task, desired(completion_status="ERROR", only_pending=False), NOW)
    assert changes(plan) == [{"op": "replace", "path": "/completionStatus", "value": "ERROR"}]


# ---------------------------------------------------------------------------------------------------------------
# the guard
# ---------------------------------------------------------------------------------------------------------------


def test_guard_tests_modified_and_percent_complete_first():
    plan = task_patch.plan_task(pending_task(), desired(completion_status="ERROR"), NOW)
    assert plan.operations[:2] == [
        {"op": "test", "path": "/modified", "value": "2024-05-17T18:05:00.000Z"},
        {"op": "test", "path": "/percentComplete", "value": 40},
    ]


def test_guard_skips_a_null_modified():
    plan = task_patch.plan_task(pending_task(modified=None), desired(completion_status="ERROR"), NOW)
    assert [o for o in plan.operations if o["op"] == "test"] == [{"op": "test", "path": "/percentComplete", "value": 40}]


@pytest.mark.parametrize(
    "modified, percent, progress, completed",
    list(itertools.product([None, "2024-05-17T18:05:00.000Z"], [None, 0, 40], [None, "Started"], [None, "2024-05-17T19:00:00.000Z"])),
)
def test_no_operation_ever_carries_null(modified, percent, progress, completed):
    task = pending_task(modified=modified, percentComplete=percent, progress=progress, completed=completed)
    wanted = desired(completion_status="ERROR", completed="now", progress="Cleared", percent_complete=100)
    plan = task_patch.plan_task(task, wanted, NOW)
    assert plan.operations and all(operation["value"] is not None for operation in plan.operations)


def test_guard_false_sends_no_tests():
    plan = task_patch.plan_task(pending_task(), desired(completion_status="ERROR", guard=False), NOW)
    assert all(operation["op"] != "test" for operation in plan.operations)


def test_no_change_sends_no_guard_either():
    task = pending_task(progress="Cleared")
    assert task_patch.plan_task(task, desired(progress="Cleared"), NOW).operations == []


def test_task_finished_between_read_and_write_is_reported_not_overwritten():
    def finish_meanwhile(client, task_id):
        client.before_patch = None
        client.tasks[task_id].update(completionStatus="SUCCESS", completed="2024-05-17T19:59:00.000Z", percentComplete=100, modified="2024-05-17T19:59:00.000Z")

    client = FakeClient([pending_task()], before_patch=finish_meanwhile)
    result = run(client, params(id="a1", completion_status="ERROR", completed="now"), False, True, now=NOW)
    assert client.tasks["a1"]["completionStatus"] == "SUCCESS"
    assert result["changed"] is False and result["failed_ids"] == ["a1"]
    assert result["failures"][0]["status"] == 409
    assert "changed between the read and the write" in result["msg"] and "'SUCCESS'" in result["msg"]
    assert result["task"]["completionStatus"] == "SUCCESS"
    assert [entry[0] for entry in client.log] == ["GET", "PATCH", "GET"]
    assert result["diff"] == {"before": {}, "after": {}}


# ---------------------------------------------------------------------------------------------------------------
# raw patch
# ---------------------------------------------------------------------------------------------------------------


def test_raw_patch_applied_locally_and_idempotent():
    client = FakeClient([pending_task()])
    options = params(id="a1", completion_status="TERMINATED", completed="now", patch=[{"op": "replace", "path": "/percentComplete", "value": 100}])
    first = run(client, options, False, False, now=NOW)
    second = run(client, dict(options, only_pending=False), False, False, now=NOW)
    assert first["changed"] and not second["changed"] and second["patch"] == {"a1": []}
    assert client.tasks["a1"]["percentComplete"] == 100 and len(client.patches()) == 1


def test_raw_test_operation_is_checked_locally_and_sent():
    wanted = desired(completion_status="ERROR", patch=[{"op": "test", "path": "/launcher", "value": "sweep"}])
    plan = task_patch.plan_task(pending_task(), wanted, NOW)
    assert {"op": "test", "path": "/launcher", "value": "sweep"} in plan.operations
    failing = desired(completion_status="ERROR", patch=[{"op": "test", "path": "/launcher", "value": "bob"}])
    plan = task_patch.plan_task(pending_task(), failing, NOW)
    assert plan.operations == [] and "does not hold" in plan.error


# ---------------------------------------------------------------------------------------------------------------
# run: check mode, real run, rerun, diff
# ---------------------------------------------------------------------------------------------------------------


def test_check_mode_reads_predicts_and_sends_nothing():
    client = FakeClient([pending_task()])
    result = run(client, params(id="a1", completion_status="ERROR", completed="now"), True, True, now=NOW)
    assert client.patches() == [] and client.tasks["a1"]["completionStatus"] is None
    assert result["changed"] is True
    assert result["task"]["completionStatus"] == "ERROR" and result["task"]["completed"] == NOW_TEXT
    assert [o["op"] for o in result["patch"]["a1"]] == ["test", "test", "replace", "replace"]
    assert result["diff"] == {
        "before": {"completionStatus": None, "completed": None},
        "after": {"completionStatus": "ERROR", "completed": NOW_TEXT},
    }


def test_check_mode_and_real_run_compute_the_same_patch():
    options = params(id="a1", completion_status="ERROR", completed="now", progress="Cleared")
    checked = run(FakeClient([pending_task()]), options, True, True, now=NOW)
    client = FakeClient([pending_task()])
    real = run(client, options, False, True, now=NOW)
    assert checked["patch"] == real["patch"] == {"a1": client.patches()[0][2]}
    assert checked["diff"]["after"] == real["diff"]["after"]


def test_real_run_then_rerun_is_idempotent():
    client = FakeClient([pending_task()])
    options = params(id="a1", completion_status="error", completed="now", progress="Cleared")
    first = run(client, options, False, False, now=NOW)
    second = run(client, options, False, False, now=NOW + timedelta(hours=1))
    assert first["changed"] and first["task"]["progress"] == "Cleared"
    assert second["changed"] is False and len(client.patches()) == 1
    assert "diff" not in second


# ---------------------------------------------------------------------------------------------------------------
# bulk
# ---------------------------------------------------------------------------------------------------------------


def test_bulk_failures_do_not_stop_the_others_and_are_listed():
    tasks = [pending_task(f"t{index}") for index in range(6)]
    client = FakeClient(
        tasks,
        patch_errors={"t2": ForbiddenError("PATCH /beta/task-status/t2 failed with HTTP 403", status=403)},
        before_patch=lambda c, task_id: c.tasks[task_id].update(percentComplete=99) if task_id == "t4" else None,
    )
    ids = ["t0", "t1", "t2", "missing", "t4", "t5"]
    result = run(client, params(ids=ids, completion_status="ERROR", completed="now"), False, True, now=NOW)
    assert result["failed_ids"] == ["t2", "missing", "t4"]
    assert [failure["status"] for failure in result["failures"]] == [403, 404, 409]
    assert result["changed"] is True
    assert [task["id"] for task in result["tasks"]] == ["t0", "t1", "t2", "t4", "t5"]
    assert {task_id: client.tasks[task_id]["completionStatus"] for task_id in ("t0", "t1", "t5")} == dict.fromkeys(("t0", "t1", "t5"), "ERROR")
    assert client.tasks["t2"]["completionStatus"] is None and client.tasks["t4"]["completionStatus"] is None
    assert sorted(result["diff"]["after"]) == ["t0", "t1", "t5"]
    assert result["msg"].startswith("3 of 6 tasks failed (t2, missing, t4); the other tasks were handled (3 changed)")
    assert "missing: reading the task failed: HTTP 404" in result["msg"]
    assert result["patch"]["missing"] == [] and result["patch"]["t2"]


def test_bulk_in_check_mode_says_would_be_changed():
    client = FakeClient([pending_task("t0")])
    result = run(client, params(ids=["t0", "gone"], completion_status="ERROR"), True, False, now=NOW)
    assert "1 would be changed in check mode" in result["msg"] and client.patches() == []


def test_bulk_keeps_the_order_of_ids_with_concurrency():
    ids = [f"t{index:03d}" for index in range(50)]
    client = FakeClient([pending_task(task_id) for task_id in reversed(ids)])
    result = run(client, params(ids=ids, completion_status="ERROR", concurrency=8), False, False, now=NOW)
    assert [task["id"] for task in result["tasks"]] == ids and result["failed_ids"] == []
    assert len(client.patches()) == 50 and list(result["patch"]) == ids


def test_bulk_runs_in_parallel_up_to_concurrency():
    active, peak, lock = [0], [0], threading.Lock()
    barrier = threading.Barrier(3, timeout=5)

    class SlowClient(FakeClient):
        def get_task(self, task_id):
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            try:
                if task_id in ("t0", "t1", "t2"):
                    barrier.wait()
                return super().get_task(task_id)
            finally:
                with lock:
                    active[0] -= 1

    ids = [f"t{index}" for index in range(6)]
    client = SlowClient([pending_task(task_id) for task_id in ids])
    run(client, params(ids=ids, completion_status="ERROR", concurrency=3), True, False, now=NOW)
    assert peak[0] == 3


def test_single_id_failure_message_names_the_task():
    client = FakeClient([])
    result = run(client, params(id="nope", completion_status="ERROR"), False, False, now=NOW)
    assert result["failed_ids"] == ["nope"] and "task" not in result
    assert result["msg"].startswith("Task nope: reading the task failed: HTTP 404")


def test_conflict_on_reread_failure_keeps_the_task_as_read():
    def vanish(client, task_id):
        client.get_errors[task_id] = NotFoundError("gone", status=404)
        client.tasks[task_id]["percentComplete"] = 90

    client = FakeClient([pending_task()], before_patch=vanish)
    result = run(client, params(id="a1", completion_status="ERROR"), False, False, now=NOW)
    assert result["failures"][0]["status"] == 409 and "re-reading it failed too" in result["msg"]
    assert result["task"]["percentComplete"] == 40


def test_an_unexpected_error_in_one_task_keeps_the_others():
    class BrokenClient(FakeClient):
        def get_task(self, task_id):
            if task_id == "t1":
                raise RuntimeError("boom")
            return super().get_task(task_id)

    client = BrokenClient([pending_task("t0"), pending_task("t1"), pending_task("t2")])
    result = run(client, params(ids=["t0", "t1", "t2"], completion_status="ERROR"), False, False, now=NOW)
    assert result["failed_ids"] == ["t1"] and "unexpected RuntimeError: boom" in result["msg"]
    assert result["changed"] is True and len(client.patches()) == 2


def test_ids_are_checked_by_the_clients_path_rule(monkeypatch):
    checked = []

    def path_segment(value, option="id"):
        checked.append((value, option))
        return value

    monkeypatch.setattr(task_patch, "path_segment", path_segment)
    task_patch.validate(params(ids=["a1", "a2"], completion_status="ERROR"), NOW)
    task_patch.validate(params(id="a3", completion_status="ERROR"), NOW)
    assert checked == [("a1", "ids[0]"), ("a2", "ids[1]"), ("a3", "id")]


SECRET = "s3cr3t/value+1"


def test_result_and_error_texts_never_hold_a_secret():
    class LeakyClient(FakeClient):
        def get_task(self, task_id):
            if task_id == "t1":
                raise RuntimeError(f"boom with {SECRET}")
            return super().get_task(task_id)

    echoed = f"Started by {SECRET} and {quote(SECRET, safe='')}"
    client = LeakyClient([pending_task("t0", progress=echoed), pending_task("t1")], secrets=[SECRET])
    result = run(client, params(ids=["t0", "t1"], completion_status="ERROR"), False, True, now=NOW)
    assert result["failed_ids"] == ["t1"] and "unexpected RuntimeError: boom with ********" in result["msg"]
    assert result["tasks"][0]["progress"] == "Started by ******** and ********"
    assert SECRET not in repr(result) and quote(SECRET, safe="") not in repr(result)


# ---------------------------------------------------------------------------------------------------------------
# request economy: batched reads and listed tasks
# ---------------------------------------------------------------------------------------------------------------


def _kinds(client):
    return [entry[0] for entry in client.log]


def test_ids_are_read_in_batches_of_125_on_versions_whose_list_holds_pending_tasks():
    ids = [f"{index:032x}" for index in range(300)]
    client = FakeClient([pending_task(task_id) for task_id in ids], version="v2025")
    result = run(client, params(ids=ids, completion_status="ERROR", completed="now"), False, False)
    assert result["changed"] and not result["failed_ids"]
    assert _kinds(client).count("LIST") == 3 and _kinds(client).count("GET") == 0
    assert _kinds(client).count("PATCH") == 300


def test_beta_reads_the_pending_pages_when_that_is_cheaper_than_a_get_per_id():
    ids = [f"{index:032x}" for index in range(300)]
    finished = pending_task("done1", completionStatus="SUCCESS", completed="2024-05-17T18:10:00.000Z")
    client = FakeClient([pending_task(task_id) for task_id in ids] + [finished], version="beta", pending_reads=True)
    result = run(client, params(ids=[*ids, "done1", "gone"], completion_status="ERROR", completed="now"), True, False)
    # one count, two pending pages, one filtered list for the two ids that are not pending
    assert _kinds(client) == ["COUNT", "LIST", "LIST", "LIST"]
    assert [entry[1] for entry in client.log[1:]] == ["pending", "pending", "list"]
    assert result["failed_ids"] == ["gone"] and "ISC has no task gone" in result["msg"]
    assert [item["id"] for item in result["left_alone"]] == ["done1"]


def test_beta_reads_by_id_when_the_tenant_has_many_more_pending_tasks():
    others = [pending_task(f"other{index}") for index in range(2000)]
    client = FakeClient([pending_task("a1"), pending_task("a2"), pending_task("a3"), *others], version="beta", pending_reads=True)
    run(client, params(ids=["a1", "a2", "a3"], completion_status="ERROR"), True, False)
    assert _kinds(client) == ["COUNT", "GET", "GET", "GET"]


def test_listed_tasks_are_not_read_again_and_the_guard_tests_the_listed_values():
    listed = [pending_task("a1"), pending_task("a2")]
    client = FakeClient(listed)
    # a2 moved after the listing: ISC has it at 90 %, the caller listed it at 40 %
    client.tasks["a2"]["percentComplete"] = 90
    result = run(client, params(tasks=listed, completion_status="ERROR", completed="now"), False, False)
    assert "GET" not in [entry[0] for entry in client.log[:2]]
    assert result["failed_ids"] == ["a2"] and result["failures"][0]["status"] == 409
    assert client.tasks["a1"]["completionStatus"] == "ERROR" and client.tasks["a2"]["completionStatus"] is None
    # no read before the PATCHes (they run side by side, in any order); the 409 is followed by one re-read, so the
    # failure reports the task as it is now
    log = [entry[:2] for entry in client.log]
    assert sorted(log) == [("GET", "a2"), ("PATCH", "a1"), ("PATCH", "a2")]
    assert log.index(("GET", "a2")) > log.index(("PATCH", "a2"))


@pytest.mark.parametrize(
    "tasks, message",
    [
        (["a1"], r"tasks\[0\] must be a task"),
        ([{"id": "a1"}], r"tasks\[0\] lacks created, modified, completed, completionStatus, percentComplete"),
        ([dict(pending_task("a/b"))], r"tasks\[0\]\.id 'a/b' is not a task id"),
        ([pending_task("a1"), pending_task("a1")], "tasks must not repeat a task; repeated: a1"),
    ],
)
def test_bad_listed_tasks_are_refused_before_any_request(tasks, message):
    client = FakeClient([])
    with pytest.raises(OptionError, match=message):
        run(client, params(tasks=tasks, completion_status="ERROR"), False, False)
    assert client.log == []


@pytest.mark.parametrize(
    "claims, reason",
    [
        ({"client_id": "c", "authorities": ["ORG_ADMIN"]}, "no user context"),
        ({"identity_id": "i", "user_name": "u", "authorities": ["HELPDESK"]}, "user level (HELPDESK) may not patch tasks"),
        ({"identity_id": "i", "authorities": ["ORG_ADMIN"], "scope": ["idn:task-management:read"]}, "do not include"),
    ],
)
def test_check_mode_predicts_the_403_from_the_token_claims(claims, reason):
    ids = ["a1", "a2", "a3"]
    client = FakeClient([pending_task(task_id) for task_id in ids], claims=claims)
    result = run(client, params(ids=ids, completion_status="ERROR"), True, False)
    assert result["failed_ids"] == ids and result["changed"] is False and client.patches() == []
    assert all(failure["status"] == 403 and reason in failure["msg"] for failure in result["failures"])
    # one reason, said once, with the tasks it hits
    assert result["msg"].count("ISC would refuse the PATCH") == 1 and "3 tasks (a1, a2, a3)" in result["msg"]


def test_check_mode_predicts_a_change_when_the_claims_allow_it():
    client = FakeClient([pending_task("a1")], claims={"identity_id": "i", "authorities": ["ORG_ADMIN"], "scope": ["sp:scopes:all"]})
    assert run(client, params(id="a1", completion_status="ERROR"), True, False)["changed"] is True


@pytest.mark.parametrize(
    "error, maybe",
    [
        (ServerError("PATCH failed with HTTP 500", status=500), True),
        (ServerError("PATCH failed with HTTP 502", status=502), True),
        (TransportError("PATCH: connection dropped", maybe_sent=True), True),
        (TransportError("PATCH: could not connect", maybe_sent=False), False),
        (ForbiddenError("PATCH failed with HTTP 403", status=403), False),
    ],
)
def test_a_patch_that_may_have_been_applied_says_so(error, maybe):
    client = FakeClient([pending_task("a1"), pending_task("a2")], patch_errors={"a2": error})
    result = run(client, params(ids=["a1", "a2"], completion_status="ERROR"), False, False)
    (failure,) = result["failures"]
    assert failure["maybe_applied"] is maybe
    assert ("may have applied it all the same" in failure["msg"] and "run again" in failure["msg"]) is maybe
    # the task that did change still counts as a change
    assert result["changed"] is True
