# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Monitoring with the real tools (make monitoring): the task_report role's metrics files under `promtool check
metrics` (a demo tenant, and a tenant whose task and source names hold quotes, backslashes, line feeds and non-ASCII),
the alert rules under `promtool check rules` and `promtool test rules`, and every metric the dashboard and the alerts
query against what the role writes."""

from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from ansible_collections.sailpoint.isc.plugins.filter.task_report_metrics import FAMILIES, PREFIX, task_report_metrics
from ansible_collections.sailpoint.isc.plugins.module_utils._aggregations import AGGREGATION_KINDS
from ansible_collections.sailpoint.isc.tests.hostile.emulator import new_task, running_emulator
from ansible_collections.sailpoint.isc.tests.hostile.playbook import run_playbook
from ansible_collections.sailpoint.isc.tests.unit.plugins.filter.test_task_report_metrics import parse, values

COLLECTION = pathlib.Path(__file__).resolve().parents[2]
MONITORING = COLLECTION / "extensions" / "monitoring"
DASHBOARD = MONITORING / "grafana" / "sailpoint-isc-tasks.json"
HOSTILE = 'Agg "quoted" \\ back\\slash\nline feed \u00e9t\u00e9 \u6f22\u5b57 \U0001f600'
HOSTILE_SOURCE = 'HR "main" \\\\ share\nsecond line \u00fc\u00df'
_METRIC = re.compile(r"\b(sailpoint_isc[a-z0-9_:]*)")
_NAME_MATCHER = re.compile(r'unique_name=~"([^"]*)"')


def promtool(*arguments, stdin=None):
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is missing: make monitoring installs Debian's prometheus package (apt-get install prometheus) when run as root")
    return subprocess.run([tool, *arguments], input=stdin, capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="module")
def collections_path() -> str:
    if COLLECTION.parent.parent.name != "ansible_collections":
        pytest.fail(f"run this suite from a collection tree (make monitoring), not from {COLLECTION}")
    return str(COLLECTION.parent.parent.parent)


def _hostile_tasks():
    source = {"id": "hostile-source-1", "type": "APPLICATION", "name": HOSTILE_SOURCE}
    day_ago = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return [
        new_task(uniqueName=HOSTILE, target=source, completionStatus=None, completed=None, created=day_ago, launched=day_ago, percentComplete=5),
        new_task(uniqueName=HOSTILE, target=source, completionStatus="ERROR", percentComplete=100),
        new_task(uniqueName="Cloud Account Aggregation", target=source, completionStatus="SUCCESS", percentComplete=100),
    ]


def _hosts(emulator, tenants, **variables):
    hosts = {}
    for tenant in tenants:
        connection = emulator.connection(tenant)
        hosts[tenant] = {"isc_base_url": connection["base_url"], "isc_client_id": connection["client_id"], "isc_client_secret": connection["client_secret"]}
        hosts[tenant].update(variables)
    return hosts


@pytest.fixture(scope="module")
def role_output(tmp_path_factory, collections_path):
    """The role run twice on a demo tenant and a hostile one, without and with prom: files and request counts."""
    work = tmp_path_factory.mktemp("monitoring")
    with running_emulator(tenants=("demo", "hostile"), tasks=60, pending=3, stuck=5) as emulator:
        emulator.put_tasks(_hostile_tasks(), tenant="hostile")
        runs = {}
        for label, formats, optional in (("without", ["json"], "never"), ("with", ["json", "prom"], "never"), ("auto", ["json", "prom"], "auto")):
            since = emulator.last_seq()
            variables = {
                "task_report_dir": str(work / label / "reports"),
                "task_report_formats": formats,
                "task_report_source_health": optional,
                "task_report_api_usage": optional,
            }
            run = run_playbook("sailpoint.isc.task_report", work / label, collections_path, _hosts(emulator, ("demo", "hostile"), **variables))
            assert run.returncode == 0, run.stdout[-3000:]
            requests = {tenant: len(emulator.requests(tenant=tenant, since=since)) for tenant in ("demo", "hostile")}
            runs[label] = {"folder": work / label / "reports", "requests": requests}
        yield runs


@pytest.mark.parametrize("tenant", ["demo", "hostile"])
def test_promtool_accepts_what_the_role_writes(role_output, tenant):
    for label in ("with", "auto"):
        metrics = role_output[label]["folder"] / f"{tenant}.prom"
        checked = promtool("check", "metrics", stdin=metrics.read_text(encoding="utf-8"))
        assert checked.returncode == 0 and not checked.stdout.strip(), f"{metrics}: {checked.stdout}{checked.stderr}"
    assert not list(role_output["with"]["folder"].glob(".*")), "a temporary file was left beside the metrics"


def test_hostile_names_arrive_unchanged(role_output):
    samples, _announced = parse((role_output["with"]["folder"] / "hostile.prom").read_text(encoding="utf-8"))
    assert values(samples, "tasks_pending", unique_name=HOSTILE, source=HOSTILE_SOURCE, source_id="hostile-source-1") == [1.0]
    assert values(samples, "tasks_stuck", unique_name=HOSTILE, source=HOSTILE_SOURCE) == [1.0]
    assert values(samples, "tasks_completed", unique_name=HOSTILE, status="ERROR") == [1.0]
    assert values(samples, "task_last_completion_timestamp_seconds", unique_name="Cloud Account Aggregation", source=HOSTILE_SOURCE, status="SUCCESS")


def test_the_metrics_cost_no_request_and_count_every_one_sent(role_output):
    assert role_output["with"]["requests"] == role_output["without"]["requests"]
    for label in ("with", "auto"):
        for tenant, sent in role_output[label]["requests"].items():
            samples, _announced = parse((role_output[label]["folder"] / f"{tenant}.prom").read_text(encoding="utf-8"))
            assert values(samples, "report_api_requests") == [float(sent)], f"{label} {tenant}"
            assert values(samples, "report_success") == [1.0]


def test_a_failed_read_leaves_success_zero(tmp_path, collections_path):
    with running_emulator(tenants=("demo",), tasks=10) as emulator:
        hosts = _hosts(emulator, ("demo",), task_report_dir=str(tmp_path / "reports"), task_report_formats=["json", "prom"])
        hosts["demo"]["isc_client_secret"] = "not-the-secret"
        run = run_playbook("sailpoint.isc.task_report", tmp_path / "run", collections_path, hosts)
        sent = len(emulator.requests(tenant="demo"))
    assert run.returncode != 0 and "ISC refused client_id" in run.failure("demo")["msg"]
    text = (tmp_path / "reports" / "demo.prom").read_text(encoding="utf-8")
    assert promtool("check", "metrics", stdin=text).returncode == 0
    samples, announced = parse(text)
    assert values(samples, "report_success") == [0.0] and values(samples, "report_api_requests") == [float(sent)]
    assert PREFIX + "tasks_pending" not in announced


def test_promtool_checks_the_alert_rules():
    checked = promtool("check", "rules", str(MONITORING / "alerts.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 10 rules found" in checked.stdout


def test_every_alert_fires_and_resolves_at_its_minute():
    tested = promtool("test", "rules", str(MONITORING / "alerts_test.yml"))
    assert tested.returncode == 0, tested.stdout + tested.stderr
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text(encoding="utf-8"))
    alerts = {rule["alert"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule}
    cases = yaml.safe_load((MONITORING / "alerts_test.yml").read_text(encoding="utf-8"))["tests"]
    checks = [check for case in cases for check in case["alert_rule_test"]]
    for alert in alerts:
        seen = [bool(check["exp_alerts"]) for check in checks if check["alertname"] == alert]
        # each alert is seen firing, then resolved
        assert True in seen and False in seen[seen.index(True) :], f"{alert}: {seen}"


def _queried(texts) -> set:
    return {match for text in texts for match in _METRIC.findall(text)}


def _full_exposition() -> set:
    """Every family the role can write: the task families, source health and API usage given."""
    text = task_report_metrics(
        [{"id": "c", "uniqueName": "Task", "completionStatus": "SUCCESS", "created": "2026-01-01T00:00:00Z", "completed": "2026-01-01T00:01:00Z"}],
        pending=[{"id": "p", "uniqueName": "Task", "completionStatus": None, "created": "2026-01-01T00:00:00Z"}],
        tenant="demo",
        now="2026-01-02T00:00:00Z",
        sources=[{"id": "s", "name": "S", "healthy": True, "status": "SOURCE_STATE_HEALTHY"}],
        api_usage=1,
        api_requests=3,
    )
    return set(parse(text)[1])


def test_every_metric_the_dashboard_and_the_alerts_query_exists(role_output):
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text(encoding="utf-8"))
    recorded = {rule["record"] for group in rules["groups"] for rule in group["rules"] if "record" in rule}
    alert_queries = _queried(rule["expr"] for group in rules["groups"] for rule in group["rules"] if "alert" in rule)
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    dashboard_queries = _queried(target["expr"] for panel in dashboard["panels"] for target in panel["targets"])
    dashboard_queries |= _queried(variable["definition"] for variable in dashboard["templating"]["list"] if "definition" in variable)
    written = _full_exposition()
    assert written == {PREFIX + family for family in FAMILIES}
    assert alert_queries - recorded <= written and dashboard_queries - recorded <= written
    assert alert_queries - recorded and dashboard_queries - recorded
    # the families the role wrote for the demo tenant with source health and API usage left out
    _samples, announced = parse((role_output["with"]["folder"] / "demo.prom").read_text(encoding="utf-8"))
    assert set(announced) == written - {PREFIX + "source_healthy", PREFIX + "api_usage_calls"}


def test_the_dashboard_takes_its_datasource_from_a_variable():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert [variable["name"] for variable in dashboard["templating"]["list"] if variable["type"] == "datasource"] == ["datasource"]
    sources = [panel["datasource"] for panel in dashboard["panels"]] + [target["datasource"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert all(source == {"type": "prometheus", "uid": "${datasource}"} for source in sources)
    provisioning = yaml.safe_load((MONITORING / "grafana" / "provisioning" / "dashboards.yml").read_text(encoding="utf-8"))
    assert provisioning["apiVersion"] == 1 and provisioning["providers"][0]["type"] == "file"


def test_the_aggregations_the_rules_and_the_dashboard_name_are_the_collections_table():
    rules = (MONITORING / "alerts.yml").read_text(encoding="utf-8")
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    queries = [rules] + [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    matchers = {matcher for text in queries for matcher in _NAME_MATCHER.findall(" ".join(text.split()))}
    candidates = set(AGGREGATION_KINDS) | {"Identity Refresh", "Cloud Account Aggregation (copy)", "Cloud Group", "Account Aggregation"}
    assert matchers
    for matcher in matchers:
        # PromQL anchors its regular expressions at both ends
        assert {name for name in candidates if re.fullmatch(matcher, name)} == set(AGGREGATION_KINDS), matcher
