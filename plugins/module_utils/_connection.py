# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options of every module: one table drives the argument spec and the env fallbacks.

``plugins/doc_fragments/connection.py`` documents the same table; a unit test compares the two.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback

from ansible_collections.sailpoint.isc.plugins.module_utils._client import API_VERSIONS, IscClient
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import OptionError


@dataclass(frozen=True)
class ConnectionOption:
    name: str
    type: str
    default: object = None
    env: str | None = None
    no_log: bool = False
    choices: tuple | None = None


CONNECTION_OPTIONS = (
    ConnectionOption("base_url", "str", env="SAIL_BASE_URL"),
    ConnectionOption("tenant", "str"),
    ConnectionOption("client_id", "str", env="SAIL_CLIENT_ID"),
    ConnectionOption("client_secret", "str", env="SAIL_CLIENT_SECRET", no_log=True),
    ConnectionOption("access_token", "str", env="SAIL_ACCESS_TOKEN", no_log=True),
    ConnectionOption("api_version", "str", default="beta", choices=tuple(API_VERSIONS)),
    ConnectionOption("validate_certs", "bool", default=True),
    ConnectionOption("ca_path", "path"),
    ConnectionOption("timeout", "float", default=30.0),
    ConnectionOption("retries", "int", default=5),
)

TENANT_HOST = "https://{tenant}.api.identitynow.com"

# A tenant name becomes a host name label: anything else (a slash, a dot, a scheme) would redirect the client.
_TENANT_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_VERSION_SUFFIX = re.compile(r"/(beta|v\d{1,4}|task-status)/?$")
# An access token travels in an HTTP header, which carries only latin-1; ISC's tokens (JWTs) are printable ASCII.
_TOKEN_PATTERN = re.compile(r"[!-~]+")


def argument_spec() -> dict:
    """The argument spec of the connection options, to merge with a module's own options."""
    spec = {}
    for option in CONNECTION_OPTIONS:
        entry = {"type": option.type}
        if option.default is not None:
            entry["default"] = option.default
        if option.env:
            entry["fallback"] = (env_fallback, [option.env])
        if option.no_log:
            entry["no_log"] = True
        if option.choices:
            entry["choices"] = list(option.choices)
        spec[option.name] = entry
    return spec


def _env_name(name: str) -> str | None:
    return next((option.env for option in CONNECTION_OPTIONS if option.name == name), None)


def _from_environment(params: dict, name: str) -> bool:
    """Whether the value of ``name`` is the one its env fallback supplies.

    Ansible applies env fallbacks before it checks mutually exclusive options, so a ``SAIL_*`` variable set for
    the CLI would otherwise make an explicit option unusable. An explicit option wins over an env-supplied one.
    """
    env = _env_name(name)
    return bool(env) and params.get(name) is not None and os.environ.get(env) == params.get(name)


def _exclusive(params: dict, first: str, second: str) -> str | None:
    """Which of two mutually exclusive options applies (None when neither is set); OptionError if both do."""
    if params.get(first) is None or params.get(second) is None:
        return first if params.get(first) is not None else (second if params.get(second) is not None else None)
    first_env, second_env = _from_environment(params, first), _from_environment(params, second)
    if first_env != second_env:
        return second if first_env else first
    return _raise_exclusive(first, second)


def _raise_exclusive(first: str, second: str):
    sources = [f"{name} (or {_env_name(name)})" if _env_name(name) else name for name in (first, second)]
    raise OptionError(f"{sources[0]} and {sources[1]} are mutually exclusive; set only one of them")


def resolve_base_url(params: dict) -> str:
    """The API root (no version) from ``base_url`` or ``tenant``."""
    chosen = _exclusive(params, "base_url", "tenant")
    if chosen is None:
        raise OptionError("no tenant given: set base_url (or SAIL_BASE_URL), e.g. https://acme.api.identitynow.com, or tenant, e.g. acme")
    if chosen == "tenant":
        tenant = params["tenant"]
        if not _TENANT_PATTERN.match(tenant):
            raise OptionError(f"tenant {tenant!r} is not a tenant name: use only letters, digits and inner hyphens, e.g. acme; set base_url for any other host")
        return TENANT_HOST.format(tenant=tenant.lower())
    base_url = params["base_url"].rstrip("/")
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OptionError(f"base_url {base_url!r} is not an http(s) URL, e.g. https://acme.api.identitynow.com")
    if parts.query or parts.fragment:
        raise OptionError(f"base_url {base_url!r} must not carry a query or a fragment")
    if _VERSION_SUFFIX.search(parts.path):
        raise OptionError(f"base_url {base_url!r} ends with an API version; give the API root without it and choose the version with api_version")
    return base_url


def resolve_credentials(params: dict) -> dict:
    """``access_token`` or the client credentials, whichever applies."""
    chosen = _exclusive(params, "access_token", "client_id")
    if chosen == "access_token":
        if not _TOKEN_PATTERN.fullmatch(params["access_token"]):
            # the token itself is never shown: a message may end up in a log
            raise OptionError("access_token (or SAIL_ACCESS_TOKEN) is not an access token: it must be printable ASCII without spaces or line breaks")
        return {"access_token": params["access_token"]}
    if chosen is None:
        raise OptionError("no credentials given: set client_id and client_secret (or SAIL_CLIENT_ID and SAIL_CLIENT_SECRET), or access_token")
    if not params.get("client_secret"):
        raise OptionError("client_id is set but client_secret is not: set both (or SAIL_CLIENT_ID and SAIL_CLIENT_SECRET)")
    return {"client_id": params["client_id"], "client_secret": params["client_secret"]}


def client_from_params(params: dict, warn=None) -> IscClient:
    """An ``IscClient`` for a module's validated params; raises OptionError before any request."""
    if params.get("retries") is not None and params["retries"] < 0:
        raise OptionError(f"retries must be 0 or more, got {params['retries']}")
    if params.get("timeout") is not None and params["timeout"] <= 0:
        raise OptionError(f"timeout must be a positive number of seconds, got {params['timeout']}")
    return IscClient(
        resolve_base_url(params),
        api_version=params.get("api_version") or "beta",
        validate_certs=params.get("validate_certs", True),
        ca_path=params.get("ca_path"),
        timeout=params.get("timeout") or 30.0,
        retries=5 if params.get("retries") is None else params["retries"],
        warn=warn,
        **resolve_credentials(params),
    )
