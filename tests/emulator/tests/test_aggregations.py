"""Aggregation launches: pending QUARTZ tasks, ISC's refusals as failed tasks, and the hooks that drive them."""

import subprocess
import sys

import pytest
import requests
from emulator_helpers import running_emulator
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli import PACKAGE_ROOT, start, stop, token

from isc_emulator import aggregations, multipart

VERSIONS = ("beta", "v2024", "v2025", "v2026", "v1")
FINISHED_STATUSES = ("SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR")


@pytest.fixture(name="emu")
def quiet_emulator():
    """No seeded pending task, so no launch meets a running aggregation unless a test makes one."""
    with running_emulator(pending=0, stuck=0) as running:
        yield running


@pytest.fixture(name="source")
def okta(admin):
    return admin.source_get("v2025", "sources", filters='name eq "Okta"').json()[0]


def launch(client, source, version="v2025", kind="accounts", **fields):
    reply = client.source_post(version, "sources/%s/load-%s" % (source["id"], kind), fields)
    assert reply.status_code == 202, reply.text
    body = reply.json()
    return body["task"] if kind == "accounts" else body


def task(client, task_id, version="v2025"):
    reply = client.get(version, "/" + task_id)
    assert reply.status_code == 200, reply.text
    return reply.json()


def status(client, task_id, version="v2025"):
    return client.source_get(version, "account-aggregations/%s/status" % task_id)


@pytest.mark.parametrize("version", VERSIONS)
def test_load_accounts_creates_a_pending_quartz_task(emu, admin, source, version):
    answer = launch(admin, source, version)
    assert answer["name"] == "Cloud Account Aggregation" and answer["type"] == "QUARTZ" and answer["launcher"] == "acme.admin"
    assert answer["attributes"] == {"appId": source["id"], "optimizedAggregation": "enabled"} and "completionStatus" not in answer
    stored = task(admin, answer["id"], version)
    assert stored["completionStatus"] is None and stored["completed"] is None and stored["type"] == "QUARTZ"
    assert stored["uniqueName"] == "Cloud Account Aggregation" and stored["launcher"] == "acme.admin"
    assert stored["target"] == {"id": source["id"], "type": "APPLICATION", "name": "Okta [source]"}
    assert stored["attributes"]["optimizedAggregation"] == "enabled" and stored["created"] == answer["created"]
    assert stored["taskDefinitionSummary"]["uniqueName"] == "Cloud Account Aggregation"
    aggregation = status(admin, answer["id"], version).json()
    assert aggregation["status"] == "STARTED" and aggregation["start"] == answer["launched"]
    assert emu.control("GET", "aggregations")["launched"] == [answer["id"]]


@pytest.mark.parametrize("version", VERSIONS)
def test_load_entitlements_answers_the_flat_shape(emu, admin, source, version):
    answer = launch(admin, source, version, "entitlements")
    assert set(answer) == {"id", "type", "uniqueName", "description", "launcher", "created", "returns"}
    assert answer["uniqueName"] == "Cloud Group Aggregation" and answer["type"] == "QUARTZ"
    stored = task(admin, answer["id"], version)
    assert stored["completionStatus"] is None and stored["uniqueName"] == "Cloud Group Aggregation"
    assert "optimizedAggregation" not in stored["attributes"]
    # The account-aggregation status knows account aggregations only.
    assert status(admin, answer["id"], version).status_code == 404


def test_launcher_of_an_api_client_is_its_client_id(emu, source):
    api = emu.api("api")
    answer = launch(api, source)
    assert answer["launcher"] == emu.clients()["api"]["client_id"]


@pytest.mark.parametrize("value, optimized", [("true", "disabled"), ("TRUE", "disabled"), ("false", "enabled")])
def test_disable_optimization(admin, source, value, optimized):
    answer = launch(admin, source, disableOptimization=value)
    assert answer["attributes"]["optimizedAggregation"] == optimized
    assert task(admin, answer["id"])["attributes"]["optimizedAggregation"] == optimized


