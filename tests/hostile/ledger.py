# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the suite saw, kept for the reliability table and the hostile-input summary printed at its end."""

from __future__ import annotations

import dataclasses

# the table reads from what users give to what servers answer, then TLS, then faults
ORDER = ("hostile inputs", "hostile server", "TLS", "fault injection")
COUNTED = ("faults_injected", "tasks_targeted", "tasks_correct", "leaks_found", "bad_inputs_tried", "clear_errors", "tracebacks")
COLUMNS = ("scenario", "runs", "faults injected", "tasks targeted", "tasks correct", "leaks found", "bad inputs tried", "clear errors", "tracebacks")


@dataclasses.dataclass
class Row:
    scenario: str
    runs: int = 0
    faults_injected: int = 0
    tasks_targeted: int = 0
    tasks_correct: int = 0
    leaks_found: int = 0
    bad_inputs_tried: int = 0
    clear_errors: int = 0
    tracebacks: int = 0
    # checks of this scenario that found a defect (not a column: the findings list says what they were)
    failed_checks: int = 0

    def record(self, runs: int = 1, **counts) -> None:
        """Add one check's figures: ``runs`` and any of the counting fields by name (booleans count as 0 or 1)."""
        self.runs += int(runs)
        for name, value in counts.items():
            if name not in COUNTED:
                raise TypeError(f"{name} is not a column of the reliability table")
            setattr(self, name, getattr(self, name) + int(value))

    def cells(self) -> list[str]:
        values = (
            self.runs,
            self.faults_injected,
            self.tasks_targeted,
            self.tasks_correct,
            self.leaks_found,
            self.bad_inputs_tried,
            self.clear_errors,
            self.tracebacks,
        )
        return [self.scenario] + [str(value) for value in values]


@dataclasses.dataclass
class InputSummary:
    """Module inputs: how each was met."""

    tried: int = 0
    refused_naming_option: int = 0
    refused_without_naming: int = 0
    accepted: int = 0
    failed_on_answer: int = 0
    tracebacks: int = 0
    runaways: int = 0
    requests_for_local_errors: int = 0
    missed_refusals: int = 0


class Ledger:
    def __init__(self):
        self.rows: dict[str, Row] = {}
        self.inputs: dict[str, InputSummary] = {}
        self.notes: list[str] = []
        # (where, problems, what happened): every defect found, printed together at the end for whoever fixes them
        self.findings: list[tuple[str, list, str]] = []

    def found(self, where: str, problems: list, description: str = "", scenario: str | None = None) -> str:
        """Record the problems of one check (of ``scenario``); returns the text for the test's assertion message."""
        if problems:
            self.findings.append((where, list(problems), description))
            if scenario is not None:
                self.row(scenario).failed_checks += 1
        return "\n".join(problems) + ("\n" + description if description else "")

    def row(self, scenario: str) -> Row:
        return self.rows.setdefault(scenario, Row(scenario))

    def summary(self, source: str) -> InputSummary:
        return self.inputs.setdefault(source, InputSummary())

    def table(self) -> list[str]:
        ordered = sorted(
            self.rows.values(), key=lambda row: next((number for number, prefix in enumerate(ORDER) if row.scenario.startswith(prefix)), len(ORDER))
        )
        rows = [list(COLUMNS)] + [row.cells() for row in ordered]
        widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS))]
        lines = []
        for number, row in enumerate(rows):
            lines.append("  ".join(cell.ljust(width) if index == 0 else cell.rjust(width) for index, (cell, width) in enumerate(zip(row, widths))))
            if number == 0:
                lines.append("  ".join("-" * width for width in widths))
        return lines


LEDGER = Ledger()
