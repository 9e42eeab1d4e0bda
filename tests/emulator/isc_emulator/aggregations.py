"""Aggregation launches: a pending QUARTZ task per launch, ISC's refusals as tasks that fail at once, and the
settings and faults that let a test drive a launch-and-wait deterministically.

A launch's task id is also its account-aggregation id. A launched task stays pending until the control surface
completes it, a per-source auto-completion fires after a number of reads, or the tenant's configured duration
passes (none by default, so that nothing changes by itself while a test runs).
"""

from __future__ import annotations

import dataclasses
import json
import random
import threading

from isc_emulator import api, hooks, seed, sources
from isc_emulator.clock import WINDOW_MS, iso, now_ms, parse_iso
from isc_emulator.responses import Drop, error, json_response, rate_limited

SCHEMA = """
CREATE TABLE IF NOT EXISTS launches (tenant TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tenant, id));
-- A launch looks for the running tasks of its source: without this, a scan of every task's body.
CREATE INDEX IF NOT EXISTS pending_by_source ON tasks (tenant, source_id) WHERE status IS NULL;
"""
ACCOUNTS, ENTITLEMENTS = "accounts", "entitlements"
# Which pending tasks block a launch of each kind, and what a launch of each kind is called.
BLOCKING = {ACCOUNTS: ("cloud account aggregation",), ENTITLEMENTS: ("cloud group aggregation", "cloud entitlement import")}
UNIQUE_NAMES = {ACCOUNTS: "Cloud Account Aggregation", ENTITLEMENTS: "Cloud Group Aggregation"}
DESCRIPTIONS = {kind[0]: kind[4] for kind in seed.KINDS}
ALREADY_RUNNING = "This aggregation failed because the currently running aggregation must complete before the next one can start."
TASK_STATUSES = ("SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR")
# The account-aggregation status of a finished task: TERMINATED is what ISC reports for one that could not reach
# its source; the emulator reports it for every failed one.
AGGREGATION_STATUS = {"SUCCESS": "COMPLETED", "WARNING": "COMPLETED", "ERROR": "TERMINATED", "TERMINATED": "TERMINATED", "TEMPERROR": "RETRIED"}
COUNT_KEYS = ("totalAccounts", "processedAccounts", "totalAccountsMarkedForDeletion", "deletedAccounts", "totalIdentities", "processedIdentities")
STATUS_WINDOW_MS = 3_600_000
LAUNCH_FAULTS = ("error_after", "drop_after", "rate_limit_before")
ACCOUNT_RETURNS = (
    ("TASK_OUT_ACCOUNT_AGGREGATION_APPLICATIONS", "applications"),
    ("TASK_OUT_ACCOUNT_AGGREGATION_TOTAL", "total"),
    ("TASK_OUT_ACCOUNT_AGGREGATION_OPTIMIZED", "optimizedAggregation"),
)
GROUP_RETURNS = (
    ("TASK_OUT_ACCOUNT_GROUP_AGGREGATION_APPLICATIONS", "applications"),
    ("TASK_OUT_ACCOUNT_GROUP_AGGREGATION_TOTAL", "total"),
    ("TASK_OUT_ACCOUNT_GROUP_AGGREGATION_CREATED", "groupsCreated"),
)


class SettingError(ValueError):
    """A setting or completion the control surface refuses (400); the message names the field."""


def check_status(value, name="status"):
    if not isinstance(value, str) or value.upper().replace("TEMP_ERROR", "TEMPERROR") not in TASK_STATUSES:
        raise SettingError("%s must be one of %s" % (name, ", ".join(TASK_STATUSES)))
    return value.upper().replace("TEMP_ERROR", "TEMPERROR")


def check_counts(counts, name="counts"):
    if counts is None:
        return {}
    if not isinstance(counts, dict):
        raise SettingError("%s must be an object of %s" % (name, ", ".join(COUNT_KEYS)))
    for key, value in counts.items():
        if key not in COUNT_KEYS:
            raise SettingError("%s: unknown count %r; known: %s" % (name, key, ", ".join(COUNT_KEYS)))
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**31:
            raise SettingError("%s.%s must be a non-negative 32-bit integer" % (name, key))
    return dict(counts)


def default_counts(task):
    """Plausible counts for a completion that names none, the same for every run of a source."""
    if not task.get("target"):
        return {}
    total = 100 + int(sources.derive(task["target"]["id"], "accounts", length=4), 16) % 900
    return {"totalAccounts": total, "processedAccounts": total}


def _message(kind, text):
    return {"type": kind, "localizedText": {"locale": "en-US", "message": text}, "key": text, "parameters": []}


