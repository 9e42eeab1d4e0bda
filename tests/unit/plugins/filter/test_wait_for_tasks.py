# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.wait_for_tasks import FilterModule, wait_for_tasks_failure_statuses, wait_for_tasks_outcome
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import FAILURE_STATUSES


def finished(task_id, status):
    return {"item": task_id, "changed": False, "failed": False, "elapsed": 0.1, "tasks": [{"id": task_id, "uniqueName": "Refresh", "completionStatus": status}]}


# What the role's loop registers with failed_when: false: `failed` is false, the module's own failure shows in msg.
TIMED_OUT = {
    "item": "t3",
    "failed": False,
    "failed_when_result": False,
    "msg": "wait_timeout: task t3 is still pending after 3s; raise wait_timeout to wait longer",
    "detail": {"task": {"id": "t3", "completionStatus": None}, "elapsed": 3.0},
}
UNKNOWN = {"item": "t4", "failed": False, "msg": "id 't4': no such task, so there is nothing to wait for (HTTP 404)", "detail": {"status": 404}, "status": 404}


def test_outcome_sorts_the_tasks():
    results = [finished("t1", "SUCCESS"), finished("t2", "Error"), TIMED_OUT, UNKNOWN]
    outcome = wait_for_tasks_outcome(results, ids=["t1", "t2", "t3", "t4"], failure_statuses=["error", "TERMINATED"], tenant="acme", elapsed=5.12345)
    assert outcome["completed_ids"] == ["t1", "t2"]
    assert outcome["failed_ids"] == ["t2"] and outcome["failed_tasks"][0]["completionStatus"] == "Error"
    assert outcome["unfinished_ids"] == ["t3", "t4"]
    # the wait that ran out is the role's to report (naming its own variable); any other failure is kept
    assert outcome["errors"] == [UNKNOWN["msg"]]
    assert outcome["stats"] == {"tenant": "acme", "ids": ["t1", "t2", "t3", "t4"], "completed_ids": ["t1", "t2"], "failed_ids": ["t2"], "elapsed": 5.123}


def test_outcome_with_unregistered_failures_and_ids_from_the_items():
    results = [finished("t1", "TERMINATED"), dict(TIMED_OUT, failed=True)]
    outcome = wait_for_tasks_outcome(results)
    assert outcome["ids"] == ["t1", "t3"] and outcome["failed_ids"] == ["t1"] and outcome["unfinished_ids"] == ["t3"]
    assert outcome["errors"] == [] and outcome["stats"]["elapsed"] is None


def test_no_failure_status_fails_nothing():
    assert wait_for_tasks_outcome([finished("t1", "ERROR")], failure_statuses=[])["failed_ids"] == []


def test_outcome_refuses_bad_input():
    with pytest.raises(AnsibleFilterError, match="failure_statuses: 'DONE' is not a completion status"):
        wait_for_tasks_outcome([], failure_statuses=["DONE"])
    with pytest.raises(AnsibleFilterError, match="results"):
        wait_for_tasks_outcome({"results": []})


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"wait_for_tasks_outcome", "wait_for_tasks_failure_statuses"}


def test_the_default_failure_statuses_are_the_collections():
    assert wait_for_tasks_failure_statuses(None) == list(FAILURE_STATUSES) == ["ERROR", "TERMINATED", "TEMPERROR"]
    assert wait_for_tasks_failure_statuses("error, temperror") == ["ERROR", "TEMPERROR"]
    with pytest.raises(AnsibleFilterError, match="^wait_for_tasks_failure_statuses: 'DONE' is not a completion status"):
        wait_for_tasks_failure_statuses(["DONE"])
    with pytest.raises(AnsibleFilterError, match="^wait_for_tasks_failure_statuses must be a list of strings"):
        wait_for_tasks_failure_statuses(3)
    outcome = wait_for_tasks_outcome([finished("t1", "TEMPERROR")])
    assert outcome["failed_ids"] == ["t1"] and outcome["failure_statuses"] == ["ERROR", "TERMINATED", "TEMPERROR"]


def test_a_task_completed_without_a_status_has_not_finished():
    window = {"item": "t1", "failed": False, "tasks": [{"id": "t1", "completed": "2026-01-01T00:00:00.000Z", "completionStatus": None}]}
    outcome = wait_for_tasks_outcome([window])
    assert outcome["completed_ids"] == [] and outcome["failed_ids"] == [] and outcome["unfinished_ids"] == ["t1"]
