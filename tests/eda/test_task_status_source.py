# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sailpoint.isc.task_status event source against the ISC emulator.

Polls are driven one at a time: through ``TaskWatcher.poll`` directly, or through the asynchronous loop with a
``sleep`` that hands control back to the test after each poll, so no test depends on timing.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from conftest import ago, iso

from ansible_collections.sailpoint.isc.extensions.eda.plugins.event_source import task_status
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import IscError, OptionError, ServerAnswerError
from ansible_collections.sailpoint.isc.plugins.module_utils._redact import secret_forms
from ansible_collections.sailpoint.isc.plugins.module_utils._tenants import tenant_from_url

SOURCE_FILE = Path(task_status.__file__)
ALL_KINDS = ["stuck", "failed", "completed", "error"]


def watcher(isc, now=None, **args) -> task_status.TaskWatcher:
    return task_status.TaskStatusSource(isc.args(**args), now=now).watcher


def summary(events) -> list:
    return sorted((event["kind"], event["task"]["id"] if event["task"] else None) for event in events)


def pending_since(isc, threshold: timedelta) -> set:
    """Ids of the tenant's pending tasks launched longer than ``threshold`` ago, by the control surface's listing."""
    cutoff = datetime.now(timezone.utc) - threshold
    return {task_id for task_id, task in isc.tasks().items() if task["completionStatus"] is None and task["launched"] < iso(cutoff)}


def stuck_task(**fields) -> dict:
    return dict({"completionStatus": None, "created": ago(hours=2), "launched": ago(hours=2)}, **fields)


class Stepper:
    """A ``sleep`` for the source's loop that reports each finished poll and waits for the test's go-ahead."""

    def __init__(self):
        self.finished = asyncio.Queue()
        self.go = asyncio.Queue()

    async def sleep(self, _seconds):
        await self.finished.put(True)
        await self.go.get()

    async def poll_done(self, source_task):
        """Wait until the source has finished a poll; the source's own error if it stopped instead."""
        finished = asyncio.ensure_future(self.finished.get())
        done, _pending = await asyncio.wait({source_task, finished}, return_when=asyncio.FIRST_COMPLETED)
        if finished not in done:
            finished.cancel()
            source_task.result()

    async def poll(self, source_task):
        """Let the source run one more poll and wait until it has finished."""
        self.go.put_nowait(True)
        await self.poll_done(source_task)


def drain(queue) -> list:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


# ---- transitions


def test_first_poll_announces_tasks_already_stuck_and_no_earlier_failure(isc):
    stuck = pending_since(isc, timedelta(hours=1))
    assert stuck, "the seeded tenant has stuck tasks"
    assert any(task["completionStatus"] == "ERROR" for task in isc.tasks().values()), "and failed ones"
    source = watcher(isc, older_than="1h", events=ALL_KINDS)

    first = source.poll()

    assert summary(first) == sorted(("stuck", task_id) for task_id in stuck)
    assert all(event["tenant"] == source.tenant and event["seen"].endswith("Z") for event in first)
    assert source.poll() == []
    assert source.poll() == []


@pytest.mark.parametrize("api_version", ["beta", "v2024", "v2025", "v2026", "v1"])
def test_every_change_between_two_polls_is_announced_once(isc, api_version):
    source = watcher(isc, older_than="1h", events=ALL_KINDS, api_version=api_version)
    source.poll()
    tasks = isc.tasks()
    recent = sorted(task_id for task_id, task in tasks.items() if task["completionStatus"] is None and task["launched"] > ago(hours=1))
    old_stuck = sorted(pending_since(isc, timedelta(hours=1)))
    assert len(recent) >= 2 and old_stuck

    isc.finish(recent[0], "ERROR")
    isc.finish(recent[1], "SUCCESS")
    isc.finish(old_stuck[0], "TERMINATED")
    new_stuck = [task["id"] for task in isc.insert(stuck_task(), stuck_task())]
    quick_failure, quick_success = isc.insert(
        {"completionStatus": "TEMPERROR", "created": ago(seconds=20)}, {"completionStatus": "SUCCESS", "created": ago(seconds=10)}
    )
    isc.insert({"completionStatus": None, "created": ago(seconds=5), "launched": ago(seconds=5)})

    events = source.poll()

    assert summary(events) == sorted(
        [
            ("failed", recent[0]),
            ("completed", recent[1]),
            ("failed", old_stuck[0]),
            ("stuck", new_stuck[0]),
            ("stuck", new_stuck[1]),
            ("failed", quick_failure["id"]),
            ("completed", quick_success["id"]),
        ]
    )
    by_id = {event["task"]["id"]: event for event in events}
    assert by_id[recent[0]]["task"]["completionStatus"] == "ERROR"
    assert by_id[old_stuck[0]]["task"]["completionStatus"] == "TERMINATED"
    assert source.poll() == []
    assert source.poll() == []


