import datetime

import pytest


def days_ago(days):
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def hidden(emu):
    tasks = emu.control("GET", "tasks")
    old = [task for task in tasks if task["hidden"]]
    assert old and all(task["created"] < days_ago(90) for task in old)
    return old


def test_old_tasks_are_in_no_list(admin, hidden):
    ids = {task["id"] for task in hidden}
    for version in ("beta", "v2024", "v2025", "v2026", "v1"):
        reply = admin.get(version, limit=250, count="true")
        assert not ids & {task["id"] for task in reply.json()}
        assert int(reply.headers["X-Total-Count"]) <= 60
    assert not ids & {task["id"] for task in admin.get("beta", "/pending-tasks").json()}


def test_old_tasks_are_404_by_id_and_for_patch(admin, hidden):
    task_id = hidden[0]["id"]
    assert admin.get("v2025", "/" + task_id).status_code == 404
    assert admin.patch("v2025", task_id, [{"op": "replace", "path": "/progress", "value": "x"}]).status_code == 404


def test_the_window_edge(emu, admin):
    inside, outside = "a" * 32, "b" * 32
    emu.control("POST", "tasks", {"tasks": [{"id": inside, "created": days_ago(89.9)}, {"id": outside, "created": days_ago(90.1)}]})
    assert admin.get("v2025", "/" + inside).status_code == 200
    assert admin.get("v2025", "/" + outside).status_code == 404
    flags = {task["id"]: task["hidden"] for task in emu.control("GET", "tasks")}
    assert flags[inside] is False and flags[outside] is True


def test_a_pending_task_stuck_for_days_is_visible(admin):
    stuck = admin.all("v2025", filters="completionStatus isnull", sorters="created")
    assert stuck[0]["created"] < days_ago(0.1)
