# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that keep the bookkeeping of the stuck_tasks role out of Jinja (documented in the adjacent YAML files):
which tasks a run takes, whether it refuses, and what happened to each task according to task_status's result.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.task_report import task_rows
from ansible_collections.sailpoint.isc.plugins.module_utils._client import path_segment
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import OptionError


def _names(value, option) -> list:
    """A list of strings; a comma-separated string (as ``-e`` passes a list) counts as one."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError(f"{option} must be a list of strings, got {value!r}")
    return [item for item in (str(entry).strip() for entry in value) if item]


def _unusable(task) -> str:
    """Why ISC's id of ``task`` cannot be patched (it would leave or rewrite the request's path); "" when it can."""
    try:
        path_segment(task.get("id"), "id")
    except OptionError as error:
        return f"ISC listed it with an id that cannot be patched: {error.message}"
    return ""


def stuck_tasks_selection(found, exclude_ids=None, exclude_names=None, max_tasks=25, ignore_max_tasks=False) -> dict:
    """The tasks found minus the excluded ones and those whose id cannot be patched, and whether the cap refuses them."""
    if not isinstance(found, (list, tuple)):
        raise AnsibleFilterError("stuck_tasks_selection expects the list of tasks task_status_info found")
    excluded_ids = set(_names(exclude_ids, "exclude_ids"))
    excluded_names = set(_names(exclude_names, "exclude_names"))
    kept = [task for task in found if task.get("id") not in excluded_ids and task.get("uniqueName") not in excluded_names]
    # one bad id would fail the whole task_status run: it is reported and skipped, the others are closed
    unusable = [dict(task, unusable=_unusable(task)) for task in kept if _unusable(task)]
    selected = [task for task in kept if not _unusable(task)]
    return {
        "found": list(found),
        "selected": selected,
        "unusable": unusable,
        "excluded": len(found) - len(kept),
        "exclude_ids": sorted(excluded_ids),
        "exclude_names": sorted(excluded_names),
        "refused": len(selected) > int(max_tasks) and not ignore_max_tasks,
    }


def _whole_failure(result) -> str:
    """task_status's message when it failed as a whole (an option, authentication...) and updated no task.

    The role registers task_status with ``failed_when: false``, which overwrites ``failed``: a result that has a
    message but no per-task ``failures`` is a failure of the whole run.
    """
    if (result.get("failed") or "msg" in result) and "failures" not in result:
        return str(result.get("msg") or "task_status failed")
    return ""


def _action(row, refused, error, failures, left_alone, closed, dry_run, completion_status) -> tuple[str, str]:
    """What happened to one task: a keyword for machines and a line for people."""
    if refused:
        return "refused", "not touched (over the cap)"
    if error:
        return "not_closed", f"NOT CLOSED: {error}"
    if row["id"] in failures:
        return "failed", f"FAILED: {failures[row['id']]}"
    if row["id"] in left_alone:
        return "left_alone", f"left alone: {left_alone[row['id']]}"
    if row["id"] in closed:
        return ("would_close", f"would be closed as {completion_status}") if dry_run else ("closed", f"closed as {completion_status}")
    return "unchanged", "unchanged"


def stuck_tasks_report(selection, result=None, tenant=None, run_started=None, check_mode=False, criteria=None, reports=None, now=None) -> dict:
    """The report of one stuck_tasks run: what it found, took, closed, left alone and failed to close."""
    if not isinstance(selection, dict) or "selected" not in selection:
        raise AnsibleFilterError("stuck_tasks_report expects what stuck_tasks_selection returned")
    result = result if isinstance(result, dict) else {}
    criteria = dict(criteria or {})
    refused = bool(selection["refused"])
    error = "" if refused else _whole_failure(result)
    unusable = list(selection.get("unusable") or [])
    failures = [{"id": task.get("id"), "msg": task["unusable"]} for task in unusable]
    failures += [] if refused else list(result.get("failures") or [])
    left_alone = [] if refused else list(result.get("left_alone") or [])
    failed_ids = [failure.get("id") for failure in failures]
    # a patch entry holds what was (or would be) sent; a PATCH that ISC refused is not a close
    patched = [task_id for task_id, operations in (result.get("patch") or {}).items() if operations]
    handled = [] if refused or error else [task_id for task_id in patched if task_id not in failed_ids]
    rows = task_rows(selection["selected"] + unusable, now)
    failure_messages = {failure.get("id"): failure.get("msg") for failure in failures}
    reasons = {entry.get("id"): entry.get("reason") for entry in left_alone}
    for row in rows:
        row["outcome"], row["action"] = _action(row, refused, error, failure_messages, reasons, handled, check_mode, criteria.get("completion_status"))
    reports = list(reports or [])
    closed_ids = [] if check_mode else handled
    would_close_ids = handled if check_mode else []
    return {
        "tenant": tenant,
        "run_started": run_started,
        "mode": "dry run" if check_mode else "applied",
        "check_mode": bool(check_mode),
        "criteria": criteria,
        "found": len(selection["found"]),
        "excluded": selection["excluded"],
        "selected": len(selection["selected"]) + len(unusable),
        "refused": refused,
        "error": error,
        "closed_ids": closed_ids,
        "would_close_ids": would_close_ids,
        "failed_ids": failed_ids,
        "left_alone": left_alone,
        "failures": failures,
        "tasks": rows,
        "reports": reports,
        "stats": {
            "tenant": tenant,
            "check_mode": bool(check_mode),
            "pending": len(selection["found"]),
            "stuck": len(selection["selected"]) + len(unusable),
            "closed": len(closed_ids),
            "closed_ids": closed_ids,
            "would_close_ids": would_close_ids,
            "failed_ids": failed_ids,
            "reports": reports,
        },
    }


class FilterModule:
    """Bookkeeping filters of the stuck_tasks role."""

    def filters(self):
        return {
            "stuck_tasks_selection": stuck_tasks_selection,
            "stuck_tasks_report": stuck_tasks_report,
        }