def test_a_pending_task_becomes_stuck_as_time_passes_at_the_cost_of_a_quiet_poll(isc):
    isc.reset(pending=0)
    clock = [datetime.now(timezone.utc)]
    (task,) = isc.insert({"completionStatus": None, "created": ago(minutes=50), "launched": ago(minutes=50)})
    source = watcher(isc, now=lambda: clock[0], older_than="1h", events=["stuck"])
    assert task["id"] not in summary(source.poll())
    seq = isc.last_seq()

    clock[0] += timedelta(minutes=11)
    events = source.poll()

    assert summary(events) == [("stuck", task["id"])]
    assert [(call["method"], call["path"].rsplit("/", 1)[-1]) for call in isc.api_calls(seq)] == [("HEAD", "pending-tasks"), ("GET", "task-status")]
    clock[0] += timedelta(hours=5)
    assert source.poll() == []


def test_a_task_that_completes_while_the_first_poll_reads_is_announced(isc, monkeypatch):
    (task,) = isc.insert({"completionStatus": None, "created": ago(seconds=30), "launched": ago(seconds=30)})
    source = watcher(isc, events=ALL_KINDS)
    read_pending = source._read_pending  # pylint: disable=protected-access

    def read_then_finish():
        pending = read_pending()
        # the emulator changes the task exactly between the pending read and the scan of completions
        isc.finish(task["id"], "ERROR")
        return pending

    monkeypatch.setattr(source, "_read_pending", read_then_finish)
    assert ("failed", task["id"]) in summary(source.poll())
    monkeypatch.undo()
    assert source.poll() == []


# ---- request economy


def test_quiet_polls_cost_two_counting_calls_and_changes_a_few_pages(isc):
    source = watcher(isc, older_than="1h")
    seq = isc.last_seq()
    source.poll()
    first = isc.api_calls(seq)
    # the two counts, the pending tasks, the completions of the last minutes (so as not to announce them)
    assert len(first) == 4

    seq = isc.last_seq()
    source.poll()
    quiet = isc.api_calls(seq)
    assert [(call["method"], call["path"].rsplit("/", 1)[-1], "count=true" in call["query"]) for call in quiet] == [
        ("HEAD", "pending-tasks", True),
        ("GET", "task-status", True),
    ]
    assert "limit=1&" in quiet[1]["query"]

    isc.insert({"completionStatus": "ERROR", "created": ago(seconds=5)})
    seq = isc.last_seq()
    source.poll()
    # counts, pending tasks, one page of recent completions
    assert len(isc.api_calls(seq)) == 4

    isc.finish(sorted(pending_since(isc, timedelta(hours=1)))[0], "ERROR")
    seq = isc.last_seq()
    source.poll()
    # and the long-pending task, created before the scan's horizon, looked up by id
    assert len(isc.api_calls(seq)) == 5
    assert task_status.monthly_calls(120) == 43_200


# ---- arguments


def test_events_chooses_the_kinds(isc):
    source = watcher(isc, older_than="1h", events=["completed"])
    assert source.poll() == []
    recent = sorted(task_id for task_id, task in isc.tasks().items() if task["completionStatus"] is None and task["launched"] > ago(hours=1))
    isc.finish(recent[0], "ERROR")
    isc.finish(recent[1], "WARNING")
    assert summary(source.poll()) == [("completed", recent[1])]


