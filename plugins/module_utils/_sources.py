# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sources: reading them by id, name or all, their health, their pending aggregations, a connection test.

The service layer of source_info, and the source reads of source_aggregation. Pending aggregations are read through
the task-reading layer (``_task_reader``), in one listing for every source asked about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ansible_collections.sailpoint.isc.plugins.module_utils import _filters as isc_filters
from ansible_collections.sailpoint.isc.plugins.module_utils._aggregations import aggregation_kind, aggregation_kinds
from ansible_collections.sailpoint.isc.plugins.module_utils._client import path_segment
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import IscError, NotFoundError, OptionError, ServerAnswerError
from ansible_collections.sailpoint.isc.plugins.module_utils._numbers import bounded
from ansible_collections.sailpoint.isc.plugins.module_utils._task_reader import Selectors, id_batches, read_pending
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import started_at
from ansible_collections.sailpoint.isc.plugins.module_utils._timestamps import utc_now

# The fields of a Source the modules return: what an operator checks before and after an aggregation. The rest (the
# connector's attributes among them) stays out of results and logs.
SOURCE_FIELDS = (
    "id",
    "name",
    "description",
    "type",
    "connector",
    "connectorName",
    "cluster",
    "authoritative",
    "healthy",
    "status",
    "since",
    "owner",
    "created",
    "modified",
)
MAX_RESULTS_LIMIT = 10_000_000
# ISC's answers to a connection check that concern that one source, reported with it instead of ending the run
CONNECTION_REFUSALS = (400, 403, 404)


@dataclass(frozen=True)
class InfoPlan:
    """One validated run of source_info."""

    ids: tuple = ()
    names: tuple = ()
    max_results: int | None = None
    health: bool = False
    pending_aggregations: bool = False
    check_connection: bool = False
    check_connection_in_check_mode: bool = False


def _strings(params, option, ids=False) -> tuple:
    values = params.get(option)
    if values is None:
        return ()
    checked = []
    for index, value in enumerate(values):
        where = f"{option}[{index}]"
        if value is None or not str(value).strip():
            raise OptionError(f"{where} must not be empty")
        if ids:
            path_segment(value, where)
        checked.append(str(value) if ids else str(value).strip())
    return tuple(dict.fromkeys(checked))


def plan_info(params: dict) -> InfoPlan:
    """Check source_info's options (typed by its argument spec); OptionError naming the option, before any request."""
    max_results = params.get("max_results")
    return InfoPlan(
        ids=_strings(params, "ids", ids=True),
        names=_strings(params, "names"),
        max_results=None if max_results is None else bounded("max_results", max_results, 0, MAX_RESULTS_LIMIT, kind=int),
        health=bool(params.get("health")),
        pending_aggregations=bool(params.get("pending_aggregations")),
        check_connection=bool(params.get("check_connection")),
        check_connection_in_check_mode=bool(params.get("check_connection_in_check_mode")),
    )


# ---- reading sources


def sources_path(client) -> str:
    return client.version.resource("sources")


def checked_source(source, where: str) -> dict:
    """``source`` when it is what ISC's API specifies (an id, a name, ``healthy`` a boolean when sent);
    ServerAnswerError blaming the server otherwise."""
    problem = None
    if not isinstance(source, dict) or not isinstance(source.get("id"), str) or not source["id"]:
        problem = "a source without an id"
    elif not isinstance(source.get("name"), str):
        problem = f"source {source['id']} without a name"
    elif source.get("healthy") is not None and not isinstance(source["healthy"], bool):
        problem = f"source {source['id']} whose healthy is {source['healthy']!r}, not a boolean"
    if problem:
        raise ServerAnswerError(f"{where}: ISC answered {problem}, which is not what its API specifies")
    return source


def summary(source: dict) -> dict:
    """The returned fields of a source (SOURCE_FIELDS), null where ISC sent none."""
    return {name: source.get(name) for name in SOURCE_FIELDS}


def get_source(client, source_id: str, option: str = "source_id") -> dict:
    """One source by id; NotFoundError naming ``option`` when ISC has none."""
    path = f"{sources_path(client)}/{path_segment(source_id, option)}"
    try:
        source = client.get_object(path, "a source")
    except NotFoundError:
        raise NotFoundError(f"{option} {source_id!r}: ISC has no such source (GET {path} answered 404)", status=404) from None
    return checked_source(source, f"GET {path}")


