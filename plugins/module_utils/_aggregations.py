# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which tasks are account and which entitlement aggregations: the one table of the collection.

ISC reports every launched aggregation as ``type: QUARTZ`` and its ``type`` filter rejects some task-definition
names live, so the kind of an aggregation is told by its ``uniqueName`` (or its task definition's, when the task
carries a ``taskDefinitionSummary``). Tenants that run other aggregation task definitions extend the table with
``aggregation_kinds(extra)``.
"""

from __future__ import annotations

from ansible_collections.sailpoint.isc.plugins.module_utils._errors import OptionError

# The kinds of aggregation a source has, as source_aggregation's ``kind`` option names them.
KINDS = ("accounts", "entitlements")
# uniqueName -> kind, as ISC names the task definitions that aggregate a source.
AGGREGATION_KINDS = {
    "Cloud Account Aggregation": "accounts",
    "Cloud Group Aggregation": "entitlements",
    "Cloud Entitlement Import": "entitlements",
}


def aggregation_kinds(extra=None, option: str = "extra") -> dict:
    """The table, with ``extra`` ({uniqueName: kind}) added to it or overriding it; OptionError naming ``option``
    for a mapping that is not one. Keys compare without case, as ISC's strings do."""
    table = {name.lower(): kind for name, kind in AGGREGATION_KINDS.items()}
    if extra is None:
        return table
    if not isinstance(extra, dict):
        raise OptionError(f"{option} must map task uniqueNames to {' or '.join(KINDS)}, got {type(extra).__name__}")
    for name, kind in extra.items():
        if not isinstance(name, str) or not name.strip():
            raise OptionError(f"{option}: every key must be a task uniqueName (a non-empty string), got {name!r}")
        if kind not in KINDS:
            raise OptionError(f"{option}[{name!r}] must be {' or '.join(KINDS)}, got {kind!r}")
        table[name.strip().lower()] = kind
    return table


def aggregation_kind(task: dict, table: dict | None = None) -> str | None:
    """``accounts`` or ``entitlements`` for an aggregation task, None for any other task (or one that is no dict)."""
    if not isinstance(task, dict):
        return None
    table = aggregation_kinds() if table is None else table
    summary = task.get("taskDefinitionSummary")
    names = (task.get("uniqueName"), summary.get("uniqueName") if isinstance(summary, dict) else None)
    for name in names:
        if isinstance(name, str) and name.strip().lower() in table:
            return table[name.strip().lower()]
    return None
