"""The malformed and echo fault modes: bad answers a client must survive, and secrets echoed in every encoding."""

import base64
import html
import json
import re
import urllib.parse

import pytest
import requests
from emulator_helpers import running_emulator

from isc_emulator import echo, malformed


def token_reply(emu, role="admin", secret=None, **kwargs):
    client = emu.clients()[role]
    fields = {"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": secret or client["client_secret"]}
    return emu.session.post(emu.base_url + "/oauth/token", data=fields, **kwargs)


def pending_id(admin):
    return admin.all("v2025", filters="completionStatus isnull")[0]["id"]


# --- malformed ---------------------------------------------------------------------------------------------------


def test_not_json(emu, admin):
    emu.control("POST", "faults", {"malformed": ["not_json"]})
    reply = admin.get("v2025", limit=3)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        reply.json()


@pytest.mark.parametrize("version", ("beta", "v2025", "v1"))
def test_wrong_type_swaps_list_and_object(emu, admin, version):
    task_id = pending_id(admin)
    emu.control("POST", "faults", {"malformed": "wrong_type"})
    listed = admin.get(version, limit=3).json()
    assert isinstance(listed, dict) and len(listed["items"]) == 3
    assert admin.get(version, "/" + task_id).json()[0]["id"] == task_id


def test_missing_fields(emu, admin):
    emu.control("POST", "faults", {"malformed": ["missing_fields"]})
    for task in admin.get("v2025", limit=5).json():
        assert not set(malformed.MISSING) & set(task) and "uniqueName" in task


def test_wrong_field_types(emu, admin):
    task_id = pending_id(admin)
    emu.control("POST", "faults", {"malformed": ["wrong_field_types"]})
    task = admin.get("v2025", "/" + task_id).json()
    assert task["id"] == 12345 and task["created"] == 1700000000000 and task["percentComplete"] == "fifty" and task["messages"] == "none"


def test_items_not_objects(emu, admin):
    emu.control("POST", "faults", {"malformed": ["items_not_objects"]})
    listed = admin.get("v2025", limit=2).json()
    assert listed[:4] == [None, 42, "a task", []] and len(listed) == 6


def test_total_count_not_a_number_also_on_head(emu, admin):
    emu.control("POST", "faults", {"malformed": ["total_count"]})
    assert admin.get("v2025", limit=1, count="true").headers["X-Total-Count"] == "many"
    head = admin.head("beta", "/pending-tasks", count="true")
    assert head.status_code == 200 and head.headers["X-Total-Count"] == "many"


def test_truncated_body_with_an_honest_length(emu, admin):
    emu.control("POST", "faults", {"malformed": ["truncated"]})
    reply = admin.get("v2025", limit=10)
    assert int(reply.headers["Content-Length"]) == len(reply.content) and reply.content.startswith(b"[{")
    with pytest.raises(ValueError):
        reply.json()


def test_short_body_closes_the_connection_early(emu, admin):
    emu.control("POST", "faults", {"malformed": ["short_body"]})
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        admin.get("v2025", limit=10)
    emu.control("POST", "faults", {})
    assert admin.get("v2025", limit=1).status_code == 200


def test_html_error_and_html_page(emu, admin):
    emu.control("POST", "faults", {"malformed": ["html_error"]})
    reply = admin.get("v2025", limit=1)
    assert reply.status_code == 502 and reply.headers["Content-Type"] == "text/html" and b"502 Bad Gateway" in reply.content
    emu.control("POST", "faults", {"malformed": ["html_page"]})
    reply = admin.get("v2025", limit=1)
    assert reply.status_code == 200 and reply.headers["Content-Type"].startswith("text/html") and b"<form" in reply.content


def test_empty_200(emu, admin):
    emu.control("POST", "faults", {"malformed": ["empty"]})
    reply = admin.get("v2025", limit=1)
    assert reply.status_code == 200 and reply.content == b"" and reply.headers["Content-Length"] == "0"


@pytest.mark.parametrize(
    "kind, check",
    (
        ("token_expires_in", lambda body: body["expires_in"] == "soon"),
        ("token_expires_in_huge", lambda body: body["expires_in"] == 10**400),
        ("token_expires_in_negative", lambda body: body["expires_in"] == -750),
        ("token_no_access_token", lambda body: "access_token" not in body and body["token_type"] == "bearer"),
    ),
)
def test_token_answers(emu, kind, check):
    emu.control("POST", "faults", {"malformed": [kind]})
    reply = token_reply(emu)
    assert reply.status_code == 200 and check(reply.json())


def test_token_kinds_spare_the_api_and_task_kinds_spare_the_token(emu):
    emu.control("POST", "faults", {"malformed": ["token_expires_in", "wrong_type"]})
    assert token_reply(emu).json()["expires_in"] == "soon"
    emu.control("POST", "faults", {"malformed": ["wrong_type"]})
    assert isinstance(token_reply(emu).json()["expires_in"], int)


