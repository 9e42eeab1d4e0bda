"""Where the time of a large task_status_info listing goes: the module in-process under cProfile, then the
whole ansible-playbook run with its controller, worker and module processes measured and profiled apart.

Run from the collection root:
    python benchmarks/profile_listing.py [--tasks 10000] [--api-version v1] [--top 25] [--out DIR]

It starts the emulator with --rate-limit off (the pacing is not what is profiled), then:
  1. runs the module's main() in this process under cProfile (the module's own CPU: HTTP, JSON, redaction,
     Ansible's exit_json with its no_log scan and its JSON encoding) and prints the top functions;
  2. runs the same listing as an ansible-playbook run whose controller and forked worker are each profiled
     (cProfile dumped per process into --out), with the module's Python wrapped so that its wall time, CPU time
     and peak memory come from wait4(); the rest of the run's wall time is Ansible on the controller side.
"""

import argparse
import cProfile
import io
import json
import pathlib
import pstats
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import harness  # noqa: E402  pylint: disable=wrong-import-position


def profile_in_process(info, args, out):
    harness.expose_collection()
    from ansible.module_utils import basic  # pylint: disable=import-outside-toplevel

    from ansible_collections.sailpoint.isc.plugins.modules import task_status_info  # pylint: disable=import-outside-toplevel

    module_args = dict(harness.connection_args(info, args.api_version), scope="all")
    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": module_args}).encode()  # pylint: disable=protected-access
    basic._ANSIBLE_PROFILE = "legacy"  # pylint: disable=protected-access
    captured = io.StringIO()
    profiler = cProfile.Profile()
    stdout, sys.stdout = sys.stdout, captured
    started = time.perf_counter()
    try:
        profiler.runcall(task_status_info.main)
    except SystemExit:
        pass
    finally:
        sys.stdout = stdout
    elapsed = time.perf_counter() - started
    output = captured.getvalue()
    result = json.loads(output[output.index("{") :])
    profile_path = out / "module-in-process.prof"
    profiler.dump_stats(profile_path)
    print(f"\n== 1. module main() in-process: {len(result['tasks'])} tasks, {elapsed:.2f}s wall, result JSON {len(output) / 2**20:.1f} MiB")
    print_top(profile_path, args.top)
    return elapsed


def stage_timings(info, args):
    """The module's stages timed apart, without a profiler's overhead: fetch and decode, the collection's redaction
    walk, Ansible's no_log walk (remove_values) and its JSON encoding; and what redacting each page's raw text
    instead of every decoded string would cost."""
    # pylint: disable=import-outside-toplevel
    from ansible.module_utils.common import json as ansible_json
    from ansible.module_utils.common.parameters import remove_values

    from ansible_collections.sailpoint.isc.plugins.module_utils import _connection

    params = harness.connection_args(info, args.api_version)
    client = _connection.client_from_params(dict(params, validate_certs=True, timeout=30.0, retries=5))
    timings = {}
    started = time.perf_counter()
    tasks = list(client.iter_tasks(None, None, None, "list"))
    timings["fetch pages, decode JSON (requests, json)"] = time.perf_counter() - started
    started = time.perf_counter()
    result = client.redactor.data({"tasks": tasks})
    timings["collection: Redactor.data walk over the result"] = time.perf_counter() - started
    started = time.perf_counter()
    result = remove_values(result, [params["client_secret"]])
    timings["Ansible: remove_values (no_log) walk in exit_json"] = time.perf_counter() - started
    encoder = ansible_json.get_module_encoder("legacy", ansible_json.Direction.MODULE_TO_CONTROLLER)
    started = time.perf_counter()
    encoded = json.dumps(result, cls=encoder)
    timings["Ansible: json.dumps with the module encoder"] = time.perf_counter() - started
    started = time.perf_counter()
    json.dumps(result)
    timings["(for comparison) plain json.dumps"] = time.perf_counter() - started
    bodies = []
    for offset in range(0, len(tasks), 250):
        bodies.append(client.request("GET", client.version.collection, params={"limit": 250, "offset": offset}).text)
    started = time.perf_counter()
    for body in bodies:
        client.redactor.text(body)
    timings["(alternative) Redactor.text over each page's raw body"] = time.perf_counter() - started
    print(f"\n== stage timings, no profiler: {len(tasks)} tasks, result JSON {len(encoded) / 2**20:.1f} MiB")
    for name, seconds in timings.items():
        print(f"  {seconds:7.3f}s  {name}")
    return timings


def print_top(path, top):
    for sort in ("tottime", "cumulative"):
        text = io.StringIO()
        stats = pstats.Stats(str(path), stream=text)
        stats.strip_dirs().sort_stats(sort).print_stats(top)
        lines = text.getvalue().splitlines()
        start = next(index for index, line in enumerate(lines) if "ncalls" in line)
        print(f"-- top {top} by {sort} ({path.name})")
        print("\n".join(lines[start - 2 : start + top + 1]))


def measure_playbook(info, args, out):
    """The same listing as whole runs without any profiler, and with max_results: 1 for the fixed costs."""
    env = harness.connection_env(harness.tenant(info))
    runs = {}
    for label, extra in (("max_results: 1 (fixed costs)", {"max_results": 1}), (f"all {args.tasks} tasks", {})):
        playbook = harness.write_playbook(
            out,
            "measure.yml",
            [{"name": "list", "sailpoint.isc.task_status_info": dict(scope="all", api_version=args.api_version, **extra), "register": "listed"}],
        )
        runs[label] = run = harness.run_playbook(playbook, out, env=env)
        print(f"\n== ansible-playbook, no profiler, {label}: {run['wall']:.2f}s wall")
        print(harness.describe_processes(run))
    return runs


def profile_playbook(info, args, out):
    playbook = harness.write_playbook(
        out,
        "list.yml",
        [{"name": "list", "sailpoint.isc.task_status_info": {"scope": "all", "api_version": args.api_version}, "register": "listed"}],
    )
    for stale in out.glob("ansible-*.prof"):
        stale.unlink()
    run = harness.run_playbook(playbook, out, profile_dir=out, env=harness.connection_env(harness.tenant(info)))
    print(f"\n== 2. ansible-playbook run: {run['wall']:.2f}s wall")
    print(harness.describe_processes(run))
    for path in sorted(out.glob("ansible-*.prof")):
        print_top(path, args.top)
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10000)
    parser.add_argument("--api-version", default="v1")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=pathlib.Path, default=None, help="where the .prof files go (default: a temporary folder)")
    args = parser.parse_args()
    out = args.out or pathlib.Path(tempfile.mkdtemp(prefix="profile_listing_"))
    out.mkdir(parents=True, exist_ok=True)
    with harness.Emulator(["--tasks", str(args.tasks), "--pending", "0", "--stuck", "0", "--rate-limit", "off"]) as info:
        print(f"emulator: {args.tasks} tasks, rate limit off; profiles in {out}")
        profile_in_process(info, args, out)
        stage_timings(info, args)
        measure_playbook(info, args, out)
        profile_playbook(info, args, out)


if __name__ == "__main__":
    main()
