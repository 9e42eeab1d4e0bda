# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.recover_aggregations import (
    FilterModule,
    poll_delays,
    recover_aggregations_plan,
    recover_aggregations_report,
)

NOW = "2024-05-17T12:00:00.000Z"
HR, AD, LDAP = "2c91808a7813090a017813f1a8a10001", "2c91808a7813090a017813f1a8a10002", "2c91808a7813090a017813f1a8a10003"
NAMES = {HR: "HR", AD: "Active Directory", LDAP: "LDAP"}
STATS_KEYS = {
    "tenant",
    "check_mode",
    "stuck",
    "sources",
    "refused",
    "cleared",
    "would_clear",
    "cleared_ids",
    "relaunched",
    "would_relaunch",
    "relaunched_ids",
    "recovered",
    "not_recovered",
    "skipped",
    "skipped_by_reason",
    "reports",
}


def task(task_id, source=HR, name="Cloud Account Aggregation", launched="2024-05-17T01:00:00.000Z", status=None, **fields):
    return dict(
        {
            "id": task_id,
            "uniqueName": name,
            "target": {"id": source, "type": "APPLICATION", "name": f"{NAMES.get(source, source)} [source]"},
            "created": launched,
            "launched": launched,
            "modified": launched,
            "completed": None if status is None else "2024-05-17T11:59:00.000Z",
            "completionStatus": status,
            "percentComplete": 0,
        },
        **fields,
    )


def source(source_id, healthy=True, status="SOURCE_STATE_HEALTHY"):
    return {"id": source_id, "name": NAMES[source_id], "healthy": healthy, "status": status, "since": "2024-05-16T08:00:00.000Z"}


HEALTHY = [source(HR), source(AD), source(LDAP)]
PENDING = [
    task("a1"),
    task("a2", name="Cloud Group Aggregation"),
    task("a3", name="Cloud Entitlement Import"),
    task("b1", source=AD),
    task("fresh", source=LDAP, launched="2024-05-17T11:30:00.000Z"),
    task("refresh", name="Identity Refresh"),
]


def plan(pending=None, **options):
    pending = PENDING if pending is None else pending
    options.setdefault("sources", HEALTHY)
    options.setdefault("recent", [])
    return recover_aggregations_plan(pending, now=NOW, **options)


def groups(result):
    return {(group["source_id"], group["kind"]): group for group in result["groups"]}


def test_stuck_aggregations_are_grouped_by_source_and_kind():
    result = plan()
    assert [t["id"] for t in result["to_clear"]] == ["a1", "a2", "a3", "b1"]
    assert result["found"] == 5 and result["stuck"] == 4 and result["source_ids"] == [HR, AD]
    assert {key: group["stuck_ids"] for key, group in groups(result).items()} == {
        (HR, "accounts"): ["a1"],
        (HR, "entitlements"): ["a2", "a3"],
        (AD, "accounts"): ["b1"],
    }
    assert [(entry["source_id"], entry["kind"]) for entry in result["relaunch"]] == [(AD, "accounts"), (HR, "accounts"), (HR, "entitlements")]


def test_without_sources_nothing_is_decided():
    result = recover_aggregations_plan(PENDING, now=NOW)
    assert result["relaunch"] == [] and all(group["decision"] is None for group in result["groups"])


def test_narrowing_by_source_id_or_name_takes_either():
    result = plan(source_ids=[AD], source_names=["HR"])
    assert result["source_ids"] == [HR, AD]
    assert plan(source_names="Active Directory")["source_ids"] == [AD]


def test_exclusions_by_task_and_by_source():
    result = plan(exclude_ids=["a3"], exclude_source_names=["Active Directory"])
    assert [t["id"] for t in result["to_clear"]] == ["a1", "a2"] and result["excluded"] == 1
    # the excluded task stays pending and would make the new group aggregation fail: not relaunched
    group = groups(result)[(HR, "entitlements")]
    assert (group["decision"], group["reason"], group["blocking"]["id"]) == ("skip", "running", "a3")
    assert plan(exclude_source_ids=[HR, AD])["to_clear"] == []


def test_the_table_is_extended_by_unique_names():
    pending = [task("c1", name="Custom Nightly Import")]
    assert plan(pending)["to_clear"] == []
    result = plan(pending, unique_names={"Custom Nightly Import": "entitlements"})
    assert [(group["stuck_ids"], group["kind"]) for group in result["groups"]] == [(["c1"], "entitlements")]