def test_a_patch_answered_badly_was_applied(emu, admin):
    task_id = pending_id(admin)
    emu.control("POST", "faults", {"malformed": ["not_json"], "malformed_on": ["patch"]})
    reply = admin.patch("v2025", task_id, [{"op": "replace", "path": "/completionStatus", "value": "ERROR"}])
    assert reply.status_code == 200 and reply.content == malformed.NOT_JSON
    assert admin.get("v2025", "/" + task_id).json()["completionStatus"] == "ERROR"
    assert emu.control("GET", "requests")[-2]["fault"] == "malformed:not_json"


def test_errors_are_not_spoiled(emu, admin):
    emu.control("POST", "faults", {"malformed": ["not_json"]})
    assert admin.get("v2025", "/" + "0" * 32).json()["detailCode"] == "404 Not found"


def test_malformed_on_aims_at_kinds_of_request(emu, admin):
    task_id = pending_id(admin)
    emu.control("POST", "faults", {"malformed": ["empty"], "malformed_on": ["get"]})
    assert admin.get("v2025", "/" + task_id).content == b""
    assert len(admin.get("v2025", limit=2).json()) == 2
    assert token_reply(emu).json()["access_token"]


def test_malformed_rate_with_a_seed_repeats(emu, admin):
    def statuses():
        emu.control("POST", "faults", {"malformed": ["html_error"], "malformed_rate": 0.5, "fault_seed": 7})
        return [admin.get("v2025", limit=1).status_code for _index in range(40)]

    first = statuses()
    assert first == statuses() and {200, 502} == set(first)


def test_every_kind_is_known_to_the_control_surface(emu):
    shown = emu.control("POST", "faults", {"malformed": "all"})
    assert shown["malformed"] == list(malformed.KINDS) and shown["malformed_rate"] == 1.0


# --- echo --------------------------------------------------------------------------------------------------------


def decode(encoding, body):
    """The request bytes back out of a one-encoding echo answer."""
    if encoding == "json":
        return json.loads(body)["messages"][0]["text"].encode("utf-8")
    if encoding == "html":
        return html.unescape(re.search(rb"<pre>(.*)</pre>", body, re.S).group(1).decode()).encode("utf-8")
    return unencode(encoding, body.split(b"\n", 1)[1])


def unencode(encoding, text):
    """The request bytes back out of one encoding's text."""
    if encoding == "raw":
        return text
    if encoding == "json":
        return json.loads(text).encode("utf-8")
    if encoding == "html":
        return html.unescape(text.decode()).encode("utf-8")
    if encoding == "urlencoded":
        return urllib.parse.unquote_to_bytes(text.replace(b"+", b" "))
    padded = text + b"=" * (-len(text) % 4)
    decoded = base64.urlsafe_b64decode(padded) if encoding.startswith("base64url") else base64.b64decode(padded, validate=True)
    return decoded[len(echo.OFFSET_PADDING.get(encoding, b"")) :]


@pytest.mark.parametrize("encoding", echo.ENCODINGS)
def test_echo_at_the_token_endpoint_carries_the_secret(emu, encoding):
    client = emu.clients()["admin"]
    emu.control("POST", "faults", {"echo": encoding})
    reply = token_reply(emu)
    assert reply.status_code == 500
    text = decode(encoding, reply.content)
    assert text.startswith(b"POST /acme/oauth/token HTTP/1.1\r\n")
    assert ("client_secret=" + client["client_secret"]).encode() in text
    assert emu.control("GET", "requests")[-1]["fault"] == "echo:" + encoding


@pytest.mark.parametrize("encoding", echo.ENCODINGS)
def test_echo_of_an_api_request_carries_the_bearer_token(emu, admin, encoding):
    emu.control("POST", "faults", {"echo": [encoding], "echo_on": ["list"]})
    reply = admin.get("v2025", limit=1)
    assert reply.status_code == 500
    assert ("authorization: Bearer " + admin.token).encode() in decode(encoding, reply.content)


def test_the_token_is_echoed_at_every_base64_alignment(emu, admin):
    alignments = set()
    for encoding in ("base64", "base64-offset1", "base64-offset2"):
        emu.control("POST", "faults", {"echo": encoding})
        encoded = admin.get("v2025", limit=1).content.split(b"\n", 1)[1]
        alignments.add(base64.b64decode(encoded).index(admin.token.encode()) % 3)
    assert alignments == {0, 1, 2}