@pytest.mark.parametrize(
    "selection, chosen",
    [
        ({"unique_name": ["identity refresh"]}, {"uniqueName": "Identity Refresh"}),
        ({"type": ["CLOUD_GROUP_AGGREGATION"]}, {"uniqueName": "Cloud Group Aggregation"}),
        ({"source_id": ["2c9180835d2e5168015d32f890ca1581"]}, {"target": {"id": "2c9180835d2e5168015d32f890ca1581", "type": "APPLICATION", "name": "HR"}}),
    ],
)
def test_the_selection_narrows_every_kind(isc, selection, chosen):
    isc.reset(pending=0, stuck=0)
    other = {"uniqueName": "Cloud Account Aggregation", "target": {"id": "2c9180835d2e5168015d32f8aaaaaaaa", "type": "APPLICATION", "name": "AD"}}
    wanted_stuck, _other_stuck = isc.insert(stuck_task(**chosen), stuck_task(**other))
    source = watcher(isc, older_than="1h", events=ALL_KINDS, **selection)
    assert summary(source.poll()) == [("stuck", wanted_stuck["id"])]

    wanted_failure, _other_failure = isc.insert(
        dict({"completionStatus": "ERROR", "created": ago(seconds=20)}, **chosen), dict({"completionStatus": "ERROR", "created": ago(seconds=20)}, **other)
    )
    assert summary(source.poll()) == [("failed", wanted_failure["id"])]


@pytest.mark.parametrize("api_version", ["beta", "v2025"])
def test_a_type_the_server_refuses_is_selected_by_the_source_at_one_refused_request_a_run(isc, caplog, api_version):
    isc.reset(pending=0, stuck=0)
    isc.faults(rejected_types=["CLOUD_GROUP_AGGREGATION"])
    chosen, other = {"uniqueName": "Cloud Group Aggregation"}, {"uniqueName": "Cloud Account Aggregation"}
    seq = isc.last_seq()
    source = watcher(isc, older_than="1h", events=ALL_KINDS, type=["cloud_group_aggregation"], api_version=api_version)
    wanted_stuck, _other_stuck = isc.insert(stuck_task(**chosen), stuck_task(**other))
    assert summary(source.poll()) == [("stuck", wanted_stuck["id"])]

    wanted_failure, _other_failure = isc.insert(
        dict({"completionStatus": "ERROR", "created": ago(seconds=20)}, **chosen), dict({"completionStatus": "ERROR", "created": ago(seconds=20)}, **other)
    )
    assert summary(source.poll()) == [("failed", wanted_failure["id"])]
    assert source.poll() == []

    assert [call["status"] for call in isc.api_calls(seq)].count(400) == 1
    assert caplog.text.count("ISC refused the type filter") == 1


def test_a_task_read_completed_without_a_status_is_still_pending_to_the_source(isc):
    isc.reset(pending=0, stuck=0)
    stuck, young = isc.insert(stuck_task(), {"completionStatus": None, "created": ago(minutes=5), "launched": ago(minutes=5)})
    for task in (stuck, young):
        isc.control("POST", "hooks", {"completed_window": {"id": task["id"], "reads": 1000}})
    source = watcher(isc, older_than="1h", events=ALL_KINDS)
    assert summary(source.poll()) == [("stuck", stuck["id"])]

    (done,) = isc.insert({"completionStatus": "SUCCESS", "created": ago(seconds=5)})
    assert summary(source.poll()) == [("completed", done["id"])]

    # ISC has written the status now, but the reads still show the window: nothing is announced yet
    isc.finish(young["id"], "ERROR")
    assert source.poll() == []
    assert source.poll() == []
    isc.control("DELETE", "hooks")
    events = source.poll()
    assert summary(events) == [("failed", young["id"])] and events[0]["task"]["completionStatus"] == "ERROR"
    assert source.poll() == []


