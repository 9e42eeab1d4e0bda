# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""TLS settings that hold: the module's own options win over REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE.

The emulator serves HTTPS with a certificate of a throwaway CA. Each cell of the matrix crosses the environment
(neither variable, or one of them naming the right or a wrong CA bundle) with ca_path (unset, right, wrong) and
validate_certs (true, false). The rule every cell must follow: validate_certs false connects; otherwise ca_path
decides when it is set; the environment decides only when neither option is set. A refused certificate is a
clear error, never a traceback.
"""

from __future__ import annotations

import datetime
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.sailpoint.isc.tests.hostile.emulator import running_emulator
from ansible_collections.sailpoint.isc.tests.hostile.harness import leaks, run_module
from ansible_collections.sailpoint.isc.tests.hostile.ledger import LEDGER
from ansible_collections.sailpoint.isc.tests.hostile.playbook import run_playbook

ENVIRONMENTS = ("none", "REQUESTS_CA_BUNDLE=wrong", "REQUESTS_CA_BUNDLE=right", "CURL_CA_BUNDLE=wrong", "CURL_CA_BUNDLE=right")
CA_PATHS = ("unset", "right", "wrong")
VALIDATE = (True, False)
SCENARIO = "TLS matrix: options over REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE"


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject, issuer, public_key, signing_key, extensions):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(public_key)
    builder = builder.serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
    builder = builder.not_valid_after(now + datetime.timedelta(days=2))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def _ca(common_name):
    key = ec.generate_private_key(ec.SECP256R1())
    extensions = [(x509.BasicConstraints(ca=True, path_length=0), True), (x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)]
    return key, _certificate(_name(common_name), _name(common_name), key.public_key(), key, extensions)


def _pem(certificate):
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA that signed the emulator's certificate (right), another that did not (wrong), and the server's files."""
    folder = tmp_path_factory.mktemp("pki")
    right_key, right = _ca("sailpoint.isc hostile suite CA")
    _wrong_key, wrong = _ca("sailpoint.isc hostile suite other CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    names = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")])
    server = _certificate(
        _name("127.0.0.1"), right.subject, server_key.public_key(), right_key, [(names, False), (x509.BasicConstraints(ca=False, path_length=None), True)]
    )
    files = {"right": folder / "right-ca.pem", "wrong": folder / "wrong-ca.pem", "cert": folder / "server.pem", "key": folder / "server-key.pem"}
    files["right"].write_bytes(_pem(right))
    files["wrong"].write_bytes(_pem(wrong))
    files["cert"].write_bytes(_pem(server))
    files["key"].write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return {name: str(path) for name, path in files.items()}


@pytest.fixture(scope="module")
def tls_emulator(pki):
    with running_emulator(tenants=("acme", "globex", "initech", "umbrella"), tasks=5, tls=(pki["cert"], pki["key"])) as running:
        yield running


def expected_to_connect(environment: str, ca_path: str, validate_certs: bool) -> bool:
    if not validate_certs:
        return True
    if ca_path != "unset":
        return ca_path == "right"
    return environment.endswith("=right")


CELLS = [(environment, ca_path, validate) for environment in ENVIRONMENTS for ca_path in CA_PATHS for validate in VALIDATE]


def test_options_win_over_the_environment(tls_emulator, pki):
    grid, problems = [], []
    row = LEDGER.row(SCENARIO)
    for environment, ca_path, validate_certs in CELLS:
        env = {}
        if environment != "none":
            variable, _equals, which = environment.partition("=")
            env[variable] = pki[which]
        args = dict(tls_emulator.connection(), retries=1, timeout=10, validate_certs=validate_certs, scope="completed")
        if ca_path != "unset":
            args["ca_path"] = pki[ca_path]
        observation = run_module("task_status_info", args, env=env)
        expected = expected_to_connect(environment, ca_path, validate_certs)
        connected = observation.outcome == "accepted"
        cell = f"env {environment:<24} ca_path {ca_path:<5} validate_certs {str(validate_certs).lower():<5}"
        verdict = "as expected" if connected == expected else "WRONG"
        grid.append(f"{cell} -> {'connected' if connected else observation.outcome:<9} (expected {'connected' if expected else 'refused'}): {verdict}")
        found = leaks(observation, tls_emulator.secrets())
        row.record(tasks_targeted=1, tasks_correct=connected == expected, tracebacks=observation.outcome in ("traceback", "runaway"), leaks_found=len(found))
        if connected != expected:
            problems.append(f"{cell}: expected {'a connection' if expected else 'a refused certificate'}, got {observation.outcome}: {observation.msg[:200]}")
        elif not connected:
            clear = observation.outcome == "failed" and ("TLS" in observation.msg or "certificate" in observation.msg.lower())
            if not clear:
                problems.append(f"{cell}: a refused certificate must be a clear TLS error, got {observation.outcome}: {observation.msg[:200]}")
            else:
                row.record(runs=0, clear_errors=1)
        problems += [f"{cell}: {line}" for line in found]
    LEDGER.notes.append("TLS matrix (task_status_info against the emulator over HTTPS):")
    LEDGER.notes.extend("  " + line for line in grid)
    assert not problems, LEDGER.found("TLS matrix", problems, scenario=SCENARIO)


def test_playbooks_take_ca_path_and_validate_certs(tls_emulator, pki, tmp_path, collections_path):
    """With a wrong REQUESTS_CA_BUNDLE in the controller's environment, a host's isc_ca_path and isc_validate_certs
    still decide; a host with neither is refused."""
    hosts = {
        "acme": {"isc_ca_path": pki["right"]},
        "globex": {"isc_validate_certs": False},
        "initech": {"isc_ca_path": pki["wrong"]},
        "umbrella": {},
    }
    expected = {"acme": True, "globex": True, "initech": False, "umbrella": False}
    shown = {host: dict(variables) for host, variables in hosts.items()}
    for tenant, variables in hosts.items():
        connection = tls_emulator.connection(tenant)
        variables.update(
            isc_base_url=connection["base_url"],
            isc_client_id=connection["client_id"],
            isc_client_secret=connection["client_secret"],
            task_report_dir=str(tmp_path / "run" / "reports"),
            task_report_formats=["json"],
        )
    run = run_playbook("sailpoint.isc.task_report", tmp_path / "run", collections_path, hosts, check=True, env={"REQUESTS_CA_BUNDLE": pki["wrong"]})
    problems = [f"traceback: {excerpt}" for excerpt in run.tracebacks()]
    row = LEDGER.row(SCENARIO)
    row.record()
    for host, connects in expected.items():
        failure = run.failure(host)
        row.record(runs=0, tasks_targeted=1, tasks_correct=(failure is None) == connects)
        if connects and failure is not None:
            problems.append(f"{host} ({shown[host]}): expected the options to win over REQUESTS_CA_BUNDLE, failed: {failure['msg'][:300]!r}")
        if not connects and failure is None:
            problems.append(f"{host} ({shown[host]}): expected a refused certificate, got through")
    assert run.results, f"ansible-playbook recorded no result (rc {run.returncode}):\n{run.stdout[-3000:]}"
    assert not problems, LEDGER.found("TLS through the playbooks (REQUESTS_CA_BUNDLE set to a wrong bundle)", problems, scenario=SCENARIO)
