import pathlib
import sys

import pytest
from hypothesis import settings

# make test runs stages side by side on a small machine, and a test's first example also builds the filter
# grammar: what these properties check is meaning, not speed, so no example has a deadline.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

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
