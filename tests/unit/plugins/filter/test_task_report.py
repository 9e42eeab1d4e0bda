# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.task_report import (
    FilterModule,
    human_duration,
    task_report_summary,
    task_rows,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import COMPLETION_STATUSES, FAILURE_STATUSES

NOW = "2024-05-17T12:00:00.000Z"


def task(
    task_id,
    name="Cloud Account Aggregation",
    created="2024-05-17T11:00:00.000Z",
    status=None,
    completed=None,
    source=("src1", "Active Directory"),
    messages=None,
    progress="Started",
    launched="created",
):
    return {
        "id": task_id,
        "type": "QUARTZ",
        "uniqueName": name,
        "description": "",
        "parentName": None,
        "launcher": "sweep",
        "target": {"id": source[0], "type": "APPLICATION", "name": source[1]} if source else None,
        "created": created,
        "modified": created,
        "launched": created if launched == "created" else launched,
        "completed": completed,
        "completionStatus": status,
        "messages": messages or [],
        "returns": [],
        "attributes": {"taskDefinitionName": "CLOUD_ACCOUNT_AGGREGATION"},
        "progress": progress,
        "percentComplete": 40,
    }


TASKS = [
    task("fresh", created="2024-05-17T11:30:00.000Z"),
    task("stuck-8h", created="2024-05-17T04:00:00.000Z"),
    task("stuck-3d", name="Identity Refresh", created="2024-05-14T10:00:00.000Z", source=None),
    task("ok", status="SUCCESS", completed="2024-05-17T11:10:00.000Z"),
    task("warn", status="Warning", completed="2024-05-17T11:20:00.000Z"),
    task("err-old", status="ERROR", completed="2024-05-16T11:20:00.000Z", source=("src2", "Workday")),
    task(
        "err-new",
        status="ERROR",
        completed="2024-05-17T11:50:00.000Z",
        messages=[
            {"type": "INFO", "localizedText": {"locale": "en", "message": "started"}},
            {"type": "ERROR", "localizedText": {"locale": "en", "message": "connector timed out"}},
        ],
    ),
]


@pytest.mark.parametrize("seconds, text", [(0, "0s"), (59, "59s"), (61, "1m"), (3600 * 5 + 1200, "5h 20m"), (86400 * 3 + 3600 * 4 + 7, "3d 4h"), (-5, "0s")])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_task_rows_flattens_and_ages():
    rows = task_rows(TASKS, now=NOW)
    assert [row["id"] for row in rows] == [t["id"] for t in TASKS]
    stuck = rows[1]
    assert stuck["age_seconds"] == 8 * 3600 and stuck["age"] == "8h 0m"
    assert stuck["status"] == "PENDING" and stuck["sourceName"] == "Active Directory"
    assert stuck["taskDefinitionName"] == "CLOUD_ACCOUNT_AGGREGATION"
    assert rows[2]["sourceId"] is None
    assert rows[3]["duration"] == "10m"
    assert rows[4]["status"] == "WARNING"
    assert rows[6]["message"] == "connector timed out"
    assert "duration" not in rows[0]


def test_task_rows_accepts_none_and_refuses_other_input():
    assert task_rows(None) == []
    with pytest.raises(AnsibleFilterError):
        task_rows("not a list")
    with pytest.raises(AnsibleFilterError, match="now"):
        task_rows(TASKS, now="yesterday")


def test_summary_counts():
    summary = task_report_summary(TASKS, now=NOW)
    assert summary["generated"] == NOW
    assert summary["counts"] == {"total": 7, "pending": 3, "stuck": 2, "completed": 4, "failed": 2, "success_rate": 50.0}
    assert {entry["status"]: entry["count"] for entry in summary["by_status"]} == {
        "SUCCESS": 1,
        "WARNING": 1,
        "ERROR": 2,
        "TERMINATED": 0,
        "TEMPERROR": 0,
        "PENDING": 3,
    }
    assert [entry["status"] for entry in summary["by_status"]][-1] == "PENDING"
    assert summary["window"] == {"first_created": "2024-05-14T10:00:00.000Z", "last_created": "2024-05-17T11:30:00.000Z"}


def test_summary_pending_oldest_first_with_stuck_flag():
    summary = task_report_summary(TASKS, now=NOW, stuck_after="6h")
    assert [row["id"] for row in summary["pending"]] == ["stuck-3d", "stuck-8h", "fresh"]
    assert [row["stuck"] for row in summary["pending"]] == [True, True, False]
    assert [row["id"] for row in summary["oldest_stuck"]] == ["stuck-3d", "stuck-8h"]
    assert task_report_summary(TASKS, now=NOW, stuck_after="1d")["counts"]["stuck"] == 1


def test_summary_age_buckets_split_at_the_threshold():
    buckets = {bucket["label"]: bucket for bucket in task_report_summary(TASKS, now=NOW, stuck_after="4h")["pending_age_buckets"]}
    assert list(buckets) == ["< 1h", "1h - 6h", "6h - 24h", "1d - 3d", "3d - 7d", "> 7d"]
    assert buckets["< 1h"] == {"label": "< 1h", "count": 1, "stuck": 0, "fresh": 1}
    assert buckets["6h - 24h"] == {"label": "6h - 24h", "count": 1, "stuck": 1, "fresh": 0}
    assert buckets["1d - 3d"]["count"] == 0 and buckets["3d - 7d"]["count"] == 1


