# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sailpoint.isc.task_status: an ansible-rulebook event source of SailPoint ISC task transitions."""

from __future__ import annotations

DOCUMENTATION = r"""
---
short_description: Events when SailPoint ISC tasks become stuck, fail or complete
description:
  - Polls one SailPoint Identity Security Cloud tenant and puts one event on the rulebook's queue per transition
    that matters, each emitted once; a task that became stuck (pending at least O(older_than)), a task that
    failed (C(ERROR), C(TERMINATED), C(TEMPERROR)), optionally a task that completed otherwise, and polls that
    failed after the client's retries.
  - Each event is a dictionary with C(kind) (V(stuck), V(failed), V(completed) or V(error)), C(task) (the
    TaskStatus as ISC returns it; null for V(error)), C(tenant) (C(acme) for C(https://acme.api.identitynow.com),
    host, port and path joined with C(_) for any other URL, as the runbooks name it), C(seen) (when the source saw it, UTC, RFC 3339) and, for V(error) only,
    C(error) (the message) and C(consecutive_failures).
  - A quiet poll costs two API calls, both answered with C(X-Total-Count) (the number of pending tasks, by a C(HEAD)
    of C(pending-tasks) up to V(v2024), and a one-item page of the completed tasks, oldest first); pages are read only
    when those counts or the oldest completed task changed.
  - A task read with C(completed) set but no C(completionStatus) yet is still running, so it may become stuck, and its
    completion is announced once its status shows.
  - Tasks already stuck when the source starts are announced on its first poll. Failures that happened before the
    start are announced only with O(announce_existing_failures).
  - The source keeps its state in memory. After a restart, tasks that are still stuck are announced again
    (remediation is idempotent), and transitions that happened while it was down are not, except failures within
    O(announce_existing_failures).
  - Transient errors (HTTP 429 and 5xx, connection failures, timeouts) are retried by the client; a poll that still
    fails, or meets an answer that is not what ISC sends, becomes an V(error) event and polling goes on. An error
    that polling again cannot cure (credentials refused, missing rights, a request ISC refuses, an unknown tenant)
    becomes an V(error) event and then stops the source. A bad argument stops the source before any request, with a
    message naming the argument.
  - O(timeout) bounds each whole answer, so a server that sends slowly costs a poll at most O(timeout) per try; when
    ansible-rulebook stops the source, its requests in flight end at once.
  - The connection options are those of the collection's modules, with the same C(SAIL_*) environment fallbacks.
    The source only reads; a read-only API client is enough.
extends_documentation_fragment:
  - sailpoint.isc.connection
options:
  interval:
    description:
      - Seconds between the end of one poll and the start of the next, more than 0 and at most 604800 (a week).
    type: float
    default: 120
  older_than:
    description:
      - How long a task must have been pending (since it was launched, or created when it never was) to count as
        stuck; a duration such as V(90s), V(30m), V(6h), V(2d) or V(1h30m); a bare number counts as seconds.
    type: str
    default: 6h
  unique_name:
    description:
      - Only tasks with one of these names (C(uniqueName)), compared without case.
    type: list
    elements: str
  type:
    description:
      - Only tasks of one of these task definitions, such as V(CLOUD_ACCOUNT_AGGREGATION).
      - A name ISC refuses in its filter (HTTP 400 "Unsupported Task Definition type") is matched by the source
        instead, with one warning, for as long as it runs.
    type: list
    elements: str
  source_id:
    description:
      - Only tasks whose target is one of these sources (source ids).
    type: list
    elements: str
  events:
    description:
      - The kinds of event to emit. V(completed) is a completion with a status that is not a failure
        (C(SUCCESS), C(WARNING)); every completion is either V(failed) or V(completed), never both.
    type: list
    elements: str
    choices: [stuck, failed, completed, error]
    default: [stuck, failed, error]
  announce_existing_failures:
    description:
      - Also announce, on the first poll, failures that happened before the source started.
      - V(false) announces none, V(true) every failure ISC still holds (90 days), a duration such as V(1h) the
        failures completed within that long before the start, for example the longest a restart may take.
    type: raw
    default: false
"""

EXAMPLES = r"""
- name: Clear stuck ISC tasks
  hosts: all
  sources:
    - name: Task transitions of the tenant in SAIL_BASE_URL
      sailpoint.isc.task_status:
        older_than: 6h
        interval: 120
  rules:
    - name: Close tasks that became stuck
      condition: event.kind == "stuck"
      action:
        run_playbook:
          name: sailpoint.isc.clear_stuck_tasks
"""

# ansible-rulebook runs a source file by its path, without Ansible's collection loader: the collection's own
# module_utils import only once the directory holding ansible_collections/ is on the path.
import sys  # noqa: E402  pylint: disable=wrong-import-position
from pathlib import Path  # noqa: E402  pylint: disable=wrong-import-position

