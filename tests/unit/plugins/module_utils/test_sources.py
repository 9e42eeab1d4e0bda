# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""source_info's service and the aggregation table: reads by id, name or all, health, pending aggregations in one
listing, connection checks, bad options and bad answers."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils import _sources as sources
from ansible_collections.sailpoint.isc.plugins.module_utils._aggregations import AGGREGATION_KINDS, aggregation_kind, aggregation_kinds
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import ForbiddenError, OptionError, ServerAnswerError, ServerError
from ansible_collections.sailpoint.isc.plugins.module_utils._task_reader import ID_BATCH
from ansible_collections.sailpoint.isc.tests.unit.plugins.fake_sources import FakeSourcesClient, make_aggregation, make_source

NOW = datetime(2026, 7, 11, 12, 0, 0, tzinfo=timezone.utc)


def plan(**overrides):
    base = {
        "ids": None,
        "names": None,
        "max_results": None,
        "health": False,
        "pending_aggregations": False,
        "check_connection": False,
        "check_connection_in_check_mode": False,
    }
    base.update(overrides)
    return sources.plan_info(base)


def tenant(version="v2025", **kwargs):
    found = [make_source("s1"), make_source("s2", "Workday"), make_source("s3", "Okta", healthy=False)]
    tasks = [
        make_aggregation("a1", "s1"),
        make_aggregation("e1", "s1", "Cloud Group Aggregation", launched=None, created="2026-07-11T11:00:00.000Z"),
        make_aggregation("done", "s1", pending=False),
        make_aggregation("refresh", "s2", "Identity Refresh", launched="nonsense", created="nonsense"),
        make_aggregation("elsewhere", "s9"),
    ]
    return FakeSourcesClient(found, tasks, version=version, **kwargs)


def info(client, check_mode=False, **overrides):
    return sources.source_info(client, plan(**overrides), check_mode, now=NOW)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"ids": ["a/b"]}, r"ids\[0\] 'a/b' is not a task id"),
        ({"ids": ["ok", ""]}, r"ids\[1\] must not be empty"),
        ({"names": ["  "]}, r"names\[0\] must not be empty"),
        ({"max_results": -1}, "max_results must be from 0"),
    ],
)
def test_bad_options_are_refused_naming_them(overrides, message):
    with pytest.raises(OptionError, match=message):
        plan(**overrides)


def test_every_source_with_the_returned_fields_only():
    client = tenant()
    result = info(client)
    assert result["changed"] is False and [source["id"] for source in result["sources"]] == ["s1", "s2", "s3"]
    assert list(result["sources"][0]) == list(sources.SOURCE_FIELDS)
    assert "never returned" not in repr(result)
    assert client.log == [("LIST", "/v2025/sources", None)]


def test_ids_and_names_are_read_in_one_filtered_request():
    client = tenant()
    assert [source["id"] for source in info(client, ids=["s3", "s1", "s3"])["sources"]] == ["s1", "s3"]
    assert [source["name"] for source in info(client, names=["workday"])["sources"]] == ["Workday"]
    assert [entry[2] for entry in client.log] == ['id in ("s3", "s1")', 'name eq "workday"']


def test_many_ids_are_batched_under_the_url_budget():
    client = FakeSourcesClient([make_source(f"{number:032x}") for number in range(300)])
    result = info(client, ids=[f"{number:032x}" for number in range(300)], max_results=280)
    assert len(result["sources"]) == 280
    assert len(client.log) == 3 and all(entry[2].count('"') <= 2 * ID_BATCH for entry in client.log)


def test_health_is_one_read_per_source_and_unavailable_on_beta():
    client = tenant()
    result = info(client, health=True)
    assert [source["health"]["status"] for source in result["sources"]] == ["SOURCE_STATE_HEALTHY", "SOURCE_STATE_HEALTHY", "SOURCE_STATE_ERROR_VA"]
    assert [entry[1] for entry in client.calls("GET")] == [f"/v2025/sources/s{number}/source-health" for number in (1, 2, 3)]
    beta = tenant("beta")
    assert all(source["health"] is None for source in info(beta, health=True)["sources"])
    assert beta.calls("GET") == [] and any("beta has no source-health operation" in warning for warning in beta.warnings)


@pytest.mark.parametrize("version, read", [("v2025", "task-status list"), ("v1", "task-status list"), ("beta", "task-status pending")])
def test_pending_aggregations_of_every_source_in_one_listing(version, read):
    client = tenant(version)
    result = info(client, pending_aggregations=True)
    pending = {source["id"]: source["pending_aggregations"] for source in result["sources"]}
    assert {source_id: [(task["id"], task["kind"], task["age"]) for task in tasks] for source_id, tasks in pending.items()} == {
        "s1": [("a1", "accounts", 7200), ("e1", "entitlements", 3600)],
        "s2": [("refresh", None, None)],
        "s3": [],
    }
    listings = client.calls("LIST")[1:]
    assert [entry[1] for entry in listings] == [read]
    if version != "beta":
        assert listings[0][2] == '(completionStatus isnull) and (sourceId in ("s1", "s2", "s3"))'


