"""Deterministic races: one-shot changes the emulator makes right after it serves a read of a task.

A test registers "after the next read of task X, finish it"; the emulator applies the change after the read's
answer is built and before it is sent, so the client holds the old state and every later request sees the new one:
the read-write race, at an exact point, with no timing involved.

A completed window ("the next N reads of task X show it completed without a status") reproduces ISC writing
``completed`` before ``completionStatus``: those reads show ``completed`` set (the stored time, or the time of the
read while the task is pending) and ``completionStatus`` null; which lists hold the task still follows its stored
state. A read is a GET of the task or a GET of a list page that holds it.
"""

from __future__ import annotations

import itertools
import json
import threading

from isc_emulator.clock import iso, now_ms, parse_iso

# Keys of a task the store indexes; a wrong type there would break every later list, so it is refused up front.
TEXT_OR_NULL = ("completionStatus", "launcher", "completed", "modified", "launched", "progress")
OBJECT_OR_NULL = ("target",)
HOOK_KEYS = {"id", "set", "expire_tokens", "skip"}
WINDOW_KEYS = {"id", "reads"}


class ChangeError(ValueError):
    """A hook or a change of a task that the control surface refuses (400); the message names the field."""


def check_fields(changes, what="set"):
    """ValueError naming a change that the store could not index; a partial TaskStatus otherwise passes as given."""
    if not isinstance(changes, dict):
        raise ChangeError("%s must be an object of TaskStatus fields" % what)
    if "id" in changes:
        raise ChangeError("%s must not change id" % what)
    for key in TEXT_OR_NULL:
        if key in changes and changes[key] is not None and not isinstance(changes[key], str):
            raise ChangeError("%s.%s must be a string or null" % (what, key))
    for key in OBJECT_OR_NULL:
        if key in changes and changes[key] is not None and not isinstance(changes[key], dict):
            raise ChangeError("%s.%s must be an object or null" % (what, key))
    if "attributes" in changes and not isinstance(changes["attributes"], dict):
        raise ChangeError("%s.attributes must be an object" % what)
    if "target" in changes and isinstance(changes["target"], dict) and not isinstance(changes["target"].get("id", ""), (str, type(None))):
        raise ChangeError("%s.target.id must be a string" % what)
    if "attributes" in changes and not isinstance(changes["attributes"].get("taskDefinitionName", ""), (str, type(None))):
        raise ChangeError("%s.attributes.taskDefinitionName must be a string" % what)
    for key in ("created", "completed", "modified", "launched"):
        if isinstance(changes.get(key), str):
            try:
                parse_iso(changes[key])
            except ValueError as problem:
                raise ChangeError("%s.%s: %s" % (what, key, problem)) from None
    if "created" in changes and not isinstance(changes["created"], str):
        raise ChangeError("%s.created must be a date-time" % what)


def change_task(store, tenant_name, task_id, changes):
    """Set fields of a stored task as the control surface does (``modified`` becomes now unless given); None if unknown."""

    def change(task):
        task.update(changes)
        task["created"] = iso(parse_iso(task["created"]))
        task.setdefault("modified", None)
        if "modified" not in changes:
            task["modified"] = iso(now_ms())
        return task

    return store.update(tenant_name, task_id, change)