_HERE = Path(__file__).absolute()
if _HERE.parents[6].name == "ansible_collections" and str(_HERE.parents[7]) not in sys.path:
    sys.path.insert(0, str(_HERE.parents[7]))

import asyncio  # noqa: E402  pylint: disable=wrong-import-position
import logging  # noqa: E402  pylint: disable=wrong-import-position
from dataclasses import dataclass, field, replace  # noqa: E402  pylint: disable=wrong-import-position
from datetime import datetime, timedelta, timezone  # noqa: E402  pylint: disable=wrong-import-position

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402  pylint: disable=wrong-import-position
from ansible.module_utils.errors import UnsupportedError  # noqa: E402  pylint: disable=wrong-import-position
from ansible.module_utils.parsing.convert_bool import boolean  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.sailpoint.isc.plugins.module_utils import _connection  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.sailpoint.isc.plugins.module_utils._durations import parse_duration  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import (  # noqa: E402  pylint: disable=wrong-import-position
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    IscError,
    NotFoundError,
    OptionError,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._numbers import bounded  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.sailpoint.isc.plugins.module_utils._redact import Redactor  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.sailpoint.isc.plugins.module_utils._task_reader import (  # noqa: E402  pylint: disable=wrong-import-position
    Selectors,
    TaskReader,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import (  # noqa: E402  pylint: disable=wrong-import-position
    FAILURE_STATUSES,
    is_failure,
    is_stuck,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._tenants import tenant_from_url  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.sailpoint.isc.plugins.module_utils._timestamps import (  # noqa: E402  pylint: disable=wrong-import-position
    format_timestamp,
    parse_rfc3339,
)

NAME = "sailpoint.isc.task_status"
KINDS = ("stuck", "failed", "completed", "error")
SOURCE_SPEC = {
    "interval": {"type": "float", "default": 120.0},
    "older_than": {"type": "str", "default": "6h"},
    "unique_name": {"type": "list", "elements": "str", "default": []},
    "type": {"type": "list", "elements": "str", "default": []},
    "source_id": {"type": "list", "elements": "str", "default": []},
    "events": {"type": "list", "elements": "str", "choices": list(KINDS), "default": ["stuck", "failed", "error"]},
    "announce_existing_failures": {"type": "raw", "default": False},
}
# Errors that repeat at every poll until someone changes the configuration (credentials refused, rights missing, a
# request ISC refuses, a tenant that is not there); any other error, an outage or a garbled answer, may pass.
LASTING_ERRORS = (AuthenticationError, ForbiddenError, BadRequestError, NotFoundError, OptionError)
# A task becomes visible to the list a little after its creation time, and ISC's Date header has whole seconds:
# completions of tasks created this long before the previous read are looked for again (and deduplicated by id).
LOOKBACK = timedelta(minutes=10)
# the API calls of a poll that finds nothing changed
QUIET_POLL_CALLS = 2
MONTHLY_QUOTA = 500_000
# A week between polls is the longest that still watches anything
MAX_INTERVAL = 7 * 86400.0
SECONDS_PER_MONTH = 30 * 86400

logger = logging.getLogger(NAME)


@dataclass(frozen=True)
class Settings:
    """The validated arguments of one source."""

    interval: float
    older_than: timedelta
    # as given; ISC compares them without case, and so does the source
    unique_names: tuple
    types: tuple
    source_ids: tuple
    events: frozenset
    # None: no failure from before the start is announced; timedelta.max: every one ISC still holds
    existing_failures: timedelta | None


@dataclass
class State:
    """What the source knows after a successful poll."""

    signature: tuple
    # when the probe of the last poll that read pages ran, by the server's clock
    read_at: datetime
    # the selected pending tasks, by id
    pending: dict = field(default_factory=dict)
    # ids of pending tasks already announced as stuck
    announced: set = field(default_factory=set)
    # completions already accounted for (announced, or from before the start): id -> created
    handled: dict = field(default_factory=dict)


def _argument_error(message: str) -> OptionError:
    return OptionError(f"{NAME}: {message}")


def _duration(value, option: str) -> timedelta:
    try:
        return timedelta(seconds=parse_duration(value, option))
    except ValueError as error:
        raise _argument_error(str(error)) from None


def _existing_failures(value) -> timedelta | None:
    """``announce_existing_failures``: false, true or a duration."""
    if isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "on", "off")):
        return timedelta.max if boolean(value) else None
    if value is None:
        return None
    try:
        return timedelta(seconds=parse_duration(value, "announce_existing_failures"))
    except ValueError:
        raise _argument_error(f"announce_existing_failures must be true, false or a duration such as 1h or 2d, got {value!r}") from None


def validate_arguments(args: dict) -> tuple[dict, Settings]:
    """The connection params and the source's settings; OptionError naming the argument, before any request."""
    # ansible-rulebook adds its own keys (eda_feedback_queue) to a source's arguments
    given = {key: value for key, value in (args or {}).items() if not key.startswith("eda_")}
    if given.get("interval") is not None:
        # checked before the spec, whose float conversion lets NaN through and ends in OverflowError for 10**400
        try:
            given["interval"] = bounded("interval", given["interval"], 0, MAX_INTERVAL, low_included=False)
        except OptionError as error:
            raise _argument_error(error.message) from None
    spec = dict(_connection.argument_spec(), **SOURCE_SPEC)
    result = ArgumentSpecValidator(spec).validate(given)
    redactor = Redactor(result._no_log_values)  # pylint: disable=protected-access
    errors = result.errors.errors
    if errors:
        messages = [f"unknown argument {error}" if isinstance(error, UnsupportedError) else str(error) for error in errors]
        raise _argument_error(redactor.text("; ".join(messages)))
    params = result.validated_parameters
    settings = Settings(
        interval=params["interval"],
        older_than=_duration(params["older_than"], "older_than"),
        unique_names=_values(params, "unique_name"),
        types=_values(params, "type"),
        source_ids=_values(params, "source_id"),
        events=frozenset(params["events"]),
        existing_failures=_existing_failures(params["announce_existing_failures"]),
    )
    connection = {option.name: params.get(option.name) for option in _connection.CONNECTION_OPTIONS}
    return connection, settings


def _values(params: dict, option: str) -> tuple:
    values = tuple(dict.fromkeys(str(value).strip() for value in params.get(option) or []))
    if any(not value for value in values):
        raise _argument_error(f"{option} must not contain empty values")
    return values


def _instant(value) -> datetime | None:
    try:
        return parse_rfc3339(value)
    except (TypeError, ValueError):
        return None


def _created(task: dict) -> datetime | None:
    return _instant(task.get("created"))


def _completed_at(task: dict) -> datetime | None:
    return _instant(task.get("completed"))


class TaskWatcher:
    """The synchronous half of the source: one ``poll`` at a time, in a worker thread; state changes only when a
    whole poll succeeded, so a failed poll is simply done again."""

    def __init__(self, client, settings: Settings, now=None):
        self.client = client
        self.settings = settings
        self.tenant = tenant_from_url(client.base_url)
        self.now = now or (lambda: datetime.now(timezone.utc))
        self._state: State | None = None
        # how tasks are read on this version, and what the server refused this run, is the reader's to know
        self.reader = TaskReader(client)
        self.selectors = Selectors(unique_names=settings.unique_names, types=settings.types, source_ids=settings.source_ids)

    # ---- reading ISC

    def _read_pending(self) -> dict:
        return {task["id"]: task for task in self.reader.pending(self.selectors)}

    def _look_up(self, ids: list, held: list) -> list:
        """The tasks with these ids that have completed (a task older than ISC's 90 days is simply not found)."""
        return self.reader.completed_by_ids(ids, self.selectors, held)

    def _completed_since(self, horizon: datetime, held: list) -> list:
        """Completed tasks created at or after ``horizon``, newest first, reading pages only down to it; ``held``
        gets those listed as completed but read without a status yet."""

        def older(task):
            created = _created(task)
            return created is not None and created < horizon

        return list(self.reader.completed(self.selectors, sorters="-created", stop=older, held=held))

    def _failures_since(self, cutoff: datetime | None) -> list:
        """Failed tasks ISC still holds, completed at or after ``cutoff`` (every one when it is None)."""
        failures = replace(self.selectors, completion_statuses=FAILURE_STATUSES)
        found = []
        for task in self.reader.completed(failures, sorters="-created"):
            completed = _completed_at(task)
            if cutoff is None or (completed is not None and completed >= cutoff):
                found.append(task)
        return found

    # ---- events

    def event(self, kind: str, task: dict | None, seen: datetime, **extra) -> dict:
        # a task's text comes from ISC and could echo anything back, a secret included
        return self.client.redactor.data(dict({"kind": kind, "task": task, "tenant": self.tenant, "seen": format_timestamp(seen)}, **extra))

    def _completion(self, task: dict, seen: datetime) -> dict | None:
        kind = "failed" if is_failure(task) else "completed"
        return self.event(kind, task, seen) if kind in self.settings.events else None

    # ---- one poll

    def poll(self) -> list:
        """The events of one poll; raises IscError (and keeps the previous state) when a request fails."""
        probe = self.reader.probe(self.selectors)
        now = self.now()
        server_time = probe.server_time or now
        events = []
        if self._state is None:
            state = self._first_read(probe.signature, server_time, now, events)
        elif probe.signature != self._state.signature:
            state = self._read_changes(self._state, probe.signature, server_time, now, events)
        else:
            # nothing started, completed or aged out since the last read: what it read still holds now
            state = replace(self._state, read_at=server_time, announced=set(self._state.announced))
        for task_id, task in state.pending.items():
            if task_id not in state.announced and is_stuck(task, self.settings.older_than, now):
                state.announced.add(task_id)
                if "stuck" in self.settings.events:
                    events.append(self.event("stuck", task, now))
        self._state = state
        return [event for event in events if event is not None]

    def _first_read(self, signature: tuple, server_time: datetime, now: datetime, events: list) -> State:
        pending = self._read_pending()
        horizon = server_time - LOOKBACK
        state = State(signature, server_time, pending)
        finished_since_start = set()
        held = []
        for task in self._completed_since(horizon, held):
            if task["id"] in pending:
                # pending when read a moment ago: it completed after the source started looking
                events.append(self._completion(task, now))
                finished_since_start.add(task["id"])
                del pending[task["id"]]
            state.handled[task["id"]] = _created(task) or horizon
        if self.settings.existing_failures is not None and "failed" in self.settings.events:
            window = self.settings.existing_failures
            for task in self._failures_since(None if window == timedelta.max else now - window):
                if task["id"] not in finished_since_start:
                    events.append(self.event("failed", task, now))
        return self._holding(state, held)

    @staticmethod
    def _holding(state: State, held: list) -> State:
        """``state`` with the tasks read as completed but without a status yet kept pending: they are still running.
        The next poll reads again whatever its probe says, as their status may come without any count changing."""
        for task in held:
            if task["id"] not in state.handled:
                state.pending[task["id"]] = task
        if held:
            state.signature = None
        return state

    def _read_changes(self, previous: State, signature: tuple, server_time: datetime, now: datetime, events: list) -> State:
        pending = self._read_pending()
        gone = [task_id for task_id in previous.pending if task_id not in pending]
        horizon = previous.read_at - LOOKBACK
        # kept: completions the scan below can still meet again
        handled = {task_id: created for task_id, created in previous.handled.items() if created >= horizon}
        held = []
        recent = self._completed_since(horizon, held)
        # a task that left the pending list was either created lately (then the scan found it) or is looked up by id
        found = {task["id"] for task in recent}
        for task in [*recent, *self._look_up([task_id for task_id in gone if task_id not in found], held)]:
            if task["id"] in handled:
                continue
            handled[task["id"]] = _created(task) or horizon
            pending.pop(task["id"], None)
            events.append(self._completion(task, now))
        state = self._holding(State(signature, server_time, pending, set(), handled), held)
        state.announced = {task_id for task_id in previous.announced if task_id in state.pending}
        return state


def monthly_calls(interval: float) -> int:
    """API calls a month when nothing changes; every change adds a few page reads."""
    return int(SECONDS_PER_MONTH / interval * QUIET_POLL_CALLS)


class TaskStatusSource:
    """The asynchronous half: polls in a worker thread so that the rulebook's event loop never waits on HTTP."""

    def __init__(self, args: dict, now=None):
        connection, self.settings = validate_arguments(args)
        try:
            self.client = _connection.client_from_params(connection, warn=logger.warning)
        except OptionError as error:
            raise _argument_error(error.message) from None
        self.watcher = TaskWatcher(self.client, self.settings, now=now)

    async def run(self, queue, sleep=asyncio.sleep) -> None:
        cost = monthly_calls(self.settings.interval)
        logger.info("polling %s every %gs, about %d API calls a month when nothing changes", self.watcher.tenant, self.settings.interval, cost)
        if cost > MONTHLY_QUOTA:
            logger.warning("interval %gs alone spends about %d API calls a month, more than ISC's %d", self.settings.interval, cost, MONTHLY_QUOTA)
        failures = 0
        while True:
            try:
                events = await asyncio.to_thread(self.watcher.poll)
                failures = 0
            except asyncio.CancelledError:
                # the poll's thread is not waited for: stopping the client ends its requests now, whatever the server does
                self.client.stop()
                raise
            except IscError as error:
                failures += 1
                message = self.client.redactor.text(error.message)
                logger.warning("polling %s failed (%d in a row): %s", self.watcher.tenant, failures, message)
                if "error" in self.settings.events:
                    await queue.put(self.watcher.event("error", None, self.watcher.now(), error=message, consecutive_failures=failures))
                if isinstance(error, LASTING_ERRORS):
                    raise IscError(f"{NAME}: stopped, polling again cannot succeed: {message}", status=error.status) from None
                events = []
            for event in events:
                await queue.put(event)
            await sleep(self.settings.interval)


async def main(queue, args: dict) -> None:
    """The entry point ansible-rulebook calls."""
    # building the client reads the rate window the previous run left, file work that must not hold the event loop
    source = await asyncio.to_thread(TaskStatusSource, args)
    await source.run(queue)
