"""TLS: each connection's handshake runs in its own thread, so a client that never starts one holds up no one."""

import socket
import ssl

import pytest
import requests
from emulator_helpers import SOCKET_WATCHDOG, make_certificate, read_answer, running_emulator


@pytest.fixture(name="certificate", scope="module")
def certificate_files(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"))


def test_a_stalled_handshake_holds_up_no_one(certificate):
    # The handshake timeout is far longer than the watchdog of the request below: were the handshake run where
    # connections are accepted, the request would fail rather than wait for the staller to time out.
    with running_emulator(tls=certificate, handshake_timeout=3600) as emu:
        host, port = emu.server.server_address[:2]
        with socket.create_connection((host, port)) as staller:
            # Accepted by the kernel before the request below connects; it never sends a byte.
            reply = requests.get(emu.control_url + "/health", verify=str(certificate[0]), timeout=SOCKET_WATCHDOG)
            assert reply.status_code == 200
            token = emu.session.post(emu.base_url + "/oauth/token", data=credentials(emu), verify=str(certificate[0]), timeout=SOCKET_WATCHDOG)
            assert token.status_code == 200
            # The staller is still connected and still unanswered: it was waited for in its own thread.
            staller.setblocking(False)
            with pytest.raises(BlockingIOError):
                staller.recv(1)


def test_a_stalled_handshake_is_closed_after_the_timeout(certificate):
    with running_emulator(tls=certificate, handshake_timeout=0.2) as emu:
        with socket.create_connection(emu.server.server_address[:2], timeout=SOCKET_WATCHDOG) as staller:
            assert staller.recv(1) == b""


def test_a_failed_handshake_leaves_the_server_serving(certificate):
    with running_emulator(tls=certificate) as emu:
        context = ssl.create_default_context()  # does not trust the self-signed certificate
        with socket.create_connection(emu.server.server_address[:2], timeout=SOCKET_WATCHDOG) as raw:
            with pytest.raises(ssl.SSLCertVerificationError):
                context.wrap_socket(raw, server_hostname="127.0.0.1")
        assert requests.get(emu.control_url + "/health", verify=str(certificate[0]), timeout=SOCKET_WATCHDOG).status_code == 200


def test_plain_http_on_the_tls_port_gets_a_plain_answer(certificate):
    with running_emulator(tls=certificate) as emu:
        with socket.create_connection(emu.server.server_address[:2], timeout=SOCKET_WATCHDOG) as sock:
            sock.sendall(b"GET /_control/health HTTP/1.1\r\nHost: x\r\n\r\n")
            status_line, _headers, body = read_answer(sock)
        assert status_line.startswith(b"HTTP/1.1 400 ") and b"HTTPS port" in body


def test_api_over_tls_with_keep_alive(certificate):
    with running_emulator(tls=certificate) as emu:
        session = requests.Session()
        # verify on each call: a session's own setting loses to REQUESTS_CA_BUNDLE in the environment.
        verify = str(certificate[0])
        token = session.post(emu.base_url + "/oauth/token", data=credentials(emu), verify=verify, timeout=SOCKET_WATCHDOG).json()["access_token"]
        session.headers["Authorization"] = "Bearer " + token
        pages = [session.get(emu.base_url + "/v2025/task-status", params={"limit": 250}, verify=verify, timeout=SOCKET_WATCHDOG) for _index in range(3)]
        assert [page.status_code for page in pages] == [200] * 3 and len(pages[0].json()) == 60


def credentials(emu):
    client = emu.clients()["admin"]
    return {"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]}
