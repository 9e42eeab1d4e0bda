"""Run the three runbooks with another ansible-core against a fresh emulator and check what each one did.

    python runbooks_on_core.py VENV COLLECTIONS STATE_DIR

VENV is a virtual environment holding the ansible-core under test (its ansible-playbook runs the playbooks and its
Python runs the modules); COLLECTIONS is the folder holding ansible_collections/sailpoint/isc; STATE_DIR keeps the
emulator's files and the reports. Run it with the Python that runs the emulator. The outcome of each runbook is
read from the emulator's own state and from the reports, not from the playbooks' words.
"""

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

# beside this script, so on the path when it runs
import emulator

TASKS = 40
STUCK = 4
RECENT = 2


def tenant_tasks(control_url: str) -> list:
    with urllib.request.urlopen(f"{control_url}/tasks", timeout=30) as answer:
        return [task for task in json.load(answer) if not task["hidden"]]


def pending(control_url: str) -> set:
    return {task["id"] for task in tenant_tasks(control_url) if task["completionStatus"] is None}


def check(condition: bool, what: str, output: str = "") -> None:
    if not condition:
        raise SystemExit(f"FAILED: {what}\n{output}")
    print(f"CHECK ok: {what}")


class Runbooks:
    def __init__(self, venv: Path, collections: Path, state_dir: Path):
        self.venv = venv
        self.reports = state_dir / "reports"
        info = emulator.load_info(state_dir)
        admin = info["clients"]["admin"]
        self.control_url = info["control_url"]
        self.environment = dict(
            os.environ,
            PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            ANSIBLE_COLLECTIONS_PATH=str(collections),
            ANSIBLE_PYTHON_INTERPRETER=str(venv / "bin" / "python"),
            SAIL_BASE_URL=info["base_url"],
            SAIL_CLIENT_ID=admin["client_id"],
            SAIL_CLIENT_SECRET=admin["client_secret"],
        )

    def play(self, name: str, *args: str) -> subprocess.CompletedProcess:
        command = [
            str(self.venv / "bin" / "ansible-playbook"),
            "-i",
            "localhost,",
            f"sailpoint.isc.{name}",
            "-e",
            f"stuck_tasks_report_dir={self.reports}",
            "-e",
            f"task_report_dir={self.reports}",
            *args,
        ]
        result = subprocess.run(command, env=self.environment, capture_output=True, text=True, check=False)
        print(f"$ ansible-playbook sailpoint.isc.{name} {' '.join(args)}: exit status {result.returncode}")
        return result

    def run(self) -> None:
        version = subprocess.run([str(self.venv / "bin" / "ansible"), "--version"], capture_output=True, text=True, check=True)
        print(version.stdout.splitlines()[0])
        before = tenant_tasks(self.control_url)
        check(len(pending(self.control_url)) == STUCK + RECENT, f"the tenant starts with {STUCK} stuck and {RECENT} recent pending tasks")

        dry_run = self.play("clear_stuck_tasks", "--check", "--diff")
        check(dry_run.returncode == 0, "clear_stuck_tasks --check succeeds", dry_run.stdout + dry_run.stderr)
        check(tenant_tasks(self.control_url) == before, "the dry run changes nothing in the tenant")
        check('"completionStatus": null' in dry_run.stdout, "the dry run shows the diff", dry_run.stdout)

        real = self.play("clear_stuck_tasks")
        check(real.returncode == 0, "clear_stuck_tasks succeeds", real.stdout + real.stderr)
        closed = {task["id"] for task in before if task["completionStatus"] is None} - pending(self.control_url)
        check(len(closed) == STUCK, f"it closed the {STUCK} stuck tasks and left the {RECENT} recent ones")
        after = {task["id"]: task for task in tenant_tasks(self.control_url)}
        check(all(after[task]["completionStatus"] == "ERROR" and after[task]["completed"] for task in closed), "each is ERROR with a completion time")

        rerun = self.play("clear_stuck_tasks")
        recap = [line for line in rerun.stdout.splitlines() if line.startswith("localhost ")]
        check(rerun.returncode == 0 and recap and " changed=0 " in recap[-1], "a rerun changes nothing", rerun.stdout + rerun.stderr)

        report = self.play("task_report")
        check(report.returncode == 0, "task_report succeeds", report.stdout + report.stderr)
        reports = sorted(self.reports.rglob("task-report.json"))
        check(len(reports) == 1, "task_report writes one JSON report", "\n".join(map(str, reports)))
        counts = json.loads(reports[0].read_text(encoding="utf-8"))["counts"]
        check(
            (counts["total"], counts["pending"], counts["stuck"]) == (TASKS, RECENT, 0),
            f"the report counts {TASKS} tasks, {RECENT} pending, none stuck",
            json.dumps(counts),
        )
        check(all((reports[0].parent / name).stat().st_size for name in ("task-report.md", "task-report.html")), "and the Markdown and HTML reports")

        finished = [task["id"] for task in tenant_tasks(self.control_url) if task["completionStatus"] == "SUCCESS"][:2]
        waited = self.play("wait_for_tasks", "-e", f"wait_for_tasks_ids={','.join(finished)}", "-e", "wait_for_tasks_timeout=60")
        check(waited.returncode == 0, "wait_for_tasks succeeds on two finished tasks", waited.stdout + waited.stderr)
        one_closed = sorted(closed)[0]
        failed = self.play("wait_for_tasks", "-e", f"wait_for_tasks_ids={one_closed}", "-e", "wait_for_tasks_timeout=60")
        check(failed.returncode == 2 and one_closed in failed.stdout, "wait_for_tasks fails on a task that ended in ERROR", failed.stdout)


def main(argv: list) -> None:
    if len(argv) != 3:
        raise SystemExit(__doc__)
    venv, collections, state_dir = (Path(arg).resolve() for arg in argv)
    emulator.start(state_dir, ["--tasks", str(TASKS), "--stuck", str(STUCK), "--pending", str(RECENT), "--validate-requests"])
    try:
        Runbooks(venv, collections, state_dir).run()
    finally:
        emulator.stop(state_dir)


if __name__ == "__main__":
    main(sys.argv[1:])