def test_a_file_part_is_read(admin, source):
    answer = launch(admin, source, file=("accounts.csv", b"id,name\r\n1,a\r\n"), disableOptimization="true")
    assert answer["attributes"]["optimizedAggregation"] == "disabled"


def test_a_form_urlencoded_body_is_accepted(admin, source):
    reply = admin.source_post(
        "beta", "sources/%s/load-accounts" % source["id"], content_type="application/x-www-form-urlencoded", body=b"disableOptimization=true"
    )
    assert reply.status_code == 202 and reply.json()["task"]["attributes"]["optimizedAggregation"] == "disabled"


def test_no_body_at_all_is_a_launch(admin, source):
    reply = admin.session.post(admin.source_url("v2025", "sources/%s/load-accounts" % source["id"]))
    assert reply.status_code == 202, reply.text


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("multipart/form-data", b""),
        ("multipart/form-data", b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'),
        ("multipart/form-data; boundary=x", b""),
        ("multipart/form-data; boundary=x", b"garbage"),
        ("multipart/form-data; boundary=x", b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n'),
        ("multipart/form-data; boundary=x", b"--x\r\nContent-Type: text/plain\r\n\r\n1\r\n--x--\r\n"),
    ],
)
def test_a_malformed_multipart_body_is_500_and_launches_nothing(emu, admin, source, content_type, body):
    reply = admin.source_post("v2025", "sources/%s/load-accounts" % source["id"], content_type=content_type, body=body)
    assert reply.status_code == 500 and "multipart" in reply.json()["messages"][0]["text"], reply.text
    assert emu.control("GET", "aggregations")["launched"] == []


def test_bad_launch_requests(emu, admin, source):
    bad = admin.source_post("v2025", "sources/%s/load-accounts" % source["id"], {"disableOptimization": "maybe"})
    assert bad.status_code == 400 and "disableOptimization must be true or false" in bad.text
    json_body = admin.source_post("v2025", "sources/%s/load-accounts" % source["id"], content_type="application/json", body=b"{}")
    assert json_body.status_code == 415
    unknown = admin.source_post("v2025", "sources/%s/load-accounts" % ("0" * 32))
    assert unknown.status_code == 400 and "was not found" in unknown.text
    assert admin.source_get("v2025", "sources/%s/load-accounts" % source["id"]).status_code == 405
    assert emu.control("GET", "aggregations")["launched"] == []


@pytest.mark.parametrize("kind", ("accounts", "entitlements"))
def test_a_launch_while_one_of_its_kind_runs_fails_at_once(emu, admin, source, kind):
    first = launch(admin, source, kind=kind)
    second = launch(admin, source, kind=kind)
    failed = task(admin, second["id"])
    assert failed["completionStatus"] == "ERROR" and failed["completed"]
    assert failed["messages"][-1]["localizedText"]["message"] == aggregations.ALREADY_RUNNING
    assert task(admin, first["id"])["completionStatus"] is None
    other_kind = "entitlements" if kind == "accounts" else "accounts"
    assert task(admin, launch(admin, source, kind=other_kind)["id"])["completionStatus"] is None
    emu.control("POST", "aggregations/" + first["id"], {"status": "SUCCESS"})
    assert task(admin, launch(admin, source, kind=kind)["id"])["completionStatus"] is None


def test_a_seeded_stuck_task_blocks_its_source(emu, admin, source):
    stuck = emu.control("POST", "sources/Okta/stuck", {"kind": "entitlements", "count": 1, "hours": 30})["tasks"][0]
    assert stuck["uniqueName"] == "Cloud Group Aggregation" and stuck["completionStatus"] is None
    assert task(admin, launch(admin, source, kind="entitlements")["id"])["completionStatus"] == "ERROR"
    # Any pending task of the kind counts, whoever made it: an entitlement import too.
    admin.patch("v2025", stuck["id"], [{"op": "replace", "path": "/completionStatus", "value": "TERMINATED"}])
    emu.control("POST", "tasks", {"tasks": [{"id": "c" * 32, "uniqueName": "Cloud Entitlement Import", "completionStatus": None, "target": stuck["target"]}]})
    assert task(admin, launch(admin, source, kind="entitlements")["id"])["completionStatus"] == "ERROR"
    assert task(admin, launch(admin, source, kind="accounts")["id"])["completionStatus"] is None


