# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IscClient's launches and other resources against the scripted fake tenant: multipart bodies, the write rule,
objects and pages of sources."""

from __future__ import annotations

import email.parser
import email.policy

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils._client import API_VERSIONS, multipart_body
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import NotFoundError, ServerAnswerError, ServerError, TransportError

TOKEN = "scripted-token-0123456789"
LAUNCHED = {"success": True, "task": {"id": "t1", "type": "QUARTZ", "name": "Cloud Account Aggregation", "completionStatus": None}}
PATH = "/v2025/sources/s1/load-accounts"


def _scripted(fake_isc, *answers):
    fake_isc.script((200, {}, {"access_token": TOKEN, "expires_in": 750}), *answers)
    fake_isc.valid_tokens.add(TOKEN)


def _fields(headers, body):
    """The form fields of a multipart body, parsed as a mail parser (RFC 2046) reads it."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode() + body.encode())
    assert message.is_multipart() and message.defects == []
    return {part.get_param("name", header="content-disposition"): part.get_content() for part in message.iter_parts()}


@pytest.mark.parametrize("fields", [{}, {"disableOptimization": "true"}])
def test_a_launch_is_a_well_formed_multipart_body(fake_isc, make_client, fields):
    _scripted(fake_isc, (202, {}, LAUNCHED))
    assert make_client(api_version="v2025").post_form(PATH, fields) == LAUNCHED
    (launch,) = [entry for entry in fake_isc.api_requests() if entry["method"] == "POST"]
    assert launch["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    body, boundary = launch["body"], launch["headers"]["Content-Type"].split("boundary=")[1]
    assert body.endswith(f"--{boundary}--\r\n") and launch["headers"]["Content-Length"] == str(len(body.encode()))
    if fields:
        assert {name: value.strip() for name, value in _fields(launch["headers"], body).items()} == fields
    else:
        # no part at all: the closing boundary alone, as SailPoint's SDKs send it
        assert body == f"--{boundary}--\r\n"


def test_every_body_has_its_own_boundary():
    (first, first_type), (second, second_type) = multipart_body({}), multipart_body({})
    assert first != second and first_type != second_type
    assert first == f"--{first_type.split('boundary=')[1]}--\r\n".encode()


@pytest.mark.parametrize("status, retried", [(429, True), (503, True), (500, False), (502, False), (504, False)])
def test_a_launch_is_repeated_only_when_it_cannot_have_been_applied(fake_isc, make_client, status, retried):
    client = make_client(api_version="v2025")
    _scripted(fake_isc, (status, {"Retry-After": "0"}, None), (202, {}, LAUNCHED))
    if retried:
        assert client.post_form(PATH)["task"]["id"] == "t1"
    else:
        with pytest.raises(ServerError):
            client.post_form(PATH)
    assert [entry["method"] for entry in fake_isc.requests].count("POST") - 1 == (2 if retried else 1)


def test_a_dropped_launch_is_not_repeated_and_may_have_been_sent(fake_isc, make_client):
    client = make_client(api_version="v2025")
    _scripted(fake_isc, (None, None, None), (202, {}, LAUNCHED))
    with pytest.raises(TransportError) as raised:
        client.post_form(PATH)
    assert raised.value.maybe_sent is True
    assert [entry["path"] for entry in fake_isc.api_requests()] == [PATH]


def test_the_token_request_is_still_repeated_after_a_500(fake_isc, make_client):
    _scripted(fake_isc, (202, {}, LAUNCHED))
    fake_isc.scripted.insert(0, (500, {}, None))
    make_client(api_version="v2025").post_form(PATH)
    assert [entry["path"] for entry in fake_isc.requests] == ["/oauth/token", "/oauth/token", PATH]


@pytest.mark.parametrize(
    "answer, text",
    [(b"<html>sign in</html>", "not JSON"), ([LAUNCHED], "not an object"), (b"", "an empty body where a launched task belongs")],
)
def test_a_launch_answer_that_is_no_object_blames_the_server(fake_isc, make_client, answer, text):
    _scripted(fake_isc, (202, {}, answer))
    with pytest.raises(ServerAnswerError, match=text):
        make_client(api_version="v2025").post_form(PATH, what="a launched task")


def test_objects_need_an_id_unless_told(fake_isc, make_client):
    client = make_client(api_version="v2025")
    _scripted(fake_isc, (200, {}, {"name": "no id"}), (200, {}, {"status": "COMPLETED"}), (404, {}, None))
    with pytest.raises(ServerAnswerError, match="a source without an id"):
        client.get_object("/v2025/sources/s1", "a source")
    assert client.get_object("/v2025/account-aggregations/t1/status", id_required=False) == {"status": "COMPLETED"}
    with pytest.raises(NotFoundError):
        client.get_object("/v2025/sources/s2")


def test_pages_of_sources_stop_at_the_total(fake_isc, make_client):
    page = [{"id": f"s{number}", "name": f"Source {number}"} for number in range(250)]
    _scripted(fake_isc, (200, {"X-Total-Count": "300"}, page), (200, {}, page[:50]))
    pages = list(make_client(api_version="v2025").iter_objects("/v2025/sources", {"filters": 'name sw "S"'}))
    assert [len(found) for found in pages] == [250, 50]
    queries = [entry["query"] for entry in fake_isc.api_requests()]
    assert [query["offset"] for query in queries] == [["0"], ["250"]] and queries[0]["filters"] == ['name sw "S"']


@pytest.mark.parametrize("answer", [{"items": []}, [{"name": "no id"}], [None]])
def test_a_list_of_sources_that_is_not_one_blames_the_server(fake_isc, make_client, answer):
    _scripted(fake_isc, (200, {}, answer))
    with pytest.raises(ServerAnswerError, match="not a list|list of sources with ids"):
        list(make_client(api_version="v2025").iter_objects("/v2025/sources", what="sources"))


@pytest.mark.parametrize("version, path", [("beta", "/beta/sources"), ("v2024", "/v2024/sources"), ("v2026", "/v2026/sources"), ("v1", "/sources/v1")])
def test_each_version_has_its_resource_paths(version, path):
    assert API_VERSIONS[version].resource("sources") == path
