"""Live quirks the emulator reproduces on demand: a type filter refused by name, and a task completed without a status."""

import pytest
from emulator_helpers import running_emulator

from isc_emulator import cli

REFUSED = "CLOUD_ENTITLEMENT_IMPORT"


def _import_task(emu):
    return emu.control("POST", "tasks", {"tasks": [{"id": "e" * 32, "uniqueName": "Cloud Entitlement Import", "completionStatus": None}]})["tasks"][0]


def test_a_refused_type_name_gets_400_unsupported_task_definition_type(emu, admin):
    _import_task(emu)
    assert emu.control("POST", "faults", {"rejected_types": ["cloud_entitlement_import"]})["rejected_types"] == [REFUSED]
    for expression in ('type eq "CLOUD_ENTITLEMENT_IMPORT"', 'sourceId eq "x" and type in ("IDENTITY_REFRESH", "cloud_entitlement_import")'):
        reply = admin.get("v2025", filters=expression)
        assert reply.status_code == 400
        assert reply.json()["messages"][0]["text"] == "Unsupported Task Definition type: " + (
            "CLOUD_ENTITLEMENT_IMPORT" if "eq" in expression[:8] else "cloud_entitlement_import"
        )
    # other names, and the same tasks without the type filter, are answered as before
    assert admin.get("v2025", filters='type eq "IDENTITY_REFRESH"').status_code == 200
    assert "e" * 32 in [task["id"] for task in admin.all("v2025", filters="completionStatus isnull")]
    # the setting survives a fault call that leaves it out only when given on the command line; {} clears it here
    emu.control("POST", "faults", {})
    assert admin.get("v2025", filters='type eq "CLOUD_ENTITLEMENT_IMPORT"').status_code == 200


@pytest.mark.parametrize("value", (["x", 3], "", [""], {"a": 1}))
def test_bad_rejected_types_are_refused_naming_the_setting(emu, value):
    reply = emu.session.post(emu.control_url + "/faults", json={"rejected_types": value})
    assert reply.status_code == 400 and "rejected_types" in reply.text


def test_the_command_line_names_the_refused_types_and_a_fault_call_keeps_them():
    args = cli.build_parser().parse_args(["serve", "--reject-types", "cloud_entitlement_import, IDENTITY_REFRESH"])
    assert cli.options_from(args).faults.rejected_types == (REFUSED, "IDENTITY_REFRESH")
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["serve", "--reject-types", "A,,B"])
    with running_emulator(rejected_types=(REFUSED,)) as emu:
        admin = emu.api("admin")
        assert admin.get("v2026", filters='type eq "CLOUD_ENTITLEMENT_IMPORT"').status_code == 400
        emu.control("POST", "faults", {"fault_rate": 0})
        assert emu.control("GET", "faults")["rejected_types"] == [REFUSED]
        assert admin.get("v2026", filters='type eq "CLOUD_ENTITLEMENT_IMPORT"').status_code == 400


def _window(emu, task_id, reads):
    return emu.control("POST", "hooks", {"completed_window": {"id": task_id, "reads": reads}})


@pytest.mark.parametrize("version", ("beta", "v2025", "v2026"))
def test_a_completed_window_shows_completed_without_a_status_for_n_reads(emu, admin, version):
    task = _import_task(emu)
    assert _window(emu, task["id"], 2) == {"completed_window": task["id"], "reads": 2, "tenant": "acme"}
    first = admin.get(version, "/" + task["id"]).json()
    assert first["completed"] is not None and first["completionStatus"] is None
    # a list page that holds the task is a read too; the task stays in the pending lists, as it is stored
    listed = admin.all(version, **({"filters": "completionStatus isnull"} if version != "beta" else {}))
    pending = admin.get(version, "/pending-tasks").json() if version == "beta" else listed
    (shown,) = [item for item in pending if item["id"] == task["id"]]
    assert shown["completed"] is not None and shown["completionStatus"] is None
    assert emu.control("GET", "hooks")["completed_windows"] == {}
    after = admin.get(version, "/" + task["id"]).json()
    assert after["completed"] is None and after["completionStatus"] is None


def test_a_completed_window_on_a_finished_task_hides_its_status(emu, admin):
    finished = admin.all("v2025", filters='completionStatus eq "SUCCESS"')[0]
    _window(emu, finished["id"], 1)
    shown = admin.get("v2025", "/" + finished["id"]).json()
    assert shown["completed"] == finished["completed"] and shown["completionStatus"] is None
    assert admin.get("v2025", "/" + finished["id"]).json()["completionStatus"] == "SUCCESS"


def test_a_head_is_no_read_of_the_window(emu, admin):
    task = _import_task(emu)
    _window(emu, task["id"], 1)
    assert admin.head("beta", "/pending-tasks", count="true").status_code == 200
    assert emu.control("GET", "hooks")["completed_windows"] == {task["id"]: 1}
    emu.control("DELETE", "hooks")
    assert admin.get("v2025", "/" + task["id"]).json()["completed"] is None


@pytest.mark.parametrize(
    "window", ({"id": "x"}, {"id": "x", "reads": 0}, {"id": "", "reads": 1}, {"id": "x", "reads": True}, {"id": "x", "reads": 1, "set": {}})
)
def test_bad_windows_are_refused(emu, window):
    reply = emu.session.post(emu.control_url + "/hooks", json={"completed_window": window})
    assert reply.status_code == 400 and "completed_window" in reply.text
