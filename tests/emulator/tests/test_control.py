import json

import pytest
from emulator_helpers import running_emulator

from isc_emulator import control
from isc_emulator.app import Request


def test_health(emu):
    assert emu.control("GET", "health") == {"status": "ok", "tenants": ["acme"]}


def test_control_answers_only_loopback(emu):
    request = Request("GET", "/_control/health", "", {}, b"", "192.0.2.10")
    assert emu.emulator.handle(request).status == 403
    assert control.is_loopback("::1") and control.is_loopback("127.0.0.2") and not control.is_loopback("10.0.0.1")


def test_reset_reseeds_and_clears(emu, admin):
    task_id = admin.all("v2025")[0]["id"]
    admin.patch("v2025", task_id, [{"op": "replace", "path": "/progress", "value": "changed"}])
    emu.control("POST", "faults", {"fault_rate": 1})
    emu.control("POST", "reset", {})
    assert emu.control("GET", "requests") == []
    fresh = emu.api()
    assert fresh.get("v2025", "/" + task_id).json()["progress"] != "changed"
    assert admin.get("v2025", limit=1).status_code == 401


def test_reset_with_new_sizes(emu):
    emu.control("POST", "reset", {"tasks": 30, "pending": 1, "stuck": 2, "seed": 9})
    reply = emu.api().get("v2025", count="true", limit=1)
    assert reply.headers["X-Total-Count"] == "30"
    assert emu.api().get("v2025", "/pending-tasks", count="true").headers["X-Total-Count"] == "3"


def test_insert_partial_tasks_gets_realistic_values(emu, admin):
    inserted = emu.control(
        "POST",
        "tasks",
        {
            "tasks": [
                {"id": "c" * 32, "completionStatus": None, "uniqueName": "Cloud Account Aggregation"},
                {"id": "d" * 32, "completionStatus": "error"},
            ]
        },
    )["tasks"]
    assert inserted[0]["completed"] is None and inserted[0]["attributes"]["taskDefinitionName"] == "CLOUD_ACCOUNT_AGGREGATION"
    assert inserted[1]["completionStatus"] == "ERROR"
    for task in inserted:
        assert admin.get("v2025", "/" + task["id"]).json() == task
    assert "c" * 32 in {task["id"] for task in admin.all("v2025", filters="completionStatus isnull")}


def test_change_a_task_behind_the_clients_back(emu, admin):
    task = admin.all("v2025", filters="completionStatus isnull")[0]
    changed = emu.control("PATCH", "tasks/" + task["id"], {"set": {"percentComplete": 77}})
    assert changed["percentComplete"] == 77 and changed["modified"] >= task["modified"]
    stale_guard = [{"op": "test", "path": "/modified", "value": task["modified"]}, {"op": "replace", "path": "/completionStatus", "value": "ERROR"}]
    assert admin.patch("v2025", task["id"], stale_guard).status_code == 409


def test_request_log_since_and_clear(emu, admin):
    admin.get("v2025", limit=1)
    log = emu.control("GET", "requests")
    assert set(log[-1]) >= {"seq", "tenant", "method", "path", "query", "status", "time", "client_id"}
    assert log[-1]["query"] == "limit=1" and log[-1]["status"] == 200
    admin.get("beta", limit=2)
    later = emu.control("GET", "requests", since=log[-1]["seq"])
    assert [entry["path"] for entry in later] == ["/acme/beta/task-status"]
    emu.session.delete(emu.control_url + "/requests")
    assert emu.control("GET", "requests") == []


def test_request_log_by_tenant():
    with running_emulator(tenants=("acme", "globex")) as emu:
        emu.api(tenant="globex").get("beta", limit=1)
        assert {entry["tenant"] for entry in emu.control("GET", "requests", tenant="globex")} == {"globex"}
        assert emu.control("GET", "requests", tenant="acme") == [] or all(entry["tenant"] == "acme" for entry in emu.control("GET", "requests", tenant="acme"))


@pytest.mark.parametrize(
    "method, call, payload",
    (
        ("GET", "nothing", None),
        ("POST", "tasks", {"tasks": "x"}),
        ("PATCH", "tasks/" + "0" * 32, {"set": {"progress": "x"}}),
        ("POST", "reset", {"tenant": "nobody"}),
        ("POST", "faults", [1]),
    ),
)
def test_bad_control_calls(emu, method, call, payload):
    reply = emu.session.request(method, "%s/%s" % (emu.control_url, call), data=json.dumps(payload) if payload is not None else None)
    assert reply.status_code in (400, 404)


def test_several_tenants_each_with_own_data_and_credentials():
    with running_emulator(tenants=("acme", "globex")) as emu:
        assert [tenant["name"] for tenant in emu.info["tenants"]] == ["acme", "globex"]
        assert emu.clients("acme") != emu.clients("globex")
        acme, globex = emu.api(tenant="acme"), emu.api(tenant="globex")
        acme_ids = {task["id"] for task in acme.all("v2025")}
        assert acme_ids.isdisjoint(task["id"] for task in globex.all("v2025"))
        task_id = next(iter(acme_ids))
        assert globex.get("v2025", "/" + task_id).status_code == 404
