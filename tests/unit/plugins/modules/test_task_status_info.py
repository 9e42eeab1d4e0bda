# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""task_status_info end to end against the loopback fake tenant: argspec, one service call, one exit."""

from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest
import yaml

from ansible_collections.sailpoint.isc.plugins.modules import task_status_info
from ansible_collections.sailpoint.isc.tests.unit.plugins.fake_isc import make_task
from ansible_collections.sailpoint.isc.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, patch_exits, patch_module_args


@pytest.fixture(autouse=True)
def patch_exit(monkeypatch):
    warnings = patch_exits(monkeypatch)
    for name in ("SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET", "SAIL_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return warnings


def _run(args, expect=ExitJson):
    with patch_module_args(args):
        with pytest.raises(expect) as result:
            task_status_info.main()
    return result.value.args[0]


def _connection(fake_isc, fake_secret):
    return {"base_url": fake_isc.url, "client_id": "cid", "client_secret": fake_secret, "retries": 2}


def test_lists_every_task_in_check_mode_and_changes_nothing(fake_isc, fake_secret):
    fake_isc.tasks = [make_task(n) for n in range(300)]
    fake_isc.pending = [make_task(1000, pending=True)]
    result = _run(dict(_connection(fake_isc, fake_secret), count=True, _ansible_check_mode=True))
    assert result["changed"] is False
    assert len(result["tasks"]) == 301 and result["total"] == 301
    assert {entry["method"] for entry in fake_isc.api_requests()} <= {"GET", "HEAD"}


def test_every_request_sent_is_counted_retries_and_tokens_included(fake_isc, fake_secret):
    fake_isc.tasks = [make_task(n) for n in range(300)]
    # the token request, a page answered 503 then repeated, the second page
    fake_isc.script((200, {}, {"access_token": "token-xyz-123", "expires_in": 750}), (503, {"Retry-After": "0"}, None))
    fake_isc.valid_tokens.add("token-xyz-123")
    result = _run(dict(_connection(fake_isc, fake_secret), scope="completed"))
    assert len(result["tasks"]) == 300
    assert result["api_requests"] == len(fake_isc.requests) == 4


def test_a_failed_run_returns_the_requests_it_sent(fake_isc, fake_secret):
    fake_isc.script(*[(500, {"Retry-After": "0"}, None)] * 3)
    result = _run(dict(_connection(fake_isc, fake_secret), scope="completed"), expect=FailJson)
    assert result["api_requests"] == len(fake_isc.requests) == 3
    assert _run(dict(_connection(fake_isc, fake_secret), scope="unknown"), expect=FailJson).get("api_requests", 0) == 0


def test_environment_supplies_the_connection(fake_isc, fake_secret, monkeypatch):
    monkeypatch.setenv("SAIL_BASE_URL", fake_isc.url)
    monkeypatch.setenv("SAIL_CLIENT_ID", "cid")
    monkeypatch.setenv("SAIL_CLIENT_SECRET", fake_secret)
    fake_isc.tasks = [make_task(1)]
    assert len(_run({"scope": "completed"})["tasks"]) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        ({"scope": "unknown"}, "value of scope must be one of"),
        ({"older_than": "soon"}, "older_than must be a duration"),
        ({"wait": True}, "wait needs id"),
        ({"id": "x/../y"}, "id 'x/../y' is not a task id"),
        ({"id": "abc?x=1"}, "is not a task id"),
        ({"id": "abc%2F"}, "is not a task id"),
        ({"tenant": "acme/x", "base_url": None}, "tenant 'acme/x' is not a tenant name"),
        ({"scope": "pending", "sorters": "-launched"}, "sorters may only sort by created or -created"),
        ({"scope": "pending", "completion_status": ["ERROR"]}, "completion_status selects completed tasks"),
        ({"client_id": None, "client_secret": None, "access_token": "tök"}, "access_token (or SAIL_ACCESS_TOKEN) is not an access token"),
    ],
)
def test_bad_input_fails_before_any_request(fake_isc, fake_secret, args, message):
    result = _run(dict(_connection(fake_isc, fake_secret), **args), expect=FailJson)
    assert message in result["msg"]
    assert fake_isc.requests == []


def test_missing_task_is_an_empty_list(fake_isc, fake_secret):
    assert _run(dict(_connection(fake_isc, fake_secret), id="0123"))["tasks"] == []


def test_failures_and_warnings_never_carry_the_secret(fake_isc, fake_secret, patch_exit):
    fake_isc.script((503, {"Retry-After": "0"}, {"echo": fake_secret}))
    wrong = fake_secret + "x"
    result = _run(dict(_connection(fake_isc, fake_secret), client_secret=wrong), expect=FailJson)
    text = json.dumps(result) + json.dumps(patch_exit)
    assert "cid" in result["msg"] and result["status"] == 401
    assert patch_exit, "the 503 retry left no warning"
    for secret in (fake_secret, wrong):
        for form in (secret, quote_plus(secret), json.dumps(secret)[1:-1]):
            assert form not in text


def test_typed_error_becomes_one_failure(fake_isc, fake_secret):
    fake_isc.script(
        (200, {}, {"access_token": "token-xyz-123", "expires_in": 750}),
        (400, {}, {"detailCode": "400.1 Bad Request Content", "messages": [{"text": "Unsupported filter field 'foo'"}]}),
    )
    fake_isc.valid_tokens.add("token-xyz-123")
    result = _run(dict(_connection(fake_isc, fake_secret), scope="completed", filters="foo eq 1"), expect=FailJson)
    assert result["msg"] == "GET /beta/task-status failed with HTTP 400: Unsupported filter field 'foo'"
    assert result["status"] == 400
    assert result["detail"]["path"] == "/beta/task-status" and result["detail"]["body"]["detailCode"] == "400.1 Bad Request Content"


def test_the_failure_keys_are_documented():
    returned = yaml.safe_load(task_status_info.RETURN)
    assert {key: returned[key]["returned"] for key in ("status", "detail")} == {"status": "failure", "detail": "failure"}


def test_wait_outlasts_a_server_error(fake_isc, fake_secret, patch_exit):
    fake_isc.tasks = [make_task(1)]
    # retries=2: the first poll meets three 500s, the second reads the task
    fake_isc.script((200, {}, {"access_token": "token-xyz-123", "expires_in": 750}), *[(500, {"Retry-After": "0"}, None)] * 3)
    fake_isc.valid_tokens.add("token-xyz-123")
    args = dict(_connection(fake_isc, fake_secret), id=make_task(1)["id"], wait=True, wait_sleep=0.5, wait_timeout=30)
    assert _run(args)["tasks"] == [make_task(1)]
    assert any("polling again until wait_timeout" in warning for warning in patch_exit)
