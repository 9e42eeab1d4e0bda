# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection options of every module: one table drives the argument spec and the env fallbacks.

``plugins/doc_fragments/connection.py`` documents the same table; a unit test compares the two.
"""

from __future__ import annotations

import math
import os
import re
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.parameters import AnsibleFallbackNotFound

from ansible_collections.sailpoint.isc.plugins.module_utils._client import API_VERSIONS, IscClient
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import OptionError
from ansible_collections.sailpoint.isc.plugins.module_utils._numbers import bounded
from ansible_collections.sailpoint.isc.plugins.module_utils._pacing import PaceFile, parse_rate_limit


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
    ConnectionOption("tenant", "str", env="SAIL_TENANT"),
    ConnectionOption("client_id", "str", env="SAIL_CLIENT_ID"),
    ConnectionOption("client_secret", "str", env="SAIL_CLIENT_SECRET", no_log=True),
    ConnectionOption("access_token", "str", env="SAIL_ACCESS_TOKEN", no_log=True),
    ConnectionOption("api_version", "str", default="beta", env="SAIL_API_VERSION", choices=tuple(API_VERSIONS)),
    ConnectionOption("validate_certs", "bool", default=True),
    ConnectionOption("ca_path", "path", env="SAIL_CA_PATH"),
    ConnectionOption("timeout", "float", default=30.0),
    ConnectionOption("retries", "int", default=5),
    ConnectionOption("rate_limit", "str", default="100/10", env="SAIL_RATE_LIMIT"),
)
DEFAULTS = {option.name: option.default for option in CONNECTION_OPTIONS}
# Beyond these a value is a typing error, not a wish: an hour without an answer, or twenty tries of one request.
MAX_TIMEOUT = 3600.0
MAX_RETRIES = 20

TENANT_HOST = "https://{tenant}.api.identitynow.com"

# A tenant name becomes a host name label: anything else (a slash, a dot, a scheme) would redirect the client.
_TENANT_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_VERSION_SUFFIX = re.compile(r"/(beta|v\d{1,4}|task-status)/?$")
# An access token travels in an HTTP header, which carries only latin-1; ISC's tokens (JWTs) are printable ASCII.
_TOKEN_PATTERN = re.compile(r"[!-~]+")


def _infinite(value) -> bool:
    text = str(value).strip().lower().lstrip("+-")
    return text in ("inf", "infinity") if isinstance(value, str) else isinstance(value, float) and math.isinf(value)


def build_module(argument_spec: dict, **kwargs) -> AnsibleModule:
    """The AnsibleModule of a module of this collection, with two guards ansible-core lacks.

    ansible-core converts an ``int`` option with ``int()``, which raises OverflowError for infinity instead of its
    own argument error, so the module would end in a traceback: such an option is read as ``raw`` instead and the
    module fails naming it. A password in ``base_url``'s user-info part (refused later) is masked like a no_log value,
    so that not even the invocation shown with the failure holds it.
    """
    try:
        module = AnsibleModule(argument_spec=argument_spec, **kwargs)
    except OverflowError:
        relaxed = {name: dict(spec, type="raw") if spec.get("type") == "int" else spec for name, spec in argument_spec.items()}
        module = AnsibleModule(argument_spec=relaxed, **kwargs)
        bad = sorted(name for name, spec in argument_spec.items() if spec.get("type") == "int" and _infinite(module.params.get(name)))
        module.fail_json(msg=f"{bad[0] if bad else 'an integer option'} must be a whole number, got infinity")
    _mask_user_info(module)
    return module


def _mask_user_info(module) -> None:
    for value in (module.params.get("base_url"), os.environ.get("SAIL_BASE_URL")):
        try:
            parts = urlsplit(str(value or "").strip())
            user, password = parts.username, parts.password
        except ValueError:
            continue
        for secret in (password, f"{user}:{password}" if user and password else None):
            if secret:
                module.no_log_values.add(secret)


def set_env_fallback(*names):
    """The first of the environment variables ``names`` that is set and not empty.

    AWX injects every variable of a credential type, those of inputs left empty as empty strings: an empty variable
    counts as not set, so the option's default applies.
    """
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    raise AnsibleFallbackNotFound


def argument_spec() -> dict:
    """The argument spec of the connection options, to merge with a module's own options."""
    spec = {}
    for option in CONNECTION_OPTIONS:
        entry = {"type": option.type}
        if option.default is not None:
            entry["default"] = option.default
        if option.env:
            entry["fallback"] = (set_env_fallback, [option.env])
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


