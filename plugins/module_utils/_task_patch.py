# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service layer of the task_status module.

The module states how a task should look; this layer reads the task, works out the JSON Patch between the task
as ISC has it and as it should be, and sends only that difference (nothing when there is none). Check mode and
diff output come from the very same computation: check mode only skips the PATCH.
"""

from __future__ import annotations

import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ansible_collections.sailpoint.isc.plugins.module_utils._client import MAX_PARALLEL_REQUESTS, path_segment
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import ConflictError, IscError, OptionError
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import COMPLETION_STATUSES, is_pending
from ansible_collections.sailpoint.isc.plugins.module_utils._timestamps import (
    format_timestamp,
    parse_rfc3339,
    same_instant,
    utc_now,
)

try:
    import jsonpatch
except ImportError:
    HAS_JSONPATCH = False
    JSONPATCH_IMPORT_ERROR: str | None = traceback.format_exc()
else:
    HAS_JSONPATCH = True
    JSONPATCH_IMPORT_ERROR = None

# Writable fields per the contract's PATCH rules, in the order their operations are sent.
WRITABLE_FIELDS = ("completionStatus", "completed", "progress", "percentComplete")
# Every top-level key of a TaskStatus: the only places a `test` operation may look at.
TASK_FIELDS = (
    "id",
    "type",
    "uniqueName",
    "description",
    "parentName",
    "launcher",
    "target",
    "created",
    "modified",
    "launched",
    "completed",
    "completionStatus",
    "messages",
    "returns",
    "attributes",
    "progress",
    "percentComplete",
    "taskDefinitionSummary",
)
PATCH_OPS = ("add", "replace", "test")
# Options that set a writable field directly; a raw `patch` operation may not set the same field as well.
OPTION_FIELDS = {
    "completion_status": "completionStatus",
    "completed": "completed",
    "progress": "progress",
    "percent_complete": "percentComplete",
}
# The guard asserts fields ISC changes whenever a task moves; null is not a valid patch value in SailPoint's spec.
GUARD_FIELDS = ("modified", "percentComplete")
MAX_CONCURRENCY = MAX_PARALLEL_REQUESTS


@dataclass(frozen=True)
class DesiredState:
    """What the caller wants the task(s) to look like, validated and normalised."""

    fields: dict[str, Any]
    completed_now: bool = False
    patch: tuple[dict[str, Any], ...] = ()
    only_pending: bool = True
    guard: bool = True


@dataclass(frozen=True)
class Plan:
    """A validated module run: which tasks, what they should become, how many PATCHes at once."""

    ids: tuple[str, ...]
    single: bool
    desired: DesiredState
    concurrency: int = 4


@dataclass
class TaskPlan:
    """What one task needs: the operations to send (guard included) and the task as it would be afterwards."""

    operations: list[dict[str, Any]] = field(default_factory=list)
    predicted: dict[str, Any] | None = None
    changed_fields: tuple[str, ...] = ()
    skip_reason: str | None = None
    error: str | None = None


@dataclass
class Outcome:
    """What happened to one task in this run."""

    task_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    operations: list[dict[str, Any]] = field(default_factory=list)
    changed_fields: tuple[str, ...] = ()
    changed: bool = False
    skip_reason: str | None = None
    error: str | None = None
    status: int | None = None


# ---------------------------------------------------------------------------------------------------------------
# Input validation (pure, before any request)
# ---------------------------------------------------------------------------------------------------------------


def validate(params: dict[str, Any], now: datetime | None = None) -> Plan:
    """Check and normalise the module options; raise OptionError, naming the option at fault, before any request."""
    now = now or utc_now()
    ids, single = _task_ids(params)
    desired = DesiredState(
        fields=_option_fields(params, now),
        completed_now=_is_now(params.get("completed")),
        patch=tuple(_user_patch(params.get("patch"), params, now)),
        only_pending=_flag(params, "only_pending"),
        guard=_flag(params, "guard"),
    )
    if not desired.fields and not desired.completed_now and not _sets_anything(desired.patch):
        raise OptionError(
            "nothing to change: give at least one of completion_status, completed, progress, percent_complete or patch (with an add or replace operation)"
        )
    return Plan(ids=ids, single=single, desired=desired, concurrency=_concurrency(params.get("concurrency")))


def _flag(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    return True if value is None else bool(value)


def _task_ids(params: dict[str, Any]) -> tuple[tuple[str, ...], bool]:
    task_id, ids = params.get("id"), params.get("ids")
    if task_id is not None and ids is not None:
        raise OptionError("id and ids are mutually exclusive: give one task with id or a list with ids")
    if task_id is None and ids is None:
        raise OptionError("one of id or ids is required")
    if task_id is not None:
        return (_check_id(task_id, "id"),), True
    if not isinstance(ids, (list, tuple)):
        raise OptionError("ids must be a list of task ids")
    checked = tuple(_check_id(item, f"ids[{index}]") for index, item in enumerate(ids))
    duplicates = sorted({item for item in checked if checked.count(item) > 1})
    if duplicates:
        raise OptionError(f"ids must not repeat a task id; repeated: {', '.join(duplicates)}")
    return checked, False


def _check_id(value: Any, option: str) -> str:
    # the client's own rule for a path segment, so the options are refused before any request, naming the option
    path_segment(value, option)
    return str(value)


def _concurrency(value: Any) -> int:
    if value is None:
        return 4
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise OptionError(f"concurrency must be an integer from 1 to {MAX_CONCURRENCY}, got {value!r}")
    return value


def _is_now(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() == "now"


def _option_fields(params: dict[str, Any], now: datetime) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for option, name in OPTION_FIELDS.items():
        value = params.get(option)
        if value is None or (option == "completed" and _is_now(value)):
            continue
        fields[name] = normalise_value(name, value, option, now)
    return fields


def normalise_value(name: str, value: Any, where: str, now: datetime) -> Any:
    """Check a value for a writable field and return it as ISC stores it (upper-case status, UTC ms timestamp)."""
    if value is None:
        raise OptionError(f"{where}: null is not a valid value (SailPoint's JSON Patch never carries null)")
    if name == "completionStatus":
        return _completion_status(value, where)
    if name == "completed":
        return _completed(value, where, now)
    if name == "percentComplete":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
            raise OptionError(f"{where} must be an integer from 0 to 100, got {value!r}")
        return value
    if name == "progress":
        if not isinstance(value, str):
            raise OptionError(f"{where} must be a string, got {value!r}")
        return value
    return value


def _completion_status(value: Any, where: str) -> str:
    if not isinstance(value, str) or value.strip().upper() not in COMPLETION_STATUSES:
        raise OptionError(f"{where}: {value!r} is not a completion status; use one of {', '.join(COMPLETION_STATUSES)} (any case)")
    return value.strip().upper()


def _completed(value: Any, where: str, now: datetime) -> str:
    if not isinstance(value, str):
        raise OptionError(f"{where} must be an RFC 3339 date-time string or 'now', got {value!r}")
    try:
        instant = parse_rfc3339(value)
    except ValueError as exc:
        raise OptionError(f"{where}: {exc}, or 'now'") from None
    if instant > now:
        raise OptionError(f"{where}: {value} lies in the future (now is {format_timestamp(now)})")
    return format_timestamp(instant)


def _user_patch(operations: Any, params: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    if operations is None:
        return []
    if not isinstance(operations, (list, tuple)):
        raise OptionError("patch must be a list of JSON Patch operations")
    return [_user_operation(operation, f"patch[{index}]", params, now) for index, operation in enumerate(operations)]


def _user_operation(operation: Any, where: str, params: dict[str, Any], now: datetime) -> dict[str, Any]:
    if not isinstance(operation, dict):
        raise OptionError(f"{where} must be a JSON Patch operation (a dict with op, path, value)")
    unknown = sorted(set(operation) - {"op", "path", "value"})
    if unknown:
        raise OptionError(f"{where} has unsupported keys: {', '.join(unknown)} (only op, path, value)")
    op, path = operation.get("op"), operation.get("path")
    if op not in PATCH_OPS:
        raise OptionError(f"{where}: op {op!r} is not supported; ISC accepts {', '.join(PATCH_OPS)}")
    if "value" not in operation or operation["value"] is None:
        raise OptionError(f"{where} needs a value that is not null (SailPoint's JSON Patch never carries null)")
    parts = _pointer_parts(path, where)
    if op == "test":
        return {"op": op, "path": path, "value": _test_value(parts, operation["value"], where, now)}
    if len(parts) != 1 or parts[0] not in WRITABLE_FIELDS:
        raise OptionError(f"{where}: path {path!r} is not writable; ISC lets a patch change only {', '.join('/' + name for name in WRITABLE_FIELDS)}")
    _reject_option_overlap(parts[0], params, where)
    return {"op": op, "path": path, "value": normalise_value(parts[0], operation["value"], f"{where}.value", now)}


def _pointer_parts(path: Any, where: str) -> list[str]:
    if not isinstance(path, str) or not path.startswith("/"):
        raise OptionError(f"{where}: path must be a JSON Pointer such as /completionStatus, got {path!r}")
    try:
        parts = jsonpatch.JsonPointer(path).parts
    except jsonpatch.JsonPointerException as exc:
        raise OptionError(f"{where}: path {path!r} is not a valid JSON Pointer: {exc}") from None
    if not parts or parts[0] not in TASK_FIELDS:
        raise OptionError(f"{where}: path {path!r} is outside the task; a task has {', '.join(TASK_FIELDS)}")
    return parts


def _test_value(parts: list[str], value: Any, where: str, now: datetime) -> Any:
    if len(parts) == 1 and parts[0] == "completionStatus":
        return _completion_status(value, f"{where}.value")
    if len(parts) == 1 and parts[0] == "completed":
        return _completed(value, f"{where}.value", now)
    return value


def _reject_option_overlap(name: str, params: dict[str, Any], where: str) -> None:
    for option, field_name in OPTION_FIELDS.items():
        if field_name == name and params.get(option) is not None:
            raise OptionError(f"{where} sets /{name}, which option {option} sets too; use one of them")


def _sets_anything(operations: tuple[dict[str, Any], ...]) -> bool:
    return any(operation["op"] != "test" for operation in operations)


# ---------------------------------------------------------------------------------------------------------------
# Desired state and JSON Patch maths (pure)
# ---------------------------------------------------------------------------------------------------------------


def plan_task(current: dict[str, Any], desired: DesiredState, now: datetime) -> TaskPlan:
    """Decide, for one task as read, what to send and what the task would become. No I/O."""
    if desired.only_pending and not is_pending(current):
        return TaskPlan(
            predicted=current,
            skip_reason=(f"already finished with completionStatus {current.get('completionStatus')}; left alone because only_pending is true"),
        )
    try:
        target = desired_task(current, desired, now)
    except jsonpatch.JsonPatchTestFailed as exc:
        return TaskPlan(predicted=current, error=f"a test operation of patch does not hold for the task as read: {exc}")
    except jsonpatch.JsonPatchException as exc:
        return TaskPlan(predicted=current, error=f"patch cannot be applied to the task as read: {exc}")
    error = _completed_before_created(current, target)
    if error:
        return TaskPlan(predicted=current, error=error)
    changes = diff_operations(current, target)
    if not changes:
        return TaskPlan(predicted=current)
    predicted = jsonpatch.apply_patch(current, changes)
    operations = (guard_operations(current) if desired.guard else []) + _user_tests(desired) + changes
    return TaskPlan(
        operations=operations,
        predicted=predicted,
        changed_fields=tuple(change["path"][1:] for change in changes),
    )


def desired_task(current: dict[str, Any], desired: DesiredState, now: datetime) -> dict[str, Any]:
    """The task as it should be: the raw patch applied to it (its tests checked), then the options laid over."""
    target = jsonpatch.apply_patch(_comparable(current), list(desired.patch)) if desired.patch else dict(current)
    target.update(desired.fields)
    if desired.completed_now and current.get("completed") is None:
        target["completed"] = format_timestamp(now)
    return _keep_equivalent_values(current, target)


def _comparable(task: dict[str, Any]) -> dict[str, Any]:
    """The task with its status upper-cased, so raw `test` operations compare statuses case-insensitively."""
    status = task.get("completionStatus")
    return dict(task, completionStatus=status.upper()) if isinstance(status, str) else dict(task)


def _keep_equivalent_values(current: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """Keep the task's own spelling where the desired value means the same: `Error` is ERROR, +00:00 is Z."""
    kept = dict(target)
    status, wanted = current.get("completionStatus"), target.get("completionStatus")
    if isinstance(status, str) and isinstance(wanted, str) and status.upper() == wanted.upper():
        kept["completionStatus"] = status
    if same_instant(current.get("completed"), target.get("completed")):
        kept["completed"] = current.get("completed")
    return kept


