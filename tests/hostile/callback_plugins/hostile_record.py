# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writes every task result of a playbook run as one JSON line, for the hostile suite to judge host by host."""

from __future__ import annotations

DOCUMENTATION = r"""
name: hostile_record
type: notification
short_description: every task result of a run as JSON lines
description:
  - Writes one JSON line per task result (host, task, status, the result as the screen would show it, and the
    keys a screen hides such as C(exception)) to the file named by the environment variable C(HOSTILE_RECORD).
  - Used by tests/hostile only.
requirements:
  - enabled in ANSIBLE_CALLBACKS_ENABLED
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "hostile_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("HOSTILE_RECORD")

    def _record(self, status, result):
        if not self._path:
            return
        raw = result._result  # pylint: disable=protected-access
        line = {
            "host": result._host.get_name(),  # pylint: disable=protected-access
            "task": result._task.get_name(),  # pylint: disable=protected-access
            "action": result._task.action,  # pylint: disable=protected-access
            "status": status,
            "msg": str(raw.get("msg", "")),
            "keys": sorted(str(key) for key in raw),
            "exception": str(raw["exception"]) if raw.get("exception") else None,
            "warnings": [str(warning) for warning in raw.get("warnings") or []],
            "shown": self._dump_results(raw, keep_invocation=True),
        }
        with open(self._path, "a", encoding="utf-8") as record:
            record.write(json.dumps(line, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._record("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record("ignored" if ignore_errors else "failed", result)

    def v2_runner_on_skipped(self, result):
        self._record("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._record("unreachable", result)

    def v2_runner_item_on_failed(self, result):
        self._record("item-failed", result)
