"""--validate-requests: each API request checked against SailPoint's OpenAPI file of its operation and version first.

Only a validating emulator imports this module: openapi-core alone takes most of a second to import, and the
emulator must start fast and serve at full speed without it.
"""

from __future__ import annotations

import threading
import urllib.parse

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads
from openapi_core.security.factories import SecurityProviderFactory
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.validation.request.exceptions import ParameterValidationError
from werkzeug.datastructures import Headers, ImmutableMultiDict

from isc_emulator.spec import spec_path

# The files' servers are https://{tenant}.api.identitynow.com/<version>; the emulator serves a tenant at /<tenant>.
SPEC_HOST = "https://%s.api.identitynow.com"
PATCH_TYPE = "application/json-patch+json"
MAX_MESSAGE = 200


def _accept(_parameters):
    return None


class _AuthLeftToEmulator(SecurityProviderFactory):
    """Every scheme the files declare is oauth2, which openapi-core cannot check: it would pass any request and
    warn on each. Requests are validated without security; the emulator's own check answers 401 as ISC does."""

    def create(self, scheme):
        return _accept


def _build(spec_name):
    # openapi-core 0.23 reads only application/json and vnd.api+json bodies as JSON; without this it would
    # validate a JSON Patch body as bytes and refuse every PATCH.
    config = Config(security_provider_factory=_AuthLeftToEmulator(), extra_media_type_deserializers={PATCH_TYPE: json_loads})
    return OpenAPI.from_file_path(str(spec_path(spec_name)), config=config).request_validator


def task_status_path(version, tail):
    """The path of a task-status request as its version's file writes it; v1's file puts the version second."""
    rest = "".join("/" + part for part in tail)
    return "/task-status/v1" + rest if version.spec == "v1" else "/%s/task-status%s" % (version.spec, rest)


class SpecRequest:
    """An emulator request as openapi-core's Request protocol sees it: on the specification's server and path."""

    def __init__(self, tenant_name, path, request):
        self.host_url = SPEC_HOST % tenant_name
        self.path = path
        self.method = request.method.lower()
        self.body = request.body
        self.content_type = request.headers.get("content-type", "").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(urllib.parse.parse_qsl(request.query, keep_blank_values=True)),
            header=Headers(request.headers),
        )


def _where(problem):
    if isinstance(problem, ParameterValidationError):
        return "%s.%s" % (problem.location, problem.name)
    return "body"


def _pointer(path):
    """body[3].value for a jsonschema error at (3, "value")."""
    return "".join("[%d]" % part if isinstance(part, int) else "." + str(part) for part in path)


def _text(problem):
    # Some of openapi-core's errors quote the body as UTF-8 when printed, and fail on a body that is not.
    try:
        return str(problem)
    except ValueError:
        return "%s (the body is not UTF-8)" % type(problem).__name__


def describe(problem):
    """One short line per violation, naming where it is: query.limit: 500 is greater than the maximum of 250."""
    where, cause = _where(problem), problem.__cause__ or problem
    schema_errors = getattr(cause, "schema_errors", None)
    if not schema_errors:
        return "%s: %s" % (where, _text(cause)[:MAX_MESSAGE])
    return "; ".join("%s%s: %s" % (where, _pointer(error.absolute_path), error.message[:MAX_MESSAGE]) for error in schema_errors)


class RequestCheck:
    """Validators built once per specification file, on first use, shared by every serving thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._validators = {}

    def _validator(self, spec_name):
        validator = self._validators.get(spec_name)
        if validator is None:
            with self._lock:
                validator = self._validators.get(spec_name)
                if validator is None:
                    validator = self._validators[spec_name] = _build(spec_name)
        return validator

    def violation(self, tenant_name, version, request, tail):
        """None when the task-status request matches its operation in the specification, else the violations as short text."""
        return self.violation_at(version.spec, task_status_path(version, tail), tenant_name, request)

    def violation_at(self, spec_name, path, tenant_name, request):
        """The same for any request, given its specification file (see spec_path) and its path as that file writes it."""
        problems = list(self._validator(spec_name).iter_errors(SpecRequest(tenant_name, path, request)))
        # A path or method the specification lacks is the emulator's to refuse with 404 or 405, as ISC does.
        if not problems or isinstance(problems[0], PathError):
            return None
        return "; ".join(describe(problem) for problem in problems)
