"""Hostile requests: every one gets an HTTP answer naming the problem, and no tenant's tasks change."""

import base64
import json
import urllib.parse

import pytest
from emulator_helpers import exchange, running_emulator

from isc_emulator import server

TASK = "/acme/v2025/task-status"


def request(method, target, headers=(), body=b"", content_length=True):
    """Raw request bytes; ``headers`` as (name, value) pairs, values str or bytes."""
    lines = [("%s %s HTTP/1.1" % (method, target)).encode("latin-1") if isinstance(target, str) else method.encode() + b" " + target + b" HTTP/1.1"]
    lines.append(b"Host: 127.0.0.1")
    for name, value in headers:
        lines.append(name.encode("latin-1") + b": " + (value if isinstance(value, bytes) else value.encode("latin-1")))
    if content_length and body:
        lines.append(b"Content-Length: %d" % len(body))
    lines.append(b"Connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def form(**fields):
    return [("Content-Type", "application/x-www-form-urlencoded")], urllib.parse.urlencode(fields).encode()


def basic(raw):
    return ("Authorization", b"Basic " + base64.b64encode(raw))


def corpus(client_id, token, task_id):
    """(name, raw request, statuses it may get, words its answer must hold); every one leaves the tasks as they are."""
    bearer = ("Authorization", "Bearer " + token)
    patch_type = ("Content-Type", "application/json-patch+json")
    json_type = ("Content-Type", "application/json")
    cases = [
        ("nested JSON as a PATCH body", request("PATCH", TASK + "/" + task_id, [bearer, patch_type], b"[" * 100_000), {400}, "nested too deeply"),
        ("nested objects as a PATCH body", request("PATCH", TASK + "/" + task_id, [bearer, patch_type], b'{"a":' * 50_000), {400}, "nested too deeply"),
        (
            "nested JSON as a PATCH value",
            request("PATCH", TASK + "/" + task_id, [bearer, patch_type], b'[{"op":"test","path":"/x","value":' + b"[" * 100_000),
            {400},
            "",
        ),
        ("nested JSON to the faults control", request("POST", "/_control/faults", [json_type], b"[" * 100_000), {400}, "nested too deeply"),
        ("nested JSON to the hooks control", request("POST", "/_control/hooks", [json_type], b'{"after_read":' * 50_000), {400}, "nested too deeply"),
        ("nested JSON to the tasks control", request("POST", "/_control/tasks", [json_type], b'{"tasks":' + b"[" * 100_000), {400}, "nested too deeply"),
        # Parentheses around one comparison collapse in the grammar: deep, yet a tree of one node.
        ("a filter in 1200 parentheses", request("GET", TASK + "?filters=" + urllib.parse.quote("(" * 1200 + 'id eq "x"' + ")" * 1200), [bearer]), {200}, ""),
        (
            "a filter of 1500 nested nots",
            request("GET", TASK + "?filters=" + urllib.parse.quote_plus("not " * 1500 + 'id eq "x"'), [bearer]),
            {400},
            "nested too deeply",
        ),
        ("a filter of 300 ands", request("GET", TASK + "?filters=" + urllib.parse.quote_plus(" and ".join(['id eq "x"'] * 300)), [bearer]), {200, 400}, ""),
        ("a filter over the URL limit", request("GET", TASK + "?filters=" + "x" * 70_000, [bearer]), {414}, "too long"),
        ("a request line just over the gateway limit", request("GET", TASK + "?filters=" + "x" * 8200, [bearer]), {414}, "8192"),
        (
            "a non-ASCII secret in a form body",
            request("POST", "/acme/oauth/token", *form(grant_type="client_credentials", client_id=client_id, client_secret="sécret✓")),
            {401},
            "Bad credentials",
        ),
        (
            "raw UTF-8 in a form body",
            request(
                "POST", "/acme/oauth/token", form()[0], b"grant_type=client_credentials&client_id=" + client_id.encode() + "&client_secret=sécret".encode()
            ),
            {401},
            "",
        ),
        (
            "invalid UTF-8 in a form body",
            request("POST", "/acme/oauth/token", form()[0], b"grant_type=client_credentials&client_id=" + client_id.encode() + b"&client_secret=\xff\xfe\xc3"),
            {401},
            "",
        ),
        (
            "a non-ASCII secret in the query",
            request(
                "POST", "/acme/oauth/token?" + urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": "sécret"})
            ),
            {401},
            "",
        ),
        (
            "raw UTF-8 bytes in the query",
            request("POST", b"/acme/oauth/token?grant_type=client_credentials&client_id=" + client_id.encode() + "&client_secret=sécret✓".encode()),
            {401},
            "",
        ),
        ("bad percent-encoding in the query", request("POST", "/acme/oauth/token?grant_type=client_credentials&client_id=%zz&client_secret=%ff%"), {401}, ""),
        (
            "a non-ASCII secret in Basic auth",
            request("POST", "/acme/oauth/token", [basic((client_id + ":sécret✓").encode()), form()[0][0]], b"grant_type=client_credentials"),
            {401},
            "",
        ),
        (
            "raw non-ASCII in Basic auth",
            request("POST", "/acme/oauth/token", [("Authorization", "Basic sécret".encode()), form()[0][0]], b"grant_type=client_credentials"),
            {401},
            "base64",
        ),
        (
            "invalid UTF-8 in Basic auth",
            request("POST", "/acme/oauth/token", [basic(client_id.encode() + b":\xff\xfe"), form()[0][0]], b"grant_type=client_credentials"),
            {401},
            "",
        ),
        (
            "Basic auth without a colon",
            request("POST", "/acme/oauth/token", [basic(client_id.encode()), form()[0][0]], b"grant_type=client_credentials"),
            {401},
            "",
        ),
        (
            "Basic auth and a secret in the body",
            request("POST", "/acme/oauth/token", [basic(b"a:b"), form()[0][0]], b"grant_type=client_credentials&client_secret=x"),
            {400},
            "one way",
        ),
        ("a non-ASCII bearer token", request("GET", TASK, [("Authorization", "Bearer tökén".encode())]), {401}, "invalid"),
        ("a bearer token of three dots", request("GET", TASK, [("Authorization", "Bearer a.b.c")]), {401}, "invalid"),
        ("a forged unsigned token", request("GET", TASK, [("Authorization", "Bearer " + forged(token))]), {401}, "invalid"),
        (
            "a body over the size limit",
            request("PATCH", TASK + "/" + task_id, [bearer, patch_type, ("Content-Length", str(server.MAX_BODY + 1))], b"[" * 1000, False),
            {413},
            "too large",
        ),
        (
            "a Content-Length that is not a number",
            request("PATCH", TASK + "/" + task_id, [bearer, ("Content-Length", "abc")], b"[]", False),
            {400},
            "Content-Length",
        ),
        ("a negative Content-Length", request("PATCH", TASK + "/" + task_id, [bearer, ("Content-Length", "-1")], b"[]", False), {400}, "Content-Length"),
        (
            "two Content-Lengths",
            request("PATCH", TASK + "/" + task_id, [bearer, ("Content-Length", "2"), ("Content-Length", "3")], b"[]", False),
            {400},
            "Content-Length",
        ),
        ("a signed Content-Length", request("PATCH", TASK + "/" + task_id, [bearer, ("Content-Length", "+2")], b"[]", False), {400}, "Content-Length"),
        (
            "a Content-Length in Arabic digits",
            request("PATCH", TASK + "/" + task_id, [bearer, ("Content-Length", "٢".encode())], b"[]", False),
            {400},
            "Content-Length",
        ),
        (
            "a chunked body",
            request("PATCH", TASK + "/" + task_id, [bearer, ("Transfer-Encoding", "chunked")], b"2\r\n[]\r\n0\r\n\r\n", False),
            {411},
            "Content-Length",
        ),
        (
            "invalid UTF-8 in a PATCH body",
            request("PATCH", TASK + "/" + task_id, [bearer, patch_type], b'[{"op":"test","path":"/progress","value":"\xff"}]'),
            {400},
            "not valid JSON",
        ),
        (
            "a UTF-16 PATCH body",
            request("PATCH", TASK + "/" + task_id, [bearer, patch_type], '[{"op":"test","path":"/progress","value":"x"}]'.encode("utf-16")),
            {400},
            "",
        ),
        (
            "a lone surrogate in a test",
            request("PATCH", TASK + "/" + task_id, [bearer, patch_type], b'[{"op":"test","path":"/progress","value":"\\ud800"}]'),
            {409},
            "test failed",
        ),
        (
            "a number of 5000 digits",
            request("PATCH", TASK + "/" + task_id, [bearer, patch_type], b'[{"op":"replace","path":"/percentComplete","value":' + b"9" * 5000 + b"}]"),
            {400},
            "",
        ),
        (
            "an infinite number",
            request("PATCH", TASK + "/" + task_id, [bearer, patch_type], b'[{"op":"replace","path":"/percentComplete","value":1e999}]'),
            {400},
            "percentComplete",
        ),
        ("null as a PATCH body", request("PATCH", TASK + "/" + task_id, [bearer, patch_type], b"null"), {400}, "array"),
        ("an empty PATCH body", request("PATCH", TASK + "/" + task_id, [bearer, patch_type]), {400}, ""),
        ("bad percent-encoding in limit", request("GET", TASK + "?limit=%zz", [bearer]), {400}, "limit"),
        ("limit in Arabic digits", request("GET", TASK + "?limit=" + urllib.parse.quote("٣"), [bearer]), {400}, "limit"),
        ("limit with an underscore", request("GET", TASK + "?limit=1_0", [bearer]), {400}, "limit"),
        ("an offset beyond int32", request("GET", TASK + "?offset=2147483648", [bearer]), {400}, "offset"),
        ("an offset of 30 digits", request("GET", TASK + "?offset=" + "9" * 30, [bearer]), {400}, "offset"),
        ("invalid UTF-8 in a filter", request("GET", TASK + "?filters=%ff%fe", [bearer]), {400}, "filter"),
        ("bad percent-encoding in the path", request("GET", TASK + "/%zz%", [bearer]), {404}, ""),
        ("a NUL in the path", request("GET", TASK + "/%00", [bearer]), {404}, ""),
        ("an unknown method", request("BREW", TASK, [bearer]), {405}, ""),
        ("a request line of one word", b"GARBAGE\r\n\r\n", {400}, "request line"),
        ("HTTP/2 on an HTTP/1 port", b"GET / HTTP/2.0\r\n\r\n", {400}, "request line"),
        ("a TLS handshake on the plain port", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)) + b"\r\n\r\n", {400}, ""),
        ("a header line without a colon", b"GET " + TASK.encode() + b" HTTP/1.1\r\nnot a header\r\n\r\n", {400}, "header"),
        ("too many headers", b"GET " + TASK.encode() + b" HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % n for n in range(200)) + b"\r\n", {431}, "headers"),
        ("a header line of 70 kB", b"GET " + TASK.encode() + b" HTTP/1.1\r\nX-Big: " + b"y" * 70_000 + b"\r\n\r\n", {400}, "header"),
        (
            "a body shorter than announced, then the client stops sending",
            request("PATCH", TASK + "/" + task_id, [bearer, ("Content-Length", "100")], b"[]", False),
            {400},
            "ended after 2",
        ),
        ("a task id in the control's tasks that is a number", request("POST", "/_control/tasks", [json_type], b'{"tasks":[{"id":5}]}'), {400}, "id"),
        (
            "a completionStatus that is a number",
            request("POST", "/_control/tasks", [json_type], b'{"tasks":[{"id":"x","completionStatus":5}]}'),
            {400},
            "completionStatus",
        ),
        ("a target that is text", request("POST", "/_control/tasks", [json_type], b'{"tasks":[{"id":"x","target":"src"}]}'), {400}, "target"),
        ("a created that is no date", request("POST", "/_control/tasks", [json_type], b'{"tasks":[{"id":"x","created":"yesterday"}]}'), {400}, "created"),
        ("a uniqueName that is a list", request("POST", "/_control/tasks", [json_type], b'{"tasks":[{"id":"x","uniqueName":[]}]}'), {400}, "uniqueName"),
        (
            "a control set of a wrong type",
            request("PATCH", "/_control/tasks/" + task_id, [json_type], b'{"set":{"completionStatus":5}}'),
            {400},
            "completionStatus",
        ),
        ("a reset to a trillion tasks", request("POST", "/_control/reset", [json_type], b'{"tasks":1000000000000}'), {400}, "2000000"),
        ("a reset to text", request("POST", "/_control/reset", [json_type], b'{"tasks":"many"}'), {400}, ""),
        ("a log read since text", request("GET", "/_control/requests?since=yesterday"), {400}, ""),
        ("a fault rate of NaN", request("POST", "/_control/faults", [json_type], b'{"fault_rate":"nan"}'), {400}, "fault_rate"),
        ("an unknown malformed kind", request("POST", "/_control/faults", [json_type], b'{"malformed":["nope"]}'), {400}, "nope"),
        ("an unknown echo encoding", request("POST", "/_control/faults", [json_type], b'{"echo":"rot13"}'), {400}, "rot13"),
        ("a URL limit of zero", request("POST", "/_control/faults", [json_type], b'{"max_url_length":0}'), {400}, "max_url_length"),
        ("a hook without an action", request("POST", "/_control/hooks", [json_type], b'{"after_read":{"id":"x"}}'), {400}, "set or expire_tokens"),
        ("a hook that changes the id", request("POST", "/_control/hooks", [json_type], b'{"after_read":{"id":"x","set":{"id":"y"}}}'), {400}, "id"),
        ("a client secret that is a number", request("POST", "/_control/clients", [json_type], b'{"role":"admin","client_secret":5}'), {400}, "client_secret"),
        ("a control body that is not UTF-8", request("POST", "/_control/faults", [json_type], b'{"fault_rate":"\xff"}'), {400}, ""),
        ("a control body that is a list", request("POST", "/_control/faults", [json_type], b"[1]"), {400}, "object"),
    ]
    return cases


