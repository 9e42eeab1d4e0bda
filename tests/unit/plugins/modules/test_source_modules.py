# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""source_aggregation and source_info end to end through main(): argument spec, one service call, one exit."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.sailpoint.isc.plugins.module_utils import _connection as connection
from ansible_collections.sailpoint.isc.plugins.modules import source_aggregation, source_info
from ansible_collections.sailpoint.isc.tests.unit.plugins.fake_sources import FakeSourcesClient, make_aggregation, make_source
from ansible_collections.sailpoint.isc.tests.unit.plugins.modules.module_harness import ExitJson, FailJson, patch_exits, patch_module_args

CONNECTION = {"base_url": "http://127.0.0.1:9/acme", "client_id": "cid", "client_secret": "s3cr3t-value", "api_version": "v2025"}


@pytest.fixture
def tenant(monkeypatch):
    """The fake tenant every module run of a test talks to; an unused one when the run fails before any request."""
    patch_exits(monkeypatch)
    for name in ("SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET", "SAIL_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    fake = FakeSourcesClient([make_source(), make_source("s2", "Okta", healthy=False)], [make_aggregation("stuck1", "s1")])
    fake.close = lambda: None
    monkeypatch.setattr(connection, "client_from_params", lambda params, warn=None: fake)
    return fake


def _run(module, args, expect=ExitJson):
    with patch_module_args(dict(CONNECTION, **args)):
        with pytest.raises(expect) as result:
            module.main()
    return result.value.args[0]


def test_a_running_aggregation_is_returned_and_nothing_launched(tenant):
    result = _run(source_aggregation, {"source_name": "Active Directory"})
    assert result["changed"] is False and result["task"]["id"] == "stuck1" and tenant.calls("POST") == []


def test_check_mode_predicts_a_launch_without_sending_it(tenant):
    tenant.tasks.clear()
    result = _run(source_aggregation, {"source_id": "s1", "_ansible_check_mode": True})
    assert result["changed"] is True and result["launched"] is True and tenant.calls("POST") == []


def test_a_refusal_fails_with_the_source_it_read(tenant):
    result = _run(source_aggregation, {"source_id": "s2"}, FailJson)
    assert "SOURCE_STATE_ERROR_VA" in result["msg"] and result["source"]["name"] == "Okta" and result["changed"] is False


def test_a_predicted_403_fails_with_its_status(tenant):
    tenant.token_claims = {"client_id": "api", "authorities": []}
    result = _run(source_aggregation, {"source_id": "s1", "kind": "entitlements", "_ansible_check_mode": True}, FailJson)
    assert result["status"] == 403 and "no user context" in result["msg"]


@pytest.mark.parametrize(
    "module, args, message",
    [
        (source_aggregation, {}, "one of the following is required: source_id, source_name"),
        (source_aggregation, {"source_id": "a", "source_name": "b"}, "mutually exclusive: source_id|source_name"),
        (source_aggregation, {"source_id": "a", "if_running": "later"}, "value of if_running must be one of: skip, queue, fail"),
        (source_aggregation, {"source_id": "a", "wait_timeout": "soon"}, "wait_timeout"),
        (source_info, {"ids": ["a"], "names": ["b"]}, "mutually exclusive: ids|names"),
        (source_info, {"max_results": 10**9}, "max_results must be from 0 to 10,000,000"),
    ],
)
def test_bad_input_fails_before_any_request(tenant, module, args, message):
    assert message in _run(module, args, FailJson)["msg"]
    assert tenant.log == []


def test_source_info_returns_the_sources_and_changes_nothing(tenant):
    result = _run(source_info, {"pending_aggregations": True, "check_connection": True, "_ansible_check_mode": True})
    assert result["changed"] is False and [source["name"] for source in result["sources"]] == ["Active Directory", "Okta"]
    assert [task["id"] for task in result["sources"][0]["pending_aggregations"]] == ["stuck1"]
    assert tenant.calls("POST") == []


@pytest.mark.parametrize("module", [source_aggregation, source_info])
def test_every_option_and_return_key_is_documented(module):
    documented = yaml.safe_load(module.DOCUMENTATION)["options"]
    own = set(module.argument_spec()) - {option.name for option in connection.CONNECTION_OPTIONS}
    assert own == set(documented)
    assert yaml.safe_load(module.RETURN) and yaml.safe_load(module.EXAMPLES)
