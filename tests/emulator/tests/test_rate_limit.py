"""The gateway's rate limit: per client_id and API version, a sliding window, Retry-After; on a clock the tests move."""

import contextlib

import pytest
from emulator_helpers import running_emulator

from isc_emulator import faults

VERSIONS = ("beta", "v2024", "v2025", "v2026", "v1")


class Clock:
    """The rate limiter's clock: it stands still unless a test moves it, however slow the machine is."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@contextlib.contextmanager
def limited(rate_limit, **settings):
    with running_emulator(rate_limit=rate_limit, **settings) as emu:
        clock = Clock()
        for tenant in emu.emulator.tenants.values():
            tenant.limiter = faults.RateLimiter(clock)
        yield emu, clock


def test_over_the_limit_is_429_with_retry_after():
    with limited((5, 2.0)) as (emu, clock):
        admin = emu.api()
        assert [admin.get("v2025", limit=1).status_code for _index in range(5)] == [200] * 5
        clock.now += 0.5
        refused = admin.get("v2025", limit=1)
        assert refused.status_code == 429 and refused.json() == {"message": " Rate Limit Exceeded "}
        # The oldest request leaves the window 1.5 s from now: Retry-After rounds up to whole seconds.
        assert refused.headers["Retry-After"] == "2"
        clock.now += 1.49
        assert admin.get("v2025", limit=1).status_code == 429
        clock.now += 0.01
        assert admin.get("v2025", limit=1).status_code == 200
        assert [entry["fault"] for entry in emu.control("GET", "requests") if entry["status"] == 429] == ["rate_limit", "rate_limit"]


def test_limit_is_per_client_and_version():
    with limited((3, 10.0)) as (emu, _clock):
        admin, helpdesk = emu.api("admin"), emu.api("helpdesk")
        assert [admin.get("beta", limit=1).status_code for _index in range(4)] == [200, 200, 200, 429]
        assert admin.get("v2025", limit=1).status_code == 200
        assert helpdesk.get("beta", limit=1).status_code == 200


def test_two_tokens_of_one_client_share_its_limit():
    """Counted by client_id, not by token: a client cannot get around the limit by fetching new tokens."""
    with limited((3, 10.0)) as (emu, _clock):
        first, second = emu.api(), emu.api()
        assert first.token != second.token
        assert [client.get("beta", limit=1).status_code for client in (first, second, first, second)] == [200, 200, 200, 429]


def test_versions_are_counted_apart_even_v1_and_v2026():
    with limited((1, 10.0)) as (emu, _clock):
        admin = emu.api()
        assert [admin.get(version, limit=1).status_code for version in VERSIONS] == [200] * 5
        assert [admin.get(version, limit=1).status_code for version in VERSIONS] == [429] * 5


def test_tenants_are_counted_apart():
    with limited((1, 10.0), tenants=("acme", "globex")) as (emu, _clock):
        assert emu.api().get("beta", limit=1).status_code == 200
        assert emu.api(tenant="globex").get("beta", limit=1).status_code == 200
        assert emu.api().get("beta", limit=1).status_code == 429


def test_the_token_endpoint_is_not_counted():
    with limited((1, 10.0)) as (emu, _clock):
        assert len({emu.token() for _index in range(5)}) == 5


def test_limit_set_and_lifted_through_control():
    with limited(None) as (emu, _clock):
        admin = emu.api()
        assert all(admin.get("beta", limit=1).status_code == 200 for _index in range(120))
        emu.control("POST", "faults", {"rate_limit": "2/10"})
        assert [admin.get("beta", limit=1).status_code for _index in range(3)] == [200, 200, 429]
        emu.control("POST", "faults", {"rate_limit": "off"})
        assert admin.get("beta", limit=1).status_code == 200
        # Leaving rate_limit out of a later call falls back to the command line's setting (here: off).
        emu.control("POST", "faults", {"rate_limit": "1/10"})
        assert emu.control("POST", "faults", {"fault_rate": 0})["rate_limit"] == "off"


def test_a_custom_window_slides():
    with limited(None) as (emu, clock):
        emu.control("POST", "faults", {"rate_limit": "3/0.5"})
        admin = emu.api()
        assert [admin.get("beta", limit=0).status_code for _index in range(4)] == [200, 200, 200, 429]
        clock.now += 0.5
        assert [admin.get("beta", limit=0).status_code for _index in range(4)] == [200, 200, 200, 429]


def test_default_limit_is_100_per_10_seconds():
    with limited((100, 10.0)) as (emu, clock):
        admin = emu.api()
        statuses = [admin.get("beta", limit=0).status_code for _index in range(101)]
        assert statuses.count(200) == 100 and statuses[-1] == 429
        clock.now += 10
        assert admin.get("beta", limit=0).status_code == 200


@pytest.mark.parametrize("text, limit", (("7/3", (7, 3.0)), ("250/0.5", (250, 0.5)), (" OFF ", None), ("off", None)))
def test_custom_limits_are_parsed(emu, text, limit):
    assert faults.parse_rate_limit(text) == limit
    assert emu.control("POST", "faults", {"rate_limit": text})["rate_limit"] == faults.format_rate_limit(limit)


@pytest.mark.parametrize("text", ("0/10", "10/0", "-1/5", "10", "ten/10", "10/nan", "10/inf", ""))
def test_bad_limits_are_refused(emu, text):
    reply = emu.session.post(emu.control_url + "/faults", json={"rate_limit": text})
    assert reply.status_code == 400 and "rate limit" in reply.json()["messages"][0]["text"]
