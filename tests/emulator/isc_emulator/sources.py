"""Sources: the remediation path's reads (sources, health, connection checks, API usage) and who may call what.

A tenant's sources live in the same SQLite store as its tasks. Each seeded aggregation task targets one of them:
the sources are those the task seeder draws targets from (seed.source_targets).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import re

from isc_emulator import api, filters, seed
from isc_emulator.clock import iso, now_ms
from isc_emulator.responses import error, json_response
from isc_emulator.versions import ApiVersion

SCHEMA = """
CREATE TABLE IF NOT EXISTS sources (
    tenant TEXT NOT NULL, id TEXT NOT NULL, position INTEGER NOT NULL, body TEXT NOT NULL, settings TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
"""
STATUSES = (
    "SOURCE_STATE_ERROR_ACCOUNT_FILE_IMPORT",
    "SOURCE_STATE_ERROR_CLUSTER",
    "SOURCE_STATE_ERROR_SOURCE",
    "SOURCE_STATE_ERROR_VA",
    "SOURCE_STATE_FAILURE_CLUSTER",
    "SOURCE_STATE_FAILURE_SOURCE",
    "SOURCE_STATE_HEALTHY",
    "SOURCE_STATE_UNCHECKED_CLUSTER",
    "SOURCE_STATE_UNCHECKED_CLUSTER_NO_SOURCES",
    "SOURCE_STATE_UNCHECKED_SOURCE",
    "SOURCE_STATE_UNCHECKED_SOURCE_NO_ACCOUNTS",
)
HEALTHY = "SOURCE_STATE_HEALTHY"
# What a source whose virtual appliance is down reports.
APPLIANCE_DOWN = "SOURCE_STATE_ERROR_VA"
# The connector of each seeded source; a delimited file has no virtual appliance cluster.
CONNECTORS = {
    "Active Directory": "Active Directory - Direct",
    "Workday": "Workday",
    "ServiceNow": "ServiceNow",
    "Okta": "Okta",
    "Salesforce": "Salesforce",
    "SAP ERP": "SAP - Direct",
    "Entra ID": "Azure Active Directory",
    "Google Workspace": "Google Apps - Direct",
    "GitHub": "GitHub",
    "Oracle HR": "Delimited File",
    "Jira Cloud": "Jira",
    "Slack": "Slack",
}
FILE_CONNECTOR = "Delimited File"
AUTHORITATIVE = ("Workday", "Oracle HR")
TARGET_SUFFIX = " [source]"
CLUSTER_NAME = "Primary VA cluster"
SECONDS_SINCE_SEEDED = 7 * 86_400

# Operations as the request log names them (its "kind"); the launches are aggregations.py's.
RESOURCES = ("sources", "account-aggregations", "api-usage")
ALL_SCOPES = "sp:scopes:all"
SOURCE_LEVELS = ("ORG_ADMIN", "SOURCE_ADMIN", "SOURCE_SUBADMIN")
READ_SCOPES = ("idn:sources:read", "idn:sources:manage")
ALL_VERSIONS = ("beta", "v2024", "v2025", "v2026", "v1")
NOT_BETA = ALL_VERSIONS[1:]


@dataclasses.dataclass(frozen=True)
class Policy:
    """Who may call an operation of a version, as SailPoint's specification says. ``levels`` None: any user level."""

    scopes: tuple
    levels: tuple
    # Versions where an API client without a user (applicationAuth) may call it.
    app_versions: tuple
    versions: tuple = ALL_VERSIONS
    # Versions whose specification asks for other scopes than the later ones.
    scopes_by_version: tuple = ()

    def scopes_of(self, version_name):
        return dict(self.scopes_by_version).get(version_name, self.scopes)


# Where beta's file names no user level, the levels later versions name apply (a HELPDESK user may launch nothing);
# beta's aggregation status declares no security at all, so any token may read it there.
POLICIES = {
    "list-sources": Policy(READ_SCOPES, SOURCE_LEVELS + ("ROLE_SUBADMIN",), NOT_BETA, scopes_by_version=(("beta", ("idn:sources:read",)),)),
    "get-source": Policy(READ_SCOPES, SOURCE_LEVELS, ALL_VERSIONS),
    "source-health": Policy(READ_SCOPES, None, NOT_BETA, versions=NOT_BETA),
    "check-connection": Policy(("idn:source-connector:manage",), ("ORG_ADMIN",), ALL_VERSIONS),
    "load-accounts": Policy(("idn:sources:manage",), SOURCE_LEVELS, NOT_BETA),
    "load-entitlements": Policy(("idn:entitlement:manage",), ("ORG_ADMIN",), ()),
    "aggregation-status": Policy((), SOURCE_LEVELS, ("beta",)),
    "api-usage": Policy(("sp:api-usage:read",), ("ORG_ADMIN",), ("v2025", "v2026", "v1"), versions=("v2025", "v2026", "v1")),
}
FIELDS = {"id": ("eq", "in", "sw"), "name": ("eq", "in", "sw", "co"), "status": ("eq", "in"), "connectorName": ("eq", "in", "sw")}
FILTER_VERSION = ApiVersion("GET /sources", False, False, FIELDS, "", False)
SORTABLE = ("name", "id", "created")
USAGE_FIELDS = {"method": ("eq",), "startDate": ("gt", "eq"), "endDate": ("lt", "eq")}
USAGE_VERSION = ApiVersion("GET /api-usage/count", False, False, USAGE_FIELDS, "", False)
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class SourceError(ValueError):
    """A source the control surface cannot create or change (400); the message names the field."""


def derive(*parts, length=32):
    return hashlib.sha256("/".join(map(str, ("isc-emulator-source",) + parts)).encode()).hexdigest()[:length]


def target_of(source):
    """The ``target`` of a task of this source."""
    return {"id": source["id"], "type": "APPLICATION", "name": source["name"] + TARGET_SUFFIX}


def make_source(tenant, source_id, name, created_ms, connector_name=None, healthy=True, status=None, cluster=None, authoritative=None):
    """A Source with every key the specification requires and those an operator looks at."""
    connector_name = connector_name or CONNECTORS.get(name, "Web Services")
    slug = "-".join(connector_name.lower().replace("-", " ").split())
    status = status or (HEALTHY if healthy else APPLIANCE_DOWN)
    if cluster is None and connector_name != FILE_CONNECTOR:
        cluster = CLUSTER_NAME
    return {
        "id": source_id,
        "name": name,
        "description": "Accounts and entitlements of %s" % name,
        "owner": {"type": "IDENTITY", "id": derive(tenant, "owner"), "name": "support.admin"},
        "cluster": {"type": "CLUSTER", "id": derive(tenant, "cluster", cluster), "name": cluster} if cluster else None,
        "features": ["DISCOVER_SCHEMA", "NO_PERMISSIONS_PROVISIONING"],
        "type": connector_name,
        "connector": slug,
        "connectorClass": "sailpoint.connector.OpenConnectorAdapter",
        "connectorAttributes": {},
        "deleteThreshold": 10,
        "authoritative": name in AUTHORITATIVE if authoritative is None else authoritative,
        "managementWorkgroup": None,
        "healthy": healthy,
        "status": status,
        "since": iso(created_ms),
        "connectorId": slug,
        "connectorName": connector_name,
        "connectionType": "file" if connector_name == FILE_CONNECTOR else "direct",
        "connectorImplementationId": slug,
        "created": iso(created_ms),
        "modified": iso(created_ms),
        "credentialProviderEnabled": False,
        "category": None,
    }


def default_settings():
    return {"fail_connections": 0, "auto_complete": None}


class SourceBook:
    """Every tenant's sources and their emulator settings (connection failures to come, auto-completion)."""

    def __init__(self, store):
        self.store = store
        with store.lock:
            store.db.executescript(SCHEMA)

    def reseed(self, tenant, config):
        """The seeded sources, one per target the seeded tasks use, all healthy."""
        created = now_ms() - SECONDS_SINCE_SEEDED * 1000
        sources = [make_source(tenant, source_id, name[: -len(TARGET_SUFFIX)], created) for source_id, name in seed.source_targets(config["seed"], tenant)]
        with self.store.lock, self.store.db:
            self.store.db.execute("BEGIN")
            self.store.db.execute("DELETE FROM sources WHERE tenant = ?", (tenant,))
            self.store.db.executemany(
                "INSERT INTO sources VALUES (?, ?, ?, ?, ?)",
                [(tenant, source["id"], position, seed.dumps(source), json.dumps(default_settings())) for position, source in enumerate(sources)],
            )

    def ensure(self, tenant, config):
        """Seed the sources of a tenant a state file kept from before sources existed."""
        with self.store.lock:
            if self.store.db.execute("SELECT 1 FROM sources WHERE tenant = ? LIMIT 1", (tenant,)).fetchone() is None:
                self.reseed(tenant, config)

    def all(self, tenant):
        with self.store.lock:
            rows = self.store.db.execute("SELECT body FROM sources WHERE tenant = ? ORDER BY position", (tenant,)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def get(self, tenant, source_id):
        """The Source, or None; ids compare without case, as ISC's do."""
        found = self._row(tenant, source_id)
        return json.loads(found[1]) if found else None

    def settings(self, tenant, source_id):
        found = self._row(tenant, source_id)
        return json.loads(found[2]) if found else None

    def _row(self, tenant, source_id):
        with self.store.lock:
            return self.store.db.execute("SELECT id, body, settings FROM sources WHERE tenant = ? AND lower(id) = lower(?)", (tenant, source_id)).fetchone()

    def by_name(self, tenant, name):
        return next((source for source in self.all(tenant) if source["name"].lower() == name.lower()), None)

    def add(self, tenant, source):
        with self.store.lock:
            if self._row(tenant, source["id"]) is not None:
                raise SourceError("a source with id %s exists" % source["id"])
            if self.by_name(tenant, source["name"]) is not None:
                raise SourceError("a source named %r exists" % source["name"])
            position = self.store.db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM sources WHERE tenant = ?", (tenant,)).fetchone()[0]
            self.store.db.execute(
                "INSERT INTO sources VALUES (?, ?, ?, ?, ?)", (tenant, source["id"], position, seed.dumps(source), json.dumps(default_settings()))
            )
        return source

    def change(self, tenant, source_id, change_source=None, change_settings=None):
        """Apply ``change_source(source)`` and/or ``change_settings(settings)`` atomically; (source, settings) or None."""
        with self.store.lock:
            found = self._row(tenant, source_id)
            if found is None:
                return None
            source, settings = json.loads(found[1]), json.loads(found[2])
            if change_source:
                change_source(source)
            if change_settings:
                change_settings(settings)
            self.store.db.execute(
                "UPDATE sources SET body = ?, settings = ? WHERE tenant = ? AND id = ?", (seed.dumps(source), json.dumps(settings), tenant, found[0])
            )
            return source, settings

    def set_health(self, tenant, source_id, status, healthy=None):
        if status not in STATUSES:
            raise SourceError("status must be one of %s" % ", ".join(STATUSES))
        if healthy is not None and not isinstance(healthy, bool):
            raise SourceError("healthy must be true or false")

        def change(source):
            moment = iso(now_ms())
            source.update(status=status, healthy=status == HEALTHY if healthy is None else healthy, since=moment, modified=moment)

        changed = self.change(tenant, source_id, change)
        return changed[0] if changed else None


def locate(rest):
    """(version name, tail from the resource on) for a source-side path, else None: /v2025/sources/x -> ("v2025", ["sources", "x"])."""
    if len(rest) >= 2 and rest[0] in ("beta", "v2024", "v2025", "v2026") and rest[1] in RESOURCES:
        return rest[0], rest[1:]
    if len(rest) >= 2 and rest[0] in RESOURCES and rest[1] == "v1":
        return "v1", rest[:1] + rest[2:]
    return None


def operation(version_name, tail):
    """(operation name, HTTP method) of a path, or None when the version has no such path."""
    name = None
    if tail[0] == "sources":
        shapes = {1: "list-sources", 2: "get-source"}
        name = shapes.get(len(tail))
        if len(tail) == 3:
            name = {"source-health": "source-health", "load-accounts": "load-accounts", "load-entitlements": "load-entitlements"}.get(tail[2])
        elif len(tail) == 4 and tail[2:] == ["connector", "check-connection"]:
            name = "check-connection"
    elif tail[0] == "account-aggregations" and len(tail) == 3 and tail[2] == "status":
        name = "aggregation-status"
    elif tail == ["api-usage", "count"]:
        name = "api-usage"
    if name is None or version_name not in POLICIES[name].versions or (len(tail) > 1 and not tail[1]):
        return None
    return name, "POST" if name in ("check-connection", "load-accounts", "load-entitlements") else "GET"


def spec_call(version_name, tail):
    """(specification file stem, path as that file writes it) of a source-side request."""
    if version_name == "v1":
        return "sources-aggregation.v1", "/%s/v1%s" % (tail[0], "".join("/" + part for part in tail[1:]))
    return "sources-aggregation." + version_name, "/%s/%s" % (version_name, "/".join(tail))


def forbidden(grant, name, version_name):
    """The 403 an operation gives this token, or None when it may call it."""
    policy = POLICIES[name]
    claims = grant.claims
    if "identity_id" not in claims:
        if version_name not in policy.app_versions:
            return error(403, "%s needs a token with user context (a personal access token); an API client without a user may not call it" % name)
    elif policy.levels is not None and not set(claims.get("authorities", ())) & set(policy.levels):
        levels = ", ".join(claims.get("authorities", ())) or "none"
        return error(403, "%s needs one of the user levels %s; the token's user has %s" % (name, ", ".join(policy.levels), levels))
    scopes = policy.scopes_of(version_name)
    held = set(claims.get("scope", ()))
    if scopes and ALL_SCOPES not in held and not held & set(scopes):
        return error(403, "%s needs the scope %s; the token has %s" % (name, " or ".join(scopes + (ALL_SCOPES,)), ", ".join(sorted(held)) or "none"))
    return None


def _matches(node, source):
    if isinstance(node, filters.And):
        return all(_matches(operand, source) for operand in node.operands)
    if isinstance(node, filters.Or):
        return any(_matches(operand, source) for operand in node.operands)
    if isinstance(node, filters.Not):
        return not _matches(node.operand, source)
    value = str(source.get(node.field) or "").lower()
    wanted = [candidate.lower() for candidate in node.values]
    if node.op == "sw":
        return value.startswith(wanted[0])
    if node.op == "co":
        return wanted[0] in value
    return value in wanted


def _sorted(sources, text):
    for part in reversed([part.strip() for part in text.split(",")]):
        field = part[1:] if part.startswith("-") else part
        if field not in SORTABLE:
            raise api.BadRequest("Unsupported sorter %r; sortable here: %s (a - prefix sorts descending)" % (part[:50], ", ".join(SORTABLE)))
        sources = sorted(sources, key=lambda source, key=field: str(source.get(key)).lower(), reverse=part.startswith("-"))
    return sources


def _parsed(expression, version):
    try:
        return filters.parse(expression, version)
    except filters.FilterError as problem:
        raise api.BadRequest(str(problem)) from None


def list_sources(emulator, tenant, request):
    params = request.params()
    limit = api._integer(params, "limit", api.MAX_LIMIT, api.MAX_LIMIT)
    offset = api._integer(params, "offset", 0, api.MAX_OFFSET)
    count = api._boolean(params, "count")
    sources = emulator.sources.all(tenant.name)
    if "filters" in params:
        tree = _parsed(params["filters"][0], FILTER_VERSION)
        sources = [source for source in sources if _matches(tree, source)]
    if "sorters" in params:
        sources = _sorted(sources, params["sorters"][0])
    headers = {"X-Total-Count": str(len(sources))} if count else {}
    return json_response(200, sources[offset : offset + limit], headers)


def get_source(emulator, tenant, source_id):
    source = emulator.sources.get(tenant.name, source_id)
    if source is None:
        return error(404, "Source %s was not found" % source_id[:64])
    return json_response(200, source)


def source_health(emulator, tenant, source_id):
    source = emulator.sources.get(tenant.name, source_id)
    if source is None:
        return error(404, "Source %s was not found" % source_id[:64])
    cluster = source.get("cluster")
    body = {
        "id": source["id"],
        "type": source["type"],
        "name": source["name"],
        "org": tenant.name,
        "isAuthoritative": source["authoritative"],
        "isCluster": False,
        "hostname": "%s.va.%s.emulator" % (cluster["id"][:8], tenant.name) if cluster else "none",
        "pod": "emu01-useast1",
        "iqServiceVersion": None,
        "status": source["status"],
    }
    return json_response(200, body)


def check_connection(emulator, tenant, source_id):
    source = emulator.sources.get(tenant.name, source_id)
    if source is None:
        return error(404, "Source %s was not found" % source_id[:64])
    healthy = source["healthy"]
    details = {"status": source["status"]}
    if not healthy:
        details["error"] = connection_message(source)
    body = {"id": source["id"], "name": source["name"] + TARGET_SUFFIX, "status": "SUCCESS" if healthy else "FAILURE", "elapsedMillis": 120, "details": details}
    return json_response(200, body)


def connection_message(source):
    where = "the virtual appliances of cluster %s" % source["cluster"]["name"] if source.get("cluster") else "the source"
    return "Unable to connect to %s for source %s (%s)" % (where, source["name"], source["status"])


def _usage_span(params):
    """(method or None, first day, last day) the filters of GET /api-usage/count ask for; the current month by default."""
    today = datetime.datetime.fromtimestamp(now_ms() / 1000, datetime.timezone.utc).date()
    method, first, last = None, today.replace(day=1), today
    if "filters" not in params:
        return method, first, last
    tree = _parsed(params["filters"][0], USAGE_VERSION)
    comparisons = tree.operands if isinstance(tree, filters.And) else (tree,)
    for node in comparisons:
        if not isinstance(node, filters.Comparison):
            raise api.BadRequest("Combine the filters of /api-usage/count with and only")
        value = node.values[0]
        if node.field == "method":
            method = value.upper()
            continue
        if not DAY.fullmatch(value):
            raise api.BadRequest("%s must be a date like 2025-08-01, not %r" % (node.field, value[:40]))
        day = datetime.date.fromisoformat(value)
        if node.field == "startDate":
            first = day + datetime.timedelta(days=1) if node.op == "gt" else day
        else:
            last = day - datetime.timedelta(days=1) if node.op == "lt" else day
    return method, first, last


def api_usage(emulator, tenant, request, grant):
    """The API calls this client made in the span, as the request log counts them (token requests included)."""
    if request.headers.get("x-sailpoint-experimental", "").lower() != "true":
        # The specification makes the header a required parameter of this operation on every version.
        return error(400, "This API is experimental: send the header X-SailPoint-Experimental: true")
    method, first, last = _usage_span(request.params())
    start = datetime.datetime.combine(first, datetime.time(), datetime.timezone.utc).timestamp()
    end = datetime.datetime.combine(last + datetime.timedelta(days=1), datetime.time(), datetime.timezone.utc).timestamp()
    calls = emulator.log.count(tenant.name, grant.client_id, start, end, method)
    return json_response(200, {"NumberOfCalls": calls})
