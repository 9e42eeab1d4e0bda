# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
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

from ansible_collections.sailpoint.isc.plugins.module_utils import _rights as rights
from ansible_collections.sailpoint.isc.plugins.module_utils._client import MAX_PARALLEL_REQUESTS, path_segment
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import ConflictError, IscError, OptionError, write_may_have_applied
from ansible_collections.sailpoint.isc.plugins.module_utils._task_reader import TaskReader
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import COMPLETION_STATUSES, TASK_FIELDS, is_pending
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
# What a listed task must hold for planning (status, times) and for the guard to test it as it was listed.
LISTED_FIELDS = ("id", "created", "modified", "completed", "completionStatus", "percentComplete")
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
    """A validated module run: which tasks (ids, or the tasks as listed), what they should become, how many
    PATCHes at once."""

    ids: tuple[str, ...]
    single: bool
    desired: DesiredState
    concurrency: int
    # the tasks as task_status_info listed them, by id, when given with the tasks option: nothing is read again
    listed: dict[str, dict[str, Any]] | None = None


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
    """What happened to one task in this run: its plan, and what sending it did."""

    task_id: str
    before: dict[str, Any] | None = None
    plan: TaskPlan = field(default_factory=TaskPlan)
    after: dict[str, Any] | None = None
    changed: bool = False
    error: str | None = None
    status: int | None = None
    # a PATCH that failed in a way that does not prove it was not applied (HTTP 500, 502, 504, a dropped connection)
    maybe_applied: bool = False

    @property
    def operations(self) -> list[dict[str, Any]]:
        return self.plan.operations

    @property
    def changed_fields(self) -> tuple[str, ...]:
        return self.plan.changed_fields

    @property
    def skip_reason(self) -> str | None:
        return self.plan.skip_reason


# ---------------------------------------------------------------------------------------------------------------
# Input validation (pure, before any request)
# ---------------------------------------------------------------------------------------------------------------


def validate(params: dict[str, Any], now: datetime | None = None) -> Plan:
    """Check and normalise the module options (typed and defaulted by the argument spec, which also makes id, ids and
    tasks exclusive); raise OptionError, naming the option at fault, before any request."""
    now = now or utc_now()
    listed = _listed_tasks(params["tasks"]) if params.get("tasks") is not None else None
    if listed is not None:
        ids, single = tuple(listed), False
    elif params.get("id") is not None:
        ids, single = (_check_id(params["id"], "id"),), True
    elif params.get("ids") is not None:
        ids, single = _task_ids(params["ids"]), False
    else:
        # the argument spec requires one of them, but counts one given as null
        raise OptionError("one of id, ids or tasks is required, and not null")
    desired = DesiredState(
        fields=_option_fields(params, now),
        completed_now=_is_now(params.get("completed")),
        patch=tuple(_user_patch(params.get("patch"), params, now)),
        only_pending=params["only_pending"],
        guard=params["guard"],
    )
    if not desired.fields and not desired.completed_now and not _sets_anything(desired.patch):
        raise OptionError(
            "nothing to change: give at least one of completion_status, completed, progress, percent_complete or patch (with an add or replace operation)"
        )
    concurrency = params["concurrency"]
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise OptionError(f"concurrency must be an integer from 1 to {MAX_CONCURRENCY}, got {concurrency!r}")
    return Plan(ids=ids, single=single, desired=desired, concurrency=concurrency, listed=listed)


def _task_ids(ids: list[Any]) -> tuple[str, ...]:
    checked = tuple(_check_id(item, f"ids[{index}]") for index, item in enumerate(ids))
    _no_repeats(checked, "ids")
    return checked


def _no_repeats(ids: tuple[str, ...], option: str) -> None:
    seen: set[str] = set()
    repeated = sorted({item for item in ids if item in seen or seen.add(item)})
    if repeated:
        raise OptionError(f"{option} must not repeat a task id; repeated: {', '.join(repeated)}")


def _listed_tasks(tasks: list[Any]) -> dict[str, dict[str, Any]]:
    """The tasks option: each a TaskStatus as task_status_info returned it, with what planning and the guard read."""
    listed: dict[str, dict[str, Any]] = {}
    for index, task in enumerate(tasks):
        where = f"tasks[{index}]"
        if not isinstance(task, dict):
            raise OptionError(f"{where} must be a task as task_status_info returns it (a dict), got {type(task).__name__}")
        missing = [name for name in LISTED_FIELDS if name not in task]
        if missing:
            raise OptionError(
                f"{where} lacks {', '.join(missing)}: pass the tasks task_status_info returned, with fields (if limited) including {', '.join(LISTED_FIELDS)}"
            )
        task_id = _check_id(task["id"], f"{where}.id")
        if task_id in listed:
            raise OptionError(f"tasks must not repeat a task; repeated: {task_id}")
        listed[task_id] = task
    return listed


def _check_id(value: Any, option: str) -> str:
    # the client's own rule for a path segment, so the options are refused before any request, naming the option
    path_segment(value, option)
    return str(value)


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


