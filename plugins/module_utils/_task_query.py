# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
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
from ansible_collections.sailpoint.isc.plugins.module_utils._numbers import bounded
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import COMPLETION_STATUSES, TASK_FIELDS, is_pending, started_at

SCOPES = ("pending", "completed", "all")
# option -> the filter field of ISC's list operation; unique_name has none in any version
SELECTORS = {"completion_status": "completionStatus", "unique_name": None, "type": "type", "source_id": "sourceId", "launcher": "launcher"}
# the only sort field ISC's task-status list supports, ascending or with "-" descending
SORT_FIELDS = ("created", "-created")
# errors that say nothing about the task awaited: the next poll may well succeed
TRANSIENT_ERRORS = (ServerError, TransportError, RateLimitedError)
# A wait of more than a day belongs in a scheduler, and a poll faster than this only spends the rate limit.
MAX_WAIT_TIMEOUT = 86400.0
MIN_WAIT_SLEEP, MAX_WAIT_SLEEP = 0.5, 3600.0
MAX_RESULTS_LIMIT = 10_000_000


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
class Wait:
    """How to wait for one task: at most ``timeout`` seconds, polling every ``interval`` seconds."""

    timeout: float
    interval: float


@dataclass(frozen=True)
class QueryPlan:
    """One validated run of task_status_info: one task by id (and perhaps a wait) or a selection, what to return."""

    selection: Selection
    task_id: str | None = None
    wait: Wait | None = None
    count: bool = False
    fields: tuple | None = None


@dataclass(frozen=True)
class Narrowing:
    """What the client checks itself because the server could not: selector options, pending or completed only."""

    client_fields: tuple = ()
    # True: keep pending tasks only, False: completed only; None: no such narrowing
    pending_only: bool | None = None


@dataclass(frozen=True)
class Operation:
    """One ISC operation to run: ``list`` or ``pending``, its server filter, and what remains to check client-side."""

    name: str
    filters: str | None
    narrowing: Narrowing


def _strings(params, option) -> list[str]:
    values = params.get(option) or []
    if isinstance(values, str):
        values = [values]
    cleaned = [str(value).strip() for value in values]
    if any(not value for value in cleaned):
        raise OptionError(f"{option} must not contain empty values")
    return cleaned


def _bounded(params, option, low, high, low_included=False, kind=float):
    value = params.get(option)
    return None if value is None else bounded(option, value, low, high, low_included, kind)


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


def _fields(params):
    names = params.get("fields")
    if names is None:
        return None
    names = [str(name).strip() for name in names]
    unknown = [name for name in names if name not in TASK_FIELDS]
    if unknown or not names:
        raise OptionError(f"fields must name fields of a task ({', '.join(TASK_FIELDS)}), got {', '.join(map(repr, unknown)) or 'none'}")
    return tuple(dict.fromkeys(names))


def _selection(params) -> Selection:
    scope = params["scope"]
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
    max_results = _bounded(params, "max_results", 0, MAX_RESULTS_LIMIT, low_included=True, kind=int)
    return Selection(
        scope, {option: tuple(items) for option, items in values.items() if items}, older_than, params.get("filters") or None, _sorters(params), max_results
    )


def plan_query(params: dict) -> QueryPlan:
    """Check every option of task_status_info (validated by its argument spec); OptionError naming the option,
    before any request."""
    selection = _selection(params)
    task_id = params.get("id")
    if params["wait"] and task_id is None:
        raise OptionError("wait needs id: it waits for one task to complete")
    if task_id is not None:
        path_segment(task_id, "id")
        if params.get("filters") or params.get("sorters"):
            raise OptionError("id selects one task; filters and sorters apply only to lists, leave them out")
    wait = None
    if params["wait"]:
        wait = Wait(
            timeout=_bounded(params, "wait_timeout", 0, MAX_WAIT_TIMEOUT),
            interval=_bounded(params, "wait_sleep", MIN_WAIT_SLEEP, MAX_WAIT_SLEEP, low_included=True),
        )
    else:
        _bounded(params, "wait_timeout", 0, MAX_WAIT_TIMEOUT)
        _bounded(params, "wait_sleep", MIN_WAIT_SLEEP, MAX_WAIT_SLEEP, low_included=True)
    return QueryPlan(selection=selection, task_id=task_id, wait=wait, count=bool(params["count"]), fields=_fields(params))


def plan_operations(version, selection: Selection) -> list[Operation]:
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
            operations.append(Operation("pending", None, Narrowing(tuple(selection.values))))
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
    return Operation("list", isc_filters.combine(*server, selection.filters), Narrowing(tuple(client), pending_only))


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


