"""make proxy: the modules reach ISC through an HTTPS proxy named by HTTPS_PROXY, and NO_PROXY bypasses it.

    proxy.py --collections DIR --work DIR

The tenant is the emulator serving HTTPS with a certificate from a throwaway CA made here; the proxy is
tests/utils/forward_proxy.py, which tunnels CONNECT requests and counts them. task_status_info runs as an ad-hoc
command (a module process that inherits the controller's environment, as in a job) with ca_path naming the CA:

- through the proxy: the module's answer is right, the proxy counted tunnels to the emulator, the emulator
  logged the module's requests;
- with NO_PROXY naming the emulator's address: the same answer and no new tunnel;
- through the proxy with REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE naming the system's store (as in many containers):
  ca_path still decides what is trusted;
- through the proxy with the CA from a credential of the collection's AWX credential type (SAIL_CA_PATH naming
  the file AWX writes), no ca_path option.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "utils"))

import awx_credential  # noqa: E402  pylint: disable=wrong-import-position
import secret_scan  # noqa: E402  pylint: disable=wrong-import-position
from forward_proxy import ForwardProxy  # noqa: E402  pylint: disable=wrong-import-position
from harness import COLLECTION_ROOT, FRESH_PENDING, STUCK_IDS, Checks, Tenant, scenario_serve_args  # noqa: E402  pylint: disable=wrong-import-position


def make_certificates(folder: Path) -> tuple:
    """A throwaway CA and a certificate it signs for 127.0.0.1 and localhost: (ca.pem, server.pem, server-key.pem)."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sailpoint.isc test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].touch(mode=0o600)
    paths[2].write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


def trusted_by_system_store(address: tuple) -> bool:
    try:
        with socket.create_connection(address, timeout=10) as raw, ssl.create_default_context().wrap_socket(raw, server_hostname="127.0.0.1"):
            return True
    except ssl.SSLCertVerificationError:
        return False


def base_environment(collections: Path, work: Path) -> dict:
    """The controller's environment with no proxy, CA bundle or SAIL_* setting of its own."""
    unset = {"HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"}
    env = {name: value for name, value in os.environ.items() if name.upper() not in unset and not name.startswith("SAIL_")}
    (work / "tmp").mkdir(parents=True, exist_ok=True)
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_LOCAL_TEMP=str(work / "tmp"), ANSIBLE_REMOTE_TEMP=str(work / "tmp"))
    return env


def task_status_info(work: Path, name: str, env: dict, options: dict) -> tuple:
    """(rc, module result or None, output) of one ad-hoc task_status_info on localhost."""
    arguments = dict({"scope": "pending"}, **options)
    output = work / f"{name}.out"
    with output.open("w", encoding="utf-8") as stream:
        process = subprocess.run(
            ["ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "sailpoint.isc.task_status_info", "-a", json.dumps(arguments)],
            env=env,
            stdout=stream,
            stderr=subprocess.STDOUT,
            check=False,
        )
    text = output.read_text(encoding="utf-8")
    try:
        # localhost | SUCCESS => {...}
        result = json.loads(text[text.index("localhost | ") :].split(" => ", 1)[1])
    except (ValueError, IndexError):
        result = None
    return process.returncode, result, text


def run(args) -> int:
    checks = Checks()
    work = args.work
    ca_file, cert_file, key_file = make_certificates(work / "tls")
    tenant = Tenant(*scenario_serve_args(), "--tls-cert", str(cert_file), "--tls-key", str(key_file), ca_file=ca_file)
    proxy = ForwardProxy().start()
    try:
        tenant.add_scenario_tasks()
        emulator_address = tenant.base_url.split("/")[2]
        checks.check(
            tenant.base_url.startswith("https://127.0.0.1:"), f"the emulator serves HTTPS at {emulator_address} with a certificate from a throwaway CA"
        )
        checks.check(
            not trusted_by_system_store(tenant.server.server_address[:2]),
            "the system's CA store does not trust the emulator: only ca_path can make the module trust it",
        )
        env = base_environment(args.collections, work)
        env.update(SAIL_CLIENT_ID=tenant.admin["client_id"], SAIL_CLIENT_SECRET=tenant.admin["client_secret"])
        options = {"base_url": tenant.base_url, "ca_path": str(ca_file)}
        pending = len(STUCK_IDS) + FRESH_PENDING

        def attempt(name: str, extra_env: dict, module_options: dict, what: str) -> None:
            tunnels, seq = len(proxy.connects), max([0] + [entry["seq"] for entry in tenant.requests()])
            returncode, result, text = task_status_info(work, name, dict(env, **extra_env), module_options)
            served = [entry for entry in tenant.requests() if entry["seq"] > seq]
            opened = proxy.connects[tunnels:]
            tasks = (result or {}).get("tasks", [])
            answered = returncode == 0 and len(tasks) == pending and set(STUCK_IDS) <= {task["id"] for task in tasks}
            if not checks.check(
                answered, f"{what}: task_status_info answered ({len(tasks)} pending tasks)", f"rc {returncode}: {(result or {}).get('msg', text[-2000:])}"
            ):
                return
            through_proxy = "NO_PROXY" not in extra_env
            if through_proxy:
                checks.check(
                    bool(opened) and set(opened) == {emulator_address} and len(served) > 0,
                    f"{what}: {len(served)} API requests went through {len(opened)} CONNECT tunnels of the proxy to {emulator_address}",
                    f"tunnels {opened}, requests {len(served)}",
                )
            else:
                checks.check(not opened and len(served) > 0, f"{what}: {len(served)} API requests went straight to the emulator, 0 CONNECT tunnels")

        proxied = {"HTTPS_PROXY": proxy.url}
        attempt("proxied", proxied, options, "HTTPS_PROXY")
        attempt("lowercase", {"https_proxy": proxy.url}, options, "https_proxy (lower case)")
        attempt("bypassed", dict(proxied, NO_PROXY="127.0.0.1"), options, "HTTPS_PROXY with NO_PROXY=127.0.0.1")
        system_store = ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"
        attempt(
            "ca-bundle-env",
            dict(proxied, REQUESTS_CA_BUNDLE=system_store, CURL_CA_BUNDLE=system_store),
            options,
            "HTTPS_PROXY with REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE set, ca_path given",
        )
        definition = yaml.safe_load((COLLECTION_ROOT / "extensions" / "awx" / "credential_type.yml").read_text(encoding="utf-8"))
        inputs = {
            "base_url": tenant.base_url,
            "client_id": tenant.admin["client_id"],
            "client_secret": tenant.admin["client_secret"],
            "ca_bundle": ca_file.read_text(),
        }
        credential_env, _extra_vars, _files = awx_credential.inject(definition, inputs, work / "job")
        attempt("credential-ca", dict(credential_env, **proxied), {}, "HTTPS_PROXY with the credential's CA bundle (SAIL_CA_PATH), no ca_path option")
        print(f"proxied request counts: {len(proxy.connects)} CONNECT tunnels in all, to {sorted(set(proxy.connects))}")
        scan = secret_scan.scan_paths([work], tenant.secrets())
        for hit in scan.hits:
            print(f"  secret hit: {hit}")
        checks.check(not scan.hits, f"0 secret hits in the modules' output ({scan.summary()})")
    finally:
        proxy.stop()
        tenant.stop()
    return checks.exit_status()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--collections", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    args.collections, args.work = args.collections.resolve(), args.work.resolve()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
