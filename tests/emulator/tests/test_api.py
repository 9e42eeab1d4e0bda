import datetime

import pytest

VERSIONS = ("beta", "v2024", "v2025", "v2026", "v1")
CONTRACT_KEYS = {
    "id",
    "type",
    "uniqueName",
    "description",
    "parentName",
    "launcher",
    "target",
    "created",
    "modified",
    "launched",
    "completed",
    "completionStatus",
    "messages",
    "returns",
    "attributes",
    "progress",
    "percentComplete",
    "taskDefinitionSummary",
}


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def pending_ids(admin):
    return [task["id"] for task in admin.all("v2025", filters="completionStatus isnull")]


@pytest.mark.parametrize("version", VERSIONS)
def test_list_returns_complete_task_statuses(admin, version):
    reply = admin.get(version, limit=10)
    assert reply.status_code == 200
    tasks = reply.json()
    assert len(tasks) == 10
    for task in tasks:
        assert set(task) == CONTRACT_KEYS
        assert len(task["id"]) == 32 and int(task["id"], 16) >= 0
        assert task["attributes"]["taskDefinitionName"]
        assert task["description"] is not None


def test_beta_and_v2024_list_completed_tasks_only(admin):
    for version in ("beta", "v2024"):
        assert all(task["completionStatus"] for task in admin.all(version))
    assert any(task["completionStatus"] is None for task in admin.all("v2025"))


@pytest.mark.parametrize("version", VERSIONS)
def test_count_sets_total_ignoring_limit_and_offset(admin, version):
    everything = admin.get(version, limit=250, count="true")
    page = admin.get(version, limit=5, offset=3, count="true")
    assert page.headers["X-Total-Count"] == everything.headers["X-Total-Count"] == str(len(everything.json()))
    assert [task["id"] for task in page.json()] == [task["id"] for task in everything.json()][3:8]


def test_no_total_without_count(admin):
    assert "X-Total-Count" not in admin.get("v2025", limit=1).headers


@pytest.mark.parametrize("version", ("beta", "v2024", "v2025"))
def test_pending_tasks_get_and_head(admin, version):
    reply = admin.get(version, "/pending-tasks", count="true")
    assert reply.status_code == 200
    pending = reply.json()
    assert len(pending) == 8 and all(task["completionStatus"] is None and task["completed"] is None for task in pending)
    head = admin.head(version, "/pending-tasks", count="true")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["X-Total-Count"] == reply.headers["X-Total-Count"] == "8"


@pytest.mark.parametrize("version", ("v2026", "v1"))
def test_no_pending_endpoint_from_v2026(admin, version):
    assert admin.get(version, "/pending-tasks").status_code == 404


def test_pending_is_empty_list_when_nothing_pends(admin):
    for task_id in pending_ids(admin):
        assert admin.patch("beta", task_id, [{"op": "replace", "path": "/completionStatus", "value": "TERMINATED"}]).status_code == 200
    reply = admin.get("beta", "/pending-tasks")
    assert reply.status_code == 200 and reply.json() == []


def test_sorters(admin):
    ascending = [task["created"] for task in admin.all("v2025", sorters="created")]
    descending = [task["created"] for task in admin.all("v2025", sorters="-created")]
    assert ascending == sorted(ascending) and descending == sorted(descending, reverse=True)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "251"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"offset": "-1"},
        {"count": "yes"},
        {"sorters": "name"},
        {"sorters": "created,"},
        {"sorters": "--created"},
    ],
)
def test_bad_collection_parameters_are_400(admin, params):
    reply = admin.get("v2025", **params)
    assert reply.status_code == 400
    assert reply.json()["detailCode"] == "400.1 Bad Request Content"


def test_limit_zero_gives_empty_page_with_total(admin):
    reply = admin.get("v2025", limit=0, count="true")
    assert reply.json() == [] and int(reply.headers["X-Total-Count"]) == 60


@pytest.mark.parametrize("version", VERSIONS)
def test_get_by_id(admin, version):
    task = admin.all("beta")[0]
    reply = admin.get(version, "/" + task["id"])
    assert reply.status_code == 200 and reply.json() == task


def test_get_unknown_id_is_404(admin):
    reply = admin.get("v2025", "/" + "0" * 32)
    assert reply.status_code == 404 and "not found" in reply.json()["messages"][0]["text"]


@pytest.mark.parametrize("version", VERSIONS)
def test_patch_clears_a_pending_task(admin, version):
    task_id = pending_ids(admin)[0]
    completed = now_iso()
    reply = admin.patch(
        version,
        task_id,
        [
            {"op": "replace", "path": "/completionStatus", "value": "Error"},
            {"op": "replace", "path": "/completed", "value": completed},
        ],
    )
    assert reply.status_code == 200, reply.text
    task = reply.json()
    assert task["completionStatus"] == "ERROR" and task["completed"] == completed
    assert task["modified"] >= completed[:19]
    assert admin.get("v2025", "/" + task_id).json() == task
    assert task_id not in pending_ids(admin)


def test_unknown_tenant_and_path_are_404(emu, admin):
    assert emu.session.get(emu.root + "/nobody/beta/task-status").status_code == 404
    assert admin.session.get(emu.base_url + "/v3/task-status").status_code == 404


def test_method_not_allowed(admin):
    assert admin.session.delete(admin.url("beta", "/" + "0" * 32)).status_code == 405
    assert admin.session.post(admin.url("beta")).status_code == 405
