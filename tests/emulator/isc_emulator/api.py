"""The task-status operations of one API version, behind the gateway's faults, auth and rate limit."""

from __future__ import annotations

import json
import sqlite3

from isc_emulator import filters, hooks, patch
from isc_emulator.clock import WINDOW_MS, now_ms, parse_iso
from isc_emulator.responses import Drop, error, json_array, json_response, rate_limited, raw_json

MAX_LIMIT = 250
# The specification's offset is an int32.
MAX_OFFSET = 2**31 - 1
PATCH_TYPES = ("application/json-patch+json", "application/json")


def kind(version, method, tail):
    """What the request log calls an API request: list, pending, get or patch; None for what is no operation."""
    if not tail:
        return "list" if method == "GET" else None
    if tail == ["pending-tasks"] and version.has_pending_endpoint:
        return "pending" if method in ("GET", "HEAD") else None
    if len(tail) == 1 and tail[0] != "pending-tasks":
        return {"GET": "get", "PATCH": "patch"}.get(method)
    return None


class BadRequest(Exception):
    pass


def handle(emulator, tenant, version, request, tail, dispatch=None):
    """``dispatch`` serves the request once the gateway let it through; the task-status operations by default."""
    injected = _inject(emulator, tenant)
    if injected is not None:
        return injected
    grant, denied = emulator.authenticate(tenant, request)
    if denied is not None:
        return denied
    request.client_id = grant.client_id
    config = tenant.faults
    if config.require_experimental and version.experimental and request.headers.get("x-sailpoint-experimental", "").lower() != "true":
        return error(400, "This API is experimental: send the header X-SailPoint-Experimental: true")
    wait = tenant.limiter.admit((grant.client_id, version.name), config.rate_limit)
    if wait:
        return rate_limited(wait)
    try:
        return (dispatch or _dispatch)(emulator, tenant, version, request, tail, grant)
    except BadRequest as problem:
        return error(400, str(problem))


def _inject(emulator, tenant):
    """A fault the gateway would throw before the service sees the request, or None."""
    config = tenant.faults
    if config.latency_ms:
        emulator.sleep(config.latency_ms / 1000)
    rng = tenant.rng
    if config.drop_rate and rng.random() < config.drop_rate:
        raise Drop()
    if config.fault_rate and rng.random() < config.fault_rate:
        status = rng.choice(config.statuses)
        if status == 429:
            return rate_limited(config.retry_after, note="injected")
        return error(status, "Injected fault: the service is unavailable, try again", note="injected")
    return None


def _dispatch(emulator, tenant, version, request, tail, grant):
    method = request.method
    if not tail:
        if method == "GET":
            return _list(emulator, tenant, version, request, pending=False)
    elif tail == ["pending-tasks"] and version.has_pending_endpoint:
        if method in ("GET", "HEAD"):
            return _list(emulator, tenant, version, request, pending=True)
    elif len(tail) == 1 and tail[0] != "pending-tasks":
        if method == "GET":
            return _get(emulator, tenant, request, tail[0])
        if method == "PATCH":
            return _patch(emulator, tenant, request, tail[0], grant)
    else:
        return error(404, "No such path %s" % request.path[:200])
    return error(405, "Method %s is not allowed on %s" % (method, request.path[:200]))


def _integer(params, name, default, maximum):
    text = params.get(name, [None])[0]
    if text is None:
        return default
    # ASCII digits only: int() would also take other scripts' digits, underscores and spaces.
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit():
        raise BadRequest("Query parameter %s must be an integer, not %r" % (name, text[:50]))
    if len(digits) > 12 or not 0 <= int(text) <= maximum:
        raise BadRequest("Query parameter %s must be between 0 and %d, not %s" % (name, maximum, text[:50]))
    return int(text)


def _boolean(params, name):
    text = params.get(name, ["false"])[0].lower()
    if text not in ("true", "false"):
        raise BadRequest("Query parameter %s must be true or false, not %r" % (name, text[:50]))
    return text == "true"


def _sorters(text):
    """True for newest first; only created is sortable."""
    descending = False
    for part in text.split(","):
        field = part.strip()
        descending = field.startswith("-")
        if field.lstrip("-") != "created" or field.count("-") > 1:
            raise BadRequest("Unsupported sorter %r; only created (or -created) is supported" % field[:50])
    return descending


def _base_view(version, pending):
    if pending:
        return "pending"
    return "all" if version.list_includes_pending else "completed"


