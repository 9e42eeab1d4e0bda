"""The emulator's behaviour, independent of the HTTP server: a request in, a Response out."""

from __future__ import annotations

import dataclasses
import random
import threading
import time
import urllib.parse

from isc_emulator import api, auth, control, faults, seed, versions
from isc_emulator.clock import now_ms
from isc_emulator.requestlog import RequestLog
from isc_emulator.responses import Drop, error, json_response, unauthorized
from isc_emulator.store import Store

TENANT_NAMES = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka")
VERSION_PREFIXES = ("beta", "v2024", "v2025", "v2026")


@dataclasses.dataclass
class Options:
    seed: int = 1
    tasks: int = 200
    pending: int = 3
    stuck: int = 5
    tenants: tuple = ("acme",)
    state: str = None
    faults: faults.FaultConfig = dataclasses.field(default_factory=faults.FaultConfig)
    validate_requests: bool = False


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict  # lower-cased names
    body: bytes
    peer: str
    client_id: str = None
    # What in the request breaks SailPoint's specification, with --validate-requests; None when nothing does.
    spec_violation: str = None

    def params(self):
        return urllib.parse.parse_qs(self.query, keep_blank_values=True)


class Tenant:
    def __init__(self, name, config, fault_config):
        self.name = name
        self.config = config
        self.faults = fault_config
        self.limiter = faults.RateLimiter()
        self.rng = random.Random()

    @property
    def clients(self):
        return self.config["clients"]


def tenant_names(spec):
    """--tenants: a count or a comma-separated list of names."""
    text = str(spec).strip()
    if text.isdigit():
        count = int(text)
        if count < 1:
            raise ValueError("--tenants must be at least 1")
        return tuple(TENANT_NAMES[i] if i < len(TENANT_NAMES) else "tenant%d" % (i + 1) for i in range(count))
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names or any(not name.replace("-", "").isalnum() for name in names):
        raise ValueError("tenant names must be letters, digits and dashes: %r" % (spec,))
    return names


def _request_check(enabled):
    if not enabled:
        return None
    # Imported here: openapi-core takes most of a second to load, which only a validating emulator should pay.
    from isc_emulator.requestcheck import RequestCheck  # pylint: disable=import-outside-toplevel

    return RequestCheck()


class Emulator:
    def __init__(self, options):
        self.options = options
        self.store = Store(options.state)
        self.tokens = auth.Tokens()
        self.log = RequestLog()
        self.request_check = _request_check(options.validate_requests)
        self.tenants = {}
        self._reset_lock = threading.Lock()
        stored = {tenant["name"]: tenant for tenant in self.store.tenants()}
        for position, name in enumerate(options.tenants):
            config = stored.get(name)
            if config is None:
                config = {
                    "clients": auth.make_clients(options.seed, name),
                    "tenant_id": auth.tenant_id(options.seed, name),
                    "seed": options.seed,
                    "tasks": options.tasks,
                    "pending": options.pending,
                    "stuck": options.stuck,
                }
                self.store.save_tenant(name, position, config)
                self.reseed(name, config)
            config.pop("name", None)
            self.tenants[name] = Tenant(name, config, options.faults)

    @property
    def first(self):
        return next(iter(self.tenants.values()))

    def reseed(self, name, config):
        rows = seed.generate_rows(config["seed"], config["tasks"], config["pending"], config["stuck"], now_ms(), name)
        self.store.replace_all(name, rows)

    def reset(self, tenant, changes):
        tenant.config.update(changes)
        with self._reset_lock:
            self.store.save_tenant(tenant.name, list(self.tenants).index(tenant.name), tenant.config)
            self.reseed(tenant.name, tenant.config)
        tenant.faults = self.options.faults
        tenant.limiter.clear()
        self.tokens.forget(tenant.name)
        self.log.clear(tenant.name)

    def describe(self, base):
        tenants = [{"name": name, "base_url": "%s/%s" % (base, name), "clients": tenant.clients} for name, tenant in self.tenants.items()]
        return {"base_url": tenants[0]["base_url"], "control_url": base + "/_control", "clients": tenants[0]["clients"], "tenants": tenants}

    def close(self):
        self.store.close()

    def handle(self, request):
        """Route one request; API requests go to the request log, without secrets."""
        if request.path == "/_control" or request.path.startswith("/_control/"):
            return control.handle(self, request)
        started = time.time()
        tenant, response = None, None
        try:
            tenant, response = self._route(request)
        except Drop:
            self.log.add(request, tenant, None, started, "drop")
            raise
        self.log.add(request, tenant, response, started)
        return response

    def _route(self, request):
        parts = request.path.strip("/").split("/")
        tenant = self.tenants.get(parts[0])
        if tenant is None:
            return None, error(404, "Unknown tenant or path %s" % request.path[:200])
        rest = parts[1:]
        if rest == ["oauth", "token"]:
            return tenant, self._token(tenant, request)
        if len(rest) >= 2 and rest[0] in VERSION_PREFIXES and rest[1] == "task-status":
            return tenant, self._api(tenant, versions.get(rest[0]), request, rest[2:])
        if rest[:2] == ["task-status", "v1"]:
            return tenant, self._api(tenant, versions.get("v1"), request, rest[2:])
        return tenant, error(404, "No such path %s" % request.path[:200])

    def _api(self, tenant, version, request, tail):
        # Checked before the gateway's faults, auth and rate limit, so that every request a client sends is checked,
        # retries included, and one that breaks the specification changes nothing, not even the rate limit's count.
        if self.request_check is not None:
            request.spec_violation = self.request_check.violation(tenant.name, version, request, tail)
            if request.spec_violation:
                return error(400, "request does not match SailPoint's specification: " + request.spec_violation)
        return api.handle(self, tenant, version, request, tail)

    def _token(self, tenant, request):
        if request.method != "POST":
            return error(405, "Use POST for /oauth/token")
        params = request.params()
        if "form-urlencoded" in request.headers.get("content-type", ""):
            for key, values in urllib.parse.parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True).items():
                params.setdefault(key, values)
        grant_type = params.get("grant_type", [None])[0]
        if grant_type != "client_credentials":
            return json_response(400, {"error": "unsupported_grant_type", "error_description": "Only client_credentials is supported"})
        role = auth.find_client(tenant.clients, params.get("client_id", [None])[0], params.get("client_secret", [None])[0])
        if role is None:
            return json_response(401, {"error": "unauthorized", "error_description": "Bad credentials"})
        body = self.tokens.issue(tenant.name, tenant.config["tenant_id"], role, tenant.clients[role], tenant.faults.token_ttl)
        return json_response(200, body, {"Cache-Control": "no-store"})

    def authenticate(self, tenant, request):
        """(Grant, None) or (None, 401 Response)."""
        grant, message = self.tokens.check(request.headers.get("authorization"), tenant.name)
        return (grant, None) if grant else (None, unauthorized(message))