class Hooks:
    """Pending and fired hooks of every tenant; a lock keeps each one-shot however many threads read."""

    def __init__(self):
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._pending = {}
        self._fired = {}
        # tenant -> task id -> reads left in its completed window
        self._windows = {}

    def add(self, tenant_name, spec):
        if not isinstance(spec, dict) or set(spec) - HOOK_KEYS:
            raise ChangeError("after_read must be an object with id and set and/or expire_tokens (optional skip)")
        task_id, changes = spec.get("id"), spec.get("set")
        if not isinstance(task_id, str) or not task_id:
            raise ChangeError("after_read.id must be a task id")
        if changes is not None:
            check_fields(changes, "after_read.set")
        expire = spec.get("expire_tokens", False)
        if not isinstance(expire, bool):
            raise ChangeError("after_read.expire_tokens must be true or false")
        if changes is None and not expire:
            raise ChangeError("after_read needs set or expire_tokens: true")
        skip = spec.get("skip", 0)
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise ChangeError("after_read.skip must be a non-negative integer (reads to let pass first)")
        with self._lock:
            hook = {"hook": next(self._numbers), "after_read": task_id, "set": changes, "expire_tokens": expire, "skip": skip}
            self._pending.setdefault(tenant_name, []).append(hook)
            return dict(hook)

    def pending_ids(self, tenant_name):
        """Task ids with a pending hook (read without the lock: a stale answer only delays the check by one read)."""
        return {hook["after_read"] for hook in self._pending.get(tenant_name, ())}

    def due(self, tenant_name, task_ids, read):
        """The hooks a served read of ``task_ids`` sets off, removed from the pending ones; the others count down.
        ``read`` names the request (method and path) for GET /_control/hooks."""
        fired = []
        with self._lock:
            pending = self._pending.get(tenant_name, [])
            keep = []
            for hook in pending:
                if hook["after_read"] not in task_ids:
                    keep.append(hook)
                elif hook["skip"]:
                    hook["skip"] -= 1
                    keep.append(hook)
                else:
                    fired.append(dict(hook, read=read))
            self._pending[tenant_name] = keep
            self._fired.setdefault(tenant_name, []).extend(fired)
        return fired

    def open_window(self, tenant_name, spec):
        """Open a completed window: the next ``reads`` reads of task ``id`` show completed set, completionStatus null."""
        if not isinstance(spec, dict) or set(spec) != WINDOW_KEYS:
            raise ChangeError("completed_window must be an object with id and reads")
        task_id, reads = spec["id"], spec["reads"]
        if not isinstance(task_id, str) or not task_id:
            raise ChangeError("completed_window.id must be a task id")
        if isinstance(reads, bool) or not isinstance(reads, int) or reads < 1:
            raise ChangeError("completed_window.reads must be a positive integer (the reads that show the window)")
        with self._lock:
            self._windows.setdefault(tenant_name, {})[task_id] = reads
        return {"completed_window": task_id, "reads": reads}

    def window_ids(self, tenant_name):
        """Task ids with an open window (read without the lock, as pending_ids)."""
        return set(self._windows.get(tenant_name, ()))

    def through_window(self, tenant_name, rows, now):
        """``rows`` (serialized tasks) with each task in an open window shown completed without a status; every such
        read counts down its window."""
        wanted = self.window_ids(tenant_name)
        if not wanted:
            return rows
        seen = ids_in(rows, wanted)
        if not seen:
            return rows
        shown = []
        with self._lock:
            windows = self._windows.get(tenant_name, {})
            for row in rows:
                task = json.loads(row) if any(b'"id":' + json.dumps(task_id).encode("utf-8") in row for task_id in seen) else None
                if task is None or windows.get(task.get("id"), 0) <= 0:
                    shown.append(row)
                    continue
                windows[task["id"]] -= 1
                if not windows[task["id"]]:
                    del windows[task["id"]]
                task["completed"] = task.get("completed") or iso(now)
                task["completionStatus"] = None
                shown.append(json.dumps(task, separators=(",", ":")).encode("utf-8"))
        return shown

    def show(self, tenant_name):
        with self._lock:
            return {
                "pending": [dict(hook) for hook in self._pending.get(tenant_name, ())],
                "fired": [dict(hook) for hook in self._fired.get(tenant_name, ())],
                "completed_windows": dict(self._windows.get(tenant_name, {})),
            }

    def clear(self, tenant_name):
        with self._lock:
            self._pending.pop(tenant_name, None)
            self._fired.pop(tenant_name, None)
            self._windows.pop(tenant_name, None)


def ids_in(rows, wanted):
    """Which of ``wanted`` task ids the serialized tasks of a page hold."""
    found = set()
    for task_id in wanted:
        needle = b'"id":' + json.dumps(task_id).encode("utf-8")
        for row in rows:
            # The substring finds candidates fast; the parse makes sure it is the task's own id, not a nested one.
            if needle in row and json.loads(row).get("id") == task_id:
                found.add(task_id)
                break
    return found
