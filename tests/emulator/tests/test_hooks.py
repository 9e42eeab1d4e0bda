"""after_read hooks: a change made right after a read is served, so a read-write race happens at an exact point."""

import concurrent.futures

import pytest
from emulator_helpers import running_emulator

FINISHED = {"completionStatus": "SUCCESS", "completed": "2020-01-01T00:00:00.000Z", "percentComplete": 100}


@pytest.fixture(name="task")
def pending_task(admin):
    return admin.all("v2025", filters="completionStatus isnull")[0]


def hook(emu, **after_read):
    return emu.control("POST", "hooks", {"after_read": after_read})


def guarded_close(admin, version, task):
    """What the collection's guarded PATCH sends: tests of the values read, then the change."""
    return admin.patch(
        version,
        task["id"],
        [
            {"op": "test", "path": "/completionStatus", "value": task["completionStatus"]},
            {"op": "test", "path": "/modified", "value": task["modified"]},
            {"op": "replace", "path": "/completionStatus", "value": "ERROR"},
        ],
    )


def test_the_read_sees_the_old_state_and_the_patch_the_new(emu, admin, task):
    created = hook(emu, id=task["id"], set=FINISHED)
    assert created["hook"] == 1 and created["skip"] == 0 and created["tenant"] == "acme"
    read = admin.get("v2025", "/" + task["id"]).json()
    assert read["completionStatus"] is None
    reply = guarded_close(admin, "v2025", read)
    assert reply.status_code == 409 and "test failed" in reply.json()["messages"][0]["text"]
    stored = admin.get("v2025", "/" + task["id"]).json()
    assert {key: stored[key] for key in FINISHED} == FINISHED and stored["modified"] > read["modified"]


def test_one_shot(emu, admin, task):
    hook(emu, id=task["id"], set={"progress": "hooked"})
    admin.get("v2025", "/" + task["id"])
    emu.control("PATCH", "tasks/" + task["id"], {"set": {"progress": "moved on"}})
    assert admin.get("v2025", "/" + task["id"]).json()["progress"] == "moved on"
    assert admin.get("v2025", "/" + task["id"]).json()["progress"] == "moved on"
    shown = emu.control("GET", "hooks")
    assert shown["pending"] == [] and [fired["hook"] for fired in shown["fired"]] == [1]
    assert shown["fired"][0]["read"] == "GET /acme/v2025/task-status/" + task["id"]


@pytest.mark.parametrize("version", ("beta", "v2024", "v2025", "v2026", "v1"))
def test_a_list_page_that_holds_the_task_sets_it_off(emu, admin, version):
    """On every version, as the collection reads tasks in batches with an id filter."""
    # beta and v2024 list completed tasks only: aim at one of those there, at a pending one elsewhere.
    target = admin.all("beta" if version in ("beta", "v2024") else "v2025", filters="completionStatus isnull" if version not in ("beta", "v2024") else None)[0]
    hook(emu, id=target["id"], set={"progress": "hooked"})
    other = admin.get(version, filters='id eq "%s"' % ("f" * 32))
    assert other.status_code == 200 and emu.control("GET", "hooks")["fired"] == []
    page = admin.get(version, filters='id in ("%s", "%s")' % (target["id"], "f" * 32), limit=250)
    assert [task["progress"] for task in page.json()] == [target["progress"]]
    assert admin.get(version, "/" + target["id"]).json()["progress"] == "hooked"


def test_pending_tasks_page_sets_it_off_but_head_does_not(emu, admin, task):
    hook(emu, id=task["id"], set={"progress": "hooked"})
    assert admin.head("beta", "/pending-tasks").status_code == 200
    assert emu.control("GET", "hooks")["fired"] == []
    admin.get("beta", "/pending-tasks")
    assert [fired["after_read"] for fired in emu.control("GET", "hooks")["fired"]] == [task["id"]]


