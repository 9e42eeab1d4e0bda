"""The API versions the emulator serves and what differs between them."""

from __future__ import annotations

import dataclasses

BASE_FIELDS = {
    "id": ("eq", "in"),
    "sourceId": ("eq", "in"),
    "completionStatus": ("eq", "in"),
    "type": ("eq", "in"),
}


@dataclasses.dataclass(frozen=True)
class ApiVersion:
    name: str
    has_pending_endpoint: bool
    list_includes_pending: bool
    filter_fields: dict
    spec: str
    experimental: bool

    def operators(self, field):
        return self.filter_fields.get(field)


def _fields(isnull=False, launcher=False):
    fields = dict(BASE_FIELDS)
    if isnull:
        fields["completionStatus"] = ("eq", "in", "isnull")
    if launcher:
        fields["launcher"] = ("eq", "in")
    return fields


VERSIONS = {
    "beta": ApiVersion("beta", True, False, _fields(), "beta", False),
    "v2024": ApiVersion("v2024", True, False, _fields(), "v2024", True),
    "v2025": ApiVersion("v2025", True, True, _fields(isnull=True), "v2025", True),
    "v2026": ApiVersion("v2026", False, True, _fields(isnull=True, launcher=True), "v2026", True),
    # The version-less service path the official Python SDK calls; it behaves like v2026, with a file of its own.
    "v1": ApiVersion("v1", False, True, _fields(isnull=True, launcher=True), "v1", False),
}


def get(version):
    """Accept a version name or an ApiVersion, so callers need not import the table."""
    if isinstance(version, ApiVersion):
        return version
    try:
        return VERSIONS[version]
    except KeyError:
        raise ValueError("unknown API version %r" % (version,)) from None
