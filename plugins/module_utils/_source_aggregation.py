# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service layer of source_aggregation: launch a source's aggregation once, idempotently, and follow it.

A run reads the source and its pending aggregations of the kind asked for (through the task-reading layer), decides
whether to launch, and launches with one POST. Check mode makes the same reads and the same decision and only skips
the POST. A launch is never sent twice: the client repeats it only where it cannot have been applied, and after an
answer that leaves it open (HTTP 500, 502, 504, a dropped connection) the source's pending aggregations are read
again to learn whether it took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ansible_collections.sailpoint.isc.plugins.module_utils import _rights as rights
from ansible_collections.sailpoint.isc.plugins.module_utils import _sources as sources
from ansible_collections.sailpoint.isc.plugins.module_utils._aggregations import KINDS, aggregation_kind
from ansible_collections.sailpoint.isc.plugins.module_utils._client import path_segment
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import (
    ForbiddenError,
    IscError,
    NotFoundError,
    OptionError,
    ServerAnswerError,
    write_may_have_applied,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._numbers import bounded
from ansible_collections.sailpoint.isc.plugins.module_utils._task_query import MAX_WAIT_SLEEP, MAX_WAIT_TIMEOUT, MIN_WAIT_SLEEP, wait_for_task
from ansible_collections.sailpoint.isc.plugins.module_utils._task_reader import Selectors, read_pending
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import FAILURE_STATUSES, TASK_FIELDS, completion_status, is_pending, started_at

IF_RUNNING = ("skip", "queue", "fail")
# A wait polls at wait_sleep first, then twice as long each time up to this (never below wait_sleep).
LONGEST_POLL = 30.0
# What ISC says, in the failed task, of a launch that met an aggregation of the source still running.
BLOCKED_TEXT = "currently running aggregation must complete"
LAUNCH_OPERATIONS = {"accounts": "load-accounts", "entitlements": "load-entitlements"}


@dataclass(frozen=True)
class LaunchPlan:
    """One validated run of source_aggregation."""

    source_id: str | None
    source_name: str | None
    kind: str
    disable_optimization: bool
    if_running: str
    require_healthy: bool
    wait: bool
    wait_timeout: float
    wait_sleep: float


class Refusal(IscError):
    """The run stops before or after its launch, for a reason the result explains (``result`` is returned too)."""

    def __init__(self, message, result, status=None):
        super().__init__(message, status=status)
        self.result = result


def plan_launch(params: dict) -> LaunchPlan:
    """Check source_aggregation's options (typed by its argument spec, which makes source_id and source_name
    exclusive); OptionError naming the option, before any request."""
    source_id, source_name = params.get("source_id"), params.get("source_name")
    if source_id is None and source_name is None:
        raise OptionError("one of source_id or source_name is required, and not null")
    if source_id is not None:
        path_segment(source_id, "source_id")
    if source_name is not None and not str(source_name).strip():
        raise OptionError("source_name must not be empty")
    kind = params.get("kind") or "accounts"
    if kind not in KINDS:
        raise OptionError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if params.get("disable_optimization") and kind != "accounts":
        raise OptionError("disable_optimization applies to account aggregations only; leave it out with kind: entitlements")
    return LaunchPlan(
        source_id=None if source_id is None else str(source_id),
        source_name=None if source_name is None else str(source_name),
        kind=kind,
        disable_optimization=bool(params.get("disable_optimization")),
        if_running=params.get("if_running") or "skip",
        require_healthy=bool(params.get("require_healthy", True)),
        wait=bool(params.get("wait")),
        wait_timeout=bounded("wait_timeout", params.get("wait_timeout", 300), 0, MAX_WAIT_TIMEOUT, low_included=False),
        wait_sleep=bounded("wait_sleep", params.get("wait_sleep", 5), MIN_WAIT_SLEEP, MAX_WAIT_SLEEP),
    )


def launch_requirement(kind: str, version: str) -> rights.Requirement:
    """What SailPoint's specification of ``version`` asks of a token that launches a ``kind`` aggregation."""
    if kind == "entitlements":
        return rights.LAUNCH_ENTITLEMENTS
    return rights.LAUNCH_ACCOUNTS_BETA if version == "beta" else rights.LAUNCH_ACCOUNTS


# ---- reading


def running_aggregations(client, source_id: str, kind: str) -> list:
    """The source's pending aggregations of ``kind``, oldest first, read through the task-reading layer."""
    found = [task for task in read_pending(client, Selectors(source_ids=(source_id,))) if aggregation_kind(task) == kind]
    return sorted(found, key=lambda task: str(started_at(task) or ""))


def source_result(source: dict) -> dict:
    return {name: source.get(name) for name in ("id", "name", "healthy", "status", "since")}


def aggregation_status(client, task_id: str):
    """The account-aggregation status of a launch (its counts); None once ISC no longer has it (404), or when the
    client may not read it (403: from v2024 only a user's token may), which the run warns about."""
    path = f"{client.version.resource('account-aggregations')}/{path_segment(task_id)}/status"
    try:
        return client.get_object(path, "an account-aggregation status", id_required=False)
    except NotFoundError:
        return None
    except ForbiddenError as error:
        client.warn(f"aggregation: the counts of {task_id} are not available to this client ({error.message})")
        return None


# ---- the launch


def launched_task(answer: dict, source: dict, path: str) -> dict:
    """The task a launch answered (LoadAccountsTask nests it under ``task``, LoadEntitlementTask is it), in the shape
    of a TaskStatus: every field, null (or empty) where the launch answer has none."""
    body = answer.get("task") if isinstance(answer.get("task"), dict) else answer
    if not isinstance(body.get("id"), str) or not body["id"]:
        raise ServerAnswerError(f"POST {path}: ISC answered a launch without a task id, which is not what its API specifies")
    task = {name: body.get(name) for name in TASK_FIELDS}
    task["uniqueName"] = body.get("uniqueName") or body.get("name")
    task["target"] = body.get("target") or {"id": source["id"], "type": "APPLICATION", "name": source["name"]}
    for name, empty in (("messages", []), ("returns", []), ("attributes", {})):
        if task[name] is None:
            task[name] = empty
    return task


def _launch_path(client, plan: LaunchPlan, source_id: str) -> str:
    return f"{sources.sources_path(client)}/{path_segment(source_id, 'source_id')}/{LAUNCH_OPERATIONS[plan.kind]}"


def _post(client, plan, source, path):
    fields = {"disableOptimization": "true"} if plan.disable_optimization else {}
    return launched_task(client.post_form(path, fields, "a launched task"), source, path)


def launch(client, plan: LaunchPlan, source: dict, before: list) -> dict:
    """Send the launch once; after an answer that leaves open whether it was applied, read the source's pending
    aggregations: the new one is the launch, and only when there is none is the launch sent once more."""
    path = _launch_path(client, plan, source["id"])
    known = {task.get("id") for task in before}
    for attempt in (1, 2):
        try:
            return _post(client, plan, source, path)
        except IscError as error:
            if not write_may_have_applied(error):
                raise
            lost = error
        arrived = [task for task in running_aggregations(client, source["id"], plan.kind) if task.get("id") not in known]
        if arrived:
            client.warn(f"POST {path} failed ({lost.message}), but the launch took: ISC now runs aggregation {arrived[-1].get('id')}")
            return arrived[-1]
        if isinstance(lost, ServerAnswerError):
            # only a successful answer can be malformed: ISC took the launch, so it is never sent again
            raise ServerAnswerError(
                f"{lost.message}; ISC accepted the launch, yet no new aggregation of the source is pending: check the source's aggregations "
                "before launching again",
                status=lost.status,
            )
        if attempt == 1:
            client.warn(f"POST {path} failed ({lost.message}) and no new aggregation of the source is pending: launching once more")
    raise IscError(
        f"POST {path} failed twice ({lost.message}), in a way that does not prove ISC did not apply it, and no new aggregation is pending; "
        "it may have been applied (an aggregation that already finished): check the source's aggregations before launching again",
        status=lost.status,
        detail=lost.detail,
    )


# ---- following a task


def _texts(task: dict) -> list:
    """The human-readable messages of a task (TaskStatus: localizedText.message; a launch answer: localizedText)."""
    texts = []
    for message in task.get("messages") or []:
        if not isinstance(message, dict):
            continue
        localized = message.get("localizedText")
        text = localized.get("message") if isinstance(localized, dict) else localized
        texts.append(str(text or message.get("key") or "").strip())
    return [text for text in texts if text]


def _failure(client, task: dict, source: dict, plan: LaunchPlan) -> str | None:
    """Why a finished task failed (None when it did its work); a launch refused for a running aggregation names it."""
    status = completion_status(task)
    if status not in FAILURE_STATUSES and status != "TEMP_ERROR":
        return None
    texts = _texts(task)
    where = f"the {plan.kind} aggregation {task.get('id')} of source {source['name']!r} ({source['id']}) ended in {status}"
    if any(BLOCKED_TEXT in text.lower() for text in texts):
        blocking = [other.get("id") for other in running_aggregations(client, source["id"], plan.kind) if other.get("id") != task.get("id")]
        named = f"aggregation {', '.join(blocking)}, still pending" if blocking else "an aggregation that has finished since"
        return (
            f"{where}: ISC refused to run it while another aggregation of the source runs ({named}); wait for that one, or clear it "
            f"with sailpoint.isc.task_status if it is stuck, then launch again"
        )
    return f"{where}: {'; '.join(texts) or 'ISC gave no message'}"


def follow(client, task: dict, plan: LaunchPlan, deadline: float, sleep, clock):
    """The task followed to its end (GET of its task status, backing off), and the seconds it took."""
    return wait_for_task(client, task["id"], max(0.0, deadline - clock()), plan.wait_sleep, sleep, clock, longest=LONGEST_POLL)


def _queue(client, plan, source, running, deadline, sleep, clock) -> list:
    """Wait for every running aggregation of the kind to end; the pending ones read again after (none, or new ones
    that appeared meanwhile, which are waited for in turn)."""
    while running:
        for task in running:
            follow(client, task, plan, deadline, sleep, clock)
        running = running_aggregations(client, source["id"], plan.kind)
    return running


# ---- the run


def run(client, plan: LaunchPlan, check_mode: bool, sleep=time.sleep, clock=time.monotonic) -> dict:
    """The result of source_aggregation; Refusal (with the result so far) for a run that must fail."""
    start = clock()
    deadline = start + plan.wait_timeout
    source = sources.get_source(client, plan.source_id) if plan.source_id is not None else sources.find_source(client, plan.source_name)
    result = {"changed": False, "launched": False, "source": source_result(source), "task": None, "aggregation": None}
    if plan.require_healthy and source.get("healthy") is not True:
        raise Refusal(
            f"source {source['name']!r} ({source['id']}) is not healthy (healthy {source.get('healthy')!r}, status {source.get('status')}, "
            f"since {source.get('since')}): no aggregation launched; repair it (sailpoint.isc.source_info check_connection: true tests it), "
            "or set require_healthy: false",
            result,
        )
    running = running_aggregations(client, source["id"], plan.kind)
    if running and plan.if_running == "fail":
        raise Refusal(
            f"source {source['name']!r} ({source['id']}) already runs a {plan.kind} aggregation ({', '.join(task['id'] for task in running)}); "
            "if_running: fail launches nothing",
            dict(result, task=running[0]),
        )
    if running and plan.if_running == "skip":
        return _finish(client, plan, source, dict(result, task=running[0]), running[0], deadline, sleep, clock, start)
    if check_mode:
        refusal = rights.refusal(client.claims(), launch_requirement(plan.kind, client.version.name))
        if refusal:
            raise Refusal(f"ISC would refuse the launch (HTTP 403): {refusal}", result, status=403)
        return dict(result, changed=True, launched=True, task=running[0] if running else None)
    if running:
        running = _queue(client, plan, source, running, deadline, sleep, clock)
    task = launch(client, plan, source, running)
    return _finish(client, plan, source, dict(result, changed=True, launched=True, task=task), task, deadline, sleep, clock, start)


def _finish(client, plan, source, result, task, deadline, sleep, clock, start) -> dict:
    """Follow ``task`` when asked, read its counts, and fail the run when it ended badly."""
    if plan.wait and is_pending(task):
        task, _elapsed = follow(client, task, plan, deadline, sleep, clock)
        result["task"] = task
    if plan.wait:
        result["elapsed"] = round(clock() - start, 3)
        if plan.kind == "accounts":
            result["aggregation"] = aggregation_status(client, task["id"])
    result = client.redactor.data(result)
    failure = _failure(client, task, source, plan)
    if failure:
        raise Refusal(failure, result)
    return result
