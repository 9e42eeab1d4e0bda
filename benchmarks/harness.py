"""What the benchmarks share: the emulator as a subprocess, the collection importable and installed for
ansible-playbook without a build, and ansible-playbook runs measured per process (controller, workers, modules).

Measurements of an ansible-playbook run:
- the module processes: the play's ansible_python_interpreter is a wrapper that forks the real interpreter and
  records its wall time, CPU time and peak RSS from wait4(), one JSON line per module run (exact);
- the controller and its forked workers: /proc polled every POLL_SECONDS for each process's peak RSS (VmHWM, a
  high-water mark the kernel keeps, so no peak is missed) and CPU time (the last sample before it exits, so up
  to one interval short). A worker is forked from the controller: its RSS counts the pages it still shares
  with the controller.
Credentials travel in the environment (SAIL_*) or in a 0600 inventory under the run's temporary folder; no
secret is written into a result.
"""

from __future__ import annotations

import json
import os
import pathlib
import platform
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from importlib import metadata

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
EMULATOR_ROOT = ROOT / "tests" / "emulator"
POLL_SECONDS = 0.05
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE_BYTES = os.sysconf("SC_PAGE_SIZE")
MIB = 2**20

_TREE: list[pathlib.Path] = []


# ---- the emulator


class Emulator:
    """``with Emulator([...serve options]) as info``: the emulator's JSON line, with the process stopped on exit."""

    def __init__(self, serve_args):
        self.serve_args = [str(arg) for arg in serve_args]
        self.process = None
        self.log = None

    def __enter__(self):
        command = [sys.executable, "-m", "isc_emulator", "serve", "--port", "0", *self.serve_args]
        env = dict(os.environ, PYTHONPATH=str(EMULATOR_ROOT))
        self.log = tempfile.TemporaryFile()  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, env=env, text=True)  # pylint: disable=consider-using-with
        line = self.process.stdout.readline()
        if not line:
            self.log.seek(0)
            raise SystemExit(f"the emulator did not start: {self.log.read().decode(errors='replace')[-2000:]}")
        info = json.loads(line)
        info["pid"] = self.process.pid
        return info

    def __exit__(self, *_exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def control(info, method, path, body=None, query=""):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(info["control_url"] + path + query, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read() or b"null")


def tenant(info, name=None):
    """One tenant of the emulator's JSON line (the first by default), with its admin client."""
    tenants = info.get("tenants") or [{"name": None, "base_url": info["base_url"], "clients": info["clients"]}]
    chosen = tenants[0] if name is None else next(entry for entry in tenants if entry["name"] == name)
    return chosen


def prepare(info, name=None, tasks=None, pending=0, stuck=0, rate_limit="100/10", token_ttl=750, insert=None):
    """Reseed a tenant, set its rate limit, insert tasks, and empty the request log."""
    reset = {"pending": pending, "stuck": stuck}
    if name:
        reset["tenant"] = name
    if tasks is not None:
        reset["tasks"] = tasks
    control(info, "POST", "/reset", reset)
    # a reset restores the baseline faults: the limit and the token lifetime are set after it
    control(info, "POST", "/faults", dict({"tenant": name} if name else {}, rate_limit=rate_limit, token_ttl=token_ttl))
    for start in range(0, len(insert or ()), 5000):
        control(info, "POST", "/tasks", dict({"tenant": name} if name else {}, tasks=insert[start : start + 5000]))
    control(info, "DELETE", "/requests")


def iso_ago(seconds):
    """An ISC timestamp ``seconds`` before now (tasks older than 90 days are hidden, so benchmarks use recent ones)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() - seconds))


def pending_tasks(ids, started=None):
    """Pending TaskStatus records for ``ids``, launched a day ago (stuck by the runbook's default threshold)."""
    started = started or iso_ago(86400)
    return [
        {"id": task_id, "completionStatus": None, "completed": None, "progress": "Started", "percentComplete": 10, "created": started, "launched": started}
        for task_id in ids
    ]


def request_log(info, name=None):
    query = f"?tenant={name}" if name else ""
    return control(info, "GET", "/requests", query=query)


def tally(log):
    """Requests by kind: token, get (one task by id), list (pages, pending-tasks included), head, patch, other."""
    counts = {"total": len(log), "token": 0, "get": 0, "list": 0, "head": 0, "patch": 0, "other": 0, "429": 0, "errors": 0}
    for entry in log:
        path = entry["path"].rstrip("/")
        if path.endswith("/oauth/token"):
            kind = "token"
        elif entry["method"] == "PATCH":
            kind = "patch"
        elif entry["method"] == "HEAD":
            kind = "head"
        elif entry["method"] == "GET" and (path.endswith("/task-status") or path.endswith("/task-status/v1") or path.endswith("/pending-tasks")):
            kind = "list"
        elif entry["method"] == "GET":
            kind = "get"
        else:
            kind = "other"
        counts[kind] += 1
        counts["429"] += entry["status"] == 429
        counts["errors"] += entry["status"] >= 400
    counts["reads"] = counts["get"] + counts["list"] + counts["head"]
    return counts


# ---- the collection


def expose_collection() -> pathlib.Path:
    """A folder holding ansible_collections/sailpoint/isc as a link to this checkout, importable and searchable."""
    if not _TREE:
        tree = pathlib.Path(tempfile.mkdtemp(prefix="isc_bench_collections_"))
        (tree / "ansible_collections" / "sailpoint").mkdir(parents=True)
        (tree / "ansible_collections" / "sailpoint" / "isc").symlink_to(ROOT)
        sys.path.insert(0, str(tree))
        _TREE.append(tree)
    return _TREE[0]


def core_features() -> dict:
    """Which options of the core this checkout offers; a scenario that needs a missing one says so."""
    expose_collection()
    # pylint: disable=import-outside-toplevel
    from ansible_collections.sailpoint.isc.plugins.module_utils import _connection
    from ansible_collections.sailpoint.isc.plugins.modules import task_status, task_status_info

    connection = _connection.argument_spec()
    return {
        "rate_limit": "rate_limit" in connection,
        "fields": "fields" in task_status_info.argument_spec(),
        "tasks": "tasks" in task_status.argument_spec(),
    }


def connection_env(entry, api_version=None, client="admin"):
    """The SAIL_* variables the modules fall back to, for one tenant."""
    credentials = entry["clients"][client]
    env = {"SAIL_BASE_URL": entry["base_url"], "SAIL_CLIENT_ID": credentials["client_id"], "SAIL_CLIENT_SECRET": credentials["client_secret"]}
    return env


def connection_args(info, api_version="v1", client="admin"):
    """Connection options of a module run in-process (no environment to fall back to there)."""
    entry = tenant(info)
    credentials = entry["clients"][client]
    return {"base_url": entry["base_url"], "client_id": credentials["client_id"], "client_secret": credentials["client_secret"], "api_version": api_version}


# ---- ansible-playbook runs


def write_playbook(folder, name, tasks, hosts="localhost", **play):
    """A one-play playbook (JSON is YAML) running ``tasks`` on the controller."""
    path = pathlib.Path(folder) / name
    path.write_text(json.dumps([dict({"name": name, "hosts": hosts, "connection": "local", "gather_facts": False}, **play, tasks=tasks)], indent=1))
    return path


def write_inventory(folder, tenants, api_version=None):
    """An inventory whose group isc_tenants holds one host per tenant, its connection in host variables (0600)."""
    hosts = {}
    for entry in tenants:
        credentials = entry["clients"]["admin"]
        hosts[entry["name"]] = {
            "isc_base_url": entry["base_url"],
            "isc_client_id": credentials["client_id"],
            "isc_client_secret": credentials["client_secret"],
            **({"isc_api_version": api_version} if api_version else {}),
        }
    path = pathlib.Path(folder) / "inventory.json"
    path.touch(mode=0o600)
    path.write_text(json.dumps({"isc_tenants": {"hosts": hosts}}))
    return path


MODULE_WRAPPER = """#!{python}
# The play's Python for modules: runs the real interpreter and appends its rusage to $BENCH_MODULE_LOG.
import json, os, sys, time
started = time.perf_counter()
child = os.fork()
if child == 0:
    os.execv({python!r}, [{python!r}, *sys.argv[1:]])
_pid, status, usage = os.wait4(child, 0)
with open(os.environ["BENCH_MODULE_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({{"argv": sys.argv[1:2], "wall": time.perf_counter() - started, "cpu": usage.ru_utime + usage.ru_stime,
                          "user": usage.ru_utime, "system": usage.ru_stime, "peak_rss": usage.ru_maxrss * 1024}}) + "\\n")
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def module_python(folder) -> pathlib.Path:
    path = pathlib.Path(folder) / "module-python"
    path.write_text(MODULE_WRAPPER.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


class ProcessTree(threading.Thread):
    """Polls /proc for the descendants of ``root``: peak RSS and CPU seconds per process, and its role."""

    def __init__(self, root):
        super().__init__(daemon=True)
        self.root = root
        self.done = threading.Event()
        self.seen = {}  # pid -> {"role", "parent", "peak_rss", "cpu", "name"}

    def run(self):
        while not self.done.is_set():
            self.sample()
            self.done.wait(POLL_SECONDS)

    def stop(self):
        self.done.set()
        self.join()

    def sample(self):
        parents = {}
        stats = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", encoding="utf-8") as handle:
                    text = handle.read()
            except OSError:
                continue
            # the command name sits in parentheses and may hold spaces; the fields after it are fixed
            head, _paren, rest = text.rpartition(")")
            fields = rest.split()
            pid = int(name)
            parents[pid] = int(fields[1])
            stats[pid] = (head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
        for pid, (command, cpu) in stats.items():
            role = self._role(pid, parents)
            if role is None:
                continue
            peak = _peak_rss(pid)
            entry = self.seen.setdefault(pid, {"role": role, "name": command, "peak_rss": 0, "cpu": 0.0})
            entry["cpu"] = max(entry["cpu"], cpu)
            entry["peak_rss"] = max(entry["peak_rss"], peak)

    def _role(self, pid, parents):
        chain = []
        current = pid
        while current not in (0, 1, self.root) and current in parents and len(chain) < 64:
            chain.append(current)
            current = parents[current]
        if current != self.root:
            return None
        # the controller's children are its forked workers; whatever a worker starts serves a module run
        return {0: "controller", 1: "worker"}.get(len(chain), "module")

    def summary(self):
        roles = {}
        for entry in self.seen.values():
            role = roles.setdefault(entry["role"], {"processes": 0, "peak_rss": 0, "cpu": 0.0})
            role["processes"] += 1
            role["peak_rss"] = max(role["peak_rss"], entry["peak_rss"])
            role["cpu"] += entry["cpu"]
        return roles


def machine_cpu():
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat (every process, other users' too)."""
    with open("/proc/stat", encoding="utf-8") as handle:
        values = [int(value) for value in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


def process_cpu(pid):
    """CPU seconds ``pid`` has used so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            fields = handle.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _peak_rss(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


_RUNS = [0]


def run_playbook(playbook, folder, *, inventory="localhost,", forks=None, extra_vars=None, env=None, profile_dir=None, check=False, argv=(), emulator_pid=None):
    """One ansible-playbook run, measured; raises SystemExit with its output when it fails."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _RUNS[0] += 1
    module_log = folder / f"modules-{os.getpid()}-{_RUNS[0]}.jsonl"
    module_log.unlink(missing_ok=True)
    variables = dict(extra_vars or {}, ansible_python_interpreter=str(module_python(folder)))
    command = [sys.executable, str(BENCH / "_ansible_playbook.py"), "-i", str(inventory), str(playbook), "-e", json.dumps(variables), *argv]
    if forks:
        command += ["--forks", str(forks)]
    if check:
        command.append("--check")
    environment = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(expose_collection()),
        ANSIBLE_HOME=str(folder / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(folder / "ansible-tmp"),
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        BENCH_MODULE_LOG=str(module_log),
        **(env or {}),
    )
    if profile_dir:
        environment["BENCH_PROFILE_DIR"] = str(profile_dir)
    output = folder / f"ansible-{_RUNS[0]}.out"
    with output.open("w", encoding="utf-8") as handle:
        busy_before, total_before = machine_cpu()
        emulator_before = process_cpu(emulator_pid) if emulator_pid else 0.0
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=environment, cwd=folder)  # pylint: disable=consider-using-with
        tree = ProcessTree(process.pid)
        tree.start()
        _pid, status, _usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        tree.stop()
        busy_after, total_after = machine_cpu()
        emulator_cpu = process_cpu(emulator_pid) - emulator_before if emulator_pid else None
    text = output.read_text(encoding="utf-8")
    if process.returncode != 0:
        raise SystemExit(f"ansible-playbook {playbook} failed ({process.returncode}):\n{text[-4000:]}")
    modules = [json.loads(line) for line in module_log.read_text(encoding="utf-8").splitlines()] if module_log.exists() else []
    processes = tree.summary()
    return {
        "wall": wall,
        "output": text,
        "modules": modules,
        "module_wall": sum(module["wall"] for module in modules),
        "module_cpu": sum(module["cpu"] for module in modules),
        "module_peak_rss": max((module["peak_rss"] for module in modules), default=0),
        "controller": processes.get("controller", {"processes": 0, "peak_rss": 0, "cpu": 0.0}),
        "workers": processes.get("worker", {"processes": 0, "peak_rss": 0, "cpu": 0.0}),
        "module_side": processes.get("module", {"processes": 0, "peak_rss": 0, "cpu": 0.0}),
        # the share of all the machine's cores that was busy (anyone's processes), and the emulator's CPU seconds
        "machine_busy": (busy_after - busy_before) / max(total_after - total_before, 1e-9),
        "emulator_cpu": emulator_cpu,
    }


def describe_processes(run):
    modules = run["modules"]
    lines = [
        f"  module processes: {len(modules)}, wall {run['module_wall']:.2f}s, CPU {run['module_cpu']:.2f}s, "
        f"peak RSS {run['module_peak_rss'] / MIB:.0f} MiB (wait4)",
        f"  controller: CPU {run['controller']['cpu']:.2f}s, peak RSS {run['controller']['peak_rss'] / MIB:.0f} MiB (/proc)",
        f"  workers: {run['workers']['processes']}, CPU {run['workers']['cpu']:.2f}s in all, peak RSS {run['workers']['peak_rss'] / MIB:.0f} MiB (/proc)",
        f"  outside the module processes: {run['wall'] - run['module_wall']:.2f}s of {run['wall']:.2f}s wall",
    ]
    return "\n".join(lines)


# ---- the machine


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="utf-8") as handle:
        memory = next(int(line.split()[1]) * 1024 for line in handle if line.startswith("MemTotal:"))
    versions = {}
    for package in ("ansible-core", "sailpoint", "requests"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "plugins", "roles", "playbooks"], capture_output=True, text=True, check=False
        ).stdout.strip()
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(memory / 2**30, 1),
        "python": platform.python_version(),
        "ansible_core": versions["ansible-core"],
        "sailpoint_sdk": versions["sailpoint"],
        "requests": versions["requests"],
        "platform": platform.platform(),
        "load_average": os.getloadavg(),
        "commit": commit + ("+dirty" if dirty else ""),
    }


def clean(folder):
    shutil.rmtree(folder, ignore_errors=True)
