# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.filter.checks import (
    FilterModule,
    completion_status,
    duration_seconds,
    safe_name,
    string_list,
    task_ids,
    tenant_name,
    whole_number,
)
from ansible_collections.sailpoint.isc.plugins.module_utils._durations import parse_duration
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import COMPLETION_STATUSES


@pytest.mark.parametrize(
    "text, seconds",
    [("90s", 90), ("30m", 1800), ("6h", 21600), ("2d", 172800), ("1w", 604800), ("1h30m", 5400), ("1h 30m", 5400), (" 6H ", 21600), ("45", 45), (45, 45)],
)
def test_duration_seconds_takes_what_the_modules_take(text, seconds):
    assert duration_seconds(text) == seconds == parse_duration(text)


@pytest.mark.parametrize("text", ["6 hours", "six hours", "-1h", "h", "1.5h", "", None, True, -3, "1y", "nan"])
def test_duration_seconds_refuses_what_the_modules_refuse_naming_the_variable(text):
    with pytest.raises(ValueError):
        parse_duration(text)
    with pytest.raises(AnsibleFilterError, match="^stuck_tasks_older_than must"):
        duration_seconds(text, "stuck_tasks_older_than")


@pytest.mark.parametrize(
    "value, expected",
    [
        ("error", "ERROR"),
        (" Terminated ", "TERMINATED"),
        (["success", "WARNING"], ["SUCCESS", "WARNING"]),
        ("ERROR,temperror", ["ERROR", "TEMPERROR"]),
        ([], []),
    ],
)
def test_completion_status_upper_cases_known_statuses(value, expected):
    assert completion_status(value) == expected


@pytest.mark.parametrize("value", ["DONE", "PENDING", "", None, 3, ["ERROR", "DONE"], "ERROR,DONE", [["ERROR"]]])
def test_completion_status_refuses_anything_else_naming_the_variable(value):
    with pytest.raises(
        AnsibleFilterError, match="^wait_for_tasks_failure_statuses: .* is not a completion status; use SUCCESS, WARNING, ERROR, TERMINATED, TEMPERROR"
    ):
        completion_status(value, "wait_for_tasks_failure_statuses")


def test_completion_status_knows_exactly_the_domain_statuses():
    assert completion_status(list(COMPLETION_STATUSES)) == list(COMPLETION_STATUSES)


@pytest.mark.parametrize(
    "host, base_url, name",
    [
        ("localhost", "https://acme.api.identitynow.com", "acme"),
        ("localhost", "https://ACME.api.identitynow.com/", "acme"),
        ("localhost", "https://acme.api.identitynow.com:443", "acme"),
        ("localhost", "https://acme-sb.api.identitynow-demo.com", "acme-sb"),
        ("localhost", "https://user:hunter2@acme.api.identitynow.com", "acme"),
        ("127.0.0.1", "http://127.0.0.1:8765/acme", "127.0.0.1_8765_acme"),
        ("localhost", "http://127.0.0.1:8765/acme/", "127.0.0.1_8765_acme"),
        ("localhost", "https://isc.example.com", "isc.example.com"),
        ("localhost", "https://isc.example.com:8443", "isc.example.com_8443"),
        ("localhost", "https://proxy.example.com/isc/acme", "proxy.example.com_isc_acme"),
        ("localhost", "http://[::1]:8765/acme", "__1_8765_acme"),
        ("localhost", "https://a.b.api.identitynow.com", "a.b.api.identitynow.com"),
        ("localhost", "http://127.0.0.1:8765/../../etc", "127.0.0.1_8765_.._.._etc"),
        ("localhost", "http://127.0.0.1:8765/a%2F..%2Fb", "127.0.0.1_8765_a_2F.._2Fb"),
        # no usable URL: the host's own name, and the modules refuse the URL naming their option
        ("localhost", "", "localhost"),
        ("localhost", None, "localhost"),
        ("localhost", "http://[::1", "localhost"),
        ("localhost", "http://host:notaport/x", "localhost"),
        ("localhost", "ftp://acme.api.identitynow.com", "localhost"),
        ("localhost", "acme", "localhost"),
        # an inventory of tenants names each by its host name
        ("acme", "https://globex.api.identitynow.com", "acme"),
        ("prod-eu", None, "prod-eu"),
        ("weird/name with spaces", None, "weird_name_with_spaces"),
        ("..", None, "_.."),
        (".hidden", None, "_.hidden"),
        ("-rf", None, "_-rf"),
    ],
)
def test_tenant_name(host, base_url, name):
    assert tenant_name(host, base_url) == name


def test_tenant_name_never_shows_a_password():
    assert "hunter2" not in tenant_name("localhost", "http://admin:hunter2@127.0.0.1:8765/acme")


@pytest.mark.parametrize("text", ["", ".", "..", "a" * 500, 'é/\\:*?"<>|\x00\u202e', "-", "normal.name_1-2"])
def test_safe_name_is_one_harmless_path_component(text):
    name = safe_name(text)
    assert name and len(name) <= 129
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    assert name[0] not in ".-"


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"duration_seconds", "completion_status", "tenant_name", "whole_number", "string_list", "task_ids"}


def test_tenant_name_from_a_tenant_when_no_base_url_is_known():
    assert tenant_name("localhost", "", "Acme") == "acme"
    assert tenant_name("localhost", "https://globex.api.identitynow.com", "acme") == "globex"
    assert tenant_name("initech", None, "acme") == "initech"


@pytest.mark.parametrize("value", [float("inf"), "-inf", float("nan"), 1.5, "ten", None, True, 17, -1])
def test_whole_number_names_the_variable(value):
    with pytest.raises(AnsibleFilterError, match=r"^var must be a whole number from 0 to 16, got"):
        whole_number(value, "var", 0, 16)


@pytest.mark.parametrize("value, expected", [(3, 3), ("3", 3), (3.0, 3), ("16", 16)])
def test_whole_number_reads_whole_numbers(value, expected):
    assert whole_number(value, "var", 0, 16) == expected


@pytest.mark.parametrize("value", [5, [5], {"a": "b"}, ["a", ""], [None]])
def test_string_list_names_the_variable(value):
    with pytest.raises(AnsibleFilterError, match=r"^var must"):
        string_list(value, "var")


def test_string_list_reads_lists_and_comma_separated_text():
    assert string_list(["a ", "b"], "var") == ["a", "b"]
    assert string_list("a, b,", "var") == ["a", "b"]


@pytest.mark.parametrize("value", [["../../x"], ["a/b"], "ok,a?b"])
def test_task_ids_refuse_what_would_change_a_path(value):
    with pytest.raises(AnsibleFilterError, match=r"^ids\[\d\] .* is not a task id"):
        task_ids(value, "ids")
