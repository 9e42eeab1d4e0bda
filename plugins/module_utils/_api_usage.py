# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service layer of api_usage_info: the tenant's API calls in a span, from ``GET /api-usage/count``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ansible_collections.sailpoint.isc.plugins.module_utils import _filters as isc_filters
from ansible_collections.sailpoint.isc.plugins.module_utils._client import API_VERSIONS
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import OptionError, ServerAnswerError

# The versions that have the operation.
USAGE_VERSIONS = ("v2025", "v2026", "v1")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class UsagePlan:
    """One validated run of api_usage_info."""

    path: str
    filters: str | None


def _date(params, option) -> str | None:
    value = params.get(option)
    if value is None:
        return None
    text = str(value).strip()
    try:
        if not _DATE.match(text):
            raise ValueError
        date.fromisoformat(text)
    except ValueError:
        raise OptionError(f"{option} must be a date such as 2026-01-31 (YYYY-MM-DD), got {value!r}") from None
    return text


def plan_usage(params: dict) -> UsagePlan:
    """The request, checked before any is sent; OptionError naming the option otherwise."""
    version = params.get("api_version")
    if version not in USAGE_VERSIONS:
        raise OptionError(
            f"api_version must be one of {', '.join(USAGE_VERSIONS)} for api_usage_info (ISC has GET /api-usage/count from v2025 on), got {version!r}"
        )
    method = params.get("method")
    if method is not None and str(method).upper() not in METHODS:
        raise OptionError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    start, end = _date(params, "start_date"), _date(params, "end_date")
    if start and end and start > end:
        raise OptionError(f"start_date {start} is after end_date {end}")
    conditions = [
        f"method eq {isc_filters.quote(str(method).upper())}" if method is not None else None,
        f"startDate gt {isc_filters.quote(start)}" if start else None,
        f"endDate lt {isc_filters.quote(end)}" if end else None,
    ]
    # plain conditions: the operation's documentation shows no parentheses
    filters = " and ".join(condition for condition in conditions if condition) or None
    return UsagePlan(path=API_VERSIONS[version].resource("api-usage") + "/count", filters=filters)


def read_usage(client, plan: UsagePlan) -> dict:
    """The module result: ``usage`` as ISC answered it (``NumberOfCalls``)."""
    body = client.get_object(plan.path, what="a count of API calls", id_required=False, params={"filters": plan.filters} if plan.filters else None)
    calls = body.get("NumberOfCalls")
    if not isinstance(calls, int) or isinstance(calls, bool) or calls < 0:
        raise ServerAnswerError(
            client.redactor.text(
                f"GET {plan.path}: ISC answered with NumberOfCalls {str(calls)[:40]!r}, which is not what its API specifies (a count of calls)"
            )
        )
    return {"changed": False, "usage": body}
