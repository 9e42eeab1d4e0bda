"""--validate-requests: requests are checked against SailPoint's specification of their version before anything else."""

import concurrent.futures
import os
import subprocess
import sys

import pytest
import requests
from emulator_helpers import running_emulator
from test_cli import PACKAGE_ROOT, start, stop, token

from isc_emulator import requestcheck

VERSIONS = ("beta", "v2024", "v2025", "v2026", "v1")
PENDING_VERSIONS = ("beta", "v2024", "v2025")
PREFIX = "request does not match SailPoint's specification: "


@pytest.fixture(name="strict")
def strict_emulator():
    with running_emulator(validate_requests=True) as running:
        yield running


@pytest.fixture(name="strict_admin")
def strict_admin_client(strict):
    return strict.api("admin")


def pending_task(client):
    return client.all("v2025", filters="completionStatus isnull")[0]


def last_entry(emu):
    return emu.control("GET", "requests")[-1]


def assert_refused(emu, reply, violation):
    """400 with an ErrorResponseDto naming the violation, and the same short text in the request log."""
    assert reply.status_code == 400, reply.text
    text = reply.json()["messages"][0]["text"]
    assert text.startswith(PREFIX) and violation in text, text
    assert last_entry(emu)["spec_violation"] == text[len(PREFIX) :]


@pytest.mark.parametrize("version", VERSIONS)
def test_valid_requests_of_each_version_pass(strict, strict_admin, version):
    listed = strict_admin.get(version, limit=5, offset=1, count="true", sorters="-created", filters='type eq "CLOUD_ACCOUNT_AGGREGATION"')
    assert listed.status_code == 200, listed.text
    task_id = pending_task(strict_admin)["id"]
    assert strict_admin.get(version, "/" + task_id).status_code == 200
    patched = strict_admin.patch(
        version,
        task_id,
        [
            {"op": "test", "path": "/percentComplete", "value": strict_admin.get(version, "/" + task_id).json()["percentComplete"]},
            # Mixed case is a string, so the contract's leniency survives validation.
            {"op": "replace", "path": "/completionStatus", "value": "Success"},
        ],
    )
    assert patched.status_code == 200, patched.text
    assert all(entry["spec_violation"] is None for entry in strict.control("GET", "requests"))


@pytest.mark.parametrize("version", PENDING_VERSIONS)
def test_pending_tasks_get_and_head_pass(strict_admin, version):
    assert strict_admin.get(version, "/pending-tasks", limit=10, offset=0, count="true").status_code == 200
    head = strict_admin.head(version, "/pending-tasks", count="true")
    assert head.status_code == 200 and int(head.headers["X-Total-Count"]) > 0


def test_null_value_is_a_violation_and_changes_nothing(strict, strict_admin):
    task = pending_task(strict_admin)
    reply = strict_admin.patch(
        "v2025",
        task["id"],
        [
            {"op": "replace", "path": "/progress", "value": "changed"},
            {"op": "test", "path": "/completionStatus", "value": None},
        ],
    )
    assert_refused(strict, reply, "body[1].value: None is not valid under any of the given schemas")
    assert strict_admin.get("v2025", "/" + task["id"]).json() == task


def test_limit_over_250_is_a_violation(strict, strict_admin):
    assert_refused(strict, strict_admin.get("beta", limit=500), "query.limit: 500 is greater than the maximum of 250")


@pytest.mark.parametrize(
    "operation, violation",
    [
        ({"op": "frobnicate", "path": "/progress", "value": "x"}, "body[0].op: 'frobnicate' is not one of"),
        ({"operation": "replace", "path": "/progress", "value": "x"}, "body[0]: 'op' is a required property"),
        ({"op": "replace", "path": "/percentComplete", "value": 12.5}, "body[0].value: 12.5 is not valid under any of the given schemas"),
    ],
)
def test_unknown_operation_shapes_are_violations(strict, strict_admin, operation, violation):
    assert_refused(strict, strict_admin.patch("v2026", pending_task(strict_admin)["id"], [operation]), violation)


def test_body_that_is_not_an_array_is_a_violation(strict, strict_admin):
    reply = strict_admin.patch("v1", pending_task(strict_admin)["id"], {"op": "replace", "path": "/progress", "value": "x"})
    assert_refused(strict, reply, "is not of type 'array'")


def test_plain_json_patch_is_a_violation_only_when_validating(strict, strict_admin):
    """The contract accepts application/json from scripts; the specification lists json-patch+json only, and wins here."""
    operations = [{"op": "replace", "path": "/progress", "value": "x"}]
    reply = strict_admin.patch("v2025", pending_task(strict_admin)["id"], operations, content_type="application/json")
    assert_refused(strict, reply, "application/json")
    with running_emulator() as lenient:
        admin = lenient.api("admin")
        assert admin.patch("v2025", pending_task(admin)["id"], operations, content_type="application/json").status_code == 200