def _shown(url: str) -> str:
    """A URL as an error may show it: without user-info, query or fragment, which can hold a password or a token."""
    scheme, _sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    path = rest[len(rest.split("/", 1)[0]) :].split("?", 1)[0].split("#", 1)[0]
    return f"{scheme}://{host}{path}" if _sep else "(not a URL)"


def resolve_base_url(params: dict) -> str:
    """The API root (no version) from ``base_url`` or ``tenant``."""
    chosen = _exclusive(params, "base_url", "tenant")
    if chosen is None:
        raise OptionError("no tenant given: set base_url (or SAIL_BASE_URL), e.g. https://acme.api.identitynow.com, or tenant, e.g. acme")
    if chosen == "tenant":
        tenant = str(params["tenant"])
        if not _TENANT_PATTERN.match(tenant):
            raise OptionError(f"tenant {tenant!r} is not a tenant name: use only letters, digits and inner hyphens, e.g. acme; set base_url for any other host")
        return TENANT_HOST.format(tenant=tenant.lower())
    base_url = str(params["base_url"]).strip().rstrip("/")
    shown = _shown(base_url)
    if any(ord(char) < 33 or ord(char) == 127 for char in base_url):
        raise OptionError(f"base_url {shown!r} contains spaces or control characters")
    try:
        parts = urlsplit(base_url)
        hostname, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise OptionError(f"base_url {shown!r} is not a valid URL ({exc}), e.g. https://acme.api.identitynow.com") from None
    if "@" in parts.netloc:
        raise OptionError(f"base_url {shown!r} must not carry a user name or password; give the credentials as client_id and client_secret (or access_token)")
    if parts.scheme not in ("http", "https") or not hostname:
        raise OptionError(f"base_url {shown!r} is not an http(s) URL, e.g. https://acme.api.identitynow.com")
    if parts.query or parts.fragment:
        raise OptionError(f"base_url {shown!r} must not carry a query or a fragment")
    if _VERSION_SUFFIX.search(parts.path):
        raise OptionError(f"base_url {shown!r} ends with an API version; give the API root without it and choose the version with api_version")
    return base_url


def resolve_credentials(params: dict) -> dict:
    """``access_token`` or the client credentials, whichever applies."""
    chosen = _exclusive(params, "access_token", "client_id")
    if chosen == "access_token":
        if not _TOKEN_PATTERN.fullmatch(str(params["access_token"])):
            # the token itself is never shown: a message may end up in a log
            raise OptionError("access_token (or SAIL_ACCESS_TOKEN) is not an access token: it must be printable ASCII without spaces or line breaks")
        return {"access_token": params["access_token"]}
    if chosen is None:
        raise OptionError("no credentials given: set client_id and client_secret (or SAIL_CLIENT_ID and SAIL_CLIENT_SECRET), or access_token")
    if not params.get("client_secret"):
        raise OptionError("client_id is set but client_secret is not: set both (or SAIL_CLIENT_ID and SAIL_CLIENT_SECRET)")
    return {"client_id": params["client_id"], "client_secret": params["client_secret"]}


def _value(params: dict, name: str):
    """An option's value; its default from CONNECTION_OPTIONS when a caller other than Ansible left it out."""
    value = params.get(name)
    return DEFAULTS[name] if value is None else value