def test_sources_beyond_one_filter_are_matched_from_every_pending_task():
    many = [make_source(f"{number:032x}") for number in range(200)]
    client = FakeSourcesClient(many, [make_aggregation("a1", many[7]["id"])])
    result = info(client, pending_aggregations=True)
    assert [task["id"] for task in result["sources"][7]["pending_aggregations"]] == ["a1"]
    assert client.calls("LIST")[1][2] == "completionStatus isnull"


def test_check_connection_is_skipped_in_check_mode_unless_asked():
    client = tenant()
    assert all(source["connection"] is None for source in info(client, check_mode=True, check_connection=True)["sources"])
    assert client.calls("POST") == []
    checked = info(client, check_mode=True, check_connection=True, check_connection_in_check_mode=True)
    assert [source["connection"]["status"] for source in checked["sources"]] == ["SUCCESS"] * 3
    assert [entry[1] for entry in client.calls("POST")] == [f"/v2025/sources/s{number}/connector/check-connection" for number in (1, 2, 3)]


def test_a_source_isc_refuses_to_test_is_reported_and_the_others_still_tested(monkeypatch):
    client = tenant()
    original = client.post

    def refuse_the_first(path, what="an object"):
        if "/s1/" in path:
            raise ForbiddenError("POST failed with HTTP 403", status=403)
        return original(path, what)

    monkeypatch.setattr(client, "post", refuse_the_first)
    result = info(client, check_connection=True)
    assert result["sources"][0]["connection"] == {"status": "FAILURE", "error": "POST failed with HTTP 403", "http_status": 403}
    assert result["sources"][1]["connection"]["status"] == "SUCCESS"

    def fail_the_run(path, what="an object"):
        raise ServerError(f"POST {path} failed with HTTP 500", status=500)

    monkeypatch.setattr(client, "post", fail_the_run)
    with pytest.raises(ServerError):
        info(client, check_connection=True)


@pytest.mark.parametrize(
    "source, text",
    [
        ({"name": "no id"}, "a source without an id"),
        ({"id": "s1"}, "source s1 without a name"),
        ({"id": "s1", "name": "x", "healthy": "true"}, "healthy is 'true', not a boolean"),
    ],
)
def test_a_source_that_breaks_the_contract_blames_the_server(source, text):
    client = FakeSourcesClient([make_source()])
    client.sources = {"s1": source}
    with pytest.raises(ServerAnswerError, match=text):
        info(client)


def test_a_health_record_that_is_no_object_blames_the_server():
    client = tenant()
    client.spoiled["source-health"] = ["not", "an", "object"]
    with pytest.raises(ServerAnswerError):
        sources.checked_source(client.get_object("/v2025/sources/s1/source-health"), "GET")


def test_results_never_carry_a_secret():
    client = FakeSourcesClient([make_source(description="s3cr3t")], secrets=["s3cr3t"])
    assert "s3cr3t" not in repr(info(client))


def test_the_aggregation_table_and_its_extension():
    assert AGGREGATION_KINDS == {
        "Cloud Account Aggregation": "accounts",
        "Cloud Group Aggregation": "entitlements",
        "Cloud Entitlement Import": "entitlements",
    }
    assert aggregation_kind({"uniqueName": "cloud account aggregation"}) == "accounts"
    assert aggregation_kind({"uniqueName": "Custom", "taskDefinitionSummary": {"uniqueName": "Cloud Entitlement Import"}}) == "entitlements"
    assert aggregation_kind({"uniqueName": "Identity Refresh"}) is None and aggregation_kind(None) is None
    table = aggregation_kinds({"Delta Account Aggregation": "accounts"})
    assert aggregation_kind({"uniqueName": "Delta Account Aggregation"}, table) == "accounts"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["Cloud Account Aggregation"], "recover_kinds must map task uniqueNames to accounts or entitlements"),
        ({"": "accounts"}, "every key must be a task uniqueName"),
        ({"Delta": "groups"}, r"recover_kinds\['Delta'\] must be accounts or entitlements, got 'groups'"),
    ],
)
def test_a_bad_extension_of_the_table_is_refused_naming_its_variable(extra, message):
    with pytest.raises(OptionError, match=message):
        aggregation_kinds(extra, "recover_kinds")
