# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the unit tests: a scripted ISC on 127.0.0.1 (see plugins/fake_isc.py) and clients for it."""

from __future__ import annotations

import pytest
from hypothesis import settings

# make test runs stages side by side on a small machine, and a test's first example also builds the filter
# grammar: what these properties check is meaning, not speed, so no example has a deadline.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

from ansible_collections.sailpoint.isc.plugins.module_utils._client import IscClient
from ansible_collections.sailpoint.isc.tests.unit.plugins.fake_isc import FAKE_SECRET, FakeClock, FakeIsc, serve


@pytest.fixture
def fake_isc():
    """A FakeIsc served on 127.0.0.1 for the duration of one test."""
    fake = FakeIsc()
    server = serve(fake)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_client(fake_isc):
    """A factory of IscClients for the fake tenant that record warnings, and sleep on a FakeClock unless told."""

    def factory(**kwargs):
        warnings, clock = [], FakeClock()
        options = {
            "client_id": "cid",
            "client_secret": FAKE_SECRET,
            "api_version": "beta",
            "retries": 3,
            "warn": warnings.append,
            "sleep": clock.sleep,
            "clock": clock,
            "timeout": 5,
        }
        options.update(kwargs)
        client = IscClient(fake_isc.url, **options)
        client.warnings, client.sleeps, client.fake_clock = warnings, clock.sleeps, clock
        return client

    return factory


@pytest.fixture
def fake_secret():
    return FAKE_SECRET