def diff_operations(current: dict[str, Any], target: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON Patch from the task as read to the task as it should be, over the writable fields only."""
    before = {name: current[name] for name in WRITABLE_FIELDS if name in current}
    after = {name: target.get(name) for name in WRITABLE_FIELDS if name in target or name in current}
    return list(jsonpatch.make_patch(before, after))


def guard_operations(current: dict[str, Any]) -> list[dict[str, Any]]:
    """RFC 6902 tests of the values ISC changes whenever the task moves, as read; never a null value."""
    return [{"op": "test", "path": f"/{name}", "value": current[name]} for name in GUARD_FIELDS if current.get(name) is not None]


def _user_tests(desired: DesiredState) -> list[dict[str, Any]]:
    return [dict(operation) for operation in desired.patch if operation["op"] == "test"]


def _completed_before_created(current: dict[str, Any], target: dict[str, Any]) -> str | None:
    completed, created = target.get("completed"), current.get("created")
    if completed is None or created is None or completed == current.get("completed"):
        return None
    try:
        if parse_rfc3339(completed) < parse_rfc3339(created):
            return f"completed {completed} is before the task was created ({created}); ISC would refuse it"
    except ValueError:
        return None
    return None


# ---------------------------------------------------------------------------------------------------------------
# Talking to ISC (one task at a time, several at once)
# ---------------------------------------------------------------------------------------------------------------


def handle_task(client: Any, task_id: str, desired: DesiredState, now: datetime, check_mode: bool) -> Outcome:
    """Read one task, plan it, and send the PATCH unless in check mode or nothing changes."""
    try:
        current = client.get_task(task_id)
    except IscError as error:
        return Outcome(task_id, error=f"reading the task failed: {_describe(error)}", status=error.status)
    plan = plan_task(current, desired, now)
    outcome = Outcome(task_id, before=current, after=plan.predicted, skip_reason=plan.skip_reason, error=plan.error)
    if plan.error or not plan.changed_fields:
        return outcome
    outcome.operations, outcome.changed_fields = plan.operations, plan.changed_fields
    if check_mode:
        outcome.changed = True
        return outcome
    return _send(client, outcome)


def _send(client: Any, outcome: Outcome) -> Outcome:
    try:
        outcome.after = client.patch_task(outcome.task_id, outcome.operations)
    except ConflictError as error:
        return _guard_failed(client, outcome, error)
    except IscError as error:
        outcome.after, outcome.status = outcome.before, error.status
        outcome.error = f"the PATCH failed: {_describe(error)}"
        return outcome
    outcome.changed = True
    return outcome


def _guard_failed(client: Any, outcome: Outcome, error: IscError) -> Outcome:
    """A test operation failed (409): the task moved since it was read. Re-read and report; never retry blindly."""
    outcome.status = error.status
    read_before = _state_summary(outcome.before or {})
    try:
        outcome.after = client.get_task(outcome.task_id)
    except IscError as reread_error:
        outcome.after = outcome.before
        now_state = f"re-reading it failed too: {_describe(reread_error)}"
    else:
        now_state = f"it now has {_state_summary(outcome.after)}"
    outcome.error = (
        f"the task changed between the read and the write (a test operation failed, HTTP 409), so nothing was "
        f"written; as read it had {read_before}; {now_state}. Run again to decide on its current state"
    )
    return outcome


def _state_summary(task: dict[str, Any]) -> str:
    return ", ".join(f"{name}={task.get(name)!r}" for name in ("completionStatus", "completed", "percentComplete", "modified"))


def _describe(error: IscError) -> str:
    message = getattr(error, "message", None) or str(error)
    status = getattr(error, "status", None)
    return f"HTTP {status}: {message}" if status else message


def handle_tasks(client: Any, plan: Plan, now: datetime, check_mode: bool) -> list[Outcome]:
    """Handle every task of the plan, `concurrency` at a time; one task's failure never stops the others."""

    def handle(task_id: str) -> Outcome:
        try:
            outcome = handle_task(client, task_id, plan.desired, now, check_mode)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # an unforeseen error in one task must not hide what the other tasks already changed
            outcome = Outcome(task_id, error=f"unexpected {type(exc).__name__}: {exc}")
        if outcome.error:
            # error texts quote exceptions and task values, which may echo a secret in any of its forms
            outcome.error = client.redactor.text(outcome.error)
        return outcome

    workers = min(plan.concurrency, len(plan.ids))
    if workers <= 1:
        return [handle(task_id) for task_id in plan.ids]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="task_status") as pool:
        return list(pool.map(handle, plan.ids))


