import json
import re

from isc_emulator import seed
from isc_emulator.clock import DAY_MS, WINDOW_MS, now_ms, parse_iso
from isc_emulator.store import Store

KEYS = {
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
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def tasks_of(rows):
    return [json.loads(row[-1]) for row in rows]


def test_a_realistic_tenant():
    now = now_ms()
    tasks = tasks_of(seed.generate_rows(5, 400, 4, 6, now))
    assert len(tasks) == 400 + 400 // 20
    assert len({task["id"] for task in tasks}) == len(tasks)
    for task in tasks:
        assert set(task) == KEYS and re.fullmatch("[0-9a-f]{32}", task["id"])
        assert TIMESTAMP.match(task["created"]) and task["description"] and task["taskDefinitionSummary"]["parentName"]
        assert task["attributes"]["taskDefinitionName"] == seed.definition_name(task["uniqueName"])
        assert (task["completionStatus"] is None) == (task["completed"] is None)
    pending = [task for task in tasks if task["completionStatus"] is None]
    ages = sorted(now - parse_iso(task["created"]) for task in pending)
    assert len(pending) == 10 and ages[3] < 30 * 60_000 and ages[4] > 3 * 3_600_000
    assert {task["completionStatus"] for task in tasks} >= {"SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR", None}
    sources = {task["target"]["name"] for task in tasks if task["target"]}
    assert {"Active Directory [source]", "Workday [source]", "ServiceNow [source]"} <= sources
    hidden = [task for task in tasks if parse_iso(task["created"]) < now - WINDOW_MS]
    assert len(hidden) == 20 and all(parse_iso(task["created"]) > now - WINDOW_MS - 61 * DAY_MS for task in hidden)


def test_the_index_columns_match_the_tasks():
    rows = seed.generate_rows(2, 100, 3, 3, now_ms())
    assert [seed.index_row(task) for task in tasks_of(rows)] == [tuple(row) for row in rows]


def test_deterministic_per_seed_and_tenant():
    now = now_ms()
    assert seed.generate_rows(1, 50, 1, 1, now) == seed.generate_rows(1, 50, 1, 1, now)
    assert seed.generate_rows(1, 50, 1, 1, now) != seed.generate_rows(2, 50, 1, 1, now)
    assert seed.generate_rows(1, 50, 1, 1, now, "acme") != seed.generate_rows(1, 50, 1, 1, now, "globex")


def test_small_tenants_keep_their_pending_tasks():
    tasks = tasks_of(seed.generate_rows(1, 10, 3, 5, now_ms()))
    assert sum(task["completionStatus"] is None for task in tasks) == 8


def test_seeding_many_tasks():
    """The bulk path (templates instead of json.dumps per task) at scale; its speed is the benchmarks' to show."""
    store = Store()
    store.replace_all("acme", seed.generate_rows(1, 20_000, 3, 5, now_ms()))
    assert store.count("acme", now_ms() - WINDOW_MS, "1", []) == 20_000
    assert store.count("acme", now_ms() - WINDOW_MS, "status IS NULL", []) == 8
    store.close()
