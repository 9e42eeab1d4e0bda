"""Time to clear N pending tasks with sailpoint.isc.task_status's service layer, concurrency 1 against 4.

Run from the collection root:
    python benchmarks/task_status_bulk.py [--tasks 200] [--concurrency 1,4] [--latency-ms 20] [--scenarios limited,unlimited]

It starts the ISC emulator as a subprocess and, for each scenario and concurrency, resets the tenant (which also
empties the emulator's rate-limit window, so no run pays for the one before it), inserts N pending tasks and calls
task_patch.run() directly with the real IscClient (one new client per run, as one module run would have).
Scenarios:
  limited    ISC's rate limit (100 requests per 10 s per client and API version) and the client as shipped: it paces
             itself to that limit with a window shared by its threads, and after a 429 holds every thread
  unpaced    the same rate limit, the client without its own window: only the shared hold after a 429 remains
  unlimited  no rate limit and no pacing, so the figures show what concurrency buys against per-request latency alone
Every request also waits --latency-ms in the emulator, standing in for the network distance to a tenant.
The figures end with one table that puts every scenario side by side.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
EMULATOR_ROOT = ROOT / "tests" / "emulator"
ID_FORMAT = "be0c{:028x}"
# scenario -> (the emulator's rate limit, whether the client paces itself to ISC's published limit)
SCENARIOS = {"limited": ("100/10", True), "unpaced": ("100/10", False), "unlimited": (None, False)}


def import_service_layer():
    """The plugins import each other as ansible_collections.sailpoint.isc.*: expose the checkout under that name."""
    tree = pathlib.Path(tempfile.mkdtemp(prefix="task_status_bench_"))
    (tree / "ansible_collections" / "sailpoint").mkdir(parents=True)
    (tree / "ansible_collections" / "sailpoint" / "isc").symlink_to(ROOT)
    sys.path.insert(0, str(tree))
    from ansible_collections.sailpoint.isc.plugins.module_utils import _client as client  # pylint: disable=import-outside-toplevel
    from ansible_collections.sailpoint.isc.plugins.module_utils import _task_patch as task_patch  # pylint: disable=import-outside-toplevel

    return task_patch, client


def start_emulator():
    command = [sys.executable, "-m", "isc_emulator", "serve", "--port", "0", "--tasks", "20"]
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_ROOT))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)  # pylint: disable=consider-using-with
    return process, json.loads(process.stdout.readline())


def control(info, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(info["control_url"] + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def prepare(info, ids, rate_limit, latency_ms):
    control(info, "POST", "/reset", {})
    # a reset restores the baseline faults, so the rate limit and the latency are set again after it
    control(info, "POST", "/faults", {"rate_limit": rate_limit or "off", "latency_ms": latency_ms})
    tasks = [{"id": task_id, "completionStatus": None, "completed": None, "progress": "Started", "percentComplete": 10} for task_id in ids]
    control(info, "POST", "/tasks", {"tasks": tasks})
    control(info, "DELETE", "/requests")


def clear(task_patch, client_module, info, ids, concurrency, pacing):
    admin = info["clients"]["admin"]
    warnings = []
    client = client_module.IscClient(
        info["base_url"],
        client_id=admin["client_id"],
        client_secret=admin["client_secret"],
        warn=warnings.append,
        rate_limit=client_module.RATE_LIMIT if pacing else None,
    )
    params = {
        "id": None,
        "ids": ids,
        "completion_status": "TERMINATED",
        "completed": "now",
        "progress": "Cleared by the benchmark",
        "percent_complete": None,
        "patch": None,
        "only_pending": True,
        "guard": True,
        "concurrency": concurrency,
    }
    started = time.perf_counter()
    result = task_patch.run(client, params, check_mode=False, diff=False)
    elapsed = time.perf_counter() - started
    requests = control(info, "GET", "/requests")
    if result["failed_ids"] or sum(1 for task in result["tasks"] if task["completionStatus"] == "TERMINATED") != len(ids):
        raise SystemExit(f"the run did not clear every task: {result.get('msg')}")
    return {
        "seconds": elapsed,
        "requests": len(requests),
        "throttled": sum(1 for entry in requests if entry["status"] == 429),
        "tokens": sum(1 for entry in requests if entry["path"].endswith("/oauth/token")),
    }


def run_scenario(task_patch, client_module, info, name, ids, concurrencies, latency_ms):
    rate_limit, pacing = SCENARIOS[name]
    figures = {}
    for concurrency in concurrencies:
        prepare(info, ids, rate_limit, latency_ms)
        figures[concurrency] = clear(task_patch, client_module, info, ids, concurrency, pacing)
    print_table(name, figures, len(ids))
    return figures


def print_table(name, figures, count):
    base = figures[min(figures)]["seconds"]
    print(f"\n{name}: clear {count} pending tasks (GET + guarded PATCH each)")
    print(f"  {'concurrency':>11} {'seconds':>9} {'tasks/s':>8} {'requests':>9} {'429s':>5} {'tokens':>6} {'speed-up':>9}")
    for concurrency, figure in figures.items():
        print(
            f"  {concurrency:>11} {figure['seconds']:>9.2f} {count / figure['seconds']:>8.1f} {figure['requests']:>9} "
            f"{figure['throttled']:>5} {figure['tokens']:>6} {base / figure['seconds']:>8.2f}x"
        )


def print_side_by_side(results):
    """One row per concurrency, one column group (seconds, 429s) per scenario."""
    names = list(results)
    print("\nside by side: seconds (429s)")
    print(f"  {'concurrency':>11} " + " ".join(f"{name:>16}" for name in names))
    for concurrency in results[names[0]]:
        cells = (f"{results[name][concurrency]['seconds']:.2f} ({results[name][concurrency]['throttled']})" for name in names)
        print(f"  {concurrency:>11} " + " ".join(f"{cell:>16}" for cell in cells))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--concurrency", default="1,4", help="comma-separated concurrencies to compare")
    parser.add_argument("--latency-ms", type=int, default=20, help="delay the emulator adds to every API request")
    parser.add_argument("--scenarios", default="limited,unlimited", help=f"comma-separated, of {', '.join(SCENARIOS)}")
    args = parser.parse_args()
    concurrencies = [int(value) for value in args.concurrency.split(",")]
    chosen = [name for name in args.scenarios.split(",") if name]
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    task_patch, client_module = import_service_layer()
    ids = [ID_FORMAT.format(index) for index in range(args.tasks)]
    process, info = start_emulator()
    try:
        print(f"emulator at {info['base_url']}, {args.latency_ms} ms added to every API request, Python {sys.version.split()[0]}")
        results = {name: run_scenario(task_patch, client_module, info, name, ids, concurrencies, args.latency_ms) for name in chosen}
    finally:
        process.terminate()
        process.wait(timeout=10)
    print_side_by_side(results)
    low, high = min(concurrencies), max(concurrencies)
    print(
        "\nsummary: "
        + "; ".join(
            f"{name}: {figures[low]['seconds']:.1f}s at {low}, {figures[high]['seconds']:.1f}s at {high}, "
            f"ratio {figures[low]['seconds'] / figures[high]['seconds']:.2f}"
            for name, figures in results.items()
        )
    )


if __name__ == "__main__":
    main()