def test_null_value_is_accepted_without_the_flag(emu, admin):
    task = pending_task(admin)
    reply = admin.patch("v2025", task["id"], [{"op": "test", "path": "/completionStatus", "value": None}])
    assert reply.status_code == 200, reply.text
    assert last_entry(emu)["spec_violation"] is None


def test_auth_paths_and_methods_stay_the_emulators(strict, strict_admin):
    """openapi-core checks no token and no route: 401, 404 and 405 come from the emulator, as without the flag."""
    assert requests.get(strict_admin.url("v2025"), timeout=5).status_code == 401
    assert strict_admin.get("v2026", "/pending-tasks").status_code == 404
    assert strict_admin.head("v2025").status_code == 405
    assert all(entry["spec_violation"] is None for entry in strict.control("GET", "requests"))


def test_each_specification_is_built_once_across_threads(monkeypatch):
    built = []
    original = requestcheck._build  # pylint: disable=protected-access
    monkeypatch.setattr(requestcheck, "_build", lambda name: built.append(name) or original(name))
    with running_emulator(validate_requests=True) as running:
        admin = running.api("admin")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda version: admin.get(version, limit=1), VERSIONS * 4))
    assert [reply.status_code for reply in replies] == [200] * len(replies)
    assert sorted(built) == ["beta", "v1", "v2024", "v2025", "v2026"]


@pytest.mark.parametrize("validate", (False, True))
def test_openapi_core_is_imported_only_when_validating(validate):
    code = "import sys; from isc_emulator.app import Emulator, Options; Emulator(Options(tasks=1, validate_requests=%s)); print('openapi_core' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code % validate], env=dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT)), capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == str(validate)


def test_command_line_flag():
    process, info = start("--port", "0", "--tasks", "5", "--validate-requests")
    try:
        reply = requests.get(info["base_url"] + "/beta/task-status", params={"limit": "-1"}, timeout=10, headers={"Authorization": "Bearer " + token(info)})
        assert reply.status_code == 400 and "query.limit: -1 is less than the minimum of 0" in reply.json()["messages"][0]["text"]
        log = requests.get(info["control_url"] + "/requests", timeout=5).json()
        assert log[-1]["spec_violation"] == "query.limit: -1 is less than the minimum of 0"
    finally:
        assert stop(process) == 0


@pytest.mark.parametrize("version", VERSIONS)
def test_valid_source_requests_of_each_version_pass(strict, strict_admin, version):
    listed = strict_admin.source_get(version, "sources", limit=5, offset=1, count="true", filters='name sw "a"', sorters="name")
    assert listed.status_code == 200, listed.text
    source_id = strict_admin.source_get(version, "sources").json()[-1]["id"]
    assert strict_admin.source_get(version, "sources/" + source_id).status_code == 200
    assert strict_admin.session.post(strict_admin.source_url(version, "sources/%s/connector/check-connection" % source_id)).status_code == 200
    fields = {"disableOptimization": "true", "file": ("accounts.csv", b"id,name\r\n1,a\r\n")}
    launched = strict_admin.source_post(version, "sources/%s/load-accounts" % source_id, fields)
    assert launched.status_code == 202, launched.text
    assert strict_admin.source_post(version, "sources/%s/load-entitlements" % source_id).status_code == 202
    assert strict_admin.source_get(version, "account-aggregations/%s/status" % launched.json()["task"]["id"]).status_code == 200
    if version != "beta":
        assert strict_admin.source_get(version, "sources/%s/source-health" % source_id).status_code == 200
    if version in ("v2025", "v2026", "v1"):
        assert strict_admin.source_get(version, "api-usage/count", filters='method eq "GET"').status_code == 200
    assert all(entry["spec_violation"] is None for entry in strict.control("GET", "requests"))


def test_source_requests_that_break_the_specification(strict, strict_admin):
    assert_refused(strict, strict_admin.source_get("v2025", "sources", limit=500), "query.limit: 500 is greater than the maximum of 250")
    assert_refused(strict, strict_admin.source_get("v1", "sources", count="perhaps"), "query.count")
    source_id = strict_admin.source_get("v2025", "sources").json()[0]["id"]
    reply = strict_admin.source_post("v2026", "sources/%s/load-accounts" % source_id, content_type="application/json", body=b"{}")
    assert_refused(strict, reply, "application/json")
    # openapi-core lets a missing required header through; the emulator's own check refuses it.
    usage = strict_admin.session.get(strict_admin.source_url("v2025", "api-usage/count"))
    assert usage.status_code == 400 and "X-SailPoint-Experimental: true" in usage.json()["messages"][0]["text"]
    assert strict.control("GET", "aggregations")["launched"] == []