def _bundle_problem(path: str) -> str:
    """Why ``path`` cannot serve as a CA bundle ("" when it can): missing, not a file or folder, or no PEM inside."""
    if os.path.isdir(path):
        return ""
    if not os.path.exists(path):
        return "does not exist"
    if not os.path.isfile(path):
        return "is not a file or a directory"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except (ssl.SSLError, ValueError) as error:
        return f"holds no PEM certificate ({getattr(error, 'reason', None) or error})"
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    return ""


BUNDLE_HELP = "give a file of PEM CA certificates (-----BEGIN CERTIFICATE----- blocks) or a directory of them"


def _ca_path(params: dict):
    path = params.get("ca_path")
    if path is None:
        return None
    path = os.path.expanduser(str(path))
    problem = _bundle_problem(path)
    if problem:
        env = " (from SAIL_CA_PATH)" if _from_environment(params, "ca_path") else ""
        raise OptionError(f"ca_path{env} {path!r} {problem}: {BUNDLE_HELP}")
    return path


def _check_environment_bundle(base_url: str, validate_certs: bool, ca_path) -> None:
    """requests takes the CA bundle of an https request from REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE when neither
    ca_path nor validate_certs says otherwise; one it cannot use would end the run in its own traceback."""
    if not validate_certs or ca_path or not base_url.lower().startswith("https:"):
        return
    variable = next((name for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE") if os.environ.get(name)), None)
    if variable is None:
        return
    problem = _bundle_problem(os.environ[variable])
    if problem:
        raise OptionError(
            f"{variable} {os.environ[variable]!r} {problem}, and it is the CA bundle of every request because ca_path is not set: "
            f"set ca_path ({BUNDLE_HELP}), or correct or unset {variable}"
        )


def settings_from_params(params: dict) -> dict:
    """The keyword arguments of an ``IscClient`` for a module's params, every one checked; OptionError before any
    request, naming the option."""
    api_version = _value(params, "api_version")
    if api_version not in API_VERSIONS:
        raise OptionError(f"api_version must be one of {', '.join(API_VERSIONS)}, got {api_version!r}")
    try:
        rate_limit = parse_rate_limit(_value(params, "rate_limit"))
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    base_url, validate_certs, ca_path = resolve_base_url(params), bool(_value(params, "validate_certs")), _ca_path(params)
    _check_environment_bundle(base_url, validate_certs, ca_path)
    return dict(
        base_url=base_url,
        api_version=api_version,
        validate_certs=validate_certs,
        ca_path=ca_path,
        timeout=bounded("timeout", _value(params, "timeout"), 0, MAX_TIMEOUT, low_included=False),
        retries=bounded("retries", _value(params, "retries"), 0, MAX_RETRIES, kind=int),
        rate_limit=rate_limit,
        **resolve_credentials(params),
    )


def with_fallbacks(args: dict, environ=None) -> dict:
    """``args`` completed as Ansible would complete a module's params: each missing connection option from its
    ``SAIL_*`` variable, else its default. For callers that are not modules, such as the event source."""
    environ = os.environ if environ is None else environ
    params = dict(args)
    for option in CONNECTION_OPTIONS:
        if params.get(option.name) is None and option.env and environ.get(option.env) not in (None, ""):
            params[option.name] = environ[option.env]
        if params.get(option.name) is None:
            params[option.name] = option.default
    return params


def client_from_params(params: dict, warn=None, **hooks) -> IscClient:
    """An ``IscClient`` for a module's validated params; raises OptionError before any request.

    The client starts from the window the previous module run of the same client left (``PaceFile``); call its
    ``close()`` when done. ``hooks`` (``sleep``, ``clock``, ``pace_file``) are for tests and benchmarks.
    """
    settings = settings_from_params(params)
    hooks.setdefault("pace_file", PaceFile(settings["base_url"], settings.get("client_id"), settings["api_version"]))
    return IscClient(warn=warn, **settings, **hooks)
