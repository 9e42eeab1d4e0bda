# Internal to the sailpoint.isc collection, not a public API: it may change in any release.
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors of the ISC client and their single mapping to ``fail_json``.

The client builds every error with text that already went through its redactor, so ``fail`` never has to know
a secret.
"""

from __future__ import annotations

import json

from ansible_collections.sailpoint.isc.plugins.module_utils._redact import Redactor

# How much of an error body that is not JSON a message quotes (masked before it is cut).
QUOTED_ERROR = 500


class IscError(Exception):
    """Base of every error the collection raises; ``message`` is safe to show."""

    def __init__(self, message: str, status: int | None = None, detail=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail


class OptionError(IscError):
    """A module option is invalid; raised before any request is sent."""


class AuthenticationError(IscError):
    """401: credentials refused, or a token that is missing, invalid or expired."""


class ForbiddenError(IscError):
    """403: a valid token without the right (e.g. PATCH without user context)."""


class NotFoundError(IscError):
    """404: unknown id, or a task older than ISC's 90 days of history."""


class ConflictError(IscError):
    """409: a JSON Patch ``test`` operation failed; nothing was changed."""


class RateLimitedError(IscError):
    """429 that was still answered after every retry."""


class BadRequestError(IscError):
    """400: ISC refused the request; ``message`` carries ISC's own explanation."""


class ServerError(IscError):
    """5xx that was still answered after every retry."""


class TransportError(IscError):
    """No HTTP answer: connection refused or dropped, TLS failure, timeout.

    ``maybe_sent`` is False only when the request certainly never reached the server (it could not connect).
    """

    def __init__(self, message: str, status: int | None = None, detail=None, maybe_sent: bool = True):
        super().__init__(message, status, detail)
        self.maybe_sent = maybe_sent


class ServerAnswerError(IscError):
    """ISC answered, but not as its API specifies (not JSON, a wrong shape, a missing header)."""


class WaitTimeoutError(IscError):
    """A wait ran out of time; ``detail`` holds the last state seen."""


# Answers the gateway gives before a request reaches the service: a non-idempotent write (a PATCH, a launch POST)
# answered so was certainly not applied, and may be sent again.
NOT_APPLIED_STATUSES = (429, 503)


def write_may_have_applied(error: IscError) -> bool:
    """Whether a failed non-idempotent write may still have been applied: the request may have left (no connect
    failure) and no answer proves it was refused before the service (any 5xx but 503, an answer not as specified)."""
    if isinstance(error, TransportError):
        return error.maybe_sent
    return isinstance(error, (ServerError, ServerAnswerError)) and error.status not in NOT_APPLIED_STATUSES


_BY_STATUS = {
    400: BadRequestError,
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}

_HINTS = {
    401: "check client_id and client_secret (or access_token) and the tenant",
    403: (
        "the credentials lack the right for this operation (a task PATCH needs a token with user context and the user level ORG_ADMIN, "
        "CERT_ADMIN or REPORT_ADMIN; an entitlement aggregation's launch one with user context at ORG_ADMIN)"
    ),
    429: "ISC kept rate limiting after every retry; raise retries or slow down",
}


def isc_messages(body) -> list[str]:
    """The human-readable texts of any of ISC's error shapes: ErrorResponseDto, ``{"error"}``, ``{"message"}``."""
    if not isinstance(body, dict):
        return []
    texts = [str(item.get("text")).strip() for item in body.get("messages") or [] if isinstance(item, dict) and item.get("text")]
    for key in ("error_description", "error", "message", "detailCode"):
        if not texts and body.get(key):
            texts.append(str(body[key]).strip())
    return texts


def error_from_response(method: str, path: str, status: int, body_text: str, redactor: Redactor | None = None) -> IscError:
    """The typed error for an HTTP error answer, with every secret ``redactor`` knows masked."""
    redactor = redactor or Redactor()
    try:
        body = json.loads(body_text) if body_text else None
    except ValueError:
        body = None
    texts = isc_messages(body) or ([redactor.excerpt(body_text.strip(), QUOTED_ERROR)] if body_text and body is None else [])
    parts = [f"{method} {path} failed with HTTP {status}"]
    if texts:
        parts.append("; ".join(texts))
    if status in _HINTS:
        parts.append(_HINTS[status])
    tracking_id = body.get("trackingId") if isinstance(body, dict) else None
    if tracking_id:
        parts.append(f"trackingId {tracking_id}")
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else IscError)
    detail = {"status": status, "method": method, "path": path, "body": body if body is not None else body_text}
    return cls(redactor.text(": ".join(parts)), status=status, detail=redactor.data(detail))


def fail(module, error: IscError, **result) -> None:
    """The one ``fail_json`` of every module for an ``IscError``."""
    extra = {"status": error.status} if error.status is not None else {}
    if error.detail is not None:
        extra["detail"] = error.detail
    module.fail_json(msg=error.message, **extra, **result)
