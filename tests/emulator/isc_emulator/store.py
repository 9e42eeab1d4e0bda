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
VIEWS = ("all", "completed", "pending")


class View:
    """One tenant's tasks of a kind in (created, id) order: page slices without a query, the 90-day edge by bisection."""

    __slots__ = ("created", "bodies")

    def __init__(self, created, bodies):
        self.created = created
        self.bodies = bodies

    def page(self, since_ms, descending, limit, offset):
        start = bisect.bisect_left(self.created, since_ms)
        if not descending:
            return self.bodies[start + offset:start + offset + limit]
        end = len(self.bodies) - offset
        return self.bodies[max(start, end - limit):max(start, end)][::-1]

    def count(self, since_ms):
        return len(self.bodies) - bisect.bisect_left(self.created, since_ms)


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

    def upsert(self, tenant, rows):
        with self.lock, self.db:
            self.db.execute("BEGIN")
            self._insert(tenant, rows)

    def _insert(self, tenant, rows):
        self._views.pop(tenant, None)
        self.db.executemany(
            "INSERT OR REPLACE INTO tasks (tenant, %s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)" % COLUMNS,
            ((tenant,) + tuple(row) for row in rows),
        )

    def view(self, tenant, kind):
        """The cached View of ``kind`` (all, completed or pending); any write to the tenant drops its views."""
        with self.lock:
            views = self._views.get(tenant)
            if views is None:
                rows = self.db.execute("SELECT created_ms, status IS NULL, body FROM tasks WHERE tenant = ? ORDER BY created_ms, id", (tenant,)).fetchall()
                rows = [(created, pending, body.encode("utf-8")) for created, pending, body in rows]
                views = {
                    "all": View([row[0] for row in rows], [row[2] for row in rows]),
                    "completed": View([row[0] for row in rows if not row[1]], [row[2] for row in rows if not row[1]]),
                    "pending": View([row[0] for row in rows if row[1]], [row[2] for row in rows if row[1]]),
                }
                self._views[tenant] = views
            return views[kind]

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
        """(body, created_ms) or None."""
        with self.lock:
            return self.db.execute("SELECT body, created_ms FROM tasks WHERE tenant = ? AND id = ?", (tenant, task_id)).fetchone()

    def update(self, tenant, task_id, change):
        """Apply ``change(task) -> task`` atomically; returns the new task, or None for an unknown id."""
        with self.lock:
            found = self.get(tenant, task_id)
            if found is None:
                return None
            task = change(json.loads(found[0]))
            self.upsert(tenant, [seed.index_row(task)])
            return task

    def all_tasks(self, tenant):
        with self.lock:
            return self.db.execute("SELECT body, created_ms FROM tasks WHERE tenant = ? ORDER BY created_ms, id", (tenant,)).fetchall()