def finished(task, status, counts=None, message=None, moment=None):
    """The task completed with a status (and counts in its attributes), as ISC writes a finished aggregation."""
    moment = iso(now_ms() if moment is None else moment)
    attributes = dict(task["attributes"])
    attributes.update(counts if counts is not None else default_counts(task))
    if "totalAccounts" in attributes:
        attributes["total"] = attributes["totalAccounts"]
    messages = list(task["messages"])
    if message:
        messages.append(_message("INFO" if status in ("SUCCESS", "WARNING") else "ERROR", message))
    returns = ACCOUNT_RETURNS if task["uniqueName"] == UNIQUE_NAMES[ACCOUNTS] else GROUP_RETURNS
    task.update(
        completionStatus=status,
        completed=moment,
        modified=moment,
        progress=seed.STATUS_PROGRESS[status],
        percentComplete=100 if status != "TERMINATED" else task["percentComplete"],
        messages=messages,
        attributes=attributes,
        returns=[{"name": label, "attributeName": name} for label, name in returns],
    )
    return task


def launched_task(task_id, kind, source, launcher, optimized, moment):
    unique_name = UNIQUE_NAMES[kind]
    attributes = {"taskDefinitionName": seed.definition_name(unique_name), "appId": source["id"], "sourceName": source["name"]}
    if kind == ACCOUNTS:
        attributes["optimizedAggregation"] = "enabled" if optimized else "disabled"
    created = iso(moment)
    return {
        "id": task_id,
        "type": "QUARTZ",
        "uniqueName": unique_name,
        "description": DESCRIPTIONS[unique_name],
        "parentName": None,
        "launcher": launcher,
        "target": sources.target_of(source),
        "created": created,
        "modified": created,
        "launched": created,
        "completed": None,
        "completionStatus": None,
        "messages": [],
        "returns": [],
        "attributes": attributes,
        "progress": "Initializing...",
        "percentComplete": 0,
        "taskDefinitionSummary": {
            "id": sources.derive("definition", unique_name),
            "uniqueName": unique_name,
            "description": DESCRIPTIONS[unique_name],
            "parentName": unique_name,
            "executor": "sailpoint.task.ServiceTaskExecutor",
            "arguments": {},
        },
    }


def launch_answer(kind, task):
    """The 202 body: LoadAccountsTask wraps the task; LoadEntitlementTask is flat, as the specification has them."""
    returns = [{"displayLabel": label, "attributeName": name} for label, name in (ACCOUNT_RETURNS if kind == ACCOUNTS else GROUP_RETURNS)]
    if kind == ENTITLEMENTS:
        return {key: task[key] for key in ("id", "type", "uniqueName", "description", "launcher", "created")} | {"returns": returns}
    attributes = {key: task["attributes"][key] for key in ("appId", "optimizedAggregation")}
    summary = {key: task[key] for key in ("id", "type", "description", "launcher", "created", "launched", "completed", "parentName", "progress")}
    summary.update(name=task["uniqueName"], messages=[], attributes=attributes, returns=returns)
    # The schema's completionStatus is a nullable enum without null, which validators refuse: a pending task's is left out.
    if task["completionStatus"] is not None:
        summary["completionStatus"] = task["completionStatus"]
    return {"success": True, "task": summary}


def aggregation_status(task, moment):
    """The AccountAggregationStatus of a task, or None where ISC answers 404."""
    if task["uniqueName"] != UNIQUE_NAMES[ACCOUNTS]:
        return None
    attributes = task.get("attributes") or {}
    status = task["completionStatus"]
    if status is None:
        state = "ACCOUNTS_COLLECTED" if "totalAccounts" in attributes else "STARTED"
    elif task["completed"] and parse_iso(task["completed"]) + STATUS_WINDOW_MS < moment:
        return None
    else:
        state = AGGREGATION_STATUS.get(status.upper(), "COMPLETED")
    counts = {key: attributes.get(key, 0) for key in COUNT_KEYS}
    if status is not None and "totalAccounts" not in attributes and isinstance(attributes.get("total"), int):
        counts.update(totalAccounts=attributes["total"], processedAccounts=attributes["total"])
    return dict(counts, start=task["launched"] or task["created"], status=state)


@dataclasses.dataclass
class TenantLaunches:
    """A tenant's launch settings and faults, in memory: a reset or a restart forgets them."""

    complete_after_seconds: float = None
    status: str = "SUCCESS"
    counts: dict = None
    fault: str = None
    fault_count: int = 0

    def settings(self):
        return {"complete_after_seconds": self.complete_after_seconds, "status": self.status, "counts": self.counts}


