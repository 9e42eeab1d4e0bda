# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for IscClient with sources, aggregations and their task statuses, for the services' unit tests.

It behaves as the contract says ISC does: a launch answers 202 with the new task; an aggregation launched while
another of the same source and kind is pending ends in ERROR with ISC's message; a task completes after a given
number of reads. Every call is logged, as the emulator's request log would show it.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.sailpoint.isc.plugins.module_utils._client import API_VERSIONS
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import NotFoundError
from ansible_collections.sailpoint.isc.plugins.module_utils._redact import Redactor

BLOCKED = "This aggregation failed because the currently running aggregation must complete before the next one can start."
UNIQUE_NAMES = {"load-accounts": "Cloud Account Aggregation", "load-entitlements": "Cloud Group Aggregation"}
ADMIN = {"identity_id": "i1", "user_name": "admin", "authorities": ["ORG_ADMIN"], "scope": ["sp:scopes:all"]}


def make_source(source_id="s1", name="Active Directory", healthy=True, **fields):
    source = {
        "id": source_id,
        "name": name,
        "description": "The corporate directory",
        "type": "Active Directory - Direct",
        "connector": "active-directory",
        "connectorName": "Active Directory",
        "cluster": {"type": "CLUSTER", "id": "c1", "name": "Corporate Cluster"},
        "authoritative": True,
        "healthy": healthy,
        "status": "SOURCE_STATE_HEALTHY" if healthy else "SOURCE_STATE_ERROR_VA",
        "since": "2026-07-11T21:23:15.380Z",
        "owner": {"type": "IDENTITY", "id": "o1", "name": "Jane"},
        "created": "2026-01-08T14:50:03.827Z",
        "modified": "2026-07-11T21:23:15.380Z",
        "connectorAttributes": {"password": "never returned"},
    }
    source.update(fields)
    return source


def make_aggregation(task_id, source_id="s1", unique_name="Cloud Account Aggregation", pending=True, **fields):
    task = {
        "id": task_id,
        "type": "QUARTZ",
        "uniqueName": unique_name,
        "description": "Aggregate from the specified application",
        "parentName": None,
        "launcher": "sweep",
        "target": {"id": source_id, "type": "APPLICATION", "name": "Active Directory"},
        "created": "2026-07-11T10:00:00.000Z",
        "modified": "2026-07-11T10:00:00.000Z",
        "launched": "2026-07-11T10:00:00.000Z",
        "completed": None if pending else "2026-07-11T10:05:00.000Z",
        "completionStatus": None if pending else "SUCCESS",
        "messages": [],
        "returns": [],
        "attributes": {},
        "progress": "Started" if pending else "Completed",
        "percentComplete": 10 if pending else 100,
    }
    task.update(fields)
    return task


def _quoted(text):
    return [value.replace('\\"', '"') for value in re.findall(r'"((?:[^"\\]|\\.)*)"', text or "")]