@pytest.mark.parametrize("unique_names", [{"X": "groups"}, {"": "accounts"}, ["Custom"]])
def test_a_bad_table_extension_names_the_variable(unique_names):
    with pytest.raises(AnsibleFilterError, match="recover_aggregations_unique_names"):
        plan(unique_names=unique_names)


@pytest.mark.parametrize("option", ["older_than", "cooldown", "wait_timeout"])
def test_a_bad_duration_names_its_variable(option):
    with pytest.raises(AnsibleFilterError, match=f"recover_aggregations_{option}"):
        plan(**{option: "soon"})


def test_an_unhealthy_source_is_cleared_but_not_relaunched():
    result = plan(sources=[source(HR), source(AD, healthy=False, status="SOURCE_STATE_ERROR_VA")])
    group = groups(result)[(AD, "accounts")]
    assert "b1" in [t["id"] for t in result["to_clear"]]
    assert (group["decision"], group["reason"]) == ("skip", "unhealthy")
    assert "SOURCE_STATE_ERROR_VA since 2024-05-16T08:00:00.000Z" in group["detail"]
    relaxed = groups(plan(sources=[source(HR), source(AD, healthy=False)], require_healthy=False))[(AD, "accounts")]
    assert relaxed["decision"] == "relaunch"


def test_a_source_isc_does_not_know_is_skipped():
    assert groups(plan(sources=[source(HR)]))[(AD, "accounts")]["reason"] == "source_not_found"


def test_a_running_aggregation_of_the_same_source_and_kind_blocks_the_relaunch():
    pending = PENDING + [task("running", source=AD, launched="2024-05-17T11:50:00.000Z")]
    decided = groups(plan(pending))
    assert decided[(AD, "accounts")]["reason"] == "running" and decided[(AD, "accounts")]["blocking"]["id"] == "running"
    assert decided[(HR, "accounts")]["decision"] == "relaunch"


def test_a_launch_within_the_cooldown_blocks_the_relaunch_whatever_its_outcome():
    recent = [
        task("done", source=HR, launched="2024-05-17T11:20:00.000Z", status="SUCCESS"),
        task("old", source=AD, launched="2024-05-17T10:00:00.000Z", status="ERROR"),
    ]
    decided = groups(plan(recent=recent))
    assert decided[(HR, "accounts")]["reason"] == "cooldown" and "done" in decided[(HR, "accounts")]["detail"]
    # another kind of the same source, and a launch before the window, do not count
    assert decided[(HR, "entitlements")]["decision"] == "relaunch"
    assert decided[(AD, "accounts")]["decision"] == "relaunch"
    assert groups(plan(recent=recent, cooldown="0s"))[(HR, "accounts")]["decision"] == "relaunch"


def test_the_stuck_tasks_themselves_are_no_evidence_of_a_recent_launch():
    result = plan(older_than="5m", cooldown="1d")
    assert result["stuck"] == 5 and groups(result)[(LDAP, "accounts")]["decision"] == "relaunch"


def test_a_full_page_that_does_not_reach_back_over_the_cooldown_skips_rather_than_guesses():
    recent = [task(f"r{n}", source=LDAP, launched="2024-05-17T11:40:00.000Z", status="SUCCESS") for n in range(3)]
    assert groups(plan(recent=recent, recent_limit=3))[(HR, "accounts")]["reason"] == "cooldown_unknown"
    assert groups(plan(recent=recent, recent_limit=4))[(HR, "accounts")]["decision"] == "relaunch"


@pytest.mark.parametrize("max_sources, ignore, refused", [(1, False, True), (2, False, False), (0, True, False)])
def test_the_cap_counts_sources(max_sources, ignore, refused):
    result = plan(max_sources=max_sources, ignore_max_sources=ignore)
    assert result["refused"] is refused
    assert (result["relaunch"] == []) is refused


def test_poll_delays_double_up_to_thirty_seconds_and_add_up_to_the_timeout():
    assert poll_delays(60) == [2, 4, 8, 16, 30]
    assert poll_delays(3) == [2, 1]
    assert max(poll_delays(3600)) == 30 and sum(poll_delays(3600)) == 3600


# ---- the report


def patched(*ids):
    return {"changed": True, "patch": {task_id: [{"op": "replace", "path": "/completionStatus", "value": "ERROR"}] for task_id in ids}, "failures": []}


