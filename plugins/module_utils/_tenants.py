# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a tenant is named in summaries, reports, statistics and events, from its API base URL. Internal to this
collection: the runbooks' tenant_name filter and the event source take the rule from here."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Host names SailPoint gives tenants' APIs: https://<tenant>.api.identitynow.com and its demo-tenant twin.
ISC_API_DOMAINS = ("api.identitynow.com", "api.identitynow-demo.com")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
# Far below any file system's limit for one path component, and long enough for a host, a port and a path.
MAX_NAME_LENGTH = 128


def safe_name(text) -> str:
    """``text`` as one harmless path component: letters, digits, ``.``, ``_`` and ``-``, never hidden or an option."""
    name = _UNSAFE.sub("_", str(text))[:MAX_NAME_LENGTH]
    return "_" + name if not name or name[0] in ".-" else name


def tenant_from_url(base_url) -> str | None:
    """``acme`` for ``https://acme.api.identitynow.com``; for any other API root its host, port and path segments
    joined with ``_`` (``127.0.0.1_8765_acme``); None when it is no http(s) URL. Never a user name or password."""
    try:
        parts = urlsplit(str(base_url).strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    for domain in ISC_API_DOMAINS:
        tenant = host[: -len(domain) - 1] if host.endswith("." + domain) else ""
        if tenant and "." not in tenant:
            return safe_name(tenant)
    pieces = [host] + ([str(port)] if port is not None else []) + [segment for segment in parts.path.split("/") if segment]
    return safe_name("_".join(pieces))
