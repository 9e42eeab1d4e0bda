# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ISC emulator of tests/emulator, run in this process on 127.0.0.1, and its control surface.

In this process so that the suite knows every token the emulator issues (wrapped at ``Tokens.issue``): a leak scan
must look for the tokens too, and the control surface never tells them. Control calls go through the standard
library, not requests/urllib3, so that the request counter of the module runs (harness.py) never counts them.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import sys
import threading
import urllib.error
import urllib.request
import uuid

EMULATOR_DIR = pathlib.Path(__file__).resolve().parent.parent / "emulator"
if str(EMULATOR_DIR) not in sys.path:
    sys.path.insert(0, str(EMULATOR_DIR))

from isc_emulator import faults as emulator_faults  # noqa: E402  pylint: disable=wrong-import-position,import-error
from isc_emulator.app import Emulator, Options  # noqa: E402  pylint: disable=wrong-import-position,import-error
from isc_emulator.server import make_server, start_in_thread  # noqa: E402  pylint: disable=wrong-import-position,import-error


class ControlError(Exception):
    """The control surface refused a call."""


class RunningEmulator:
    """One emulator: its tenants, clients, the tokens it issued, and calls to its control surface."""

    def __init__(self, tenants=("acme",), tasks=20, pending=3, stuck=5, tls=None):
        # the gateway's rate limit is off: hundreds of short module runs share one client id, and the suite is about
        # what a module does with its input, not about pacing (tests/unit and the emulator tests cover that)
        options = Options(tenants=tuple(tenants), tasks=tasks, pending=pending, stuck=stuck, faults=emulator_faults.FaultConfig(rate_limit=None))
        self.emulator = Emulator(options)
        self.issued_tokens: list[str] = []
        # credentials given to roles through the control surface: secrets to look for as well
        self.extra_secrets: list[str] = []
        self._issued_lock = threading.Lock()
        original_issue = self.emulator.tokens.issue

        def issue(*args, **kwargs):
            body = original_issue(*args, **kwargs)
            with self._issued_lock:
                self.issued_tokens.append(body["access_token"])
            return body

        self.emulator.tokens.issue = issue
        tls_cert, tls_key = tls or (None, None)
        self.server = make_server(self.emulator, "127.0.0.1", 0, tls_cert, tls_key)
        start_in_thread(self.server)
        # the control surface is reached over plain HTTP on a second server sharing the same emulator, so that a TLS
        # emulator can be steered without trusting its certificate
        self._control_server = make_server(self.emulator, "127.0.0.1", 0) if tls else None
        if self._control_server is not None:
            start_in_thread(self._control_server)
        self.describe = self.emulator.describe(self.server.root_url)
        control_root = (self._control_server or self.server).root_url
        self.control_url = control_root + "/_control"

    # ---- what the suite needs to know

    @property
    def base_url(self) -> str:
        return self.describe["base_url"]

    def tenant(self, name=None) -> dict:
        tenants = self.describe["tenants"]
        return tenants[0] if name is None else next(tenant for tenant in tenants if tenant["name"] == name)

    def connection(self, tenant=None, role="admin") -> dict:
        """Module options that connect as ``role`` to ``tenant``."""
        described = self.tenant(tenant)
        client = described["clients"][role]
        return {"base_url": described["base_url"], "client_id": client["client_id"], "client_secret": client["client_secret"]}

    def secrets(self) -> list[str]:
        """Every client secret of every tenant, and every token issued so far."""
        found = [client["client_secret"] for tenant in self.describe["tenants"] for client in tenant["clients"].values()]
        with self._issued_lock:
            return found + self.extra_secrets + list(self.issued_tokens)

    # ---- the control surface

    def control(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.control_url + path, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback only)
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as problem:
            raise ControlError(f"{method} {path}: HTTP {problem.code}: {problem.read()[:500]!r}") from None

    def reset(self, tenant=None):
        self.control("POST", "/reset", {"tenant": tenant} if tenant else {})

    def set_faults(self, tenant=None, **settings):
        self.control("POST", "/faults", dict(settings, **({"tenant": tenant} if tenant else {})))

    def set_client(self, role: str, client_secret: str, tenant=None) -> dict:
        """Give ``role`` another secret (any characters, so that each encoding of it differs); its connection options."""
        self.extra_secrets.append(client_secret)
        self.control("POST", "/clients", {"role": role, "client_secret": client_secret, **({"tenant": tenant} if tenant else {})})
        return dict(self.connection(tenant, role), client_secret=client_secret)

    def tasks(self, tenant=None) -> list[dict]:
        return self.control("GET", "/tasks" + (f"?tenant={tenant}" if tenant else ""))

    def put_tasks(self, tasks: list[dict], tenant=None) -> list[dict]:
        return self.control("POST", "/tasks", {"tasks": tasks, **({"tenant": tenant} if tenant else {})})["tasks"]

    def requests(self, tenant=None, since=0) -> list[dict]:
        query = f"?since={since}" + (f"&tenant={tenant}" if tenant else "")
        return self.control("GET", "/requests" + query)

    def last_seq(self) -> int:
        entries = self.requests()
        return entries[-1]["seq"] if entries else 0

    def pending_task(self, tenant=None) -> dict:
        """A fresh pending task, created for one test so that tests do not share state."""
        return self.put_tasks([new_task(completionStatus=None, completed=None, percentComplete=10)], tenant)[0]

    def completed_task(self, tenant=None) -> dict:
        return self.put_tasks([new_task(completionStatus="SUCCESS", percentComplete=100)], tenant)[0]

    def close(self):
        for server in filter(None, (self.server, self._control_server)):
            server.shutdown()
            server.server_close()
        self.emulator.close()


def new_task(**fields) -> dict:
    """A partial TaskStatus for POST /_control/tasks: a fresh id, the given fields, the emulator fills the rest."""
    return dict(fields, id=uuid.uuid4().hex)


@contextlib.contextmanager
def running_emulator(**kwargs):
    emulator = RunningEmulator(**kwargs)
    try:
        yield emulator
    finally:
        emulator.close()
