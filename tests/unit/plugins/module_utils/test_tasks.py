from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils import _tasks as tasks

CREATED = "2024-05-17T10:00:00.000Z"
LAUNCHED = "2024-05-17T10:05:00.000Z"


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ({"launched": LAUNCHED, "created": CREATED}, datetime(2024, 5, 17, 10, 5, tzinfo=timezone.utc)),
        ({"launched": None, "created": CREATED}, datetime(2024, 5, 17, 10, 0, tzinfo=timezone.utc)),
        # a launch time that is no date-time does not hide when the task was created
        ({"launched": "yesterday", "created": CREATED}, datetime(2024, 5, 17, 10, 0, tzinfo=timezone.utc)),
        ({"launched": "yesterday", "created": "soon"}, None),
        ({}, None),
    ],
)
def test_started_at_is_launched_else_created(task, expected):
    assert tasks.started_at(task) == expected


def test_pending_and_status():
    assert tasks.is_pending({"completionStatus": None})
    assert not tasks.is_pending({"completionStatus": "Error"})
    assert tasks.completion_status({"completionStatus": "Error"}) == "ERROR"
    assert tasks.completion_status({"completionStatus": None}) is None
    assert set(tasks.FAILURE_STATUSES) < set(tasks.COMPLETION_STATUSES)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_timestamps_at_the_edges_of_the_calendar_are_no_date_time(text):
    from ansible_collections.sailpoint.isc.plugins.module_utils._timestamps import parse_rfc3339

    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        parse_rfc3339(text)
    assert tasks.started_at({"launched": text, "created": None}) is None


def test_success_statuses_are_the_completion_statuses_that_are_no_failure():
    assert tasks.SUCCESS_STATUSES == ("SUCCESS", "WARNING")
    assert set(tasks.SUCCESS_STATUSES) | set(tasks.FAILURE_STATUSES) == set(tasks.COMPLETION_STATUSES)


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        ({"completed": "2024-05-17T10:05:00.000+02:00"}, datetime(2024, 5, 17, 8, 5, tzinfo=timezone.utc)),
        ({"completed": None}, None),
        ({"completed": "soon"}, None),
        ({}, None),
    ],
)
def test_completed_at(task, expected):
    assert tasks.completed_at(task) == expected


NOW = datetime(2024, 5, 17, 16, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("task", "stuck"),
    [
        # pending exactly the threshold (6h since launch): stuck, the one boundary everything shares
        ({"launched": LAUNCHED, "created": CREATED, "completionStatus": None}, True),
        ({"launched": "2024-05-17T10:05:00.001Z", "created": CREATED, "completionStatus": None}, False),
        ({"launched": None, "created": CREATED, "completionStatus": None}, True),
        # completed written before its status: still pending, so still stuck
        ({"launched": LAUNCHED, "completed": "2024-05-17T16:00:00.000Z", "completionStatus": None}, True),
        ({"launched": LAUNCHED, "completed": "2024-05-17T16:00:00.000Z", "completionStatus": "ERROR"}, False),
        ({"launched": "soon", "created": "soon", "completionStatus": None}, False),
    ],
)
def test_is_stuck_counts_a_task_pending_exactly_the_threshold(task, stuck):
    assert tasks.is_stuck(task, 6 * 3600, NOW) is stuck
    assert tasks.is_stuck(task, timedelta(hours=6), NOW) is stuck


@pytest.mark.parametrize(
    ("task", "pending", "failure"),
    [
        ({"completed": None, "completionStatus": None}, True, False),
        ({"completed": "2024-05-17T16:00:00.000Z", "completionStatus": None}, True, False),
        ({"completed": "2024-05-17T16:00:00.000Z", "completionStatus": "Error"}, False, True),
        ({"completed": "2024-05-17T16:00:00.000Z", "completionStatus": "TEMPERROR"}, False, True),
        ({"completed": "2024-05-17T16:00:00.000Z", "completionStatus": "WARNING"}, False, False),
    ],
)
def test_pending_finished_and_failure(task, pending, failure):
    assert tasks.is_pending(task) is pending and tasks.is_finished(task) is not pending and tasks.is_failure(task) is failure
