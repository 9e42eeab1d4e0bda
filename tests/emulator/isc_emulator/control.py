"""The loopback-only control surface tests and demos use to steer the emulator (see docs/architecture.md)."""

from __future__ import annotations

import functools
import ipaddress
import json
import random
import urllib.parse

from isc_emulator import hooks, seed, sourcecontrol
from isc_emulator.clock import WINDOW_MS, now_ms
from isc_emulator.responses import error, json_array, json_response

SEED_KEYS = ("seed", "tasks", "pending", "stuck")
# Enough for the benchmarks' largest tenants; more would only let a typo take the machine's memory.
MAX_SEED_SIZE = 2_000_000
MAX_CREDENTIAL = 1024


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
    except RecursionError:
        return error(400, "Bad control request: the JSON is nested too deeply")
    except (ValueError, TypeError, KeyError, AttributeError) as problem:
        return error(400, "Bad control request: %s" % str(problem)[:300])


def _route(emulator, request):
    parts = request.path.strip("/").split("/")[1:]
    key = (request.method, parts[0] if parts else "")
    if parts and parts[0] in sourcecontrol.ROOTS:
        data = _query(request) if request.method == "GET" else _body(request)
        return sourcecontrol.handle(emulator, request.method, parts, data, functools.partial(_tenant, emulator))
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
        ("POST", "hooks"): _add_hook,
        ("GET", "hooks"): _show_hooks,
        ("DELETE", "hooks"): _clear_hooks,
        ("POST", "clients"): _set_client,
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
    try:
        data = json.loads(request.body.decode("utf-8"))
    except RecursionError:
        raise ControlError(400, "The body's JSON is nested too deeply") from None
    except ValueError as problem:
        raise ControlError(400, "The body is not JSON: %s" % str(problem)[:100]) from None
    if not isinstance(data, dict):
        raise ControlError(400, "The body must be a JSON object")
    return data


def _tenant(emulator, name):
    if name is None:
        return emulator.first
    if not isinstance(name, str) or name not in emulator.tenants:
        raise ControlError(404, "Unknown tenant %r" % name)
    return emulator.tenants[name]


def _query(request):
    return {key: values[0] for key, values in urllib.parse.parse_qs(request.query).items()}


def _health(emulator, _request):
    return json_response(200, {"status": "ok", "tenants": list(emulator.tenants)})


def _reset(emulator, request):
    data = _body(request)
    changes = {key: int(data[key]) for key in SEED_KEYS if key in data}
    if any(not 0 <= value <= MAX_SEED_SIZE for value in changes.values()):
        raise ControlError(400, "seed and sizes must be from 0 to %d" % MAX_SEED_SIZE)
    tenants = [_tenant(emulator, data["tenant"])] if data.get("tenant") else list(emulator.tenants.values())
    for tenant in tenants:
        emulator.reset(tenant, changes)
    return json_response(200, {"reset": [tenant.name for tenant in tenants]})


def _faults(emulator, request):
    data = _body(request)
    tenant = _tenant(emulator, data.get("tenant"))
    # Every call states the whole fault set: what it leaves out is off, so {} clears them.
    tenant.set_faults(emulator.options.faults.cleared().updated(data))
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
    for index, partial in enumerate(partials):
        if not isinstance(partial.get("id"), str) or not partial["id"]:
            raise ControlError(400, "tasks[%d].id must be a non-empty string" % index)
        hooks.check_fields({key: value for key, value in partial.items() if key != "id"}, "tasks[%d]" % index)
        if "uniqueName" in partial and not isinstance(partial["uniqueName"], str):
            raise ControlError(400, "tasks[%d].uniqueName must be a string" % index)
    rng = random.Random()
    tasks = [seed.complete_partial(partial, rng, now_ms()) for partial in partials]
    emulator.store.upsert(tenant.name, [seed.index_row(task) for task in tasks])
    return json_response(200, {"tasks": tasks})


def _set_task(emulator, request, task_id):
    data = _body(request)
    tenant = _tenant(emulator, data.get("tenant"))
    changes = data.get("set")
    hooks.check_fields(changes)
    task = hooks.change_task(emulator.store, tenant.name, task_id, changes)
    if task is None:
        raise ControlError(404, "Unknown task %s" % task_id[:64])
    return json_response(200, task)


def _add_hook(emulator, request):
    data = _body(request)
    tenant = _tenant(emulator, data.get("tenant"))
    if "completed_window" in data and not set(data) - {"tenant", "completed_window"}:
        return json_response(200, dict(emulator.hooks.open_window(tenant.name, data["completed_window"]), tenant=tenant.name))
    if set(data) - {"tenant", "after_read"} or "after_read" not in data:
        raise ControlError(
            400, 'A hook is {"tenant"?, "after_read": {"id", "set"?, "expire_tokens"?, "skip"?}} or {"tenant"?, "completed_window": {"id", "reads"}}'
        )
    hook = emulator.hooks.add(tenant.name, data["after_read"])
    return json_response(200, dict(hook, tenant=tenant.name))


def _show_hooks(emulator, request):
    tenant = _tenant(emulator, _query(request).get("tenant"))
    return json_response(200, dict(emulator.hooks.show(tenant.name), tenant=tenant.name))


def _clear_hooks(emulator, request):
    tenant = _tenant(emulator, _query(request).get("tenant"))
    emulator.hooks.clear(tenant.name)
    return json_response(200, {"cleared": tenant.name})


def _set_client(emulator, request):
    data = _body(request)
    tenant = _tenant(emulator, data.get("tenant"))
    role = data.get("role")
    if role not in tenant.config["clients"]:
        raise ControlError(400, "role must be one of %s" % ", ".join(tenant.config["clients"]))
    changes = {key: data[key] for key in ("client_id", "client_secret") if key in data}
    if not changes and "scopes" not in data or set(data) - {"tenant", "role", "client_id", "client_secret", "scopes"}:
        raise ControlError(400, "Give client_id, client_secret and/or scopes (and role, tenant)")
    for key, value in changes.items():
        if not isinstance(value, str) or not value or len(value) > MAX_CREDENTIAL or "\x00" in value:
            raise ControlError(400, "%s must be a non-empty string of at most %d characters without NUL" % (key, MAX_CREDENTIAL))
    if "scopes" in data:
        # Tokens issued from now on carry these scopes; the source operations check them.
        if not isinstance(data["scopes"], list) or not all(isinstance(scope, str) and 0 < len(scope) <= 200 for scope in data["scopes"]):
            raise ControlError(400, "scopes must be a list of scope names (sp:scopes:all grants every one)")
        changes["scopes"] = data["scopes"]
    tenant.client_overrides[role] = dict(tenant.client_overrides.get(role, {}), **changes)
    return json_response(200, {"tenant": tenant.name, "role": role, "client": tenant.clients[role]})


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
