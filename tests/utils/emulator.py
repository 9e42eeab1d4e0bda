"""Start and stop the ISC emulator in the background for make targets (integration, demo, benchmarks).

    emulator.py start DIR [-- emulator serve options]   start it, wait for its JSON line, keep it in DIR/emulator.json
    emulator.py stop DIR                                stop it (SIGTERM, then SIGKILL after a grace period)
    emulator.py integration-config DIR FILE             write ansible-test's integration_config.yml from DIR/emulator.json
    emulator.py env DIR                                 print `export SAIL_*=...` lines for a shell to eval
    emulator.py control DIR METHOD CALL [JSON]          send a control call (e.g. POST "sources/Workday/health"
                                                        '{"status": "SOURCE_STATE_ERROR_VA"}'), print its JSON answer

Secrets are written only to files under DIR (mode 0600) and to the shell's environment, never to the console.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

EMULATOR_PACKAGE_DIR = Path(__file__).resolve().parent.parent / "emulator"
# A watchdog for an emulator that cannot start, not a pace: the wait ends as soon as its line is there. Generous,
# because make test runs stages side by side on two cores and a validating emulator imports openapi-core first.
START_TIMEOUT_SECONDS = 120
STOP_GRACE_SECONDS = 10


def start(state_dir: Path, serve_args: list) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    stop(state_dir)
    info_path = state_dir / "emulator.json"
    info_path.unlink(missing_ok=True)
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(EMULATOR_PACKAGE_DIR), os.environ.get("PYTHONPATH")])))
    with (state_dir / "emulator.out").open("w", encoding="utf-8") as stdout, (state_dir / "emulator.log").open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", "isc_emulator", "serve", "--port", "0", *serve_args],
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            env=environment,
        )
    (state_dir / "emulator.pid").write_text(str(process.pid), encoding="utf-8")
    info = wait_for_first_line(state_dir / "emulator.out", process)
    info_path.touch(mode=0o600)
    info_path.write_text(json.dumps(info, indent=2), encoding="utf-8")
    print(f"emulator {process.pid} serving {info['base_url']} (control {info['control_url']})")


def wait_for_first_line(path: Path, process: subprocess.Popen) -> dict:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        text = path.read_text(encoding="utf-8")
        if "\n" in text:
            return json.loads(text.split("\n", 1)[0])
        if process.poll() is not None:
            raise SystemExit(f"the emulator exited with status {process.returncode}; see {path.parent / 'emulator.log'}")
        time.sleep(0.05)
    process.terminate()
    raise SystemExit(f"the emulator printed nothing within {START_TIMEOUT_SECONDS}s")


def stop(state_dir: Path) -> None:
    pid_path = state_dir / "emulator.pid"
    if not pid_path.exists():
        return
    pid = int(pid_path.read_text(encoding="utf-8"))
    pid_path.unlink()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def load_info(state_dir: Path) -> dict:
    return json.loads((state_dir / "emulator.json").read_text(encoding="utf-8"))


def integration_config(state_dir: Path, target: Path) -> None:
    info = load_info(state_dir)
    clients = info["clients"]
    config = {
        "isc_base_url": info["base_url"],
        "isc_control_url": info["control_url"],
        "isc_client_id": clients["admin"]["client_id"],
        "isc_client_secret": clients["admin"]["client_secret"],
        "isc_api_client_id": clients["api"]["client_id"],
        "isc_api_client_secret": clients["api"]["client_secret"],
        "isc_helpdesk_client_id": clients["helpdesk"]["client_id"],
        "isc_helpdesk_client_secret": clients["helpdesk"]["client_secret"],
        "isc_tenants": [
            {
                "name": tenant["name"],
                "base_url": tenant["base_url"],
                "client_id": tenant["clients"]["admin"]["client_id"],
                "client_secret": tenant["clients"]["admin"]["client_secret"],
            }
            for tenant in info["tenants"]
        ],
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600)
    target.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def shell_environment(state_dir: Path) -> None:
    info = load_info(state_dir)
    admin = info["clients"]["admin"]
    values = {
        "SAIL_BASE_URL": info["base_url"],
        "SAIL_CLIENT_ID": admin["client_id"],
        "SAIL_CLIENT_SECRET": admin["client_secret"],
        "ISC_CONTROL_URL": info["control_url"],
    }
    for name, value in values.items():
        print(f"export {name}='{value}'")


def control(state_dir: Path, method: str, call: str, body: str | None = None) -> None:
    """One call of the control surface (never a secret in its answers); a refusal exits with the emulator's message."""
    url = f"{load_info(state_dir)['control_url']}/{urllib.parse.quote(call, safe='/?=&')}"
    data = None if body is None else json.dumps(json.loads(body)).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            print(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as refused:
        raise SystemExit(f"{method} {call}: HTTP {refused.code}: {refused.read().decode('utf-8', 'replace')[:500]}") from None


def main(argv: list) -> None:
    if len(argv) < 2:
        raise SystemExit(__doc__)
    command, state_dir = argv[0], Path(argv[1])
    if command == "start":
        start(state_dir, [arg for arg in argv[2:] if arg != "--"])
    elif command == "stop":
        stop(state_dir)
    elif command == "integration-config" and len(argv) == 3:
        integration_config(state_dir, Path(argv[2]))
    elif command == "env":
        shell_environment(state_dir)
    elif command == "control" and len(argv) in (4, 5):
        control(state_dir, *argv[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
