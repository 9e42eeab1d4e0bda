# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service layer of task_status_info: selection, the operations each API version needs, merging, waiting."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

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
from ansible_collections.sailpoint.isc.plugins.module_utils._task_reader import SELECTORS, Selectors, TaskReader, check_scope, selected
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import COMPLETION_STATUSES, TASK_FIELDS, is_finished, started_long_ago

# the selector options of task_status_info (a single task is chosen by id, not by an ids list)
SELECTOR_OPTIONS = tuple(selector.option for name, selector in SELECTORS.items() if name != "ids")
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
    values = {option: _strings(params, option) for option in SELECTOR_OPTIONS}
    unknown = [value for value in values["completion_status"] if value.upper() not in COMPLETION_STATUSES]
    if unknown:
        raise OptionError(f"completion_status must be among {', '.join(COMPLETION_STATUSES)} (any case), got {', '.join(map(repr, unknown))}")
    values["completion_status"] = [value.upper() for value in values["completion_status"]]
    check_scope(Selectors.from_options(values), scope)
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


def selectors_of(selection: Selection) -> Selectors:
    """What the task reader selects for ``selection``."""
    return Selectors.from_options(selection.values, selection.filters)


def _old_enough(task, selection: Selection, now) -> bool:
    return selection.older_than is None or started_long_ago(task, selection.older_than, now)


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


def _collect(reader, read, selection, now, keep_all, keep=lambda task: task):
    """Matching tasks of one read, as ``keep`` shapes them: all of them when ``keep_all``, else at most max_results."""
    limit = None if keep_all else selection.max_results
    # the server can stop early only when it applies the whole selection and orders what it returns
    server_sorted = read.operation == "list" or not selection.sorters
    server_max = limit if server_sorted and selection.older_than is None else None
    found = []
    for page in reader.pages(read, selectors_of(selection), selection.sorters, server_max):
        for task in page:
            if _old_enough(task, selection, now):
                found.append(keep(task))
                if limit is not None and len(found) >= limit and server_sorted:
                    return found
    return found


def _search(reader, plan: QueryPlan, now):
    selection = plan.selection
    selectors = selectors_of(selection)
    reads = reader.plan(selectors, selection.scope)
    counted_on_server = plan.count and selection.older_than is None and all(read.exact for read in reads)
    sort_here = bool(selection.sorters) and (len(reads) > 1 or any(read.operation == "pending" for read in reads))
    # a single read needs no merging by id nor sorting here: each task is cut down to its fields as it arrives,
    # so a large listing never holds more than it returns
    early = len(reads) == 1 and not sort_here
    keep = (lambda task: project(task, plan.fields)) if early else (lambda task: task)
    keep_all = plan.count and not counted_on_server
    if early:
        tasks = _collect(reader, reads[0], selection, now, keep_all, keep)
    else:
        merged = {}
        for read in reads:
            for task in _collect(reader, read, selection, now, keep_all):
                merged.setdefault(task.get("id"), task)
        tasks = list(merged.values())
    if counted_on_server:
        totals = [reader.count(read, selectors) for read in reader.plan(selectors, selection.scope)]
        if None in totals:
            # the server refused a filter while this search read: the count is taken from a search matched here
            return _search(reader, plan, now)
    found = len(tasks)
    if sort_here:
        tasks = sort_tasks(tasks, selection.sorters)
    if selection.max_results is not None:
        tasks = tasks[: selection.max_results]
    result = {"tasks": tasks if early else [project(task, plan.fields) for task in tasks]}
    if plan.count:
        result["total"] = sum(totals) if counted_on_server else found
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


def wait_for_task(client, task_id, timeout, interval, sleep=time.sleep, clock=time.monotonic, longest=None):
    """Poll a task until it has a completionStatus; (task, elapsed seconds) or WaitTimeoutError.

    Server, transport and rate-limit errors count as "still pending": each is warned about, and the wait goes on.
    ``longest``: the pause doubles after each poll up to these seconds (never below ``interval``), so a long wait
    costs few requests.
    """
    start, task, last_error = clock(), None, None
    while True:
        polled, error = _poll(client, task_id)
        task, last_error = polled or task, error or last_error
        elapsed = clock() - start
        # ISC may set completed a moment before completionStatus: until the status comes, the task still runs
        if polled is not None and is_finished(polled):
            return polled, round(elapsed, 3)
        if elapsed >= timeout:
            raise _wait_timeout(task_id, task, last_error, elapsed)
        sleep(max(0.0, min(interval, timeout - elapsed)))
        if longest is not None:
            interval = max(interval, min(interval * 2, longest))


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
    kept = task is not None and selected(task, selectors_of(selection), selection.scope) and _old_enough(task, selection, now)
    tasks = [task] if kept else []
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
        return dict(_search(TaskReader(client), plan, now), changed=False)
    # ISC's answers could echo a secret back (e.g. in a message); a result must never carry one
    return dict(client.redactor.data(_by_id(client, plan, now, sleep, clock)), changed=False)