def test_skip_lets_reads_pass_and_hooks_fire_in_order(emu, admin, task):
    """Expire the tokens after the first read, finish the task after the second: a wait that refreshes its token."""
    hook(emu, id=task["id"], expire_tokens=True)
    hook(emu, id=task["id"], set=FINISHED, skip=1)
    assert admin.get("v2025", "/" + task["id"]).json()["completionStatus"] is None
    assert admin.get("v2025", "/" + task["id"]).status_code == 401
    fresh = emu.api()
    assert fresh.get("v2025", "/" + task["id"]).json()["completionStatus"] is None
    assert fresh.get("v2025", "/" + task["id"]).json()["completionStatus"] == "SUCCESS"
    log = emu.control("GET", "requests")
    assert [entry["hooks"] for entry in log if entry["kind"] == "get"] == [[1], [], [2], []]


def test_a_failed_read_does_not_count(emu, admin, task):
    hook(emu, id=task["id"], set={"progress": "hooked"})
    emu.control("POST", "faults", {"fault_rate": 1, "statuses": [503]})
    assert admin.get("v2025", "/" + task["id"]).status_code == 503
    emu.control("POST", "faults", {})
    assert admin.get("v2025", "/" + task["id"]).json()["progress"] != "hooked"
    assert admin.get("v2025", "/" + task["id"]).json()["progress"] == "hooked"


def test_fires_once_under_concurrent_reads(emu, task):
    hook(emu, id=task["id"], set={"percentComplete": 99})
    clients = [emu.api() for _index in range(8)]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda client: client.get("v2025", "/" + task["id"]).json(), clients * 4))
    assert len(emu.control("GET", "hooks")["fired"]) == 1
    assert sum(1 for entry in emu.control("GET", "requests") if entry["hooks"]) == 1
    assert all(reply["percentComplete"] in (task["percentComplete"], 99) for reply in replies)


def test_hooks_are_per_tenant_cleared_by_delete_and_reset():
    with running_emulator(tenants=("acme", "globex")) as emu:
        globex = emu.api(tenant="globex")
        task = globex.all("v2025", filters="completionStatus isnull")[0]
        emu.control("POST", "hooks", {"tenant": "globex", "after_read": {"id": task["id"], "set": {"progress": "x"}}})
        assert emu.control("GET", "hooks") == {"pending": [], "fired": [], "completed_windows": {}, "tenant": "acme"}
        assert len(emu.control("GET", "hooks", tenant="globex")["pending"]) == 1
        emu.session.delete(emu.control_url + "/hooks", params={"tenant": "globex"})
        assert emu.control("GET", "hooks", tenant="globex")["pending"] == []
        emu.control("POST", "hooks", {"tenant": "globex", "after_read": {"id": task["id"], "set": {"progress": "x"}}})
        emu.control("POST", "reset", {"tenant": "globex"})
        assert emu.control("GET", "hooks", tenant="globex")["pending"] == []


@pytest.mark.parametrize(
    "body",
    (
        {},
        {"after_read": "x"},
        {"after_read": {"id": "x"}},
        {"after_read": {"id": 5, "set": {}}},
        {"after_read": {"id": "x", "set": {"id": "y"}}},
        {"after_read": {"id": "x", "set": {"completed": "tomorrow"}}},
        {"after_read": {"id": "x", "set": {"target": "src"}}},
        {"after_read": {"id": "x", "expire_tokens": "yes"}},
        {"after_read": {"id": "x", "set": {}, "skip": -1}},
        {"after_read": {"id": "x", "set": {}, "colour": "red"}},
        {"before_patch": {"id": "x"}},
        {"tenant": "nobody", "after_read": {"id": "x", "set": {}}},
    ),
)
def test_bad_hooks_are_refused(emu, body):
    reply = emu.session.post(emu.control_url + "/hooks", json=body)
    assert reply.status_code in (400, 404) and reply.json()["messages"][0]["text"]
    assert emu.control("GET", "hooks")["pending"] == []
