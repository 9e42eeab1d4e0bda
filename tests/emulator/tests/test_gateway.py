"""The gateway's limits that decide a client's request economy: URL length, id batches, and what the log counts."""

import urllib.parse

import pytest
import requests
from emulator_helpers import running_emulator

from isc_emulator import filters

VERSIONS = ("beta", "v2024", "v2025", "v2026", "v1")
COMPLETED_ONLY = ("beta", "v2024")


def id_filter(ids):
    return "id in (%s)" % ", ".join(filters.quote(task_id) for task_id in ids)


def line_length(client, version, **params):
    """The request line's length in bytes, as the server counts it: method, target, version."""
    prepared = requests.Request("GET", client.url(version), params=params).prepare()
    return len("GET %s HTTP/1.1" % prepared.path_url)


@pytest.fixture(name="big", scope="module")
def big_emulator():
    with running_emulator(tasks=600, pending=150, stuck=150) as running:
        yield running


@pytest.mark.parametrize("version", VERSIONS)
def test_250_ids_in_one_list_on_every_version(big, version):
    """Once the gateway lets the URL through, one request of limit 250 answers for 250 ids on any version."""
    big.control("POST", "faults", {"max_url_length": 16384})
    try:
        admin = big.api()
        visible = [task for task in big.control("GET", "tasks") if not task["hidden"]]
        ids = [task["id"] for task in visible][:250]
        reply = admin.get(version, filters=id_filter(ids), limit=250, count="true")
        assert reply.status_code == 200, reply.text
        expected = {task["id"] for task in visible[:250] if version not in COMPLETED_ONLY or task["completionStatus"]}
        assert {task["id"] for task in reply.json()} == expected
        assert reply.headers["X-Total-Count"] == str(len(expected))
        assert len(expected) > 125
    finally:
        big.control("POST", "faults", {})


@pytest.mark.parametrize("version", VERSIONS)
def test_125_ids_fit_the_default_url_limit_and_250_do_not(big, version):
    admin = big.api()
    ids = [task["id"] for task in big.control("GET", "tasks") if not task["hidden"]][:250]
    assert line_length(admin, version, filters=id_filter(ids[:125]), limit=250) <= 8192
    assert admin.get(version, filters=id_filter(ids[:125]), limit=250).status_code == 200
    refused = admin.get(version, filters=id_filter(ids), limit=250)
    assert refused.status_code == 414 and refused.json()["detailCode"] == "414 URI Too Long"
    assert "at most 8192" in refused.json()["messages"][0]["text"]
    entry = big.control("GET", "requests")[-1]
    assert entry["status"] == 414 and entry["kind"] == "list"


def test_the_limit_is_on_the_request_line_to_the_byte(emu, admin):
    emu.control("POST", "faults", {"max_url_length": 200})
    base = line_length(admin, "v2025", filters="")
    exact = "x" * (200 - base)
    assert line_length(admin, "v2025", filters=exact) == 200
    assert admin.get("v2025", filters=exact).status_code == 400
    assert admin.get("v2025", filters=exact + "x").status_code == 414


def test_the_token_endpoint_is_behind_the_same_gateway(emu):
    emu.control("POST", "faults", {"max_url_length": 100})
    reply = emu.session.post(emu.base_url + "/oauth/token", params={"grant_type": "client_credentials", "client_id": "x" * 100})
    assert reply.status_code == 414


def test_the_limit_is_per_tenant_and_from_the_command_line():
    with running_emulator(tenants=("acme", "globex"), max_url_length=1000) as emu:
        emu.control("POST", "faults", {"tenant": "globex", "max_url_length": 4000})
        long_filter = 'id eq "%s"' % ("a" * 1500)
        assert emu.api().get("v2025", filters=long_filter).status_code == 414
        assert emu.api(tenant="globex").get("v2025", filters=long_filter).status_code == 200
        assert emu.control("POST", "faults", {"tenant": "globex"})["max_url_length"] == 1000


def test_the_control_surface_is_not_behind_the_gateway(emu):
    emu.control("POST", "faults", {"max_url_length": 64})
    assert emu.control("GET", "requests", tenant="acme", since=0, padding="p" * 200) == []


def test_every_request_kind_is_logged(emu, admin):
    task_id = admin.all("v2025", filters="completionStatus isnull")[0]["id"]
    emu.session.delete(emu.control_url + "/requests")
    emu.token()
    admin.get("v2026", limit=1)
    admin.get("beta", "/pending-tasks")
    admin.head("v2025", "/pending-tasks", count="true")
    admin.get("v1", "/" + task_id)
    admin.patch("v2025", task_id, [{"op": "replace", "path": "/progress", "value": "x"}])
    admin.get("v2026", "/pending-tasks")
    log = emu.control("GET", "requests")
    assert [(entry["kind"], entry["method"]) for entry in log] == [
        ("token", "POST"),
        ("list", "GET"),
        ("pending", "GET"),
        ("pending", "HEAD"),
        ("get", "GET"),
        ("patch", "PATCH"),
        (None, "GET"),
    ]
    assert urllib.parse.parse_qs(log[3]["query"]) == {"count": ["true"]}