def test_a_launch_on_an_unhealthy_source_fails_its_connection(emu, admin, source):
    emu.control("POST", "sources/Okta/health", {"status": "SOURCE_STATE_ERROR_VA"})
    answer = launch(admin, source)
    failed = task(admin, answer["id"])
    assert failed["completionStatus"] == "ERROR" and "Unable to connect" in failed["messages"][-1]["localizedText"]["message"]
    assert status(admin, answer["id"]).json()["status"] == "TERMINATED"


def test_fail_connection_fails_the_next_launches_only(emu, admin, source):
    settings = emu.control("POST", "sources/Okta/fail-connection", {"count": 2})["settings"]
    assert settings["fail_connections"] == 2
    outcomes = [task(admin, launch(admin, source, kind="entitlements")["id"])["completionStatus"] for _index in range(3)]
    assert outcomes == ["ERROR", "ERROR", None]
    assert emu.control("GET", "sources")[3]["settings"]["fail_connections"] == 0


def test_complete_with_counts_and_the_status_follows(emu, admin, source):
    answer = launch(admin, source)
    progressed = emu.control("POST", "aggregations/" + answer["id"], {"counts": {"totalAccounts": 520, "processedAccounts": 150}})
    assert progressed["completionStatus"] is None
    collected = status(admin, answer["id"]).json()
    assert collected["status"] == "ACCOUNTS_COLLECTED" and collected["totalAccounts"] == 520 and collected["processedAccounts"] == 150
    counts = {"totalAccounts": 520, "processedAccounts": 520, "deletedAccounts": 5, "totalIdentities": 300, "processedIdentities": 300}
    done = emu.control("POST", "aggregations/" + answer["id"], {"status": "WARNING", "counts": counts, "message": "5 accounts removed"})
    assert done["completionStatus"] == "WARNING" and done["completed"] and done["percentComplete"] == 100
    assert done["messages"][-1]["localizedText"]["message"] == "5 accounts removed"
    final = status(admin, answer["id"]).json()
    assert final["status"] == "COMPLETED" and {key: final[key] for key in counts} == counts
    assert task(admin, answer["id"]) == done


@pytest.mark.parametrize("outcome, aggregation", [("SUCCESS", "COMPLETED"), ("ERROR", "TERMINATED"), ("TERMINATED", "TERMINATED"), ("TEMP_ERROR", "RETRIED")])
def test_aggregation_status_of_each_outcome(emu, admin, source, outcome, aggregation):
    answer = launch(admin, source)
    done = emu.control("POST", "aggregations/" + answer["id"], {"status": outcome})
    assert done["completionStatus"] == outcome.replace("_", "")
    assert done["attributes"]["totalAccounts"] == done["attributes"]["processedAccounts"] > 0
    assert status(admin, answer["id"]).json()["status"] == aggregation


def test_aggregation_status_is_gone_an_hour_after_completion(emu, admin, source):
    answer = launch(admin, source)
    emu.control("POST", "aggregations/" + answer["id"], {"status": "SUCCESS"})
    emu.control("PATCH", "tasks/" + answer["id"], {"set": {"completed": "2020-01-01T00:00:00.000Z"}})
    assert status(admin, answer["id"]).status_code == 404
    assert status(admin, "f" * 32).status_code == 404


def test_existing_task_hooks_complete_a_launch_with_counts(emu, admin, source):
    answer = launch(admin, source)
    attributes = dict(task(admin, answer["id"])["attributes"], totalAccounts=7, processedAccounts=7)
    finished = {"completionStatus": "SUCCESS", "completed": answer["created"], "percentComplete": 100, "attributes": attributes}
    emu.control("POST", "hooks", {"after_read": {"id": answer["id"], "set": finished}})
    assert task(admin, answer["id"])["completionStatus"] is None
    assert task(admin, answer["id"])["completionStatus"] == "SUCCESS"
    assert status(admin, answer["id"]).json()["totalAccounts"] == 7


