# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task domain, defined once: what a TaskStatus's states are, when a task started, when it is stuck.

Internal to this collection (not a public API). The services, the filter plugins, the event source and, through
those filters, the roles all take these rules from here.

- pending: no ``completionStatus``. ISC writes ``completed`` and ``completionStatus`` one after the other, so a read
  can see ``completed`` set and the status still null: that task is still running, pending for every purpose.
- finished: a ``completionStatus``; failed: one of FAILURE_STATUSES.
- stuck: pending, and started (launched, else created) at least ``threshold`` before ``now``: a task pending exactly
  as long as the threshold is stuck, as "pending for 6h" reads.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ansible_collections.sailpoint.isc.plugins.module_utils._timestamps import parse_rfc3339

# The completion statuses ISC sends (upper case since June 2024); a pending task has none.
COMPLETION_STATUSES = ("SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR")
# The statuses that say a task did not do its work.
FAILURE_STATUSES = ("ERROR", "TERMINATED", "TEMPERROR")
# Every top-level field of a TaskStatus, in the order SailPoint's specification lists them.
TASK_FIELDS = (
    "id",
    "type",
    "uniqueName",
    "description",
    "parentName",
    "launcher",
    "target",
    "created",
    "modified",
    "launched",
    "completed",
    "completionStatus",
    "messages",
    "returns",
    "attributes",
    "progress",
    "percentComplete",
    "taskDefinitionSummary",
)
# The statuses of a task that did its work (with warnings or not).
SUCCESS_STATUSES = tuple(status for status in COMPLETION_STATUSES if status not in FAILURE_STATUSES)


def is_pending(task: dict) -> bool:
    """A task is pending while it has no completionStatus, whether or not ``completed`` is set already."""
    return task.get("completionStatus") is None


def is_finished(task: dict) -> bool:
    """A task has finished once it has a completionStatus (``completed`` alone does not tell)."""
    return not is_pending(task)


def is_failure(task: dict) -> bool:
    """A finished task whose status says it did not do its work."""
    return completion_status(task) in FAILURE_STATUSES


def completion_status(task: dict) -> str | None:
    """The task's status in upper case (older tenants wrote ``Error``), or None while it is pending."""
    status = task.get("completionStatus")
    return str(status).upper() if status is not None else None


def _instant(value) -> datetime | None:
    if not value:
        return None
    try:
        return parse_rfc3339(str(value))
    except ValueError:
        return None


def started_at(task: dict) -> datetime | None:
    """When a task started: when it was launched, else (never launched, or a launch time that is no date-time)
    when it was created; None when neither is a date-time."""
    return _instant(task.get("launched")) or _instant(task.get("created"))


def completed_at(task: dict) -> datetime | None:
    """When a task completed; None while it is pending or when its completion time is no date-time."""
    return _instant(task.get("completed"))


def _seconds(threshold) -> float:
    return threshold.total_seconds() if isinstance(threshold, timedelta) else float(threshold)


def started_long_ago(task: dict, threshold, now: datetime) -> bool:
    """Whether a task started at least ``threshold`` (seconds or a timedelta) before ``now``; False when it has no
    start time. The one age boundary: exactly ``threshold`` counts."""
    started = started_at(task)
    return started is not None and (now - started).total_seconds() >= _seconds(threshold)


def is_stuck(task: dict, threshold, now: datetime) -> bool:
    """Pending, and started at least ``threshold`` (seconds or a timedelta) before ``now``."""
    return is_pending(task) and started_long_ago(task, threshold, now)
