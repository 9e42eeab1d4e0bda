import json
import os
import pathlib
import select
import signal
import subprocess
import sys

import pytest
import requests
from emulator_helpers import make_certificate

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent.parent


# A watchdog for a hung start, not a measure of speed (that is benchmarks/emulator_throughput.py's).
START_WATCHDOG = 60


def start(*args):
    """The process and its JSON line."""
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "isc_emulator", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    ready = select.select([process.stdout], [], [], START_WATCHDOG)[0]
    if not ready:
        process.kill()
        pytest.fail("no JSON line within %d s: %s" % (START_WATCHDOG, process.stderr.read()))
    try:
        return process, json.loads(process.stdout.readline())
    except ValueError:
        process.kill()
        raise


def stop(process, sig=signal.SIGTERM):
    process.send_signal(sig)
    try:
        return process.wait(timeout=10)
    finally:
        process.stdout.close()
        process.stderr.close()


def token(info, tenant=0, role="admin"):
    client = info["tenants"][tenant]["clients"][role]
    reply = requests.post(
        info["tenants"][tenant]["base_url"] + "/oauth/token",
        timeout=5,
        data={"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]},
    )
    return reply.json()["access_token"]


@pytest.mark.parametrize("sig", (signal.SIGTERM, signal.SIGINT))
def test_prints_one_line_and_exits_cleanly(sig):
    process, info = start("--port", "0")
    try:
        assert set(info) == {"base_url", "control_url", "clients", "tenants"}
        assert set(info["clients"]) == {"admin", "api", "helpdesk"}
        assert info["clients"]["api"] == {**info["clients"]["api"], "user_level": None, "user_context": False}
        assert info["base_url"].startswith("http://127.0.0.1:") and info["base_url"].endswith("/acme")
        assert requests.get(info["control_url"] + "/health", timeout=5).json()["status"] == "ok"
        headers = {"Authorization": "Bearer " + token(info)}
        assert requests.get(info["base_url"] + "/beta/task-status", params={"count": "true"}, timeout=5, headers=headers).status_code == 200
    finally:
        assert stop(process, sig) == 0


def test_options_shape_the_tenants():
    process, info = start("--tenants", "2", "--tasks", "20", "--pending", "1", "--stuck", "1", "--rate-limit", "off", "--token-ttl", "60")
    try:
        assert [tenant["name"] for tenant in info["tenants"]] == ["acme", "globex"]
        reply = requests.get(
            info["tenants"][1]["base_url"] + "/v2025/task-status",
            params={"count": "true", "limit": 1},
            headers={"Authorization": "Bearer " + token(info, 1)},
            timeout=5,
        )
        assert reply.headers["X-Total-Count"] == "20"
    finally:
        assert stop(process) == 0


def test_state_file_across_runs(tmp_path):
    state = str(tmp_path / "demo.sqlite")
    process, info = start("--state", state)
    try:
        headers = {"Authorization": "Bearer " + token(info), "Content-Type": "application/json-patch+json"}
        pending = requests.get(info["base_url"] + "/v2025/task-status", params={"filters": "completionStatus isnull"}, headers=headers, timeout=5)
        task_id = pending.json()[0]["id"]
        patch = [{"op": "replace", "path": "/completionStatus", "value": "TERMINATED"}]
        assert requests.patch(info["base_url"] + "/v2025/task-status/" + task_id, json=patch, headers=headers, timeout=5).status_code == 200
    finally:
        assert stop(process) == 0
    process, info_again = start("--state", state, "--seed", "99")
    try:
        assert info_again["clients"] == info["clients"]
        headers["Authorization"] = "Bearer " + token(info_again)
        assert requests.get(info_again["base_url"] + "/v2025/task-status/" + task_id, headers=headers, timeout=5).json()["completionStatus"] == "TERMINATED"
    finally:
        assert stop(process) == 0


def test_tls(tmp_path):
    cert_path, key_path = make_certificate(tmp_path)
    process, info = start("--tls-cert", str(cert_path), "--tls-key", str(key_path))
    try:
        assert info["base_url"].startswith("https://")
        assert requests.get(info["control_url"] + "/health", verify=str(cert_path), timeout=5).status_code == 200
    finally:
        assert stop(process) == 0


@pytest.mark.parametrize("args", (["--fault-rate", "2"], ["--rate-limit", "lots"], ["--tls-cert", "x.pem"], ["--tenants", "_bad"]))
def test_bad_options_exit_nonzero(args):
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    result = subprocess.run([sys.executable, "-m", "isc_emulator", "serve", *args], capture_output=True, env=env, timeout=10, check=False)
    assert result.returncode == 2 and result.stdout == b""