@pytest.mark.parametrize("read", ("get", "list", "status"))
def test_auto_complete_after_reads(emu, admin, source, read):
    emu.control("POST", "sources/Okta/auto-complete", {"status": "ERROR", "after_reads": 2, "counts": {"totalAccounts": 3}, "message": "boom"})
    answer = launch(admin, source)

    def read_once():
        if read == "get":
            return task(admin, answer["id"])["completionStatus"]
        if read == "list":
            return admin.all("v2025", filters='id eq "%s"' % answer["id"])[0]["completionStatus"]
        return {"STARTED": None, "TERMINATED": "ERROR"}[status(admin, answer["id"]).json()["status"]]

    assert [read_once(), read_once(), read_once()] == [None, None, "ERROR"]
    done = task(admin, answer["id"])
    assert done["attributes"]["totalAccounts"] == 3 and done["messages"][-1]["localizedText"]["message"] == "boom"
    fired = emu.control("GET", "hooks")["fired"]
    assert [hook["after_read"] for hook in fired] == [answer["id"]]


def test_auto_complete_at_once_and_per_kind(emu, admin, source):
    emu.control("POST", "sources/Okta/auto-complete", {"status": "SUCCESS", "after_reads": 0, "kinds": ["accounts"]})
    accounts = launch(admin, source)
    assert "completionStatus" not in accounts
    assert task(admin, accounts["id"])["completionStatus"] == "SUCCESS"
    # A relaunch completes too: no pending task blocks it.
    assert task(admin, launch(admin, source)["id"])["completionStatus"] == "SUCCESS"
    assert task(admin, launch(admin, source, kind="entitlements")["id"])["completionStatus"] is None
    emu.control("POST", "sources/Okta/auto-complete", {"status": None})
    assert emu.control("GET", "sources")[3]["settings"]["auto_complete"] is None
    assert task(admin, launch(admin, source)["id"])["completionStatus"] is None


@pytest.mark.parametrize(
    "payload",
    [
        {"status": "DONE"},
        {"status": "SUCCESS", "after_reads": -1},
        {"status": "SUCCESS", "kinds": ["groups"]},
        {"status": "SUCCESS", "counts": {"x": 1}},
        {"when": 1},
    ],
)
def test_bad_auto_complete_settings(emu, payload):
    assert emu.session.post(emu.control_url + "/sources/Okta/auto-complete", json=payload).status_code == 400


def test_configured_duration_completes_launches(emu, admin, source):
    settings = emu.control("POST", "aggregations", {"complete_after_seconds": 30, "status": "WARNING"})
    assert settings == {"complete_after_seconds": 30, "status": "WARNING", "counts": None, "tenant": "acme"}
    answer = launch(admin, source)
    assert task(admin, answer["id"])["completionStatus"] is None
    # Instead of waiting, the launch is moved half a minute into the past.
    emu.control("PATCH", "tasks/" + answer["id"], {"set": {"launched": "2020-01-01T00:00:00.000Z"}})
    assert task(admin, answer["id"])["completionStatus"] == "WARNING"
    emu.control("POST", "aggregations", {"complete_after_seconds": None})
    later = launch(admin, source)
    emu.control("PATCH", "tasks/" + later["id"], {"set": {"launched": "2020-01-01T00:00:00.000Z"}})
    assert task(admin, later["id"])["completionStatus"] is None


def test_duration_from_the_command_line_option():
    with running_emulator(pending=0, stuck=0) as emu:
        assert emu.control("GET", "aggregations")["settings"]["complete_after_seconds"] is None
    emulator_options = {"aggregation_seconds": 5}
    with running_emulator(pending=0, stuck=0, options=emulator_options) as emu:
        assert emu.control("GET", "aggregations")["settings"]["complete_after_seconds"] == 5


