# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""source_aggregation's service: the launch decision, idempotency, waiting, faults, check mode."""

from __future__ import annotations

import math
import re

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils import _source_aggregation as service
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import (
    IscError,
    NotFoundError,
    OptionError,
    RateLimitedError,
    ServerAnswerError,
    ServerError,
    TransportError,
    WaitTimeoutError,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import TASK_FIELDS
from ansible_collections.sailpoint.isc.tests.unit.plugins.fake_isc import FakeClock
from ansible_collections.sailpoint.isc.tests.unit.plugins.fake_sources import BLOCKED, FakeSourcesClient, make_aggregation, make_source

HELPDESK = {"identity_id": "i2", "user_name": "help", "authorities": ["HELPDESK"], "scope": ["sp:scopes:all"]}
API_CLIENT = {"client_id": "api", "authorities": [], "scope": ["sp:scopes:all"]}


def params(**overrides):
    base = {
        "source_id": "s1",
        "source_name": None,
        "kind": "accounts",
        "disable_optimization": False,
        "if_running": "skip",
        "require_healthy": True,
        "wait": False,
        "wait_timeout": 300,
        "wait_sleep": 5,
    }
    base.update(overrides)
    return service.plan_launch(base)


def run(client, check_mode=False, clock=None, **overrides):
    clock = clock or FakeClock()
    return service.run(client, params(**overrides), check_mode, sleep=clock.sleep, clock=clock)


def stuck(task_id="stuck1", **fields):
    return make_aggregation(task_id, created="2026-07-10T00:00:00.000Z", launched="2026-07-10T00:00:00.000Z", **fields)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"source_id": None}, "one of source_id or source_name is required"),
        ({"source_id": None, "source_name": "  "}, "source_name must not be empty"),
        ({"source_id": "a/../b"}, "source_id 'a/../b' is not a task id"),
        ({"kind": "groups"}, "kind must be one of accounts, entitlements"),
        ({"kind": "entitlements", "disable_optimization": True}, "disable_optimization applies to account aggregations only"),
        ({"wait_sleep": 0.1}, "wait_sleep must be from 0.5 to 3,600"),
        ({"wait_timeout": math.nan}, "wait_timeout must be a finite number"),
        ({"wait_timeout": 0}, "wait_timeout must be more than 0"),
    ],
)
def test_bad_options_are_refused_naming_them(overrides, message):
    with pytest.raises(OptionError, match=message.replace("(", r"\(")):
        params(**overrides)


def test_a_launch_reads_the_source_and_its_pending_aggregations_then_posts_once():
    client = FakeSourcesClient([make_source()])
    result = run(client)
    assert result["changed"] is True and result["launched"] is True
    assert result["source"] == {"id": "s1", "name": "Active Directory", "healthy": True, "status": "SOURCE_STATE_HEALTHY", "since": "2026-07-11T21:23:15.380Z"}
    assert list(result["task"]) == list(TASK_FIELDS)
    assert result["task"]["id"] == "launched1" and result["task"]["uniqueName"] == "Cloud Account Aggregation"
    assert result["task"]["target"]["id"] == "s1" and result["aggregation"] is None
    assert [entry[:2] for entry in client.log] == [
        ("GET", "/v2025/sources/s1"),
        ("LIST", "task-status list"),
        ("POST", "/v2025/sources/s1/load-accounts"),
    ]
    assert client.log[1][2] == '(completionStatus isnull) and (sourceId eq "s1")'
    assert client.calls("POST")[0][2] == {}


def test_disable_optimization_is_sent_as_a_form_field():
    client = FakeSourcesClient([make_source()])
    run(client, disable_optimization=True)
    assert client.calls("POST")[0][2] == {"disableOptimization": "true"}


def test_a_source_by_name_costs_one_filtered_list_instead_of_the_get():
    client = FakeSourcesClient([make_source(), make_source("s2", "Workday")])
    result = run(client, source_id=None, source_name="workday", kind="entitlements")
    assert result["source"]["id"] == "s2" and result["task"]["uniqueName"] == "Cloud Group Aggregation"
    assert [entry[0:2] for entry in client.log] == [
        ("LIST", "/v2025/sources"),
        ("LIST", "task-status list"),
        ("POST", "/v2025/sources/s2/load-entitlements"),
    ]
    assert client.log[0][2] == 'name eq "workday"'


