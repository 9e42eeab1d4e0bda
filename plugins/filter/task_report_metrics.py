# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task_report role's Prometheus text exposition of a tenant's task state (documented in task_report_metrics.yml).

Built in Python rather than a template: the exposition format's escaping, the aggregation per task name, source and
status, and the series cap are easy to get subtly wrong in Jinja and need unit tests.
"""

from __future__ import annotations

import math
from datetime import timezone

from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.checks import duration_seconds, whole_number
from ansible_collections.sailpoint.isc.plugins.filter.task_report import _now, _source
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import (
    COMPLETION_STATUSES,
    FAILURE_STATUSES,
    completed_at,
    completion_status,
    is_pending,
    is_stuck,
    started_at,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._timestamps import parse_rfc3339

PREFIX = "sailpoint_isc_"
# What the series merged away by the cap are written under: their source, task name or an unknown status.
OTHER = "_other"
DEFAULT_MAX_SERIES = 2000
# With every source and task name merged into OTHER the task families still write this many series at most
# (3 per name and source, 6 statuses for completions and for last completions, 1 source health).
MIN_MAX_SERIES = 16

# name: (help, labels); every family is a gauge: the figures describe the tasks read now, nothing is kept between runs
FAMILIES = {
    "tasks_pending": ("Pending tasks (no completionStatus yet) by task name and source.", ("unique_name", "source_id", "source")),
    "task_oldest_pending_age_seconds": (
        "Age of the oldest pending task by task name and source, counted from its launch (its creation when never launched).",
        ("unique_name", "source_id", "source"),
    ),
    "tasks_stuck": ("Pending tasks older than the report's stuck threshold, by task name and source.", ("unique_name", "source_id", "source")),
    "tasks_completed": (
        "Completed tasks among those the report read, by task name and completion status. A gauge over the report's window"
        " (sailpoint_isc_report_window_seconds; ISC keeps 90 days, the report reads at most task_report_max_tasks), not a"
        " counter: the collection keeps nothing between runs.",
        ("unique_name", "status"),
    ),
    "task_last_completion_timestamp_seconds": (
        "When a task of this name last completed with this status for this source, Unix time, among the tasks the report read.",
        ("unique_name", "source_id", "source", "status"),
    ),
    "source_healthy": ("1 when ISC reports the source healthy, 0 when not; status is ISC's status of the source.", ("source_id", "source", "status")),
    "stuck_threshold_seconds": ("How long a task must have been pending to count as stuck (task_report_stuck_after).", ()),
    "report_window_seconds": ("How far back the completed tasks the report read reach: from the oldest one's creation to the report.", ()),
    "api_usage_calls": ("API calls the tenant made since the start of the month (UTC), as GET /api-usage/count reports them.", ()),
    "report_api_requests": ("HTTP requests the last report run sent to ISC, token requests and repeated tries included.", ()),
    "metrics_series_dropped": (
        "Series merged into source or unique_name _other because the tenant's series would exceed task_report_metrics_max_series.",
        (),
    ),
    "report_success": ("1 when the last report run read the tenant, 0 when it failed.", ()),
    "report_timestamp_seconds": ("When the last report run ended, Unix time.", ()),
}
# the families keyed by source: merged by the cap, and how values of merged series combine
BY_SOURCE = {
    "tasks_pending": sum,
    "task_oldest_pending_age_seconds": max,
    "tasks_stuck": sum,
    "task_last_completion_timestamp_seconds": max,
    "source_healthy": min,
}
BY_NAME = dict(BY_SOURCE, tasks_completed=sum)


def escape_label(value) -> str:
    """A label value as the text format reads it back: backslash, double quote and line feed escaped, UTF-8 kept
    (a lone surrogate, which no UTF-8 file can hold, becomes ``?``)."""
    text = str(value).encode("utf-8", "replace").decode("utf-8")
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text) -> str:
    return str(text).replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _timestamp(moment) -> float:
    return round(moment.astimezone(timezone.utc).timestamp(), 3)


def _created_at(task):
    try:
        return parse_rfc3339(str(task.get("created")))
    except ValueError:
        return None


def _status_label(task) -> str:
    status = completion_status(task)
    return status if status in COMPLETION_STATUSES else OTHER


def _merge_tasks(completed, pending) -> list:
    """The completed tasks read plus the pending ones, each task once (it may complete between the two reads)."""
    for name, value in (("_input", completed), ("pending", pending)):
        if value is not None and not isinstance(value, (list, tuple)):
            raise AnsibleFilterError(f"task_report_metrics: {name} must be a list of TaskStatus dictionaries")
    tasks = [task for task in completed or [] if isinstance(task, dict)]
    known = {task.get("id") for task in tasks}
    return tasks + [task for task in pending or [] if isinstance(task, dict) and task.get("id") not in known]


def _put(series, family, key, value, combine):
    bucket = series.setdefault(family, {})
    bucket[key] = combine((bucket[key], value)) if key in bucket else value


def _task_series(tasks, now, stuck_seconds) -> tuple:
    """Every series of the task families, keyed (unique_name, source_id, status), and the sources' names."""
    series = {family: {} for family in ("tasks_pending", "task_oldest_pending_age_seconds", "tasks_stuck", "tasks_completed")}
    series["task_last_completion_timestamp_seconds"] = {}
    names = {}
    for task in tasks:
        name = str(task.get("uniqueName") or "")
        source = _source(task)
        source_id = str(source["id"] or "")
        if source_id:
            names.setdefault(source_id, str(source["name"] or source_id))
        if is_pending(task):
            key = (name, source_id, None)
            _put(series, "tasks_pending", key, 1, sum)
            _put(series, "tasks_stuck", key, int(is_stuck(task, stuck_seconds, now)), sum)
            started = started_at(task)
            if started is not None:
                _put(series, "task_oldest_pending_age_seconds", key, max(int((now - started).total_seconds()), 0), max)
            continue
        status = _status_label(task)
        _put(series, "tasks_completed", (name, None, status), 1, sum)
        completed = completed_at(task)
        if completed is not None:
            _put(series, "task_last_completion_timestamp_seconds", (name, source_id, status), _timestamp(completed), max)
    return series, names


