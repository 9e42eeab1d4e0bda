# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How tasks are read from ISC, for every API version: the only code that knows it.

API (internal to the collection):

- ``Selectors(ids=, unique_names=, types=, source_ids=, launchers=, completion_statuses=, filters=)``: what to read;
  each a tuple of strings, empty for "any"; ``filters`` is a raw ISC filter expression, for the server only.
  ``Selectors.from_options({"type": [...], ...})`` takes them by option name (``SELECTORS[...].option``).
- ``TaskReader(client)``: one per client (one module run, one event source); it remembers what the server refused
  (a ``type`` filter answered with 400 "Unsupported Task Definition type") for the rest of the run.
  - ``pending(selectors)``, ``completed(selectors, sorters)``, ``tasks(selectors, scope, sorters, max_results)``:
    the matching TaskStatus dicts, one by one, pages read as they are consumed.
  - ``plan(selectors, scope)``: the ``Read`` operations that scope needs on this version, what each leaves to be
    matched on this side (``Read.exact`` when nothing), for callers that page or count themselves (``pages``).
  - ``count(read)``: the server's count of one exact read (X-Total-Count; HEAD on pending-tasks).
  - ``by_ids(ids, mapper)``: each task by id, as read now (or the IscError that kept it from being read), in as few
    requests as the version allows (batched ``id in (...)`` filters under one URL budget; on beta/v2024 the
    pending pages first when that is cheaper than a GET per id).
  - ``completed_by_ids(ids, selectors)``: the completed tasks among ids, batched the same way.
  - ``probe(selectors)``: the cheap "did anything change" reading of an event source: the pending count, the
    completed count and the oldest completed task's id, and the server's clock.
- ``read_pending(client, selectors)``: a list of the pending tasks matching ``selectors``, e.g. the aggregations of
  one source: ``read_pending(client, Selectors(source_ids=("2c91...",)))`` is one request
  ``sourceId eq "2c91..." and completionStatus isnull`` on v2025+, the pending-tasks pages matched here before.
- ``selected(task, selectors, scope)``: whether one task (read by id) passes the selectors and the scope.
- ``task_definition_name(task)``: the name ISC's ``type`` filter matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable
from urllib.parse import quote_plus

from ansible_collections.sailpoint.isc.plugins.module_utils import _filters as isc_filters
from ansible_collections.sailpoint.isc.plugins.module_utils._client import PAGE_SIZE
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import BadRequestError, IscError, NotFoundError, OptionError, ServerAnswerError
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import COMPLETION_STATUSES, completion_status, is_pending

SCOPES = ("pending", "completed", "all")
# An ``id in (...)`` filter of 125 ISC ids (32 hex characters) is about 5,200 characters once urlencoded, well inside
# the 8 KiB request line that common gateways and proxies accept (nginx's and Apache's defaults); ids of other shapes
# are batched by their encoded length under the same budget. A batch is read as one page, so it never exceeds it.
ID_BATCH = 125
ID_FILTER_BUDGET = 6000
# what ISC answers live to a documented task-definition name it does not take in the type filter
_TYPE_REJECTED = re.compile(r"unsupported task definition type|\btype\b", re.IGNORECASE)


def task_definition_name(task: dict) -> str:
    """The name ISC's ``type`` filter matches: the task definition's, or, when a task lacks it, its uniqueName in
    upper case with underscores (``Cloud Account Aggregation`` -> ``CLOUD_ACCOUNT_AGGREGATION``)."""
    return str((task.get("attributes") or {}).get("taskDefinitionName") or (task.get("uniqueName") or "").upper().replace(" ", "_"))


@dataclass(frozen=True)
class Selector:
    """One selector: its option name, the field of ISC's list filter (None: matched here on every version), and the
    value of a task it compares with (without case, as ISC does)."""

    option: str
    field: str | None
    value: Callable[[dict], Any]


