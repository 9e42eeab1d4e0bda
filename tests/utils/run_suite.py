"""Run the stages of `make test`, a few side by side, and print one summary.

Each stage is a Makefile target with its own copy of the collection, so stages do not share files. Its whole
output goes to build/logs/<stage>.log; the console gets a line per stage as it ends, with what it counted
(tests, targets, files) and, when it failed, the end of its log. A failed stage does not stop the others, so
one run shows every problem. The last line is the plain
`suite: N passed, N failed` that CI reads; the exit status is non-zero when any stage failed.
"""

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

TAIL_LINES_ON_FAILURE = 150


@dataclass
class StageResult:
    name: str
    status: str
    seconds: float
    counts: str


def pytest_counts(log: str) -> str:
    summaries = re.findall(r"^=*\s*((?:\d+ (?:passed|failed|errors?|skipped|xfailed|xpassed|warnings?|deselected)(?:, )?)+|no tests ran) in [\d.]+s", log, re.M)
    return "; ".join(summaries) if summaries else ""


def junit_counts(report: Path) -> str:
    """What pytest counted, from its own JUnit XML report rather than from its console."""
    if not report.is_file():
        return ""
    root = ElementTree.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    totals = {key: sum(int(suite.get(key, 0)) for suite in suites) for key in ("tests", "failures", "errors", "skipped")}
    passed = totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"]
    return f"{passed} passed, {totals['failures']} failed, {totals['errors']} errors, {totals['skipped']} skipped"


def sanity_counts(log: str) -> str:
    tests = re.findall(r"^Running sanity test [\"']([\w-]+)[\"']", log, re.M)
    skipped = re.findall(r"^WARNING: Skipping sanity test [\"']([\w-]+)[\"']", log, re.M)
    failed = re.search(r"The (\d+) sanity test\(s\) listed below", log)
    text = f"{len(tests)} sanity tests run"
    if skipped:
        text += f", {len(skipped)} skipped ({', '.join(sorted(set(skipped)))})"
    if failed:
        text += f", {failed.group(1)} failed"
    return text


def integration_counts(log: str) -> str:
    targets = re.findall(r"^Running (\S+) integration test role", log, re.M)
    recaps = re.findall(r"ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", log)
    tasks = sum(int(ok) for ok, _changed, _unreachable, _failed in recaps)
    return f"{len(targets)} targets ({', '.join(targets)}), {tasks} tasks ok"


def lint_counts(log: str) -> str:
    match = re.search(r"(Passed|Failed): (\d+) failure\(s\), (\d+) warning\(s\).*?in (\d+) files", log)
    if not match:
        return ""
    return f"{match.group(4)} files, {match.group(2)} failures, {match.group(3)} warnings"


def molecule_counts(log: str) -> str:
    steps = re.findall(r"\[([\w-]+) > ([\w-]+)\] Executed: Successful", log)
    scenarios = sorted({scenario for scenario, _step in steps})
    return f"{len(scenarios)} scenarios ({', '.join(scenarios)}), {len(steps)} steps passed"


def check_counts(log: str) -> str:
    checks = re.findall(r"^CHECK ok: (.*)$", log, re.M)
    skipped = re.findall(r"^CHECK skipped: (.*)$", log, re.M)
    text = f"{len(checks)} checks ok"
    if skipped:
        text += f", skipped: {'; '.join(skipped)}"
    return text


def changelog_counts(log: str) -> str:
    fragments = len(list(Path("changelogs/fragments").glob("*.y*ml")))
    return f"{fragments} fragments linted" if "ERROR" not in log else ""


COUNTERS = {
    "sanity": sanity_counts,
    "units": pytest_counts,
    "hostile": check_counts,
    "integration": integration_counts,
    "lint": lint_counts,
    "changelog-lint": changelog_counts,
    "molecule": molecule_counts,
    "package": check_counts,
    "oldest-core": lambda log: f"units: {pytest_counts(log)}; {check_counts(log)}",
    "eda": lambda log: f"{pytest_counts(log)}; {check_counts(log)}",
    "newest-core": lambda log: f"{sanity_counts(log)}; units: {pytest_counts(log)}" if "CHECK skipped" not in log else check_counts(log),
}
# Stages whose pytest writes a JUnit XML report (--junitxml=$(JUNIT) in the Makefile): counted from the report.
JUNIT_STAGES = ("emulator-tests", "hostile", "browser-tests", "monitoring")


def run_stage(name: str, log_dir: Path, console: threading.Lock) -> StageResult:
    log_path = log_dir / f"{name}.log"
    started = time.monotonic()
    with console:
        print(f"--- {name} started (log: {log_path})", flush=True)
    junit = (log_dir / f"{name}.junit.xml").resolve()
    junit.unlink(missing_ok=True)
    with log_path.open("w", encoding="utf-8") as log_file:
        command = ["make", "--no-print-directory", name, f"JUNIT={junit}"]
        process = subprocess.run(command, stdout=log_file, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - started
    log = log_path.read_text(encoding="utf-8", errors="replace")
    counts = COUNTERS.get(name, check_counts)(log)
    if name in JUNIT_STAGES:
        counts = "; ".join(part for part in (junit_counts(junit), counts if name == "hostile" else "") if part)
    status = "passed" if process.returncode == 0 else "FAILED"
    with console:
        if process.returncode != 0:
            print("\n".join(log.splitlines()[-TAIL_LINES_ON_FAILURE:]))
        print(f"--- {name}: {status} in {seconds:.0f}s: {counts}", flush=True)
    return StageResult(name, status, seconds, counts)


def print_summary(results: list, wall_seconds: float) -> None:
    width = max(len(result.name) for result in results)
    print("\n=== summary")
    for result in sorted(results, key=lambda item: -item.seconds):
        print(f"{result.name:<{width}}  {result.status:<6}  {result.seconds:6.0f}s  {result.counts}")
    passed = sum(result.status == "passed" for result in results)
    total = sum(result.seconds for result in results)
    print(f"stages took {total:.0f}s in all, {wall_seconds:.0f}s of wall time (slowest first above)")
    print(f"suite: {passed} passed, {len(results) - passed} failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("stages", nargs="+")
    parser.add_argument("--log-dir", default="build/logs")
    parser.add_argument("--jobs", type=int, default=1, help="how many stages run at once")
    args = parser.parse_args()
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PY_COLORS", "0")
    console = threading.Lock()
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda stage: run_stage(stage, log_dir, console), args.stages))
    print_summary(results, time.monotonic() - started)
    return 0 if all(result.status == "passed" for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
