# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ansible-playbook on the collection and collect what it showed: stdout, the log file, every task result.

Every task result is recorded by the callback in callback_plugins/ (one JSON line each), so a run over many
hosts can be judged host by host.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import subprocess
import sys

import yaml

CALLBACKS = pathlib.Path(__file__).resolve().parent / "callback_plugins"
# ansible-playbook of the same virtual environment as this Python
ANSIBLE_PLAYBOOK = str(pathlib.Path(sys.executable).parent / "ansible-playbook")
# no playbook run of this suite comes near it; only a hang would
RUN_LIMIT_SECONDS = 600
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|MODULE FAILURE|Module failed|The full traceback is|unexpected [A-Z]\w*(Error|Exception)\b")


@dataclasses.dataclass
class PlaybookRun:
    returncode: int
    stdout: str
    log: str
    results: list
    workdir: pathlib.Path

    def failure(self, host: str):
        """The result that failed ``host``, or None when the host got through."""
        return next((result for result in self.results if result["host"] == host and result["status"] in ("failed", "unreachable")), None)

    def tracebacks(self, host: str | None = None) -> list[str]:
        """Excerpts of every traceback-like text in the results of ``host`` (or of all hosts)."""
        found = []
        for result in self.results:
            if host is not None and result["host"] != host:
                continue
            for text in (result["msg"], result["exception"] or "", result["shown"]):
                match = TRACEBACK.search(text)
                if match:
                    found.append(f"{result['host']} / {result['task']}: ...{text[max(0, match.start() - 200) : match.end() + 400]}...")
                    break
        return found

    def everything(self) -> str:
        """All the text the run produced: stdout, the log file, the recorded results and every file it wrote."""
        parts = [self.stdout, self.log] + [json.dumps(result, ensure_ascii=False) for result in self.results]
        for path in sorted(self.workdir.rglob("*")):
            if path.is_file() and path.name not in ("inventory.yml", "extra-vars.json"):
                parts.append(f"--- {path}\n" + path.read_text(encoding="utf-8", errors="surrogateescape"))
        return "\n".join(parts)


def run_playbook(
    playbook: str,
    workdir: pathlib.Path,
    collections_path: str,
    hosts: dict,
    check: bool = False,
    verbosity: int = 0,
    extra_vars: dict | None = None,
    env: dict | None = None,
    forks: int = 8,
) -> PlaybookRun:
    """Run ``playbook`` (a collection playbook name or a path) for ``hosts`` ({name: host variables}), all in the
    group isc_tenants, and collect its output. Only ``env`` among the SAIL_* variables is set."""
    workdir.mkdir(parents=True, exist_ok=True)
    inventory = workdir / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {"isc_tenants": {"hosts": hosts}}}}, allow_unicode=True), encoding="utf-8")
    record = workdir / "results.jsonl"
    record.unlink(missing_ok=True)
    log_path = workdir / "ansible.log"
    log_path.unlink(missing_ok=True)
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("SAIL_", "ANSIBLE_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"))}
    environment.update(
        ANSIBLE_COLLECTIONS_PATH=collections_path,
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
        ANSIBLE_CALLBACKS_ENABLED="hostile_record",
        HOSTILE_RECORD=str(record),
        ANSIBLE_LOG_PATH=str(log_path),
        ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"),
        ANSIBLE_HOME=str(workdir / "ansible-home"),
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    environment.update(env or {})
    command = [ANSIBLE_PLAYBOOK, "-i", str(inventory), playbook]
    if check:
        command.append("--check")
    if verbosity:
        command.append("-" + "v" * verbosity)
    if extra_vars:
        extra = workdir / "extra-vars.json"
        extra.write_text(json.dumps(extra_vars), encoding="utf-8")
        command += ["-e", f"@{extra}"]
    completed = subprocess.run(
        command, cwd=workdir, env=environment, capture_output=True, text=True, errors="surrogateescape", timeout=RUN_LIMIT_SECONDS, check=False
    )
    results = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()] if record.exists() else []
    log = log_path.read_text(encoding="utf-8", errors="surrogateescape") if log_path.exists() else ""
    return PlaybookRun(completed.returncode, completed.stdout + completed.stderr, log, results, workdir)