def test_control_complete_refusals(emu, admin, source):
    answer = launch(admin, source)
    for payload in ({}, {"status": "DONE"}, {"status": "SUCCESS", "counts": {"totalAccounts": -1}}, {"status": "SUCCESS", "colour": 1}):
        assert emu.session.post(emu.control_url + "/aggregations/" + answer["id"], json=payload).status_code == 400
    assert emu.session.post(emu.control_url + "/aggregations/" + "0" * 32, json={"status": "SUCCESS"}).status_code == 404


def test_launch_fault_error_after_applies_the_launch(emu, admin, source):
    emu.control("POST", "launch-faults", {"mode": "error_after", "count": 1})
    reply = admin.source_post("v2025", "sources/%s/load-accounts" % source["id"])
    assert reply.status_code == 500
    launched = emu.control("GET", "aggregations")["launched"]
    assert len(launched) == 1 and task(admin, launched[0])["completionStatus"] is None
    assert emu.control("GET", "requests")[-2]["fault"] == "injected"
    # The fault is spent: a second launch is answered, and meets the first one still running.
    second = launch(admin, source)
    assert task(admin, second["id"])["completionStatus"] == "ERROR"


def test_launch_fault_drop_after_applies_the_launch(emu, admin, source):
    emu.control("POST", "launch-faults", {"mode": "drop_after", "count": 2})
    for _index in range(2):
        with pytest.raises(requests.ConnectionError):
            admin.source_post("v2025", "sources/%s/load-entitlements" % source["id"])
    assert len(emu.control("GET", "aggregations")["launched"]) == 2
    assert [entry["fault"] for entry in emu.control("GET", "requests") if entry["kind"] == "load-entitlements"] == ["drop", "drop"]
    assert emu.control("GET", "aggregations")["fault"] == {"mode": None, "count": 0}


def test_launch_fault_rate_limit_before_launches_nothing(emu, admin, source):
    emu.control("POST", "launch-faults", {"mode": "rate_limit_before", "count": 1})
    reply = admin.source_post("v2025", "sources/%s/load-accounts" % source["id"])
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "1"
    assert emu.control("GET", "aggregations")["launched"] == []
    launch(admin, source)


def test_launch_faults_spare_other_calls_and_bad_settings_are_400(emu, admin, source):
    emu.control("POST", "launch-faults", {"mode": "error_after", "count": 1})
    assert admin.source_get("v2025", "sources/" + source["id"]).status_code == 200
    assert admin.get("v2025", limit=1).status_code == 200
    assert emu.control("POST", "launch-faults", {"mode": None})["mode"] is None
    launch(admin, source)
    for payload in ({"mode": "explode", "count": 1}, {"mode": "drop_after", "count": -1}, {"mode": "drop_after", "count": True}):
        assert emu.session.post(emu.control_url + "/launch-faults", json=payload).status_code == 400


def test_request_log_counts_each_operation(emu, admin, source):
    emu.control("DELETE", "requests")
    answer = launch(admin, source)
    status(admin, answer["id"])
    admin.source_get("v2025", "sources")
    admin.session.post(admin.source_url("v1", "sources/%s/connector/check-connection" % source["id"]))
    kinds = [entry["kind"] for entry in emu.control("GET", "requests")]
    assert kinds == ["load-accounts", "aggregation-status", "list-sources", "check-connection"]


def test_a_reset_forgets_launches_settings_and_faults(emu, admin, source):
    emu.control("POST", "aggregations", {"complete_after_seconds": 3})
    emu.control("POST", "launch-faults", {"mode": "error_after", "count": 5})
    emu.control("POST", "sources/Okta/auto-complete", {"status": "SUCCESS"})
    assert admin.source_post("v2025", "sources/%s/load-accounts" % source["id"]).status_code == 500
    emu.control("POST", "reset", {})
    state = emu.control("GET", "aggregations")
    assert state["launched"] == [] and state["fault"]["mode"] is None and state["settings"]["complete_after_seconds"] is None
    assert emu.control("GET", "sources")[3]["settings"]["auto_complete"] is None