@pytest.mark.parametrize(
    "sources, message",
    [
        ([make_source()], "source_name 'Nope': ISC has no source of that name"),
        ([make_source("s1", "Nope"), make_source("s2", "NOPE")], "source_name 'nope' is ambiguous: ISC has 2 sources"),
    ],
)
def test_an_unknown_or_ambiguous_name_fails_naming_it(sources, message):
    client = FakeSourcesClient(sources)
    with pytest.raises(IscError, match=message):
        run(client, source_id=None, source_name=message.split("'")[1])
    assert client.calls("POST") == []


def test_an_unknown_source_id_fails_naming_it():
    with pytest.raises(NotFoundError, match="source_id 'zz': ISC has no such source"):
        run(FakeSourcesClient([make_source()]), source_id="zz")


def test_a_stuck_aggregation_is_not_piled_on_and_after_clearing_it_one_launch_goes_out():
    client = FakeSourcesClient([make_source()], [stuck(), make_aggregation("other", unique_name="Cloud Group Aggregation")])
    skipped = run(client)
    assert skipped["changed"] is False and skipped["launched"] is False and skipped["task"]["id"] == "stuck1"
    assert client.calls("POST") == []
    client.tasks["stuck1"].update(completionStatus="ERROR", completed="2026-07-11T11:00:00.000Z")
    launched = run(client)
    assert launched["changed"] is True and launched["task"]["id"] == "launched1" and len(client.calls("POST")) == 1
    rerun = run(client)
    assert rerun["changed"] is False and rerun["task"]["id"] == "launched1" and len(client.calls("POST")) == 1


def test_a_task_with_completed_set_but_no_status_is_still_running():
    client = FakeSourcesClient([make_source()], [stuck(completed="2026-07-11T11:00:00.000Z")])
    assert run(client)["changed"] is False and client.calls("POST") == []


def test_an_entitlement_aggregation_does_not_block_accounts():
    client = FakeSourcesClient([make_source()], [make_aggregation("groups", unique_name="Cloud Entitlement Import")])
    assert run(client)["changed"] is True
    assert run(client, kind="entitlements")["changed"] is False


def test_if_running_fail_names_the_running_task():
    client = FakeSourcesClient([make_source()], [stuck()])
    with pytest.raises(service.Refusal, match=r"already runs a accounts aggregation \(stuck1\)") as refused:
        run(client, if_running="fail")
    assert refused.value.result["task"]["id"] == "stuck1" and client.calls("POST") == []


def test_if_running_queue_waits_for_the_running_one_then_launches():
    client = FakeSourcesClient([make_source()], [stuck()])
    client.complete_after["stuck1"] = 2
    clock = FakeClock()
    result = run(client, clock=clock, if_running="queue", wait_sleep=1)
    assert result["changed"] is True and result["task"]["id"] == "launched1"
    methods = [entry[0] + " " + entry[1] for entry in client.log]
    assert methods.index("POST /v2025/sources/s1/load-accounts") > max(i for i, call in enumerate(methods) if call == "GET task-status/stuck1")
    assert clock.sleeps == [1, 2]


def test_queue_gives_up_at_wait_timeout():
    client = FakeSourcesClient([make_source()], [stuck()])
    with pytest.raises(WaitTimeoutError, match="stuck1"):
        run(client, if_running="queue", wait_timeout=60)
    assert client.calls("POST") == []


def test_an_unhealthy_source_is_refused_naming_its_status_before_any_post():
    client = FakeSourcesClient([make_source(healthy=False)])
    with pytest.raises(service.Refusal, match=r"not healthy .*status SOURCE_STATE_ERROR_VA, since 2026-07-11T21:23:15.380Z") as refused:
        run(client)
    assert client.calls("POST") == [] and refused.value.result["source"]["healthy"] is False
    assert run(client, require_healthy=False)["changed"] is True


