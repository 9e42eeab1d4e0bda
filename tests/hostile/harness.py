# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in this process and classify what a user would have seen.

The module runs as Ansible runs it, up to the JSON it prints: its arguments go in through the same JSON encoder,
``exit_json``/``fail_json`` run for real (no_log masking included) and only the final print is captured. Every
HTTP attempt the module makes (retries included) is counted at urllib3's connection pool, and any name other than
a loopback one fails to resolve, so no test reaches beyond this machine.

Outcomes:

- ``accepted``: exit_json.
- ``refused``: fail_json before any HTTP answer could be the cause: an OptionError, or Ansible's own argument
  checks. The message must name the option.
- ``failed``: fail_json for an HTTP answer, a transport problem or per-task failures.
- ``traceback``: an exception escaped main(), the result carries ``exception``, a message quotes a traceback, or
  an error text reports an unexpected Python exception (``unexpected ValueError: ...``).
- ``runaway``: the module exceeded the request budget (a busy loop) or the time guard (a wait without end).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import re
import signal
import socket
import threading
import traceback
from unittest import mock

import urllib3.connectionpool
from ansible.module_utils import basic
from ansible.module_utils.common import json as ansible_json
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.sailpoint.isc.plugins.module_utils import _errors
from ansible_collections.sailpoint.isc.tests.utils.secret_scan import describe as describe_secrets

MODULES = ("task_status_info", "task_status")
LOOPBACK_NAMES = {"127.0.0.1", "::1", "localhost"}
# Far more HTTP attempts than any run of these modules against a 20-task tenant needs (a token, a few pages, a
# wait's polls of a completed task): a run that goes beyond is polling without end. Counted, not timed, so the
# verdict does not depend on the machine's load.
REQUEST_BUDGET = 60
# Only a safety net for a run that hangs without sending anything; no correct run comes near it.
RUN_GUARD_SECONDS = 120
# what a module run sees of the environment is only what the run gives: none of these leaks in from outside
CLEARED_PREFIXES = ("SAIL_",)
CLEARED_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
_TRACEBACK_TEXT = re.compile(r"Traceback \(most recent call last\)|Module failed|unexpected [A-Z]\w*(Error|Exception|Exit)\b|\bFile \".*\", line \d+")


class Runaway(BaseException):
    """Raised into a module run that exceeded its request budget or its time guard; never caught by the module."""


@dataclasses.dataclass
class Observation:
    """What one module run showed a user."""

    module: str
    args: dict
    env: dict
    outcome: str
    msg: str = ""
    result: dict = dataclasses.field(default_factory=dict)
    error_class: str | None = None
    requests: int = 0
    excerpt: str = ""

    def describe(self) -> str:
        """One paragraph for a failure report: the input, what happened, and the traceback's end if any."""
        shown_args = ", ".join(f"{key}={_short(repr(value))}" for key, value in self.args.items() if key not in ("client_secret", "access_token"))
        shown_env = ", ".join(f"{key}={_short(repr(value))}" for key, value in self.env.items())
        lines = [
            f"{self.module} {shown_args}" + (f" env: {shown_env}" if shown_env else ""),
            f"  -> {self.outcome}" + (f" ({self.error_class})" if self.error_class else "") + f", {self.requests} HTTP attempts: {_short(self.msg, 400)}",
        ]
        if self.excerpt:
            lines.append("  " + self.excerpt.strip().replace("\n", "\n  "))
        return "\n".join(lines)


def _short(value, limit=120) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


class _Counter:
    """HTTP attempts made through urllib3 while a module runs, from any thread."""

    def __init__(self, budget):
        self.count = 0
        self.budget = budget
        self.lock = threading.Lock()
        self.exceeded = False

    def hit(self):
        with self.lock:
            self.count += 1
            if self.count > self.budget:
                self.exceeded = True
                raise Runaway(f"more than {self.budget} HTTP attempts in one module run")