def matches(task: dict, narrowing: Narrowing, selection: Selection, cutoff) -> bool:
    """Whether ``task`` passes what the server could not check; strings compare without case, as ISC's do."""
    if narrowing.pending_only is not None and is_pending(task) != narrowing.pending_only:
        return False
    for option in narrowing.client_fields:
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
    return not operation.narrowing.client_fields and operation.narrowing.pending_only is None and selection.older_than is None


def sort_tasks(tasks: list, sorters: str) -> list:
    """Tasks ordered by ISC-style sorters (``created``, ``-created``, several comma-separated)."""
    ordered = list(tasks)
    for sorter in reversed([part.strip() for part in sorters.split(",") if part.strip()]):
        key = sorter.lstrip("-")
        # a stable sort per key, least significant first; missing values sort first ascending
        ordered.sort(key=lambda task, key=key: (task.get(key) is not None, str(task.get(key) or "")), reverse=sorter.startswith("-"))
    return ordered


# ---- the query


def project(task: dict, fields) -> dict:
    """Only the named fields of ``task`` (every field when ``fields`` is None)."""
    return task if fields is None else {name: task.get(name) for name in fields}


def _collect(client, operation, selection, cutoff, keep_all, keep=lambda task: task):
    """Matching tasks of one operation, as ``keep`` shapes them: all of them when ``keep_all``, else at most
    max_results."""
    limit = None if keep_all else selection.max_results
    # the server can stop early only when it applies the whole selection and orders what it returns
    server_sorted = operation.name == "list" or not selection.sorters
    server_max = limit if _exact_on_server(operation, selection) and server_sorted else None
    sorters = selection.sorters if operation.name == "list" else None
    found = []
    for page in client.iter_pages(operation.filters, sorters, server_max, operation.name):
        for task in page:
            if matches(task, operation.narrowing, selection, cutoff):
                found.append(keep(task))
                if limit is not None and len(found) >= limit and server_sorted:
                    return found
    return found


def _cutoff(now, older_than):
    return now - timedelta(seconds=older_than) if older_than is not None else None


def _search(client, plan: QueryPlan, now):
    selection = plan.selection
    operations = plan_operations(client.version, selection)
    cutoff = _cutoff(now, selection.older_than)
    counted_on_server = plan.count and all(_exact_on_server(operation, selection) for operation in operations)
    sort_here = bool(selection.sorters) and (len(operations) > 1 or any(operation.name == "pending" for operation in operations))
    # a single operation needs no merging by id nor sorting here: each task is cut down to its fields as it arrives,
    # so a large listing never holds more than it returns
    early = len(operations) == 1 and not sort_here
    keep = (lambda task: project(task, plan.fields)) if early else (lambda task: task)
    keep_all = plan.count and not counted_on_server
    if early:
        tasks = _collect(client, operations[0], selection, cutoff, keep_all, keep)
    else:
        merged = {}
        for operation in operations:
            for task in _collect(client, operation, selection, cutoff, keep_all):
                merged.setdefault(task.get("id"), task)
        tasks = list(merged.values())
    found = len(tasks)
    if sort_here:
        tasks = sort_tasks(tasks, selection.sorters)
    if selection.max_results is not None:
        tasks = tasks[: selection.max_results]
    result = {"tasks": tasks if early else [project(task, plan.fields) for task in tasks]}
    if plan.count:
        result["total"] = sum(client.count_tasks(op.filters, op.name) for op in operations) if counted_on_server else found
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


def _by_id(client, plan: QueryPlan, now, sleep, clock):
    result = {}
    if plan.wait is not None:
        task, result["elapsed"] = wait_for_task(client, plan.task_id, plan.wait.timeout, plan.wait.interval, sleep, clock)
    else:
        try:
            task = client.get_task(plan.task_id)
        except NotFoundError:
            task = None
    selection = plan.selection
    # the structured selectors narrow a single task as they narrow a list
    narrowing = Narrowing(tuple(selection.values), {"pending": True, "completed": False}.get(selection.scope))
    tasks = [task] if task is not None and matches(task, narrowing, selection, _cutoff(now, selection.older_than)) else []
    if selection.max_results is not None:
        tasks = tasks[: selection.max_results]
    result["tasks"] = [project(task, plan.fields) for task in tasks]
    if plan.count:
        result["total"] = len(tasks)
    return result


def query_tasks(client, plan: QueryPlan, now=None, sleep=time.sleep, clock=time.monotonic) -> dict:
    """The result of task_status_info: ``tasks``, ``total`` when ``count``, ``elapsed`` when ``wait``."""
    now = now or datetime.now(timezone.utc)
    if plan.task_id is None:
        # the client masked every page as it arrived: nothing in a listing is left to mask
        return dict(_search(client, plan, now), changed=False)
    # ISC's answers could echo a secret back (e.g. in a message); a result must never carry one
    return dict(client.redactor.data(_by_id(client, plan, now, sleep, clock)), changed=False)
