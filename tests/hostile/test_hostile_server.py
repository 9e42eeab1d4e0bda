# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A hostile server: answers that are malformed, and 500s that echo the whole request in every encoding.

The emulator's fault modes (POST /_control/faults ``malformed`` and ``echo``) produce them. Modules run in this
process; the collection's playbooks and a probe playbook of module calls run at -vvvv. In every run, success or
failure: no traceback, a failure caused by a bad answer blames the server, and the client secret and every token
the emulator issued appear nowhere (stdout, log file, results, warnings, reports) in any encoding
(tests/utils/secret_scan.py).
"""

from __future__ import annotations

import json
import re

import pytest
import yaml

from ansible_collections.sailpoint.isc.tests.hostile.emulator import running_emulator
from ansible_collections.sailpoint.isc.tests.hostile.harness import answer_counts, judge, leaks, run_module
from ansible_collections.sailpoint.isc.tests.hostile.ledger import LEDGER
from ansible_collections.sailpoint.isc.tests.hostile.playbook import run_playbook
from ansible_collections.sailpoint.isc.tests.utils.secret_scan import describe as describe_secrets

# Characters that make every encoding of the secret differ from the others (urlencoded, JSON, HTML, base64).
SECRET = "Hostile/Secret+&=%\u00fc\"<>' #\\-0123456789abcdef"
ENCODINGS = ("raw", "urlencoded", "base64", "base64url", "base64-nopad", "base64url-nopad", "base64-offset1", "base64-offset2", "json", "html")
# A failure that blames the server says so: its answer, ISC, the server, or the HTTP status it sent.
BLAMES_SERVER = re.compile(r"(?i)\b(answer(ed|s)?|ISC|server|response|HTTP \d{3}|not JSON)\b")
# Bad answers a module must not take for a good one: each of them has to end in a clear error. (An expires_in that
# is not a number may be read as "lifetime unknown"; a PATCH answered with nothing may be confirmed by a read.)
MUST_FAIL = {"not_json", "truncated", "short_body", "html_error", "html_page", "token_no_access_token", "wrong_type", "items_not_objects"}
MUST_FAIL_UNLESS_PATCH = {"empty"}
ANY = ("not_json", "truncated", "short_body", "html_error", "html_page", "empty")
TOKEN = ("token_expires_in", "token_expires_in_huge", "token_expires_in_negative", "token_no_access_token")
TASK = ("wrong_type", "missing_fields", "wrong_field_types")
LIST = ("items_not_objects", "total_count")
MALFORMED_SCENARIO = "hostile server: malformed answers"
ECHO_SCENARIO = "hostile server: echoed requests (modules)"
PLAYBOOK_SCENARIO = "hostile server: playbooks at -vvvv"


@pytest.fixture(scope="module")
def server():
    with running_emulator(tenants=("acme", "globex", "initech", "umbrella"), tasks=20, pending=2, stuck=3) as running:
        yield running


def _connection(server, tenant="acme"):
    """The admin client of ``tenant`` with SECRET as its secret, after a reset of the tenant."""
    server.reset(tenant)
    return dict(server.set_client("admin", SECRET, tenant), retries=1, timeout=10)


# ---- malformed answers


def _operations(server):
    """request kind -> (module, args, check mode) of a run whose answers of that kind the fault spoils."""
    return {
        "token": ("task_status_info", {}, True),
        "list": ("task_status_info", {"scope": "completed", "count": True}, True),
        "pending": ("task_status_info", {"scope": "pending", "count": True}, True),
        "get": ("task_status_info", {"id": server.completed_task()["id"]}, True),
        "patch": ("task_status", {"id": server.pending_task()["id"], "completion_status": "ERROR", "completed": "now"}, False),
    }


MALFORMED_RUNS = (
    [(kind, request) for kind in ANY for request in ("token", "list", "get", "patch")]
    + [(kind, "token") for kind in TOKEN]
    + [(kind, request) for kind in TASK for request in ("list", "get", "patch")]
    + [(kind, request) for kind in LIST for request in ("list", "pending")]
)


@pytest.mark.parametrize("kind, request_kind", MALFORMED_RUNS, ids=[f"{kind}-on-{request}" for kind, request in MALFORMED_RUNS])
def test_malformed_answer(kind, request_kind, server):
    connection = _connection(server)
    module, args, check_mode = _operations(server)[request_kind]
    server.set_faults(malformed=[kind], malformed_on=[request_kind], malformed_rate=1, fault_seed=1)
    try:
        observation = run_module(module, dict(connection, **args), check_mode=check_mode)
    finally:
        server.set_faults()
    spoiled = sum(1 for entry in server.requests(tenant="acme") if str(entry.get("fault") or "").startswith("malformed:"))
    problems = judge(observation, "(none)", expect="either", secrets=server.secrets())
    if observation.outcome == "failed" and not BLAMES_SERVER.search(observation.msg):
        problems.append("the failure does not blame the server's answer")
    if observation.outcome == "refused":
        problems.append("a bad answer was reported as a bad option")
    must_fail = kind in MUST_FAIL or (kind in MUST_FAIL_UNLESS_PATCH and request_kind != "patch")
    if must_fail and spoiled and observation.outcome == "accepted":
        problems.append(f"a {kind} answer was taken for a good one")
    if request_kind == "patch" and spoiled:
        problems += _patch_truthfulness(server, args["id"], observation)
    patched = request_kind == "patch"
    LEDGER.row(MALFORMED_SCENARIO).record(
        faults_injected=spoiled,
        tasks_targeted=patched,
        tasks_correct=patched and not any(problem.startswith("untruthful") for problem in problems),
        **answer_counts(observation, problems),
    )
    assert spoiled, f"the emulator spoiled no answer for malformed={kind} on {request_kind}: {server.requests(tenant='acme')[-5:]}"
    assert not problems, LEDGER.found(f"malformed {kind} on {request_kind}", problems, observation.describe(), MALFORMED_SCENARIO)


def _patch_truthfulness(server, task_id, observation) -> list:
    """A malformed answer to a PATCH comes after the PATCH was applied: the result must not deny it."""
    task = next(task for task in server.tasks() if task["id"] == task_id)
    applied = task.get("completionStatus") == "ERROR"
    if observation.outcome == "accepted" and not applied:
        return [f"untruthful: reported the task closed, but it is {task.get('completionStatus')}"]
    if observation.outcome == "failed" and applied and not re.search(r"(?i)appl", observation.msg):
        return ["untruthful: reported a failure without saying that the PATCH may have been applied (it was)"]
    return []


# ---- echoed requests, modules in this process


ECHO_RUNS = [(encoding, request) for encoding in ENCODINGS + ("all",) for request in ("token", "list", "get", "patch")]


@pytest.mark.parametrize("encoding, request_kind", ECHO_RUNS, ids=[f"{encoding}-on-{request}" for encoding, request in ECHO_RUNS])
def test_echoed_request(encoding, request_kind, server):
    connection = _connection(server)
    module, args, check_mode = _operations(server)[request_kind]
    server.set_faults(echo=encoding if encoding == "all" else [encoding], echo_on=[request_kind], echo_rate=1)
    try:
        observation = run_module(module, dict(connection, **args), check_mode=check_mode)
    finally:
        server.set_faults()
    echoed = sum(1 for entry in server.requests(tenant="acme") if str(entry.get("fault") or "").startswith("echo:"))
    problems = judge(observation, "(none)", expect="either", secrets=server.secrets())
    if observation.outcome == "accepted":
        problems.append("a 500 echo was taken for a good answer")
    elif observation.outcome == "failed" and not BLAMES_SERVER.search(observation.msg):
        problems.append("the failure does not blame the server's answer")
    LEDGER.row(ECHO_SCENARIO).record(faults_injected=echoed, **answer_counts(observation, problems))
    assert echoed, f"the emulator echoed no request for echo={encoding} on {request_kind}"
    assert not problems, LEDGER.found(f"echo {encoding} on {request_kind}", problems, observation.describe(), ECHO_SCENARIO)


def test_success_shows_no_secret(server):
    """The plain path: every operation of both modules, and nothing secret in what they return."""
    connection = _connection(server)
    problems = []
    for request_kind, (module, args, check_mode) in _operations(server).items():
        observation = run_module(module, dict(connection, **args), check_mode=check_mode)
        if observation.outcome != "accepted":
            problems.append(f"{request_kind}: {observation.outcome}: {observation.msg[:300]}")
        problems += leaks(observation, server.secrets())
    assert not problems, LEDGER.found("success path of both modules", problems, scenario=ECHO_SCENARIO)


# ---- the playbooks at -vvvv


def _probe_playbook(path):
    """Every module operation, and every role, with retries: 0 (so an echoed token request fails at once)."""
    connection = {
        "base_url": "{{ isc_base_url }}",
        "client_id": "{{ isc_client_id }}",
        "client_secret": "{{ isc_client_secret }}",
        "retries": 0,
    }
    tasks = [
        {"name": "List", "sailpoint.isc.task_status_info": {"scope": "all", "count": True}},
        {"name": "Pending", "sailpoint.isc.task_status_info": {"scope": "pending", "older_than": "1h"}},
        {"name": "Wait", "sailpoint.isc.task_status_info": {"id": "{{ isc_completed_id }}", "wait": True, "wait_timeout": 5, "wait_sleep": 1}},
        {"name": "Close in check mode", "check_mode": True, "sailpoint.isc.task_status": {"id": "{{ isc_pending_id }}", "completion_status": "ERROR"}},
        {"name": "Close", "sailpoint.isc.task_status": {"ids": ["{{ isc_pending_id }}"], "completion_status": "ERROR", "completed": "now"}},
        {"name": "Report", "ansible.builtin.include_role": {"name": "sailpoint.isc.task_report"}, "vars": {"task_report_dir": "{{ isc_report_dir }}"}},
        {
            "name": "Stuck tasks",
            "ansible.builtin.include_role": {"name": "sailpoint.isc.stuck_tasks"},
            "vars": {"stuck_tasks_report_dir": "{{ isc_report_dir }}"},
        },
        {
            "name": "Wait for tasks",
            "ansible.builtin.include_role": {"name": "sailpoint.isc.wait_for_tasks"},
            "vars": {"wait_for_tasks_ids": ["{{ isc_completed_id }}"]},
        },
    ]
    for task in tasks:
        task["ignore_errors"] = True
        if "ansible.builtin.include_role" in task:
            # the collection's playbooks run the roles against the other tenants
            task["when"] = "inventory_hostname == 'initech'"
    play = {
        "name": "Probe",
        "hosts": "isc_tenants",
        "connection": "local",
        "gather_facts": False,
        "module_defaults": {"group/sailpoint.isc.isc": connection},
        "tasks": tasks,
    }
    path.write_text(yaml.safe_dump([play], sort_keys=False), encoding="utf-8")
    return str(path)


# tenant -> fault settings: a good tenant, echoes, and malformed answers; faults on the reads would cost the
# collection playbooks (whose modules retry 5 times with backoff) half a minute each, the probe covers them
TENANT_FAULTS = {
    "acme": {},
    "globex": {"echo": "all", "echo_on": ["patch"]},
    "initech": {"echo": "all", "echo_on": ["token", "list", "pending", "get"]},
    "umbrella": {"malformed": [kind for kind in ANY + TOKEN + TASK + LIST if kind != "html_error"], "malformed_rate": 1, "fault_seed": 3},
}
PLAYBOOKS = [
    ("sailpoint.isc.clear_stuck_tasks", True, ("acme", "globex", "umbrella")),
    ("sailpoint.isc.clear_stuck_tasks", False, ("acme", "globex", "umbrella")),
    ("sailpoint.isc.task_report", False, ("acme", "umbrella")),
    ("sailpoint.isc.wait_for_tasks", False, ("acme", "umbrella")),
    ("probe", False, tuple(TENANT_FAULTS)),
]


@pytest.mark.parametrize(
    "playbook, check, tenants", PLAYBOOKS, ids=[f"{name.split('.')[-1]}{'-check' if check else ''}" for name, check, _tenants in PLAYBOOKS]
)
def test_playbook_at_vvvv_shows_no_secret(playbook, check, tenants, server, tmp_path, collections_path):
    hosts = {}
    for tenant in tenants:
        connection = _connection(server, tenant)
        hosts[tenant] = {
            "isc_base_url": connection["base_url"],
            "isc_client_id": connection["client_id"],
            "isc_client_secret": connection["client_secret"],
            "isc_pending_id": server.pending_task(tenant)["id"],
            "isc_completed_id": server.completed_task(tenant)["id"],
            "isc_report_dir": str(tmp_path / "run" / "reports"),
            "stuck_tasks_report_dir": str(tmp_path / "run" / "reports"),
            "task_report_dir": str(tmp_path / "run" / "reports"),
            "wait_for_tasks_ids": [server.completed_task(tenant)["id"]],
            "wait_for_tasks_poll_interval": 1,
        }
    for tenant in tenants:
        server.set_faults(tenant=tenant, **TENANT_FAULTS[tenant])
    seq = server.last_seq()
    try:
        name = _probe_playbook(tmp_path / "probe.yml") if playbook == "probe" else playbook
        run = run_playbook(name, tmp_path / "run", collections_path, hosts, check=check, verbosity=4)
    finally:
        for tenant in tenants:
            server.set_faults(tenant=tenant)
    faults = sum(1 for entry in server.requests(since=seq) if entry.get("fault"))
    problems = [f"traceback: {excerpt}" for excerpt in run.tracebacks()]
    # the emulator's own request log is a log of the run too
    logged = json.dumps(server.requests(since=seq))
    problems += describe_secrets(run.everything() + "\n" + logged, server.secrets(), f"{playbook} -vvvv")
    for result in run.results:
        if result["status"] in ("failed", "ignored") and result["host"] != "acme" and result["action"].startswith("sailpoint.isc."):
            if not BLAMES_SERVER.search(result["msg"]):
                problems.append(f"{result['host']} / {result['task']}: a failure that does not blame the server: {result['msg'][:300]!r}")
        if result["host"] == "acme" and result["status"] in ("failed", "ignored", "unreachable"):
            problems.append(f"the tenant without faults failed at {result['task']!r}: {result['msg'][:300]!r}")
    LEDGER.row(PLAYBOOK_SCENARIO).record(
        faults_injected=faults,
        tracebacks=len(run.tracebacks()),
        leaks_found=sum(problem.startswith(f"{playbook} -vvvv") for problem in problems),
        clear_errors=sum(1 for result in run.results if result["status"] in ("failed", "ignored") and BLAMES_SERVER.search(result["msg"])),
    )
    assert run.results, f"ansible-playbook recorded no result (rc {run.returncode}):\n{run.stdout[-3000:]}"
    assert not problems, LEDGER.found(f"{playbook}{' --check' if check else ''} -vvvv", problems, scenario=PLAYBOOK_SCENARIO)
