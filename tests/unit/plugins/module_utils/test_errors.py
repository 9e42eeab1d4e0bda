# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json
from urllib.parse import quote_plus

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils import _errors as errors
from ansible_collections.sailpoint.isc.plugins.module_utils._redact import Redactor


def test_error_response_dto_text_and_tracking_id():
    body = {
        "detailCode": "400.1 Bad Request Content",
        "trackingId": "abc123",
        "causes": [],
        "messages": [{"locale": "en-US", "localeOrigin": "DEFAULT", "text": "Unsupported filter field 'foo'"}],
    }
    error = errors.error_from_response("GET", "/beta/task-status", 400, json.dumps(body))
    assert isinstance(error, errors.BadRequestError)
    assert error.message == "GET /beta/task-status failed with HTTP 400: Unsupported filter field 'foo': trackingId abc123"
    assert error.detail["body"] == body and error.status == 400


@pytest.mark.parametrize(
    "status, body, cls, text",
    [
        (401, {"error": "JWT validation failed: JWT is expired"}, errors.AuthenticationError, "JWT is expired"),
        (429, {"message": " Rate Limit Exceeded "}, errors.RateLimitedError, "HTTP 429: Rate Limit Exceeded"),
        (403, None, errors.ForbiddenError, "user context"),
        (404, None, errors.NotFoundError, "HTTP 404"),
        (409, {"messages": [{"text": "Test operation failed"}]}, errors.ConflictError, "Test operation failed"),
        (503, "<html>busy</html>", errors.ServerError, "busy"),
        (418, None, errors.IscError, "HTTP 418"),
    ],
)
def test_statuses_map_to_types(status, body, cls, text):
    error = errors.error_from_response("PATCH", "/v2025/task-status/x", status, body if isinstance(body, str) else json.dumps(body) if body else "")
    assert error.__class__ is cls  # exactly this class, not merely a subclass
    assert text in error.message


def test_secrets_never_reach_message_or_detail():
    secret = 'sec"ret/+='
    body = json.dumps({"error": f"bad client_secret={quote_plus(secret)}", "echo": secret})
    error = errors.error_from_response("POST", "/oauth/token", 401, body, Redactor([secret]))
    text = error.message + json.dumps(error.detail)
    for form in (secret, quote_plus(secret), json.dumps(secret)[1:-1]):
        assert form not in text


class _Module:
    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs


def test_fail_maps_one_error_to_one_fail_json():
    module = _Module()
    errors.fail(module, errors.NotFoundError("gone", status=404, detail={"x": 1}), tasks=[])
    assert module.failed == {"msg": "gone", "status": 404, "detail": {"x": 1}, "tasks": []}
    errors.fail(module, errors.OptionError("scope must be one of pending"))
    assert module.failed == {"msg": "scope must be one of pending"}
