# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The task_report role's Prometheus exposition: figures, escaping read back by the format's own rules, the cap."""

from __future__ import annotations

import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.task_report_metrics import FAMILIES, MIN_MAX_SERIES, PREFIX, FilterModule, task_report_metrics

NOW = "2024-05-17T12:00:00.000Z"
HOSTILE = 'Agg "quoted" \\ back\\slash\nnew line é 漢字 \U0001f600'


def task(task_id, name="Cloud Account Aggregation", started="2024-05-17T11:00:00.000Z", status=None, completed=None, source=("src1", "AD")):
    return {
        "id": task_id,
        "uniqueName": name,
        "target": {"id": source[0], "type": "APPLICATION", "name": source[1]} if source else None,
        "created": started,
        "launched": started,
        "completed": completed,
        "completionStatus": status,
    }


_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)\{(?P<labels>.*)\} (?P<value>\S+)$")


def _labels(text):
    """Label pairs read with the text format's rules: a value ends at an unescaped quote; \\\\, \\" and \\n escapes."""
    labels, position = {}, 0
    while position < len(text):
        equals = text.index("=", position)
        name = text[position:equals]
        assert text[equals + 1] == '"'
        value, cursor = [], equals + 2
        while text[cursor] != '"':
            if text[cursor] == "\\":
                value.append({"\\": "\\", '"': '"', "n": "\n"}[text[cursor + 1]])
                cursor += 2
            else:
                value.append(text[cursor])
                cursor += 1
        labels[name] = "".join(value)
        position = cursor + 1
        if position < len(text):
            assert text[position] == ","
            position += 1
    return labels


def parse(exposition):
    """[(metric, labels, value)] and the families announced, checking HELP and TYPE precede their samples."""
    samples, announced = [], []
    assert exposition.endswith("\n")
    for line in exposition.splitlines():
        assert "\n" not in line and "\r" not in line
        if line.startswith("# HELP "):
            announced.append(line.split(" ")[2])
        elif line.startswith("# TYPE "):
            assert line.split(" ")[2:] == [announced[-1], "gauge"]
        else:
            match = _SAMPLE.match(line)
            assert match, line
            assert match["name"] == announced[-1]
            samples.append((match["name"], _labels(match["labels"]), float(match["value"])))
    return samples, announced


def values(samples, metric, **wanted):
    return [value for name, labels, value in samples if name == PREFIX + metric and all(labels.get(key) == want for key, want in wanted.items())]


def test_the_figures_of_a_tenant():
    tasks = [
        task("c1", status="SUCCESS", completed="2024-05-17T10:00:00.000Z"),
        task("c2", status="Error", completed="2024-05-17T11:30:00.000Z"),
        task("c3", name="Identity Refresh", status="SUCCESS", completed="2024-05-16T10:00:00.000Z", source=None, started="2024-05-16T09:00:00.000Z"),
    ]
    pending = [
        task("p1", started="2024-05-17T06:00:00.000Z"),  # exactly 6h: stuck, as the one rule says
        task("p2", started="2024-05-17T06:00:01.000Z"),
        # completed written before its status: still pending
        dict(task("p3", started="2024-05-16T12:00:00.000Z", source=("src2", "HR")), completed="2024-05-17T11:00:00.000Z"),
        task("c1", status=None),  # completed between the two reads: counted once, as completed
    ]
    samples, announced = parse(task_report_metrics(tasks, pending=pending, tenant="acme", stuck_after="6h", now=NOW, api_requests=7))
    assert all(labels["tenant"] == "acme" for _name, labels, _value in samples)
    assert values(samples, "tasks_pending", source="AD") == [2.0] and values(samples, "tasks_pending", source="HR") == [1.0]
    assert values(samples, "tasks_stuck", source="AD") == [1.0] and values(samples, "tasks_stuck", source_id="src2") == [1.0]
    assert values(samples, "task_oldest_pending_age_seconds", source="AD") == [6 * 3600.0]
    assert values(samples, "task_oldest_pending_age_seconds", source="HR") == [86400.0]
    assert values(samples, "tasks_completed", unique_name="Cloud Account Aggregation", status="SUCCESS") == [1.0]
    assert values(samples, "tasks_completed", unique_name="Cloud Account Aggregation", status="ERROR") == [1.0]
    assert values(samples, "task_last_completion_timestamp_seconds", source="AD", status="ERROR") == [1715945400.0]
    assert values(samples, "task_last_completion_timestamp_seconds", unique_name="Identity Refresh", source_id="") == [1715853600.0]
    assert values(samples, "stuck_threshold_seconds") == [21600.0]
    assert values(samples, "report_window_seconds") == [27 * 3600.0]
    assert values(samples, "report_api_requests") == [7.0] and values(samples, "report_success") == [1.0]
    assert values(samples, "report_timestamp_seconds") == [1715947200.0]
    assert values(samples, "metrics_series_dropped") == [0.0]
    # nothing given, nothing written: no source health, no API usage
    assert PREFIX + "source_healthy" not in announced and PREFIX + "api_usage_calls" not in announced


