import json
import os
import pathlib
import select
import signal
import subprocess
import sys

import pytest
import requests

PACKAGE_ROOT = pathlib.Path(__file__).resolve().parent.parent


def cpu_seconds(pid):
    fields = pathlib.Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(*args):
    """The process, its JSON line, and the CPU seconds it spent getting there."""
    env = dict(os.environ, PYTHONPATH=str(PACKAGE_ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "isc_emulator", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    ready = select.select([process.stdout], [], [], 10)[0]
    if not ready:
        process.kill()
        pytest.fail("no JSON line within 10 s: %s" % process.stderr.read())
    try:
        return process, json.loads(process.stdout.readline()), cpu_seconds(process.pid)
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
def test_starts_fast_prints_one_line_and_exits_cleanly(sig):
    process, info, cpu = start("--port", "0")
    try:
        # CPU time, not wall time: the suite runs in parallel on shared machines, where wall time measures the neighbours.
        assert cpu < 1.0
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
    process, info, _cpu = start("--tenants", "2", "--tasks", "20", "--pending", "1", "--stuck", "1", "--rate-limit", "off", "--token-ttl", "60")
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
    process, info, _cpu = start("--state", state)
    try:
        headers = {"Authorization": "Bearer " + token(info), "Content-Type": "application/json-patch+json"}
        pending = requests.get(info["base_url"] + "/v2025/task-status", params={"filters": "completionStatus isnull"}, headers=headers, timeout=5)
        task_id = pending.json()[0]["id"]
        patch = [{"op": "replace", "path": "/completionStatus", "value": "TERMINATED"}]
        assert requests.patch(info["base_url"] + "/v2025/task-status/" + task_id, json=patch, headers=headers, timeout=5).status_code == 200
    finally:
        assert stop(process) == 0
    process, info_again, _cpu = start("--state", state, "--seed", "99")
    try:
        assert info_again["clients"] == info["clients"]
        headers["Authorization"] = "Bearer " + token(info_again)
        assert requests.get(info_again["base_url"] + "/v2025/task-status/" + task_id, headers=headers, timeout=5).json()["completionStatus"] == "TERMINATED"
    finally:
        assert stop(process) == 0


def test_tls(tmp_path):
    crypto = pytest.importorskip("cryptography.x509")
    import datetime  # pylint: disable=import-outside-toplevel
    import ipaddress  # pylint: disable=import-outside-toplevel

    from cryptography.hazmat.primitives import hashes, serialization  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives.asymmetric import ec  # pylint: disable=import-outside-toplevel

    key = ec.generate_private_key(ec.SECP256R1())
    name = crypto.Name([crypto.NameAttribute(crypto.oid.NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        crypto.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(crypto.SubjectAlternativeName([crypto.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    process, info, _cpu = start("--tls-cert", str(cert_path), "--tls-key", str(key_path))
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
