# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A server that echoes the token request with the client secret placed across the point where a message cuts it.

The collection quotes at most 500 characters of an error body that is not JSON (HTTP 500 here) and 200 of an answer
that is not what ISC sends (HTTP 200 here). The emulator's ``echo_straddle`` puts the middle of the secret exactly
there, in each encoding. Whatever is shown (a module's result, a playbook's output at default verbosity and at -vvvv,
the stuck_tasks report, the event source's events) must hold no run of RUN consecutive characters of any spelling of
the secret: not as sent, urlencoded (once or twice), JSON- or HTML-escaped, nor base64 at any alignment.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
from urllib.parse import quote, quote_plus

import pytest
import yaml

from ansible_collections.sailpoint.isc.extensions.eda.plugins.event_source import task_status as event_source
from ansible_collections.sailpoint.isc.tests.hostile.emulator import running_emulator
from ansible_collections.sailpoint.isc.tests.hostile.harness import answer_counts, judge, run_module
from ansible_collections.sailpoint.isc.tests.hostile.ledger import LEDGER
from ansible_collections.sailpoint.isc.tests.hostile.playbook import run_playbook
from ansible_collections.sailpoint.isc.tests.utils.secret_scan import describe as describe_secrets

# 64 characters, each encoding spells differently; no word of it occurs in ordinary output
SECRET = "Zq/7Kx+&=%\u00fc\"<>' #\\-vW2mX9pL4wR8tN6yB3hJ5dF1gS0cVaEuYoTrQn8Mk3Hs6Gj"
# Eight is the redactor's shortest base64 fragment: below it a run of the secret's characters matches ordinary text.
RUN = 8
ENCODINGS = ("raw", "urlencoded", "html", "json", "base64", "base64-offset1", "base64-offset2", "base64url-nopad")
# the HTTP status of the echo -> where the collection cuts what it quotes of such an answer
CUTS = {500: 500, 200: 200}
CASES = [(encoding, status) for encoding in ENCODINGS for status in CUTS]
MODULE_SCENARIO = "hostile server: secret across the cut (modules)"
PLAYBOOK_SCENARIO = "hostile server: secret across the cut (playbooks, reports)"
SOURCE_SCENARIO = "hostile server: secret across the cut (event source)"


def _base64_cores(text: str) -> list[str]:
    """The base64 characters that only ``text``'s bytes decide, at each of the three alignments, in both alphabets."""
    data = text.encode("utf-8")
    cores = []
    for alignment in range(3):
        encoded = base64.b64encode(b"\0" * alignment + data).decode("ascii")
        core = encoded[-(-(alignment * 8) // 6) : (alignment + len(data)) * 8 // 6]
        cores += [core, core.translate(str.maketrans("+/", "-_"))]
    return cores


def _spellings(secret: str) -> list[str]:
    """The secret as sent, urlencoded (once, as in the token request's form, or twice, as in an echo of the form) and
    JSON-escaped, and each of these base64 encoded. Escapes stacked on escapes are left out: a run of their syntax
    alone (``&amp;amp``) is ordinary escaped text, and the whole-needle scan covers them."""
    form = quote_plus(secret)
    texts = [
        secret,
        form,
        quote(secret, safe=""),
        quote_plus(form),
        quote(form, safe=""),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    ]
    return texts + [core for text in texts for core in _base64_cores(text)]


def partial_runs(text: str, secret: str = SECRET) -> list[str]:
    """Every run of RUN characters of any spelling of ``secret`` found in ``text``."""
    runs = {spelling[start : start + RUN] for spelling in _spellings(secret) for start in range(len(spelling) - RUN + 1)}
    return sorted({text[start : start + RUN] for start in range(len(text) - RUN + 1) if text[start : start + RUN] in runs})


def _tenant(encoding, status):
    return f"cut-{encoding}-{status}"


@pytest.fixture(scope="module")
def server():
    with running_emulator(tenants=tuple(_tenant(encoding, status) for encoding, status in CASES), tasks=5, pending=1, stuck=2) as running:
        yield running


def _connection(server, tenant):
    server.reset(tenant)
    return dict(server.set_client("admin", SECRET, tenant), retries=0, timeout=10)


def _echo(server, encoding, status, tenant, **settings):
    server.set_faults(tenant=tenant, echo=[encoding], echo_on=["token"], echo_status=status, echo_straddle=CUTS[status], **settings)


def _echoed(server, tenant, since=0) -> int:
    return sum(1 for entry in server.requests(tenant=tenant, since=since) if str(entry.get("fault") or "").startswith("echo:"))


def _problems(text: str, where: str, server) -> list[str]:
    found = [f"{where}: a run of {RUN} characters of the secret: {run!r}" for run in partial_runs(text)]
    return found + [f"secret shown: {line}" for line in describe_secrets(text, server.secrets(), where)]


@pytest.mark.parametrize("encoding, status", CASES, ids=[f"{encoding}-{status}" for encoding, status in CASES])
def test_module_shows_no_part_of_a_secret_echoed_across_the_cut(encoding, status, server):
    tenant = _tenant(encoding, status)
    connection = _connection(server, tenant)
    _echo(server, encoding, status, tenant)
    observation = run_module("task_status_info", dict(connection, scope="completed", count=True), check_mode=True)
    echoed = _echoed(server, tenant)
    problems = judge(observation, "(none)", expect="either", secrets=server.secrets())
    if observation.outcome != "failed":
        problems.append(f"an echo in place of the token was not a failure: {observation.outcome}")
    shown = json.dumps(observation.result, ensure_ascii=False) + "\n" + observation.msg
    problems += _problems(shown, "task_status_info result", server)
    LEDGER.row(MODULE_SCENARIO).record(faults_injected=echoed, **answer_counts(observation, problems))
    assert echoed == 1, f"the emulator echoed {echoed} token requests"
    assert not problems, LEDGER.found(f"echo {encoding} across the {CUTS[status]}-character cut", problems, observation.describe(), MODULE_SCENARIO)


def _second_draw_seed(rate=0.5) -> int:
    """A fault seed under which a tenant's first echo draw passes and its second echoes: the stuck_tasks role's
    listing gets its token, and task_status, which fetches its own, meets the echo."""
    for seed in range(1000):
        draws = random.Random(seed)
        if draws.random() >= rate and draws.random() < rate:
            return seed
    raise AssertionError("no such seed")


def _probe_playbook(path):
    play = {
        "name": "Read through an echo across the cut",
        "hosts": "isc_tenants",
        "connection": "local",
        "gather_facts": False,
        "tasks": [
            {
                "name": "Count the completed tasks",
                "sailpoint.isc.task_status_info": {
                    "base_url": "{{ isc_base_url }}",
                    "client_id": "{{ isc_client_id }}",
                    "client_secret": "{{ isc_client_secret }}",
                    "retries": 0,
                    "scope": "completed",
                    "count": True,
                },
                "ignore_errors": True,
            }
        ],
    }
    path.write_text(yaml.safe_dump([play], sort_keys=False), encoding="utf-8")
    return str(path)


PLAYBOOK_RUNS = [(playbook, verbosity) for playbook in ("probe", "sailpoint.isc.clear_stuck_tasks") for verbosity in (0, 4)]
# The runbook's modules retry a 500 five times with backoff: the report is shown the 200 echo, which is not retried.
RUNBOOK_CASES = [(encoding, status) for encoding, status in CASES if status == 200]


@pytest.mark.parametrize("playbook, verbosity", PLAYBOOK_RUNS, ids=[f"{playbook.split('.')[-1]}-v{verbosity}" for playbook, verbosity in PLAYBOOK_RUNS])
def test_playbook_output_and_reports_show_no_part_of_the_secret(playbook, verbosity, server, tmp_path, collections_path):
    hosts = {}
    seed = _second_draw_seed()
    cases = CASES if playbook == "probe" else RUNBOOK_CASES
    for encoding, status in cases:
        tenant = _tenant(encoding, status)
        connection = _connection(server, tenant)
        hosts[tenant] = {
            "isc_base_url": connection["base_url"],
            "isc_client_id": connection["client_id"],
            "isc_client_secret": connection["client_secret"],
            "stuck_tasks_report_dir": str(tmp_path / "run" / "reports"),
            "stuck_tasks_older_than": "1s",
        }
        if playbook == "probe":
            _echo(server, encoding, status, tenant)
        else:
            _echo(server, encoding, status, tenant, echo_rate=0.5, fault_seed=seed)
    try:
        name = _probe_playbook(tmp_path / "probe.yml") if playbook == "probe" else playbook
        run = run_playbook(name, tmp_path / "run", collections_path, hosts, verbosity=verbosity)
    finally:
        for encoding, status in CASES:
            server.set_faults(tenant=_tenant(encoding, status))
    # each tenant's request log began with its reset
    echoed = sum(_echoed(server, tenant) for tenant in hosts)
    reports = sorted((tmp_path / "run" / "reports").rglob("stuck-tasks-*")) if playbook != "probe" else []
    problems = [f"traceback: {excerpt}" for excerpt in run.tracebacks()]
    problems += _problems(run.everything(), f"{playbook} -v{verbosity}", server)
    failed_hosts = {result["host"] for result in run.results if result["status"] in ("failed", "ignored")}
    if failed_hosts != set(hosts):
        problems.append(f"hosts that met no echo, or took it for a good answer: {sorted(set(hosts) - failed_hosts)}")
    if playbook != "probe" and len(reports) != 2 * len(hosts):
        problems.append(f"{len(reports)} report files for {len(hosts)} tenants; each run writes a JSON and a Markdown report")
    LEDGER.row(PLAYBOOK_SCENARIO).record(
        faults_injected=echoed,
        tracebacks=len(run.tracebacks()),
        leaks_found=sum(1 for problem in problems if " characters of the secret" in problem or problem.startswith("secret shown")),
        clear_errors=len(failed_hosts) if not problems else 0,
    )
    if echoed < len(hosts):
        problems.append(f"the emulator echoed {echoed} requests for {len(hosts)} tenants")
    seen = "\n".join(f"{result['host']} / {result['task']}: {result['status']}: {result['msg'][:160]}" for result in run.results if result["status"] != "ok")
    assert not problems, LEDGER.found(f"{playbook} -v{verbosity} with echoes across the cut", problems, seen, PLAYBOOK_SCENARIO)


async def _first_event(source):
    queue = asyncio.Queue()
    running = asyncio.ensure_future(source.run(queue, sleep=lambda _seconds: asyncio.sleep(3600)))
    try:
        return await asyncio.wait_for(queue.get(), 60)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


@pytest.mark.parametrize("encoding, status", CASES, ids=[f"{encoding}-{status}" for encoding, status in CASES])
def test_event_source_error_events_show_no_part_of_the_secret(encoding, status, server, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    tenant = _tenant(encoding, status)
    connection = _connection(server, tenant)
    _echo(server, encoding, status, tenant)
    source = event_source.TaskStatusSource(dict(connection, api_version="v2025"))
    event = asyncio.run(_first_event(source))
    echoed = _echoed(server, tenant)
    problems = [] if event.get("kind") == "error" else [f"the first event is {event.get('kind')!r}, not an error"]
    problems += _problems(json.dumps(event, ensure_ascii=False), "event source error event", server)
    LEDGER.row(SOURCE_SCENARIO).record(faults_injected=echoed, leaks_found=sum(1 for problem in problems if "secret" in problem), clear_errors=not problems)
    assert echoed, "the emulator echoed no token request"
    assert not problems, LEDGER.found(f"event source, echo {encoding} across the {CUTS[status]}-character cut", problems, json.dumps(event), SOURCE_SCENARIO)