SELECTORS = {
    "ids": Selector("id", "id", lambda task: task.get("id")),
    "unique_names": Selector("unique_name", None, lambda task: task.get("uniqueName")),
    "types": Selector("type", "type", task_definition_name),
    "source_ids": Selector("source_id", "sourceId", lambda task: (task.get("target") or {}).get("id")),
    "launchers": Selector("launcher", "launcher", lambda task: task.get("launcher")),
    "completion_statuses": Selector("completion_status", "completionStatus", completion_status),
}


@dataclass(frozen=True)
class Selectors:
    """Which tasks to read; an empty tuple selects any value."""

    ids: tuple = ()
    unique_names: tuple = ()
    types: tuple = ()
    source_ids: tuple = ()
    launchers: tuple = ()
    completion_statuses: tuple = ()
    # a raw ISC filter expression, ANDed with the rest on the server; never matched here
    filters: str | None = None

    @classmethod
    def from_options(cls, values: dict, filters: str | None = None) -> Selectors:
        """Selectors from option names (``type``, ``source_id`` ...), each a list of strings."""
        by_option = {selector.option: name for name, selector in SELECTORS.items()}
        return cls(filters=filters, **{by_option[option]: tuple(items) for option, items in values.items() if items})

    def given(self) -> tuple:
        """The names of the selectors that select something."""
        return tuple(name for name in SELECTORS if getattr(self, name))


def _wanted(selectors: Selectors, name: str) -> set:
    return {str(value).lower() for value in getattr(selectors, name)}


def matches(task: dict, selectors: Selectors, names) -> bool:
    """Whether ``task`` passes the selectors ``names``; strings compare without case, as ISC's do."""
    for name in names:
        value = SELECTORS[name].value(task)
        if value is None or str(value).lower() not in _wanted(selectors, name):
            return False
    return True


def _in_scope(task: dict, scope: str) -> bool:
    return scope == "all" or is_pending(task) == (scope == "pending")


def selected(task: dict, selectors: Selectors, scope: str = "all") -> bool:
    """Whether one task (read by id) passes every selector and the scope."""
    return _in_scope(task, scope) and matches(task, selectors, selectors.given())


def check_scope(selectors: Selectors, scope: str) -> None:
    """OptionError for a scope that is none, or that the completion statuses asked for contradict."""
    if scope not in SCOPES:
        raise OptionError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    if selectors.completion_statuses and scope == "pending":
        raise OptionError("completion_status selects completed tasks; it cannot be combined with scope: pending")


@dataclass(frozen=True)
class Read:
    """One ISC operation to run: ``list`` or ``pending``, its server filter, and what remains to be checked here."""

    operation: str
    filters: str | None
    # selector names the server does not apply on this read
    local: tuple = ()
    # False when the server does not keep to the scope itself (beta's list of completed tasks may hold a pending
    # one), so that the read is not exact
    scoped_by_server: bool = True
    # the scope it was planned for: every task answered is checked against it here, as a read in the window between
    # ISC writing completed and completionStatus shows a completed-listed task without a status
    scope: str = "all"

    @property
    def exact(self) -> bool:
        """Whether the server applies the whole selection, so that its count and its pages can be trusted."""
        return not self.local and self.scoped_by_server

    def keeps(self, task: dict, selectors: Selectors) -> bool:
        return _in_scope(task, self.scope) and matches(task, selectors, self.local)


