"""The source-side operations behind the gateway (faults, auth, rate limit): who may call them, then the call."""

from __future__ import annotations

from isc_emulator import aggregations, multipart, sources
from isc_emulator.responses import error, json_response

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
LAUNCH_KINDS = {"load-accounts": aggregations.ACCOUNTS, "load-entitlements": aggregations.ENTITLEMENTS}


def kind(version_name, method, tail):
    """The request log's name of the operation (its ``kind``), or None for what is no operation."""
    found = sources.operation(version_name, tail)
    return found[0] if found and found[1] == method else None


def dispatch(emulator, tenant, version, request, tail, grant):
    found = sources.operation(version.name, tail)
    if found is None:
        return error(404, "No such path %s" % request.path[:200])
    name, method = found
    if request.method != method:
        return error(405, "Method %s is not allowed on %s" % (request.method, request.path[:200]))
    denied = sources.forbidden(grant, name, version.name)
    if denied is not None:
        return denied
    if name == "list-sources":
        return sources.list_sources(emulator, tenant, request)
    if name == "get-source":
        return sources.get_source(emulator, tenant, tail[1])
    if name == "source-health":
        return sources.source_health(emulator, tenant, tail[1])
    if name == "check-connection":
        return sources.check_connection(emulator, tenant, tail[1])
    if name == "aggregation-status":
        return aggregations.status_answer(emulator, tenant, request, tail[1])
    if name == "api-usage":
        return sources.api_usage(emulator, tenant, request, grant)
    return _launch(emulator, tenant, request, grant, tail[1], LAUNCH_KINDS[name])


def _form(request):
    """The body's fields; ValueError for a content type a launch does not take, MultipartError for a bad body."""
    content_type = request.headers.get("content-type", "")
    if not content_type.strip() and not request.body:
        return {}
    if content_type.split(";")[0].strip().lower() not in FORM_TYPES:
        raise ValueError("Content-Type must be multipart/form-data, not %r" % content_type[:80])
    return multipart.parse_form(content_type, request.body)


def _launch(emulator, tenant, request, grant, source_id, launch_kind):
    source = emulator.sources.get(tenant.name, source_id)
    if source is None:
        return error(400, "Source %s was not found; no aggregation was started" % source_id[:64])
    try:
        fields = _form(request)
    except multipart.MultipartError as problem:
        # ISC fails on a malformed multipart body with 500, so the emulator does too.
        return error(500, "Failed to read the multipart request: %s" % problem)
    except ValueError as problem:
        return error(415, str(problem))
    optimized = True
    if launch_kind == aggregations.ACCOUNTS and "disableOptimization" in fields:
        text = fields["disableOptimization"][0].decode("utf-8", "replace").strip().lower()
        if text not in ("true", "false"):
            return error(400, "disableOptimization must be true or false, not %r" % text[:40])
        optimized = text != "true"
    launches = emulator.launches
    refused = launches.fault_before(tenant.name)
    if refused is not None:
        return refused
    launcher = grant.claims.get("user_name") or grant.client_id
    task = launches.launch(tenant, launch_kind, source, launcher, optimized)
    return launches.fault_after(tenant.name, json_response(202, aggregations.launch_answer(launch_kind, task)))
