# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rate window kept between module runs: a private folder, files never followed, waited on or trusted."""

from __future__ import annotations

import os
import stat
import tempfile
import threading

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils import _private_files
from ansible_collections.sailpoint.isc.plugins.module_utils._pacing import MAX_PACE_BYTES, PaceFile, parse_starts
from ansible_collections.sailpoint.isc.plugins.module_utils._private_files import UnsafeFileError, private_folder
from ansible_collections.sailpoint.isc.tests.unit.plugins.fake_isc import FakeClock

OTHER_USER = 65534


def _finished(work, *args):
    """``work(*args)`` in a thread; whether it returned at all (a FIFO or a device would hold it forever)."""
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("value", work(*args)), daemon=True)
    thread.start()
    thread.join(30)
    assert not thread.is_alive(), f"{work.__name__} did not return"
    return outcome["value"]


def _pace(folder):
    return PaceFile("https://acme.example", "cid", "beta", folder=str(folder))


def _plant_fifo(path):
    os.mkfifo(path)


def _plant_dev_zero(path):
    os.symlink("/dev/zero", path)


def _plant_brackets(path):
    with open(path, "w", encoding="ascii") as handle:
        handle.write("[" * 100_000)


def _plant_huge_number(path):
    with open(path, "w", encoding="ascii") as handle:
        handle.write("[" + "9" * 400 + "]")


def _plant_huge_exponent(path):
    with open(path, "w", encoding="ascii") as handle:
        handle.write("[1e999]")


def _plant_folder(path):
    os.mkdir(path)
    with open(os.path.join(path, "inside"), "w", encoding="ascii") as handle:
        handle.write("x")


def _plant_oversized(path):
    with open(path, "wb") as handle:
        handle.truncate(MAX_PACE_BYTES + 1)


PLANTED = [_plant_fifo, _plant_dev_zero, _plant_brackets, _plant_huge_number, _plant_huge_exponent, _plant_folder, _plant_oversized]


@pytest.mark.parametrize("plant", PLANTED, ids=lambda plant: plant.__name__[len("_plant_") :])
def test_whatever_is_planted_at_the_window_is_ignored_with_a_warning_and_replaced(tmp_path, plant):
    pace = _pace(tmp_path)
    plant(pace.path)
    warnings = []
    assert _finished(pace.load, FakeClock(), warnings.append) == []
    assert len(warnings) == 1 and "ignored the rate window" in warnings[0]
    _finished(pace.save, [100.0, 101.0], FakeClock(), warnings.append)
    if plant is _plant_folder:
        # a folder cannot be renamed over: the save is given up, and nothing is left behind
        assert len(warnings) == 2 and "could not save" in warnings[1]
    else:
        assert len(warnings) == 1
        status = os.lstat(pace.path)
        assert stat.S_ISREG(status.st_mode) and stat.S_IMODE(status.st_mode) == 0o600 and status.st_uid == os.geteuid()
        later = []
        assert len(_finished(pace.load, FakeClock(), later.append)) == 2 and later == []
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []


def test_a_link_at_the_window_is_never_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious", encoding="ascii")
    folder = tmp_path / "state"
    folder.mkdir(mode=0o700)
    pace = _pace(folder)
    os.symlink(victim, pace.path)
    warnings = []
    assert pace.load(FakeClock(), warnings.append) == [] and "symbolic link" in warnings[0]
    pace.save([1.0], FakeClock(), warnings.append)
    assert victim.read_text(encoding="ascii") == "precious"
    assert not os.path.islink(pace.path)


def test_the_folder_and_the_file_are_the_users_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    pace = PaceFile("https://acme.example", "cid", "beta")
    pace.save([1.0], FakeClock())
    folder = os.lstat(tmp_path / _private_files.FOLDER_NAME)
    assert stat.S_ISDIR(folder.st_mode) and stat.S_IMODE(folder.st_mode) == 0o700 and folder.st_uid == os.geteuid()
    assert os.path.dirname(pace.path) == str(tmp_path / _private_files.FOLDER_NAME)
    assert stat.S_IMODE(os.lstat(pace.path).st_mode) == 0o600


def test_a_folder_readable_by_others_is_made_private(tmp_path):
    folder = tmp_path / "state"
    folder.mkdir()
    folder.chmod(0o755)
    _path, descriptor = private_folder(str(folder))
    os.close(descriptor)
    assert stat.S_IMODE(os.lstat(folder).st_mode) == 0o700


def _refused(tmp_path, make):
    folder = tmp_path / "state"
    make(folder)
    with pytest.raises(UnsafeFileError):
        private_folder(str(folder))
    warnings = []
    _pace(folder).save([1.0], FakeClock(), warnings.append)
    assert warnings and "no private folder" in warnings[0]


def test_a_folder_others_may_write_in_is_refused(tmp_path):
    def make(folder):
        folder.mkdir()
        folder.chmod(0o777)

    _refused(tmp_path, make)


def test_a_link_in_place_of_the_folder_is_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    _refused(tmp_path, lambda folder: folder.symlink_to(target))
    assert list(target.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a folder to another user")
def test_a_folder_of_another_user_is_refused(tmp_path):
    def make(folder):
        folder.mkdir(mode=0o700)
        os.chown(folder, OTHER_USER, OTHER_USER)

    _refused(tmp_path, make)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_file_of_another_user_is_not_read(tmp_path):
    pace = _pace(tmp_path)
    pace.save([1.0], FakeClock())
    os.chown(pace.path, OTHER_USER, OTHER_USER)
    warnings = []
    assert pace.load(FakeClock(), warnings.append) == [] and "another user" in warnings[0]


def test_an_unusable_place_falls_through_to_the_next(tmp_path, monkeypatch):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    (runtime / _private_files.FOLDER_NAME).symlink_to(tmp_path)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path, descriptor = private_folder()
    os.close(descriptor)
    assert path == str(tmp_path / "home" / ".ansible" / _private_files.FOLDER_NAME)


def test_a_home_that_does_not_exist_is_not_made_up(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "no-home"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path, descriptor = private_folder()
    os.close(descriptor)
    assert path == str(tmp_path / f"{_private_files.FOLDER_NAME}-{os.geteuid()}")
    assert not (tmp_path / "no-home").exists()


@pytest.mark.parametrize("text", ["[]", "[1765000000.25, 1765000001]", " [ -1 , 2e3 ] \n"])
def test_a_saved_window_is_read(text):
    assert parse_starts(text.encode()) == [float(number) for number in text.strip(" []\n").replace(" ", "").split(",") if number]


@pytest.mark.parametrize("text", ["[" * 100_000, "[" + "9" * 400 + "]", "[1e999]", "[[1]]", '["1"]', "{}", "[1,]", "nan", "[NaN]", "[Infinity]"])
def test_a_saved_window_that_is_not_a_list_of_numbers_is_refused_without_recursion_or_overflow(text):
    with pytest.raises(ValueError):
        parse_starts(text.encode())