@dataclass
class TaskReader:
    """Reads tasks for one client on its API version; remembers the filter fields the server refused this run."""

    client: Any
    refused_fields: set = field(default_factory=set)

    @property
    def version(self):
        return self.client.version

    # ---- planning

    def plan(self, selectors: Selectors, scope: str = "all") -> list:
        """The reads ``scope`` (pending, completed or all) needs; each selector goes to the server where it can."""
        check_scope(selectors, scope)
        # a pending task has no completionStatus, so asking for one asks for completed tasks
        if selectors.completion_statuses:
            scope = "completed"
        version = self.version
        if not version.list_includes_pending:
            reads = []
            if scope in ("completed", "all"):
                # beta and v2024 describe their list as completed tasks; a pending one it answers anyway is dropped here
                reads.append(self._list(selectors, None, "completed", scoped_by_server=False))
            if scope in ("pending", "all"):
                if selectors.filters:
                    raise OptionError(
                        f"filters cannot select pending tasks with api_version {version.name}: its pending-tasks operation takes "
                        "no filters; use api_version v2025 or later, or scope: completed"
                    )
                reads.append(Read("pending", None, selectors.given(), scope="pending"))
            return reads
        # from v2025 the list's filter selects pending or completed tasks itself
        if scope == "pending":
            return [self._list(selectors, isc_filters.is_null("completionStatus"), scope)]
        if scope == "completed" and not selectors.completion_statuses:
            return [self._list(selectors, isc_filters.condition("completionStatus", COMPLETION_STATUSES), scope)]
        return [self._list(selectors, None, scope)]

    def _list(self, selectors, scope_filter, scope, scoped_by_server=True):
        server, local = [scope_filter], []
        for name in selectors.given():
            filter_field = SELECTORS[name].field
            if filter_field in self.version.filter_fields and filter_field not in self.refused_fields:
                server.append(isc_filters.condition(filter_field, getattr(selectors, name)))
            else:
                local.append(name)
        return Read("list", isc_filters.combine(*server, selectors.filters), tuple(local), scoped_by_server, scope)

    def _refuses_types(self, read, selectors, error) -> bool:
        """Whether ``error`` is the server refusing the type filter ``read`` sent; if so, remembered and warned about."""
        if not isinstance(error, BadRequestError) or "types" in read.local or not selectors.types or read.operation != "list":
            return False
        if not _TYPE_REJECTED.search(error.message):
            return False
        self.refused_fields.add("type")
        self.client.warn(
            f"ISC refused the type filter ({error.message}); the tasks of type {', '.join(selectors.types)} are selected on the collection's side "
            "instead, from a read without that filter, for the rest of this run"
        )
        return True

    def _replanned(self, read, selectors):
        """``read`` planned again after a refusal: the same operation and scope, the refused selectors matched here."""
        return next(candidate for candidate in self.plan(selectors, read.scope) if candidate.operation == read.operation)

    def _call(self, read, selectors, call):
        """``call(read)``, or, when the server refuses its type filter, ``call`` of the read planned again."""
        try:
            return call(read)
        except BadRequestError as error:
            if not self._refuses_types(read, selectors, error):
                raise
        return call(self._replanned(read, selectors))

    # ---- reading

    def pages(self, read: Read, selectors: Selectors, sorters=None, max_results=None, page_size=PAGE_SIZE, stop=None, held=None):
        """Pages of the tasks ``read`` answers that match ``selectors`` (matched here as far as the server did not);
        reading ends at the first task answered, matching or not, for which ``stop(task)`` is true. A task of a
        completed read that is still pending (read between ISC writing completed and completionStatus) is left out,
        and added to the list ``held`` when one is given.

        A type filter the server refuses (400 naming it, always on the first page) is read again once with the types
        matched here, with a warning; the refusal holds for the rest of the run, so later reads plan it here at once.
        """
        sorters = sorters if read.operation == "list" else None

        def first(candidate):
            server_max = max_results if candidate.exact else None
            iterator = self.client.iter_pages(candidate.filters, sorters, server_max, candidate.operation, page_size)
            return candidate, iterator, next(iterator, None)

        read, iterator, page = self._call(read, selectors, first)
        while page is not None:
            end = next((index for index, task in enumerate(page) if stop(task)), None) if stop else None
            kept = []
            for task in page[:end]:
                if read.keeps(task, selectors):
                    kept.append(task)
                elif held is not None and read.scope == "completed" and is_pending(task) and matches(task, selectors, read.local):
                    held.append(task)
            yield kept
            if end is not None:
                return
            page = next(iterator, None)

    def read(self, read: Read, selectors: Selectors, sorters=None, max_results=None, stop=None, held=None):
        """The matching tasks of one read, one by one, at most ``max_results``, up to ``stop`` (see ``pages``)."""
        found = 0
        for page in self.pages(read, selectors, sorters, max_results, stop=stop, held=held):
            for task in page:
                yield task
                found += 1
                if max_results is not None and found >= max_results:
                    return

    def tasks(self, selectors: Selectors, scope: str = "all", sorters=None, stop=None, held=None):
        """The matching tasks of ``scope``, one by one; with several reads (beta/v2024 scope all), each read's in turn."""
        for read in self.plan(selectors, scope):
            yield from self.read(read, selectors, sorters, stop=stop, held=held)

    def pending(self, selectors: Selectors):
        """The pending tasks matching ``selectors``, one by one."""
        return self.tasks(selectors, "pending")

    def completed(self, selectors: Selectors, sorters=None, stop=None, held=None):
        """The completed tasks matching ``selectors``, one by one, in ``sorters`` order, up to ``stop``; ``held``
        collects those listed as completed but read still pending (see ``pages``)."""
        return self.tasks(selectors, "completed", sorters, stop, held)

    def count(self, read: Read, selectors: Selectors) -> int | None:
        """The server's count of the tasks one exact read answers (a HEAD on pending-tasks, a one-item page else);
        None when the read is not exact, or stopped being so because the server refused one of its filters."""

        def counted(candidate):
            return self.client.count_tasks(candidate.filters, candidate.operation) if candidate.exact else None

        return counted(read) if not read.exact else self._call(read, selectors, counted)

    # ---- by id

    def by_ids(self, ids: tuple, mapper=map) -> dict:
        """Each task as ISC has it now, by id: the TaskStatus, or the IscError that kept it from being read.

        One id is a GET. Several are read in pages: on versions whose list holds pending tasks, lists filtered with
        ``id in (...)``; on beta and v2024 (whose list holds only completed tasks), the pending-tasks pages, then
        filtered lists for the ids not among them, when that costs fewer requests than a GET per id. GETs by id go
        through ``mapper`` (a thread pool's map runs them side by side).
        """
        found: dict = {}
        version = self.version
        if len(ids) > 1 and version.list_includes_pending:
            self._list_by_ids(ids, Selectors(), found)
        elif len(ids) > 2 and version.has_pending_endpoint and self._pending_reads_pay(ids):
            wanted = set(ids)
            try:
                for page in self.client.iter_pages(operation="pending"):
                    found.update((task["id"], task) for task in page if task["id"] in wanted)
            except IscError as error:
                found.update((task_id, error) for task_id in ids)
            self._list_by_ids(tuple(task_id for task_id in ids if task_id not in found), Selectors(), found)
        else:
            found.update(zip(ids, mapper(self._read_one, ids)))
        for task_id in ids:
            if task_id not in found:
                found[task_id] = NotFoundError(f"ISC has no task {task_id} (or it is older than ISC's 90 days of history)", status=404)
        return found

    def completed_by_ids(self, ids, selectors: Selectors, held=None) -> list:
        """The tasks among ``ids`` that have completed and match ``selectors`` (an id ISC no longer holds is left out);
        ``held`` collects those listed as completed but read still pending (see ``pages``)."""
        found: dict = {}
        self._list_by_ids(tuple(ids), selectors, found, scope="completed", keep_errors=False, held=held)
        return list(found.values())

    def _list_by_ids(self, ids, selectors, found, scope="all", keep_errors=True, held=None):
        """Read ``ids`` with filtered list requests, a batch at a time; a batch that cannot be read fails its tasks
        only (or, without ``keep_errors``, the whole call)."""
        for batch in id_batches(ids):
            batch_selectors = replace(selectors, ids=batch)
            # by id alone, the list answers what it holds of them on every version (beta's pending tasks aside)
            reads = self.plan(batch_selectors, scope) if scope != "all" else [self._list(batch_selectors, None, scope)]
            try:
                for read in reads:
                    for page in self.pages(read, batch_selectors, page_size=len(batch), held=held):
                        found.update((task["id"], task) for task in page)
            except IscError as error:
                if not keep_errors:
                    raise
                found.update((task_id, error) for task_id in batch)

    def _pending_reads_pay(self, ids) -> bool:
        """On beta and v2024, whether reading every pending task (pages of 250) costs fewer requests than a GET per id."""
        try:
            pending = self.client.count_tasks(operation="pending")
        except IscError:
            return False
        return -(-pending // PAGE_SIZE) + len(id_batches(ids)) < len(ids)

    def _read_one(self, task_id):
        try:
            return self.client.get_task(task_id)
        except IscError as error:
            return error
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # an unforeseen error reading one task must not keep the others from being handled
            return IscError(f"unexpected {type(exc).__name__}: {exc}")

    # ---- the event source's probe

    def probe(self, selectors: Selectors) -> Probe:
        """Two counting calls whose answers change whenever a selected task starts, completes or leaves ISC's 90 days:
        the pending count (HEAD of pending-tasks up to v2024, a filtered count after), and a one-item page of the
        completed tasks, oldest first, with their count. The counts may cover more than ``selectors`` select (what is
        matched here): they only have to change when the selected tasks do."""
        pending = self._call(self.plan(selectors, "pending")[0], selectors, lambda read: self.client.count_tasks(read.filters, read.operation))
        page = self._call(
            self.plan(selectors, "completed")[0], selectors, lambda read: self.client.read_page("list", read.filters, "created", limit=1, offset=0, count=True)
        )
        if page.total is None:
            raise ServerAnswerError(
                f"GET {self.version.collection} with count=true: ISC answered without a usable X-Total-Count header, which is not what its API specifies"
            )
        # the oldest completed task changes when one leaves ISC's 90 days, which a count alone could hide
        oldest = page.tasks[0]["id"] if page.tasks else None
        return Probe(pending, page.total, oldest, _server_time(page.date))


@dataclass(frozen=True)
class Probe:
    """What the counting calls of an event source's poll saw."""

    pending: int
    completed: int
    oldest_completed: str | None
    # the server's clock (its Date header), or None when it sent none that parses
    server_time: Any

    @property
    def signature(self) -> tuple:
        return (self.pending, self.completed, self.oldest_completed)


def _server_time(date):
    try:
        return parsedate_to_datetime(date).astimezone(timezone.utc) if date else None
    except (TypeError, ValueError):
        return None


def id_batches(ids) -> list:
    """The ids in groups that one list request with an ``id in (...)`` filter can read (see ID_FILTER_BUDGET)."""
    batches: list = []
    batch: list = []
    length = 0
    for task_id in ids:
        size = len(quote_plus(isc_filters.quote(task_id))) + len(quote_plus(", "))
        if batch and (len(batch) == ID_BATCH or length + size > ID_FILTER_BUDGET):
            batches.append(tuple(batch))
            batch, length = [], 0
        batch.append(task_id)
        length += size
    if batch:
        batches.append(tuple(batch))
    return batches


def read_pending(client, selectors: Selectors, reader: TaskReader | None = None) -> list:
    """The pending tasks matching ``selectors`` (e.g. ``Selectors(source_ids=(source_id,))``), as a list.

    On v2025 and later one filtered list (``sourceId eq "..." and completionStatus isnull``), on beta and v2024 the
    pending-tasks pages matched here. Pass the run's ``reader`` to keep what the server refused across calls.
    """
    return list((reader or TaskReader(client)).pending(selectors))
