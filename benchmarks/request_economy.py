"""Request economy and listing speed of sailpoint.isc against ISC's real limits, side by side with what users run
today (ansible.builtin.uri loops, SailPoint's Python SDK), as whole ansible-playbook runs against the emulator.

Run from the collection root (make bench runs the full set):
    python benchmarks/request_economy.py [--quick] [--scenarios clear,limited,...] [--label before] [--baseline FILE]

Scenarios (numbers as in the issue "Request economy at ISC's real limits"):
  1 clear      clearing N tasks, emulator limit off and the client's window off (rate_limit: "off"): task_status
               with ids, task_status with the listed tasks (tasks:), and a uri loop (token, GET then PATCH per task)
  2 limited    the same N under the real limit (100 per 10 s): wall time against the floor (the fewest requests
               the targets allow, at 10 per s)
  3 rerun      the no-op rerun of (2): every task already closed
  4 runbook    playbook sailpoint.isc.clear_stuck_tasks on a tenant with N stuck tasks (cap raised), real limit
  5 listing    task_status_info listing 1k/10k/100k tasks against the SDK's paginator in a script; requests, peak
               memory of module, worker and controller, linearity; and with fields limited to four
  6 by-id      one task_status_info by id against one uri GET (with its token), as whole runs
  7 fleet      the runbook over 20 tenants (each its own client and limit), --forks 1 against --forks 10
Each scenario prints its figures with the issue's target beside them (PASS/FAIL); the run ends with one table of
every check and writes benchmarks/results/<label>-<UTC time>.md and .json, the machine described.

Options of the core the scenarios use when this checkout has them (checked from the modules' argument specs):
rate_limit (connection option, "off" / "N/S"), tasks (task_status), fields (task_status_info). Without one, the
scenario runs as today's code allows and says so in its notes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import harness  # noqa: E402  pylint: disable=wrong-import-position

SCENARIOS = ("clear", "limited", "rerun", "runbook", "listing", "by-id", "fleet")
NUMBERS = {str(index + 1): name for index, name in enumerate(SCENARIOS)}
ID_FORMAT = "be0c{:028x}"
PAGE = 250
# the four fields a report over many tasks needs
REPORT_FIELDS = ["id", "uniqueName", "completionStatus", "created"]
PROGRESS = "Cleared by the benchmark"
FULL = {"clear": 1000, "uri": 200, "listing": [1000, 10000, 100000], "stuck": 1000, "tenants": 20, "fleet_stuck": 50, "forks": [1, 10], "repeat": 3}
QUICK = {"clear": 100, "uri": 50, "listing": [1000, 5000], "stuck": 100, "tenants": 20, "fleet_stuck": 5, "forks": [1, 10], "repeat": 1}


class Report:
    """Figures, checks and notes of every scenario, printed as they come and saved at the end."""

    def __init__(self):
        self.scenarios = {}
        self.current = None

    def start(self, name, title):
        # the machine is shared: the load when a scenario starts says how far its times can be trusted
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        self.current = self.scenarios[name] = {"title": title, "rows": [], "checks": [], "notes": [], "figures": {}, "load_average": load}
        print(f"\n=== {title} (load average {load})", flush=True)

    def row(self, label, **figures):
        self.current["rows"].append(dict(run=label, **figures))
        print("  " + label + ": " + ", ".join(f"{key} {_show(value)}" for key, value in figures.items()), flush=True)

    def check(self, what, value, target, passed):
        verdict = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        self.current["checks"].append({"check": what, "value": value, "target": target, "verdict": verdict})
        print(f"  [{verdict}] {what}: {value} (target {target})", flush=True)

    def note(self, text):
        self.current["notes"].append(text)
        print(f"  note: {text}", flush=True)


def _show(value):
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def mib(value):
    return round(value / harness.MIB, 1)


def ids_for(count, offset=0):
    return [ID_FORMAT.format(offset + index) for index in range(count)]


def closed(info, ids, status):
    """How many of ``ids`` the emulator holds with completionStatus ``status``."""
    wanted = set(ids)
    return sum(1 for task in harness.control(info, "GET", "/tasks") if task["id"] in wanted and task.get("completionStatus") == status)


def run_figures(run, counts):
    return {
        "wall_s": round(run["wall"], 2),
        "requests": counts["total"],
        "token": counts["token"],
        "reads": counts["reads"],
        "patch": counts["patch"],
        "429": counts["429"],
        "module_s": round(run["module_wall"], 2),
        "module_cpu_s": round(run["module_cpu"], 2),
        "module_MiB": mib(run["module_peak_rss"]),
        "worker_MiB": mib(run["workers"]["peak_rss"]),
        "controller_MiB": mib(run["controller"]["peak_rss"]),
        "controller_cpu_s": round(run["controller"]["cpu"], 2),
    }


def split_at_token(log, index):
    """The requests from the ``index``-th token request on (0-based): one module run's, when modules run in turn."""
    tokens = [position for position, entry in enumerate(log) if entry["path"].endswith("/oauth/token")]
    return log[tokens[index] :] if len(tokens) > index else []


