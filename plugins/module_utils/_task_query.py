# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service layer of task_status_info: selection, the operations each API version needs, merging, waiting."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from ansible_collections.sailpoint.isc.plugins.module_utils import _filters as isc_filters
from ansible_collections.sailpoint.isc.plugins.module_utils._client import path_segment
from ansible_collections.sailpoint.isc.plugins.module_utils._durations import parse_duration
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import (
    NotFoundError,
    OptionError,
    RateLimitedError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import COMPLETION_STATUSES, started_at

SCOPES = ("pending", "completed", "all")
# option -> the filter field of ISC's list operation; unique_name has none in any version
SELECTORS = {"completion_status": "completionStatus", "unique_name": None, "type": "type", "source_id": "sourceId", "launcher": "launcher"}
# the only sort field ISC's task-status list supports, ascending or with "-" descending
SORT_FIELDS = ("created", "-created")
# errors that say nothing about the task awaited: the next poll may well succeed
TRANSIENT_ERRORS = (ServerError, TransportError, RateLimitedError)


@dataclass(frozen=True)
class Selection:
    """Validated options of one query."""

    scope: str = "all"
    values: dict = field(default_factory=dict)
    older_than: int | None = None
    filters: str | None = None
    sorters: str | None = None
    max_results: int | None = None


@dataclass(frozen=True)
class Operation:
    """One ISC operation to run: ``list`` or ``pending``, its server filter, what remains to check client-side."""

    name: str
    filters: str | None
    client_fields: tuple
    # True: keep pending tasks only, False: completed only; None: the server's answer needs no such narrowing
    pending_only: bool | None


def _strings(params, option) -> list[str]:
    values = params.get(option) or []
    if isinstance(values, str):
        values = [values]
    cleaned = [str(value).strip() for value in values]
    if any(not value for value in cleaned):
        raise OptionError(f"{option} must not contain empty values")
    return cleaned


def _positive(params, option, allow_zero=False):
    value = params.get(option)
    if value is not None and (value < 0 or (value == 0 and not allow_zero)):
        raise OptionError(f"{option} must be {'0 or more' if allow_zero else 'more than 0'}, got {value}")
    return value


def _sorters(params):
    """The sorters as ISC expects them (no blanks), or None; OptionError for any field ISC cannot sort by."""
    text = params.get("sorters")
    if not text:
        return None
    fields = [part.strip() for part in text.split(",")]
    bad = [part for part in fields if part not in SORT_FIELDS]
    if bad:
        raise OptionError(f"sorters may only sort by {' or '.join(SORT_FIELDS)} (comma-separated), got {', '.join(map(repr, bad))}")
    return ",".join(fields)


def selection_from_params(params: dict) -> Selection:
    """Check every option; OptionError naming the option, before any request."""
    scope = params.get("scope") or "all"
    if scope not in SCOPES:
        raise OptionError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    values = {option: _strings(params, option) for option in SELECTORS}
    unknown = [value for value in values["completion_status"] if value.upper() not in COMPLETION_STATUSES]
    if unknown:
        raise OptionError(f"completion_status must be among {', '.join(COMPLETION_STATUSES)} (any case), got {', '.join(map(repr, unknown))}")
    values["completion_status"] = [value.upper() for value in values["completion_status"]]
    if values["completion_status"] and scope == "pending":
        raise OptionError("completion_status selects completed tasks; it cannot be combined with scope: pending")
    try:
        older_than = parse_duration(params["older_than"]) if params.get("older_than") is not None else None
    except ValueError as error:
        raise OptionError(str(error)) from None
    if params.get("wait") and not params.get("id"):
        raise OptionError("wait needs id: it waits for one task to complete")
    if params.get("id") is not None:
        path_segment(params["id"], "id")
        if params.get("filters") or params.get("sorters"):
            raise OptionError("id selects one task; filters and sorters apply only to lists, leave them out")
    _positive(params, "max_results", allow_zero=True)
    _positive(params, "wait_timeout")
    _positive(params, "wait_sleep")
    return Selection(
        scope,
        {option: tuple(items) for option, items in values.items() if items},
        older_than,
        params.get("filters") or None,
        _sorters(params),
        params.get("max_results"),
    )


def plan(version, selection: Selection) -> list[Operation]:
    """The operations ``selection`` needs on ``version``; each selector goes to the server where it can."""
    # a pending task has no completionStatus, so asking for one asks for completed tasks (never with scope: pending)
    scope = "completed" if "completion_status" in selection.values else selection.scope
    operations = []
    if not version.list_includes_pending:
        if scope in ("completed", "all"):
            # beta and v2024 describe their list as completed tasks; a pending one it answers anyway is dropped here
            operations.append(_list_operation(version, selection, None, pending_only=False))
        if scope in ("pending", "all"):
            if selection.filters:
                raise OptionError(
                    f"filters cannot select pending tasks with api_version {version.name}: its pending-tasks operation takes "
                    "no filters; use api_version v2025 or later, or scope: completed"
                )
            operations.append(Operation("pending", None, tuple(selection.values), None))
        return operations
    # from v2025 the server's filter selects pending or completed tasks itself; completion_status filters them too
    if scope == "pending":
        return [_list_operation(version, selection, isc_filters.is_null("completionStatus"))]
    if scope == "completed" and "completion_status" not in selection.values:
        return [_list_operation(version, selection, isc_filters.condition("completionStatus", COMPLETION_STATUSES))]
    return [_list_operation(version, selection, None)]


def _list_operation(version, selection, scope_filter, pending_only=None):
    server, client = [scope_filter], []
    for option, values in selection.values.items():
        if SELECTORS[option] in version.filter_fields:
            server.append(isc_filters.condition(SELECTORS[option], values))
        else:
            client.append(option)
    return Operation("list", isc_filters.combine(*server, selection.filters), tuple(client), pending_only)


# ---- client-side narrowing


def _task_values(task, option):
    if option == "completion_status":
        return [task.get("completionStatus")]
    if option == "unique_name":
        return [task.get("uniqueName")]
    if option == "source_id":
        return [(task.get("target") or {}).get("id")]
    if option == "launcher":
        return [task.get("launcher")]
    # ISC's type filter matches task-definition names; fall back to one derived from uniqueName when absent
    name = (task.get("attributes") or {}).get("taskDefinitionName") or (task.get("uniqueName") or "").upper().replace(" ", "_")
    return [name]


def matches(task: dict, operation: Operation, selection: Selection, cutoff) -> bool:
    """Whether ``task`` passes what the server could not check; strings compare without case, as ISC's do."""
    pending = task.get("completionStatus") is None
    if operation.pending_only is not None and pending != operation.pending_only:
        return False
    for option in operation.client_fields:
        wanted = {value.lower() for value in selection.values[option]}
        if not any(value is not None and str(value).lower() in wanted for value in _task_values(task, option)):
            return False
    if cutoff is not None:
        started = started_at(task)
        if started is None or started >= cutoff:
            return False
    return True


def _exact_on_server(operation, selection):
    """Whether the server applies the whole selection, so that its X-Total-Count and its pages can be trusted."""
    return not operation.client_fields and operation.pending_only is None and selection.older_than is None


def sort_tasks(tasks: list, sorters: str) -> list:
    """Tasks ordered by ISC-style sorters (``created``, ``-created``, several comma-separated)."""
    ordered = list(tasks)
    for sorter in reversed([part.strip() for part in sorters.split(",") if part.strip()]):
        key = sorter.lstrip("-")
        # a stable sort per key, least significant first; missing values sort first ascending
        ordered.sort(key=lambda task, key=key: (task.get(key) is not None, str(task.get(key) or "")), reverse=sorter.startswith("-"))
    return ordered


# ---- the query


def _collect(client, operation, selection, cutoff, keep_all):
    """Matching tasks of one operation: all of them when ``keep_all``, else at most max_results."""
    limit = None if keep_all else selection.max_results
    # the server can stop early only when it applies the whole selection and orders what it returns
    server_sorted = operation.name == "list" or not selection.sorters
    server_max = limit if _exact_on_server(operation, selection) and server_sorted else None
    sorters = selection.sorters if operation.name == "list" else None
    found = []
    for task in client.iter_tasks(operation.filters, sorters, server_max, operation.name):
        if matches(task, operation, selection, cutoff):
            found.append(task)
            if limit is not None and len(found) >= limit and server_sorted:
                break
    return found


def _search(client, selection, count, now):
    operations = plan(client.version, selection)
    cutoff = now - timedelta(seconds=selection.older_than) if selection.older_than is not None else None
    counted_on_server = count and all(_exact_on_server(operation, selection) for operation in operations)
    merged = {}
    for operation in operations:
        for task in _collect(client, operation, selection, cutoff, keep_all=count and not counted_on_server):
            merged.setdefault(task.get("id"), task)
    tasks = list(merged.values())
    if selection.sorters and (len(operations) > 1 or any(operation.name == "pending" for operation in operations)):
        tasks = sort_tasks(tasks, selection.sorters)
    result = {"tasks": tasks if selection.max_results is None else tasks[: selection.max_results]}
    if count:
        result["total"] = sum(client.count_tasks(op.filters, op.name) for op in operations) if counted_on_server else len(tasks)
    return result


def _poll(client, task_id):
    """The task as ISC has it now, or the transient error that kept it from answering."""
    try:
        return client.get_task(task_id), None
    except NotFoundError as error:
        raise NotFoundError(f"id {task_id!r}: no such task, so there is nothing to wait for ({error.message})", error.status, error.detail) from None
    except TRANSIENT_ERRORS as error:
        # a long wait outlives a passing outage: the task may complete meanwhile, so the next poll decides
        client.warn(f"wait: reading task {task_id} failed, polling again until wait_timeout: {error.message}")
        return None, error


def _wait_timeout(task_id, task, last_error, elapsed):
    """The WaitTimeoutError for a wait that ran out, with the last state read and the last error met."""
    if task is None:
        state = f"could not be read in {elapsed:.0f}s"
    else:
        state = f"({task.get('uniqueName')}) is still pending after {elapsed:.0f}s (progress {task.get('progress')!r}, {task.get('percentComplete')}% complete)"
    cause = f"; last error while polling: {last_error.message}" if last_error is not None else ""
    return WaitTimeoutError(
        f"wait_timeout: task {task_id} {state}{cause}; raise wait_timeout to wait longer", detail={"task": task, "elapsed": round(elapsed, 3)}
    )


def wait_for_task(client, task_id, timeout, interval, sleep=time.sleep, clock=time.monotonic):
    """Poll a task until it has a completionStatus; (task, elapsed seconds) or WaitTimeoutError.

    Server, transport and rate-limit errors count as "still pending": each is warned about, and the wait goes on.
    """
    start, task, last_error = clock(), None, None
    while True:
        polled, error = _poll(client, task_id)
        task, last_error = polled or task, error or last_error
        elapsed = clock() - start
        if polled is not None and polled.get("completionStatus") is not None:
            return polled, round(elapsed, 3)
        if elapsed >= timeout:
            raise _wait_timeout(task_id, task, last_error, elapsed)
        sleep(max(0.0, min(interval, timeout - elapsed)))


def _by_id(client, params, selection, now, sleep, clock):
    result = {}
    if params.get("wait"):
        task, result["elapsed"] = wait_for_task(client, params["id"], params.get("wait_timeout") or 300, params.get("wait_sleep") or 5, sleep, clock)
    else:
        try:
            task = client.get_task(params["id"])
        except NotFoundError:
            task = None
    # the structured selectors narrow a single task as they narrow a list
    operation = Operation("get", None, tuple(selection.values), {"pending": True, "completed": False}.get(selection.scope))
    cutoff = now - timedelta(seconds=selection.older_than) if selection.older_than is not None else None
    result["tasks"] = [task] if task is not None and matches(task, operation, selection, cutoff) else []
    if selection.max_results is not None:
        result["tasks"] = result["tasks"][: selection.max_results]
    if params.get("count"):
        result["total"] = len(result["tasks"])
    return result


def query_tasks(client, params: dict, now=None, sleep=time.sleep, clock=time.monotonic) -> dict:
    """The result of task_status_info: ``tasks``, ``total`` when ``count``, ``elapsed`` when ``wait``."""
    selection = selection_from_params(params)
    now = now or datetime.now(timezone.utc)
    if params.get("id") is not None:
        result = _by_id(client, params, selection, now, sleep, clock)
    else:
        result = _search(client, selection, bool(params.get("count")), now)
    # ISC's answers could echo a secret back (e.g. in a message); a result must never carry one
    return dict(client.redactor.data(result), changed=False)