def test_a_source_answer_that_breaks_the_contract_blames_the_server():
    client = FakeSourcesClient([make_source(healthy="yes")])
    with pytest.raises(ServerAnswerError, match="healthy is 'yes', not a boolean"):
        run(client)


@pytest.mark.parametrize("answer", [{"success": True, "task": {"name": "no id"}}, {"success": True}])
def test_a_launch_answer_without_a_task_id_blames_the_server(answer, monkeypatch):
    client = FakeSourcesClient([make_source()])
    monkeypatch.setattr(client, "post_form", lambda *args, **kwargs: answer)
    with pytest.raises(ServerAnswerError, match="launch without a task id.*ISC accepted the launch, yet no new aggregation"):
        run(client)
    assert len(client.calls("LIST")) == 2


@pytest.mark.parametrize(
    "claims, kind, refused",
    [
        (None, "accounts", None),
        (None, "entitlements", None),
        (API_CLIENT, "accounts", None),
        (API_CLIENT, "entitlements", "no user context"),
        (HELPDESK, "accounts", "user level (HELPDESK) may not launch account aggregations"),
        ({"identity_id": "i", "authorities": ["ORG_ADMIN"], "scope": ["idn:sources:read"]}, "accounts", "do not include"),
    ],
)
def test_check_mode_reads_as_a_real_run_sends_no_post_and_predicts_the_403(claims, kind, refused):
    client = FakeSourcesClient([make_source()], claims=claims)
    if refused:
        with pytest.raises(service.Refusal, match=re.escape(refused)) as raised:
            run(client, check_mode=True, kind=kind)
        assert raised.value.status == 403 and "ISC would refuse the launch (HTTP 403)" in raised.value.message
    else:
        result = run(client, check_mode=True, kind=kind)
        assert result["changed"] is True and result["launched"] is True and result["task"] is None
    assert client.calls("POST") == [] and [entry[0] for entry in client.log] == ["GET", "LIST"]


def test_check_mode_with_a_running_aggregation_predicts_no_change_and_queue_a_launch():
    client = FakeSourcesClient([make_source()], [stuck()])
    assert run(client, check_mode=True)["changed"] is False
    queued = run(client, check_mode=True, if_running="queue")
    assert queued["changed"] is True and queued["task"]["id"] == "stuck1"
    assert client.calls("POST") == [] and client.calls("GET")[1:] == [("GET", "/v2025/sources/s1", None)]


def test_wait_follows_the_launch_to_its_end_and_reads_the_counts():
    client = FakeSourcesClient([make_source()])
    client.launch_faults = [None]
    clock = FakeClock()
    service_plan = params(wait=True, wait_sleep=2)
    original = client.post_form

    def launch_and_complete_later(*args, **kwargs):
        answer = original(*args, **kwargs)
        client.complete_after[f"launched{client.launched}"] = 3
        return answer

    client.post_form = launch_and_complete_later
    result = service.run(client, service_plan, False, sleep=clock.sleep, clock=clock)
    assert result["task"]["completionStatus"] == "SUCCESS" and result["aggregation"]["processedAccounts"] == 7
    assert clock.sleeps == [2, 4, 8] and result["elapsed"] == 14
    assert [entry[1] for entry in client.calls("GET")][-1] == "/v2025/account-aggregations/launched1/status"


@pytest.mark.parametrize("wait_sleep, seconds", [(0.5, 30), (1, 120), (5, 600), (30, 900), (2, 3600)])
def test_a_wait_of_t_seconds_costs_few_polls(wait_sleep, seconds):
    """At most 1 + log2(30 / wait_sleep) + T / 30 polls for a wait of T seconds (the clock of the test, not wall time)."""
    client = FakeSourcesClient([make_source()], [stuck()])
    clock = FakeClock()
    with pytest.raises(WaitTimeoutError):
        service.run(client, params(wait=True, wait_sleep=wait_sleep, wait_timeout=seconds), False, sleep=clock.sleep, clock=clock)
    polls = len([entry for entry in client.log if entry[1] == "task-status/stuck1"])
    assert polls <= 1 + math.log2(30 / wait_sleep) + seconds / 30 + 1e-9
    assert max(clock.sleeps) <= 30 and clock.sleeps[0] == wait_sleep


