"""The control surface's calls for sources and aggregations (see tests/emulator/README.md, "Sources and aggregations").

A source is named in a path by its id or its name (percent-encoded), case-insensitively.
"""

from __future__ import annotations

import urllib.parse

from isc_emulator import aggregations, sources
from isc_emulator.clock import now_ms
from isc_emulator.responses import error, json_response

ROOTS = ("sources", "aggregations", "launch-faults")
MAX_STUCK = 1000
AUTO_KEYS = {"tenant", "status", "after_reads", "counts", "kinds", "message"}


def handle(emulator, method, parts, data, tenant_of):
    """``parts``: the path after /_control; ``data``: the JSON body (or the query of a GET); ``tenant_of(name)``."""
    tenant = tenant_of(data.get("tenant"))
    root, rest = parts[0], [urllib.parse.unquote(part) for part in parts[1:]]
    try:
        return _route(emulator, tenant.name, method, root, rest, data)
    except (sources.SourceError, aggregations.SettingError) as problem:
        return error(400, "Bad control request: %s" % problem)


def _route(emulator, tenant_name, method, root, rest, data):
    if root == "launch-faults" and not rest and method == "POST":
        return json_response(200, dict(emulator.launches.set_fault(tenant_name, data.get("mode"), data.get("count", 1)), tenant=tenant_name))
    if root == "aggregations":
        if not rest and method == "GET":
            state = emulator.launches.of(tenant_name)
            body = {
                "settings": state.settings(),
                "fault": {"mode": state.fault, "count": state.fault_count},
                "launched": emulator.launches.launched_ids(tenant_name),
            }
            return json_response(200, dict(body, tenant=tenant_name))
        if not rest and method == "POST":
            return json_response(200, dict(emulator.launches.configure(tenant_name, data), tenant=tenant_name))
        if len(rest) == 1 and method == "POST":
            return _complete(emulator, tenant_name, rest[0], data)
    if root == "sources":
        if not rest and method == "GET":
            return json_response(
                200, [{"source": source, "settings": emulator.sources.settings(tenant_name, source["id"])} for source in emulator.sources.all(tenant_name)]
            )
        if not rest and method == "POST":
            return json_response(200, _add(emulator, tenant_name, data))
        if len(rest) == 2 and method == "POST" and rest[1] in SOURCE_CALLS:
            source = _source(emulator, tenant_name, rest[0])
            if source is None:
                return error(404, "Unknown source %r" % rest[0][:64])
            return SOURCE_CALLS[rest[1]](emulator, tenant_name, source, data)
    return error(404, "No such control call %s /_control/%s" % (method, "/".join([root] + rest)))


def _source(emulator, tenant_name, key):
    return emulator.sources.get(tenant_name, key) or emulator.sources.by_name(tenant_name, key)


def _text(data, key, default=None):
    value = data.get(key, default)
    if value is not None and (not isinstance(value, str) or not value.strip() or len(value) > 200):
        raise sources.SourceError("%s must be a non-empty string of at most 200 characters" % key)
    return value


def _add(emulator, tenant_name, data):
    unknown = set(data) - {"tenant", "id", "name", "healthy", "status", "connectorName", "cluster", "authoritative"}
    if unknown:
        raise sources.SourceError("unknown source fields: %s" % ", ".join(sorted(unknown)))
    name = _text(data, "name")
    if name is None:
        raise sources.SourceError("name is required")
    status = data.get("status")
    if status is not None and status not in sources.STATUSES:
        raise sources.SourceError("status must be one of %s" % ", ".join(sources.STATUSES))
    healthy = data.get("healthy", status in (None, sources.HEALTHY))
    for key in ("healthy", "authoritative"):
        if key in data and not isinstance(data[key], bool):
            raise sources.SourceError("%s must be true or false" % key)
    source_id = _text(data, "id") or sources.derive(tenant_name, "added", name, now_ms())
    source = sources.make_source(
        tenant_name,
        source_id,
        name,
        now_ms(),
        connector_name=_text(data, "connectorName"),
        healthy=healthy,
        status=status,
        cluster=_text(data, "cluster"),
        authoritative=data.get("authoritative"),
    )
    return emulator.sources.add(tenant_name, source)


def _health(emulator, tenant_name, source, data):
    if "status" not in data and not isinstance(data.get("healthy"), bool):
        raise sources.SourceError('give status (one of the eleven SOURCE_STATE_* values) and/or healthy: {"status": "SOURCE_STATE_ERROR_VA"}')
    status = data.get("status") or (sources.HEALTHY if data["healthy"] else sources.APPLIANCE_DOWN)
    return json_response(200, emulator.sources.set_health(tenant_name, source["id"], status, data.get("healthy")))


def _count(data, key, default, maximum):
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise sources.SourceError("%s must be an integer from 0 to %d" % (key, maximum))
    return value


def _fail_connection(emulator, tenant_name, source, data):
    count = _count(data, "count", 1, MAX_STUCK)
    _found, settings = emulator.sources.change(tenant_name, source["id"], change_settings=lambda settings: settings.update(fail_connections=count))
    return json_response(200, {"source": source["id"], "settings": settings})


def _auto_complete(emulator, tenant_name, source, data):
    unknown = set(data) - AUTO_KEYS
    if unknown:
        raise sources.SourceError("unknown auto-complete settings: %s" % ", ".join(sorted(unknown)))
    auto = None
    if data.get("status") is not None:
        kinds = data.get("kinds", [aggregations.ACCOUNTS, aggregations.ENTITLEMENTS])
        if not isinstance(kinds, list) or not kinds or set(kinds) - {aggregations.ACCOUNTS, aggregations.ENTITLEMENTS}:
            raise sources.SourceError("kinds must be a non-empty list of accounts and entitlements")
        auto = {
            "status": aggregations.check_status(data["status"]),
            "after_reads": _count(data, "after_reads", 1, 1000),
            "counts": aggregations.check_counts(data.get("counts")),
            "kinds": kinds,
            "message": _text(data, "message"),
        }
    _found, settings = emulator.sources.change(tenant_name, source["id"], change_settings=lambda settings: settings.update(auto_complete=auto))
    return json_response(200, {"source": source["id"], "settings": settings})


def _stuck(emulator, tenant_name, source, data):
    kind = data.get("kind", aggregations.ACCOUNTS)
    if kind not in (aggregations.ACCOUNTS, aggregations.ENTITLEMENTS):
        raise sources.SourceError("kind must be accounts or entitlements")
    hours = data.get("hours", 6)
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 <= hours <= 24 * 80:
        raise sources.SourceError("hours must be a number from 0 to 1920 (80 days)")
    tasks = aggregations.stuck_tasks(emulator, tenant_name, source, kind, _count(data, "count", 1, MAX_STUCK), hours)
    return json_response(200, {"tasks": tasks})


def _complete(emulator, tenant_name, task_id, data):
    unknown = set(data) - {"tenant", "status", "counts", "message"}
    if unknown:
        raise aggregations.SettingError("unknown completion fields: %s" % ", ".join(sorted(unknown)))
    status = aggregations.check_status(data["status"]) if data.get("status") is not None else None
    counts = aggregations.check_counts(data.get("counts"))
    if status is None and not counts:
        raise aggregations.SettingError("give status (to complete the task) and/or counts (to record progress)")
    task = emulator.launches.complete(tenant_name, task_id, status, counts or None, _text(data, "message"))
    if task is None:
        return error(404, "Unknown task %s" % task_id[:64])
    return json_response(200, task)


SOURCE_CALLS = {"health": _health, "fail-connection": _fail_connection, "auto-complete": _auto_complete, "stuck": _stuck}
