# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that keep the decisions and the bookkeeping of the recover_aggregations role out of Jinja (documented in
the adjacent YAML files): which stuck aggregations a run clears, which sources and kinds it relaunches or skips
and why, how long it waits between polls, and what became of each source.

Every decision is a function of what ISC answered (the pending tasks, the recent launches, the sources' health),
never of state kept on the controller, so that two controllers, or an event-driven run and a scheduled one, decide
alike.
"""

from __future__ import annotations

from datetime import timedelta

from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.checks import duration_seconds, string_list
from ansible_collections.sailpoint.isc.plugins.filter.stuck_tasks import stuck_tasks_report, stuck_tasks_selection
from ansible_collections.sailpoint.isc.plugins.filter.task_report import _now, task_rows
from ansible_collections.sailpoint.isc.plugins.module_utils import _filters as isc_filters
from ansible_collections.sailpoint.isc.plugins.module_utils._aggregations import aggregation_kind, aggregation_kinds
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import OptionError
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import (
    FAILURE_STATUSES,
    SUCCESS_STATUSES,
    completion_status,
    is_pending,
    is_stuck,
    started_at,
)

# Seconds between two polls of the relaunched tasks: quick at first (an aggregation of a small source ends in
# seconds), then at most every MAX_POLL_DELAY seconds, which costs at most 120 requests an hour for any number of tasks.
FIRST_POLL_DELAY = 2
MAX_POLL_DELAY = 30
TARGET_SUFFIX = " [source]"
# Relaunched tasks polled by one request: an ``id in (...)`` of this many ISC ids stays well inside the 8 KiB request
# line gateways accept.
POLL_BATCH = 100
# Why a source and kind is not relaunched; each is by design and does not fail the run.
SKIP_REASONS = {
    "unhealthy": "the source is not healthy",
    "source_not_found": "ISC does not know the source",
    "running": "an aggregation of the source is already running",
    "cooldown": "an aggregation of the source was launched within the cooldown",
    "cooldown_unknown": "the tasks read do not reach back over the whole cooldown",
}
# What becomes of a source and kind the plan relaunches when it does not recover; each fails the run, after the report.
NOT_RECOVERED = ("not_recovered", "not_finished", "launch_failed", "not_launched")


def _strings(value, option) -> list:
    return string_list(value if value is not None else [], option)


def _tasks(value, option) -> list:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(task, dict) for task in value):
        raise AnsibleFilterError(f"recover_aggregations_plan: {option} must be a list of TaskStatus dictionaries")
    return list(value)


def _table(unique_names):
    try:
        return aggregation_kinds(dict(unique_names) if unique_names else None, "recover_aggregations_unique_names")
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"recover_aggregations_unique_names must map task uniqueNames to accounts or entitlements, got {unique_names!r}") from None
    except OptionError as error:
        raise AnsibleFilterError(error.message) from None


def _source_of(task) -> dict:
    """The source an aggregation targets; ISC names it in a task's target as ``<source name> [source]``."""
    target = task.get("target") or {}
    name = target.get("name")
    if isinstance(name, str) and name.endswith(TARGET_SUFFIX):
        name = name[: -len(TARGET_SUFFIX)]
    return {"id": target.get("id"), "name": name or target.get("id")}


def poll_delays(timeout_seconds) -> list:
    """The sleeps between polls: doubling from FIRST_POLL_DELAY up to MAX_POLL_DELAY, adding up to the timeout."""
    delays, delay, total = [], FIRST_POLL_DELAY, 0
    while total < timeout_seconds:
        step = min(delay, timeout_seconds - total)
        delays.append(step)
        total += step
        delay = min(delay * 2, MAX_POLL_DELAY)
    return delays


def _source_record(sources, source_id):
    for source in sources:
        if source.get("id") == source_id:
            return {key: source.get(key) for key in ("id", "name", "healthy", "status", "since")}
    return None


def _evidence(task) -> dict:
    return {
        "id": task.get("id"),
        "uniqueName": task.get("uniqueName"),
        "launched": task.get("launched") or task.get("created"),
        "completionStatus": task.get("completionStatus"),
    }


def _decide(group, source, others, window_start, recent_complete, require_healthy):
    """(decision, reason, the task behind the reason) for one source and kind."""
    if source is None:
        return "skip", "source_not_found", None
    if require_healthy and source.get("healthy") is not True:
        return "skip", "unhealthy", None
    same = [task for task in others if _source_of(task)["id"] == group["source_id"] and task["kind"] == group["kind"]]
    running = [task for task in same if is_pending(task)]
    if running:
        return "skip", "running", _evidence(running[0])
    launched = sorted((task for task in same if (started_at(task) or window_start) > window_start), key=lambda task: str(_evidence(task)["launched"]))
    if launched:
        return "skip", "cooldown", _evidence(launched[-1])
    if not recent_complete:
        return "skip", "cooldown_unknown", None
    return "relaunch", None, None


def _detail(reason, source, evidence, cooldown) -> str:
    if reason is None:
        return ""
    if reason == "unhealthy":
        return f"{SKIP_REASONS[reason]}: {source.get('status')} since {source.get('since')}"
    if reason == "running":
        return f"{SKIP_REASONS[reason]}: {evidence['uniqueName']} {evidence['id']}, launched {evidence['launched']}"
    if reason == "cooldown":
        outcome = evidence["completionStatus"] or "still pending"
        return f"{SKIP_REASONS[reason]} ({cooldown}): {evidence['uniqueName']} {evidence['id']}, launched {evidence['launched']}, {outcome}"
    return SKIP_REASONS[reason]


def recover_aggregations_plan(
    pending,
    recent=None,
    sources=None,
    older_than="6h",
    cooldown="1h",
    source_ids=None,
    source_names=None,
    exclude_ids=None,
    exclude_source_ids=None,
    exclude_source_names=None,
    unique_names=None,
    max_sources=10,
    ignore_max_sources=False,
    require_healthy=True,
    recent_limit=None,
    wait_timeout="1h",
    now=None,
) -> dict:
    """What a recover_aggregations run does: the stuck aggregations it clears, grouped by source and kind, and for each
    group whether it is relaunched or why not. Without ``sources`` (before their health is read) nothing is decided."""
    moment = _now(now)
    stuck_after = duration_seconds(older_than, "recover_aggregations_older_than")
    cooldown_seconds = duration_seconds(cooldown, "recover_aggregations_cooldown")
    table = _table(unique_names)
    wanted_ids, wanted_names = set(_strings(source_ids, "recover_aggregations_source_ids")), set(_strings(source_names, "recover_aggregations_source_names"))
    skipped_ids = set(_strings(exclude_source_ids, "recover_aggregations_exclude_source_ids"))
    skipped_names = set(_strings(exclude_source_names, "recover_aggregations_exclude_source_names"))
    excluded_tasks = set(_strings(exclude_ids, "recover_aggregations_exclude_ids"))

    def in_scope(task):
        source = _source_of(task)
        if source["id"] is None or source["id"] in skipped_ids or source["name"] in skipped_names:
            return False
        return not (wanted_ids or wanted_names) or source["id"] in wanted_ids or source["name"] in wanted_names

    aggregations = [dict(task, kind=aggregation_kind(task, table)) for task in _tasks(pending, "pending")]
    aggregations = [task for task in aggregations if task["kind"] and is_pending(task) and in_scope(task)]
    stuck = [task for task in aggregations if is_stuck(task, stuck_after, moment)]
    # stuck_tasks' selection: the excluded tasks left out, those whose id cannot be patched set aside (reported, and
    # their source and kind not relaunched), so that one bad id from the server does not stop the others
    selection = stuck_tasks_selection([{key: value for key, value in task.items() if key != "kind"} for task in stuck], exclude_ids=sorted(excluded_tasks))
    clear = [task for task in stuck if task.get("id") not in excluded_tasks]
    clear_ids = {task.get("id") for task in clear}

    groups = {}
    for task in clear:
        source = _source_of(task)
        group = groups.setdefault((source["id"], task["kind"]), {"source_id": source["id"], "source_name": source["name"], "kind": task["kind"], "tasks": []})
        group["tasks"].append({key: value for key, value in task.items() if key != "kind"})
    stuck_sources = list(dict.fromkeys(group["source_id"] for group in groups.values()))
    refused = len(stuck_sources) > int(max_sources) and not ignore_max_sources

    recent_tasks = _tasks(recent, "recent")
    window_start = moment - timedelta(seconds=cooldown_seconds)
    others = {task.get("id"): task for task in recent_tasks + aggregations if task.get("id") not in clear_ids}
    others = [dict(task, kind=aggregation_kind(task, table)) for task in others.values()]
    oldest_read = min((started_at(task) for task in recent_tasks if started_at(task)), default=None)
    recent_complete = recent_limit is None or len(recent_tasks) < int(recent_limit) or (oldest_read is not None and oldest_read <= window_start)
    known_sources = None if sources is None else _tasks(sources, "sources")
    for group in groups.values():
        group["stuck_ids"] = [task.get("id") for task in group["tasks"]]
        group["stuck"] = task_rows(group.pop("tasks"), moment)
        group["source"] = decision = reason = evidence = None
        if known_sources is not None and not refused:
            group["source"] = _source_record(known_sources, group["source_id"])
            group["source_name"] = (group["source"] or {}).get("name") or group["source_name"]
            decision, reason, evidence = _decide(
                group, group["source"], [task for task in others if task["kind"]], window_start, recent_complete, require_healthy
            )
        group.update(decision=decision, reason=reason, blocking=evidence, detail=_detail(reason, group["source"], evidence, cooldown))
    ordered = sorted(groups.values(), key=lambda group: (str(group["source_name"]), group["kind"]))
    return {
        "now": moment.isoformat(),
        "found": len(aggregations),
        "stuck": len(stuck),
        "excluded": len(stuck) - len(clear),
        "to_clear": selection["selected"],
        "unusable": selection["unusable"],
        "source_ids": stuck_sources,
        "refused": refused,
        "groups": ordered,
        "relaunch": [
            {"source_id": group["source_id"], "source_name": group["source_name"], "kind": group["kind"]}
            for group in ordered
            if group["decision"] == "relaunch"
        ],
        "poll_delays": poll_delays(duration_seconds(wait_timeout, "recover_aggregations_wait_timeout")),
    }


def _messages(task) -> list:
    texts = []
    for message in (task or {}).get("messages") or []:
        if not isinstance(message, dict):
            continue
        text = (message.get("localizedText") or {}).get("message") or message.get("key")
        if text:
            texts.append(f"{message.get('type') or 'INFO'}: {text}")
    return texts


def _counts(result, task) -> dict | None:
    """The aggregation's figures: what source_aggregation returned, else the values the task's returns name."""
    if isinstance(result.get("aggregation"), dict):
        return result["aggregation"]
    attributes = (task or {}).get("attributes") or {}
    counts = {}
    for entry in (task or {}).get("returns") or []:
        if isinstance(entry, dict) and entry.get("attributeName") in attributes:
            counts[entry["attributeName"]] = attributes[entry["attributeName"]]
    return counts or None


def _launch_results(launches) -> dict:
    found = {}
    for result in launches or []:
        item = result.get("item") or {}
        found[(item.get("source_id"), item.get("kind"))] = result
    return found


def _launch_failure(result) -> str:
    # The role registers source_aggregation with failed_when: false, which overwrites `failed`: a module that failed
    # left its message (and, refusing, the result so far), one that crashed (ansible-core keeps no message) no `launched`.
    if result.get("failed") or "msg" in result or "launched" not in result:
        return str(result.get("msg") or "source_aggregation ended without a result")
    return ""


def _clearing_failure(cleared) -> str:
    """task_status's failure as a whole, crashes included (no message, no `patch`), as stuck_tasks_report words it."""
    if cleared and not cleared.get("skipped") and "patch" not in cleared and not cleared.get("msg"):
        return "task_status ended without a result"
    return ""


def _relaunch_outcome(result, polled, check_mode):
    """(outcome, detail, the relaunched task as last read) of one group the plan relaunches."""
    if check_mode:
        return "would_relaunch", "the source is healthy and no aggregation of it ran within the cooldown", None
    if result is None or result.get("skipped"):
        return "not_launched", "not launched", None
    failure = _launch_failure(result)
    if failure:
        if (result.get("source") or {}).get("healthy") is False:
            source = result["source"]
            return "skipped_unhealthy", f"{SKIP_REASONS['unhealthy']}: {source.get('status')} since {source.get('since')}", None
        return "launch_failed", f"the launch failed: {failure}", None
    task = result.get("task") or {}
    if not result.get("launched"):
        return "skipped_running", f"{SKIP_REASONS['running']}: {task.get('uniqueName')} {task.get('id')}", task
    task = polled.get(task.get("id"), task)
    status = completion_status(task)
    if status in SUCCESS_STATUSES:
        return "recovered", f"relaunched, ended {status}", task
    if status in FAILURE_STATUSES:
        messages = _messages(task)
        return "not_recovered", f"relaunched, ended {status}" + (f": {'; '.join(messages)}" if messages else ""), task
    return "not_finished", f"relaunched, still running at the end of the wait ({task.get('progress') or 'no progress'})", task


def recover_aggregations_report(
    plan, cleared=None, launches=None, polled=None, poll_errors=None, tenant=None, run_started=None, check_mode=False, criteria=None, reports=None, now=None
) -> dict:
    """What a run found and did, per source and kind, from the plan and the registered results of task_status (the
    clearing), source_aggregation (each launch) and task_status_info (the last poll of the relaunched tasks)."""
    if not isinstance(plan, dict) or "groups" not in plan:
        raise AnsibleFilterError("recover_aggregations_report expects what recover_aggregations_plan returned")
    cleared = cleared if isinstance(cleared, dict) else {}
    selection = {
        "found": plan["to_clear"] + plan["unusable"],
        "selected": plan["to_clear"],
        "unusable": plan["unusable"],
        "excluded": plan["excluded"],
        "refused": plan["refused"],
    }
    crashed = _clearing_failure(cleared)
    cleared = dict(cleared, msg=crashed) if crashed else cleared
    clearing = stuck_tasks_report(selection, cleared, check_mode=check_mode, criteria={"completion_status": (criteria or {}).get("completion_status")}, now=now)
    task_outcomes = {row["id"]: row for row in clearing["tasks"]}
    launched = _launch_results(launches)
    last_read = {task.get("id"): task for task in (polled or []) if isinstance(task, dict)}
    moment = _now(now)
    groups, failures = [], []
    for planned in plan["groups"]:
        group = dict(
            planned, stuck=[dict(row, **{key: task_outcomes.get(row["id"], {}).get(key) for key in ("outcome", "action")}) for row in planned["stuck"]]
        )
        not_cleared = [row for row in group["stuck"] if row["outcome"] in ("failed", "not_closed")]
        task = None
        if plan["refused"]:
            outcome, detail = "refused", "not touched: more stuck sources than recover_aggregations_max_sources"
        elif planned["decision"] != "relaunch":
            outcome, detail = f"skipped_{planned['reason']}", planned["detail"]
        elif not_cleared:
            outcome, detail = "not_launched", f"not launched: {len(not_cleared)} of its stuck tasks could not be cleared"
        else:
            outcome, detail, task = _relaunch_outcome(launched.get((planned["source_id"], planned["kind"])), last_read, check_mode)
        row = task_rows([task], moment)[0] if task else None
        if outcome == "not_finished" and poll_errors:
            detail += f"; the last poll failed: {poll_errors[-1]}"
        group.update(
            outcome=outcome,
            detail=detail,
            relaunched=row,
            messages=_messages(task),
            counts=_counts(launched.get((planned["source_id"], planned["kind"])) or {}, task) if task else None,
        )
        if outcome in NOT_RECOVERED or not_cleared:
            failures.append(f"{group['source_name']} ({group['kind']}): {detail}")
        groups.append(group)
    if clearing["error"]:
        failures.insert(0, f"clearing the stuck tasks failed as a whole: {clearing['error']}")
    outcomes = [group["outcome"] for group in groups]
    skipped = {reason: sum(1 for outcome in outcomes if outcome == f"skipped_{reason}") for reason in SKIP_REASONS}
    relaunched = [group for group in groups if group["relaunched"] and group["outcome"] != "skipped_running"]
    waiting = [group["relaunched"]["id"] for group in relaunched if group["relaunched"]["status"] == "PENDING"]
    reports = list(reports or [])
    stats = {
        "tenant": tenant,
        "check_mode": bool(check_mode),
        "stuck": plan["stuck"],
        "sources": len(plan["source_ids"]),
        "refused": plan["refused"],
        "cleared": len(clearing["closed_ids"]),
        "would_clear": len(clearing["would_close_ids"]),
        "cleared_ids": clearing["closed_ids"],
        "relaunched": len(relaunched),
        "would_relaunch": outcomes.count("would_relaunch"),
        "relaunched_ids": [group["relaunched"]["id"] for group in relaunched],
        "recovered": outcomes.count("recovered"),
        "not_recovered": sum(1 for outcome in outcomes if outcome in NOT_RECOVERED),
        "skipped": sum(skipped.values()),
        "skipped_by_reason": skipped,
        "reports": reports,
    }
    return {
        "tenant": tenant,
        "run_started": run_started,
        "mode": "dry run" if check_mode else "applied",
        "check_mode": bool(check_mode),
        "criteria": dict(criteria or {}),
        "found": plan["found"],
        "stuck": plan["stuck"],
        "excluded": plan["excluded"],
        "refused": plan["refused"],
        "clearing": {key: clearing[key] for key in ("error", "closed_ids", "would_close_ids", "failed_ids", "left_alone", "failures")},
        "groups": groups,
        "failures": failures,
        "poll_errors": list(poll_errors or []),
        "failed": bool(failures) or plan["refused"],
        # what the role does next: launch these (after the clearing), then poll these until they finish
        "launch": [
            {key: group[key] for key in ("source_id", "source_name", "kind")}
            for group in groups
            if group["outcome"] == "not_launched" and not any(row["outcome"] in ("failed", "not_closed") for row in group["stuck"])
        ],
        "waiting": waiting,
        "poll_filters": [isc_filters.condition("id", waiting[start : start + POLL_BATCH]) for start in range(0, len(waiting), POLL_BATCH)],
        "reports": reports,
        "stats": stats,
    }


class FilterModule:
    """Decision and bookkeeping filters of the recover_aggregations role."""

    def filters(self):
        return {
            "recover_aggregations_plan": recover_aggregations_plan,
            "recover_aggregations_report": recover_aggregations_report,
        }
