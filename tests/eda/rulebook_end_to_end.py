# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rulebooks of extensions/eda/rulebooks run by the real ansible-rulebook against the ISC emulator.

    python tests/eda/rulebook_end_to_end.py --collections DIR --work DIR

DIR (collections) holds ansible_collections/sailpoint/isc. Two tenants, one rulebook each, side by side:

* acme, clear_stuck_tasks.yml: a task already stuck when the rulebook starts is closed; then, behind the
  client's back, three tasks become stuck and one pending task fails. The three are closed by the playbook the
  rulebook runs, nothing else changes in the tenant, and the failed task, only it, is reported.
* globex, follow_up_after_aggregations.yml: the follow-up playbook runs once both aggregations of one source have
  completed, and not for a source whose group aggregation has not.
* initech, recover_stuck_aggregations.yml: a source whose aggregation is made stuck is recovered once (cleared,
  relaunched, the relaunch completed by the emulator); made stuck again within the cooldown, it is cleared but not
  relaunched.

Then a bad argument must stop a rulebook with a message naming it, and no log may hold a secret. Waiting is bounded
by generous deadlines; what is asserted does not depend on timing. Prints the detection latency, the API calls per
poll and what polling costs a month at the default interval, and a "CHECK ok:" line per verified claim.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
EMULATOR = HERE.parent / "utils" / "emulator.py"
DEADLINE = 240
POLL_INTERVAL = 2
PROGRESS_NOTE = "Marked as stuck and closed by sailpoint.isc.stuck_tasks"
SOURCE_X = "2c91808a7813090a017813f1a8a10001"
SOURCE_Y = "2c91808a7813090a017813f1a8a10002"
SOURCE_Z = "2c91808a7813090a017813f1a8a10003"


def check(condition: bool, claim: str, detail="") -> None:
    if not condition:
        raise SystemExit(f"FAILED: {claim}\n{detail}")
    print(f"CHECK ok: {claim}", flush=True)