def _health_series(sources, names) -> tuple:
    """``source_healthy`` keyed (None, source_id, None), and each source's ISC status."""
    if not isinstance(sources, (list, tuple)):
        raise AnsibleFilterError("task_report_metrics: sources must be a list of Source dictionaries")
    values, statuses = {}, {}
    for source in sources:
        if not isinstance(source, dict) or not source.get("id"):
            continue
        source_id = str(source["id"])
        names[source_id] = str(source.get("name") or names.get(source_id) or source_id)
        healthy = source.get("healthy")
        status = str(source.get("status") or "")
        values[(None, source_id, None)] = 1 if healthy is True or (healthy is None and status == "SOURCE_STATE_HEALTHY") else 0
        statuses[source_id] = status
    return values, statuses


def _count(series) -> int:
    return sum(len(keys) for keys in series.values())


def _keep(groups, rank, fixed, cap) -> set:
    """The most groups (in ``rank`` order) that may keep their own series, when the rest share theirs: each group's
    series are a set of keys; the groups merged write the union of theirs once, beside ``fixed`` series."""
    order = sorted(groups, key=rank)
    merged_sizes = [0] * (len(order) + 1)
    union = set()
    for index in range(len(order) - 1, -1, -1):
        union |= groups[order[index]]
        merged_sizes[index] = len(union)
    kept_sizes = [0]
    for group in order:
        kept_sizes.append(kept_sizes[-1] + len(groups[group]))
    fitting = [index for index in range(len(order) + 1) if kept_sizes[index] + merged_sizes[index] + fixed <= cap]
    return set(order[: max(fitting, default=0)])


def _relabel(series, source_of, name_of) -> dict:
    result = {}
    for family, keys in series.items():
        for (name, source_id, status), value in keys.items():
            key = (
                name_of(name) if name is not None else None,
                source_of(source_id) if source_id is not None else None,
                status,
            )
            _put(result, family, key, value, BY_NAME.get(family, sum))
    return result


def _weights(series, position) -> dict:
    """Per source (``position`` 1) or task name (0): its stuck, pending and failed tasks, for ranking."""
    weights = {}
    for family, sign in (("tasks_stuck", 0), ("tasks_pending", 1), ("tasks_completed", 2)):
        for key, value in series.get(family, {}).items():
            if key[position] is None or (family == "tasks_completed" and key[2] not in FAILURE_STATUSES):
                continue
            weights.setdefault(key[position], [0, 0, 0])[sign] += value
    return weights


