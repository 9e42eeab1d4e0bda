"""A deterministic generator of realistic tenants' task statuses."""

from __future__ import annotations

import itertools
import json
import random

from isc_emulator.clock import DAY_MS, WINDOW_MS, iso, parse_iso

SOURCES = (
    "Active Directory",
    "Workday",
    "ServiceNow",
    "Okta",
    "Salesforce",
    "SAP ERP",
    "Entra ID",
    "Google Workspace",
    "GitHub",
    "Oracle HR",
    "Jira Cloud",
    "Slack",
)

# (uniqueName, type, has a source target, weight, description)
KINDS = (
    ("Cloud Account Aggregation", "QUARTZ", True, 45, "Aggregates from the specified application."),
    ("Cloud Group Aggregation", "QUARTZ", True, 15, "Aggregates groups from the specified application."),
    ("Identity Refresh", "QUEUED_TASK", False, 15, "Refreshes identities and their access."),
    ("Cloud Process Uncorrelated Accounts", "QUARTZ", True, 10, "Correlates uncorrelated accounts of a source."),
    ("Cloud Entitlement Import", "QUARTZ", True, 10, "Imports entitlements from a file."),
    ("Cloud Refresh Role", "QPOC", False, 5, "Refreshes role membership."),
)
OUTCOMES = (("SUCCESS", 70), ("WARNING", 12), ("ERROR", 10), ("TERMINATED", 5), ("TEMPERROR", 3))
LAUNCHERS = ("sweep", "sweep", "sweep", "system", "jane.doe", "support.admin", "svc-ansible")
STATUS_PROGRESS = {
    "SUCCESS": "Completed",
    "WARNING": "Completed with warnings",
    "ERROR": "Failed",
    "TERMINATED": "Terminated",
    "TEMPERROR": "Retrying later",
}
MESSAGE_TYPES = {"SUCCESS": "INFO", "WARNING": "WARN", "ERROR": "ERROR", "TERMINATED": "WARN", "TEMPERROR": "ERROR"}
MARK = "\x01"
COMPACT = (",", ":")


def definition_name(unique_name):
    """ISC's task-definition name, which the type filter matches."""
    return "_".join(unique_name.upper().split())


def hex_id(rng):
    return "%032x" % rng.getrandbits(128)


def dumps(task):
    return json.dumps(task, separators=COMPACT)


def index_row(task, body=None):
    """The store's row: the lower-cased columns filters and sorters use, and the serialized task."""
    status = task.get("completionStatus")
    target = task.get("target") or {}
    attributes = task.get("attributes") or {}
    source_id, type_name, launcher = target.get("id"), attributes.get("taskDefinitionName"), task.get("launcher")
    return (
        task["id"],
        task["id"].lower(),
        parse_iso(task["created"]),
        status.lower() if status else None,
        source_id.lower() if source_id else None,
        type_name.lower() if type_name else None,
        launcher.lower() if launcher else None,
        body or dumps(task),
    )


def _message(status, unique_name):
    text = "%s finished: %s" % (unique_name, STATUS_PROGRESS[status].lower())
    return {"type": MESSAGE_TYPES[status], "localizedText": {"locale": "en-US", "message": text}, "key": "task_" + status.lower(), "parameters": []}


