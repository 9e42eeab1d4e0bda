# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters through which the roles apply the collection's own rules to their variables (documented in the
adjacent YAML files): the duration syntax of the modules, the completion statuses ISC knows, and the name a
runbook gives a tenant.

The roles call these instead of re-writing the rules in Jinja, so a role accepts exactly what the modules accept.
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.sailpoint.isc.plugins.module_utils._durations import parse_duration
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
        }
