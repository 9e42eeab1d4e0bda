# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One stuck boundary: task_status_info's older_than, the stuck_tasks role's selection, the task report's stuck
count and the event source agree on a task pending exactly the threshold, and on one pending a millisecond less."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from conftest import iso

from ansible_collections.sailpoint.isc.extensions.eda.plugins.event_source import task_status
from ansible_collections.sailpoint.isc.plugins.filter.stuck_tasks import stuck_tasks_selection
from ansible_collections.sailpoint.isc.plugins.filter.task_report import task_report_summary
from ansible_collections.sailpoint.isc.plugins.module_utils import _task_query as task_query
from ansible_collections.sailpoint.isc.plugins.modules import task_status_info

THRESHOLD = "6h"


def _info_params(**options):
    params = {name: spec.get("default") for name, spec in task_status_info.argument_spec().items()}
    params.update(options)
    return params


def _verdicts(source, task_id, now):
    """Whether each reader of the collection counts the task as stuck at ``now``."""
    found = task_query.query_tasks(source.client, task_query.plan_query(_info_params(scope="pending", older_than=THRESHOLD)), now=now)["tasks"]
    listed = [task for task in found if task["id"] == task_id]
    role = stuck_tasks_selection(found)["selected"]
    pending = task_query.query_tasks(source.client, task_query.plan_query(_info_params(scope="pending")), now=now)["tasks"]
    report = task_report_summary([task for task in pending if task["id"] == task_id], now=now, stuck_after=THRESHOLD)
    source.watcher.now = lambda: now
    events = source.watcher.poll()
    return {
        "task_status_info older_than": bool(listed),
        "stuck_tasks selection": any(task["id"] == task_id for task in role),
        "task report stuck count": report["counts"]["stuck"] == 1,
        "event source": any(event["kind"] == "stuck" and event["task"]["id"] == task_id for event in events),
    }


@pytest.mark.parametrize("api_version", ["beta", "v2026"])
@pytest.mark.parametrize("short_by", [timedelta(0), timedelta(milliseconds=1)])
def test_every_reader_agrees_on_a_task_pending_exactly_the_threshold(isc, api_version, short_by):
    isc.reset(pending=0, stuck=0)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    launched = iso(now - timedelta(hours=6))
    (task,) = isc.insert({"completionStatus": None, "created": launched, "launched": launched})
    source = task_status.TaskStatusSource(isc.args(older_than=THRESHOLD, events=["stuck"], api_version=api_version))

    verdicts = _verdicts(source, task["id"], now - short_by)

    expected = short_by == timedelta(0)
    assert verdicts == dict.fromkeys(verdicts, expected), verdicts
