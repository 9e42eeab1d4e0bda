# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The named corpus of hostile module inputs: each case is one module run with one hostile value.

``expect`` says what a correct collection does with it:

- ``refuse``: the value is wrong and that is knowable without asking ISC: a clear error naming ``option`` (or,
  for a value from the environment, its variable), before any HTTP request.
- ``either``: a value a user may mean (or one only ISC can judge): accepted, refused naming the option before any
  request, or an HTTP failure; never a traceback.
- ``fail-fast``: an address where nothing (or nothing speaking HTTP) answers: a failure at the first attempt that
  names the option to check.

Placeholders in strings, filled in at run time: ``{base_url}`` (the emulator's first tenant), ``{hostport}``
(its 127.0.0.1:PORT), ``{pending}`` and ``{completed}`` (ids of tasks created for the case).
"""

from __future__ import annotations

import dataclasses

DROP = object()

INFO = "task_status_info"
PATCH = "task_status"

NAN, INF = float("nan"), float("inf")
HUGE_INT = 10**30
PASSWORD = "Hostile-Pa55word-4u"


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    module: str
    option: str
    values: dict
    expect: str = "refuse"
    env: dict = dataclasses.field(default_factory=dict)
    env_name: str | None = None
    check_mode: bool = True
    # strings that must not appear anywhere in what the module returns (e.g. a password in a URL)
    probes: tuple = ()


def _numeric_cases():
    """NaN, infinities, negatives, zero, huge and wrong types for every numeric option of both modules."""
    cases = []
    # option -> (modules, extra args that make the option matter, value -> expectation overrides)
    numeric = {
        "timeout": ((INFO, PATCH), {}, {0: "refuse", 0.001: "either", True: "either", "30": "either"}),
        "retries": ((INFO, PATCH), {}, {0: "either", True: "either", "3": "either"}),
        # a completed task: a valid timeout returns at the first poll, whatever its size
        "wait_timeout": ((INFO,), {"wait": True, "id": "{completed}"}, {True: "either", "5": "either"}),
        "wait_sleep": ((INFO,), {"wait": True, "id": "{completed}"}, {True: "either", "5": "either"}),
        "max_results": ((INFO,), {}, {0: "either", HUGE_INT: "either", True: "either", "3": "either"}),
        "concurrency": ((PATCH,), {"ids": ["{pending}"], "id": DROP}, {True: "either", "3": "either"}),
        "percent_complete": ((PATCH,), {}, {0: "either", True: "either", "50": "either"}),
    }
    values = [
        ("nan", NAN),
        ("inf", INF),
        ("minus-inf", -INF),
        ("minus-one", -1),
        ("zero", 0),
        ("float-max", 1.7976931348623157e308),
        ("huge-int", HUGE_INT),
        ("nan-string", "NaN"),
        ("overflowing-string", "1e999"),
        ("word", "soon"),
        ("list", [1]),
        ("bool", True),
        ("numeric-string", None),
    ]
    for option, (modules, extra, overrides) in numeric.items():
        for module in modules:
            for label, value in values:
                if label == "numeric-string":
                    value = next(key for key in overrides if isinstance(key, str))
                expect = next((exp for key, exp in overrides.items() if type(key) is type(value) and key == value), "refuse")
                if option == "percent_complete" and label in ("minus-one", "huge-int", "float-max"):
                    expect = "refuse"
                if option == "timeout" and label == "zero":
                    expect = "refuse"
                args = dict(extra, **{option: value})
                cases.append(Case(f"{module}-{option}-{label}", module, option, args, expect))
    # a value just out of range on the other side of the valid band
    cases += [
        Case("task_status-concurrency-17", PATCH, "concurrency", {"ids": ["{pending}"], "id": DROP, "concurrency": 17}),
        Case("task_status-percent_complete-101", PATCH, "percent_complete", {"percent_complete": 101}),
        Case("task_status_info-max_results-minus-huge", INFO, "max_results", {"max_results": -HUGE_INT}),
        Case("task_status_info-timeout-subnormal", INFO, "timeout", {"timeout": 5e-324}, "either"),
        # a pending task: NaN between polls busy-polls until wait_timeout, unless refused
        Case("task_status_info-wait_sleep-nan-pending", INFO, "wait_sleep", {"wait": True, "id": "{pending}", "wait_sleep": NAN, "wait_timeout": 2}),
        Case("task_status-id-null", PATCH, "id", {"id": None}),
    ]
    return cases


def _duration_cases():
    older = [
        ("days-overflowing-a-date", "99999999d", "refuse"),
        ("weeks-overflowing-a-date", "9999999999w", "refuse"),
        ("seconds-beyond-any-int", "9" * 400, "refuse"),
        ("seconds-with-unit-beyond-any-int", "9" * 400 + "s", "refuse"),
        ("exponent", "1e9", "refuse"),
        ("negative", "-5m", "refuse"),
        ("nan", "nan", "refuse"),
        ("iso8601", "PT5M", "refuse"),
        ("empty", "", "refuse"),
        ("blank", "   ", "refuse"),
        ("control-characters", "5m\x00\x1b[31m", "refuse"),
        ("arabic-indic-digits", "\u0665\u0660s", "either"),
        ("long-valid-chain", "1s" * 5000, "either"),
        ("number-not-string", 10**40, "refuse"),
    ]
    return [
        Case(f"task_status_info-older_than-{label}", INFO, "older_than", {"scope": "pending", "older_than": value}, expect) for label, value, expect in older
    ]


def _timestamp_cases():
    stamps = [
        ("year-1-east-offset", "0001-01-01T00:00:00+14:00"),
        ("year-9999-west-offset", "9999-12-31T23:59:59-14:00"),
        ("year-0", "0000-01-01T00:00:00Z"),
        ("february-30", "2024-02-30T00:00:00Z"),
        ("month-13", "2024-13-01T00:00:00Z"),
        ("hour-24", "2024-05-17T24:00:00Z"),
        ("offset-99", "2024-05-17T19:33:16+99:99"),
        ("no-offset", "2024-05-17T19:33:16.470"),
        ("epoch-number", "1700000000"),
        ("fullwidth-digits", "\uff12\uff10\uff12\uff14-05-17T19:33:16Z"),
        ("far-future", "2999-01-01T00:00:00Z"),
        ("not-a-string", 1700000000),
    ]
    cases = [Case(f"task_status-completed-{label}", PATCH, "completed", {"completed": value}) for label, value in stamps]
    # only the task, as read, can tell: ISC would refuse it, so the module does after reading
    cases.append(Case("task_status-completed-before-the-task-was-created", PATCH, "completed", {"completed": "2001-01-01T00:00:00Z"}, "either"))
    cases.append(Case("task_status-completed-long-fraction", PATCH, "completed", {"completed": "2020-01-01T00:00:00.123456789012345678Z"}, "either"))
    cases.append(Case("task_status-completed-now-upper-case", PATCH, "completed", {"completed": " NOW "}, "either"))
    # the same edges through a raw patch operation
    for label, value in stamps[:3]:
        operation = [{"op": "replace", "path": "/completed", "value": value}]
        cases.append(Case(f"task_status-patch-completed-{label}", PATCH, "patch", {"patch": operation}))
    return cases


def _patch_cases():
    patches = [
        ("remove-op", [{"op": "remove", "path": "/progress"}], "refuse"),
        ("nan-percent", [{"op": "replace", "path": "/percentComplete", "value": NAN}], "refuse"),
        ("huge-percent", [{"op": "replace", "path": "/percentComplete", "value": HUGE_INT}], "refuse"),
        ("null-value", [{"op": "replace", "path": "/progress", "value": None}], "refuse"),
        ("no-op-key", [{"path": "/progress", "value": "x"}], "refuse"),
        ("unknown-status", [{"op": "add", "path": "/completionStatus", "value": "DONE"}], "refuse"),
        ("read-only-field", [{"op": "replace", "path": "/id", "value": "other"}], "refuse"),
        ("test-on-unknown-long-path", [{"op": "test", "path": "/" + "x" * 5000, "value": 1}], "refuse"),
        ("path-traversal", [{"op": "replace", "path": "/../completionStatus", "value": "ERROR"}], "refuse"),
        ("not-dicts", ["replace /progress"], "refuse"),
        ("deeply-nested-value", [{"op": "test", "path": "/attributes", "value": _nested(200)}], "either"),
    ]
    return [Case(f"task_status-patch-{label}", PATCH, "patch", {"patch": value}, expect) for label, value, expect in patches]


def _nested(depth):
    value: object = "leaf"
    for _level in range(depth):
        value = {"a": value}
    return value


def _id_cases():
    bad_ids = [
        ("path-traversal", "../../v2025/task-status"),
        ("slash", "a/b"),
        ("encoded-dots", "%2e%2e"),
        ("query", "x?limit=1"),
        ("fragment", "x#y"),
        ("backslash", "a\\b"),
        ("nul", "abc\x00def"),
        ("newline-header-injection", "abc\r\nX-Injected: 1"),
        ("empty", ""),
        ("blank", "   "),
        ("dot", "."),
    ]
    cases = []
    for label, value in bad_ids:
        cases.append(Case(f"task_status_info-id-{label}", INFO, "id", {"id": value}))
        cases.append(Case(f"task_status-id-{label}", PATCH, "id", {"id": value}))
    cases += [
        Case("task_status-ids-repeated", PATCH, "ids", {"ids": ["{pending}", "{pending}"], "id": DROP}),
        Case("task_status-ids-traversal-among-good", PATCH, "ids", {"ids": ["{pending}", "../x"], "id": DROP}),
        # Ansible turns a dict element into its text; ISC then finds no such task
        Case("task_status-ids-not-strings", PATCH, "ids", {"ids": [{"id": "x"}], "id": DROP}, "either"),
        Case("task_status-ids-and-id", PATCH, "ids", {"ids": ["{pending}"]}),
        Case("task_status_info-id-non-ascii", INFO, "id", {"id": "t\u00e2che-\u4efb\u52a1"}, "either"),
        Case("task_status_info-id-bidi-override", INFO, "id", {"id": "abc\u202edef"}, "either"),
        Case("task_status_info-id-very-long", INFO, "id", {"id": "a" * 100_000}, "either"),
    ]
    return cases


def _connection_cases():
    url = "base_url"
    cases = [
        Case("base_url-unclosed-ipv6", INFO, url, {url: "http://[::1"}),
        Case("base_url-bad-port", INFO, url, {url: "http://127.0.0.1:99999/acme"}),
        Case("base_url-non-numeric-port", INFO, url, {url: "http://127.0.0.1:port/acme"}),
        Case("base_url-user-info", INFO, url, {url: "http://admin:" + PASSWORD + "@{hostport}/acme"}, probes=(PASSWORD,)),
        Case("base_url-user-info-task_status", PATCH, url, {url: "http://admin:" + PASSWORD + "@{hostport}/acme"}, probes=(PASSWORD,)),
        Case("base_url-ftp", INFO, url, {url: "ftp://{hostport}/acme"}),
        Case("base_url-no-host", INFO, url, {url: "http://"}),
        Case("base_url-query", INFO, url, {url: "{base_url}?tenant=other"}),
        Case("base_url-version-suffix", INFO, url, {url: "{base_url}/v2025"}),
        Case("base_url-space-in-host", INFO, url, {url: "http://127.0.0. 1/acme"}),
        Case("base_url-control-character", INFO, url, {url: "http://{hostport}/acme\x00"}),
        Case("base_url-newline", INFO, url, {url: "http://{hostport}/acme\r\nX-Injected: 1"}),
        Case("base_url-not-a-url", INFO, url, {url: "acme"}),
        Case("base_url-javascript", INFO, url, {url: "javascript:alert(1)"}),
        Case("base_url-very-long", INFO, url, {url: "http://{hostport}/" + "a" * 100_000}, "either"),
        Case("base_url-dot-segments", INFO, url, {url: "{base_url}/../globex"}, "either"),
        Case("base_url-upper-case-scheme", INFO, url, {url: "HTTP://{hostport}/acme"}, "either"),
        Case("base_url-and-tenant", INFO, "tenant", {"tenant": "acme"}),
        # with the default retries: where nothing (or nothing speaking HTTP) answers, a retry cannot help
        Case("base_url-closed-port", INFO, url, {url: "http://127.0.0.1:1/acme", "retries": DROP}, "fail-fast"),
        Case("base_url-unresolvable-host", INFO, url, {url: "https://acme.api.identitynow.invalid", "retries": DROP}, "fail-fast"),
        Case("base_url-https-on-an-http-port", INFO, url, {url: "https://{hostport}/acme", "retries": DROP}, "fail-fast"),
        Case("tenant-unresolvable", INFO, "tenant", {"tenant": "no-such-tenant", url: DROP, "retries": DROP}, "fail-fast"),
        Case("tenant-dotted", INFO, "tenant", {"tenant": "acme.evil.example", url: DROP}),
        Case("tenant-traversal", INFO, "tenant", {"tenant": "../acme", url: DROP}),
        Case("tenant-too-long", INFO, "tenant", {"tenant": "a" * 64, url: DROP}),
        Case("tenant-non-ascii", INFO, "tenant", {"tenant": "\u00e4cme", url: DROP}),
        Case("ca_path-missing-file", INFO, "ca_path", {"ca_path": "/nonexistent/hostile/ca.pem"}),
        Case("ca_path-missing-file-task_status", PATCH, "ca_path", {"ca_path": "/nonexistent/hostile/ca.pem"}),
        Case("ca_path-nul", INFO, "ca_path", {"ca_path": "/tmp/ca\x00.pem"}),
        # a file that is no CA bundle, as an AWX credential's CA field pasted wrong gives one: never "turn verification off"
        Case("ca_path-not-pem", INFO, "ca_path", {"ca_path": "/etc/passwd", url: "https://{hostport}/acme"}, probes=("validate_certs: false",)),
        Case("ca_path-a-device", INFO, "ca_path", {"ca_path": "/dev/zero", url: "https://{hostport}/acme"}, probes=("validate_certs: false",)),
        # requests takes an https request's CA bundle from these variables when ca_path is not set
        Case(
            "env-REQUESTS_CA_BUNDLE-missing",
            INFO,
            "ca_path",
            {url: "https://{hostport}/acme"},
            env={"REQUESTS_CA_BUNDLE": "/nonexistent/hostile/bundle.pem"},
            env_name="REQUESTS_CA_BUNDLE",
        ),
        Case("env-CURL_CA_BUNDLE-not-pem", INFO, "ca_path", {url: "https://{hostport}/acme"}, env={"CURL_CA_BUNDLE": "/etc/passwd"}, env_name="CURL_CA_BUNDLE"),
        Case("rate_limit-zero-requests", INFO, "rate_limit", {"rate_limit": "0/10"}),
        Case("rate_limit-nan", INFO, "rate_limit", {"rate_limit": "nan/10"}),
        Case("rate_limit-infinite-window", INFO, "rate_limit", {"rate_limit": "100/inf"}),
        Case("rate_limit-negative-window", INFO, "rate_limit", {"rate_limit": "100/-1"}),
        Case("rate_limit-huge-count", INFO, "rate_limit", {"rate_limit": "1e999/10"}),
        Case("rate_limit-no-window", INFO, "rate_limit", {"rate_limit": "100"}),
        Case("rate_limit-off-upper-case", INFO, "rate_limit", {"rate_limit": "OFF"}, "either"),
        Case("api_version-unknown", INFO, "api_version", {"api_version": "v9999"}),
        Case("api_version-upper-case", INFO, "api_version", {"api_version": "BETA"}),
        Case("validate_certs-word", INFO, "validate_certs", {"validate_certs": "maybe"}),
        Case("client_secret-empty", INFO, "client_secret", {"client_secret": ""}),
        Case("client_id-empty", INFO, "client_id", {"client_id": ""}),
        Case("client_id-without-secret", INFO, "client_secret", {"client_secret": DROP}),
        Case("client_id-header-injection", INFO, "client_id", {"client_id": "x\r\nX-Injected: 1"}, "either"),
        Case("client_secret-non-ascii", INFO, "client_secret", {"client_secret": "s\u00e9cr\u00e8t-\u79d8\u5bc6"}, "either"),
        Case("access_token-space", INFO, "access_token", {"access_token": "tok en", "client_id": DROP, "client_secret": DROP}),
        Case("access_token-newline", INFO, "access_token", {"access_token": "token\r\nX-Injected: 1", "client_id": DROP, "client_secret": DROP}),
        Case("access_token-non-latin", INFO, "access_token", {"access_token": "t\u00f6ken-\u4ee4\u724c", "client_id": DROP, "client_secret": DROP}),
        Case("access_token-and-client_id", INFO, "access_token", {"access_token": "abc"}),
        Case(
            "access_token-huge",
            INFO,
            "access_token",
            {"access_token": "a" * 200_000, "client_id": DROP, "client_secret": DROP},
            "either",
        ),
    ]
    env_url = {"base_url": DROP}
    env_cases = [
        ("env-base_url-unclosed-ipv6", "SAIL_BASE_URL", "http://[::1", "base_url", ()),
        ("env-base_url-user-info", "SAIL_BASE_URL", "http://admin:" + PASSWORD + "@{hostport}/acme", "base_url", (PASSWORD,)),
        ("env-base_url-bad-port", "SAIL_BASE_URL", "http://127.0.0.1:99999/acme", "base_url", ()),
        ("env-base_url-empty", "SAIL_BASE_URL", "", "base_url", ()),
        ("env-base_url-version-suffix", "SAIL_BASE_URL", "{base_url}/beta", "base_url", ()),
    ]
    for name, variable, value, option, probes in env_cases:
        cases.append(Case(name, INFO, option, dict(env_url), env={variable: value}, env_name=variable, probes=probes))
    cases += [
        Case(
            "env-access_token-newline",
            INFO,
            "access_token",
            {"client_id": DROP, "client_secret": DROP},
            env={"SAIL_ACCESS_TOKEN": "abc\ndef"},
            env_name="SAIL_ACCESS_TOKEN",
        ),
        Case("env-client_secret-empty", INFO, "client_secret", {"client_secret": DROP}, env={"SAIL_CLIENT_SECRET": ""}, env_name="SAIL_CLIENT_SECRET"),
        Case("env-ca_path-missing-file", INFO, "ca_path", {}, env={"SAIL_CA_PATH": "/nonexistent/hostile/ca.pem"}, env_name="SAIL_CA_PATH"),
        Case("env-api_version-unknown", INFO, "api_version", {}, env={"SAIL_API_VERSION": "v9999"}, env_name="SAIL_API_VERSION"),
        Case("env-rate_limit-nan", INFO, "rate_limit", {}, env={"SAIL_RATE_LIMIT": "nan/10"}, env_name="SAIL_RATE_LIMIT"),
        Case("env-rate_limit-zero-window", INFO, "rate_limit", {}, env={"SAIL_RATE_LIMIT": "100/0"}, env_name="SAIL_RATE_LIMIT"),
        Case(
            "env-base_url-task_status-unclosed-ipv6",
            PATCH,
            "base_url",
            dict(env_url),
            env={"SAIL_BASE_URL": "http://[::1"},
            env_name="SAIL_BASE_URL",
        ),
    ]
    return cases


def _selector_cases():
    long_text = "x" * 100_000
    return [
        Case("task_status_info-completion_status-done", INFO, "completion_status", {"completion_status": ["DONE"]}),
        Case("task_status_info-completion_status-empty", INFO, "completion_status", {"completion_status": [""]}),
        Case("task_status_info-completion_status-with-pending", INFO, "completion_status", {"completion_status": ["ERROR"], "scope": "pending"}),
        Case("task_status_info-scope-upper", INFO, "scope", {"scope": "PENDING"}),
        Case("task_status_info-sorters-unknown-field", INFO, "sorters", {"sorters": "modified"}),
        Case("task_status_info-sorters-injection", INFO, "sorters", {"sorters": "created&limit=1"}),
        Case("task_status_info-wait-without-id", INFO, "wait", {"wait": True}),
        Case("task_status_info-count-word", INFO, "count", {"count": "maybe"}),
        Case("task_status_info-filters-with-id", INFO, "filters", {"filters": 'type eq "X"', "id": "{completed}"}),
        Case("task_status_info-type-quote-injection", INFO, "type", {"type": ['A" or type eq "B']}, "either"),
        Case("task_status_info-unique_name-control-characters", INFO, "unique_name", {"unique_name": ["a\x00b\x1b[2J"]}, "either"),
        Case("task_status_info-unique_name-very-long", INFO, "unique_name", {"unique_name": [long_text]}, "either"),
        Case("task_status_info-source_id-empty-string", INFO, "source_id", {"source_id": [""]}),
        Case("task_status_info-launcher-non-ascii", INFO, "launcher", {"launcher": ["\u00e9quipe-\u56e2\u961f"]}, "either"),
        Case("task_status_info-filters-unbalanced", INFO, "filters", {"filters": "(" * 5000}, "either"),
        Case("task_status-completion_status-done", PATCH, "completion_status", {"completion_status": "DONE"}),
        Case("task_status-completion_status-empty", PATCH, "completion_status", {"completion_status": ""}),
        Case("task_status-completion_status-nul", PATCH, "completion_status", {"completion_status": "ERROR\x00"}),
        Case("task_status-progress-megabyte", PATCH, "progress", {"progress": "p" * 1_000_000}, "either"),
        Case("task_status-progress-control-characters", PATCH, "progress", {"progress": "done\x00\x1b[31m\r\n"}, "either"),
        Case("task_status-progress-bidi", PATCH, "progress", {"progress": "\u202egnissecorp"}, "either"),
        Case("task_status-only_pending-word", PATCH, "only_pending", {"only_pending": "maybe"}),
        Case("task_status-guard-word", PATCH, "guard", {"guard": "maybe"}),
        Case("task_status-nothing-to-change", PATCH, "completion_status", {"completion_status": DROP}),
        # written for real, not in check mode: what ISC (the emulator) then does with the value
        Case("task_status-progress-control-characters-applied", PATCH, "progress", {"progress": "done\x00\x1b[31m\r\n"}, "either", check_mode=False),
        Case("task_status-progress-non-ascii-applied", PATCH, "progress", {"progress": "termin\u00e9 \u2713 \U0001f600"}, "either", check_mode=False),
    ]


CASES = _numeric_cases() + _duration_cases() + _timestamp_cases() + _patch_cases() + _id_cases() + _connection_cases() + _selector_cases()
assert len({case.name for case in CASES}) == len(CASES), "corpus case names must be unique"
