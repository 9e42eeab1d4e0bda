# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters through which the roles apply the collection's own rules to their variables (documented in the
adjacent YAML files): the duration syntax of the modules, the completion statuses ISC knows, and the name a
runbook gives a tenant.

The roles call these instead of re-writing the rules in Jinja, so a role accepts exactly what the modules accept.
"""

from __future__ import annotations

import math

from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.module_utils._client import path_segment
from ansible_collections.sailpoint.isc.plugins.module_utils._durations import parse_duration
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import OptionError
from ansible_collections.sailpoint.isc.plugins.module_utils._tasks import COMPLETION_STATUSES
from ansible_collections.sailpoint.isc.plugins.module_utils._tenants import safe_name, tenant_from_url

# Names under which a play runs against the controller itself, where only the base URL tells the tenant.
LOCAL_HOSTS = frozenset(("localhost", "127.0.0.1", "::1"))


def duration_seconds(value, option="duration") -> int:
    """Seconds in a duration such as ``90s``, ``6h``, ``2d`` or ``1h30m``, the modules' ``older_than`` syntax."""
    try:
        return parse_duration(value, option)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


def _status(value, option):
    if isinstance(value, str) and value.strip().upper() in COMPLETION_STATUSES:
        return value.strip().upper()
    raise AnsibleFilterError(f"{option}: {value!r} is not a completion status; use {', '.join(COMPLETION_STATUSES)} (any case)")


def completion_status(value, option="completion_status"):
    """One completion status, or a list of them (a comma-separated string counts as a list), in upper case."""
    if isinstance(value, (list, tuple)):
        return [_status(item, option) for item in value]
    if isinstance(value, str) and "," in value:
        return [_status(item, option) for item in value.split(",") if item.strip()]
    return _status(value, option)


def whole_number(value, option, minimum=0, maximum=None) -> int:
    """``value`` as an int when it is a whole number from ``minimum`` to ``maximum``; an error naming ``option``
    otherwise (infinity, NaN, a fraction, text that is no number)."""
    bounds = f"from {minimum} to {maximum}" if maximum is not None else f"of {minimum} or more"
    try:
        number = float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError, OverflowError):
        number = None
    if number is None or not math.isfinite(number) or not number.is_integer() or number < minimum or (maximum is not None and number > maximum):
        raise AnsibleFilterError(f"{option} must be a whole number {bounds}, got {value!r}")
    return int(number)


def string_list(value, option) -> list:
    """A list of non-empty strings, from a list or one comma-separated string (as ``-e`` gives it); an error naming
    ``option`` for anything else, such as a number or a list holding one."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        raise AnsibleFilterError(f"{option} must be a list of strings (or one comma-separated string), got {value!r}")
    cleaned = [item.strip() for item in items]
    if any(not item for item in cleaned) and not isinstance(value, str):
        raise AnsibleFilterError(f"{option} must not contain empty values, got {value!r}")
    return [item for item in cleaned if item]


def task_ids(value, option) -> list:
    """A list of task ids as ``string_list`` reads it, each one the modules accept in a URL path."""
    ids = string_list(value, option)
    for index, task_id in enumerate(ids):
        try:
            path_segment(task_id, f"{option}[{index}]")
        except OptionError as error:
            raise AnsibleFilterError(error.message) from None
    return ids


def tenant_name(host, base_url=None, tenant=None) -> str:
    """The name a runbook gives the tenant of an inventory host: the host's own name, unless the play runs on the
    controller itself (``localhost``) against a base URL, whose tenant then names it, or against a tenant name."""
    if str(host).lower() in LOCAL_HOSTS and base_url:
        from_url = tenant_from_url(base_url)
        if from_url:
            return from_url
    if str(host).lower() in LOCAL_HOSTS and tenant:
        return safe_name(str(tenant).lower())
    return safe_name(host)


class FilterModule:
    """Rules the roles of the sailpoint.isc collection share with its modules."""

    def filters(self):
        return {
            "duration_seconds": duration_seconds,
            "completion_status": completion_status,
            "tenant_name": tenant_name,
            "whole_number": whole_number,
            "string_list": string_list,
            "task_ids": task_ids,
        }
