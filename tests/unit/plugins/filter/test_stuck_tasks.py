# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.stuck_tasks import FilterModule, stuck_tasks_report, stuck_tasks_selection

NOW = "2024-05-17T12:00:00.000Z"
STATS_KEYS = {"tenant", "check_mode", "pending", "stuck", "closed", "closed_ids", "would_close_ids", "failed_ids", "reports"}
CRITERIA = {"older_than": "6h", "completion_status": "ERROR"}


def task(task_id, name="Cloud Account Aggregation"):
    return {"id": task_id, "uniqueName": name, "created": "2024-05-17T01:00:00.000Z", "launched": None, "completionStatus": None}


FOUND = [task("a1"), task("b2"), task("c3", name="Identity Refresh")]
REPORTS = ["/r/acme/stuck-tasks-x-applied.json", "/r/acme/stuck-tasks-x-applied.md"]


def report(result, check_mode=False, **selection_options):
    selection = stuck_tasks_selection(FOUND, **selection_options)
    return stuck_tasks_report(selection, result, tenant="acme", run_started=NOW, check_mode=check_mode, criteria=CRITERIA, reports=REPORTS, now=NOW)


def patched(*ids):
    return {task_id: [{"op": "replace", "path": "/completionStatus", "value": "ERROR"}] for task_id in ids}


def test_selection_leaves_out_excluded_ids_and_names():
    selection = stuck_tasks_selection(FOUND, exclude_ids=["a1"], exclude_names=["Identity Refresh"])
    assert [t["id"] for t in selection["selected"]] == ["b2"]
    assert selection["excluded"] == 2 and not selection["refused"]


def test_selection_takes_comma_separated_strings_as_lists_of_exact_values():
    selection = stuck_tasks_selection(FOUND, exclude_ids=" a1, ,b", exclude_names="Identity")
    # "b" is not a prefix match for b2, nor "Identity" for "Identity Refresh"
    assert [t["id"] for t in selection["selected"]] == ["b2", "c3"]
    assert selection["exclude_ids"] == ["a1", "b"]


@pytest.mark.parametrize("max_tasks, ignore, refused", [(2, False, True), (3, False, False), (0, True, False), ("2", False, True)])
def test_selection_applies_the_cap(max_tasks, ignore, refused):
    assert stuck_tasks_selection(FOUND, max_tasks=max_tasks, ignore_max_tasks=ignore)["refused"] is refused


def test_selection_refuses_what_is_not_a_list():
    with pytest.raises(AnsibleFilterError):
        stuck_tasks_selection("a1,b2")
    with pytest.raises(AnsibleFilterError, match="exclude_ids must be a list"):
        stuck_tasks_selection(FOUND, exclude_ids=42)


def test_applied_run():
    result = report({"changed": True, "patch": patched("a1", "b2", "c3"), "failed_ids": [], "failures": [], "left_alone": []})
    assert result["closed_ids"] == ["a1", "b2", "c3"] and result["would_close_ids"] == []
    assert [row["action"] for row in result["tasks"]] == ["closed as ERROR"] * 3
    assert [row["outcome"] for row in result["tasks"]] == ["closed"] * 3
    assert result["stats"] == {
        "tenant": "acme",
        "check_mode": False,
        "pending": 3,
        "stuck": 3,
        "closed": 3,
        "closed_ids": ["a1", "b2", "c3"],
        "would_close_ids": [],
        "failed_ids": [],
        "reports": REPORTS,
    }


def test_dry_run_says_what_it_would_close_and_closes_nothing():
    result = report({"changed": True, "patch": patched("a1", "b2", "c3"), "failed_ids": [], "failures": [], "left_alone": []}, check_mode=True)
    assert result["mode"] == "dry run" and result["check_mode"]
    assert result["closed_ids"] == [] and result["would_close_ids"] == ["a1", "b2", "c3"]
    assert result["stats"]["closed"] == 0 and result["stats"]["would_close_ids"] == ["a1", "b2", "c3"]
    assert {row["action"] for row in result["tasks"]} == {"would be closed as ERROR"}