class TaskFactory:
    """Builds complete TaskStatus dicts: every contract key present, explicit nulls."""

    def __init__(self, rng, now):
        self.rng = rng
        # no task may have finished after the moment it is generated at
        self.now = now
        self.sources = [(hex_id(rng), "%s [source]" % name) for name in SOURCES]
        self.definitions = {kind[0]: hex_id(rng) for kind in KINDS}
        self._kind_weights = list(itertools.accumulate(kind[3] for kind in KINDS))
        self._outcome_weights = list(itertools.accumulate(outcome[1] for outcome in OUTCOMES))
        self._templates = {}

    def _pick(self):
        rng = self.rng
        kind = rng.choices(KINDS, cum_weights=self._kind_weights)[0]
        source = rng.randrange(len(self.sources)) if kind[2] else None
        status = rng.choices(OUTCOMES, cum_weights=self._outcome_weights)[0][0]
        return kind, source, status

    def _shape(self, kind, source, status, values):
        """One TaskStatus; ``values`` supplies what varies from task to task."""
        unique_name, task_type, description = kind[0], kind[1], kind[4]
        target = None
        attributes = {"taskDefinitionName": definition_name(unique_name)}
        if source is not None:
            source_id, source_name = self.sources[source]
            target = {"id": source_id, "type": "APPLICATION", "name": source_name}
            attributes.update({"appId": source_id, "sourceName": source_name[: -len(" [source]")]})
        completed = status is not None
        if completed:
            attributes.update({"total": values["total"], "changed": values["changed"]} if target else {"identityCount": values["total"]})
        return {
            "id": values["id"],
            "type": task_type,
            "uniqueName": unique_name,
            "description": description,
            "parentName": None,
            "launcher": values["launcher"],
            "target": target,
            "created": values["created"],
            "modified": values["modified"],
            "launched": values["launched"],
            "completed": values["completed"],
            "completionStatus": status,
            "messages": [_message(status, unique_name)] if completed else [],
            "returns": [{"name": "Accounts Scanned", "attributeName": "total"}, {"name": "Accounts Changed", "attributeName": "changed"}]
            if completed and target
            else [],
            "attributes": attributes,
            "progress": STATUS_PROGRESS[status] if completed else values["progress"],
            "percentComplete": values["percentComplete"],
            "taskDefinitionSummary": {
                "id": self.definitions[unique_name],
                "uniqueName": unique_name,
                "description": description,
                "parentName": unique_name,
                "executor": "sailpoint.task.ServiceTaskExecutor",
                "arguments": {},
            },
        }

    def _completed_values(self, created_ms, status):
        rng = self.rng
        launched = created_ms + rng.randint(50, 5000)
        finished = min(launched + rng.randint(2_000, 3 * 3_600_000), max(launched, self.now))
        total = rng.randint(0, 50_000)
        return {
            "id": hex_id(rng),
            "launcher": rng.choice(LAUNCHERS),
            "created": iso(created_ms),
            "launched": iso(launched),
            "modified": iso(finished),
            "completed": iso(finished),
            "total": total,
            "changed": rng.randint(0, total),
            "percentComplete": 100 if status != "TERMINATED" else rng.randint(0, 99),
        }

    def _template(self, kind, source, status):
        """A %-format string of the serialized task, so bulk seeding skips json.dumps per task."""
        key = (kind[0], source, status)
        if key not in self._templates:
            names = ("id", "launcher", "created", "launched", "modified", "completed", "total", "changed", "percentComplete")
            text = dumps(self._shape(kind, source, status, {name: MARK + name for name in names})).replace("%", "%%")
            for name in names:
                placeholder = "%%(%s)d" % name if name in ("total", "changed", "percentComplete") else '"%%(%s)s"' % name
                text = text.replace('"\\u0001%s"' % name, placeholder)
            self._templates[key] = text
        return self._templates[key]

    def completed_row(self, created_ms):
        kind, source, status = self._pick()
        values = self._completed_values(created_ms, status)
        row_source = self.sources[source][0] if source is not None else None
        return (
            values["id"],
            values["id"],
            created_ms,
            status.lower(),
            row_source,
            definition_name(kind[0]).lower(),
            values["launcher"].lower(),
            self._template(kind, source, status) % values,
        )

    def completed(self, created_ms, status=None):
        kind, source, picked = self._pick()
        status = (status or picked).upper()
        return self._shape(kind, source, status, self._completed_values(created_ms, status))

    def pending(self, created_ms, stale):
        rng = self.rng
        kind, source = self._pick()[:2]
        launched = created_ms + rng.randint(50, 5000)
        # A stuck task stopped moving soon after it started, which is how one tells it apart.
        moved = launched + (rng.randint(10_000, 600_000) if stale else rng.randint(1_000, 30_000))
        values = {
            "id": hex_id(rng),
            "launcher": rng.choice(LAUNCHERS),
            "created": iso(created_ms),
            "launched": iso(launched),
            "modified": iso(moved),
            "completed": None,
            "percentComplete": rng.randint(0, 60 if stale else 90),
            "progress": rng.choice(("Started", "Processing accounts", "Correlating")),
        }
        return self._shape(kind, source, None, values)


def _tenant_rng(seed, tenant):
    return random.Random("%s/%s" % (seed, tenant))


def source_targets(seed, tenant):
    """(id, target name) of every source the seeded tasks of a tenant target: the factory draws them first."""
    return TaskFactory(_tenant_rng(seed, tenant), 0).sources


def generate_rows(seed, tasks, pending, stuck, now, tenant="acme"):
    """Store rows of ``tasks`` visible tasks (``pending`` + ``stuck`` of them pending) plus hidden ones older than 90 days."""
    rng = _tenant_rng(seed, tenant)
    factory = TaskFactory(rng, now)
    pending = min(pending, tasks)
    stuck = min(stuck, tasks - pending)
    rows = [factory.completed_row(now - rng.randint(3_600_000, WINDOW_MS - DAY_MS)) for _index in range(tasks - pending - stuck)]
    rows += [index_row(factory.pending(now - rng.randint(30_000, 20 * 60_000), stale=False)) for _index in range(pending)]
    rows += [index_row(factory.pending(now - rng.randint(3 * 3_600_000, 12 * DAY_MS), stale=True)) for _index in range(stuck)]
    rows += [factory.completed_row(now - rng.randint(WINDOW_MS + DAY_MS, WINDOW_MS + 60 * DAY_MS)) for _index in range(max(2, tasks // 20))]
    return rows


def complete_partial(partial, rng, now):
    """Fill a partial TaskStatus from the control surface with realistic values for every missing key."""
    factory = TaskFactory(rng, now)
    created_ms = parse_iso(partial["created"]) if partial.get("created") else now - 60_000
    if "completionStatus" in partial and partial["completionStatus"] is None:
        task = factory.pending(created_ms, stale=False)
    else:
        task = factory.completed(created_ms, partial.get("completionStatus"))
    task.update(partial)
    task["created"] = iso(created_ms)
    if task.get("completionStatus"):
        task["completionStatus"] = task["completionStatus"].upper()
    if "uniqueName" in partial and "taskDefinitionName" not in partial.get("attributes", {}):
        task["attributes"] = dict(task["attributes"], taskDefinitionName=definition_name(task["uniqueName"]))
    return task
