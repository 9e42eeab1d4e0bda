"""Tenants and task statuses in SQLite; every task kept as its serialized JSON so pages are assembled, not encoded."""

from __future__ import annotations

import bisect
import json
import sqlite3
import threading

from isc_emulator import seed

SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY, position INTEGER NOT NULL, config TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    tenant TEXT NOT NULL, id TEXT NOT NULL, id_lc TEXT NOT NULL, created_ms INTEGER NOT NULL,
    status TEXT, source_id TEXT, type_name TEXT, launcher TEXT, body TEXT NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS tasks_by_created ON tasks (tenant, created_ms, id);
"""
COLUMNS = "id, id_lc, created_ms, status, source_id, type_name, launcher, body"
ROW_ID, ROW_CREATED, ROW_STATUS, ROW_BODY = 0, 2, 3, 7


class View:
    """Tasks of one kind in (created, id) order, serialized: a page is a slice, the 90-day edge a bisection."""

    __slots__ = ("keys", "bodies")

    def __init__(self):
        self.keys = []
        self.bodies = []

    def page(self, since_ms, descending, limit, offset):
        start = bisect.bisect_left(self.keys, (since_ms,))
        if not descending:
            return self.bodies[start + offset : start + offset + limit]
        end = len(self.bodies) - offset
        return self.bodies[max(start, end - limit) : max(start, end)][::-1]

    def count(self, since_ms):
        return len(self.keys) - bisect.bisect_left(self.keys, (since_ms,))

    def add(self, key, body):
        index = bisect.bisect_left(self.keys, key)
        self.keys.insert(index, key)
        self.bodies.insert(index, body)

    def remove(self, key):
        index = bisect.bisect_left(self.keys, key)
        if index < len(self.keys) and self.keys[index] == key:
            del self.keys[index]
            del self.bodies[index]


def _kinds(status):
    """The views a task belongs to: every list, and the completed or the pending one."""
    return ("all", "pending" if status is None else "completed")


class Store:
    """One connection behind one lock: reads are short, and a PATCH's read-modify-write can never interleave."""

    def __init__(self, path=None):
        self.path = path or ":memory:"
        self.lock = threading.RLock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if path:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._views = {}

    def close(self):
        with self.lock:
            self.db.close()

    def tenants(self):
        with self.lock:
            rows = self.db.execute("SELECT name, config FROM tenants ORDER BY position").fetchall()
        return [dict(json.loads(config), name=name) for name, config in rows]

    def save_tenant(self, name, position, config):
        with self.lock:
            self.db.execute("INSERT OR REPLACE INTO tenants VALUES (?, ?, ?)", (name, position, json.dumps(config)))

    def replace_all(self, tenant, rows):
        with self.lock, self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM tasks WHERE tenant = ?", (tenant,))
            self._insert(tenant, rows)
            self._views.pop(tenant, None)

    def upsert(self, tenant, rows):
        with self.lock, self.db:
            self.db.execute("BEGIN")
            self._insert(tenant, rows)
            self._views.pop(tenant, None)

    def _insert(self, tenant, rows):
        self.db.executemany(
            "INSERT OR REPLACE INTO tasks (tenant, %s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" % COLUMNS,
            ((tenant,) + tuple(row) for row in rows),
        )

    def insert(self, tenant, task):
        """Add one task, keeping the cached views in step (a launch must not make the next page rebuild them)."""
        row = seed.index_row(task)
        with self.lock:
            with self.db:
                self.db.execute("BEGIN")
                self._insert(tenant, [row])
            self._move(tenant, (row[ROW_CREATED], row[ROW_ID]), row[ROW_STATUS], row)

    def _views_of(self, tenant):
        views = self._views.get(tenant)
        if views is None:
            views = {"all": View(), "completed": View(), "pending": View()}
            query = "SELECT created_ms, id, status, body FROM tasks WHERE tenant = ? ORDER BY created_ms, id"
            for created, task_id, status, body in self.db.execute(query, (tenant,)):
                for kind in _kinds(status):
                    views[kind].keys.append((created, task_id))
                    views[kind].bodies.append(body.encode("utf-8"))
            self._views[tenant] = views
        return views

    def view_page(self, tenant, kind, since_ms, descending, limit, offset, with_count):
        """A page of the cached view (all, completed or pending) and, when asked, the total."""
        with self.lock:
            view = self._views_of(tenant)[kind]
            return view.page(since_ms, descending, limit, offset), view.count(since_ms) if with_count else None

    def page(self, tenant, since_ms, where, params, descending, limit, offset):
        order = "DESC" if descending else "ASC"
        sql = "SELECT body FROM tasks WHERE tenant = ? AND created_ms >= ? AND %s ORDER BY created_ms %s, id %s LIMIT ? OFFSET ?" % (where, order, order)
        with self.lock:
            return [row[0].encode("utf-8") for row in self.db.execute(sql, [tenant, since_ms] + params + [limit, offset])]

    def count(self, tenant, since_ms, where, params):
        sql = "SELECT COUNT(*) FROM tasks WHERE tenant = ? AND created_ms >= ? AND %s" % where
        with self.lock:
            return self.db.execute(sql, [tenant, since_ms] + params).fetchone()[0]

    def get(self, tenant, task_id):
        """(body, created_ms, status) or None."""
        with self.lock:
            return self.db.execute("SELECT body, created_ms, status FROM tasks WHERE tenant = ? AND id = ?", (tenant, task_id)).fetchone()

    def update(self, tenant, task_id, change):
        """Apply ``change(task) -> task`` atomically; returns the new task, or None for an unknown id."""
        with self.lock:
            found = self.get(tenant, task_id)
            if found is None:
                return None
            task = change(json.loads(found[0]))
            row = seed.index_row(task)
            with self.db:
                self.db.execute("BEGIN")
                self._insert(tenant, [row])
            self._move(tenant, (found[1], task_id), found[2], row)
            return task

    def _move(self, tenant, old_key, old_status, row):
        """Keep cached views in step with one changed task instead of rebuilding them for every PATCH."""
        views = self._views.get(tenant)
        if views is None:
            return
        for kind in _kinds(old_status):
            views[kind].remove(old_key)
        for kind in _kinds(row[ROW_STATUS]):
            views[kind].add((row[ROW_CREATED], row[ROW_ID]), row[ROW_BODY].encode("utf-8"))

    def all_tasks(self, tenant):
        with self.lock:
            return self.db.execute("SELECT body, created_ms FROM tasks WHERE tenant = ? ORDER BY created_ms, id", (tenant,)).fetchall()
