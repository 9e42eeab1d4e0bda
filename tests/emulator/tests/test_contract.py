"""The contract checker itself: it sees every status, and it catches a response that breaks the specification."""

import pytest
from emulator_helpers import running_emulator

VERSIONS = ("beta", "v2024", "v2025", "v2026", "v1")


@pytest.mark.parametrize("version", VERSIONS)
def test_every_declared_status_is_validated(version):
    with running_emulator() as emu:
        admin, helpdesk = emu.api(), emu.api("helpdesk")
        task_id = admin.all(version)[0]["id"]
        admin.get(version, limit=1)
        admin.get(version, "/" + task_id)
        admin.patch(version, task_id, [{"op": "replace", "path": "/progress", "value": "x"}])
        admin.get(version, limit=999)
        emu.session.get(admin.url(version))
        helpdesk.patch(version, task_id, [{"op": "replace", "path": "/progress", "value": "x"}])
        admin.get(version, "/" + "0" * 32)
        emu.control("POST", "faults", {"fault_rate": 1, "statuses": [500]})
        admin.get(version, limit=1)
        emu.control("POST", "faults", {"fault_rate": 1, "statuses": [429]})
        admin.get(version, limit=1)
        seen = {status for (name, status) in emu.checker.checked if name == version}
        assert seen >= {200, 400, 401, 403, 404, 429, 500}


def test_a_broken_response_is_caught():
    with pytest.raises(AssertionError, match="description"):
        with running_emulator() as emu:
            emu.control("POST", "tasks", {"tasks": [{"id": "e" * 32, "description": None}]})
            assert emu.api().get("v2025", "/" + "e" * 32).status_code == 200


@pytest.mark.parametrize("version", VERSIONS)
def test_every_declared_status_of_the_source_operations_is_validated(version):
    with running_emulator(pending=0, stuck=0) as emu:
        admin, helpdesk = emu.api(), emu.api("helpdesk")
        source_id = admin.source_get(version, "sources", limit=1).json()[0]["id"]
        admin.source_get(version, "sources", limit=999)
        admin.source_get(version, "sources/" + source_id)
        admin.source_get(version, "sources/" + "0" * 32)
        emu.session.get(admin.source_url(version, "sources"))
        helpdesk.source_get(version, "sources")
        admin.session.post(admin.source_url(version, "sources/%s/connector/check-connection" % source_id))
        launched = admin.source_post(version, "sources/%s/load-accounts" % source_id).json()["task"]["id"]
        admin.source_post(version, "sources/%s/load-entitlements" % source_id)
        admin.source_post(version, "sources/%s/load-accounts" % ("0" * 32))
        admin.source_get(version, "account-aggregations/%s/status" % launched)
        admin.source_get(version, "account-aggregations/%s/status" % ("0" * 32))
        if version != "beta":
            admin.source_get(version, "sources/%s/source-health" % source_id)
        if version in ("v2025", "v2026", "v1"):
            admin.source_get(version, "api-usage/count")
        admin.source_post(version, "sources/%s/load-accounts" % source_id, content_type="multipart/form-data", body=b"")
        emu.control("POST", "faults", {"fault_rate": 1, "statuses": [429]})
        admin.source_get(version, "sources", limit=1)
        seen = {status for (name, status) in emu.checker.checked if name == "sources-aggregation." + version}
        assert seen >= {200, 202, 400, 401, 403, 404, 429, 500}
