# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""task_query: operations per API version, server vs client-side selection, merging, counting, waiting."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils import _task_query as task_query
from ansible_collections.sailpoint.isc.plugins.module_utils._client import API_VERSIONS
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import (
    NotFoundError,
    OptionError,
    RateLimitedError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._redact import Redactor
from ansible_collections.sailpoint.isc.tests.unit.plugins.fake_isc import make_task

NOW = datetime(2026, 1, 2, 0, 0, tzinfo=timezone.utc)


class FakeClient:
    """Answers like the emulator would, from an in-memory list; records every call."""

    def __init__(self, version="beta", tasks=(), secret="hunter2-secret", list_includes_pending=None):
        self.version = API_VERSIONS[version]
        self.tasks = list(tasks)
        self.calls = []
        self.warnings = []
        self.redactor = Redactor([secret])
        # a tenant whose list answers pending tasks although its version describes completed ones only
        self.list_includes_pending = self.version.list_includes_pending if list_includes_pending is None else list_includes_pending

    def _select(self, operation):
        pending = [task for task in self.tasks if task["completionStatus"] is None]
        if operation == "pending":
            return pending
        return self.tasks if self.list_includes_pending else [task for task in self.tasks if task not in pending]

    def warn(self, message):
        self.warnings.append(self.redactor.text(message))

    def iter_pages(self, filters=None, sorters=None, max_results=None, operation="list", page_size=250):
        self.calls.append(("iter", operation, filters, sorters, max_results))
        selected = self._select(operation)[:max_results]
        for start in range(0, max(len(selected), 1), page_size):
            # the client's contract: every page comes masked
            yield self.redactor.data(selected[start : start + page_size])

    def count_tasks(self, filters=None, operation="list"):
        self.calls.append(("count", operation, filters))
        return len(self._select(operation))

    def get_task(self, task_id):
        self.calls.append(("get", task_id))
        for task in self.tasks:
            if task["id"] == task_id:
                return task
        raise NotFoundError("GET failed with HTTP 404", 404)


def query(client, params, **hooks):
    """What the module does: validate its options into a plan, then run the plan."""
    return task_query.query_tasks(client, task_query.plan_query(params), **hooks)


def _params(**kwargs):
    params = {
        "id": None,
        "scope": "all",
        "completion_status": None,
        "unique_name": None,
        "type": None,
        "source_id": None,
        "launcher": None,
        "older_than": None,
        "filters": None,
        "sorters": None,
        "max_results": None,
        "count": False,
        "wait": False,
        "wait_timeout": 300,
        "wait_sleep": 5,
        "fields": None,
    }
    params.update(kwargs)
    return params


@pytest.mark.parametrize(
    "params, message",
    [
        ({"older_than": "6 hours"}, "^older_than must be a duration"),
        ({"wait": True}, "^wait needs id"),
        ({"id": "a/b"}, "^id 'a/b' is not a task id"),
        ({"id": ".."}, "^id '..' is not a task id"),
        ({"id": "a?b"}, "^id 'a\\?b' is not a task id"),
        ({"id": "a%2e"}, "^id 'a%2e' is not a task id"),
        ({"id": "abc", "filters": "x"}, "^id selects one task"),
        ({"completion_status": ["DONE"]}, "^completion_status must be among"),
        ({"unique_name": [" "]}, "^unique_name must not contain empty"),
        ({"max_results": -1}, "^max_results must be from 0 to 10,000,000"),
        ({"scope": "pending", "completion_status": ["error"]}, "^completion_status selects completed tasks; it cannot be combined with scope: pending"),
        ({"scope": "pending", "sorters": "-launcher"}, "^sorters may only sort by created or -created .*got '-launcher'"),
        ({"sorters": "created,name"}, "^sorters .*got 'name'"),
        ({"sorters": "created,"}, "^sorters .*got ''"),
        ({"sorters": "+created"}, "^sorters .*got '\\+created'"),
        ({"id": "abc", "wait": True, "wait_timeout": 0}, "^wait_timeout must be more than 0"),
    ],
)
def test_bad_input_fails_naming_the_option_before_any_request(params, message):
    client = FakeClient(tasks=[make_task(1)])
    with pytest.raises(OptionError, match=message):
        query(client, _params(**params), now=NOW)
    assert client.calls == []


def test_beta_all_merges_list_and_pending_without_duplicates_and_sorts():
    tasks = [
        make_task(1, created="2026-01-01T00:00:03.000Z"),
        make_task(2, pending=True, created="2026-01-01T00:00:01.000Z"),
        make_task(3, created="2026-01-01T00:00:02.000Z"),
    ]
    client = FakeClient("beta", tasks)
    result = query(client, _params(sorters="-created"), now=NOW)
    assert [task["id"][-1] for task in result["tasks"]] == ["1", "3", "2"]
    assert result["changed"] is False
    assert [call[1] for call in client.calls] == ["list", "pending"]


def test_client_side_selectors_narrow_the_pending_endpoint():
    tasks = [
        make_task(1, pending=True, launcher="sweep", uniqueName="Identity Refresh", attributes={}),
        make_task(2, pending=True, launcher="Alice"),
        make_task(3, pending=True, target={"id": "other"}),
    ]
    client = FakeClient("beta", tasks)
    result = query(client, _params(scope="pending", type=["identity_refresh"], launcher=["SWEEP"]), now=NOW)
    assert [task["id"][-1] for task in result["tasks"]] == ["1"]
    result = query(client, _params(scope="pending", source_id=["src1"]), now=NOW)
    assert [task["id"][-1] for task in result["tasks"]] == ["1", "2"]


def test_older_than_reads_any_rfc3339_timestamp_and_ignores_none_without_offset():
    tasks = [
        make_task(1, pending=True, launched="2026-01-01t19:00:00.1z", created="2026-01-01T10:00:00Z"),  # 5 h ago
        make_task(2, pending=True, launched="2026-01-01T17:00:00.1234567+00:00"),  # 7 h ago
        # no offset, so no date-time: the task counts from its creation, 1 h ago
        make_task(3, pending=True, launched="2026-01-01T10:00:00.000", created="2026-01-01T23:00:00.000Z"),
    ]
    result = query(FakeClient("v2026", tasks), _params(scope="pending", older_than="6h"), now=NOW)
    assert [task["id"][-1] for task in result["tasks"]] == ["2"]


def test_older_than_counts_from_created_when_launched_is_no_date_time():
    # the same rule as the reports' ages (module_utils/_tasks.started_at): an unreadable launch time falls back to created
    tasks = [make_task(1, pending=True, launched="not a time", created="2026-01-01T10:00:00.000Z")]  # 14 h ago
    result = query(FakeClient("v2026", tasks), _params(scope="pending", older_than="6h"), now=NOW)
    assert [task["id"][-1] for task in result["tasks"]] == ["1"]


def test_older_than_uses_launched_then_created():
    tasks = [
        make_task(1, pending=True, launched="2026-01-01T17:00:00.000Z"),  # 7 h ago
        make_task(2, pending=True, launched="2026-01-01T19:00:00.000Z"),  # 5 h ago
        make_task(3, pending=True, launched=None, created="2026-01-01T10:00:00.000Z"),
        make_task(4, pending=True, launched=None, created="2026-01-01T23:00:00.000Z"),
    ]
    result = query(FakeClient("v2026", tasks), _params(scope="pending", older_than="6h"), now=NOW)
    assert [task["id"][-1] for task in result["tasks"]] == ["1", "3"]


@pytest.mark.parametrize(
    "version, scope, operation, filters",
    [("beta", "pending", "pending", None), ("v2025", "all", "list", None), ("v2026", "pending", "list", "completionStatus isnull")],
)
def test_count_from_the_server_when_it_applies_the_whole_selection(version, scope, operation, filters):
    client = FakeClient(version, [make_task(n, pending=True) for n in range(5)] + [make_task(9, pending=scope == "pending")])
    result = query(client, _params(scope=scope, count=True, max_results=2), now=NOW)
    assert result["total"] == 6 and len(result["tasks"]) == 2
    assert client.calls == [("iter", operation, filters, None, 2), ("count", operation, filters)]


@pytest.mark.parametrize("scope", ["completed", "all"])
def test_a_list_narrowed_to_completed_tasks_client_side_is_counted_by_the_module(scope):
    tasks = [make_task(n, pending=n % 2 == 0) for n in range(6)]
    client = FakeClient("v2024", tasks, list_includes_pending=True)
    result = query(client, _params(scope=scope, count=True, max_results=2), now=NOW)
    assert result["total"] == (3 if scope == "completed" else 6) and len(result["tasks"]) == 2
    assert not any(call[0] == "count" for call in client.calls)
    assert [task["id"][-1] for task in result["tasks"]] == ["1", "3"]


def test_count_is_made_by_the_module_when_it_narrows():
    client = FakeClient("beta", [make_task(n, launcher="a" if n % 2 else "b") for n in range(6)])
    result = query(client, _params(scope="completed", launcher=["a"], count=True, max_results=1), now=NOW)
    assert result["total"] == 3 and len(result["tasks"]) == 1
    assert not any(call[0] == "count" for call in client.calls)


def test_max_results_stops_reading_once_enough_matched():
    client = FakeClient("beta", [make_task(n, launcher="a") for n in range(10)])
    result = query(client, _params(scope="completed", launcher=["a"], max_results=3), now=NOW)
    assert len(result["tasks"]) == 3
    assert client.calls == [("iter", "list", None, None, None)]


def test_id_returns_the_task_or_nothing():
    client = FakeClient("v2025", [make_task(1)])
    task_id = make_task(1)["id"]
    assert query(client, _params(id=task_id), now=NOW)["tasks"] == [make_task(1)]
    assert query(client, _params(id="missing"), now=NOW)["tasks"] == []
    assert query(client, _params(id=task_id, scope="pending"), now=NOW)["tasks"] == []
    assert query(client, _params(id=task_id, count=True), now=NOW)["total"] == 1


def test_wait_polls_until_completed():
    task = make_task(1, pending=True)
    client = FakeClient("beta", [task])
    clock, sleeps = [0.0], []

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds
        if clock[0] >= 20:
            task.update(completionStatus="SUCCESS", completed="2026-01-01T00:10:00.000Z")

    result = query(client, _params(id=task["id"], wait=True, wait_sleep=10, wait_timeout=60), now=NOW, sleep=sleep, clock=lambda: clock[0])
    assert result["tasks"][0]["completionStatus"] == "SUCCESS"
    assert result["elapsed"] == 20.0 and sleeps == [10, 10]


def test_wait_fails_when_the_timeout_passes():
    task = make_task(1, pending=True, progress="Processing accounts", percentComplete=42)
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    with pytest.raises(WaitTimeoutError, match="^wait_timeout: task .* still pending after 25s .*42% complete") as error:
        query(FakeClient("beta", [task]), _params(id=task["id"], wait=True, wait_sleep=10, wait_timeout=25), now=NOW, sleep=sleep, clock=lambda: clock[0])
    assert error.value.detail["task"]["id"] == task["id"]


class FlakyClient(FakeClient):
    """Answers get_task with the scripted errors first, then as FakeClient."""

    def __init__(self, errors, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.errors = list(errors)

    def get_task(self, task_id):
        if self.errors:
            self.calls.append(("get", task_id))
            raise self.errors.pop(0)
        return super().get_task(task_id)


TRANSIENT = [
    ServerError("GET x failed with HTTP 500: hunter2-secret", 500),
    TransportError("GET x: could not reach", None),
    RateLimitedError("GET x failed with HTTP 429", 429),
]


def _ticking_clock():
    clock = [0.0]

    def sleep(seconds):
        clock[0] += seconds

    return sleep, lambda: clock[0]


def test_wait_polls_on_through_server_transport_and_rate_limit_errors():
    task = make_task(1)
    client = FlakyClient(TRANSIENT, "beta", [task])
    sleep, clock = _ticking_clock()
    result = query(client, _params(id=task["id"], wait=True, wait_sleep=10, wait_timeout=60), now=NOW, sleep=sleep, clock=clock)
    assert result["tasks"] == [task] and result["elapsed"] == 30.0
    assert len(client.warnings) == 3 and all("polling again until wait_timeout" in warning for warning in client.warnings)
    assert "HTTP 500: ********" in client.warnings[0] and "hunter2" not in str(client.warnings)


def test_wait_that_only_meets_errors_times_out_naming_the_last_one():
    # polls at 0, 10, 20 and 25 s
    client = FlakyClient([TRANSIENT[2], TRANSIENT[0], TRANSIENT[2], TRANSIENT[1]], "beta", [make_task(1)])
    sleep, clock = _ticking_clock()
    with pytest.raises(WaitTimeoutError, match="^wait_timeout: task abc could not be read in 25s; last error while polling: GET x: could not reach;"):
        query(client, _params(id="abc", wait=True, wait_sleep=10, wait_timeout=25), now=NOW, sleep=sleep, clock=clock)
    assert len(client.warnings) == 4


def test_wait_for_an_unknown_task_fails():
    with pytest.raises(NotFoundError, match="nothing to wait for"):
        query(FakeClient(), _params(id="nope", wait=True), now=NOW, sleep=lambda s: None)


def test_results_never_carry_a_secret():
    client = FakeClient("beta", [make_task(1, progress="echo hunter2-secret", messages=[{"text": "hunter2%2Dsecret"}])])
    result = query(client, _params(), now=NOW)
    assert "hunter2-secret" not in str(result)
    assert result["tasks"][0]["progress"] == "echo ********"


def test_sort_tasks_by_several_keys():
    tasks = [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}, {"a": 1, "b": "z"}]
    assert task_query.sort_tasks(tasks, "a,-b") == [{"a": 1, "b": "z"}, {"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"older_than": "99999999d"}, "^older_than must be at most 3650d"),
        ({"id": "a1", "wait": True, "wait_timeout": float("nan")}, "^wait_timeout must be a finite number"),
        ({"id": "a1", "wait": True, "wait_sleep": float("nan")}, "^wait_sleep must be a finite number"),
        ({"id": "a1", "wait": True, "wait_sleep": 0.0}, "^wait_sleep must be from 0.5 to 3,600"),
        ({"wait_timeout": float("inf")}, "^wait_timeout must be a finite number"),
        ({"max_results": 10**12}, "^max_results must be from 0 to 10,000,000"),
        ({"fields": ["id", "nope"]}, "^fields must name fields of a task"),
        ({"fields": []}, "^fields must name fields of a task"),
    ],
)
def test_out_of_range_options_fail_before_any_request(params, message):
    client = FakeClient("v2026", [make_task(1)])
    with pytest.raises(OptionError, match=message):
        query(client, _params(**params))
    assert client.calls == []


@pytest.mark.parametrize("version", ["beta", "v2026"])
def test_fields_keep_only_the_named_fields(version):
    tasks = [make_task(1, pending=True), make_task(2)]
    result = query(FakeClient(version, tasks), _params(fields=["id", "completionStatus"], sorters="-created"))
    assert sorted(result["tasks"], key=lambda task: task["id"]) == [
        {"id": tasks[0]["id"], "completionStatus": None},
        {"id": tasks[1]["id"], "completionStatus": "SUCCESS"},
    ]
    by_id = query(FakeClient(version, tasks), _params(id=tasks[1]["id"], fields=["uniqueName"]))
    assert by_id["tasks"] == [{"uniqueName": "Cloud Account Aggregation"}]
