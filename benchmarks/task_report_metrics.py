"""The task_report role's prom format on a large tenant: requests, series and file size, as whole ansible-playbook runs.

Run from the collection root:
    python benchmarks/task_report_metrics.py [--completed 10000] [--pending 1000]

A tenant with that many completed and pending tasks (half the pending ones stuck) is reported twice with the same
reads, task_report_max_tasks raised to hold every completed task: once with json, md and html, once with prom added.
The emulator's request log of each run shows that the metrics cost no request; the metrics file's series are counted
against task_report_metrics_max_series (the documented bound) and checked with `promtool check metrics` when it is
installed.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import harness  # noqa: E402  pylint: disable=wrong-import-position

FORMATS = ["json", "md", "html"]
# the role's default; the bound is on the task and source families, the report's own eight series come on top
MAX_SERIES = 2000
OWN_SERIES = 8


def run_report(info, folder, formats, completed):
    folder.mkdir(parents=True)
    inventory = harness.write_inventory(folder, [harness.tenant(info)])
    harness.control(info, "DELETE", "/requests")
    variables = {
        "task_report_dir": str(folder / "reports"),
        "task_report_formats": formats,
        "task_report_max_tasks": completed,
        "task_report_source_health": "never",
        "task_report_api_usage": "never",
        "task_report_metrics_max_series": MAX_SERIES,
    }
    run = harness.run_playbook("sailpoint.isc.task_report", folder, inventory=inventory, extra_vars=variables)
    return run, harness.tally(harness.request_log(info))


def series(text):
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--completed", type=int, default=10000)
    parser.add_argument("--pending", type=int, default=1000)
    arguments = parser.parse_args()
    folder = pathlib.Path(tempfile.mkdtemp(prefix="isc_bench_metrics_"))
    try:
        # many sources, so that the cap has work to do: the emulator spreads aggregations over its sources
        with harness.Emulator(["--tenants", "bench", "--tasks", 10, "--rate-limit", "off"]) as info:
            stuck = arguments.pending // 2
            harness.prepare(info, "bench", tasks=arguments.completed + arguments.pending, pending=arguments.pending - stuck, stuck=stuck, rate_limit="off")
            without, without_requests = run_report(info, folder / "without", FORMATS, arguments.completed)
            with_prom, with_requests = run_report(info, folder / "with", FORMATS + ["prom"], arguments.completed)
        metrics = folder / "with" / "reports" / "bench.prom"
        text = metrics.read_text(encoding="utf-8")
        samples = series(text)
        promtool = shutil.which("promtool")
        checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False) if promtool else None
        print(f"tenant: {arguments.completed} completed and {arguments.pending} pending tasks ({stuck} stuck)")
        print(f"requests, json+md+html:      {without_requests['total']} ({without_requests['token']} token, {without_requests['reads']} reads)")
        print(f"requests, json+md+html+prom: {with_requests['total']} ({with_requests['token']} token, {with_requests['reads']} reads)")
        print(f"extra requests for prom:     {with_requests['total'] - without_requests['total']}")
        print(f"wall, without / with prom:   {without['wall']:.1f} s / {with_prom['wall']:.1f} s")
        print(f"metrics file:                {len(text.encode('utf-8'))} bytes, {len(samples)} series")
        print(f"bound:                       {MAX_SERIES} task and source series (task_report_metrics_max_series) + {OWN_SERIES} of the report's own")
        dropped = [line for line in samples if line.startswith("sailpoint_isc_metrics_series_dropped")]
        print(f"series merged by the cap:    {dropped[0].rsplit(' ', 1)[1] if dropped else 'n/a'}")
        print(
            f"promtool check metrics:      {('ok' if checked.returncode == 0 else 'FAILED ' + checked.stdout + checked.stderr) if checked else 'not installed'}"
        )
        ok = with_requests["total"] == without_requests["total"] and len(samples) <= MAX_SERIES + OWN_SERIES and (checked is None or checked.returncode == 0)
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
