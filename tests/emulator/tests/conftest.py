import pathlib
import sys

import pytest

# The emulator is its own package beside this folder; tests import it without installing it.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from emulator_helpers import running_emulator  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def emu():
    with running_emulator() as running:
        yield running


@pytest.fixture
def admin(emu):
    return emu.api("admin")