@contextlib.contextmanager
def _counting(counter):
    original = urllib3.connectionpool.HTTPConnectionPool.urlopen

    def urlopen(pool, *args, **kwargs):
        counter.hit()
        return original(pool, *args, **kwargs)

    with mock.patch.object(urllib3.connectionpool.HTTPConnectionPool, "urlopen", urlopen):
        yield


_real_getaddrinfo = socket.getaddrinfo


def _loopback_only_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else str(host)
    if name.strip("[]").lower() not in LOOPBACK_NAMES:
        # what a resolver says of a misspelled host; this suite resolves loopback names only
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return _real_getaddrinfo(host, *args, **kwargs)


def install_network_guard():
    """For the whole test session: names other than loopback ones do not resolve (no request leaves the machine)."""
    socket.getaddrinfo = _loopback_only_getaddrinfo


@contextlib.contextmanager
def _time_guard(seconds):
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(_signum, _frame):
        raise Runaway(f"still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _environment(env):
    cleared = {name for name in os.environ if name.startswith(CLEARED_PREFIXES)} | set(CLEARED_VARIABLES)
    saved = {name: os.environ.get(name) for name in cleared | set(env)}
    for name in saved:
        os.environ.pop(name, None)
    os.environ.update({name: str(value) for name, value in env.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _load(module_name):
    return importlib.import_module(f"ansible_collections.sailpoint.isc.plugins.modules.{module_name}")


def run_module(module_name, args, env=None, check_mode=False, diff=False, budget=REQUEST_BUDGET, guard_seconds=RUN_GUARD_SECONDS) -> Observation:
    """Run ``module_name``'s main() with ``args`` (and only ``env`` among the SAIL_* variables) and classify it."""
    env = dict(env or {})
    module = _load(module_name)
    module_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    printed = []
    errors = []
    counter = _Counter(budget)
    original_fail = _errors.fail

    def record(_module, payload):
        encoder = ansible_json.get_module_encoder(basic._ANSIBLE_PROFILE, ansible_json.Direction.MODULE_TO_CONTROLLER)  # pylint: disable=protected-access
        printed.append(json.loads(json.dumps(payload, cls=encoder)))

    def fail(module_object, error, **extra):
        errors.append(type(error).__name__)
        return original_fail(module_object, error, **extra)

    observation = Observation(module_name, dict(args), env, "accepted")
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    ansible_warnings._global_deprecations.clear()  # pylint: disable=protected-access
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(_environment(env))
            stack.enter_context(patch_module_args(module_args))
            stack.enter_context(mock.patch.object(basic.AnsibleModule, "_record_module_result", record))
            stack.enter_context(mock.patch.object(_errors, "fail", fail))
            stack.enter_context(_counting(counter))
            stack.enter_context(_time_guard(guard_seconds))
            module.main()
        observation.outcome, observation.msg = "traceback", "main() returned without exit_json or fail_json"
    except SystemExit:
        _classify(observation, printed, errors)
    except Runaway as runaway:
        observation.outcome, observation.msg = "runaway", str(runaway)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # the very thing this suite hunts: an exception a user would have seen as "Module failed" and a traceback
        observation.outcome = "traceback"
        observation.msg = f"{type(exc).__name__}: {exc}"
        observation.excerpt = "".join(traceback.format_exception(exc)[-4:])
    finally:
        ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    observation.requests = counter.count
    return observation


def _classify(observation, printed, errors):
    result = printed[-1] if printed else {}
    observation.result = result
    observation.msg = str(result.get("msg", ""))
    observation.error_class = errors[-1] if errors else None
    texts = [observation.msg] + [str(failure.get("msg", "")) for failure in result.get("failures") or [] if isinstance(failure, dict)]
    if not printed:
        observation.outcome, observation.msg = "traceback", "sys.exit without a result"
    elif "exception" in result or any(_TRACEBACK_TEXT.search(text) for text in texts):
        observation.outcome = "traceback"
        observation.excerpt = str(result.get("exception") or next(text for text in texts if _TRACEBACK_TEXT.search(text)))[-1500:]
    elif not result.get("failed"):
        observation.outcome = "accepted"
    elif result.get("failed_ids") or (observation.error_class and observation.error_class != "OptionError"):
        observation.outcome = "failed"
    else:
        observation.outcome = "refused"


def names_option(text: str, option: str, env_name: str | None = None) -> bool:
    """Whether ``text`` names ``option`` (or, for a value that came from the environment, its variable)."""
    names = [option] + ([env_name] if env_name else [])
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) for name in names)


def module_argument_spec(module_name) -> dict:
    """The module's full argument spec, as its main() builds it."""
    return _load(module_name).argument_spec()


def leaks(observation: Observation, secrets) -> list[str]:
    """Every place a secret shows in what the user sees of a run: the result (warnings included) and the message."""
    shown = json.dumps(observation.result, ensure_ascii=False) + "\n" + observation.msg + "\n" + observation.excerpt
    return describe_secrets(shown, [secret for secret in secrets if secret], f"{observation.module} result")


def judge(observation: Observation, option: str, env_name=None, expect="either", secrets=(), summary=None) -> list[str]:
    """The problems of one run with a hostile value of ``option``; empty when the module met it correctly.

    Always: no traceback, no runaway, no secret shown; a refusal names the option and comes before any request.
    With ``expect="refuse"``: the run must be such a refusal.
    """
    problems = []
    outcome = observation.outcome
    named = names_option(observation.msg, option, env_name)
    if outcome in ("traceback", "runaway"):
        problems.append(f"{outcome} instead of a clear error")
    elif outcome == "refused":
        if not named:
            problems.append(f"refused without naming {option}")
        if observation.requests:
            problems.append(f"refused after {observation.requests} HTTP attempts; the error was knowable before any request")
    if expect == "refuse" and outcome != "refused" and outcome not in ("traceback", "runaway"):
        problems.append(f"expected a refusal naming {option} before any request, got {outcome}")
    if expect == "fail-fast" and outcome in ("accepted", "failed", "refused"):
        # nothing answers there, or not in HTTP: retrying cannot help, and the user needs to know what to check
        if outcome == "accepted":
            problems.append("expected a failure: nothing usable answers at that address")
        elif not named:
            problems.append(f"the failure does not say to check {option}")
        if observation.requests > 1:
            problems.append(f"{observation.requests} HTTP attempts where retrying cannot help; fail at the first")
    found = leaks(observation, secrets)
    problems += [f"secret shown: {line}" for line in found]
    if summary is not None:
        summary.tried += 1
        summary.refused_naming_option += outcome == "refused" and named
        summary.refused_without_naming += outcome == "refused" and not named
        summary.accepted += outcome == "accepted"
        summary.failed_on_answer += outcome == "failed"
        summary.tracebacks += outcome == "traceback"
        summary.runaways += outcome == "runaway"
        if outcome == "refused" or expect == "refuse":
            summary.requests_for_local_errors += observation.requests
        summary.missed_refusals += expect == "refuse" and outcome == "accepted"
    return problems


def _run_counts(observation: Observation, problems: list) -> dict:
    return {"tracebacks": observation.outcome in ("traceback", "runaway"), "leaks_found": sum(problem.startswith("secret shown") for problem in problems)}


def input_counts(observation: Observation, problems: list) -> dict:
    """The reliability table's figures of one run given a bad input (``Row.record``): a refusal without problems is a
    clear error."""
    return dict(_run_counts(observation, problems), bad_inputs_tried=1, clear_errors=observation.outcome == "refused" and not problems)


def answer_counts(observation: Observation, problems: list) -> dict:
    """The reliability table's figures of one run given a bad answer (``Row.record``): a failure without problems is a
    clear error."""
    return dict(_run_counts(observation, problems), clear_errors=observation.outcome == "failed" and not problems)