def test_hostile_names_are_escaped_and_read_back_unchanged():
    tasks = [task("c1", name=HOSTILE, status="SUCCESS", completed="2024-05-17T10:00:00.000Z", source=(HOSTILE + "id", HOSTILE))]
    sources = [{"id": HOSTILE + "id", "name": HOSTILE, "healthy": False, "status": 'SOURCE_STATE_"ERROR"\n'}]
    exposition = task_report_metrics(tasks, pending=[task("p1", name=HOSTILE, source=(HOSTILE + "id", HOSTILE))], tenant="acme", now=NOW, sources=sources)
    samples, _announced = parse(exposition)
    assert values(samples, "tasks_pending", unique_name=HOSTILE, source=HOSTILE, source_id=HOSTILE + "id") == [1.0]
    assert values(samples, "source_healthy", source=HOSTILE, status='SOURCE_STATE_"ERROR"\n') == [0.0]
    assert "漢字" in exposition and "\\u" not in exposition
    exposition.encode("utf-8")


def test_a_lone_surrogate_cannot_break_the_file():
    exposition = task_report_metrics([], pending=[task("p1", name="bad \ud800 name")], tenant="acme", now=NOW)
    exposition.encode("utf-8")
    assert values(parse(exposition)[0], "tasks_pending", unique_name="bad ? name") == [1.0]


def test_source_health_and_api_usage():
    sources = [
        {"id": "src1", "name": "AD", "healthy": True, "status": "SOURCE_STATE_HEALTHY"},
        {"id": "src9", "name": "Idle", "healthy": False, "status": "SOURCE_STATE_ERROR_VA"},
    ]
    samples, _announced = parse(task_report_metrics([], tenant="acme", now=NOW, sources=sources, api_usage=123456))
    assert values(samples, "source_healthy", source="AD", status="SOURCE_STATE_HEALTHY") == [1.0]
    assert values(samples, "source_healthy", source_id="src9", source="Idle") == [0.0]
    assert values(samples, "api_usage_calls") == [123456.0]


def test_a_failed_read_writes_only_the_reports_own_metrics():
    samples, announced = parse(task_report_metrics(None, tenant="acme", now=NOW, success=False, api_requests=2))
    assert announced == [PREFIX + name for name in ("report_api_requests", "report_success", "report_timestamp_seconds")]
    assert values(samples, "report_success") == [0.0] and values(samples, "report_api_requests") == [2.0]


def _many(sources, names=1, per_source=2):
    tasks = []
    for source in range(sources):
        for name in range(names):
            for number in range(per_source):
                status = None if number == 0 else "SUCCESS"
                tasks.append(
                    task(
                        f"t{source}-{name}-{number}",
                        name=f"Task {name}",
                        status=status,
                        completed="2024-05-17T10:00:00.000Z" if status else None,
                        source=(f"s{source:04d}", f"Source {source}"),
                    )
                )
    return tasks


def _task_samples(samples):
    capped = ("tasks_pending", "tasks_stuck", "task_oldest_pending_age_seconds", "tasks_completed", "task_last_completion_timestamp_seconds", "source_healthy")
    return [sample for sample in samples if sample[0][len(PREFIX) :] in capped]


def test_the_cap_merges_sources_into_other_and_says_how_many_series():
    tasks = _many(300)
    sources = [{"id": f"s{number:04d}", "name": f"Source {number}", "healthy": number != 250, "status": ""} for number in range(300)]
    uncapped = parse(task_report_metrics(tasks, tenant="acme", now=NOW, sources=sources, max_series=100000))[0]
    samples = parse(task_report_metrics(tasks, tenant="acme", now=NOW, sources=sources, max_series=200))[0]
    assert len(_task_samples(samples)) <= 200
    assert values(samples, "metrics_series_dropped") == [float(len(uncapped) - len(samples))]
    assert len(uncapped) - len(samples) > 0
    # the figures survive the merge: every pending task still counted, the unhealthy source kept by name
    assert sum(values(samples, "tasks_pending")) == 300
    assert values(samples, "source_healthy", source="Source 250") == [0.0]
    assert values(samples, "source_healthy", source="_other", source_id="_other") == [1.0]
    assert values(samples, "tasks_pending", source="_other")[0] > 1


def test_the_cap_merges_task_names_when_merging_sources_is_not_enough():
    tasks = _many(3, names=40)
    samples = parse(task_report_metrics(tasks, tenant="acme", now=NOW, max_series=MIN_MAX_SERIES))[0]
    assert sum(values(samples, "tasks_pending")) == 120 and sum(values(samples, "tasks_completed")) == 120
    assert values(samples, "tasks_pending", unique_name="_other", source="_other")[0] >= 100
    assert len(_task_samples(samples)) <= MIN_MAX_SERIES and values(samples, "metrics_series_dropped")[0] > 0


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"tenant": ""}, "tenant must name the tenant"),
        ({"max_series": 3}, "task_report_metrics_max_series must be a whole number of 16 or more"),
        ({"max_series": "lots"}, "task_report_metrics_max_series must be a whole number"),
        ({"stuck_after": "soon"}, "task_report_stuck_after"),
        ({"pending": "p1"}, "pending must be a list"),
        ({"sources": {"id": "x"}}, "sources must be a list"),
        ({"api_usage": -1}, "api_usage must be a whole number"),
    ],
)
def test_bad_arguments_are_named(arguments, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        task_report_metrics([], **dict({"tenant": "acme", "now": NOW}, **arguments))


def test_every_family_is_documented_and_registered():
    assert FilterModule().filters() == {"task_report_metrics": task_report_metrics}
    assert all(help_text and not help_text.endswith(" ") for help_text, _labels in FAMILIES.values())
