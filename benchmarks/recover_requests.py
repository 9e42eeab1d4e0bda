"""What the aggregation recovery costs in requests: the runbook sailpoint.isc.recover_stuck_aggregations against a
tenant with S stuck sources and T stuck tasks among P pending tasks, counted from the emulator's request log and set
beside the formula the role is built to:

    tokens (one per module run: 4 + L launches + R polls)
    + ceil(P/250) pending reads + 1 read of the stuck sources' latest tasks + ceil(S/125) source reads
    + T PATCH + L x (1 source read + 1 pending read + 1 launch) + R x ceil(L/100) polls

L is the number of sources and kinds relaunched (one per source and kind), R the number of poll rounds. Every
relaunch is completed by the emulator as soon as it is launched (its auto-completion), so one round suffices.

    python benchmarks/recover_requests.py [--sources S] [--tasks-per-source N] [--pending P]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile

from harness import ROOT, Emulator, connection_env, control, request_log, run_playbook, tenant

PAGE, SOURCE_BATCH, POLL_BATCH = 250, 125, 100


def seed(info, sources: int, per_source: int, pending: int) -> int:
    """S sources, each with N stuck account aggregations; the tenant's other pending tasks; the stuck count."""
    control(info, "POST", "/reset", {"tasks": 40 + pending, "pending": pending, "stuck": 0})
    for number in range(sources):
        source_id = f"0d{number:030x}"
        control(info, "POST", "/sources", {"id": source_id, "name": f"Source {number}"})
        control(info, "POST", f"/sources/{source_id}/auto-complete", {"status": "SUCCESS", "after_reads": 0})
        control(info, "POST", f"/sources/{source_id}/stuck", {"kind": "accounts", "count": per_source, "hours": 7})
    control(info, "DELETE", "/requests")
    return sources * per_source


def classify(log) -> dict:
    counts = {"token": 0, "pending": 0, "recent": 0, "sources": 0, "patch": 0, "source": 0, "launch": 0, "poll": 0, "other": 0}
    launched = False
    for entry in log:
        path, query = entry["path"], entry["query"]
        if path.endswith("/oauth/token"):
            kind = "token"
        elif entry["method"] == "PATCH":
            kind = "patch"
        elif entry["method"] == "POST":
            kind, launched = "launch", True
        elif path.endswith("/sources"):
            kind = "sources"
        elif "/sources/" in path:
            kind = "source"
        elif path.endswith("/pending-tasks"):
            # the role's own listing comes first; after it, each launch reads the source's pending aggregations
            kind = "pending" if counts["sources"] == 0 and not launched and counts["recent"] == 0 else "source"
        elif query.startswith("filters=id") and "/task-status" in path:
            kind = "poll"
        elif "sourceId" in query:
            kind = "recent"
        else:
            kind = "other"
        counts[kind] += 1
    counts["total"] = len(log)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=3)
    parser.add_argument("--tasks-per-source", type=int, default=2)
    parser.add_argument("--pending", type=int, default=5)
    options = parser.parse_args()
    with Emulator(["--tasks", "40", "--stuck", "0"]) as info:
        stuck = seed(info, options.sources, options.tasks_per_source, options.pending)
        pending = stuck + options.pending
        with tempfile.TemporaryDirectory() as folder:
            run = run_playbook(
                ROOT / "playbooks" / "recover_stuck_aggregations.yml",
                folder,
                env=connection_env(tenant(info)),
                extra_vars={"recover_aggregations_report_enabled": False, "recover_aggregations_max_sources": options.sources},
            )
        counts = classify(request_log(info))
    launches, rounds = options.sources, counts["poll"] // math.ceil(options.sources / POLL_BATCH)
    expected = {
        "token": 4 + launches + rounds,
        "pending": math.ceil(pending / PAGE),
        "recent": 1,
        "sources": math.ceil(options.sources / SOURCE_BATCH),
        "patch": stuck,
        "source": 2 * launches,
        "launch": launches,
        "poll": rounds * math.ceil(launches / POLL_BATCH),
    }
    print(f"S={options.sources} stuck sources, T={stuck} stuck tasks, P={pending} pending tasks, L={launches} relaunches, R={rounds} poll rounds")
    print(f"{'requests':<34}{'formula':>8}{'measured':>10}")
    labels = {
        "token": "tokens (one per module run)",
        "pending": "pending reads, ceil(P/250)",
        "recent": "latest tasks of the stuck sources",
        "sources": "source reads, ceil(S/125)",
        "patch": "PATCH, T",
        "source": "reads by the launches, 2L",
        "launch": "launches, L",
        "poll": "polls, R x ceil(L/100)",
    }
    for key, label in labels.items():
        print(f"{label:<34}{expected[key]:>8}{counts[key]:>10}")
    print(f"{'total':<34}{sum(expected.values()):>8}{counts['total']:>10}   (other: {counts['other']}; {run['wall']:.1f}s wall)")
    if any(counts[key] != expected[key] for key in expected) or counts["other"]:
        sys.exit("the measured requests differ from the formula")


if __name__ == "__main__":
    main()