def test_failures_from_before_the_start_are_announced_when_asked(isc):
    now = datetime.now(timezone.utc)
    lately, long_ago = isc.insert(
        {"completionStatus": "ERROR", "created": iso(now - timedelta(hours=3)), "completed": iso(now - timedelta(minutes=30))},
        {"completionStatus": "TERMINATED", "created": iso(now - timedelta(hours=9)), "completed": iso(now - timedelta(hours=5))},
    )
    failures = {task_id: task for task_id, task in isc.tasks().items() if task["completionStatus"] in ("ERROR", "TERMINATED", "TEMPERROR")}
    within_two_hours = {task_id for task_id, task in failures.items() if task["completed"] >= iso(now - timedelta(hours=2))}
    assert lately["id"] in within_two_hours and long_ago["id"] not in within_two_hours

    for announce, expected in ((True, set(failures)), ("2h", within_two_hours), (False, set())):
        source = watcher(isc, now=lambda: now, older_than="30d", events=["failed"], announce_existing_failures=announce)
        assert summary(source.poll()) == sorted(("failed", task_id) for task_id in expected), announce
        assert source.poll() == []


def test_restart_announces_the_tasks_still_stuck_again_but_no_earlier_failure(isc):
    stuck = sorted(pending_since(isc, timedelta(hours=1)))
    before = watcher(isc, older_than="1h", events=ALL_KINDS)
    assert summary(before.poll()) == [("stuck", task_id) for task_id in stuck]
    # the remediation closed one of them; the source restarts before it polls again
    isc.finish(stuck[0], "ERROR")

    after = watcher(isc, older_than="1h", events=ALL_KINDS)
    assert summary(after.poll()) == [("stuck", task_id) for task_id in stuck[1:]]
    assert after.poll() == []
    # the instance that ran on sees the change as a transition
    assert summary(before.poll()) == [("failed", stuck[0])]


@pytest.mark.parametrize(
    "args, named",
    [
        ({"interval": "soon"}, "interval"),
        ({"interval": 0}, "interval must be more than 0"),
        ({"interval": float("nan")}, "interval must be a finite number"),
        ({"interval": ".nan"}, "interval must be a number"),
        ({"interval": 10**400}, "interval must be more than 0 and at most 604,800, got a number of 401 digits"),
        ({"interval": 10**5000}, "interval must be more than 0 and at most 604,800, got a number of over 4000 digits"),
        ({"interval": "1e999"}, "interval must be a finite number"),
        ({"older_than": "soon"}, "older_than must be a duration"),
        ({"events": ["stuck", "stalled"]}, "value of events must be one or more of: stuck, failed, completed, error"),
        ({"unique_name": ["Identity Refresh", " "]}, "unique_name must not contain empty values"),
        ({"announce_existing_failures": "sometimes"}, "announce_existing_failures must be true, false or a duration"),
        ({"older_then": "1h"}, "unknown argument older_then"),
        ({"api_version": "v9"}, "api_version"),
        # the connection options' own checks, whose words are theirs
        ({"timeout": -1}, "timeout must be"),
        ({"base_url": "acme.api.identitynow.com"}, "is not an http(s) URL"),
        ({"base_url": None}, "no tenant given: set base_url (or SAIL_BASE_URL)"),
        ({"client_secret": None}, "client_id is set but client_secret is not"),
    ],
)
def test_a_bad_argument_stops_the_source_before_any_request(isc, args, named):
    seq = isc.last_seq()
    with pytest.raises(OptionError) as raised:
        asyncio.run(task_status.main(asyncio.Queue(), isc.args(**args)))
    assert raised.value.message.startswith("sailpoint.isc.task_status: ")
    assert named in raised.value.message
    assert isc.control("GET", "requests", since=seq) == []


def test_the_connection_falls_back_to_the_sail_variables(isc, monkeypatch):
    client = isc.clients["api"]
    monkeypatch.setenv("SAIL_BASE_URL", isc.base_url)
    monkeypatch.setenv("SAIL_CLIENT_ID", client["client_id"])
    monkeypatch.setenv("SAIL_CLIENT_SECRET", client["client_secret"])
    source = task_status.TaskStatusSource({"older_than": "1h", "eda_feedback_queue": object()}).watcher
    assert summary(source.poll()) == sorted(("stuck", task_id) for task_id in pending_since(isc, timedelta(hours=1)))
    assert source.tenant == tenant_from_url(isc.base_url) and source.tenant.startswith("127.0.0.1_")