def test_echo_of_a_special_secret_in_each_encoding(emu):
    """A secret with characters each encoding changes: the echoed forms differ from the raw one."""
    secret = 'sé"<c&r>+t/\\'
    emu.control("POST", "clients", {"role": "admin", "client_secret": secret})
    emu.control("POST", "faults", {"echo": "all"})
    body = token_reply(emu, secret=secret).content
    # Sections in the order of echo.ENCODINGS, each "name: text" on its own line (raw's text spans lines).
    starts = [body.index(b"%s: " % name.encode()) for name in echo.ENCODINGS]
    assert starts == sorted(starts) and starts[0] == 0
    ends = [start - 1 for start in starts[1:]] + [len(body) - 1]
    lines = {name.encode(): body[start + len(name) + 2 : end] for name, start, end in zip(echo.ENCODINGS, starts, ends)}
    assert {unencode(name.decode(), text) for name, text in lines.items()} == {lines[b"raw"]}
    form_value = urllib.parse.quote_plus(secret).encode()
    assert form_value in lines[b"raw"]
    assert urllib.parse.quote_plus(form_value).encode() in lines[b"urlencoded"]
    assert json.dumps(urllib.parse.quote_plus(secret))[1:-1].encode() in lines[b"json"]


def test_echo_replaces_serving_and_spares_other_kinds(emu, admin):
    task_id = pending_id(admin)
    emu.control("POST", "faults", {"echo": "raw", "echo_on": ["patch"]})
    reply = admin.patch("v2025", task_id, [{"op": "replace", "path": "/completionStatus", "value": "ERROR"}])
    assert reply.status_code == 500 and b'"value": "ERROR"' in reply.content
    assert admin.get("v2025", "/" + task_id).json()["completionStatus"] is None


def test_echo_reaches_unauthenticated_requests(emu):
    emu.control("POST", "faults", {"echo": "raw"})
    reply = requests.get(emu.base_url + "/v2025/task-status", headers={"Authorization": "Bearer nonsense"}, timeout=30)
    assert reply.status_code == 500 and b"Bearer nonsense" in reply.content


def test_faults_are_cleared_and_shown(emu):
    emu.control("POST", "faults", {"echo": "base64", "malformed": ["empty"], "max_url_length": 100})
    shown = emu.control("GET", "faults")
    assert shown["echo"] == ["base64"] and shown["malformed"] == ["empty"] and shown["max_url_length"] == 100
    cleared = emu.control("POST", "faults", {})
    assert cleared["echo"] == [] and cleared["malformed"] == [] and cleared["max_url_length"] == 8192


def test_a_reset_clears_the_bad_answers():
    with running_emulator() as emu:
        emu.control("POST", "faults", {"echo": "raw"})
        emu.control("POST", "reset", {})
        assert token_reply(emu).status_code == 200


@pytest.mark.parametrize("encoding", ("raw", "urlencoded", "html", "base64", "base64-offset1", "base64-offset2", "base64url-nopad"))
@pytest.mark.parametrize("straddle", (200, 500))
def test_echo_straddle_puts_the_middle_of_the_secret_at_the_offset(emu, encoding, straddle):
    client = emu.clients()["admin"]
    emu.control("POST", "faults", {"echo": encoding, "echo_straddle": straddle})
    reply = token_reply(emu)
    body = reply.content.decode("utf-8")
    start = (body.index("<pre>") + 5 if encoding == "html" else body.index("\n") + 1) + int(reply.headers["X-Echo-Padding"])
    assert set(body[start - int(reply.headers["X-Echo-Padding"]) : start]) <= {"."}
    echoed = decode(encoding, (body[: start - int(reply.headers["X-Echo-Padding"])] + body[start:]).encode("utf-8"))
    spelled = urllib.parse.quote_plus(client["client_secret"]).encode()
    first = echoed.index(b"client_secret=" + spelled) + len(b"client_secret=")

    def at(offset):
        """Where the echoed request's byte ``offset`` begins in the body."""
        return start + len(echo.encode(echoed[:offset], encoding).rstrip(b"=")) - len(echo.encode(b"", encoding).rstrip(b"="))

    # what is cut at the offset cuts the secret in two
    assert at(first) < straddle < at(first + len(spelled))


def test_echo_status_200_answers_the_echo_as_a_success(emu):
    emu.control("POST", "faults", {"echo": "raw", "echo_status": 200})
    reply = token_reply(emu)
    assert reply.status_code == 200 and b"client_secret=" in reply.content
    with pytest.raises(AssertionError, match="echo_status must be 200 or 500"):
        emu.control("POST", "faults", {"echo_status": 302})


def test_drip_sends_an_answer_a_byte_at_a_time(emu, admin):
    pauses = []
    emu.emulator.sleep = pauses.append
    emu.control("POST", "faults", {"drip_ms": 1000, "drip_on": ["list"]})
    reply = admin.get("v2025", limit=1)
    assert reply.status_code == 200 and len(reply.json()) == 1
    # one pause of a second after each byte of the head and the body
    assert pauses and set(pauses) == {1.0} and len(pauses) >= len(reply.content)
    assert emu.control("GET", "requests")[-1]["fault"] == "drip"
    assert emu.control("GET", "faults")["drip_ms"] == 1000