class Launches:
    def __init__(self, emulator, complete_after_seconds=None):
        self.emulator = emulator
        self.default_seconds = complete_after_seconds
        self._lock = threading.Lock()
        self._tenants = {}
        with emulator.store.lock:
            emulator.store.db.executescript(SCHEMA)

    def of(self, tenant_name):
        with self._lock:
            return self._tenants.setdefault(tenant_name, TenantLaunches(complete_after_seconds=self.default_seconds))

    def reset(self, tenant_name):
        with self._lock:
            self._tenants.pop(tenant_name, None)
        with self.emulator.store.lock:
            self.emulator.store.db.execute("DELETE FROM launches WHERE tenant = ?", (tenant_name,))

    def configure(self, tenant_name, data):
        """POST /_control/aggregations: the tenant's duration setting (keys left out keep their value)."""
        unknown = set(data) - {"tenant", "complete_after_seconds", "status", "counts"}
        if unknown:
            raise SettingError("unknown aggregation settings: %s" % ", ".join(sorted(unknown)))
        state = self.of(tenant_name)
        if "complete_after_seconds" in data:
            seconds = data["complete_after_seconds"]
            if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds <= 86_400 * 365):
                raise SettingError("complete_after_seconds must be null (never) or a number of seconds from 0 to a year")
            state.complete_after_seconds = seconds
        if "status" in data:
            state.status = check_status(data["status"])
        if "counts" in data:
            state.counts = check_counts(data["counts"]) or None
        return state.settings()

    def set_fault(self, tenant_name, mode, count):
        if mode is not None and mode not in LAUNCH_FAULTS:
            raise SettingError("mode must be one of %s (or null)" % ", ".join(LAUNCH_FAULTS))
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise SettingError("count must be a non-negative integer (launches the fault applies to)")
        state = self.of(tenant_name)
        with self._lock:
            state.fault, state.fault_count = (mode, count) if mode and count else (None, 0)
        return {"mode": state.fault, "count": state.fault_count}

    def _take_fault(self, tenant_name, modes):
        state = self.of(tenant_name)
        with self._lock:
            if state.fault in modes and state.fault_count:
                state.fault_count -= 1
                mode = state.fault
                if not state.fault_count:
                    state.fault = None
                return mode
        return None

    def fault_before(self, tenant_name):
        """The 429 a rate_limit_before fault answers instead of launching, or None."""
        if self._take_fault(tenant_name, ("rate_limit_before",)):
            return rate_limited(1, note="injected")
        return None

    def fault_after(self, tenant_name, answer):
        """The launch was applied: its answer, or what the fault makes of it (a 500, a dropped connection)."""
        mode = self._take_fault(tenant_name, ("error_after", "drop_after"))
        if mode == "drop_after":
            raise Drop()
        if mode == "error_after":
            return error(500, "Injected fault: the launch was applied, but its answer was lost", note="injected")
        return answer

    def launched_ids(self, tenant_name):
        with self.emulator.store.lock:
            return [row[0] for row in self.emulator.store.db.execute("SELECT id FROM launches WHERE tenant = ?", (tenant_name,))]

    def launch(self, tenant, kind, source, launcher, optimized):
        """Create the launch's task and decide its fate, atomically against other launches; the new task."""
        emulator, store = self.emulator, self.emulator.store
        moment = now_ms()
        task = launched_task(seed.hex_id(random.Random()), kind, source, launcher, optimized, moment)
        with store.lock:
            settings = emulator.sources.settings(tenant.name, source["id"])
            if self._running(tenant.name, source["id"], kind):
                outcome = ("ERROR", ALREADY_RUNNING)
            elif not source["healthy"] or settings["fail_connections"]:
                outcome = ("ERROR", sources.connection_message(source))
                if settings["fail_connections"]:
                    emulator.sources.change(
                        tenant.name, source["id"], change_settings=lambda found: found.update(fail_connections=found["fail_connections"] - 1)
                    )
            else:
                outcome = None
            stored = dict(task)
            if outcome is not None:
                stored = finished(dict(task, attributes=dict(task["attributes"])), outcome[0], {}, outcome[1], moment)
            store.insert(tenant.name, stored)
            store.db.execute("INSERT INTO launches VALUES (?, ?)", (tenant.name, task["id"]))
        if outcome is None:
            self._arm(tenant.name, settings.get("auto_complete"), kind, stored)
        return task

    def _running(self, tenant_name, source_id, kind):
        """Whether a visible pending task of this source and kind exists (the emulator's store lock is held)."""
        # The 90-day edge is checked here, not in SQL: with it, SQLite would pick the index on created_ms.
        rows = self.emulator.store.db.execute(
            "SELECT body, created_ms FROM tasks WHERE tenant = ? AND source_id = ? AND status IS NULL", (tenant_name, source_id.lower())
        )
        since = now_ms() - WINDOW_MS
        return any(created >= since and _unique_name(body) in BLOCKING[kind] for body, created in rows)

    def _arm(self, tenant_name, auto, kind, task):
        """A source's auto-completion: after N reads of the task (an after_read hook), or at once for 0."""
        if not auto or kind not in auto["kinds"]:
            return
        done = finished(dict(task, attributes=dict(task["attributes"])), auto["status"], auto["counts"] or None, auto.get("message"))
        changes = {key: done[key] for key in ("completionStatus", "completed", "progress", "percentComplete", "messages", "attributes", "returns")}
        if auto["after_reads"] == 0:
            hooks.change_task(self.emulator.store, tenant_name, task["id"], changes)
        else:
            self.emulator.hooks.add(tenant_name, {"id": task["id"], "set": changes, "skip": auto["after_reads"] - 1})

    def complete(self, tenant_name, task_id, status=None, counts=None, message=None):
        """Finish a pending task (or only record counts when status is None); the task, or None for an unknown id."""

        def change(task):
            if status is None:
                task["attributes"] = dict(task["attributes"], **counts)
                task["progress"] = "Processing accounts"
                task["modified"] = iso(now_ms())
                return task
            return finished(task, status, counts, message)

        return self.emulator.store.update(tenant_name, task_id, change)

    def sweep(self, tenant_name):
        """Complete the launched tasks whose configured duration has passed (nothing unless a duration is set)."""
        state = self.of(tenant_name)
        if state.complete_after_seconds is None:
            return
        deadline = now_ms() - state.complete_after_seconds * 1000
        store = self.emulator.store
        with store.lock:
            pending = store.db.execute(
                "SELECT tasks.id, tasks.body FROM launches JOIN tasks ON tasks.tenant = launches.tenant AND tasks.id = launches.id"
                " WHERE launches.tenant = ? AND tasks.status IS NULL",
                (tenant_name,),
            ).fetchall()
        for task_id, body in pending:
            if _started(json.loads(body)) > deadline:
                continue

            def change(task):
                # Read again under the store's lock: another request may have finished it meanwhile.
                if task["completionStatus"] is None and _started(task) <= deadline:
                    finished(task, state.status, state.counts)
                return task

            store.update(tenant_name, task_id, change)