def test_the_remediation_tenant():
    """Two stuck aggregations on a healthy source and one on a source whose appliance is down."""
    with running_emulator(pending=0, stuck=0, options={"stuck_aggregations": "Active Directory:2, Workday:1:down"}) as emu:
        admin = emu.api()
        stuck = admin.all("v2025", filters="completionStatus isnull")
        by_source = {}
        for found in stuck:
            by_source.setdefault(found["target"]["name"], []).append(found)
        assert {name: len(tasks) for name, tasks in by_source.items()} == {"Active Directory [source]": 2, "Workday [source]": 1}
        assert all(found["uniqueName"] == "Cloud Account Aggregation" for found in stuck)
        workday = admin.source_get("v2025", "sources", filters='name eq "Workday"').json()[0]
        assert workday["healthy"] is False and workday["status"] == "SOURCE_STATE_ERROR_VA"
        emu.control("POST", "reset", {})
        assert len(emu.api().all("v2025", filters="completionStatus isnull")) == 3


@pytest.mark.parametrize("text", ("Active Directory", "Active Directory:x", "Workday:1:up", "Workday:1:accounts:entitlements", ":1"))
def test_bad_scenarios_are_refused(text):
    with pytest.raises(ValueError):
        aggregations.parse_scenario(text)


def test_multipart_encoding_round_trips():
    content_type, body = multipart.encode({"disableOptimization": "true", "file": ("a.csv", b"x,y\r\n--not-a-boundary\r\n")})
    fields = multipart.parse(content_type, body)
    assert fields == {"disableOptimization": (b"true", None), "file": (b"x,y\r\n--not-a-boundary\r\n", "a.csv")}
    assert multipart.parse(*multipart.encode({})) == {}
    preamble = multipart.parse("multipart/form-data; boundary=b", b'ignored\r\n--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b--')
    assert preamble == {"a": (b"1", None)}


def test_command_line_options():
    process, info = start(
        "--port", "0", "--tasks", "20", "--pending", "0", "--stuck", "0", "--stuck-aggregations", "Okta:1:down", "--aggregation-seconds", "2.5"
    )
    try:
        headers = {"Authorization": "Bearer " + token(info)}
        pending = requests.get(info["base_url"] + "/v2025/task-status", params={"filters": "completionStatus isnull"}, headers=headers, timeout=10).json()
        assert [found["target"]["name"] for found in pending] == ["Okta [source]"]
        okta = requests.get(info["base_url"] + "/v2025/sources/" + pending[0]["target"]["id"], headers=headers, timeout=10).json()
        assert okta["status"] == "SOURCE_STATE_ERROR_VA"
        settings = requests.get(info["control_url"] + "/aggregations", timeout=10).json()["settings"]
        assert settings["complete_after_seconds"] == 2.5
    finally:
        assert stop(process) == 0


@pytest.mark.parametrize(
    "args, message",
    [(["--stuck-aggregations", "Nowhere:1"], "names no source"), (["--stuck-aggregations", "Okta"], "COUNT"), (["--aggregation-seconds", "-1"], "seconds")],
)
def test_bad_command_line_options_exit_2(args, message):
    result = subprocess.run(
        [sys.executable, "-m", "isc_emulator", "serve", "--port", "0", "--tasks", "5", *args],
        env={"PYTHONPATH": str(PACKAGE_ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and message in result.stderr, result.stderr


@settings(max_examples=300)
@given(
    content_type=st.sampled_from(["multipart/form-data; boundary=b", "multipart/form-data", 'multipart/form-data; boundary="b c"', "text/plain"]),
    body=st.one_of(
        st.binary(max_size=200),
        st.lists(st.sampled_from([b"--b", b"\r\n", b"--", b'Content-Disposition: form-data; name="a"', b"x", b"\r\n\r\n", b";", b"\xff"])).map(b"".join),
    ),
)
def test_the_multipart_reader_only_ever_refuses_by_name(content_type, body):
    try:
        fields = multipart.parse(content_type, body)
    except multipart.MultipartError as problem:
        assert str(problem)
    else:
        assert all(isinstance(name, str) and isinstance(value, bytes) for name, (value, _filename) in fields.items())