def launch(source_id, kind, launched=True, task_id=None, **result):
    return dict({"item": {"source_id": source_id, "kind": kind}, "launched": launched, "task": {"id": task_id or f"new-{source_id[-1]}-{kind}"}}, **result)


def finished(task_id, status, **fields):
    return dict(task(task_id, launched="2024-05-17T11:58:00.000Z", status=status), **fields)


def test_a_run_that_recovers_every_source():
    the_plan = plan()
    report = recover_aggregations_report(
        the_plan,
        cleared=patched("a1", "a2", "a3", "b1"),
        launches=[launch(AD, "accounts"), launch(HR, "accounts"), launch(HR, "entitlements")],
        polled=[
            finished("new-2-accounts", "SUCCESS"),
            finished("new-1-accounts", "WARNING", returns=[{"displayLabel": "Accounts scanned", "attributeName": "total"}], attributes={"total": 42}),
            finished("new-1-entitlements", "SUCCESS"),
        ],
        tenant="acme",
        now=NOW,
    )
    assert set(report["stats"]) == STATS_KEYS
    assert [group["outcome"] for group in report["groups"]] == ["recovered"] * 3
    assert report["stats"]["cleared"] == 4 and report["stats"]["relaunched"] == 3 and report["stats"]["recovered"] == 3
    assert not report["failed"] and report["failures"] == [] and report["waiting"] == []
    assert groups(report)[(HR, "accounts")]["counts"] == {"total": 42}
    assert groups(report)[(HR, "accounts")]["relaunched"]["duration"] == "1m"


def test_a_relaunch_that_ends_in_error_fails_the_run_with_its_messages_and_leaves_the_others_alone():
    message = {"type": "ERROR", "localizedText": {"locale": "en-US", "message": "Connection refused by the VA"}, "key": None, "parameters": None}
    report = recover_aggregations_report(
        plan(),
        cleared=patched("a1", "a2", "a3", "b1"),
        launches=[launch(AD, "accounts"), launch(HR, "accounts"), launch(HR, "entitlements")],
        polled=[finished("new-2-accounts", "ERROR", messages=[message]), finished("new-1-accounts", "SUCCESS"), finished("new-1-entitlements", "SUCCESS")],
        now=NOW,
    )
    failed = groups(report)[(AD, "accounts")]
    assert failed["outcome"] == "not_recovered" and "Connection refused by the VA" in failed["detail"]
    assert failed["messages"] == ["ERROR: Connection refused by the VA"]
    assert report["failed"] and len(report["failures"]) == 1 and "Active Directory (accounts)" in report["failures"][0]
    assert report["stats"]["recovered"] == 2 and report["stats"]["not_recovered"] == 1


def test_skips_by_design_are_counted_and_do_not_fail():
    pending = PENDING + [task("running", source=AD, launched="2024-05-17T11:50:00.000Z")]
    the_plan = plan(pending, sources=[source(HR, healthy=False), source(AD)])
    report = recover_aggregations_report(the_plan, cleared=patched("a1", "a2", "a3", "b1"), now=NOW)
    assert report["stats"]["skipped_by_reason"] == {"unhealthy": 2, "source_not_found": 0, "running": 1, "cooldown": 0, "cooldown_unknown": 0}
    assert report["stats"]["skipped"] == 3 and report["launch"] == [] and not report["failed"]


def test_the_module_finding_a_running_aggregation_or_an_unhealthy_source_is_a_skip():
    the_plan = plan()
    report = recover_aggregations_report(
        the_plan,
        cleared=patched("a1", "a2", "a3", "b1"),
        launches=[
            launch(AD, "accounts", launched=False, task={"id": "other", "uniqueName": "Cloud Account Aggregation"}),
            # a refusal keeps the result so far beside its message, as failed_when: false leaves it
            launch(HR, "accounts", launched=False, failed=False, msg="source HR is not healthy", source={"healthy": False, "status": "SOURCE_STATE_ERROR_VA"}),
            launch(HR, "entitlements"),
        ],
        polled=[finished("new-1-entitlements", "SUCCESS")],
        now=NOW,
    )
    outcomes = {key: group["outcome"] for key, group in groups(report).items()}
    assert outcomes == {(AD, "accounts"): "skipped_running", (HR, "accounts"): "skipped_unhealthy", (HR, "entitlements"): "recovered"}
    assert not report["failed"] and report["stats"]["relaunched"] == 1