def forged(token):
    """The token's claims under an unsigned header, with ORG_ADMIN added."""
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    payload["authorities"] = ["ORG_ADMIN"]

    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return part({"alg": "none", "typ": "JWT"}) + "." + part(payload) + "."


@pytest.mark.parametrize("validate_requests", (False, True), ids=("lenient", "validating"))
def test_every_hostile_request_is_answered_and_changes_nothing(validate_requests, capfd):
    with running_emulator(validate_requests=validate_requests) as emu:
        port = emu.server.server_address[1]
        admin = emu.api("admin")
        task_id = admin.all("v2025", filters="completionStatus isnull")[0]["id"]
        before = emu.control("GET", "tasks")
        cases = corpus(emu.clients()["admin"]["client_id"], admin.token, task_id)
        unanswered, wrong = [], []
        for name, raw, statuses, words in cases:
            status_line, _headers, body = exchange(port, raw, half_close=name.endswith("stops sending"))
            if not status_line.startswith(b"HTTP/1.1 "):
                unanswered.append(name)
                continue
            status = int(status_line.split()[1])
            # Validating, a body the specification refuses is named by the violation instead.
            named = words.lower().encode() in body.lower() or (validate_requests and b"specification" in body)
            if status not in statuses or not named:
                wrong.append("%s: %s %s" % (name, status_line.decode(), body[:200]))
        assert not unanswered, unanswered
        assert not wrong, "\n".join(wrong)
        assert emu.control("GET", "tasks") == before
        assert emu.server.internal_errors == 0
        # The admin's token and the tenant still work after all of it.
        assert admin.get("v2025", "/" + task_id).status_code == 200
        assert len(cases) >= 70
    assert "Traceback" not in capfd.readouterr().err


