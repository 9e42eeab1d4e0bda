"""Sources: seeded from the tasks' targets, listed, read, checked; their health set from the control surface."""

import pytest
from emulator_helpers import running_emulator

from isc_emulator import sources

VERSIONS = ("beta", "v2024", "v2025", "v2026", "v1")


def all_sources(client, version="v2025", **params):
    reply = client.source_get(version, "sources", **params)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_every_seeded_aggregation_targets_a_seeded_source(emu, admin):
    listed = all_sources(admin)
    assert len(listed) == len(sources.CONNECTORS)
    ids = {source["id"] for source in listed}
    targeted = [task for task in emu.control("GET", "tasks") if task["target"]]
    assert targeted and all(task["target"]["id"] in ids for task in targeted)
    names = {source["id"]: source["name"] + " [source]" for source in listed}
    assert all(task["target"]["name"] == names[task["target"]["id"]] for task in targeted)


def test_a_seeded_source_has_what_an_operator_looks_at(admin):
    source = all_sources(admin, filters='name eq "Active Directory"')[0]
    assert source["healthy"] is True and source["status"] == "SOURCE_STATE_HEALTHY"
    assert source["connectorName"] == "Active Directory - Direct" and source["cluster"]["type"] == "CLUSTER"
    assert source["since"] and source["owner"]["type"] == "IDENTITY" and source["connector"]
    file_source = all_sources(admin, filters='name eq "Oracle HR"')[0]
    assert file_source["cluster"] is None and file_source["authoritative"] is True


@pytest.mark.parametrize("version", VERSIONS)
def test_list_filters_page_and_count(admin, version):
    everything = all_sources(admin, version)
    first = everything[0]
    assert [s["id"] for s in all_sources(admin, version, filters='id eq "%s"' % first["id"].upper())] == [first["id"]]
    picked = all_sources(admin, version, filters='name in ("Okta", "slack", "Nobody")')
    assert sorted(s["name"] for s in picked) == ["Okta", "Slack"]
    assert {s["name"] for s in all_sources(admin, version, filters='name sw "s"')} == {"ServiceNow", "Salesforce", "SAP ERP", "Slack"}
    reply = admin.source_get(version, "sources", limit=2, offset=3, count="true")
    assert reply.headers["X-Total-Count"] == str(len(everything))
    assert [s["id"] for s in reply.json()] == [s["id"] for s in everything[3:5]]
    assert "X-Total-Count" not in admin.source_get(version, "sources").headers
    names = [s["name"] for s in all_sources(admin, version, sorters="-name")]
    assert names == sorted(names, key=str.lower, reverse=True)


@pytest.mark.parametrize(
    "params, problem",
    [
        ({"filters": 'owner eq "x"'}, "Unsupported filter field 'owner'"),
        ({"filters": 'id co "x"'}, "Operator 'co' is not supported for field 'id'"),
        ({"filters": 'name EQ "x"'}, "operators are lower case"),
        ({"sorters": "owner.name"}, "Unsupported sorter 'owner.name'"),
        ({"limit": "251"}, "limit must be between 0 and 250"),
        ({"count": "maybe"}, "count must be true or false"),
    ],
)
def test_bad_list_parameters_are_400(admin, params, problem):
    reply = admin.source_get("v2025", "sources", **params)
    assert reply.status_code == 400 and problem in reply.json()["messages"][0]["text"], reply.text


@pytest.mark.parametrize("version", VERSIONS)
def test_get_by_id_and_unknown_id(admin, version):
    source = all_sources(admin, version)[2]
    assert admin.source_get(version, "sources/" + source["id"]).json() == source
    assert admin.source_get(version, "sources/" + "0" * 32).status_code == 404


@pytest.mark.parametrize("version", VERSIONS[1:])
def test_source_health_follows_the_control_surface(emu, admin, version):
    source = all_sources(admin, version)[1]
    health = admin.source_get(version, "sources/%s/source-health" % source["id"]).json()
    assert health["id"] == source["id"] and health["status"] == "SOURCE_STATE_HEALTHY" and health["org"] == "acme"
    changed = emu.control("POST", "sources/%s/health" % source["id"], {"status": "SOURCE_STATE_FAILURE_CLUSTER"})
    assert changed["healthy"] is False and changed["since"] > source["since"] and changed["modified"] == changed["since"]
    assert admin.source_get(version, "sources/%s/source-health" % source["id"]).json()["status"] == "SOURCE_STATE_FAILURE_CLUSTER"
    assert admin.source_get(version, "sources/" + source["id"]).json()["healthy"] is False


def test_no_source_health_on_beta(admin):
    source = all_sources(admin, "beta")[0]
    assert admin.source_get("beta", "sources/%s/source-health" % source["id"]).status_code == 404


def test_health_by_name_and_every_status(emu, admin):
    for status in sources.STATUSES:
        changed = emu.control("POST", "sources/Workday/health", {"status": status})
        assert changed["status"] == status and changed["healthy"] is (status == "SOURCE_STATE_HEALTHY")
    assert emu.control("POST", "sources/workday/health", {"healthy": False})["status"] == "SOURCE_STATE_ERROR_VA"
    assert emu.control("POST", "sources/Workday/health", {"healthy": True})["status"] == "SOURCE_STATE_HEALTHY"


