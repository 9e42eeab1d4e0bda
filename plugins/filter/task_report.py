# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that turn ISC TaskStatus records into report data (documented in the adjacent YAML files).

The aggregation lives here rather than in Jinja because counting by several keys, bucketing ages and picking
the oldest and the latest records would take dozens of unreadable template lines; the templates only lay out
what these functions return.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.checks import duration_seconds
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import (
    COMPLETION_STATUSES,
    FAILURE_STATUSES,
    SUCCESS_STATUSES,
    completed_at,
    completion_status,
    is_finished,
    is_stuck,
    started_at,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._timestamps import format_timestamp, parse_rfc3339

PENDING = "PENDING"

# Upper bounds in seconds of the pending-age histogram; the last bucket is open-ended.
AGE_BUCKETS = (
    ("< 1h", 3600),
    ("1h - 6h", 6 * 3600),
    ("6h - 24h", 24 * 3600),
    ("1d - 3d", 3 * 86400),
    ("3d - 7d", 7 * 86400),
    ("> 7d", None),
)


def human_duration(seconds) -> str:
    """A short, readable age: ``45s``, ``12m``, ``5h 20m``, ``3d 4h``."""
    seconds = max(int(seconds), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def _now(now) -> datetime:
    if now is None or now == "":
        return datetime.now(timezone.utc)
    if isinstance(now, datetime):
        return now if now.tzinfo else now.replace(tzinfo=timezone.utc)
    try:
        return parse_rfc3339(str(now))
    except ValueError as exc:
        raise AnsibleFilterError(f"now: {exc}") from exc


def _status(task) -> str:
    return completion_status(task) or PENDING


def _source(task) -> dict:
    target = task.get("target") or {}
    if target.get("type") == "IDENTITY":
        return {"id": None, "name": None}
    return {"id": target.get("id"), "name": target.get("name") or target.get("id")}


def _first_message(task, wanted_types=("ERROR", "WARN")) -> str:
    for wanted in wanted_types:
        for message in task.get("messages") or []:
            if str(message.get("type", "")).upper() != wanted:
                continue
            localized = message.get("localizedText") or {}
            text = localized.get("message") or message.get("key")
            if text:
                return str(text)
    return ""


def _row(task, now: datetime) -> dict:
    started = started_at(task)
    # ISC may write completed a moment before completionStatus: such a task is still running, not finished
    finished = is_finished(task)
    completed = completed_at(task) if finished else None
    age = int((now - started).total_seconds()) if started else 0
    source = _source(task)
    row = {
        "id": task.get("id"),
        "uniqueName": task.get("uniqueName"),
        "type": task.get("type"),
        "taskDefinitionName": (task.get("attributes") or {}).get("taskDefinitionName"),
        "launcher": task.get("launcher"),
        "sourceId": source["id"],
        "sourceName": source["name"],
        "created": task.get("created"),
        "launched": task.get("launched"),
        "completed": task.get("completed") if finished else None,
        "completionStatus": task.get("completionStatus"),
        "status": _status(task),
        "progress": task.get("progress"),
        "percentComplete": task.get("percentComplete"),
        "age_seconds": max(age, 0),
        "age": human_duration(age),
        "message": _first_message(task),
    }
    if started and completed:
        row["duration_seconds"] = max(int((completed - started).total_seconds()), 0)
        row["duration"] = human_duration(row["duration_seconds"])
    return row


def task_rows(tasks, now=None) -> list:
    """One flat, report-ready row per TaskStatus, with its age at ``now``."""
    if tasks is None:
        return []
    if not isinstance(tasks, (list, tuple)):
        raise AnsibleFilterError("task_rows expects a list of TaskStatus dictionaries")
    moment = _now(now)
    return [_row(task, moment) for task in tasks]


def _counter_rows(rows, key_name):
    groups = {}
    for row in rows:
        key = row[key_name]
        if key is None:
            continue
        group = groups.setdefault(key, {"total": 0, "pending": 0, "stuck": 0, "failed": 0, **{status: 0 for status in COMPLETION_STATUSES}})
        group["total"] += 1
        if row["status"] == PENDING:
            group["pending"] += 1
            group["stuck"] += int(row["stuck"])
        else:
            group[row["status"]] = group.get(row["status"], 0) + 1
            group["failed"] += int(row["status"] in FAILURE_STATUSES)
    return groups


def _merge(tasks, pending) -> list:
    """The tasks read, plus those of a separate read of pending tasks that the first read does not hold."""
    if pending is None:
        return tasks
    if not isinstance(pending, (list, tuple)):
        raise AnsibleFilterError("pending expects a list of TaskStatus dictionaries")
    known = {task.get("id") for task in tasks or []}
    return list(tasks or []) + [task for task in pending if task.get("id") not in known]


def task_report_summary(tasks, now=None, stuck_after="6h", limit=10, pending=None, completed_total=None, tenant=None, reports=None) -> dict:
    """Counts by status, by task name and by source, pending ages, the oldest stuck tasks and recent failures."""
    moment = _now(now)
    stuck_seconds = duration_seconds(stuck_after, "stuck_after")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise AnsibleFilterError("limit must be a positive whole number")
    merged = _merge(tasks, pending) or []
    rows = task_rows(merged, moment)
    for row, task in zip(rows, merged):
        if row["status"] == PENDING:
            row["stuck"] = is_stuck(task, stuck_seconds, moment)
    pending_rows = sorted((row for row in rows if row["status"] == PENDING), key=lambda row: -row["age_seconds"])
    stuck = [row for row in pending_rows if row["stuck"]]
    failures = sorted((row for row in rows if row["status"] in FAILURE_STATUSES), key=lambda row: row["completed"] or "", reverse=True)

    by_status = [{"status": status, "count": sum(1 for row in rows if row["status"] == status)} for status in COMPLETION_STATUSES + (PENDING,)]
    total = len(rows)
    for entry in by_status:
        entry["percent"] = round(100.0 * entry["count"] / total, 1) if total else 0.0

    names = _counter_rows(rows, "uniqueName")
    by_name = sorted(({"uniqueName": name, **counts} for name, counts in names.items()), key=lambda entry: (-entry["total"], entry["uniqueName"]))
    sources = _counter_rows(rows, "sourceId")
    source_names = {row["sourceId"]: row["sourceName"] for row in rows if row["sourceId"]}
    by_source = sorted(
        ({"sourceId": source, "sourceName": source_names.get(source), **counts} for source, counts in sources.items()),
        key=lambda entry: (-entry["total"], str(entry["sourceName"])),
    )

    age_buckets = []
    lower = 0
    for label, upper in AGE_BUCKETS:
        inside = [row for row in pending_rows if row["age_seconds"] >= lower and (upper is None or row["age_seconds"] < upper)]
        age_buckets.append(
            {"label": label, "count": len(inside), "stuck": sum(1 for row in inside if row["stuck"]), "fresh": sum(1 for row in inside if not row["stuck"])}
        )
        lower = upper or lower

    completed = [row for row in rows if row["status"] != PENDING]
    succeeded = sum(1 for row in completed if row["status"] in SUCCESS_STATUSES)
    created = sorted(row["created"] for row in rows if row["created"])
    completed_total = len(completed) if completed_total is None else int(completed_total)
    counts = {
        "total": total,
        "pending": len(pending_rows),
        "stuck": len(stuck),
        "completed": len(completed),
        "failed": len(failures),
        "success_rate": round(100.0 * succeeded / len(completed), 1) if completed else None,
    }
    reports = list(reports or [])
    return {
        "tenant": tenant,
        "generated": format_timestamp(moment),
        "stuck_after": str(stuck_after),
        "stuck_after_seconds": stuck_seconds,
        "statuses": list(COMPLETION_STATUSES),
        "failure_statuses": list(FAILURE_STATUSES),
        "limit": limit,
        "counts": counts,
        "truncated": completed_total > len(completed),
        "completed_read": len(completed),
        "completed_total": completed_total,
        "window": {"first_created": created[0] if created else None, "last_created": created[-1] if created else None},
        "by_status": by_status,
        "by_name": by_name,
        "by_source": by_source,
        "pending": pending_rows,
        "pending_age_buckets": age_buckets,
        "oldest_stuck": stuck[:limit],
        "recent_failures": failures[:limit],
        "reports": reports,
        "stats": {"tenant": tenant, **{key: counts[key] for key in ("total", "pending", "stuck", "failed")}, "reports": reports},
    }


class FilterModule:
    """Report filters of the sailpoint.isc collection."""

    def filters(self):
        return {
            "task_rows": task_rows,
            "task_report_summary": task_report_summary,
        }
