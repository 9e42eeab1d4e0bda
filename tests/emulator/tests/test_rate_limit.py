import time

from emulator_helpers import running_emulator


def test_over_the_limit_is_429_with_retry_after():
    with running_emulator(rate_limit=(5, 2.0)) as emu:
        admin = emu.api()
        assert [admin.get("v2025", limit=1).status_code for _index in range(5)] == [200] * 5
        refused = admin.get("v2025", limit=1)
        assert refused.status_code == 429 and refused.json() == {"message": " Rate Limit Exceeded "}
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 2
        time.sleep(wait)
        assert admin.get("v2025", limit=1).status_code == 200


def test_limit_is_per_client_and_version():
    with running_emulator(rate_limit=(3, 10.0)) as emu:
        admin, helpdesk = emu.api("admin"), emu.api("helpdesk")
        assert [admin.get("beta", limit=1).status_code for _index in range(4)] == [200, 200, 200, 429]
        assert admin.get("v2025", limit=1).status_code == 200
        assert helpdesk.get("beta", limit=1).status_code == 200


def test_limit_set_and_lifted_through_control():
    with running_emulator(rate_limit=None) as emu:
        admin = emu.api()
        assert all(admin.get("beta", limit=1).status_code == 200 for _index in range(120))
        emu.control("POST", "faults", {"rate_limit": "2/10"})
        assert [admin.get("beta", limit=1).status_code for _index in range(3)] == [200, 200, 429]
        emu.control("POST", "faults", {"rate_limit": "off"})
        assert admin.get("beta", limit=1).status_code == 200


def test_default_limit_is_100_per_10_seconds():
    with running_emulator(rate_limit=(100, 10.0)) as emu:
        admin = emu.api()
        statuses = [admin.get("beta", limit=0).status_code for _index in range(101)]
        assert statuses.count(200) == 100 and statuses[-1] == 429