@pytest.mark.parametrize(
    "path, payload, status",
    [
        ("sources/Workday/health", {"status": "BROKEN"}, 400),
        ("sources/Workday/health", {}, 400),
        ("sources/Workday/health", {"status": "SOURCE_STATE_HEALTHY", "healthy": "yes"}, 400),
        ("sources/Nowhere/health", {"status": "SOURCE_STATE_HEALTHY"}, 404),
        ("sources/Workday/frobnicate", {}, 404),
        ("sources", {"name": ""}, 400),
        ("sources", {"name": "Workday"}, 400),
        ("sources", {"name": "X", "colour": "red"}, 400),
        ("sources", {"name": "X", "status": "SOURCE_STATE_NOPE"}, 400),
    ],
)
def test_bad_source_control_calls(emu, path, payload, status):
    reply = emu.session.post("%s/%s" % (emu.control_url, path), json=payload)
    assert reply.status_code == status, reply.text


def test_added_source_is_served(emu, admin):
    added = emu.control("POST", "sources", {"name": "Mainframe", "status": "SOURCE_STATE_ERROR_VA", "connectorName": "RACF", "cluster": "Basement VA"})
    assert added["healthy"] is False and added["cluster"]["name"] == "Basement VA" and added["connectorName"] == "RACF"
    assert admin.source_get("v2026", "sources/" + added["id"]).json() == added
    assert all_sources(admin, filters='name eq "mainframe"') == [added]
    chosen = emu.control("POST", "sources", {"name": "Ledger", "id": "ab" * 16})
    assert chosen["id"] == "ab" * 16 and chosen["healthy"] is True
    listed = emu.control("GET", "sources")
    assert listed[-1]["source"]["name"] == "Ledger" and listed[-1]["settings"] == {"fail_connections": 0, "auto_complete": None}


@pytest.mark.parametrize("version", VERSIONS)
def test_check_connection(emu, admin, version):
    source = all_sources(admin, version)[0]
    path = "sources/%s/connector/check-connection" % source["id"]
    good = admin.session.post(admin.source_url(version, path))
    assert good.status_code == 200 and good.json()["status"] == "SUCCESS"
    emu.control("POST", "sources/%s/health" % source["id"], {"status": "SOURCE_STATE_ERROR_VA"})
    bad = admin.session.post(admin.source_url(version, path)).json()
    assert bad["status"] == "FAILURE" and "Unable to connect" in bad["details"]["error"]
    assert admin.session.post(admin.source_url(version, "sources/%s/connector/check-connection" % ("0" * 32))).status_code == 404


@pytest.mark.parametrize("version", ("v2025", "v2026", "v1"))
def test_api_usage_counts_this_clients_requests_this_month(emu, admin, version):
    before = admin.source_get(version, "api-usage/count").json()["NumberOfCalls"]
    emu.api("api").get("v2025", limit=1)
    for _index in range(3):
        admin.get("v2025", limit=1)
    assert admin.source_get(version, "api-usage/count").json()["NumberOfCalls"] == before + 4
    posted = admin.source_get(version, "api-usage/count", filters='method eq "POST"').json()["NumberOfCalls"]
    assert posted == 1  # the admin client's one token request
    assert admin.source_get(version, "api-usage/count", filters='startDate gt "2999-01-01"').json()["NumberOfCalls"] == 0
    assert admin.source_get(version, "api-usage/count", filters='endDate lt "2000-01-01"').json()["NumberOfCalls"] == 0
    assert admin.source_get(version, "api-usage/count", filters='startDate eq "yesterday"').status_code == 400


def test_api_usage_needs_the_experimental_header(admin):
    reply = admin.session.get(admin.source_url("v2026", "api-usage/count"))
    assert reply.status_code == 400 and "X-SailPoint-Experimental" in reply.json()["messages"][0]["text"]


def test_no_api_usage_before_v2025(admin):
    assert admin.source_get("v2024", "api-usage/count").status_code == 404
    assert admin.source_get("beta", "api-usage/count").status_code == 404


def test_sources_survive_a_restart_and_a_reset_reseeds_them(tmp_path):
    state = str(tmp_path / "state.sqlite")
    with running_emulator(state=state) as emu:
        emu.control("POST", "sources", {"name": "Kept"})
        emu.control("POST", "sources/Okta/health", {"status": "SOURCE_STATE_ERROR_SOURCE"})
    with running_emulator(state=state) as emu:
        admin = emu.api()
        assert all_sources(admin, filters='name eq "Kept"')
        assert all_sources(admin, filters='name eq "Okta"')[0]["status"] == "SOURCE_STATE_ERROR_SOURCE"
        emu.control("POST", "reset", {})
        admin = emu.api()
        assert not all_sources(admin, filters='name eq "Kept"')
        assert all_sources(admin, filters='name eq "Okta"')[0]["healthy"] is True
