# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""api_usage_info against the loopback fake tenant: options checked before any request, one GET, its answer checked."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.sailpoint.isc.plugins.modules import api_usage_info
from ansible_collections.sailpoint.isc.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, patch_exits, patch_module_args

TOKEN = {"access_token": "token-usage-1", "expires_in": 750}


@pytest.fixture(autouse=True)
def patch_exit(monkeypatch):
    for name in ("SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET", "SAIL_ACCESS_TOKEN", "SAIL_API_VERSION"):
        monkeypatch.delenv(name, raising=False)
    return patch_exits(monkeypatch)


def _run(fake_isc, fake_secret, expect=ExitJson, **args):
    connection = {"base_url": fake_isc.url, "client_id": "cid", "client_secret": fake_secret, "retries": 1, "api_version": "v2025"}
    with patch_module_args(dict(connection, **args)):
        with pytest.raises(expect) as result:
            api_usage_info.main()
    return result.value.args[0]


def test_this_months_calls_in_one_request(fake_isc, fake_secret):
    fake_isc.script((200, {}, TOKEN), (200, {}, {"NumberOfCalls": 123456}))
    result = _run(fake_isc, fake_secret, _ansible_check_mode=True)
    assert result["usage"] == {"NumberOfCalls": 123456} and result["changed"] is False
    assert result["api_requests"] == len(fake_isc.requests) == 2
    request = fake_isc.requests[1]
    assert (request["method"], request["path"], request["query"]) == ("GET", "/v2025/api-usage/count", {})
    assert request["headers"]["X-SailPoint-Experimental"] == "true"


@pytest.mark.parametrize("version, path", [("v2026", "/v2026/api-usage/count"), ("v1", "/api-usage/v1/count")])
def test_the_path_of_each_version(fake_isc, fake_secret, version, path):
    fake_isc.script((200, {}, TOKEN), (200, {}, {"NumberOfCalls": 0}))
    _run(fake_isc, fake_secret, api_version=version)
    assert fake_isc.requests[1]["path"] == path


def test_method_and_dates_become_one_filter(fake_isc, fake_secret):
    fake_isc.script((200, {}, TOKEN), (200, {}, {"NumberOfCalls": 7}))
    _run(fake_isc, fake_secret, method="get", start_date="2026-01-01", end_date="2026-01-31")
    assert fake_isc.requests[1]["query"]["filters"] == ['method eq "GET" and startDate gt "2026-01-01" and endDate lt "2026-01-31"']


@pytest.mark.parametrize(
    "args, message",
    [
        ({"api_version": "beta"}, "api_version must be one of v2025, v2026, v1 for api_usage_info"),
        ({"api_version": "v2024"}, "api_version must be one of v2025, v2026, v1 for api_usage_info"),
        ({"method": "FETCH"}, "method must be one of GET"),
        ({"start_date": "2026-02-30"}, "start_date must be a date such as 2026-01-31"),
        ({"end_date": "yesterday"}, "end_date must be a date"),
        ({"start_date": "2026-02-01", "end_date": "2026-01-01"}, "start_date 2026-02-01 is after end_date 2026-01-01"),
    ],
)
def test_bad_options_fail_before_any_request(fake_isc, fake_secret, args, message):
    result = _run(fake_isc, fake_secret, expect=FailJson, **args)
    assert message in result["msg"] and result["api_requests"] == 0
    assert fake_isc.requests == []


def test_a_credential_without_the_scope_gets_isc_s_403(fake_isc, fake_secret):
    fake_isc.script((200, {}, TOKEN), (403, {}, {"detailCode": "403 Forbidden", "messages": [{"text": "missing sp:api-usage:read"}]}))
    result = _run(fake_isc, fake_secret, expect=FailJson)
    assert result["status"] == 403 and "GET /v2025/api-usage/count failed with HTTP 403" in result["msg"]
    assert result["api_requests"] == 2


@pytest.mark.parametrize("answer", [{"NumberOfCalls": "many"}, {"NumberOfCalls": -1}, {}, [1, 2], None])
def test_an_answer_that_is_no_count_blames_the_server(fake_isc, fake_secret, answer):
    fake_isc.script((200, {}, TOKEN), (200, {}, answer))
    result = _run(fake_isc, fake_secret, expect=FailJson)
    assert "not what its API specifies" in result["msg"] and "/api-usage/count" in result["msg"]


def test_every_return_key_is_documented():
    returned = yaml.safe_load(api_usage_info.RETURN)
    assert set(returned) == {"usage", "api_requests", "status", "detail"}