def _cap(series, cap) -> tuple:
    """The series within ``cap``: sources merged into OTHER first (unhealthy ones, then those with the most stuck,
    pending and failed tasks keep theirs longest), then task names. Returns the series and how many were dropped."""
    total = _count(series)
    if total <= cap:
        return series, 0
    by_source, fixed = {}, 0
    for family, keys in series.items():
        for name, source_id, status in keys:
            if family in BY_SOURCE:
                by_source.setdefault(source_id, set()).add((family, name, status))
            else:
                fixed += 1
    weights = _weights(series, 1)
    health = series.get("source_healthy", {})

    def source_rank(source_id):
        stuck, pending, failed = weights.get(source_id, (0, 0, 0))
        return (health.get((None, source_id, None), 1), -stuck, -pending, -failed, source_id)

    kept_sources = _keep(by_source, source_rank, fixed, cap)
    series = _relabel(series, lambda source_id: source_id if source_id in kept_sources else OTHER, lambda name: name)
    if _count(series) > cap:
        by_name, fixed = {}, 0
        for family, keys in series.items():
            for name, source_id, status in keys:
                if name is None:
                    fixed += 1
                else:
                    by_name.setdefault(name, set()).add((family, source_id, status))
        name_weights = _weights(series, 0)
        kept_names = _keep(by_name, lambda name: tuple(-figure for figure in name_weights.get(name, (0, 0, 0))) + (name,), fixed, cap)
        series = _relabel(series, lambda source_id: source_id, lambda name: name if name in kept_names else OTHER)
    return series, total - _count(series)


def _sample(family, labels, value) -> str:
    text = ",".join(f'{label}="{escape_label(label_value)}"' for label, label_value in labels)
    return f"{PREFIX}{family}{{{text}}} {format_value(value)}"


def _labels(family, key, tenant, names, statuses) -> list:
    name, source_id, status = key
    values = {"unique_name": name, "source_id": source_id, "source": names.get(source_id, source_id), "status": status}
    if family == "source_healthy":
        values["status"] = statuses.get(source_id, "")
    return [("tenant", tenant)] + [(label, values[label]) for label in FAMILIES[family][1]]


def exposition(families, tenant, names, statuses) -> str:
    """The text format (version 0.0.4, what node_exporter's textfile collector reads) of ``families``:
    {family: {key: value}}, in FAMILIES' order, samples sorted."""
    lines = []
    for family, (help_text, _labels_of_family) in FAMILIES.items():
        if family not in families:
            continue
        lines.append(f"# HELP {PREFIX}{family} {escape_help(help_text)}")
        lines.append(f"# TYPE {PREFIX}{family} gauge")
        for key in sorted(families[family], key=lambda key: tuple("" if part is None else part for part in key)):
            lines.append(_sample(family, _labels(family, key, tenant, names, statuses), families[family][key]))
    return "\n".join(lines) + "\n"


def task_report_metrics(
    completed,
    pending=None,
    tenant=None,
    stuck_after="6h",
    now=None,
    success=True,
    sources=None,
    api_usage=None,
    api_requests=None,
    max_series=DEFAULT_MAX_SERIES,
) -> str:
    """The Prometheus text exposition of a tenant's task state, from the tasks the task_report role read."""
    if not tenant or not isinstance(tenant, str):
        raise AnsibleFilterError("task_report_metrics: tenant must name the tenant")
    moment = _now(now)
    cap = whole_number(max_series, "task_report_metrics_max_series", MIN_MAX_SERIES)
    families, names, statuses = {}, {}, {}
    if success:
        stuck_seconds = duration_seconds(stuck_after, "task_report_stuck_after")
        tasks = _merge_tasks(completed, pending)
        families, names = _task_series(tasks, moment, stuck_seconds)
        if sources is not None:
            families["source_healthy"], statuses = _health_series(sources, names)
        families, dropped = _cap(families, cap)
        families["metrics_series_dropped"] = {(None, None, None): dropped}
        families["stuck_threshold_seconds"] = {(None, None, None): stuck_seconds}
        created = [moment for moment in (_created_at(task) for task in tasks if not is_pending(task)) if moment is not None]
        if created:
            families["report_window_seconds"] = {(None, None, None): max(int((moment - min(created)).total_seconds()), 0)}
    if api_usage is not None:
        families["api_usage_calls"] = {(None, None, None): whole_number(api_usage, "api_usage")}
    if api_requests is not None:
        families["report_api_requests"] = {(None, None, None): whole_number(api_requests, "api_requests")}
    families["report_success"] = {(None, None, None): int(bool(success))}
    families["report_timestamp_seconds"] = {(None, None, None): _timestamp(moment)}
    return exposition(families, tenant, names, statuses)


class FilterModule:
    """The task_report role's metrics filter."""

    def filters(self):
        return {"task_report_metrics": task_report_metrics}