class Bench:
    def __init__(self, args, sizes, features, folder, report):
        self.args = args
        self.sizes = sizes
        self.features = features
        self.folder = folder
        self.report = report
        self.baseline = json.loads(pathlib.Path(args.baseline).read_text(encoding="utf-8")) if args.baseline else None

    def rate_limit(self, value):
        """The rate_limit option when the core has it; today's code paces at 100/10 whatever is asked."""
        return {"rate_limit": value} if self.features["rate_limit"] else {}

    def playbook(self, name, tasks, **play):
        return harness.write_playbook(self.folder, name, tasks, **play)

    def run(self, playbook, info, name=None, **kwargs):
        env = harness.connection_env(harness.tenant(info, name))
        return harness.run_playbook(playbook, self.folder / "runs", env=dict(env, **kwargs.pop("env", {})), emulator_pid=info["pid"], **kwargs)

    # ---- task_status runs

    def clear_task(self, ids, rate_limit=None):
        options = {
            "ids": ids,
            "completion_status": "TERMINATED",
            "completed": "now",
            "progress": PROGRESS,
            "only_pending": True,
            "guard": True,
        }
        options.update(self.rate_limit(rate_limit) if rate_limit else {})
        return {"name": "clear", "sailpoint.isc.task_status": options, "register": "cleared"}

    def listed_clear_tasks(self, rate_limit=None):
        """task_status_info lists the pending tasks, task_status closes exactly those without reading them again."""
        extra = self.rate_limit(rate_limit) if rate_limit else {}
        return [
            {"name": "list", "sailpoint.isc.task_status_info": dict(scope="pending", **extra), "register": "listed"},
            {
                "name": "clear the listed tasks",
                "sailpoint.isc.task_status": dict(
                    tasks="{{ listed.tasks }}", completion_status="TERMINATED", completed="now", progress=PROGRESS, only_pending=True, guard=True, **extra
                ),
            },
        ]

    def uri_loop_tasks(self, api="beta"):
        """What people write today: one token, then GET each task and PATCH those still pending."""
        base = "{{ lookup('ansible.builtin.env', 'SAIL_BASE_URL') }}"
        bearer = {"Authorization": "Bearer {{ token.json.access_token }}"}
        return [
            {
                "name": "token",
                "ansible.builtin.uri": {
                    "url": base + "/oauth/token",
                    "method": "POST",
                    "body_format": "form-urlencoded",
                    "body": {
                        "grant_type": "client_credentials",
                        "client_id": "{{ lookup('ansible.builtin.env', 'SAIL_CLIENT_ID') }}",
                        "client_secret": "{{ lookup('ansible.builtin.env', 'SAIL_CLIENT_SECRET') }}",
                    },
                },
                "register": "token",
                "no_log": True,
            },
            {
                "name": "read each task",
                "ansible.builtin.uri": {"url": base + f"/{api}/task-status/{{{{ item }}}}", "headers": bearer},
                "loop": "{{ task_ids }}",
                "register": "reads",
            },
            {
                "name": "close each pending task",
                "ansible.builtin.uri": {
                    "url": base + f"/{api}/task-status/{{{{ item.item }}}}",
                    "method": "PATCH",
                    "headers": dict(bearer, **{"Content-Type": "application/json-patch+json"}),
                    "body_format": "json",
                    "body": [
                        {"op": "replace", "path": "/completionStatus", "value": "TERMINATED"},
                        {"op": "replace", "path": "/completed", "value": "{{ now(utc=true, fmt='%Y-%m-%dT%H:%M:%S.000Z') }}"},
                        {"op": "replace", "path": "/progress", "value": PROGRESS},
                    ],
                },
                "loop": "{{ reads.results }}",
                "loop_control": {"label": "{{ item.item }}"},
                "when": "item.json.completionStatus is none",
            },
        ]

    # ---- 1. unpaced clear

    def clear(self, info):
        count, uri_count = self.sizes["clear"], self.sizes["uri"]
        self.report.start("clear", f"1. clear {count} pending tasks, emulator limit off, client window off: task_status against a uri loop")
        ids = ids_for(count)
        reads_allowed = 2 * math.ceil(count / PAGE)
        if not self.features["rate_limit"]:
            self.report.note("rate_limit is not an option of this checkout: the module paces itself at 100/10 s as today's code always does")
        harness.prepare(info, tasks=20, rate_limit="off", insert=harness.pending_tasks(ids))
        run = self.run(self.playbook("clear-ids.yml", [self.clear_task(ids, "off")]), info)
        counts = harness.tally(harness.request_log(info))
        done = closed(info, ids, "TERMINATED")
        self.report.row("task_status ids", **run_figures(run, counts), closed=done)
        self.report.check("task_status ids: every task closed", done, count, done == count)
        self.report.check(
            "task_status ids: requests",
            counts["total"],
            f"<= {count} PATCH + {reads_allowed} reads + 1 token = {count + reads_allowed + 1}",
            counts["total"] <= count + reads_allowed + 1,
        )
        module_wall = run["wall"]
        if self.features["tasks"]:
            harness.prepare(info, tasks=20, rate_limit="off", insert=harness.pending_tasks(ids))
            listed = self.run(self.playbook("clear-listed.yml", self.listed_clear_tasks("off")), info)
            log = harness.request_log(info)
            own = harness.tally(split_at_token(log, 1))
            done = closed(info, ids, "TERMINATED")
            self.report.row("task_status_info + task_status tasks:", **run_figures(listed, harness.tally(log)), closed=done)
            allowed = count + math.ceil(count / PAGE) + 1
            self.report.check("tasks: every task closed", done, count, done == count)
            self.report.check(
                "tasks: task_status's own requests",
                own["total"],
                f"<= {count} PATCH + {math.ceil(count / PAGE)} reads + 1 token = {allowed}",
                own["total"] <= allowed,
            )
        else:
            self.report.note("task_status has no tasks option in this checkout: the list-then-clear run is left out")
        # the loop outlives ISC's 750 s token when it is long: the token lives long here so that it finishes
        harness.prepare(info, tasks=20, rate_limit="off", token_ttl=86400, insert=harness.pending_tasks(ids[:uri_count]))
        loop = self.run(self.playbook("clear-uri.yml", self.uri_loop_tasks()), info, extra_vars={"task_ids": ids[:uri_count]})
        counts = harness.tally(harness.request_log(info))
        done = closed(info, ids[:uri_count], "TERMINATED")
        self.report.row(f"uri loop ({uri_count} tasks)", **run_figures(loop, counts), closed=done)
        uri_wall = loop["wall"] * count / uri_count
        if uri_count != count:
            self.report.note(f"the uri loop ran {uri_count} tasks; its time for {count} is scaled linearly: {uri_wall:.1f} s")
        self.report.note("the uri loop's token lives 24 h here; with ISC's 750 s it would fail its PATCHes after 750 s")
        ratio = uri_wall / module_wall
        self.report.current["figures"] = {"task_status_s": module_wall, "uri_loop_s": uri_wall, "speedup": ratio}
        self.report.check(f"uri loop time / task_status time for {count} tasks", f"{ratio:.1f}x", ">= 50x", ratio >= 50)

    # ---- 2. and 3. under the real limit

    def limited(self, info):
        count = self.sizes["clear"]
        self.report.start("limited", f"2. clear {count} pending tasks under the real limit (100 per 10 s), client window as shipped")
        ids = ids_for(count)
        harness.prepare(info, tasks=20, rate_limit="100/10", insert=harness.pending_tasks(ids))
        run = self.run(self.playbook("clear-limited.yml", [self.clear_task(ids)]), info)
        counts = harness.tally(harness.request_log(info))
        done = closed(info, ids, "TERMINATED")
        # the floor: the fewest requests the targets allow, at 10 per second; the run's own requests at that pace
        # show how closely the client keeps to the limit whatever it asks
        allowed = count + 2 * math.ceil(count / PAGE) + 1
        floor, paced = allowed / 10, counts["total"] / 10
        self.report.row("task_status ids", **run_figures(run, counts), floor_s=floor, own_requests_at_10_per_s=paced, closed=done)
        self.report.current["figures"] = {"wall_s": run["wall"], "floor_s": floor, "requests": counts["total"]}
        self.report.check("every task closed", done, count, done == count)
        self.report.check(
            f"wall time / floor ({allowed} requests / 10 per s)",
            f"{run['wall'] / floor:.2f}x ({run['wall']:.1f} s / {floor:.1f} s)",
            "<= 1.1x",
            run["wall"] <= 1.1 * floor,
        )
        self.report.check("wall time / the run's own requests at 10 per s", f"{run['wall'] / paced:.2f}x", "(stated: the pacing's overhead)", None)
        self.report.check("requests", counts["total"], f"<= {allowed}", counts["total"] <= allowed)
        self.report.check("HTTP 429 met", counts["429"], "0 (the client stays under the limit)", counts["429"] == 0)

    def rerun(self, info):
        count = self.sizes["clear"]
        self.report.start("rerun", f"3. the no-op rerun of (2): {count} ids, all already closed, real limit")
        ids = ids_for(count)
        done_tasks = [
            dict(task, completionStatus="TERMINATED", completed=harness.iso_ago(60), progress=PROGRESS, percentComplete=100)
            for task in harness.pending_tasks(ids)
        ]
        harness.prepare(info, tasks=20, rate_limit="100/10", insert=done_tasks)
        run = self.run(self.playbook("clear-rerun.yml", [self.clear_task(ids)]), info)
        counts = harness.tally(harness.request_log(info))
        self.report.row("task_status ids (nothing to change)", **run_figures(run, counts))
        self.report.current["figures"] = {"wall_s": run["wall"], "requests": counts["total"]}
        self.report.check("wall time", f"{run['wall']:.1f} s", "< 5 s", run["wall"] < 5)
        self.report.check("PATCH requests", counts["patch"], "0", counts["patch"] == 0)
        reads = 2 * math.ceil(count / PAGE)
        self.report.check("read requests", counts["reads"], f"<= {reads} (2 per 250 ids)", counts["reads"] <= reads)

    # ---- 4. the stuck-task runbook

    def runbook(self, info):
        stuck = self.sizes["stuck"]
        self.report.start("runbook", f"4. playbook sailpoint.isc.clear_stuck_tasks, {stuck} stuck tasks (cap raised), real limit")
        harness.prepare(info, tasks=stuck + 200, pending=3, stuck=stuck, rate_limit="100/10")
        pending = [task for task in harness.control(info, "GET", "/tasks") if not task["hidden"] and task.get("completionStatus") is None]
        run = self.run_runbook(info, None, stuck)
        counts = harness.tally(harness.request_log(info))
        after = {task["id"]: task for task in harness.control(info, "GET", "/tasks")}
        closed_now = sum(1 for task in pending if after[task["id"]].get("completionStatus") == "ERROR")
        reads = 2 * math.ceil(len(pending) / PAGE)
        floor = (stuck + reads + 2) / 10
        self.report.row("clear_stuck_tasks", **run_figures(run, counts), pending=len(pending), closed=closed_now, floor_s=floor)
        self.report.current["figures"] = {"wall_s": run["wall"], "floor_s": floor, "requests": counts["total"], "pending": len(pending), "closed": closed_now}
        self.report.check("stuck tasks closed", closed_now, stuck, closed_now == stuck)
        self.report.check("read requests", counts["reads"], f"<= {reads} (2 per 250 pending tasks)", counts["reads"] <= reads)
        self.report.check(
            "requests", counts["total"], f"<= stuck + reads + 2 = {closed_now + counts['reads'] + 2}", counts["total"] <= closed_now + counts["reads"] + 2
        )
        self.report.check(
            f"wall time / floor ({stuck + reads + 2} requests / 10 per s)", f"{run['wall'] / floor:.2f}x", "<= 1.1x (as for (2))", run["wall"] <= 1.1 * floor
        )

    def run_runbook(self, info, name, cap, inventory=None, forks=None):
        # the emulator seeds its stuck tasks 3 h to 12 days old and its recent ones under 20 min: with 1h every
        # stuck one is selected and no recent one, so the tasks to close are known exactly
        extra = {"stuck_tasks_max_tasks": cap, "stuck_tasks_older_than": "1h", "stuck_tasks_report_dir": str(self.folder / "reports")}
        env = {} if inventory else harness.connection_env(harness.tenant(info, name))
        return harness.run_playbook(
            "sailpoint.isc.clear_stuck_tasks",
            self.folder / "runs",
            inventory=inventory or "localhost,",
            forks=forks,
            extra_vars=extra,
            env=env,
            emulator_pid=info["pid"],
        )

    # ---- 5. listing

    def listing(self, info):
        sizes = self.sizes["listing"]
        self.report.start("listing", f"5. listing {', '.join(map(str, sizes))} tasks: task_status_info (whole run) against the SDK's paginator")
        version = self.args.api_version
        self.report.note(f"task_status_info with api_version {version} (one operation, as the SDK's /task-status/v1); emulator limit off")
        if not self.features["rate_limit"]:
            self.report.note("no rate_limit option: the module's window (100 per 10 s) paces listings of more than 99 pages")
        if not self.features["fields"]:
            self.report.note("task_status_info has no fields option in this checkout: the four-field runs are left out")
        figures = {}
        for count in sizes:
            harness.prepare(info, tasks=count, rate_limit="off")
            payload = payload_bytes(info)
            entry = figures[count] = {"payload_bytes": payload}
            variants = [("module", {})] + ([("fields", {"fields": REPORT_FIELDS})] if self.features["fields"] else [])
            for label, extra in variants:
                harness.control(info, "DELETE", "/requests")
                options = dict(scope="all", api_version=version, **self.rate_limit("off"), **extra)
                run = self.run(self.playbook(f"list-{label}.yml", [{"name": "list", "sailpoint.isc.task_status_info": options, "register": "listed"}]), info)
                counts = harness.tally(harness.request_log(info))
                entry[label] = dict(run_figures(run, counts), worker_cpu_s=round(run["workers"]["cpu"], 2))
                self.report.row(f"{count} tasks, task_status_info{' fields: 4' if label == 'fields' else ''}", **entry[label])
            harness.control(info, "DELETE", "/requests")
            sdk = sdk_list(info, count)
            sdk["requests"] = harness.tally(harness.request_log(info))["total"]
            entry["sdk"] = sdk
            self.report.row(
                f"{count} tasks, SDK paginator script",
                wall_s=round(sdk["wall"], 2),
                cpu_s=round(sdk["cpu"], 2),
                MiB=mib(sdk["peak_rss"]),
                requests=sdk["requests"],
                payload_MiB=mib(payload),
            )
        self.report.current["figures"] = {str(count): value for count, value in figures.items()}
        self.listing_checks(figures)

    def listing_checks(self, figures):
        sizes = sorted(figures)
        for count in sizes:
            entry = figures[count]
            expected = 1 + math.ceil(count / PAGE)
            self.report.check(f"{count}: requests", entry["module"]["requests"], f"exactly {expected}", entry["module"]["requests"] == expected)
            ratio = entry["module"]["wall_s"] / entry["sdk"]["wall"]
            self.report.check(
                f"{count}: module run / SDK script time", f"{ratio:.1f}x", "<= 2x" if count == 10000 else "(stated)", ratio <= 2 if count == 10000 else None
            )
            # CPU seconds are steadier than wall time on a shared machine
            cpu = entry["module"]["module_cpu_s"] + entry["module"]["worker_cpu_s"] + entry["module"]["controller_cpu_s"]
            self.report.check(f"{count}: CPU of module+worker+controller / SDK script CPU", f"{cpu / entry['sdk']['cpu']:.1f}x ({cpu:.1f} s)", "(stated)", None)
            for role in ("module", "worker", "controller"):
                self.report.check(f"{count}: {role} peak memory", f"{entry['module'][role + '_MiB']} MiB", "(stated)", None)
            self.report.check(f"{count}: SDK script peak memory", f"{mib(entry['sdk']['peak_rss'])} MiB", "(stated)", None)
        if len(sizes) >= 2:
            small, large = sizes[0], sizes[-1]
            per_task = (figures[large]["module"]["module_cpu_s"] - figures[small]["module"]["module_cpu_s"]) / (large - small)
            sdk_per_task = (figures[large]["sdk"]["cpu"] - figures[small]["sdk"]["cpu"]) / (large - small)
            self.report.check(
                f"module process CPU per task ({small}->{large})",
                f"{per_task * 1e6:.0f} us vs SDK {sdk_per_task * 1e6:.0f} us",
                "<= the SDK's",
                per_task <= sdk_per_task,
            )
        if len(sizes) >= 3:
            low, mid, high = sizes[0], sizes[1], sizes[2]
            for role in ("module", "worker", "controller"):
                key = role + "_MiB"
                first = (
                    (figures[mid]["module"][key] - figures[low]["module"][key]) * harness.MIB / (figures[mid]["payload_bytes"] - figures[low]["payload_bytes"])
                )
                second = (
                    (figures[high]["module"][key] - figures[mid]["module"][key])
                    * harness.MIB
                    / (figures[high]["payload_bytes"] - figures[mid]["payload_bytes"])
                )
                self.report.check(
                    f"{role} memory growth per byte of result, {mid}->{high} against {low}->{mid}",
                    f"{second:.1f} against {first:.1f} bytes/byte",
                    "no faster than the result (<= 1.15x the lower range)",
                    second <= 1.15 * max(first, 0.1),
                )
        top = sizes[-1]
        if "fields" in figures[top]:
            today = self.today_listing(top, figures)
            fields, full = figures[top]["fields"], today
            memory = fields["module_MiB"] + fields["worker_MiB"] + fields["controller_MiB"]
            memory_today = full["module_MiB"] + full["worker_MiB"] + full["controller_MiB"]
            self.report.check(
                f"{top} tasks with fields (4): time against today's full listing",
                f"{fields['wall_s']:.1f} s vs {full['wall_s']:.1f} s",
                "<= 1/4",
                fields["wall_s"] <= full["wall_s"] / 4,
            )
            self.report.check(
                f"{top} tasks with fields (4): module+worker+controller peak memory against today's",
                f"{memory:.0f} MiB vs {memory_today:.0f} MiB",
                "<= 1/4",
                memory <= memory_today / 4,
            )

    def today_listing(self, count, figures):
        """Today's full listing of ``count`` tasks: from --baseline when given, else this run's full listing."""
        if self.baseline:
            saved = self.baseline.get("scenarios", {}).get("listing", {}).get("figures", {}).get(str(count))
            if saved:
                self.report.note(f"today's {count}-task listing is taken from {self.args.baseline}")
                return saved["module"]
        self.report.note(f"no baseline for {count} tasks: the four-field run is compared with this run's full listing")
        return figures[count]["module"]

    # ---- 6. one task by id

    def by_id(self, info):
        repeat = self.sizes["repeat"]
        self.report.start("by-id", "6. one task by id: task_status_info against a uri token + GET, as whole ansible-playbook runs")
        harness.prepare(info, tasks=20, rate_limit="100/10", insert=harness.pending_tasks(ids_for(1)))
        task_id = ids_for(1)[0]
        module = self.playbook("by-id-module.yml", [{"name": "one task", "sailpoint.isc.task_status_info": {"id": task_id}, "register": "one"}])
        uri = self.playbook("by-id-uri.yml", self.uri_loop_tasks()[:2])
        empty = self.playbook("empty.yml", [{"name": "nothing", "ansible.builtin.debug": {"msg": "nothing"}}])
        plays = {"task_status_info": (module, {}), "uri": (uri, {"task_ids": [task_id]}), "empty playbook": (empty, {})}
        walls, cpus = {label: [] for label in plays}, {label: [] for label in plays}
        for _index in range(repeat):
            for label, (playbook, extra) in plays.items():
                run = self.run(playbook, info, extra_vars=extra)
                walls[label].append(run["wall"])
                cpus[label].append(run["module_cpu"] + run["workers"]["cpu"] + run["controller"]["cpu"])
        medians = {label: statistics.median(values) for label, values in walls.items()}
        for label, value in medians.items():
            self.report.row(label, median_wall_s=value, median_cpu_s=statistics.median(cpus[label]), runs=len(walls[label]))
        self.report.current["figures"] = {"wall_s": medians, "cpu_s": {label: statistics.median(values) for label, values in cpus.items()}}
        ratio = medians["task_status_info"] / medians["uri"]
        self.report.check("task_status_info / uri (token + GET), wall", f"{ratio:.2f}x", "(stated; no target in the issue)", None)
        cpu_ratio = statistics.median(cpus["task_status_info"]) / statistics.median(cpus["uri"])
        self.report.check("task_status_info / uri (token + GET), CPU", f"{cpu_ratio:.2f}x", "(stated)", None)

    # ---- 7. fleet

    def fleet(self, _info):
        tenants, stuck = self.sizes["tenants"], self.sizes["fleet_stuck"]
        names = [f"t{index:02d}" for index in range(1, tenants + 1)]
        self.report.start("fleet", f"7. the runbook over {tenants} tenants ({stuck} stuck tasks each, real limit), forks compared")
        cores = os.cpu_count()
        results = {}
        with harness.Emulator(["--tenants", ",".join(names), "--tasks", str(stuck + 50), "--pending", "3", "--stuck", str(stuck)]) as info:
            inventory = harness.write_inventory(self.folder, info["tenants"])
            for forks in self.sizes["forks"]:
                for name in names:
                    harness.prepare(info, name=name, tasks=stuck + 50, pending=3, stuck=stuck, rate_limit="100/10")
                run = self.run_runbook(info, None, stuck + 10, inventory=inventory, forks=forks)
                counts = harness.tally(harness.request_log(info))
                tasks = [task for name in names for task in harness.control(info, "GET", "/tasks", query=f"?tenant={name}")]
                closed_now = sum(1 for task in tasks if task.get("completionStatus") == "ERROR" and task.get("progress", "").startswith("Marked as stuck"))
                cpu = run["controller"]["cpu"] + run["workers"]["cpu"] + run["module_cpu"]
                figures = dict(
                    run_figures(run, counts),
                    closed=closed_now,
                    workers=run["workers"]["processes"],
                    worker_cpu_s=round(run["workers"]["cpu"], 2),
                    modules=len(run["modules"]),
                    cpu_s=round(cpu, 2),
                    module_cpu_per_run_s=round(run["module_cpu"] / max(len(run["modules"]), 1), 2),
                    emulator_cpu_s=round(run["emulator_cpu"], 2),
                    own_cpu_share=round(cpu / (run["wall"] * cores), 2),
                    machine_busy=round(run["machine_busy"], 2),
                    controller_cpu_share=round(run["controller"]["cpu"] / run["wall"], 2),
                )
                results[forks] = figures
                self.report.row(f"--forks {forks}", **figures)
                self.report.check(f"--forks {forks}: stuck tasks closed", closed_now, stuck * tenants, closed_now == stuck * tenants)
        self.report.current["figures"] = {str(forks): value for forks, value in results.items()}
        low, high = min(results), max(results)
        speedup = results[low]["wall_s"] / results[high]["wall_s"]
        self.report.check(f"--forks {low} / --forks {high} wall time", f"{speedup:.2f}x", "(stated)", None)
        busiest = results[high]
        share = (
            f"machine {busiest['machine_busy']:.0%} busy over {cores} cores, this run's processes {busiest['own_cpu_share']:.0%}, "
            f"controller {busiest['controller_cpu_share']:.0%} of one core, {busiest['module_cpu_per_run_s']} s CPU per module run"
        )
        modules_share = busiest["module_cpu_s"] / max(busiest["cpu_s"], 1e-9)
        if busiest["controller_cpu_share"] >= 0.9:
            verdict = "the controller's own CPU"
        elif busiest["machine_busy"] >= 0.85:
            verdict = f"the machine's CPU, {modules_share:.0%} of this run's share of it in module processes (Python and Ansible started for every module run)"
        else:
            verdict = "neither CPU nor memory: waiting (rate limit, network, Ansible's polling)"
        self.report.note(
            f"at --forks {high} the limit is {verdict} ({share}); controller peak {busiest['controller_MiB']} MiB, worker peak "
            f"{busiest['worker_MiB']} MiB each, {busiest['workers']} workers forked in all"
        )


