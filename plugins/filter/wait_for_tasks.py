# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bookkeeping of the wait_for_tasks role, out of Jinja (documented in the adjacent YAML file): how each
waited-for task ended, from the results of one task_status_info wait per task.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.checks import completion_status, string_list
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import COMPLETION_STATUSES, FAILURE_STATUSES, is_finished
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import completion_status as status_of


def _failed(result) -> bool:
    # the role loops with failed_when: false, which overwrites `failed`: a wait that failed returned no tasks
    return bool(result.get("failed")) or ("tasks" not in result and not result.get("skipped"))


def _timed_out(result) -> bool:
    # task_status_info reports a wait that ran out with the seconds waited; any other failure has none
    return _failed(result) and "elapsed" in (result.get("detail") or {})


def wait_for_tasks_failure_statuses(value, option="wait_for_tasks_failure_statuses") -> list:
    """The failure statuses a run counts, in upper case: the collection's own (FAILURE_STATUSES) when ``value`` is
    null, else those given (a list, or one comma-separated string); an error naming ``option`` for anything else."""
    if value is None:
        return list(FAILURE_STATUSES)
    return completion_status(string_list(value, option), option)


def wait_for_tasks_outcome(results, ids=None, failure_statuses=None, tenant=None, elapsed=None) -> dict:
    """How the tasks ended: finished, failed, still pending at the deadline or unknown, and errors met."""
    if not isinstance(results, (list, tuple)):
        raise AnsibleFilterError("wait_for_tasks_outcome expects the results of the looped task_status_info wait")
    failing = set(wait_for_tasks_failure_statuses(failure_statuses, "failure_statuses"))
    ids = [str(item) for item in (ids if ids is not None else [result.get("item") for result in results])]
    tasks = [task for result in results for task in (result.get("tasks") or [])]
    # a task with completed set but no completionStatus yet is still running
    finished = {task.get("id"): task for task in tasks if is_finished(task)}
    completed_ids = [task_id for task_id in ids if task_id in finished]
    failed_ids = [task_id for task_id in completed_ids if status_of(finished[task_id]) in failing]
    errors = []
    for result in results:
        message = result.get("msg")
        if _failed(result) and not _timed_out(result) and message and message not in errors:
            errors.append(str(message))
    return {
        "tenant": tenant,
        "ids": ids,
        "tasks": tasks,
        "failure_statuses": [status for status in COMPLETION_STATUSES if status in failing],
        "completed_ids": completed_ids,
        "failed_ids": failed_ids,
        "failed_tasks": [finished[task_id] for task_id in failed_ids],
        "unfinished_ids": [task_id for task_id in ids if task_id not in finished],
        "errors": errors,
        "stats": {
            "tenant": tenant,
            "ids": ids,
            "completed_ids": completed_ids,
            "failed_ids": failed_ids,
            "elapsed": None if elapsed is None else round(float(elapsed), 3),
        },
    }


class FilterModule:
    """Bookkeeping filter of the wait_for_tasks role."""

    def filters(self):
        return {"wait_for_tasks_outcome": wait_for_tasks_outcome, "wait_for_tasks_failure_statuses": wait_for_tasks_failure_statuses}
