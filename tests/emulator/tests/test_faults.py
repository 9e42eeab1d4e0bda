import pytest
import requests
from emulator_helpers import running_emulator


@pytest.mark.parametrize("status", (500, 502, 503))
def test_injected_server_errors(emu, admin, status):
    emu.control("POST", "faults", {"fault_rate": 1, "statuses": [status]})
    reply = admin.get("v2025", limit=1)
    assert reply.status_code == status and reply.json()["detailCode"].startswith(str(status))


def test_injected_429_has_retry_after(emu, admin):
    emu.control("POST", "faults", {"fault_rate": 1, "statuses": [429], "retry_after": 3})
    reply = admin.get("beta", limit=1)
    assert reply.status_code == 429 and reply.headers["Retry-After"] == "3"
    assert reply.json() == {"message": " Rate Limit Exceeded "}


def test_fault_rate_is_a_share_and_a_seed_repeats_it(emu, admin):
    def statuses():
        emu.control("POST", "faults", {"fault_rate": 0.3, "statuses": [503, 502], "fault_seed": 11})
        return [admin.get("beta", limit=1).status_code for _index in range(100)]

    first = statuses()
    assert first == statuses()
    assert 10 <= first.count(503) + first.count(502) <= 50 and set(first) == {200, 502, 503}


def test_empty_faults_clear_them(emu, admin):
    emu.control("POST", "faults", {"fault_rate": 1})
    emu.control("POST", "faults", {})
    assert all(admin.get("beta", limit=1).status_code == 200 for _index in range(20))


def test_dropped_connection(emu, admin):
    emu.control("POST", "faults", {"drop_rate": 1})
    with pytest.raises(requests.ConnectionError):
        admin.get("beta", limit=1)
    assert emu.control("GET", "requests")[-1]["fault"] == "drop"


def test_latency(emu, admin):
    waited = []
    emu.emulator.sleep = waited.append
    emu.control("POST", "faults", {"latency_ms": 300})
    assert admin.get("beta", limit=1).status_code == 200
    emu.token()
    assert waited == [0.3]


def test_require_experimental_header(emu, admin):
    emu.control("POST", "faults", {"require_experimental": True})
    refused = admin.get("v2025", limit=1)
    assert refused.status_code == 400 and "X-SailPoint-Experimental" in refused.json()["messages"][0]["text"]
    assert admin.session.get(admin.url("v2025"), params={"limit": 1}, headers={"X-SailPoint-Experimental": "true"}).status_code == 200
    assert admin.get("beta", limit=1).status_code == 200


def test_experimental_header_accepted_everywhere(admin):
    for version in ("beta", "v2024", "v2025", "v2026", "v1"):
        assert admin.session.get(admin.url(version), params={"limit": 1}, headers={"X-SailPoint-Experimental": "true"}).status_code == 200


@pytest.mark.parametrize("bad", ({"fault_rate": 2}, {"statuses": [404]}, {"rate_limit": "fast"}, {"colour": "red"}, {"latency_ms": -1}))
def test_bad_fault_settings_are_400(emu, bad):
    assert emu.session.post(emu.control_url + "/faults", json=bad).status_code == 400


def test_faults_are_per_tenant():
    with running_emulator(tenants=("acme", "globex")) as emu:
        emu.control("POST", "faults", {"tenant": "globex", "fault_rate": 1, "statuses": [500]})
        assert emu.api().get("beta", limit=1).status_code == 200
        assert emu.api(tenant="globex").get("beta", limit=1).status_code == 500