def find_source(client, name: str, option: str = "source_name") -> dict:
    """The one source named ``name`` (ISC compares without case; an exact match wins), from one filtered request;
    NotFoundError (none) or IscError (several) naming ``option``: only ISC knows, so neither is an option error."""
    path = sources_path(client)
    found = []
    for page in client.iter_objects(path, {"filters": isc_filters.condition("name", [name])}, what="sources"):
        found.extend(checked_source(source, f"GET {path}") for source in page)
    exact = [source for source in found if source["name"] == name]
    matches = exact if len(exact) == 1 else found
    if not matches:
        raise NotFoundError(f"{option} {name!r}: ISC has no source of that name")
    if len(matches) > 1:
        listed = ", ".join(f"{source['name']!r} ({source['id']})" for source in matches[:10])
        raise IscError(f"{option} {name!r} is ambiguous: ISC has {len(matches)} sources of that name: {listed}; give source_id instead")
    return matches[0]


def _filtered_sources(client, field, values, max_results) -> list:
    """Sources whose ``field`` is one of ``values``, in filtered requests of a batch each (under the URL budget)."""
    path, found = sources_path(client), []
    for batch in id_batches(values):
        query = {"filters": isc_filters.condition(field, batch)}
        for page in client.iter_objects(path, query, what="sources"):
            found.extend(checked_source(source, f"GET {path}") for source in page)
    return found if max_results is None else found[:max_results]


def read_sources(client, plan: InfoPlan) -> list:
    """The sources the plan names (by id or name), or every source, at most ``max_results``."""
    if plan.ids:
        return _filtered_sources(client, "id", plan.ids, plan.max_results)
    if plan.names:
        return _filtered_sources(client, "name", plan.names, plan.max_results)
    path, found = sources_path(client), []
    for page in client.iter_objects(path, max_results=plan.max_results, what="sources"):
        found.extend(checked_source(source, f"GET {path}") for source in page)
    return found


# ---- what is added to each source


def pending_by_source(client, source_ids, table=None, now: datetime | None = None) -> dict:
    """Each source's pending tasks (aggregations, or other tasks ISC runs on the source), read in one listing for
    all of them through the task-reading layer; each task with its ``age`` (seconds since it started) and ``kind``
    (accounts, entitlements, or null for a task the aggregation table does not know)."""
    now = now or utc_now()
    table = aggregation_kinds() if table is None else table
    wanted = {source_id: [] for source_id in source_ids}
    if not wanted:
        return wanted
    # one filter naming every source when it fits a request line; every pending task, matched here, when it does not
    selectors = Selectors(source_ids=tuple(wanted)) if len(id_batches(tuple(wanted))) == 1 else Selectors()
    for task in read_pending(client, selectors):
        source_id = (task.get("target") or {}).get("id") if isinstance(task.get("target"), dict) else None
        if source_id in wanted:
            started = started_at(task)
            age = None if started is None else max(0, int((now - started).total_seconds()))
            wanted[source_id].append(dict(task, age=age, kind=aggregation_kind(task, table)))
    return wanted


def source_health(client, source_id: str):
    """The source-health record of one source; None on beta, which has no such operation."""
    if client.version.name == "beta":
        return None
    path = f"{sources_path(client)}/{path_segment(source_id)}/source-health"
    return client.get_object(path, "a source-health record", id_required=False)


def check_connection(client, source_id: str) -> dict:
    """Ask the virtual appliance to reach the source now; ISC's StatusResponse (or the error it answered)."""
    path = f"{sources_path(client)}/{path_segment(source_id)}/connector/check-connection"
    try:
        return client.post(path, "a connection check result")
    except IscError as error:
        if isinstance(error, ServerAnswerError) or error.status not in CONNECTION_REFUSALS:
            raise
        # one source's refusal (its connector cannot be tested, say) is part of the answer, not the end of the run
        return {"status": "FAILURE", "error": error.message, "http_status": error.status}


def source_info(client, plan: InfoPlan, check_mode: bool, now: datetime | None = None) -> dict:
    """The result of source_info: ``sources``, each with ``health``, ``pending_aggregations`` and ``connection``
    when asked."""
    sources = read_sources(client, plan)
    results = [summary(source) for source in sources]
    if plan.health:
        if client.version.name == "beta":
            client.warn("health: api_version beta has no source-health operation; health is null; use v2024 or later to read it")
        for result in results:
            result["health"] = source_health(client, result["id"])
    if plan.pending_aggregations:
        pending = pending_by_source(client, [result["id"] for result in results], now=now)
        for result in results:
            result["pending_aggregations"] = pending[result["id"]]
    if plan.check_connection:
        run_checks = not check_mode or plan.check_connection_in_check_mode
        for result in results:
            result["connection"] = check_connection(client, result["id"]) if run_checks else None
    return dict(client.redactor.data({"sources": results}), changed=False)