def test_tenant_names():
    # the runbooks' rule, so that an event names a tenant as the summaries and reports of the playbook it runs do
    assert tenant_from_url("https://acme.api.identitynow.com") == "acme"
    assert tenant_from_url("https://acme.api.identitynow.com/") == "acme"
    assert tenant_from_url("http://127.0.0.1:8080/acme") == "127.0.0.1_8080_acme"
    assert tenant_from_url("https://isc.example.com") == "isc.example.com"
    assert tenant_from_url("https://reader:hunter2@isc.example.com:8443/acme") == "isc.example.com_8443_acme"


def test_the_documentation_states_the_arguments():
    documentation = yaml.safe_load(task_status.DOCUMENTATION)
    assert documentation["extends_documentation_fragment"] == ["sailpoint.isc.connection"]
    options = documentation["options"]
    assert set(options) == set(task_status.SOURCE_SPEC)
    for name, spec in task_status.SOURCE_SPEC.items():
        assert options[name]["type"] == spec["type"], name
        assert options[name].get("elements") == spec.get("elements"), name
        assert options[name].get("choices") == spec.get("choices"), name
        # an empty list is what an undocumented default of a list means
        assert options[name].get("default", []) == spec["default"], name
    (example,) = yaml.safe_load(task_status.EXAMPLES)
    assert "sailpoint.isc.task_status" in example["sources"][0]


# ---- errors


def run_source(isc, steps, **args):
    """Run the asynchronous source; ``steps`` is called between polls with (poll number, events of that poll)."""

    async def scenario():
        queue = asyncio.Queue()
        stepper = Stepper()
        source = task_status.TaskStatusSource(isc.args(**args))
        running = asyncio.ensure_future(source.run(queue, sleep=stepper.sleep))
        try:
            number = 1
            try:
                await stepper.poll_done(running)
            finally:
                more = await asyncio.to_thread(steps, number, drain(queue))
            while more:
                number += 1
                try:
                    await stepper.poll(running)
                finally:
                    more = await asyncio.to_thread(steps, number, drain(queue))
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)

    asyncio.run(scenario())


def test_a_failing_poll_becomes_an_error_event_and_nothing_is_lost(isc, caplog):
    caplog.set_level(logging.DEBUG)
    secret = isc.clients["api"]["client_secret"]
    recent = sorted(task_id for task_id, task in isc.tasks().items() if task["completionStatus"] is None and task["launched"] > ago(hours=1))
    seen = {}

    def steps(number, events):
        seen[number] = events
        if number == 1:
            isc.faults(fault_rate=1.0, statuses=[503])
            isc.finish(recent[0], "ERROR")
        if number == 3:
            isc.faults()
        return number < 4

    run_source(isc, steps, older_than="1h", events=ALL_KINDS)

    assert [event["kind"] for event in seen[1]] == ["stuck"] * len(pending_since(isc, timedelta(hours=1)))
    for number in (2, 3):
        (error,) = seen[number]
        assert error["kind"] == "error" and error["task"] is None and error["consecutive_failures"] == number - 1
        assert "HTTP 503" in error["error"]
    assert summary(seen[4]) == [("failed", recent[0])]
    assert secret not in json.dumps(seen) and secret not in caplog.text
    assert "polling" in caplog.text and "failed (2 in a row)" in caplog.text


def test_transient_errors_are_retried_before_they_become_an_event(isc):
    seen = {}

    def steps(number, events):
        seen[number] = events
        if number == 1:
            isc.faults(fault_rate=1.0, statuses=[502])
            seen["seq"] = isc.last_seq()
        return number < 2

    run_source(isc, steps, older_than="1h", retries=1)

    (error,) = seen[2]
    assert error["kind"] == "error" and "HTTP 502" in error["error"]
    calls = isc.api_calls(seen["seq"])
    assert [(call["method"], call["status"]) for call in calls] == [("HEAD", 502), ("HEAD", 502)]