def iso(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def wait_for(what: str, probe, deadline: float = DEADLINE, logs=()):
    """``probe()``'s first true answer, asked every half second until ``deadline`` seconds have passed."""
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        answer = probe()
        if answer:
            return answer
        time.sleep(0.5)
    tails = "\n".join(f"--- {log}:\n" + "\n".join(Path(log).read_text(encoding="utf-8", errors="replace").splitlines()[-60:]) for log in logs)
    raise SystemExit(f"FAILED: {what} did not happen within {deadline}s\n{tails}")


class Tenant:
    def __init__(self, info: dict, name: str):
        self.name = name
        self.control_url = info["control_url"]
        tenant = next(item for item in info["tenants"] if item["name"] == name)
        self.base_url = tenant["base_url"]
        self.clients = tenant["clients"]
        self.session = requests.Session()

    def control(self, method: str, call: str, payload=None, **params):
        reply = self.session.request(method, f"{self.control_url}/{call}", json=payload, params=params, timeout=30)
        reply.raise_for_status()
        return reply.json()

    def tasks(self) -> dict:
        return {task["id"]: task for task in self.control("GET", "tasks", tenant=self.name)}

    def insert(self, *tasks) -> list:
        return self.control("POST", "tasks", {"tenant": self.name, "tasks": [dict({"id": uuid.uuid4().hex}, **task) for task in tasks]})["tasks"]

    def set(self, task_id: str, **fields) -> dict:
        return self.control("PATCH", f"tasks/{task_id}", {"tenant": self.name, "set": fields})

    def finish(self, task_id: str, status: str) -> dict:
        return self.set(task_id, completionStatus=status, completed=iso(datetime.now(timezone.utc)), progress="Completed", percentComplete=100)

    def requests(self, client: str) -> list:
        client_id = self.clients[client]["client_id"]
        return [entry for entry in self.control("GET", "requests", tenant=self.name) if entry["client_id"] == client_id]


def polls(entries: list) -> list:
    """The source's API calls grouped by poll: each poll starts with its count of pending tasks."""
    grouped = []
    for entry in entries:
        if entry["path"].endswith("/oauth/token"):
            continue
        if entry["method"] == "HEAD" or not grouped:
            grouped.append([])
        grouped[-1].append(entry)
    return grouped


class Rulebook:
    """One ansible-rulebook process in its own session, its output in a log file."""

    def __init__(self, work: Path, name: str, rulebook: Path, variables: dict, tenant: Tenant, collections: Path):
        self.log = work / f"{name}.log"
        vars_file = work / f"{name}.vars.yml"
        vars_file.touch(mode=0o600)
        vars_file.write_text(json.dumps(variables), encoding="utf-8")
        admin = tenant.clients["admin"]
        environment = dict(
            os.environ,
            ANSIBLE_COLLECTIONS_PATH=str(collections),
            SAIL_BASE_URL=tenant.base_url,
            SAIL_CLIENT_ID=admin["client_id"],
            SAIL_CLIENT_SECRET=admin["client_secret"],
        )
        with self.log.open("w", encoding="utf-8") as output:
            self.process = subprocess.Popen(  # pylint: disable=consider-using-with
                ["ansible-rulebook", "-i", str(work / "inventory.yml"), "--rulebook", str(rulebook), "--vars", str(vars_file), "-v"],
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=work,
                env=environment,
                start_new_session=True,
            )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def runs_finished(self) -> bool:
        """Whether every playbook run the rulebook started has ended (one play each)."""
        text = self.text()
        return text.count("PLAY RECAP") == len(re.findall(r"^PLAY \[", text, re.M))

    def stop(self) -> None:
        """Stop the rulebook and the playbook runs it started: ansible-runner gives each a session of its own."""
        if self.process.poll() is None:
            runs = descendants(self.process.pid)
            os.killpg(self.process.pid, signal.SIGTERM)
            for pid in runs:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def descendants(pid: int) -> list:
    """The ids of the processes below ``pid``, from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def debug_messages(text: str) -> list:
    """(time, message) of every debug action: a banner with its time, the message, a closing rule."""
    found = re.findall(r"^\*\* (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \[debug\] \*+\n(.*?)\n\*{20,}$", text, re.M | re.S)
    return [(datetime.fromisoformat(stamp), " ".join(message.split())) for stamp, message in found]


def stuck(**fields) -> dict:
    launched = iso(datetime.now(timezone.utc) - timedelta(hours=2))
    return dict({"completionStatus": None, "created": launched, "launched": launched, "uniqueName": "Cloud Account Aggregation"}, **fields)


def recent(**fields) -> dict:
    launched = iso(datetime.now(timezone.utc) - timedelta(minutes=3))
    return dict({"completionStatus": None, "created": launched, "launched": launched}, **fields)


def clear_stuck_tasks(acme: Tenant, rulebook: Rulebook, before: dict, preexisting: str, failing: str) -> dict:
    """The first rulebook's story; returns its figures."""
    wait_for("closing the task stuck before the start", lambda: acme.tasks()[preexisting]["completionStatus"] == "ERROR", logs=[rulebook.log])
    check(acme.tasks()[preexisting]["progress"] == PROGRESS_NOTE, "a task stuck before the rulebook started is closed by the playbook it runs")

    inserted_at = datetime.now(timezone.utc)
    made_stuck = [task["id"] for task in acme.insert(stuck(), stuck(uniqueName="Identity Refresh"), stuck(uniqueName="Cloud Group Aggregation"))]
    acme.finish(failing, "ERROR")
    wait_for(
        "closing the three new stuck tasks", lambda: all(acme.tasks()[task_id]["completionStatus"] == "ERROR" for task_id in made_stuck), logs=[rulebook.log]
    )
    wait_for("the failed task's notification", lambda: any(failing in message for _stamp, message in debug_messages(rulebook.text())), logs=[rulebook.log])
    last_patch = max(parse(entry["time"]) for entry in acme.requests("admin") if entry["method"] == "PATCH")
    # two polls after the last closure, the failures of the closed tasks have surely been seen and passed over
    wait_for("two polls after the last closure", lambda: len([poll for poll in polls(acme.requests("api")) if parse(poll[0]["time"]) > last_patch]) >= 2)
    wait_for("the end of the rulebook's playbook runs", rulebook.runs_finished, logs=[rulebook.log])
    rulebook.stop()

    after = acme.tasks()
    changed = {task_id for task_id, task in after.items() if before.get(task_id) != task}
    check(
        changed == {preexisting, failing, *made_stuck},
        "exactly the stuck tasks (and the task failed on purpose) changed in the tenant",
        f"changed: {sorted(changed)}",
    )
    check(
        all(after[task_id]["completionStatus"] == "ERROR" and after[task_id]["progress"] == PROGRESS_NOTE for task_id in made_stuck),
        "the tasks made stuck behind the client's back are closed as ERROR by the rulebook's playbook",
    )
    notifications = [(stamp, message) for stamp, message in debug_messages(rulebook.text()) if message.startswith("ISC task failed")]
    check(
        [message for _stamp, message in notifications if failing in message] and len(notifications) == 1,
        "the failed task is reported, once, and no task the playbook closed is",
        "\n".join(message for _stamp, message in notifications),
    )

    source_polls = polls(acme.requests("api"))
    detecting = next(poll for poll in source_polls if parse(poll[0]["time"]) >= inserted_at and len(poll) > 2)
    closed_at = max(parse(entry["time"]) for entry in acme.requests("admin") if entry["method"] == "PATCH" and entry["path"].rsplit("/", 1)[-1] in made_stuck)
    notified_at = next(stamp for stamp, message in notifications if failing in message).astimezone(timezone.utc)
    calls = sorted({len(poll) for poll in source_polls})
    quiet = [poll for poll in source_polls if len(poll) == 2]
    check(
        quiet and all([(entry["method"], "count=true" in entry["query"]) for entry in poll] == [("HEAD", True), ("GET", True)] for poll in quiet),
        "a poll that finds nothing changed costs two counting calls (HEAD pending-tasks, a one-item page)",
    )
    check(max(calls) <= 6, "a poll that finds changes costs at most six calls", f"calls per poll: {calls}")
    return {
        "polls": len(source_polls),
        "quiet": len(quiet),
        "calls": calls,
        "detected": (parse(detecting[0]["time"]) - inserted_at).total_seconds(),
        "closed": (closed_at - inserted_at).total_seconds(),
        # the rulebook's debug banner is in local time
        "notified": (notified_at - inserted_at).total_seconds(),
    }


def follow_up(globex: Tenant, rulebook: Rulebook, report_dir: Path, account_x: str, group_x: str, account_y: str) -> None:
    """The second rulebook's story."""
    wait_for(
        "the follow-up rulebook's first poll",
        lambda: any(entry["path"].endswith("/pending-tasks") and entry["method"] == "GET" for entry in globex.requests("api")),
        logs=[rulebook.log],
    )
    globex.finish(group_x, "SUCCESS")
    globex.finish(account_y, "SUCCESS")
    changed_at = datetime.now(timezone.utc)
    wait_for("a poll reading the two completions", lambda: any(len(poll) > 2 and parse(poll[0]["time"]) > changed_at for poll in polls(globex.requests("api"))))

    def reports():
        # the report's folder is the tenant's name, as the runbooks derive it from SAIL_BASE_URL
        return sorted(report_dir.glob("*/task-report.json"))

    check(not reports(), "no follow-up while only one of a source's aggregations has completed")

    globex.finish(account_x, "SUCCESS")
    (report,) = wait_for("the follow-up report", reports, logs=[rulebook.log])
    summary = json.loads(wait_for("a complete report", lambda: report.read_text(encoding="utf-8") if report.stat().st_size else ""))
    finished_at = datetime.now(timezone.utc)
    wait_for("two polls after the follow-up", lambda: len([poll for poll in polls(globex.requests("api")) if parse(poll[0]["time"]) > finished_at]) >= 2)
    wait_for("the end of the follow-up run", rulebook.runs_finished, logs=[rulebook.log])
    rulebook.stop()
    runs = rulebook.text().count("PLAY [Report on SailPoint ISC tasks]")
    check(runs == 1, "the follow-up playbook ran once, when both aggregations of the same source had completed", f"{runs} runs")
    check(summary["counts"]["total"] == 2, "the follow-up reported on the tasks of that source", json.dumps(summary)[:500])


def source_control(tenant: Tenant, source_id: str, call: str, **payload):
    return tenant.control("POST", f"sources/{source_id}/{call}", dict(payload, tenant=tenant.name))


def recover(initech: Tenant, rulebook: Rulebook) -> None:
    """The third rulebook's story: recovered once, then cleared but not relaunched within the cooldown."""

    def launches():
        return [entry for entry in initech.requests("admin") if entry["method"] == "POST" and entry["path"].endswith(("/load-accounts", "/load-entitlements"))]

    def cleared(task_id):
        return initech.tasks()[task_id]["completionStatus"] == "ERROR"

    (first,) = [task["id"] for task in source_control(initech, SOURCE_Z, "stuck", kind="accounts", count=1, hours=2)["tasks"]]
    wait_for("the first stuck aggregation cleared", lambda: cleared(first), logs=[rulebook.log])
    wait_for("the relaunch", launches, logs=[rulebook.log])
    wait_for("the end of the recovery run", rulebook.runs_finished, logs=[rulebook.log])
    relaunched = [task for task in initech.tasks().values() if (task.get("target") or {}).get("id") == SOURCE_Z and task["id"] != first]
    check(
        len(launches()) == 1 and [task["completionStatus"] for task in relaunched] == ["SUCCESS"],
        "a source whose aggregation is made stuck is recovered once: cleared, relaunched, the relaunch ended SUCCESS",
        json.dumps(relaunched)[:1000],
    )
    (second,) = [task["id"] for task in source_control(initech, SOURCE_Z, "stuck", kind="accounts", count=1, hours=2)["tasks"]]
    wait_for("the second stuck aggregation cleared", lambda: cleared(second), logs=[rulebook.log])
    wait_for("the end of the second recovery run", rulebook.runs_finished, logs=[rulebook.log])
    rulebook.stop()
    runs = rulebook.text().count("PLAY [Recover stuck SailPoint ISC aggregations]")
    check(
        runs == 2 and len(launches()) == 1 and "skipped cooldown" in rulebook.text(),
        "made stuck again within the cooldown, the source is cleared but not relaunched",
        f"{runs} runs, {len(launches())} launches",
    )


def bad_argument(work: Path, collections: Path, acme: Tenant, rulebooks: Path) -> None:
    rulebook = Rulebook(work, "bad-argument", rulebooks / "clear_stuck_tasks.yml", {"isc_poll_interval": "soon"}, acme, collections)
    try:
        rulebook.process.wait(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        rulebook.stop()
        raise SystemExit("FAILED: a rulebook with a bad argument kept running\n" + rulebook.text()[-3000:]) from None
    text = rulebook.text()
    check(
        rulebook.process.returncode != 0 and "sailpoint.isc.task_status: interval must be a number" in text and "Traceback" not in text,
        "a bad argument stops the rulebook with a message naming it and no traceback",
        text[-3000:],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--collections", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    options = parser.parse_args()
    work, collections = options.work.resolve(), options.collections.resolve()
    rulebooks = collections / "ansible_collections" / "sailpoint" / "isc" / "extensions" / "eda" / "rulebooks"
    work.mkdir(parents=True, exist_ok=True)
    (work / "inventory.yml").write_text(
        json.dumps({"all": {"hosts": {"localhost": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}), encoding="utf-8"
    )
    emulator_dir = work / "emulator"
    subprocess.run(
        [sys.executable, str(EMULATOR), "start", str(emulator_dir), "--tenants", "acme,globex,initech", "--tasks", "80", "--pending", "3", "--stuck", "0"],
        check=True,
    )
    started = []
    try:
        info = json.loads((emulator_dir / "emulator.json").read_text(encoding="utf-8"))
        acme, globex, initech = Tenant(info, "acme"), Tenant(info, "globex"), Tenant(info, "initech")
        initech.control("POST", "sources", {"tenant": "initech", "id": SOURCE_Z, "name": "Badge readers"})
        source_control(initech, SOURCE_Z, "auto-complete", status="SUCCESS", after_reads=0)
        (preexisting,) = [task["id"] for task in acme.insert(stuck(uniqueName="Cloud Group Aggregation"))]
        (failing,) = [task["id"] for task in acme.insert(recent(uniqueName="Identity Refresh"))]
        account_x, group_x, account_y = [
            task["id"]
            for task in globex.insert(
                recent(uniqueName="Cloud Account Aggregation", target={"id": SOURCE_X, "type": "APPLICATION", "name": "HR"}),
                recent(uniqueName="Cloud Group Aggregation", target={"id": SOURCE_X, "type": "APPLICATION", "name": "HR"}),
                recent(uniqueName="Cloud Account Aggregation", target={"id": SOURCE_Y, "type": "APPLICATION", "name": "Directory"}),
            )
        ]
        before = acme.tasks()
        report_dir = work / "follow-up-reports"

        def watching(name, rulebook, tenant, **variables):
            """The rulebook polling ``tenant`` with its read-only client, every POLL_INTERVAL seconds."""
            api = tenant.clients["api"]
            variables.update(isc_poll_interval=POLL_INTERVAL, isc_source_client_id=api["client_id"], isc_source_client_secret=api["client_secret"])
            started.append(Rulebook(work, name, rulebooks / rulebook, variables, tenant, collections))
            return started[-1]

        clear = watching("clear-stuck-tasks", "clear_stuck_tasks.yml", acme, isc_stuck_after="1h")
        after_aggregations = watching("follow-up", "follow_up_after_aggregations.yml", globex, isc_report_dir=str(report_dir))
        recovery = watching("recover", "recover_stuck_aggregations.yml", initech, isc_stuck_after="1h")

        figures = clear_stuck_tasks(acme, clear, before, preexisting, failing)
        follow_up(globex, after_aggregations, report_dir, account_x, group_x, account_y)
        recover(initech, recovery)
        bad_argument(work, collections, acme, rulebooks)
        secrets = [client["client_secret"] for tenant in info["tenants"] for client in tenant["clients"].values()]
        logs = {log.name: log.read_text(encoding="utf-8", errors="replace") for log in work.glob("*.log")}
        leaks = [name for name, text in logs.items() if any(secret in text for secret in secrets)]
        check(not leaks, "no client secret appears in any rulebook's output", ", ".join(leaks))
    finally:
        for rulebook in started:
            if hasattr(rulebook, "process"):
                rulebook.stop()
        subprocess.run([sys.executable, str(EMULATOR), "stop", str(emulator_dir)], check=False)

    sys.path.insert(0, str(collections))
    from ansible_collections.sailpoint.isc.extensions.eda.plugins.event_source.task_status import (  # pylint: disable=import-outside-toplevel
        MONTHLY_QUOTA,
        QUIET_POLL_CALLS,
        SOURCE_SPEC,
        monthly_calls,
    )

    default_interval = SOURCE_SPEC["interval"]["default"]
    monthly = monthly_calls(default_interval)
    print(f"detection latency: tasks made stuck were seen by a poll {figures['detected']:.1f}s later (poll interval {POLL_INTERVAL}s)")
    print(f"remediation: closed by the rulebook's playbook {figures['closed']:.1f}s after they became stuck")
    print(f"notification: the failed task was reported {figures['notified']:.1f}s after it failed")
    print(f"API calls per poll: {QUIET_POLL_CALLS} when nothing changed ({figures['quiet']} of {figures['polls']} polls), {figures['calls']} seen in all")
    print(
        f"monthly cost at the default interval of {default_interval:g}s: {monthly:,} API calls when nothing changes, "
        f"{monthly / MONTHLY_QUOTA:.1%} of {MONTHLY_QUOTA:,}"
    )


if __name__ == "__main__":
    main()