class FakeSourcesClient:
    """Sources and task statuses of one tenant, with a log of every call as (method, path-ish, detail)."""

    def __init__(self, sources=(), tasks=(), version="v2025", claims=None, secrets=()):
        self.version = API_VERSIONS[version]
        self.sources = {source["id"]: copy.deepcopy(source) for source in sources}
        self.tasks = {task["id"]: copy.deepcopy(task) for task in tasks}
        self.token_claims = ADMIN if claims is None else claims
        self.redactor = Redactor(secrets)
        self.log = []
        self.warnings = []
        # per launch: None (served), or (applied, error): the error raised after the launch was (or was not) applied
        self.launch_faults = []
        # task id -> number of reads after which it completes (SUCCESS), counted from now
        self.complete_after = {}
        # answers that are not what ISC specifies: path fragment -> answer returned as is
        self.spoiled = {}
        self.launched = 0

    # ---- what tests look at

    def calls(self, method=None):
        return [entry for entry in self.log if method is None or entry[0] == method]

    def warn(self, text):
        self.warnings.append(self.redactor.text(text))

    def claims(self):
        return self.token_claims

    # ---- sources

    def _spoil(self, path):
        return next((answer for fragment, answer in self.spoiled.items() if fragment in path), None)

    def get_object(self, path, what="an object", id_required=True):
        self.log.append(("GET", path, None))
        spoiled = self._spoil(path)
        if spoiled is not None:
            return spoiled
        parts = path.strip("/").split("/")
        if "account-aggregations" in parts:
            task_id = parts[parts.index("account-aggregations") + (2 if self.version.name == "v1" else 1)]
            if task_id not in self.tasks or self.tasks[task_id]["completionStatus"] is None:
                raise NotFoundError(f"GET {path} failed with HTTP 404", status=404)
            return {"start": self.tasks[task_id]["launched"], "status": "COMPLETED", "totalAccounts": 7, "processedAccounts": 7}
        source_id = parts[parts.index("sources") + (2 if self.version.name == "v1" else 1)]
        if source_id not in self.sources:
            raise NotFoundError(f"GET {path} failed with HTTP 404", status=404)
        if parts[-1] == "source-health":
            return {"id": source_id, "status": self.sources[source_id]["status"], "hostname": "va-1"}
        return copy.deepcopy(self.sources[source_id])

    def iter_objects(self, path, query=None, max_results=None, what="objects"):
        self.log.append(("LIST", path, (query or {}).get("filters")))
        filters = (query or {}).get("filters") or ""
        wanted = {value.lower() for value in _quoted(filters)}
        field = "name" if filters.startswith("name") else "id"
        found = [copy.deepcopy(source) for source in self.sources.values() if not filters or source[field].lower() in wanted]
        yield found[:max_results] if max_results is not None else found

    def post(self, path, what="an object"):
        self.log.append(("POST", path, None))
        source_id = path.strip("/").split("/")[-3]
        return {"id": source_id, "name": self.sources[source_id]["name"], "status": "SUCCESS", "elapsedMillis": 12, "details": {}}

    # ---- launches

    def post_form(self, path, fields=None, what="an object"):
        self.log.append(("POST", path, dict(fields or {})))
        fault = self.launch_faults.pop(0) if self.launch_faults else None
        if fault is not None and not fault[0]:
            raise fault[1]
        parts = path.strip("/").split("/")
        source_id, operation = parts[-2], parts[-1]
        unique_name = UNIQUE_NAMES[operation]
        blocked = any(
            task["completionStatus"] is None and task["target"]["id"] == source_id and task["uniqueName"] == unique_name for task in self.tasks.values()
        )
        self.launched += 1
        task = make_aggregation(f"launched{self.launched}", source_id, unique_name, launcher="api", created="2026-07-11T12:00:00.000Z")
        task["launched"] = task["created"]
        if blocked:
            task.update(
                completionStatus="ERROR", completed=task["created"], messages=[{"type": "ERROR", "localizedText": {"locale": "en-US", "message": BLOCKED}}]
            )
        self.tasks[task["id"]] = task
        if fault is not None:
            raise fault[1]
        answered = {name: task[name] for name in ("id", "type", "created", "launched", "completed", "completionStatus", "messages", "progress")}
        if operation == "load-accounts":
            return {"success": True, "task": dict(answered, name=unique_name, attributes={"appId": source_id, "optimizedAggregation": "enabled"})}
        return dict(answered, uniqueName=unique_name)

    # ---- task statuses, as the reading layer calls them

    def get_task(self, task_id):
        self.log.append(("GET", f"task-status/{task_id}", None))
        if task_id not in self.tasks:
            raise NotFoundError(f"GET task-status/{task_id} failed with HTTP 404", status=404)
        if task_id in self.complete_after:
            self.complete_after[task_id] -= 1
            if self.complete_after[task_id] < 0:
                self.tasks[task_id].update(completionStatus="SUCCESS", completed="2026-07-11T12:10:00.000Z", percentComplete=100)
        return copy.deepcopy(self.tasks[task_id])

    def iter_pages(self, filters=None, sorters=None, max_results=None, operation="list", page_size=250):
        self.log.append(("LIST", f"task-status {operation}", filters))
        tasks = list(self.tasks.values())
        if operation == "pending" or "isnull" in (filters or ""):
            tasks = [task for task in tasks if task["completionStatus"] is None]
        if "sourceId" in (filters or ""):
            wanted = set(_quoted(filters))
            tasks = [task for task in tasks if (task.get("target") or {}).get("id") in wanted]
        yield copy.deepcopy(tasks)

    def count_tasks(self, filters=None, operation="list"):
        self.log.append(("COUNT", operation, filters))
        return sum(1 for task in self.tasks.values() if task["completionStatus"] is None)
