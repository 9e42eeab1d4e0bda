"""make runner / make navigator: the four runbooks run the way AWX and ansible-navigator run them, against the emulator.

    runbooks.py runner    --collections DIR --awx-collections DIR --work DIR
    runbooks.py navigator --collections DIR --work DIR

--collections holds ansible_collections/sailpoint/isc installed from the built tarball (what an execution
environment or a project's collections/requirements.yml provides), --awx-collections awx.awx; --work is emptied
and holds the jobs.

runner: the shipped credential type is registered with extensions/awx/register_credential_type.yml (awx.awx) in a
stand-in controller (controller.py), twice. Then each runbook is a job of a job template: the project is the
shipped extensions/awx/project, the environment is what the registered credential type injects for a credential
(rendered as AWX renders it, into env/envvars), and the jobs follow each other as in a workflow: report, clear,
wait, recover, each given the set_stats artifacts of the jobs before it as extra variables. Checked: each job's outcome on
the tenant, its set_stats data in the playbook_on_stats event, and that no artifact ansible-runner kept holds a
secret or a token in any encoding.

navigator: the same runbooks through `ansible-navigator run --ee false --mode stdout` from a copy of the project
(so its ansible-navigator.yml applies), the tenant's URL given with --senv and the client with --penv; one run
without --senv shows that the tenant comes from navigator's flags alone. Navigator's artifacts, log and output
are scanned the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "utils"))

import awx_credential  # noqa: E402  pylint: disable=wrong-import-position
import secret_scan  # noqa: E402  pylint: disable=wrong-import-position
from controller import Controller  # noqa: E402  pylint: disable=wrong-import-position
from harness import (  # noqa: E402  pylint: disable=wrong-import-position
    FINISHED,
    FRESH_PENDING,
    RECOVERED_SOURCE,
    STUCK_IDS,
    Checks,
    Tenant,
    scenario_serve_args,
)

JOBS = ("task_report", "clear_stuck_tasks", "wait_for_tasks", "recover_stuck_aggregations")
# The set_stats schema each role publishes, one entry per tenant (docs/docsite/rst/awx.rst).
STATS_KEYS = {
    "task_report": {"tenant", "total", "pending", "stuck", "failed", "reports"},
    "clear_stuck_tasks": {"tenant", "check_mode", "pending", "stuck", "closed", "closed_ids", "would_close_ids", "failed_ids", "reports"},
    "wait_for_tasks": {"tenant", "ids", "completed_ids", "failed_ids", "elapsed"},
    "recover_stuck_aggregations": {
        "tenant",
        "check_mode",
        "stuck",
        "sources",
        "cleared",
        "cleared_ids",
        "relaunched",
        "relaunched_ids",
        "recovered",
        "reports",
    },
}
STATS_NAME = {
    "task_report": "task_report",
    "clear_stuck_tasks": "stuck_tasks",
    "wait_for_tasks": "wait_for_tasks",
    "recover_stuck_aggregations": "recover_aggregations",
}


def job_variables(job: str, reports: Path) -> dict:
    """The survey answers of each job template."""
    return {
        "task_report": {"task_report_dir": str(reports)},
        "clear_stuck_tasks": {"stuck_tasks_report_dir": str(reports)},
        "wait_for_tasks": {"wait_for_tasks_ids": sorted(FINISHED), "wait_for_tasks_timeout": 120, "wait_for_tasks_poll_interval": 1},
        "recover_stuck_aggregations": {"recover_aggregations_report_dir": str(reports)},
    }[job]


def prepare(tenant: Tenant, job: str) -> None:
    """What a job needs on the tenant beyond the scenario's tasks: the recovery a stuck aggregation (made stuck only
    now, so that the stuck-task job before it leaves it to the recovery)."""
    if job == "recover_stuck_aggregations":
        tenant.add_stuck_aggregation()


def clean_environment(collections: Path, work: Path) -> dict:
    """The controller's environment without any SAIL_* variable: the connection must come from the job's own.

    Temporary files (ansible's and the tools') go under the work folder, so that the secret scan sees whatever
    a run leaves behind there too.
    """
    env = {name: value for name, value in os.environ.items() if not name.startswith("SAIL_")}
    temp = work / "tmp"
    for name in ("local", "remote", "tools"):
        (temp / name).mkdir(parents=True, exist_ok=True)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_LOCAL_TEMP=str(temp / "local"),
        ANSIBLE_REMOTE_TEMP=str(temp / "remote"),
        TMPDIR=str(temp / "tools"),
    )
    return env


def stats_of(events_dir: Path) -> dict | None:
    """``event_data.artifact_data`` of the playbook_on_stats event, as AWX stores a job's artifacts."""
    for path in sorted(events_dir.glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        if event.get("event") == "playbook_on_stats":
            return event.get("event_data", {}).get("artifact_data") or {}
    return None


def check_stats(checks: Checks, job: str, data: dict | None) -> dict | None:
    """The one tenant entry of the job's set_stats key, when it has the schema's fields."""
    name = STATS_NAME[job]
    entries = (data or {}).get(name)
    if not checks.check(
        isinstance(entries, dict) and len(entries) == 1,
        f"{job}: set_stats key {name} in the artifacts, one tenant",
        f"artifact_data keys: {sorted(data or {})}",
    ):
        return None
    ((tenant, entry),) = entries.items()
    missing = STATS_KEYS[job] - set(entry)
    checks.check(not missing, f"{job}: set_stats {name}[{tenant}] has {', '.join(sorted(STATS_KEYS[job]))}", f"missing {sorted(missing)}")
    checks.check(
        entry.get("tenant") == tenant and tenant != "localhost", f"{job}: set_stats names the tenant from the base URL ({tenant}), not the inventory host"
    )
    return entry


def check_outcome(checks: Checks, job: str, tenant: Tenant, entry: dict | None, reports: Path, before: dict, log: list) -> None:
    """What the job did on the tenant; ``log`` is the request log of its run."""
    tasks = tenant.tasks()
    if job == "task_report":
        found = sorted(reports.rglob("task-report.json"))
        report = json.loads(found[0].read_text(encoding="utf-8")) if len(found) == 1 else {}
        counts = report.get("counts", {})
        checks.check(
            counts.get("stuck") == len(STUCK_IDS) and counts.get("pending") == len(STUCK_IDS) + FRESH_PENDING,
            f"task_report: report written ({', '.join(sorted(path.name for path in found[0].parent.iterdir())) if found else 'none'}), "
            f"{len(STUCK_IDS)} stuck of {len(STUCK_IDS) + FRESH_PENDING} pending",
            f"reports {found}, counts {counts}",
        )
        if entry:
            checks.check(
                (entry.get("stuck"), entry.get("pending")) == (len(STUCK_IDS), len(STUCK_IDS) + FRESH_PENDING)
                and all(Path(path).is_file() for path in entry.get("reports", [])),
                "task_report: set_stats counts match the report and its report paths exist",
                json.dumps(entry),
            )
    elif job == "clear_stuck_tasks":
        closed = sorted(task_id for task_id in STUCK_IDS if tasks[task_id]["completionStatus"] == "ERROR")
        untouched = [task_id for task_id, task in before.items() if task_id not in STUCK_IDS and task == tasks[task_id]]
        checks.check(
            closed == STUCK_IDS and len(untouched) == len(before) - len(STUCK_IDS),
            f"clear_stuck_tasks: the {len(STUCK_IDS)} stuck tasks are closed as ERROR on the tenant, the other {len(untouched)} tasks untouched",
            f"closed {closed}",
        )
        if entry:
            checks.check(
                sorted(entry.get("closed_ids", [])) == STUCK_IDS
                and entry.get("closed") == len(STUCK_IDS)
                and not entry.get("failed_ids")
                and not entry.get("check_mode"),
                "clear_stuck_tasks: set_stats closed_ids are exactly the closed tasks",
                json.dumps(entry),
            )
    elif job == "recover_stuck_aggregations":
        ours = [task for task in tasks.values() if (task.get("target") or {}).get("id") == RECOVERED_SOURCE]
        launches = [entry for entry in log if entry["method"] == "POST" and entry["path"].endswith("/load-accounts")]
        checks.check(
            sorted(task["completionStatus"] for task in ours) == ["ERROR", "SUCCESS"] and len(launches) == 1,
            "recover_stuck_aggregations: the stuck aggregation is cleared as ERROR, relaunched once, and the relaunch ended SUCCESS",
            json.dumps([(task["id"], task["completionStatus"]) for task in ours]),
        )
        if entry:
            checks.check(
                (entry.get("cleared"), entry.get("relaunched"), entry.get("recovered")) == (1, 1, 1) and not entry.get("check_mode"),
                "recover_stuck_aggregations: set_stats counts the cleared, relaunched and recovered aggregation",
                json.dumps(entry),
            )
    else:
        asked = " ".join(entry["path"] + "?" + entry["query"] for entry in log)
        checks.check(
            all(task_id in asked for task_id in FINISHED) and all(tasks[task_id]["completionStatus"] == status for task_id, status in FINISHED.items()),
            f"wait_for_tasks: the wait read each of the {len(FINISHED)} tasks from the tenant and finished",
        )
        if entry:
            checks.check(
                sorted(entry.get("ids", [])) == sorted(FINISHED) and sorted(entry.get("completed_ids", [])) == sorted(FINISHED) and not entry.get("failed_ids"),
                "wait_for_tasks: set_stats completed_ids are the tasks waited for",
                json.dumps(entry),
            )


def check_authenticated_as(checks: Checks, tenant: Tenant, since: int, job: str) -> list:
    """That the job fetched its token with the credential's client; returns the job's part of the request log."""
    log = [entry for entry in tenant.requests() if entry["seq"] > since]
    token_requests = [entry for entry in log if entry["path"].endswith("/oauth/token")]
    checks.check(
        bool(token_requests) and all(entry["client_id"] == tenant.admin["client_id"] and entry["status"] == 200 for entry in token_requests),
        f"{job}: {len(log)} API requests, the token fetched with the credential's client",
    )
    return log


def scan_for_secrets(checks: Checks, tenant: Tenant, roots: list, skip, what: str) -> None:
    secrets = tenant.secrets()
    tokens = sum(label.startswith("access token") for label in secrets)
    checks.check(tokens > 0, f"{what}: the emulator issued {tokens} access tokens, each one scanned for")
    scan = secret_scan.scan_paths(roots, secrets, skip=skip)
    for hit in scan.hits:
        print(f"  secret hit: {hit}")
    print(f"secret scan of {what}: {scan.summary()} for {len(secrets)} secrets and tokens")
    checks.check(scan.files > 0 and not scan.hits, f"{what}: 0 secret hits in {scan.files} files ({scan.bytes} bytes), every encoding")


def shipped(args) -> Path:
    """The collection as installed from its tarball: what a project or an execution environment gets."""
    return args.collections / "ansible_collections" / "sailpoint" / "isc"


def write_runner_job(job_dir: Path, project: Path, credential_env: dict, extra_vars: dict) -> None:
    shutil.copytree(project, job_dir / "project")
    (job_dir / "inventory").mkdir()
    (job_dir / "inventory" / "hosts").write_text("localhost ansible_connection=local\n", encoding="utf-8")
    (job_dir / "env" / "envvars").write_text(json.dumps(credential_env), encoding="utf-8")
    (job_dir / "env" / "extravars").write_text(json.dumps(extra_vars), encoding="utf-8")


def register_credential_type(checks: Checks, args, work: Path) -> dict | None:
    """The shipped credential type, registered with extensions/awx/register_credential_type.yml (awx.awx) twice."""
    token = "controller-token-" + os.urandom(16).hex()
    controller = Controller(token)
    try:
        env = clean_environment(args.collections, work)
        env.update(ANSIBLE_COLLECTIONS_PATH=str(args.awx_collections), CONTROLLER_HOST=controller.url, CONTROLLER_OAUTH_TOKEN=token)
        recaps = []
        for attempt in (1, 2):
            output = work / f"register-{attempt}.out"
            with output.open("w", encoding="utf-8") as stream:
                process = subprocess.run(
                    ["ansible-playbook", "-i", "localhost,", str(shipped(args) / "extensions" / "awx" / "register_credential_type.yml")],
                    env=env,
                    stdout=stream,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
            text = output.read_text(encoding="utf-8")
            recap = re.search(r"localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)", text)
            recaps.append((process.returncode, recap.groups() if recap else None))
            if process.returncode != 0:
                print(text[-3000:])
        file_definition = yaml.safe_load((shipped(args) / "extensions" / "awx" / "credential_type.yml").read_text(encoding="utf-8"))
        if not checks.check(
            recaps == [(0, ("1", "1", "0")), (0, ("1", "0", "0"))] and controller.writes == [("POST", file_definition["name"])],
            "register_credential_type.yml (awx.awx.credential_type) creates the type in the controller, and a rerun changes nothing",
            f"recaps {recaps}, controller writes {controller.writes}",
        ):
            return None
        stored = controller.definition(file_definition["name"])
        checks.check(
            stored == {field: file_definition[field] for field in stored},
            "the controller holds credential_type.yml as written, its injector templates unrendered",
        )
        return stored
    finally:
        controller.stop()


def check_injected_names_are_read(checks: Checks, args, definition: dict) -> None:
    """Every variable the credential type sets is one the modules read (their connection options' env fallbacks)."""
    sys.path.insert(0, str(args.collections))
    from ansible_collections.sailpoint.isc.plugins.module_utils._connection import CONNECTION_OPTIONS  # pylint: disable=import-outside-toplevel

    read = {option.env for option in CONNECTION_OPTIONS if option.env}
    unread = sorted(set(definition["injectors"]["env"]) - read)
    checks.check(not unread, f"the modules read every variable the credential type injects ({len(definition['injectors']['env'])})", f"not read: {unread}")


def run_runner(args) -> int:
    checks = Checks()
    work, reports = args.work, args.work / "isc-reports"
    definition = register_credential_type(checks, args, work)
    if definition is None:
        return checks.exit_status()
    check_injected_names_are_read(checks, args, definition)
    tenant = Tenant(*scenario_serve_args())
    try:
        tenant.add_scenario_tasks()
        inputs = {"base_url": tenant.base_url, "client_id": tenant.admin["client_id"], "client_secret": tenant.admin["client_secret"]}
        artifacts, seq = {}, 0
        for job in JOBS:
            job_dir = work / "jobs" / job
            credential_env, credential_vars, files = awx_credential.inject(definition, inputs, job_dir)
            checks.check(
                credential_env["SAIL_CLIENT_SECRET"] == inputs["client_secret"]
                and not credential_vars
                and len(files) == 1
                and credential_env["SAIL_CA_PATH"] == "",
                f"{job}: the credential injects {', '.join(sorted(credential_env))} (SAIL_CA_PATH empty without a CA bundle)",
            )
            # As in a workflow: the set_stats artifacts of the jobs before this one are its extra variables.
            write_runner_job(job_dir, shipped(args) / "extensions" / "awx" / "project", credential_env, dict(artifacts, **job_variables(job, reports)))
            prepare(tenant, job)
            before = tenant.tasks()
            with (work / f"{job}.runner.out").open("w", encoding="utf-8") as output:
                process = subprocess.run(
                    ["ansible-runner", "run", str(job_dir), "-p", f"{job}.yml", "--ident", job],
                    env=clean_environment(args.collections, work),
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
            artifact_dir = job_dir / "artifacts" / job
            status = (artifact_dir / "status").read_text(encoding="utf-8").strip() if (artifact_dir / "status").exists() else "missing"
            if not checks.check(
                process.returncode == 0 and status == "successful", f"{job}: ansible-runner job successful (rc 0)", f"rc {process.returncode}, status {status}"
            ):
                print((work / f"{job}.runner.out").read_text(encoding="utf-8")[-4000:])
            log = check_authenticated_as(checks, tenant, seq, job)
            seq = max([seq] + [entry["seq"] for entry in log])
            data = stats_of(artifact_dir / "job_events")
            checks.check(data is not None, f"{job}: a playbook_on_stats event in the job events")
            entry = check_stats(checks, job, data)
            check_outcome(checks, job, tenant, entry, reports, before, log)
            artifacts.update(data or {})
            command = json.loads((artifact_dir / "command").read_text(encoding="utf-8"))
            checks.check(
                command["env"].get("SAIL_CLIENT_SECRET") == inputs["client_secret"],
                f"{job}: the job's environment held the credential's secret (runner's record of its input, not scanned)",
            )
        checks.check(
            set(artifacts) >= set(STATS_NAME.values()),
            f"the workflow's artifacts hold {', '.join(sorted(STATS_NAME.values()))}",
            f"held: {sorted(artifacts)}",
        )

        def skip(path: Path) -> bool:
            # Runner's record of its input: the job's env/ folder (envvars, the credential's files) and artifacts/*/command.
            return (path.name == "env" and path.parent.parent.name == "jobs") or (path.name == "command" and path.parent.parent.name == "artifacts")

        scan_for_secrets(checks, tenant, [work], skip, "every artifact ansible-runner kept, the reports and runner's output")
    finally:
        tenant.stop()
    return checks.exit_status()


def run_navigator(args) -> int:
    checks = Checks()
    work = args.work
    project, reports = work / "project", work / "isc-reports"
    shutil.copytree(shipped(args) / "extensions" / "awx" / "project", project)
    tenant = Tenant(*scenario_serve_args())
    try:
        tenant.add_scenario_tasks()
        env = clean_environment(args.collections, work)
        # The operator's shell holds the client (from a vault or a secret store); the tenant is named on the command line.
        env.update(SAIL_CLIENT_ID=tenant.admin["client_id"], SAIL_CLIENT_SECRET=tenant.admin["client_secret"])
        passing = ["--penv", "SAIL_CLIENT_ID", "--penv", "SAIL_CLIENT_SECRET"]

        def navigator(name: str, job: str, flags: list) -> tuple:
            variables = work / f"{name}.vars.json"
            variables.write_text(json.dumps(job_variables(job, reports)), encoding="utf-8")
            output = work / f"{name}.navigator.out"
            with output.open("w", encoding="utf-8") as stream:
                process = subprocess.run(
                    ["ansible-navigator", "run", f"{job}.yml", "-i", "localhost,", "--ee", "false", "--mode", "stdout", *flags, "-e", f"@{variables}"],
                    cwd=project,
                    env=env,
                    stdout=stream,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    check=False,
                )
            return process.returncode, output.read_text(encoding="utf-8")

        returncode, text = navigator("without-senv", "task_report", passing)
        checks.check(
            returncode != 0 and "No ISC tenant for localhost" in text,
            "navigator: without --senv SAIL_BASE_URL the runbook finds no tenant (the environment reaches it only through navigator's flags)",
            f"rc {returncode}",
        )
        seq = max([0] + [entry["seq"] for entry in tenant.requests()])
        before = tenant.tasks()
        for job in JOBS:
            prepare(tenant, job)
            returncode, text = navigator(job, job, [*passing, "--senv", f"SAIL_BASE_URL={tenant.base_url}"])
            if not checks.check(returncode == 0 and "failed=0" in text, f"navigator: {job} passed (rc 0)", f"rc {returncode}"):
                print(text[-4000:])
            log = check_authenticated_as(checks, tenant, seq, f"navigator {job}")
            seq = max([seq] + [entry["seq"] for entry in log])
            check_outcome(checks, job, tenant, None, reports, before, log)
            before = tenant.tasks()
        saved = sorted((project / "isc-artifacts").glob("*.json"))
        events = [json.loads(path.read_text(encoding="utf-8")) for path in saved]
        checks.check(
            len(saved) == len(JOBS) + 1 and all(event.get("plays") for event in events) and (project / "isc-artifacts" / "ansible-navigator.log").is_file(),
            f"navigator: the project's ansible-navigator.yml applied: {len(saved)} playbook artifacts and its log in isc-artifacts/",
        )
        scan_for_secrets(checks, tenant, [work], lambda path: False, "navigator's playbook artifacts, log, output and the reports")
    finally:
        tenant.stop()
    return checks.exit_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("runner", "navigator"))
    parser.add_argument("--collections", type=Path, required=True)
    parser.add_argument("--awx-collections", type=Path, help="runner: where awx.awx is installed (make's extract of it)")
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    if args.mode == "runner" and not args.awx_collections:
        parser.error("runner needs --awx-collections")
    args.collections, args.work = args.collections.resolve(), args.work.resolve()
    args.awx_collections = args.awx_collections and args.awx_collections.resolve()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    return run_runner(args) if args.mode == "runner" else run_navigator(args)


if __name__ == "__main__":
    sys.exit(main())