def test_a_launch_refused_for_a_running_aggregation_names_the_blocking_task():
    client = FakeSourcesClient([make_source()])
    original = client.post_form

    def another_starts_first(*args, **kwargs):
        # the scheduler launches an aggregation of the source between the module's read and its launch
        client.tasks["sneaked"] = make_aggregation("sneaked", launcher="scheduler")
        return original(*args, **kwargs)

    client.post_form = another_starts_first
    with pytest.raises(service.Refusal, match="ended in ERROR: ISC refused to run it while another aggregation of the source runs") as refused:
        run(client, wait=True)
    assert "aggregation sneaked, still pending" in refused.value.message and "task_status" in refused.value.message
    assert refused.value.result["task"]["id"] == "launched1"


def test_a_failed_task_fails_the_run_with_its_messages():
    client = FakeSourcesClient([make_source()])
    failed = make_aggregation("launched1", pending=False, completionStatus="TERMINATED", messages=[{"type": "ERROR", "localizedText": {"message": "VA down"}}])
    with pytest.raises(service.Refusal, match="ended in TERMINATED: VA down"):
        service._finish(client, params(), make_source(), {"task": failed}, failed, 0, None, FakeClock(), 0)


@pytest.mark.parametrize(
    "fault",
    [
        (True, ServerError("POST failed with HTTP 500", status=500)),
        (True, TransportError("POST: the answer was cut short", maybe_sent=True)),
        (True, ServerError("POST failed with HTTP 504", status=504)),
    ],
)
def test_a_launch_applied_despite_its_error_is_found_not_repeated(fault):
    client = FakeSourcesClient([make_source()])
    client.launch_faults = [fault]
    result = run(client)
    assert result["changed"] is True and result["task"]["id"] == "launched1"
    assert len(client.calls("POST")) == 1 and client.launched == 1
    assert any("but the launch took" in warning for warning in client.warnings)


def test_a_launch_not_applied_after_a_500_is_sent_once_more():
    client = FakeSourcesClient([make_source()])
    client.launch_faults = [(False, ServerError("POST failed with HTTP 500", status=500))]
    assert run(client)["task"]["id"] == "launched1"
    assert len(client.calls("POST")) == 2 and client.launched == 1
    assert any("launching once more" in warning for warning in client.warnings)


def test_two_launches_lost_without_trace_fail_saying_it_may_have_been_applied():
    client = FakeSourcesClient([make_source()])
    client.launch_faults = [(False, ServerError("HTTP 502", status=502)), (False, TransportError("dropped", maybe_sent=True))]
    with pytest.raises(IscError, match="may have been applied"):
        run(client)
    assert len(client.calls("POST")) == 2


@pytest.mark.parametrize("error", [RateLimitedError("HTTP 429 after every retry", status=429), TransportError("refused", maybe_sent=False)])
def test_a_launch_that_cannot_have_been_applied_fails_at_once(error):
    client = FakeSourcesClient([make_source()])
    client.launch_faults = [(False, error)]
    with pytest.raises(type(error)):
        run(client)
    assert len(client.calls("POST")) == 1 and len(client.calls("LIST")) == 1


@pytest.mark.parametrize("version, path", [("beta", "/beta/sources/s1/load-accounts"), ("v1", "/sources/v1/s1/load-accounts")])
def test_each_version_launches_at_its_path_and_reads_pending_its_way(version, path):
    client = FakeSourcesClient([make_source()], [make_aggregation("elsewhere", source_id="s9")], version=version)
    assert run(client)["changed"] is True
    assert client.calls("POST")[0][1] == path
    pending_read = client.calls("LIST")[0]
    assert pending_read[1] == ("task-status pending" if version == "beta" else "task-status list")


def test_results_never_carry_a_secret():
    client = FakeSourcesClient([make_source(description="s3cr3t")], secrets=["s3cr3t"])
    client.tasks["stuck1"] = stuck(progress="s3cr3t")
    assert "s3cr3t" not in repr(run(client))


def test_the_blocked_message_is_isc_own():
    assert service.BLOCKED_TEXT in BLOCKED.lower()