def _started(task):
    return parse_iso(task["launched"] or task["created"])


def _unique_name(body):
    return json.loads(body).get("uniqueName", "").lower()


def status_answer(emulator, tenant, request, aggregation_id):
    found = emulator.store.get(tenant.name, aggregation_id)
    moment = now_ms()
    task = json.loads(found[0]) if found is not None and found[1] >= moment - WINDOW_MS else None
    body = aggregation_status(task, moment) if task else None
    if body is None:
        return error(404, "Account aggregation %s was not found" % aggregation_id[:64])
    response = json_response(200, body)
    # A status read is a read of the task: it counts for after_read hooks and so for auto-completion.
    api._after_read(emulator, tenant, request, {task["id"]})
    return response


def stuck_tasks(emulator, tenant_name, source, kind, count, hours):
    """Seed ``count`` pending aggregations of a source that stopped moving ``hours`` ago; the tasks."""
    rng = random.Random()
    moment = now_ms()
    tasks = []
    for index in range(count):
        started = moment - int(hours * 3_600_000) - index * 60_000
        task = launched_task(seed.hex_id(rng), kind, source, "sweep", True, started)
        task.update(modified=iso(started + 45_000), progress="Processing accounts", percentComplete=35)
        emulator.store.insert(tenant_name, task)
        tasks.append(task)
    return tasks


def parse_scenario(text):
    """--stuck-aggregations 'Active Directory:2,Workday:1:down' -> [(name, count, kind, down)]; ValueError naming the entry."""
    entries = []
    for entry in (part.strip() for part in (text or "").split(",")):
        if not entry:
            continue
        name, *rest = [word.strip() for word in entry.split(":")]
        if not name or not rest or not rest[0].isdigit() or int(rest[0]) > 1000:
            raise ValueError("%r: write SOURCE NAME:COUNT[:down][:entitlements], COUNT from 0 to 1000" % entry)
        flags = set(rest[1:])
        if flags - {"down", ACCOUNTS, ENTITLEMENTS} or flags >= {ACCOUNTS, ENTITLEMENTS}:
            raise ValueError("%r: the words after the count may be down and accounts or entitlements" % entry)
        entries.append((name, int(rest[0]), ENTITLEMENTS if ENTITLEMENTS in flags else ACCOUNTS, "down" in flags))
    return entries


def seed_scenario(emulator, tenant_name, text):
    """Stuck aggregations on named sources, the sources marked down where asked (a tenant's first seeding or reset)."""
    for name, count, kind, down in parse_scenario(text):
        source = emulator.sources.by_name(tenant_name, name)
        if source is None:
            names = ", ".join(found["name"] for found in emulator.sources.all(tenant_name))
            raise ValueError("--stuck-aggregations names no source of %s: %r; the sources are %s" % (tenant_name, name, names))
        if down:
            source = emulator.sources.set_health(tenant_name, source["id"], sources.APPLIANCE_DOWN)
        stuck_tasks(emulator, tenant_name, source, kind, count, 6)