def test_refused_credentials_become_an_error_event_and_stop_the_source(isc, caplog):
    wrong = "not-the-secret-" + isc.clients["api"]["client_secret"][::-1]
    seen = []

    with pytest.raises(IscError) as raised:
        run_source(isc, lambda number, events: seen.extend(events), client_secret=wrong)

    (error,) = seen
    assert error["kind"] == "error" and "client_id" in error["error"]
    assert raised.value.message.startswith("sailpoint.isc.task_status: stopped, polling again cannot succeed")
    assert wrong not in raised.value.message and wrong not in json.dumps(seen) and wrong not in caplog.text


@pytest.mark.parametrize("malformed", ["not_json", "html_page", "items_not_objects", "total_count", "missing_fields", "wrong_type"])
def test_an_answer_that_is_not_what_isc_sends_becomes_an_error_event_and_polling_goes_on(isc, malformed):
    recent = sorted(task_id for task_id, task in isc.tasks().items() if task["completionStatus"] is None and task["launched"] > ago(hours=1))
    seen = {}

    def steps(number, events):
        seen[number] = events
        if number == 1:
            isc.faults_or_skip(malformed=[malformed], malformed_on=["list", "pending"], fault_seed=1)
            isc.finish(recent[0], "ERROR")
        if number == 2:
            isc.faults()
        return number < 3

    run_source(isc, steps, older_than="1h", events=ALL_KINDS)

    (error,) = seen[2]
    assert error["kind"] == "error" and error["task"] is None
    assert summary(seen[3]) == [("failed", recent[0])]


def test_secrets_echoed_by_a_broken_server_reach_no_event_and_no_log(isc, caplog):
    caplog.set_level(logging.DEBUG)
    secret = isc.clients["api"]["client_secret"]
    # the token request is answered with itself, client secret included, in every encoding
    isc.faults_or_skip(echo="all", echo_on=["token"])
    seen = {}

    def steps(number, events):
        seen[number] = events
        if number == 1:
            # then the task listings, with the access token in their Authorization header
            isc.faults(echo="all", echo_on=["list", "pending"])
        if number == 2:
            isc.faults()
        return number < 3

    run_source(isc, steps, older_than="1h")

    assert [event["kind"] for event in seen[1] + seen[2]] == ["error", "error"]
    assert seen[3] and {event["kind"] for event in seen[3]} == {"stuck"}
    text = json.dumps(seen) + caplog.text
    assert "Internal Server Error" in text or "500" in text
    assert not [form for form in secret_forms(secret) if form in text]
    assert not re.search(r"eyJ[\w-]{10,}\.[\w-]{10,}\.", text), "an access token (a JWT) leaked"


def test_a_monthly_cost_beyond_the_quota_is_warned_about(isc, caplog):
    def steps(number, events):
        return False

    run_source(isc, steps, interval=1)
    assert "about 5184000 API calls a month" in caplog.text
    assert "more than ISC's 500000" in caplog.text


def test_ansible_rulebook_can_load_the_file_by_its_path():
    """ansible-rulebook runs the file with runpy and no collection loader; its imports must resolve regardless."""
    script = f"import runpy, asyncio; module = runpy.run_path({str(SOURCE_FILE)!r}); print(asyncio.iscoroutinefunction(module['main']))"
    completed = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, check=False, cwd="/")
    assert completed.stdout.strip() == "True", completed.stderr


def test_a_list_answer_nested_too_deeply_is_a_server_error_and_polling_goes_on(isc, monkeypatch):
    source = task_status.TaskStatusSource(isc.args(older_than="1h", events=ALL_KINDS))
    client = source.client
    request = client.request
    deep = "[" * 100_000 + "]" * 100_000

    def nested_once(method, path, params=None, **kwargs):
        response = request(method, path, params=params, **kwargs)
        if method == "GET" and params and params.get("sorters") == "created":
            monkeypatch.setattr(client, "request", request)
            response._content = deep.encode()  # pylint: disable=protected-access
        return response

    monkeypatch.setattr(client, "request", nested_once)
    # the client's contract for an answer that is not what ISC sends; LASTING_ERRORS leaves it out, so polling goes on
    with pytest.raises(ServerAnswerError, match="a body that is not JSON"):
        source.watcher.poll()
    # the next poll reads the tenant as usual
    assert summary(source.watcher.poll()) == [("stuck", task_id) for task_id in sorted(pending_since(isc, timedelta(hours=1)))]
