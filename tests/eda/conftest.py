# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the event source's tests: the ISC emulator on a loopback port, steered over its control surface."""

from __future__ import annotations

import os
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

# The emulator is its own package beside the plugins; the tests start it without installing it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "emulator"))

from isc_emulator.app import Emulator, Options  # noqa: E402  pylint: disable=wrong-import-position
from isc_emulator.server import make_server, start_in_thread  # noqa: E402  pylint: disable=wrong-import-position

# The seeded tenant: completed tasks (some of them failed), a few recently started pending tasks and a few stuck
# for hours or days, as in a real tenant.
SEED = {"seed": 7, "tasks": 60, "pending": 3, "stuck": 2}


def iso(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"


def ago(**delta) -> str:
    return iso(datetime.now(timezone.utc) - timedelta(**delta))


class Isc:
    """One emulated tenant, seen from its control surface, as a test changes it behind the source's back."""

    def __init__(self, info: dict):
        self.info = info
        self.base_url = info["base_url"]
        self.control_url = info["control_url"]
        self.clients = info["clients"]
        self.session = requests.Session()

    def control(self, method: str, call: str, payload=None, **params):
        reply = self.session.request(method, f"{self.control_url}/{call}", json=payload, params=params, timeout=30)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def reset(self, **sizes):
        self.control("POST", "reset", dict(SEED, **sizes))

    def tasks(self) -> dict:
        return {task["id"]: task for task in self.control("GET", "tasks") if not task["hidden"]}

    def insert(self, *tasks) -> list:
        return self.control("POST", "tasks", {"tasks": [dict({"id": uuid.uuid4().hex}, **task) for task in tasks]})["tasks"]

    def set(self, task_id: str, **fields) -> dict:
        return self.control("PATCH", f"tasks/{task_id}", {"set": fields})

    def finish(self, task_id: str, status: str) -> dict:
        return self.set(task_id, completionStatus=status, completed=ago(seconds=0), progress="Completed", percentComplete=100)

    def faults(self, **settings):
        self.control("POST", "faults", settings)

    def faults_or_skip(self, **settings):
        """Set faults this emulator may not know (malformed answers, echoed requests); skip the test if it does not."""
        reply = self.session.post(f"{self.control_url}/faults", json=settings, timeout=30)
        if reply.status_code == 400 and "unknown fault settings" in reply.text:
            pytest.skip(f"this emulator has no such faults: {reply.text[:200]}")
        assert reply.status_code == 200, reply.text

    def last_seq(self) -> int:
        entries = self.control("GET", "requests")
        return entries[-1]["seq"] if entries else 0

    def api_calls(self, since: int) -> list:
        """The task-status requests logged after ``since`` (the token requests left out)."""
        return [entry for entry in self.control("GET", "requests", since=since) if not entry["path"].endswith("/oauth/token")]

    def args(self, role: str = "api", **extra) -> dict:
        client = self.clients[role]
        return dict({"base_url": self.base_url, "client_id": client["client_id"], "client_secret": client["client_secret"], "retries": 0}, **extra)


@pytest.fixture(scope="session")
def served():
    emulator = Emulator(Options(**{key: value for key, value in SEED.items() if key != "seed"}, seed=SEED["seed"]))
    server = make_server(emulator)
    start_in_thread(server)
    try:
        yield Isc(emulator.describe(server.root_url))
    finally:
        server.shutdown()
        server.server_close()
        emulator.close()


@pytest.fixture
def isc(served, monkeypatch):
    """The tenant freshly seeded, without faults, and no SAIL_* variable of the machine's environment in the way."""
    for name in [name for name in os.environ if name.startswith("SAIL_")]:
        monkeypatch.delenv(name)
    served.reset()
    return served
