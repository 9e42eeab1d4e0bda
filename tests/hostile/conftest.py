# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hostile suite's fixtures, and the summary and reliability table printed at its end (make hostile)."""

from __future__ import annotations

import pathlib

import pytest
from hypothesis import Phase, settings

from ansible_collections.sailpoint.isc.tests.hostile.emulator import running_emulator
from ansible_collections.sailpoint.isc.tests.hostile.harness import install_network_guard
from ansible_collections.sailpoint.isc.tests.hostile.ledger import LEDGER

# Deterministic: the same examples on every run and machine, no example database, no deadline (make test runs
# stages side by side on two cores; what these properties check is behaviour, not speed).
# The explain phase re-runs failing examples under a tracer, which costs more than the search itself here.
settings.register_profile(
    "hostile",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
)
settings.load_profile("hostile")

COLLECTION = pathlib.Path(__file__).resolve().parents[2]


def pytest_configure(config):
    del config
    install_network_guard()


@pytest.fixture(scope="session")
def collections_path() -> str:
    """The folder holding ansible_collections/sailpoint/isc, for ansible-playbook's ANSIBLE_COLLECTIONS_PATH."""
    if COLLECTION.parent.parent.name != "ansible_collections":
        pytest.fail(f"run this suite from a collection tree (make hostile), not from {COLLECTION}")
    return str(COLLECTION.parent.parent.parent)


@pytest.fixture(scope="session")
def emulator():
    with running_emulator(tenants=("acme", "globex"), tasks=20) as running:
        yield running


def _summary_lines():
    lines = []
    for source, summary in LEDGER.inputs.items():
        what = "variable" if "role" in source else "option"
        lines.append(
            f"{source}: {summary.tried} inputs tried, {summary.refused_naming_option} refused naming the {what}, "
            f"{summary.refused_without_naming} refused without naming it, {summary.accepted} accepted, "
            f"{summary.failed_on_answer} failed on an answer, {summary.tracebacks} tracebacks, {summary.runaways} runaways, "
            f"{summary.missed_refusals} wrong values accepted, {summary.requests_for_local_errors} requests sent for locally knowable errors"
        )
    return lines


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    del exitstatus, config
    if not LEDGER.rows and not LEDGER.inputs:
        return
    write = terminalreporter.write_line
    terminalreporter.section("hostile inputs")
    for line in _summary_lines():
        write(line)
    if LEDGER.findings:
        terminalreporter.section(f"hostile findings ({len(LEDGER.findings)})")
        for where, problems, description in LEDGER.findings:
            if len(problems) == 1:
                write(f"* {where}: {problems[0]}")
            else:
                write(f"* {where}:")
                for problem in problems:
                    write(f"  - {problem}")
            for line in description.splitlines():
                write(f"    {line}")
    terminalreporter.section("reliability")
    for line in LEDGER.table():
        write(line)
    for note in LEDGER.notes:
        write(note)
    # lines counted by tests/utils/run_suite.py; printed only for what holds
    for source, summary in LEDGER.inputs.items():
        clean = not (summary.tracebacks or summary.runaways or summary.requests_for_local_errors or summary.refused_without_naming or summary.missed_refusals)
        if summary.tried and clean and not LEDGER.row(source).failed_checks:
            write(f"CHECK ok: {source}: {summary.tried} inputs, every refusal names its option, 0 tracebacks, 0 requests for local errors")
    for row in LEDGER.rows.values():
        if row.runs and not row.failed_checks and not row.tracebacks and not row.leaks_found and row.tasks_correct == row.tasks_targeted:
            write(f"CHECK ok: {row.scenario}: {row.runs} runs, 0 tracebacks, 0 leaks, {row.tasks_correct}/{row.tasks_targeted} correct")