def payload_bytes(info):
    """The bytes of every page of a full listing, as the API sends them (the result the memory is compared with)."""
    entry = harness.tenant(info)
    credentials = entry["clients"]["admin"]
    form = f"grant_type=client_credentials&client_id={credentials['client_id']}&client_secret={credentials['client_secret']}".encode()
    with urllib.request.urlopen(urllib.request.Request(entry["base_url"] + "/oauth/token", data=form), timeout=60) as response:
        token = json.loads(response.read())["access_token"]
    total, offset = 0, 0
    while True:
        request = urllib.request.Request(f"{entry['base_url']}/task-status/v1?limit={PAGE}&offset={offset}", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read()
        total += len(body)
        count = len(json.loads(body))
        offset += count
        if count < PAGE:
            return total


def sdk_list(info, count):
    env = dict(os.environ, **harness.connection_env(harness.tenant(info)))
    command = [sys.executable, str(harness.BENCH / "_sdk_list.py"), str(count)]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"the SDK script failed: {completed.stderr[-2000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if result["tasks"] != count:
        raise SystemExit(f"the SDK script read {result['tasks']} tasks, not {count}")
    return result


# ---- results


def markdown(results):
    machine = results["machine"]
    lines = [
        f"# sailpoint.isc request economy benchmarks: {results['label']}",
        "",
        f"Run {results['started']} ({results['size']} sizes, {results['seconds']:.0f} s), commit {machine['commit']}, command: `{results['command']}`",
        "",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM, {machine['platform']}; Python {machine['python']}, "
        f"ansible-core {machine['ansible_core']}, sailpoint SDK {machine['sailpoint_sdk']}, requests {machine['requests']}; "
        f"load average at start {', '.join(f'{value:.2f}' for value in machine['load_average'])}.",
        "",
        "Core options found: " + ", ".join(f"`{name}` {'yes' if present else 'no'}" for name, present in results["features"].items()) + ".",
        "",
        "Memory: module processes from wait4 (exact peak RSS); controller and workers from /proc VmHWM polled every 50 ms (a worker's RSS includes",
        "pages it shares with the controller it was forked from). Requests from the emulator's request log.",
    ]
    for scenario in results["scenarios"].values():
        lines += ["", f"## {scenario['title']}", "", f"Load average when it started: {scenario.get('load_average', 'not recorded')}.", ""]
        if scenario["rows"]:
            keys = []
            for row in scenario["rows"]:
                keys += [key for key in row if key not in keys]
            lines.append("| " + " | ".join(keys) + " |")
            lines.append("|" + " --- |" * len(keys))
            for row in scenario["rows"]:
                lines.append("| " + " | ".join(_show(row.get(key, "")) for key in keys) + " |")
        if scenario["checks"]:
            lines += ["", "| check | value | target | verdict |", "| --- | --- | --- | --- |"]
            lines += [f"| {check['check']} | {check['value']} | {check['target']} | {check['verdict']} |" for check in scenario["checks"]]
        for note in scenario["notes"]:
            lines += ["", f"Note: {note}"]
    return "\n".join(lines) + "\n"


def print_summary(results):
    print("\n=== summary: every check")
    for name, scenario in results["scenarios"].items():
        for check in scenario["checks"]:
            if check["verdict"] != "n/a":
                print(f"  {check['verdict']:<4} {name:<8} {check['check']}: {check['value']} (target {check['target']})")


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated names or numbers (default: all)")
    parser.add_argument("--quick", action="store_true", help="small sizes for development (figures are not comparable with the targets)")
    parser.add_argument("--clear-tasks", type=int, help="tasks cleared in scenarios 1-3")
    parser.add_argument("--uri-tasks", type=int, help="tasks of the uri loop in scenario 1 (its time is scaled to --clear-tasks)")
    parser.add_argument("--listing-sizes", help="comma-separated task counts of scenario 5")
    parser.add_argument("--stuck-tasks", type=int, help="stuck tasks of scenario 4")
    parser.add_argument("--fleet-tenants", type=int, help="tenants of scenario 7")
    parser.add_argument("--fleet-stuck", type=int, help="stuck tasks per tenant in scenario 7")
    parser.add_argument("--fleet-forks", help="comma-separated --forks values of scenario 7")
    parser.add_argument("--api-version", default="v1", help="api_version of the listing in scenario 5 (v1: the SDK's path)")
    parser.add_argument("--label", default="run", help="first part of the result files' names, e.g. before or after")
    parser.add_argument("--results", type=pathlib.Path, default=harness.BENCH / "results", help="folder of the result files")
    parser.add_argument("--baseline", help="an earlier result .json whose full listing is 'today' for the fields targets")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (playbooks, outputs, reports)")
    args = parser.parse_args()
    chosen = [NUMBERS.get(name.strip(), name.strip()) for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)} or 1-{len(SCENARIOS)}")
    args.chosen = [name for name in SCENARIOS if name in chosen]
    return args