def test_partial_failure_counts_only_what_changed():
    # registered with failed_when: false, so `failed` is false although two tasks failed
    result = report(
        {
            "changed": True,
            "failed": False,
            "msg": "1 of 3 tasks failed",
            "patch": patched("a1", "b2"),
            "failed_ids": ["b2"],
            "failures": [{"id": "b2", "status": 502, "msg": "the PATCH failed: HTTP 502 | bad\ngateway"}],
            "left_alone": [{"id": "c3", "reason": "already finished"}],
        }
    )
    assert result["error"] == ""
    assert result["closed_ids"] == ["a1"] and result["failed_ids"] == ["b2"]
    assert [row["outcome"] for row in result["tasks"]] == ["closed", "failed", "left_alone"]
    assert result["tasks"][1]["action"] == "FAILED: the PATCH failed: HTTP 502 | bad\ngateway"
    assert result["tasks"][2]["action"] == "left alone: already finished"
    assert result["stats"]["closed"] == 1 and result["stats"]["failed_ids"] == ["b2"]


@pytest.mark.parametrize("result", [{"failed": True, "msg": "Authentication failed: 401"}, {"failed": False, "msg": "Authentication failed: 401"}])
def test_a_failure_of_the_whole_run_closes_nothing(result):
    outcome = report(result)
    assert outcome["error"] == "Authentication failed: 401"
    assert outcome["closed_ids"] == [] and outcome["failed_ids"] == []
    assert {row["action"] for row in outcome["tasks"]} == {"NOT CLOSED: Authentication failed: 401"}


def test_refused_run_touches_nothing_whatever_the_result():
    outcome = report({"skipped": True}, max_tasks=2)
    assert outcome["refused"] and outcome["closed_ids"] == [] and outcome["error"] == ""
    assert {row["outcome"] for row in outcome["tasks"]} == {"refused"}
    assert outcome["stats"]["stuck"] == 3 and outcome["stats"]["closed"] == 0


@pytest.mark.parametrize("result", [None, {}, {"skipped": True, "skip_reason": "Conditional result was False"}])
def test_nothing_to_close(result):
    outcome = stuck_tasks_report(stuck_tasks_selection([]), result, tenant="acme", check_mode=False, criteria=CRITERIA)
    assert outcome["selected"] == 0 and outcome["tasks"] == [] and outcome["error"] == ""
    assert set(outcome["stats"]) == STATS_KEYS and outcome["stats"]["reports"] == []


def test_an_empty_patch_is_no_close():
    outcome = report({"changed": False, "patch": {"a1": [], "b2": [], "c3": []}, "failed_ids": [], "failures": [], "left_alone": []})
    assert outcome["closed_ids"] == [] and {row["outcome"] for row in outcome["tasks"]} == {"unchanged"}


def test_report_refuses_what_is_not_a_selection():
    with pytest.raises(AnsibleFilterError, match="stuck_tasks_selection"):
        stuck_tasks_report(FOUND, {})


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"stuck_tasks_selection", "stuck_tasks_report"}


@pytest.mark.parametrize("bad_id", ["a/b", "..", "x?y", "a%2Fb", "", "line\nbreak"])
def test_an_id_that_cannot_be_patched_is_reported_and_skipped_and_the_others_are_closed(bad_id):
    found = [task("a1"), task(bad_id), task("c3")]
    selection = stuck_tasks_selection(found)
    assert [t["id"] for t in selection["selected"]] == ["a1", "c3"]
    assert [t["id"] for t in selection["unusable"]] == [bad_id] and "cannot be patched" in selection["unusable"][0]["unusable"]
    closed = stuck_tasks_report(selection, {"changed": True, "patch": patched("a1", "c3")}, tenant="acme", criteria=CRITERIA, now=NOW)
    assert closed["closed_ids"] == ["a1", "c3"] and closed["failed_ids"] == [bad_id] and closed["selected"] == 3
    row = next(row for row in closed["tasks"] if row["id"] == bad_id)
    assert row["outcome"] == "failed" and "cannot be patched" in row["action"]
