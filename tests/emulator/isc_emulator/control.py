"""The loopback-only control surface tests and demos use to steer the emulator (see docs/architecture.md)."""

from __future__ import annotations

import ipaddress
import json
import random
import urllib.parse

from isc_emulator import seed
from isc_emulator.clock import WINDOW_MS, iso, now_ms, parse_iso
from isc_emulator.responses import error, json_array, json_response

SEED_KEYS = ("seed", "tasks", "pending", "stuck")


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def is_loopback(peer):
    try:
        return ipaddress.ip_address(peer.split("%")[0]).is_loopback
    except ValueError:
        return False


def handle(emulator, request):
    if not is_loopback(request.peer):
        return error(403, "The control surface answers only to loopback clients")
    try:
        return _route(emulator, request)
    except ControlError as problem:
        return error(problem.status, str(problem))
    except (ValueError, TypeError, KeyError) as problem:
        return error(400, "Bad control request: %s" % problem)


def _route(emulator, request):
    parts = request.path.strip("/").split("/")[1:]
    key = (request.method, parts[0] if parts else "")
    routes = {
        ("GET", "health"): _health,
        ("POST", "reset"): _reset,
        ("POST", "faults"): _faults,
        ("GET", "faults"): _show_faults,
        ("GET", "tasks"): _list_tasks,
        ("POST", "tasks"): _put_tasks,
        ("POST", "tokens"): _expire_tokens,
        ("GET", "requests"): _requests,
        ("DELETE", "requests"): _clear_requests,
    }
    if key == ("PATCH", "tasks") and len(parts) == 2:
        return _set_task(emulator, request, parts[1])
    if key == ("POST", "tokens") and parts[1:] != ["expire"]:
        raise ControlError(404, "No such control call %s" % request.path)
    if key not in routes or (len(parts) > 1 and key != ("POST", "tokens")):
        raise ControlError(404, "No such control call %s %s" % (request.method, request.path))
    return routes[key](emulator, request)


def _body(request):
    if not request.body:
        return {}
    data = json.loads(request.body.decode("utf-8"))
    if not isinstance(data, dict):
        raise ControlError(400, "The body must be a JSON object")
    return data


def _tenant(emulator, name):
    if name is None:
        return emulator.first
    if name not in emulator.tenants:
        raise ControlError(404, "Unknown tenant %r" % name)
    return emulator.tenants[name]


def _query(request):
    return {key: values[0] for key, values in urllib.parse.parse_qs(request.query).items()}


def _health(emulator, _request):
    return json_response(200, {"status": "ok", "tenants": list(emulator.tenants)})


def _reset(emulator, request):
    data = _body(request)
    changes = {key: int(data[key]) for key in SEED_KEYS if key in data}
    if any(value < 0 for value in changes.values()):
        raise ControlError(400, "seed sizes must not be negative")
    tenants = [_tenant(emulator, data["tenant"])] if data.get("tenant") else list(emulator.tenants.values())
    for tenant in tenants:
        emulator.reset(tenant, changes)
    return json_response(200, {"reset": [tenant.name for tenant in tenants]})


def _faults(emulator, request):
    data = _body(request)
    tenant = _tenant(emulator, data.get("tenant"))
    # Every call states the whole fault set: what it leaves out is off, so {} clears them.
    baseline = emulator.options.faults
    cleared = type(baseline)(rate_limit=baseline.rate_limit, token_ttl=baseline.token_ttl)
    tenant.faults = cleared.updated(data)
    return json_response(200, dict(tenant.faults.as_json(), tenant=tenant.name))


def _show_faults(emulator, request):
    tenant = _tenant(emulator, _query(request).get("tenant"))
    return json_response(200, dict(tenant.faults.as_json(), tenant=tenant.name))


def _list_tasks(emulator, request):
    tenant = _tenant(emulator, _query(request).get("tenant"))
    cutoff = now_ms() - WINDOW_MS
    # The stored JSON is spliced in as is; re-encoding 100,000 tasks would be slow for nothing.
    items = [
        ('{"hidden":%s,%s' % ("true" if created < cutoff else "false", body[1:])).encode("utf-8") for body, created in emulator.store.all_tasks(tenant.name)
    ]
    return json_array(200, items)


def _put_tasks(emulator, request):
    data = _body(request)
    tenant = _tenant(emulator, data.get("tenant"))
    partials = data.get("tasks")
    if not isinstance(partials, list) or not all(isinstance(item, dict) for item in partials):
        raise ControlError(400, "tasks must be a list of objects")
    rng = random.Random()
    tasks = [seed.complete_partial(partial, rng, now_ms()) for partial in partials]
    emulator.store.upsert(tenant.name, [seed.index_row(task) for task in tasks])
    return json_response(200, {"tasks": tasks})


def _set_task(emulator, request, task_id):
    data = _body(request)
    tenant = _tenant(emulator, data.get("tenant"))
    changes = data.get("set")
    if not isinstance(changes, dict) or "id" in changes:
        raise ControlError(400, "set must be an object of fields to change (not id)")

    def change(task):
        task.update(changes)
        task["created"] = iso(parse_iso(task["created"]))
        task.setdefault("modified", None)
        if "modified" not in changes:
            task["modified"] = iso(now_ms())
        return task

    task = emulator.store.update(tenant.name, task_id, change)
    if task is None:
        raise ControlError(404, "Unknown task %s" % task_id)
    return json_response(200, task)


def _expire_tokens(emulator, request):
    tenant = _tenant(emulator, _body(request).get("tenant"))
    emulator.tokens.expire(tenant.name)
    return json_response(200, {"expired": tenant.name})


def _requests(emulator, request):
    query = _query(request)
    tenant = query.get("tenant")
    if tenant is not None:
        _tenant(emulator, tenant)
    return json_response(200, emulator.log.since(int(query.get("since", 0)), tenant))


def _clear_requests(emulator, _request):
    emulator.log.clear()
    return json_response(200, {"cleared": True})