def refusal_from_claims(claims: dict[str, Any]) -> str | None:
    """Why ISC would refuse this client's PATCH (HTTP 403), as far as its token's claims tell; None when they allow it
    or do not say (a token that is no JWT)."""
    return rights.refusal(claims, rights.PATCH_TASKS)


def handle_task(client: Any, task_id: str, current: Any, desired: DesiredState, now: datetime, check_mode: bool, refusal: str | None = None) -> Outcome:
    """Plan one task as read (or as listed), and send the PATCH unless in check mode or nothing changes."""
    if isinstance(current, IscError):
        return Outcome(task_id, error=f"reading the task failed: {_describe(current)}", status=current.status)
    plan = plan_task(current, desired, now)
    outcome = Outcome(task_id, before=current, plan=plan, after=plan.predicted, error=plan.error)
    if plan.error or not plan.changed_fields:
        return outcome
    if check_mode:
        if refusal:
            outcome.after, outcome.status = current, 403
            outcome.error = f"ISC would refuse the PATCH (HTTP 403): {refusal}"
        else:
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
        outcome.maybe_applied = write_may_have_applied(error)
        outcome.error = f"the PATCH failed: {_describe(error)}"
        if outcome.maybe_applied:
            outcome.error += "; ISC may have applied it all the same, so run again: a rerun reads the task and changes only what still differs"
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
    """Read (unless listed), plan and send every task of the plan, `concurrency` requests at a time; one task's
    failure never stops the others."""
    workers = min(plan.concurrency, len(plan.ids))
    if workers <= 1:
        return _handle_all(client, plan, now, check_mode, map)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="task_status") as pool:
        return _handle_all(client, plan, now, check_mode, pool.map)


def _handle_all(client: Any, plan: Plan, now: datetime, check_mode: bool, mapper) -> list[Outcome]:
    current = plan.listed if plan.listed is not None else TaskReader(client).by_ids(plan.ids, mapper)
    refusal = refusal_from_claims(client.claims()) if check_mode and plan.ids else None

    def handle(task_id: str) -> Outcome:
        try:
            outcome = handle_task(client, task_id, current[task_id], plan.desired, now, check_mode, refusal)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # an unforeseen error in one task must not hide what the other tasks already changed
            outcome = Outcome(task_id, error=f"unexpected {type(exc).__name__}: {exc}")
        if outcome.error:
            # error texts quote exceptions and task values, which may echo a secret in any of its forms
            outcome.error = client.redactor.text(outcome.error)
        return outcome

    return list(mapper(handle, plan.ids))


# ---------------------------------------------------------------------------------------------------------------
# The module result
# ---------------------------------------------------------------------------------------------------------------


def run(client: Any, plan: Plan, check_mode: bool, diff: bool, now: datetime | None = None) -> dict[str, Any]:
    """Handle every task of a validated plan and return the module result (with `msg` and `failed_ids` on failure).

    The result goes through the client's redactor: ISC may echo a secret (in a task's progress, say), and Ansible's
    no_log masks neither a token fetched at run time nor the urlencoded, JSON-escaped or base64 forms of a secret.
    """
    now = now or utc_now()
    outcomes = handle_tasks(client, plan, now, check_mode)
    return client.redactor.data(build_result(plan, outcomes, diff, check_mode))


def build_result(plan: Plan, outcomes: list[Outcome], diff: bool, check_mode: bool = False) -> dict[str, Any]:
    result: dict[str, Any] = {
        "changed": any(outcome.changed for outcome in outcomes),
        "patch": {outcome.task_id: outcome.operations for outcome in outcomes},
        "left_alone": [{"id": o.task_id, "reason": o.skip_reason} for o in outcomes if o.skip_reason],
        "failed_ids": [outcome.task_id for outcome in outcomes if outcome.error],
        "failures": [{"id": o.task_id, "status": o.status, "msg": o.error, "maybe_applied": o.maybe_applied} for o in outcomes if o.error],
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
    """One line per distinct failure, naming the tasks it hit, so a refusal of 500 tasks reads as one line."""
    failed = [outcome for outcome in outcomes if outcome.error]
    if plan.single:
        return f"Task {failed[0].task_id}: {failed[0].error}"
    groups: dict[str, list[Outcome]] = {}
    for outcome in failed:
        groups.setdefault(outcome.error.replace(outcome.task_id, "<id>"), []).append(outcome)
    changed = sum(1 for outcome in outcomes if outcome.changed)
    verb = "would be changed in check mode" if check_mode else "changed"
    details = " | ".join(
        f"{group[0].task_id}: {group[0].error}" if len(group) == 1 else f"{len(group)} tasks ({_id_list([o.task_id for o in group])}): {error}"
        for error, group in groups.items()
    )
    failed_ids = _id_list([outcome.task_id for outcome in failed], shown=50)
    return f"{len(failed)} of {len(outcomes)} tasks failed ({failed_ids}); the other tasks were handled ({changed} {verb}). Failures: {details}"


def _id_list(ids: list[str], shown: int = 10) -> str:
    return ", ".join(ids[:shown]) + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
