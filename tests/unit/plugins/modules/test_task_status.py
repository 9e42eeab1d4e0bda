# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import copy
import dataclasses
from urllib.parse import quote

import jsonpatch
import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils import _connection as connection
from ansible_collections.sailpoint.isc.plugins.module_utils import _task_patch as task_patch
from ansible_collections.sailpoint.isc.plugins.module_utils._client import API_VERSIONS
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import AuthenticationError, ConflictError, ForbiddenError
from ansible_collections.sailpoint.isc.plugins.module_utils._redact import Redactor
from ansible_collections.sailpoint.isc.plugins.modules import task_status
from ansible_collections.sailpoint.isc.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, patch_exits, patch_module_args

CONNECTION = {"base_url": "http://127.0.0.1:1/acme", "client_id": "cid", "client_secret": "s3cr3t-value"}
# an access token the client fetched at run time: Ansible's no_log has never seen it
TOKEN = "tok/en+runtime"


class FakeClient:
    # a version without batched reads, so that each task is read by id
    version = dataclasses.replace(API_VERSIONS["beta"], has_pending_endpoint=False)

    def __init__(self, tasks):
        self.tasks = {task["id"]: copy.deepcopy(task) for task in tasks}
        self.patch_errors = {}
        self.sent = []
        self.reads = []
        self.redactor = Redactor([CONNECTION["client_secret"], TOKEN])

    def get_task(self, task_id):
        self.reads.append(task_id)
        return copy.deepcopy(self.tasks[task_id])

    def claims(self):
        return {}

    @property
    def requests_sent(self):
        return len(self.reads) + len(self.sent)

    def close(self):
        self.closed = True

    def patch_task(self, task_id, operations):
        self.sent.append((task_id, operations))
        if task_id in self.patch_errors:
            raise self.patch_errors[task_id]
        try:
            self.tasks[task_id] = jsonpatch.apply_patch(self.tasks[task_id], operations)
        except jsonpatch.JsonPatchTestFailed:
            raise ConflictError("409", status=409) from None
        return copy.deepcopy(self.tasks[task_id])


def pending(task_id="a1"):
    return {
        "id": task_id,
        "created": "2024-05-17T18:00:00.000Z",
        "modified": "2024-05-17T18:05:00.000Z",
        "completed": None,
        "completionStatus": None,
        "progress": "Started",
        "percentComplete": 40,
    }


@pytest.fixture(autouse=True)
def patch_exit(monkeypatch):
    patch_exits(monkeypatch)


@pytest.fixture
def client(monkeypatch):
    fake = FakeClient([pending("a1"), pending("a2")])
    calls = []

    def factory(params, warn=None):
        calls.append(params)
        return fake

    monkeypatch.setattr(connection, "client_from_params", factory)
    fake.factory_calls = calls
    return fake


def run_module(args, expect=ExitJson):
    with patch_module_args({**CONNECTION, **args}):
        with pytest.raises(expect) as exc:
            task_status.main()
    return exc.value.args[0]


def test_check_mode_predicts_and_sends_nothing(client):
    result = run_module({"id": "a1", "completion_status": "error", "completed": "now", "_ansible_check_mode": True, "_ansible_diff": True})
    assert result["changed"] is True and client.sent == []
    assert result["task"]["completionStatus"] == "ERROR"
    assert result["diff"]["after"]["completionStatus"] == "ERROR"
    assert [operation["op"] for operation in result["patch"]["a1"]] == ["test", "test", "replace", "replace"]


def test_real_run_then_rerun(client):
    first = run_module({"id": "a1", "completion_status": "ERROR", "completed": "now"})
    second = run_module({"id": "a1", "completion_status": "ERROR", "completed": "now"})
    assert first["changed"] is True and second["changed"] is False and len(client.sent) == 1
    assert second["left_alone"][0]["id"] == "a1" and "diff" not in second


def test_the_requests_sent_are_returned(client):
    first = run_module({"ids": ["a1", "a2"], "completion_status": "ERROR"})
    assert first["api_requests"] == 4 == len(client.reads) + len(client.sent)
    assert run_module({"id": "a1", "completion_status": "FINISHED"}, expect=FailJson)["api_requests"] == 0


def test_bulk_failure_fails_with_the_ids_and_keeps_the_result(client):
    client.tasks["a2"]["percentComplete"] = 41
    client.patch_errors["a2"] = ConflictError("PATCH /beta/task-status/a2 failed with HTTP 409", status=409)
    result = run_module({"ids": ["a1", "a2"], "completion_status": "ERROR", "_ansible_diff": True}, expect=FailJson)
    assert result["failed_ids"] == ["a2"] and result["failures"][0]["status"] == 409
    assert result["changed"] is True and result["tasks"][0]["completionStatus"] == "ERROR"
    assert result["msg"].startswith("1 of 2 tasks failed (a2); the other tasks were handled (1 changed)")
    assert list(result["diff"]["after"]) == ["a1"]


