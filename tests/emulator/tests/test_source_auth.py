"""Who may call the source operations: SailPoint's specification of each version, read from its files here."""

import functools

import pytest
import yaml
from emulator_helpers import running_emulator

from isc_emulator import sources
from isc_emulator.spec import spec_path

VERSIONS = ("beta", "v2024", "v2025", "v2026", "v1")
ROLES = {"admin": ("ORG_ADMIN", True), "api": (None, False), "helpdesk": ("HELPDESK", True)}
OPERATIONS = {
    "list-sources": ("get", "/sources"),
    "get-source": ("get", "/sources/{id}"),
    "source-health": ("get", "/sources/{sourceId}/source-health"),
    "check-connection": ("post", "/sources/{sourceId}/connector/check-connection"),
    "load-accounts": ("post", ("/sources/{id}/load-accounts", "/sources/{sourceId}/load-accounts")),
    "load-entitlements": ("post", "/sources/{sourceId}/load-entitlements"),
    "aggregation-status": ("get", "/account-aggregations/{id}/status"),
    "api-usage": ("get", "/api-usage/count"),
}


@functools.lru_cache(maxsize=None)
def document(version):
    with open(spec_path("sources-aggregation." + version), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def spec_operation(version, name):
    """The operation object of the specification, or None where the version lacks it."""
    method, paths = OPERATIONS[name]
    for path in (paths,) if isinstance(paths, str) else paths:
        if version == "v1":
            head, _slash, rest = path[1:].partition("/")
            path = "/%s/v1/%s" % (head, rest) if rest else "/%s/v1" % head
        found = document(version)["paths"].get(path, {}).get(method)
        if found:
            return found
    return None


def spec_rule(version, name):
    """(scopes, API clients allowed, user levels) as the file says; levels None where it names none."""
    found = spec_operation(version, name)
    security = found.get("security", [])
    scopes = tuple(scope for requirement in security for scope in next(iter(requirement.values())))
    app = not security or any("applicationAuth" in requirement for requirement in security)
    return tuple(dict.fromkeys(scopes)), app, found.get("x-sailpoint-userLevels")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_policies_are_the_specifications(version, name):
    found = spec_operation(version, name)
    policy = sources.POLICIES[name]
    assert (found is not None) == (version in policy.versions)
    if found is None:
        return
    scopes, app, levels = spec_rule(version, name)
    assert set(policy.scopes_of(version)) == set(scopes)
    assert (version in policy.app_versions) == app
    # Where the file names no level, the levels of v2025's file apply (a documented choice).
    expected = levels if levels is not None else spec_rule("v2025", name)[2] if spec_operation("v2025", name) else None
    assert (tuple(policy.levels) if policy.levels else None) == (tuple(expected) if expected else None)


@pytest.fixture(scope="module", name="emu")
def shared_emulator():
    with running_emulator(pending=0, stuck=0) as running:
        yield running


def call(client, version, name, source_id, aggregation_id):
    method, _paths = OPERATIONS[name]
    tail = {
        "list-sources": "sources",
        "get-source": "sources/" + source_id,
        "source-health": "sources/%s/source-health" % source_id,
        "check-connection": "sources/%s/connector/check-connection" % source_id,
        "load-accounts": "sources/%s/load-accounts" % source_id,
        "load-entitlements": "sources/%s/load-entitlements" % source_id,
        "aggregation-status": "account-aggregations/%s/status" % aggregation_id,
        "api-usage": "api-usage/count",
    }[name]
    if method == "post":
        return client.source_post(version, tail)
    return client.source_get(version, tail)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_matrix_of_roles(emu, version, role):
    admin = emu.api()
    source_id = admin.source_get("v2025", "sources").json()[0]["id"]
    aggregation_id = admin.source_post("v2025", "sources/%s/load-accounts" % source_id).json()["task"]["id"]
    client = emu.api(role)
    level, user = ROLES[role]
    for name in OPERATIONS:
        if spec_operation(version, name) is None:
            assert call(client, version, name, source_id, aggregation_id).status_code == 404
            continue
        _scopes, app, _levels = spec_rule(version, name)
        levels = sources.POLICIES[name].levels
        allowed = (level in levels if levels else True) if user else app
        reply = call(client, version, name, source_id, aggregation_id)
        assert (reply.status_code != 403) == allowed, (name, reply.status_code, reply.text)
        assert reply.status_code in (200, 202, 403), (name, reply.text)
        if not allowed:
            assert name in reply.json()["messages"][0]["text"]


def test_read_only_clients_get_403_on_every_post_of_every_version(emu):
    helpdesk = emu.api("helpdesk")
    source_id = helpdesk.source_get("v2025", "sources/" + emu.api().source_get("v2025", "sources").json()[0]["id"])
    assert source_id.status_code == 403
    for version in VERSIONS:
        for name in ("check-connection", "load-accounts", "load-entitlements"):
            assert call(helpdesk, version, name, "0" * 32, None).status_code == 403


def test_load_entitlements_refuses_a_token_without_a_user(emu):
    api = emu.api("api")
    for version in VERSIONS:
        reply = call(api, version, "load-entitlements", "0" * 32, None)
        assert reply.status_code == 403 and "user context" in reply.json()["messages"][0]["text"]


def test_scopes_narrowed_on_the_control_surface():
    with running_emulator(pending=0, stuck=0) as emu:
        source_id = emu.api().source_get("v2025", "sources").json()[0]["id"]
        emu.control("POST", "clients", {"role": "api", "scopes": ["idn:sources:read"]})
        reader = emu.api("api")
        assert reader.source_get("v2025", "sources").status_code == 200
        refused = reader.source_post("v2025", "sources/%s/load-accounts" % source_id)
        assert refused.status_code == 403 and "idn:sources:manage" in refused.json()["messages"][0]["text"]
        assert call(reader, "v2025", "check-connection", source_id, None).status_code == 403
        emu.control("POST", "clients", {"role": "api", "scopes": ["idn:sources:manage", "idn:source-connector:manage"]})
        manager = emu.api("api")
        assert manager.source_post("v2025", "sources/%s/load-accounts" % source_id).status_code == 202
        assert call(manager, "v2025", "check-connection", source_id, None).status_code == 200
        emu.control("POST", "clients", {"role": "api", "scopes": []})
        assert emu.api("api").source_get("v2025", "sources").status_code == 403
        assert emu.session.post(emu.control_url + "/clients", json={"role": "api", "scopes": "all"}).status_code == 400
