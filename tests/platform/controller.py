"""A stand-in for the credential-types part of the AWX / Automation Platform controller API, for make runner.

It serves what awx.awx.credential_type uses (list by name, create, update; bearer token; the product headers
awx.awx compares with its own version) and checks every credential type it is given the way the controller does
when it saves one (tests/utils/awx_credential.py), answering 400 with the reason as the controller would. What it
stored is what a job's credential is then rendered from.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import awx_credential

COLLECTION = "/api/v2/credential_types/"
ITEM = re.compile(r"^/api/v2/credential_types/(\d+)/$")
FIELDS = ("name", "description", "kind", "inputs", "injectors")
PRODUCT = {"X-API-Product-Name": "AWX", "X-API-Product-Version": "24.6.1"}


class Controller:
    def __init__(self, token: str):
        self.token = token
        self.types = {}
        self.writes = []
        self._lock = threading.Lock()
        controller = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args):
                pass

            def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
                self._serve(controller.get)

            def do_POST(self):  # noqa: N802  pylint: disable=invalid-name
                self._serve(controller.post)

            def do_PATCH(self):  # noqa: N802  pylint: disable=invalid-name
                self._serve(controller.patch)

            def _serve(self, action):
                if self.headers.get("Authorization") != f"Bearer {controller.token}":
                    status, body = 401, {"detail": "Authentication credentials were not provided."}
                else:
                    length = int(self.headers.get("Content-Length") or 0)
                    data = json.loads(self.rfile.read(length) or b"null") if length else None
                    path, _question, query = self.path.partition("?")
                    status, body = action(path, urllib.parse.parse_qs(query), data)
                payload = json.dumps(body).encode("utf-8")
                self.send_response(status)
                for name, value in dict(PRODUCT, **{"Content-Type": "application/json", "Content-Length": str(len(payload))}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def definition(self, name: str) -> dict:
        """A stored credential type as the documents the controller keeps (name, description, kind, inputs, injectors)."""
        with self._lock:
            stored = next(item for item in self.types.values() if item["name"] == name)
            return {field: stored[field] for field in FIELDS}

    def get(self, path, query, _data):
        if path != COLLECTION:
            return 404, {"detail": "Not found."}
        with self._lock:
            results = [item for item in self.types.values() if all(str(item.get(key)) == values[0] for key, values in query.items() if key != "page_size")]
        return 200, {"count": len(results), "next": None, "previous": None, "results": results}

    def post(self, path, _query, data):
        if path != COLLECTION:
            return 404, {"detail": "Not found."}
        problem = self._problem(data)
        if problem:
            return 400, problem
        with self._lock:
            if any(item["name"] == data["name"] for item in self.types.values()):
                return 400, {"__all__": ["Credential type with this Name and Kind already exists."]}
            number = len(self.types) + 1
            self.types[number] = dict(data, id=number, url=f"{COLLECTION}{number}/", type="credential_type", managed=False)
            self.writes.append(("POST", data["name"]))
            return 201, self.types[number]

    def patch(self, path, _query, data):
        match = ITEM.match(path)
        with self._lock:
            stored = self.types.get(int(match.group(1))) if match else None
        if stored is None:
            return 404, {"detail": "Not found."}
        problem = self._problem(dict(stored, **data))
        if problem:
            return 400, problem
        with self._lock:
            stored.update(data)
            self.writes.append(("PATCH", stored["name"]))
            return 200, stored

    @staticmethod
    def _problem(data) -> dict | None:
        if not isinstance(data, dict) or data.get("managed"):
            return {"detail": "a custom credential type is a JSON object and not managed"}
        try:
            awx_credential.validate({field: data[field] for field in FIELDS if field in data})
        except awx_credential.CredentialTypeError as error:
            return {"inputs": [str(error)]}
        return None
