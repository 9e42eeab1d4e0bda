# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A shared host: whatever lies where the modules keep their rate window between runs.

Two kinds of attack. Hostile contents in the user's own private folder (a FIFO, links to /dev/zero or to a file to
overwrite, 100,000 ``[``, a 400-digit number): each run must finish in its normal time with at most a warning, the
next run too, and leave a regular file of mode 0600 in a folder of mode 0700, the victim untouched. And another user
(nobody, through setpriv, when this suite runs as root) planting in the shared temporary folder, where a user
without a usable home or runtime folder falls back: the planted folder is refused and no link is followed.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils._pacing import PaceFile
from ansible_collections.sailpoint.isc.plugins.module_utils._private_files import FOLDER_NAME
from ansible_collections.sailpoint.isc.tests.hostile.harness import run_module
from ansible_collections.sailpoint.isc.tests.hostile.ledger import LEDGER

SCENARIO = "shared host: pacing state attacks"
NOBODY = 65534
# far beyond a normal run (about a second); only a run waiting on a FIFO or reading /dev/zero gets there
GUARD_SECONDS = 60
PRECIOUS = "precious contents\n"


def _plant_fifo(path, _victim):
    os.mkfifo(path)


def _plant_dev_zero(path, _victim):
    os.symlink("/dev/zero", path)


def _plant_victim_link(path, victim):
    os.symlink(victim, path)


def _plant_brackets(path, _victim):
    with open(path, "w", encoding="ascii") as handle:
        handle.write("[" * 100_000)


def _plant_huge_number(path, _victim):
    with open(path, "w", encoding="ascii") as handle:
        handle.write("[" + "7" * 400 + "]")


ATTACKS = {
    "fifo": _plant_fifo,
    "link-to-dev-zero": _plant_dev_zero,
    "link-to-a-victim": _plant_victim_link,
    "100000-brackets": _plant_brackets,
    "400-digit-number": _plant_huge_number,
}


def _pace_name(connection) -> str:
    return PaceFile(connection["base_url"], connection["client_id"], "beta").name


def _window_warnings(observation) -> list[str]:
    # ansible-core 2.19 returns each warning as a summary object, older ones as text
    texts = [warning if isinstance(warning, str) else json.dumps(warning) for warning in observation.result.get("warnings") or []]
    return [text for text in texts if "rate window" in text]


def _run(connection, env):
    return run_module("task_status_info", dict(connection, scope="completed", count=True), env=env, check_mode=True, guard_seconds=GUARD_SECONDS)


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_contents_at_the_window_cost_a_warning_at_most(attack, emulator, tmp_path):
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text(PRECIOUS, encoding="ascii")
    connection = emulator.connection()
    folder = runtime / FOLDER_NAME
    folder.mkdir(mode=0o700)
    target = folder / _pace_name(connection)
    ATTACKS[attack](str(target), str(victim))
    env = {"XDG_RUNTIME_DIR": str(runtime)}
    first = _run(connection, env)
    second = _run(connection, env)
    problems = []
    for number, observation in enumerate((first, second), 1):
        if observation.outcome != "accepted":
            problems.append(f"run {number}: {observation.outcome}: {observation.msg[:300]}")
    if len(_window_warnings(first)) != 1:
        problems.append(f"run 1 must warn once that it ignored and replaced the window, got {_window_warnings(first)}")
    if _window_warnings(second):
        problems.append(f"run 2 still warned, the window was not replaced: {_window_warnings(second)}")
    if victim.read_text(encoding="ascii") != PRECIOUS:
        problems.append("the file a link pointed to was overwritten")
    problems += _private(folder, target)
    LEDGER.row(SCENARIO).record(
        runs=2,
        bad_inputs_tried=1,
        clear_errors=not problems,
        tracebacks=sum(observation.outcome in ("traceback", "runaway") for observation in (first, second)),
    )
    assert not problems, LEDGER.found(f"pacing state: {attack}", problems, first.describe() + "\n" + second.describe(), SCENARIO)


def _private(folder, target) -> list[str]:
    problems = []
    status = os.lstat(folder)
    if not stat.S_ISDIR(status.st_mode) or stat.S_IMODE(status.st_mode) != 0o700 or status.st_uid != os.geteuid():
        problems.append(f"the state folder is not a folder of mode 0700 owned by the user: {stat.filemode(status.st_mode)} uid {status.st_uid}")
    status = os.lstat(target)
    if not stat.S_ISREG(status.st_mode) or stat.S_IMODE(status.st_mode) != 0o600 or status.st_uid != os.geteuid():
        problems.append(f"the window is not a regular file of mode 0600 owned by the user: {stat.filemode(status.st_mode)} uid {status.st_uid}")
    left = sorted(name for name in os.listdir(folder) if name != target.name)
    if left:
        problems.append(f"files left behind: {left}")
    return problems


PLANT_AS_NOBODY = """
import os, sys
shared, name, victim, elsewhere = sys.argv[1:]
# where an old version kept the window, and the per-user fallback folder of the user under attack
os.symlink(victim, os.path.join(shared, name))
planted = os.path.join(shared, "sailpoint-isc-0")
os.mkdir(planted)
os.chmod(planted, 0o777)
os.symlink(victim, os.path.join(planted, name))
os.mkfifo(os.path.join(planted, name + ".fifo"))
os.symlink(elsewhere, os.path.join(shared, "sailpoint-isc-link"))
"""


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv to act as another user")
def test_another_users_plants_in_the_shared_temporary_folder_are_refused(emulator, tmp_path, monkeypatch):
    shared = tempfile.mkdtemp(prefix="sailpoint-isc-hostile-")
    try:
        os.chmod(shared, 0o1777)
        victim = tmp_path / "victim"
        victim.write_text(PRECIOUS, encoding="ascii")
        connection = emulator.connection()
        name = _pace_name(connection)
        planted = subprocess.run(
            [
                "setpriv",
                f"--reuid={NOBODY}",
                f"--regid={NOBODY}",
                "--clear-groups",
                sys.executable,
                "-c",
                PLANT_AS_NOBODY,
                shared,
                name,
                str(victim),
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert planted.returncode == 0, planted.stderr
        before = {entry: os.lstat(os.path.join(shared, entry)).st_uid for entry in os.listdir(shared)}
        # no runtime folder and no home: the per-user folder in the temporary folder is all that is left
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
        monkeypatch.setattr(tempfile, "tempdir", shared)
        observation = _run(connection, {"HOME": str(tmp_path / "no-home")})
        problems = []
        if observation.outcome != "accepted":
            problems.append(f"{observation.outcome}: {observation.msg[:300]}")
        warnings = _window_warnings(observation)
        if len(warnings) != 2 or not all("another user" in warning for warning in warnings):
            problems.append(f"expected a warning at load and at save naming the folder of another user, got {warnings}")
        if victim.read_text(encoding="ascii") != PRECIOUS:
            problems.append("the file a planted link pointed to was overwritten")
        after = {entry: os.lstat(os.path.join(shared, entry)).st_uid for entry in os.listdir(shared)}
        if after != before:
            problems.append(f"the run changed the shared folder: {before} -> {after}")
        if os.path.exists(tmp_path / "no-home"):
            problems.append("the run made up a home folder")
        LEDGER.row(SCENARIO).record(bad_inputs_tried=1, clear_errors=not problems, tracebacks=observation.outcome in ("traceback", "runaway"))
        assert not problems, LEDGER.found("pacing state: another user's plants", problems, observation.describe(), SCENARIO)
    finally:
        shutil.rmtree(shared)