def test_a_body_over_the_limit_is_read_away_so_the_answer_arrives(emu):
    """The client sends all of a large body before it reads; the answer must survive the server closing."""
    port = emu.server.server_address[1]
    body = b"x" * (server.MAX_BODY + 1)
    status_line, _headers, answer = exchange(port, request("PATCH", TASK + "/x", [("Content-Type", "application/json-patch+json")], body))
    assert status_line.startswith(b"HTTP/1.1 413 ") and b"too large" in answer


def test_a_correct_non_ascii_secret_is_accepted_in_every_form(emu):
    """A secret with any characters works by form, query and Basic auth, so refusals above are about the value."""
    secret = "sé cret+✓:/&=%"
    emu.control("POST", "clients", {"role": "admin", "client_secret": secret})
    client_id = emu.clients()["admin"]["client_id"]
    token = emu.base_url + "/oauth/token"
    fields = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    assert emu.session.post(token, data=fields).status_code == 200
    assert emu.session.post(token, params=fields).status_code == 200
    credentials = base64.b64encode((urllib.parse.quote_plus(client_id) + ":" + urllib.parse.quote_plus(secret)).encode()).decode()
    reply = emu.session.post(token, data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic " + credentials})
    assert reply.status_code == 200 and reply.json()["access_token"].count(".") == 2
    log = emu.control("GET", "requests")
    assert [entry["client_id"] for entry in log] == [client_id] * 3
    assert secret not in json.dumps(log, ensure_ascii=False) and urllib.parse.quote_plus(secret) not in json.dumps(log)


def test_a_reset_forgets_set_credentials(emu):
    original = emu.clients()["admin"]
    emu.control("POST", "clients", {"role": "admin", "client_secret": "other"})
    emu.control("POST", "reset", {})
    fields = {"grant_type": "client_credentials", "client_id": original["client_id"], "client_secret": original["client_secret"]}
    assert emu.session.post(emu.base_url + "/oauth/token", data=fields).status_code == 200


def test_an_emulator_failure_is_still_an_answer(emu, admin, monkeypatch, capfd):
    """A bug behind a request answers 500 and prints its traceback to the emulator's standard error."""
    monkeypatch.setattr(emu.emulator.store, "get", lambda *_args: 1 / 0)
    reply = admin.get("v2025", "/" + "0" * 32)
    assert reply.status_code == 500 and "standard error" in reply.json()["messages"][0]["text"]
    assert emu.server.internal_errors == 1
    assert "ZeroDivisionError" in capfd.readouterr().err