def test_forbidden_patch_fails_naming_the_task(client):
    for task_id in ("a1", "a2"):
        client.patch_errors[task_id] = ForbiddenError(f"PATCH /beta/task-status/{task_id} failed with HTTP 403", status=403)
    result = run_module({"ids": ["a1", "a2"], "completion_status": "ERROR"}, expect=FailJson)
    assert result["failed_ids"] == ["a1", "a2"] and result["changed"] is False
    assert result["msg"].startswith("2 of 2 tasks failed (a1, a2)")
    assert "s3cr3t-value" not in repr(result)


def test_bad_input_fails_before_any_client_is_made(client):
    result = run_module({"id": "a1", "completion_status": "FINISHED"}, expect=FailJson)
    assert "completion_status" in result["msg"] and client.factory_calls == []


@pytest.mark.parametrize("targets", [{"id": "a1", "ids": ["a2"]}, {"ids": ["a2"], "tasks": [pending("a2")]}, {"id": "a1", "tasks": [pending("a1")]}])
def test_id_ids_and_tasks_are_mutually_exclusive(client, targets):
    result = run_module({**targets, "completion_status": "ERROR"}, expect=FailJson)
    assert "mutually exclusive" in result["msg"] and client.factory_calls == []


def test_one_of_id_ids_or_tasks_is_required(client):
    result = run_module({"completion_status": "ERROR"}, expect=FailJson)
    assert "one of the following is required: id, ids, tasks" in result["msg"] and client.factory_calls == []


def test_listed_tasks_are_patched_without_a_read(client):
    result = run_module({"tasks": [pending("a1"), pending("a2")], "completion_status": "ERROR"})
    assert result["changed"] is True and [task_id for task_id, _operations in client.sent] == ["a1", "a2"]
    assert client.reads == []


def test_client_errors_map_to_one_fail_json(monkeypatch):
    def factory(params, warn=None):
        raise AuthenticationError("ISC refused client_id 'cid'", status=401)

    monkeypatch.setattr(connection, "client_from_params", factory)
    result = run_module({"id": "a1", "completion_status": "ERROR"}, expect=FailJson)
    assert result["msg"] == "ISC refused client_id 'cid'" and result["status"] == 401


def test_missing_jsonpatch_is_reported(monkeypatch, client):
    monkeypatch.setattr(task_patch, "HAS_JSONPATCH", False)
    result = run_module({"id": "a1", "completion_status": "ERROR"}, expect=FailJson)
    assert "jsonpatch" in result["msg"] and client.factory_calls == []


def test_a_secret_echoed_by_isc_is_masked_in_the_result(client):
    client.tasks["a1"]["progress"] = f"Started with {TOKEN} ({quote(TOKEN, safe='')})"
    client.patch_errors["a2"] = ForbiddenError(f"PATCH refused for token {TOKEN}", status=403)
    result = run_module({"ids": ["a1", "a2"], "progress": "Cleared", "_ansible_diff": True}, expect=FailJson)
    assert result["failed_ids"] == ["a2"] and result["tasks"][0]["progress"] == "Cleared"
    assert result["diff"]["before"]["a1"]["progress"] == "Started with ******** (********)"
    assert TOKEN not in repr(result) and quote(TOKEN, safe="") not in repr(result)


@pytest.mark.parametrize("option", ["concurrency", "percent_complete", "retries"])
@pytest.mark.parametrize("value", [float("inf"), "-inf", "Infinity"])
def test_infinity_for_an_integer_option_is_refused_naming_it(client, option, value):
    # ansible-core 2.19's own int conversion raises OverflowError here (2.16 refuses it itself, naming the option);
    # either way the module fails cleanly, naming the option, before any client is made
    result = run_module({"id": "a1", "completion_status": "ERROR", option: value}, expect=FailJson)
    assert option in result["msg"] and "Traceback" not in repr(result) and client.factory_calls == []


def test_an_id_given_as_null_is_refused(client):
    result = run_module({"id": None, "completion_status": "ERROR"}, expect=FailJson)
    assert "one of id, ids or tasks is required" in result["msg"] and client.factory_calls == []


def test_a_password_in_base_url_appears_nowhere_in_the_result(client):
    result = run_module({"base_url": "https://admin:Pa55w0rd-x@acme.example", "id": "a1", "completion_status": "ERROR"})
    assert "Pa55w0rd-x" not in repr(result)