BASE_WHERE = {"all": "1", "completed": "status IS NOT NULL", "pending": "status IS NULL"}


def _filter_sql(version, expression, config):
    try:
        node = filters.parse(expression, version)
        rejected = config.rejected_type(filters.values_of(node, "type"))
        if rejected is not None:
            raise BadRequest("Unsupported Task Definition type: %s" % rejected[:100])
        return filters.to_sql(node)
    except filters.FilterError as problem:
        raise BadRequest(str(problem)) from None
    except RecursionError:
        raise BadRequest(filters.TOO_DEEP) from None


def _list(emulator, tenant, version, request, pending):
    params = request.params()
    limit = _integer(params, "limit", MAX_LIMIT, MAX_LIMIT)
    offset = _integer(params, "offset", 0, MAX_OFFSET)
    count = _boolean(params, "count")
    descending = _sorters(params["sorters"][0]) if "sorters" in params and not pending else False
    expression = None if pending else params.get("filters", [None])[0]
    kind = _base_view(version, pending)
    since = now_ms() - WINDOW_MS
    store = emulator.store
    if expression is None:
        rows, total = store.view_page(tenant.name, kind, since, descending, limit, offset, count)
    else:
        sql, values = _filter_sql(version, expression, tenant.faults)
        where = "%s AND %s" % (BASE_WHERE[kind], sql)
        try:
            rows = store.page(tenant.name, since, where, values, descending, limit, offset) if limit else []
            total = store.count(tenant.name, since, where, values) if count else None
        except sqlite3.OperationalError as problem:
            # SQLite's limits on expression depth and parameters stand in for the service's own on a filter's size.
            raise BadRequest("The filter is too complex: %s" % problem) from None
    if request.method == "GET":
        rows = emulator.hooks.through_window(tenant.name, rows, now_ms())
    # For HEAD the server sends these same headers, Content-Length included, and no body.
    response = json_array(200, rows, {"X-Total-Count": str(total)} if count else {})
    if request.method == "GET":
        wanted = emulator.hooks.pending_ids(tenant.name)
        if wanted:
            _after_read(emulator, tenant, request, hooks.ids_in(rows, wanted))
    return response


def _visible(found):
    return found is not None and found[1] >= now_ms() - WINDOW_MS


def _get(emulator, tenant, request, task_id):
    found = emulator.store.get(tenant.name, task_id)
    if not _visible(found):
        return error(404, "TaskStatus %s was not found" % task_id[:64])
    (row,) = emulator.hooks.through_window(tenant.name, [found[0].encode("utf-8")], now_ms())
    response = raw_json(200, (row,))
    _after_read(emulator, tenant, request, {task_id})
    return response


def _after_read(emulator, tenant, request, task_ids):
    """Fire the hooks this read sets off; the answer was built from the state before them and is sent after."""
    if not task_ids:
        return
    for hook in emulator.hooks.due(tenant.name, task_ids, "%s %s" % (request.method, request.path)):
        request.hooks.append(hook["hook"])
        if hook["set"] is not None:
            hooks.change_task(emulator.store, tenant.name, hook["after_read"], hook["set"])
        if hook["expire_tokens"]:
            emulator.tokens.expire(tenant.name)


def _patch(emulator, tenant, request, task_id, grant):
    if not grant.may_write:
        return error(403, "The client is not allowed to update task statuses (a user with write access is needed)")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in PATCH_TYPES:
        return error(415, "Content-Type must be application/json-patch+json")
    try:
        operations = json.loads(request.body.decode("utf-8"))
        patch.check_operations(operations)
    except (ValueError, UnicodeDecodeError) as problem:
        return error(400, "The request body is not valid JSON: %s" % str(problem)[:100])
    except RecursionError:
        return error(400, "The request body is not valid JSON: nested too deeply")
    except patch.PatchError as problem:
        return error(problem.status, problem.message)
    return _apply(emulator, tenant, task_id, operations)


def _apply(emulator, tenant, task_id, operations):
    cutoff = now_ms() - WINDOW_MS

    def change(task):
        if parse_iso(task["created"]) < cutoff:
            raise LookupError(task_id)
        return patch.apply(task, operations, now_ms())

    try:
        task = emulator.store.update(tenant.name, task_id, change)
    except patch.PatchError as problem:
        return error(problem.status, problem.message)
    except LookupError:
        task = None
    if task is None:
        return error(404, "TaskStatus %s was not found" % task_id[:64])
    return json_response(200, task)