def test_summary_groups_by_name_and_source():
    summary = task_report_summary(TASKS, now=NOW)
    by_name = {entry["uniqueName"]: entry for entry in summary["by_name"]}
    assert summary["by_name"][0]["uniqueName"] == "Cloud Account Aggregation"
    assert by_name["Cloud Account Aggregation"]["total"] == 6
    assert by_name["Cloud Account Aggregation"]["ERROR"] == 2
    assert by_name["Identity Refresh"] == {
        "uniqueName": "Identity Refresh",
        "total": 1,
        "pending": 1,
        "stuck": 1,
        "failed": 0,
        "SUCCESS": 0,
        "WARNING": 0,
        "ERROR": 0,
        "TERMINATED": 0,
        "TEMPERROR": 0,
    }
    by_source = {entry["sourceName"]: entry for entry in summary["by_source"]}
    assert set(by_source) == {"Active Directory", "Workday"}
    assert by_source["Workday"]["failed"] == 1 and by_source["Active Directory"]["stuck"] == 1


def test_summary_recent_failures_latest_first_and_limited():
    summary = task_report_summary(TASKS, now=NOW, limit=1)
    assert [row["id"] for row in summary["recent_failures"]] == ["err-new"]
    assert len(summary["oldest_stuck"]) == 1


def test_summary_of_nothing():
    summary = task_report_summary([], now=NOW)
    assert summary["counts"]["total"] == 0 and summary["counts"]["success_rate"] is None
    assert all(bucket["count"] == 0 for bucket in summary["pending_age_buckets"])


def test_summary_refuses_bad_settings():
    with pytest.raises(AnsibleFilterError, match="stuck_after must be a duration"):
        task_report_summary(TASKS, stuck_after="six hours")
    with pytest.raises(AnsibleFilterError, match="limit"):
        task_report_summary(TASKS, limit=0)


def test_age_runs_from_launched_like_older_than():
    # Created 10h ago but launched only 2h ago: task_status_info's older_than=6h would not select it.
    queued = task("queued", created="2024-05-17T02:00:00.000Z", launched="2024-05-17T10:00:00.000Z")
    never_launched = task("never", created="2024-05-17T02:00:00.000Z", launched=None)
    rows = task_rows([queued, never_launched], now=NOW)
    assert rows[0]["age_seconds"] == 2 * 3600 and rows[0]["launched"] == "2024-05-17T10:00:00.000Z"
    assert rows[1]["age_seconds"] == 10 * 3600
    summary = task_report_summary([queued, never_launched], now=NOW, stuck_after="6h")
    assert summary["counts"]["stuck"] == 1
    assert [row["id"] for row in summary["oldest_stuck"]] == ["never"]
    assert summary["window"]["first_created"] == "2024-05-17T02:00:00.000Z"


def test_summary_merges_a_separate_read_of_pending_tasks():
    completed = [t for t in TASKS if t["completionStatus"]]
    pending = [t for t in TASKS if not t["completionStatus"]]
    # a task read as pending that completed before the second read is counted once, as completed
    moved = dict(completed[0], completionStatus=None, completed=None)
    summary = task_report_summary(completed, pending=pending + [moved], now=NOW)
    assert summary["counts"] == task_report_summary(TASKS, now=NOW)["counts"]


def test_summary_says_when_completed_tasks_were_left_out():
    completed = [t for t in TASKS if t["completionStatus"]]
    summary = task_report_summary(completed[:2], pending=[], completed_total=len(completed), now=NOW)
    assert summary["truncated"] and summary["completed_read"] == 2 and summary["completed_total"] == 4
    assert not task_report_summary(completed, completed_total=4, now=NOW)["truncated"]
    assert not task_report_summary(TASKS, now=NOW)["truncated"]


def test_summary_carries_the_tenant_the_reports_and_the_published_statistics():
    summary = task_report_summary(TASKS, now=NOW, tenant="acme", reports=["/r/acme/task-report.json"])
    assert summary["tenant"] == "acme" and summary["reports"] == ["/r/acme/task-report.json"]
    assert summary["stats"] == {"tenant": "acme", "total": 7, "pending": 3, "stuck": 2, "failed": 2, "reports": ["/r/acme/task-report.json"]}
    assert summary["statuses"] == list(COMPLETION_STATUSES)
    assert summary["failure_statuses"] == list(FAILURE_STATUSES) and summary["limit"] == 10


def test_summary_refuses_a_pending_list_that_is_not_one():
    with pytest.raises(AnsibleFilterError, match="pending"):
        task_report_summary(TASKS, pending="x")


def test_a_task_completed_without_a_status_is_reported_pending_and_stuck_from_the_threshold_on():
    now = "2026-01-02T00:00:00Z"
    window = {
        "id": "w",
        "uniqueName": "Refresh",
        "created": "2026-01-01T18:00:00.000Z",
        "launched": None,
        "completed": "2026-01-01T23:59:00.000Z",
        "completionStatus": None,
    }
    (row,) = task_rows([window], now)
    assert row["status"] == "PENDING" and row["completed"] is None and "duration" not in row
    summary = task_report_summary([window], now=now, stuck_after="6h")
    assert summary["counts"]["pending"] == 1 and summary["counts"]["completed"] == 0 and summary["counts"]["stuck"] == 1
    assert task_report_summary([window], now=now, stuck_after="6h1s")["counts"]["stuck"] == 0


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"task_rows", "task_report_summary"}