def test_a_task_that_could_not_be_cleared_is_not_relaunched_and_fails_the_run():
    cleared = patched("a1", "a3", "b1")
    cleared["failures"] = [{"id": "a2", "status": 409, "msg": "changed meanwhile"}]
    cleared["patch"]["a2"] = []
    report = recover_aggregations_report(plan(), cleared=cleared, now=NOW)
    assert [(entry["source_id"], entry["kind"]) for entry in report["launch"]] == [(AD, "accounts"), (HR, "accounts")]
    assert groups(report)[(HR, "entitlements")]["outcome"] == "not_launched"
    assert report["failed"] and any("could not be cleared" in failure for failure in report["failures"])


def test_a_launch_that_fails_and_a_wait_that_runs_out():
    report = recover_aggregations_report(
        plan(),
        cleared=patched("a1", "a2", "a3", "b1"),
        launches=[launch(AD, "accounts", launched=None, failed=True, msg="HTTP 403"), launch(HR, "accounts"), launch(HR, "entitlements")],
        polled=[finished("new-1-entitlements", "SUCCESS")],
        poll_errors=["HTTP 503 after 5 retries"],
        now=NOW,
    )
    outcomes = {key: (group["outcome"], group["detail"]) for key, group in groups(report).items()}
    assert outcomes[(AD, "accounts")] == ("launch_failed", "the launch failed: HTTP 403")
    assert outcomes[(HR, "accounts")][0] == "not_finished" and "HTTP 503 after 5 retries" in outcomes[(HR, "accounts")][1]
    assert report["stats"]["not_recovered"] == 2 and report["failed"]


def test_the_tasks_to_wait_for_are_polled_in_batches_of_one_request():
    the_plan = plan()
    report = recover_aggregations_report(the_plan, cleared=patched("a1", "a2", "a3", "b1"), launches=[launch(AD, "accounts"), launch(HR, "accounts")], now=NOW)
    assert report["waiting"] == ["new-2-accounts", "new-1-accounts"]
    assert report["poll_filters"] == ['id in ("new-2-accounts", "new-1-accounts")']


def test_a_dry_run_predicts_without_relaunching():
    report = recover_aggregations_report(
        plan(sources=[source(HR), source(AD, healthy=False)]), cleared=patched("a1", "a2", "a3", "b1"), check_mode=True, now=NOW
    )
    stats = report["stats"]
    assert (stats["would_clear"], stats["cleared"], stats["would_relaunch"], stats["relaunched"], stats["skipped"]) == (4, 0, 2, 0, 1)
    assert report["launch"] == [] and not report["failed"] and report["mode"] == "dry run"


def test_a_refused_run_touches_nothing_and_fails():
    report = recover_aggregations_report(plan(max_sources=1), now=NOW)
    assert {group["outcome"] for group in report["groups"]} == {"refused"} and report["failed"] and report["launch"] == []


def test_the_report_refuses_what_is_no_plan():
    with pytest.raises(AnsibleFilterError, match="recover_aggregations_plan"):
        recover_aggregations_report({"to_clear": []})


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"recover_aggregations_plan", "recover_aggregations_report"}


def test_a_module_that_crashed_is_a_failure_even_without_a_message():
    # ansible-core keeps no message of a module that crashed under failed_when: false
    crashed = {"failed": False, "failed_when_result": False, "changed": False}
    report = recover_aggregations_report(
        plan(), cleared=patched("a1", "a2", "a3", "b1"), launches=[dict(crashed, item={"source_id": AD, "kind": "accounts"})], now=NOW
    )
    assert groups(report)[(AD, "accounts")]["outcome"] == "launch_failed"
    report = recover_aggregations_report(plan(), cleared=crashed, now=NOW)
    assert report["clearing"]["error"] == "task_status ended without a result"
    assert report["launch"] == [] and report["failed"]


def test_a_stuck_task_whose_id_cannot_be_patched_is_set_aside_and_its_source_not_relaunched():
    pending = PENDING + [task("../x", source=AD, name="Cloud Group Aggregation")]
    the_plan = plan(pending)
    assert "../x" not in [t["id"] for t in the_plan["to_clear"]] and [t["id"] for t in the_plan["unusable"]] == ["../x"]
    report = recover_aggregations_report(the_plan, cleared=patched("a1", "a2", "a3", "b1"), now=NOW)
    assert groups(report)[(AD, "entitlements")]["outcome"] == "not_launched"
    assert (AD, "entitlements") not in [(entry["source_id"], entry["kind"]) for entry in report["launch"]]
    assert report["failed"]