# ---------------------------------------------------------------------------------------------------------------
# The module result
# ---------------------------------------------------------------------------------------------------------------


def run(client: Any, params: dict[str, Any], check_mode: bool, diff: bool, now: datetime | None = None) -> dict[str, Any]:
    """Validate, handle every task, and return the module result (with `msg` and `failed_ids` on failure).

    The result goes through the client's redactor: ISC may echo a secret (in a task's progress, say), and Ansible's
    no_log masks neither a token fetched at run time nor the urlencoded or JSON-escaped forms of a secret.
    """
    now = now or utc_now()
    plan = validate(params, now)
    outcomes = handle_tasks(client, plan, now, check_mode)
    return client.redactor.data(build_result(plan, outcomes, diff, check_mode))


def build_result(plan: Plan, outcomes: list[Outcome], diff: bool, check_mode: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {
        "changed": any(outcome.changed for outcome in outcomes),
        "patch": {outcome.task_id: outcome.operations for outcome in outcomes},
        "left_alone": [{"id": o.task_id, "reason": o.skip_reason} for o in outcomes if o.skip_reason],
        "failed_ids": [outcome.task_id for outcome in outcomes if outcome.error],
        "failures": [{"id": o.task_id, "status": o.status, "msg": o.error} for o in outcomes if o.error],
    }
    tasks = [outcome.after for outcome in outcomes if outcome.after is not None]
    if plan.single:
        if tasks:
            result["task"] = tasks[0]
    else:
        result["tasks"] = tasks
    if diff:
        result["diff"] = build_diff(plan, outcomes)
    if result["failed_ids"]:
        result["msg"] = failure_message(plan, outcomes, check_mode)
    return result


def build_diff(plan: Plan, outcomes: list[Outcome]) -> dict[str, Any]:
    """Before and after of only the fields that change, per task (keyed by id when several were given)."""
    changed = [outcome for outcome in outcomes if outcome.changed]
    before = {o.task_id: {name: (o.before or {}).get(name) for name in o.changed_fields} for o in changed}
    after = {o.task_id: {name: (o.after or {}).get(name) for name in o.changed_fields} for o in changed}
    if plan.single:
        task_id = plan.ids[0]
        return {"before": before.get(task_id, {}), "after": after.get(task_id, {})}
    return {"before": before, "after": after}


def failure_message(plan: Plan, outcomes: list[Outcome], check_mode: bool = False) -> str:
    failed = [outcome for outcome in outcomes if outcome.error]
    if plan.single:
        return f"Task {failed[0].task_id}: {failed[0].error}"
    changed = sum(1 for outcome in outcomes if outcome.changed)
    verb = "would be changed in check mode" if check_mode else "changed"
    details = "; ".join(f"{outcome.task_id}: {outcome.error}" for outcome in failed)
    return (
        f"{len(failed)} of {len(outcomes)} tasks failed ({', '.join(o.task_id for o in failed)}); "
        f"the other tasks were handled ({changed} {verb}). Failures: {details}"
    )
