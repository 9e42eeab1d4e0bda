"""What the platform stages (make runner, navigator, proxy) share: an emulated tenant and a list of checks.

The emulator runs inside the test's own process, started from its command line (``isc-emulator serve`` options),
so that the test sees every access token the moment the emulator issues it: the control surface never shows a
token, by design, and the secret scan needs each one to prove that none reached an artifact.
"""

from __future__ import annotations

import json
import ssl
import sys
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

COLLECTION_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(COLLECTION_ROOT / "tests" / "emulator"))

from isc_emulator import cli  # noqa: E402  pylint: disable=wrong-import-position
from isc_emulator.app import Emulator  # noqa: E402  pylint: disable=wrong-import-position
from isc_emulator.server import make_server, start_in_thread  # noqa: E402  pylint: disable=wrong-import-position

# Tasks the scenario adds with known ids: pending for days (the runbook closes them) and finished (it waits for them).
STUCK_IDS = [f"5c0000000000000000000000000000{index:02d}" for index in range(1, 5)]
FINISHED = {"5f00000000000000000000000000000a": "SUCCESS", "5f00000000000000000000000000000b": "WARNING"}
FRESH_PENDING = 2
# The source whose stuck account aggregation the recovery runbook clears and relaunches (the emulator completes it).
RECOVERED_SOURCE = "5a000000000000000000000000000001"
VISIBLE_TASKS = 40


class Checks:
    """Named checks, each printed as it ends: `CHECK ok: ...` (what make test counts) or `CHECK FAILED: ...`."""

    def __init__(self):
        self.failed = []

    def check(self, passed: bool, what: str, detail: str = "") -> bool:
        if passed:
            print(f"CHECK ok: {what}", flush=True)
        else:
            self.failed.append(what)
            print(f"CHECK FAILED: {what}" + (f": {detail}" if detail else ""), flush=True)
        return passed

    def exit_status(self) -> int:
        if self.failed:
            print(f"{len(self.failed)} checks failed: " + "; ".join(self.failed), flush=True)
            return 1
        return 0


class Tenant:
    """One emulated tenant served on loopback; ``tokens`` lists every access token issued so far."""

    def __init__(self, *serve_args, ca_file=None):
        args = cli.build_parser().parse_args(["serve", "--port", "0", *serve_args])
        self.emulator = Emulator(cli.options_from(args))
        self.tokens = []
        issue = self.emulator.tokens.issue

        def recording_issue(*issue_args, **issue_kwargs):
            body = issue(*issue_args, **issue_kwargs)
            self.tokens.append(body["access_token"])
            return body

        self.emulator.tokens.issue = recording_issue
        self.server = make_server(self.emulator, args.host, args.port, args.tls_cert, args.tls_key)
        start_in_thread(self.server)
        self.info = self.emulator.describe(self.server.root_url)
        self.base_url = self.info["base_url"]
        self.control_url = self.info["control_url"]
        self.admin = self.info["clients"]["admin"]
        # The control surface is on loopback: no proxy from the environment may stand in between.
        handlers = [urllib.request.ProxyHandler({})]
        if ca_file:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(ca_file))))
        self._opener = urllib.request.build_opener(*handlers)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.emulator.close()

    def control(self, method: str, call: str, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.control_url + call, data=data, method=method, headers={"Content-Type": "application/json"})
        with self._opener.open(request, timeout=30) as response:
            return json.loads(response.read().decode("utf-8"))

    def tasks(self) -> dict:
        return {task["id"]: task for task in self.control("GET", "/tasks")}

    def requests(self) -> list:
        return self.control("GET", "/requests")

    def add_scenario_tasks(self):
        """The tasks the runbooks act on, with known ids: stuck ones pending for days, finished ones."""
        now = datetime.now(timezone.utc)
        tasks = [{"id": task_id, "created": stamp(now - timedelta(days=2, hours=index)), "completionStatus": None} for index, task_id in enumerate(STUCK_IDS)]
        tasks += [
            {"id": task_id, "created": stamp(now - timedelta(hours=1)), "completed": stamp(now - timedelta(minutes=10)), "completionStatus": status}
            for task_id, status in FINISHED.items()
        ]
        self.control("POST", "/tasks", {"tasks": tasks})

    def add_stuck_aggregation(self) -> str:
        """A source with an account aggregation stuck for seven hours, whose relaunch the emulator completes at once;
        the stuck task's id."""
        self.control("POST", "/sources", {"id": RECOVERED_SOURCE, "name": "Recovered source"})
        self.control("POST", f"/sources/{RECOVERED_SOURCE}/auto-complete", {"status": "SUCCESS", "after_reads": 0})
        return self.control("POST", f"/sources/{RECOVERED_SOURCE}/stuck", {"kind": "accounts", "hours": 7})["tasks"][0]["id"]

    def secrets(self) -> dict:
        """Every secret the scans look for: the clients' secrets and each access token issued so far."""
        found = {f"client secret ({role})": client["client_secret"] for role, client in self.info["clients"].items()}
        found.update({f"access token #{number}": token for number, token in enumerate(self.tokens, 1)})
        return found


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def scenario_serve_args() -> list:
    """A tenant whose only pending tasks older than minutes are the scenario's stuck ones."""
    return ["--tasks", str(VISIBLE_TASKS), "--pending", str(FRESH_PENDING), "--stuck", "0", "--validate-requests"]
