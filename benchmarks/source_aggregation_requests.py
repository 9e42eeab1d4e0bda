"""Requests spent by source_aggregation, counted from the emulator's request log, against the budgets it promises.

    .venv/bin/python benchmarks/source_aggregation_requests.py

- a launch without wait: at most a token, the source (by id; by name one filtered list), its pending aggregations,
  the launch;
- a run that finds an aggregation running, and a check-mode run: the same reads, no launch;
- a wait of T seconds: at most 1 + log2(30 / wait_sleep) + T / 30 polls. The run's clock is virtual (a sleep moves it
  on at once) and the emulator completes the task when that clock reaches T, so the figure does not depend on
  this machine's speed;
- launches that ISC applies and then answers with a 500 or a dropped connection, or refuses with a 429 first:
  launch POSTs sent and aggregations created per source.

The service layer runs in this process (one client per run, as a module run has), against the emulator as a
subprocess. Prints one table; exits non-zero when a budget is exceeded.
"""

from __future__ import annotations

import math
import sys

from harness import Emulator, control, expose_collection, request_log

expose_collection()

# pylint: disable=wrong-import-position
from ansible_collections.sailpoint.isc.plugins.module_utils import _connection as connection  # noqa: E402
from ansible_collections.sailpoint.isc.plugins.module_utils import _source_aggregation as service  # noqa: E402

WAITS = ((0.5, 30), (1, 120), (5, 600), (2, 3600), (30, 900))
FAULTS = (("error_after", "Salesforce"), ("drop_after", "SAP ERP"), ("rate_limit_before", "Entra ID"))


class VirtualClock:
    """The run's clock: sleeping moves it on at once; ``on_tick`` sees each new time."""

    def __init__(self, on_tick=None):
        self.now = 0.0
        self.on_tick = on_tick

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds
        if self.on_tick:
            self.on_tick(self.now)


def client_for(info, version="v2025", **hooks):
    admin = info["clients"]["admin"]
    params = dict(connection.DEFAULTS, base_url=info["base_url"], client_id=admin["client_id"], client_secret=admin["client_secret"], api_version=version)
    params.update(rate_limit="off")
    return connection.client_from_params(params, pace_file=None, **hooks)


def launch_params(**options):
    """A plan from the options given; plan_launch gives the others their defaults, as the argument spec would."""
    return service.plan_launch(options)


def counted(info, run):
    """Requests of one run (token included), by kind, from the emulator's log (emptied first)."""
    control(info, "DELETE", "/requests")
    result = run()
    log = request_log(info)
    kinds = {}
    for entry in log:
        kinds[entry.get("kind") or "other"] = kinds.get(entry.get("kind") or "other", 0) + 1
    return result, len(log), kinds


def source_id(info, name):
    return next(found["source"]["id"] for found in control(info, "GET", "/sources") if found["source"]["name"] == name)


def run_once(info, plan, check_mode=False, clock=None):
    client = client_for(info, **({"sleep": clock.sleep, "clock": clock} if clock else {}))
    try:
        return service.run(client, plan, check_mode, **({"sleep": clock.sleep, "clock": clock} if clock else {}))
    finally:
        client.close()


def launches(info, rows):
    by_id = source_id(info, "Okta")
    cases = (
        ("check mode", launch_params(source_id=by_id), True, 3),
        ("launch by id", launch_params(source_id=by_id), False, 4),
        ("rerun while it runs", launch_params(source_id=by_id), False, 3),
        ("launch by name", launch_params(source_name="Workday"), False, 5),
    )
    for name, plan, check_mode, budget in cases:
        result, total, kinds = counted(info, lambda plan=plan, check_mode=check_mode: run_once(info, plan, check_mode))
        rows.append((name, total, budget, False, f"changed {result['changed']}; {kinds}"))


def waits(info, rows):
    source = "ServiceNow"
    for wait_sleep, seconds in WAITS:
        control(info, "POST", "/reset", {"pending": 0, "stuck": 0})
        launched = {}

        def finish_at(now, seconds=seconds):
            if now >= seconds and launched.get("id") and not launched.get("done"):
                control(info, "POST", f"/aggregations/{launched['id']}", {"status": "SUCCESS", "counts": {"totalAccounts": 3, "processedAccounts": 3}})
                launched["done"] = True

        clock = VirtualClock(finish_at)
        client = client_for(info, sleep=clock.sleep, clock=clock)
        original = client.post_form

        def remember(*args, **kwargs):
            answer = original(*args, **kwargs)
            launched["id"] = (answer.get("task") or answer)["id"]
            return answer

        client.post_form = remember
        plan = launch_params(source_name=source, wait=True, wait_sleep=wait_sleep, wait_timeout=seconds + 60)
        control(info, "DELETE", "/requests")
        result = service.run(client, plan, False, sleep=clock.sleep, clock=clock)
        client.close()
        polls = sum(1 for entry in request_log(info) if entry["path"].endswith(f"/task-status/{launched['id']}"))
        budget = 1 + math.log2(30 / wait_sleep) + seconds / 30
        rows.append(
            (
                f"wait {seconds}s, wait_sleep {wait_sleep}: polls",
                polls,
                budget,
                False,
                f"{result['task']['completionStatus']} after {result['elapsed']}s (virtual)",
            )
        )


def faults(info, rows):
    control(info, "POST", "/reset", {"pending": 0, "stuck": 0})
    for mode, name in FAULTS:
        control(info, "POST", "/launch-faults", {"mode": mode, "count": 1})
        result, _total, _kinds = counted(info, lambda name=name: run_once(info, launch_params(source_name=name)))
        # the request log's entry of a dropped connection names no tenant: read the whole log
        posts = sum(1 for entry in request_log(info) if entry["method"] == "POST" and entry["path"].endswith("/load-accounts"))
        created = [task for task in control(info, "GET", "/tasks") if task["id"] in control(info, "GET", "/aggregations")["launched"]]
        mine = [task for task in created if (task.get("target") or {}).get("id") == result["source"]["id"]]
        reported = bool(mine) and result["task"]["id"] == mine[0]["id"]
        rows.append((f"fault {mode}: aggregations created", len(mine), 1, True, f"{posts} launch POSTs, the new one reported: {reported}"))


def main():
    rows = []
    # the run's clock is virtual, so its polls reach the emulator faster than any rate limit allows in real time
    with Emulator(["--tenants", "acme", "--tasks", "40", "--pending", "0", "--stuck", "0", "--rate-limit", "off", "--validate-requests"]) as info:
        launches(info, rows)
        waits(info, rows)
        faults(info, rows)
        violations = [entry for entry in request_log(info) if entry.get("spec_violation")]
    width = max(len(row[0]) for row in rows)
    print(f"{'run':<{width}}  {'figure':>6}  {'budget':>7}  verdict  detail")
    failed = 0
    for name, value, budget, exact, detail in rows:
        ok = value == budget if exact else value <= budget
        failed += not ok
        print(f"{name:<{width}}  {value:>6}  {budget:>7.2f}  {'PASS' if ok else 'FAIL':<7}  {detail}")
    print(f"requests breaking SailPoint's specification: {len(violations)}")
    sys.exit(1 if failed or violations else 0)


if __name__ == "__main__":
    main()
