"""The emulator's behaviour, independent of the HTTP server: a request in, a Response out."""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
import urllib.parse

from isc_emulator import aggregations, api, auth, control, echo, faults, malformed, seed, sourceapi, sources, versions
from isc_emulator.clock import now_ms
from isc_emulator.hooks import Hooks
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
    # Seconds after which a launched aggregation completes by itself; None: only a control call completes it.
    aggregation_seconds: float = None
    # Stuck aggregations to seed per source (aggregations.parse_scenario), or None.
    stuck_aggregations: str = None


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
    # Bytes of the request line without its line end; 0 for a request that did not come through the server.
    line_length: int = 0
    # token, list, pending, get or patch (faults.REQUEST_KINDS); None for anything else.
    kind: str = None
    # Numbers of the hooks this request set off.
    hooks: list = dataclasses.field(default_factory=list)

    def params(self):
        # The server keeps the request line's bytes as latin-1 text; raw UTF-8 in a query reads as UTF-8, as
        # percent-encoded UTF-8 does.
        return urllib.parse.parse_qs(self.query.encode("latin-1").decode("utf-8", "replace"), keep_blank_values=True)


class Tenant:
    def __init__(self, name, config, fault_config):
        self.name = name
        self.config = config
        self.limiter = faults.RateLimiter()
        # Credentials set through POST /_control/clients, by role; a reset forgets them.
        self.client_overrides = {}
        self.set_faults(fault_config)

    def set_faults(self, fault_config):
        self.faults = fault_config
        self.rng = fault_config.rng()

    @property
    def clients(self):
        clients = self.config["clients"]
        if not self.client_overrides:
            return clients
        return {role: dict(client, **self.client_overrides.get(role, {})) for role, client in clients.items()}


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
        self.hooks = Hooks()
        self.request_check = _request_check(options.validate_requests)
        self.sources = sources.SourceBook(self.store)
        self.launches = aggregations.Launches(self, options.aggregation_seconds)
        # Latency faults wait through this, so a test can see the delay without spending it.
        self.sleep = time.sleep
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
                    "stuck_aggregations": options.stuck_aggregations,
                }
                self.store.save_tenant(name, position, config)
                self.reseed(name, config)
            config.pop("name", None)
            self.sources.ensure(name, config)
            self.tenants[name] = Tenant(name, config, options.faults)

    @property
    def first(self):
        return next(iter(self.tenants.values()))

    def reseed(self, name, config):
        rows = seed.generate_rows(config["seed"], config["tasks"], config["pending"], config["stuck"], now_ms(), name)
        self.store.replace_all(name, rows)
        self.sources.reseed(name, config)
        aggregations.seed_scenario(self, name, config.get("stuck_aggregations"))

    def reset(self, tenant, changes):
        tenant.config.update(changes)
        self.launches.reset(tenant.name)
        with self._reset_lock:
            self.store.save_tenant(tenant.name, list(self.tenants).index(tenant.name), tenant.config)
            self.reseed(tenant.name, tenant.config)
        tenant.set_faults(self.options.faults)
        tenant.client_overrides = {}
        tenant.limiter.clear()
        self.tokens.forget(tenant.name)
        self.log.clear(tenant.name)
        self.hooks.clear(tenant.name)

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
        self.launches.sweep(tenant.name)
        source_side = sources.locate(rest)
        if rest == ["oauth", "token"]:
            request.kind = "token"
            serve = functools.partial(self._token, tenant, request)
        elif len(rest) >= 2 and rest[0] in VERSION_PREFIXES and rest[1] == "task-status":
            serve = self._api_call(tenant, request, versions.get(rest[0]), rest[2:])
        elif rest[:2] == ["task-status", "v1"]:
            serve = self._api_call(tenant, request, versions.get("v1"), rest[2:])
        elif source_side is not None:
            serve = self._source_call(tenant, request, versions.get(source_side[0]), source_side[1])
        else:
            return tenant, error(404, "No such path %s" % request.path[:200])
        if request.line_length > tenant.faults.max_url_length:
            # A gateway refuses the request line before anything behind it sees the request.
            message = "Request-URI Too Long: the request line has %d bytes; the gateway accepts at most %d"
            return tenant, error(414, message % (request.line_length, tenant.faults.max_url_length))
        return tenant, self._answer(tenant, request, serve)

    def _api_call(self, tenant, request, version, tail):
        request.kind = api.kind(version, request.method, tail)
        return functools.partial(self._api, tenant, version, request, tail)

    def _source_call(self, tenant, request, version, tail):
        request.kind = sourceapi.kind(version.name, request.method, tail)
        return functools.partial(self._source_api, tenant, version, request, tail)

    def _source_api(self, tenant, version, request, tail):
        # As _api: checked first, against the sources-and-aggregation file of the version.
        if self.request_check is not None and sources.operation(version.name, tail) is not None:
            spec_name, spec_path = sources.spec_call(version.name, tail)
            request.spec_violation = self.request_check.violation_at(spec_name, spec_path, tenant.name, request)
            if request.spec_violation:
                return error(400, "request does not match SailPoint's specification: " + request.spec_violation)
        return api.handle(self, tenant, version, request, tail, sourceapi.dispatch)

    def _answer(self, tenant, request, serve):
        """Serve a request, unless the echo fault answers it first; then maybe spoil the answer (malformed fault)."""
        config = tenant.faults
        response = self._spoiled(tenant, request, serve)
        if config.drip_ms and request.kind in config.drip_on:
            response.drip = config.drip_ms / 1000
            response.note = response.note or "drip"
        return response

    def _spoiled(self, tenant, request, serve):
        config = tenant.faults
        if config.echo and request.kind in config.echo_on and tenant.rng.random() < config.echo_rate:
            return echo.response(request, config.echo, config.echo_status, config.echo_straddle)
        response = serve()
        if not config.malformed or request.kind not in config.malformed_on or not 200 <= response.status < 300:
            return response
        kinds = [kind for kind in config.malformed if malformed.applies(kind, request.kind, request.method)]
        if not kinds or tenant.rng.random() >= config.malformed_rate:
            return response
        return malformed.spoil(tenant.rng.choice(kinds), response)

    def _api(self, tenant, version, request, tail):
        # Checked before the gateway's faults, auth and rate limit, so that every request a client sends is checked,
        # retries included, and one that breaks the specification changes nothing, not even the rate limit's count.
        if self.request_check is not None:
            try:
                request.spec_violation = self.request_check.violation(tenant.name, version, request, tail)
            except RecursionError:
                request.spec_violation = "body: JSON nested too deeply to check"
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
        client_id, client_secret = params.get("client_id", [None])[0], params.get("client_secret", [None])[0]
        try:
            basic = auth.basic_credentials(request.headers.get("authorization"))
        except auth.BadClientAuth as problem:
            return json_response(401, {"error": "invalid_client", "error_description": str(problem)})
        if basic is not None:
            if client_secret is not None or (client_id is not None and client_id != basic[0]):
                return json_response(400, {"error": "invalid_request", "error_description": "Send the client credentials one way: Basic or parameters"})
            client_id, client_secret = basic
        role = auth.find_client(tenant.clients, client_id, client_secret)
        if role is None:
            return json_response(401, {"error": "unauthorized", "error_description": "Bad credentials"})
        body = self.tokens.issue(tenant.name, tenant.config["tenant_id"], role, tenant.clients[role], tenant.faults.token_ttl)
        return json_response(200, body, {"Cache-Control": "no-store"})

    def authenticate(self, tenant, request):
        """(Grant, None) or (None, 401 Response)."""
        grant, message = self.tokens.check(request.headers.get("authorization"), tenant.name)
        return (grant, None) if grant else (None, unauthorized(message))
