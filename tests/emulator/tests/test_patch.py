import datetime

import pytest


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


@pytest.fixture
def pending(admin):
    return admin.all("v2025", filters="completionStatus isnull")[0]


def test_test_operation_guards_the_patch(admin, pending):
    guarded = [
        {"op": "test", "path": "/percentComplete", "value": pending["percentComplete"]},
        {"op": "test", "path": "/modified", "value": pending["modified"]},
        {"op": "replace", "path": "/completionStatus", "value": "TERMINATED"},
    ]
    assert admin.patch("v2025", pending["id"], guarded).status_code == 200
    again = admin.patch("v2025", pending["id"], guarded)
    assert again.status_code == 409 and again.json()["detailCode"] == "409 Conflict"


def test_failed_test_changes_nothing(admin, pending):
    reply = admin.patch(
        "v2025",
        pending["id"],
        [
            {"op": "replace", "path": "/progress", "value": "changed"},
            {"op": "test", "path": "/percentComplete", "value": pending["percentComplete"] + 1},
        ],
    )
    assert reply.status_code == 409 and "percentComplete" in reply.json()["messages"][0]["text"]
    assert admin.get("v2025", "/" + pending["id"]).json() == pending


def test_a_refused_value_changes_nothing(admin, pending):
    reply = admin.patch(
        "v2025",
        pending["id"],
        [
            {"op": "replace", "path": "/completionStatus", "value": "SUCCESS"},
            {"op": "replace", "path": "/percentComplete", "value": 101},
        ],
    )
    assert reply.status_code == 400
    assert admin.get("v2025", "/" + pending["id"]).json() == pending


def test_tests_see_earlier_operations(admin, pending):
    reply = admin.patch(
        "v2025",
        pending["id"],
        [
            {"op": "replace", "path": "/progress", "value": "Almost"},
            {"op": "test", "path": "/progress", "value": "Almost"},
        ],
    )
    assert reply.status_code == 200


def test_test_accepts_null_and_other_case_and_date_forms(admin, pending):
    modified = datetime.datetime.fromisoformat(pending["modified"].replace("Z", "+00:00")).isoformat()
    reply = admin.patch(
        "v2025",
        pending["id"],
        [
            {"op": "test", "path": "/completionStatus", "value": None},
            {"op": "test", "path": "/modified", "value": modified},
            {"op": "replace", "path": "/completionStatus", "value": "success"},
            {"op": "test", "path": "/completionStatus", "value": "Success"},
            {"op": "test", "path": "/attributes/taskDefinitionName", "value": pending["attributes"]["taskDefinitionName"]},
        ],
    )
    assert reply.status_code == 200 and reply.json()["completionStatus"] == "SUCCESS"


def test_test_of_a_missing_path_is_409(admin, pending):
    assert admin.patch("v2025", pending["id"], [{"op": "test", "path": "/nothing", "value": 1}]).status_code == 409


def test_add_works_like_replace(admin, pending):
    reply = admin.patch("v2025", pending["id"], [{"op": "add", "path": "/percentComplete", "value": 99}])
    assert reply.json()["percentComplete"] == 99


def test_modified_is_set(admin, pending):
    before = utcnow().replace(microsecond=0)
    task = admin.patch("v2025", pending["id"], [{"op": "replace", "path": "/progress", "value": "x"}]).json()
    assert datetime.datetime.fromisoformat(task["modified"].replace("Z", "+00:00")) >= before


@pytest.mark.parametrize(
    "operations, word",
    (
        ([{"op": "remove", "path": "/progress"}], "remove"),
        ([{"op": "move", "from": "/progress", "path": "/description"}], "move"),
        ([{"op": "replace", "path": "/uniqueName", "value": "x"}], "/uniqueName"),
        ([{"op": "replace", "path": "/completionStatus", "value": "DONE"}], "completionStatus"),
        ([{"op": "replace", "path": "/completionStatus", "value": 3}], "completionStatus"),
        ([{"op": "replace", "path": "/percentComplete", "value": -1}], "percentComplete"),
        ([{"op": "replace", "path": "/percentComplete", "value": True}], "percentComplete"),
        ([{"op": "replace", "path": "/percentComplete", "value": "50"}], "percentComplete"),
        ([{"op": "replace", "path": "/progress", "value": 5}], "progress"),
        ([{"op": "replace", "path": "/completed", "value": "yesterday"}], "RFC 3339"),
        ([{"op": "replace", "path": "/completed", "value": "2020-01-01T00:00:00"}], "RFC 3339"),
        ([{"op": "replace", "path": "/completionStatus"}], "value"),
        ([{"path": "/progress", "value": "x"}], "op"),
        ([], "at least one"),
        ({"op": "replace"}, "array"),
    ),
)
def test_refused_patches_are_400(admin, pending, operations, word):
    reply = admin.patch("v2025", pending["id"], operations)
    assert reply.status_code == 400, reply.text
    assert word in reply.json()["messages"][0]["text"]


def test_completed_in_the_future_is_400(admin, pending):
    future = iso(utcnow() + datetime.timedelta(hours=1))
    reply = admin.patch("v2025", pending["id"], [{"op": "replace", "path": "/completed", "value": future}])
    assert reply.status_code == 400 and "future" in reply.json()["messages"][0]["text"]


def test_completed_before_created_is_400(admin, pending):
    created = datetime.datetime.fromisoformat(pending["created"].replace("Z", "+00:00"))
    reply = admin.patch("v2025", pending["id"], [{"op": "replace", "path": "/completed", "value": iso(created - datetime.timedelta(seconds=1))}])
    assert reply.status_code == 400 and "before" in reply.json()["messages"][0]["text"]


def test_completed_is_stored_in_isc_form(admin, pending):
    reply = admin.patch("v2025", pending["id"], [{"op": "replace", "path": "/completed", "value": utcnow().isoformat()}])
    assert reply.json()["completed"].endswith("Z") and len(reply.json()["completed"]) == 24


def test_malformed_json_is_400(admin, pending):
    assert admin.patch("v2025", pending["id"], b"[{not json").status_code == 400


def test_plain_json_content_type_is_accepted(admin, pending):
    assert admin.patch("v2025", pending["id"], [{"op": "replace", "path": "/progress", "value": "x"}], "application/json").status_code == 200


@pytest.mark.parametrize("content_type", ("text/plain", "application/x-www-form-urlencoded"))
def test_other_content_types_are_415(admin, pending, content_type):
    assert admin.patch("v2025", pending["id"], [{"op": "replace", "path": "/progress", "value": "x"}], content_type).status_code == 415


def test_patch_unknown_task_is_404(admin):
    assert admin.patch("v2025", "f" * 32, [{"op": "replace", "path": "/progress", "value": "x"}]).status_code == 404