def sizes_from(args):
    sizes = dict(QUICK if args.quick else FULL)
    for key, value in (
        ("clear", args.clear_tasks),
        ("uri", args.uri_tasks),
        ("stuck", args.stuck_tasks),
        ("tenants", args.fleet_tenants),
        ("fleet_stuck", args.fleet_stuck),
    ):
        if value is not None:
            sizes[key] = value
    if args.listing_sizes:
        sizes["listing"] = sorted(int(value) for value in args.listing_sizes.split(","))
    if args.fleet_forks:
        sizes["forks"] = [int(value) for value in args.fleet_forks.split(",")]
    sizes["uri"] = min(sizes["uri"], sizes["clear"])
    return sizes


def main():
    args = parse_args()
    sizes = sizes_from(args)
    features = harness.core_features()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="isc_bench_"))
    started, clock = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), time.perf_counter()
    results = {
        "label": args.label,
        "started": started,
        "size": "quick" if args.quick else "full",
        "sizes": sizes,
        "command": " ".join(["python", "benchmarks/request_economy.py", *sys.argv[1:]]),
        "machine": harness.machine(),
        "features": features,
    }
    print(f"machine: {json.dumps(results['machine'])}\ncore options: {features}\nsizes: {sizes}\nwork folder: {folder}")
    report = Report()
    bench = Bench(args, sizes, features, folder, report)
    try:
        single = [name for name in args.chosen if name != "fleet"]
        if single:
            with harness.Emulator(["--tasks", "20", "--pending", "0", "--stuck", "0"]) as info:
                for name in single:
                    getattr(bench, name.replace("-", "_"))(info)
        if "fleet" in args.chosen:
            bench.fleet(None)
    finally:
        results["scenarios"] = report.scenarios
        results["seconds"] = time.perf_counter() - clock
        args.results.mkdir(parents=True, exist_ok=True)
        stem = args.results / f"{args.label}-{started.replace(':', '').replace('-', '')}"
        stem.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
        stem.with_suffix(".md").write_text(markdown(results), encoding="utf-8")
        print(f"\nresults: {stem}.md and .json")
        if not args.keep:
            harness.clean(folder)
    print_summary(results)


if __name__ == "__main__":
    main()
