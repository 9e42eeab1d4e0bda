import base64
import json

import pytest
import requests
from emulator_helpers import running_emulator


def token_reply(emu, role="admin", how="form", **overrides):
    client = emu.clients()[role]
    fields = {"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]}
    fields.update(overrides)
    if how == "form":
        return emu.session.post(emu.base_url + "/oauth/token", data=fields)
    return emu.session.post(emu.base_url + "/oauth/token", params=fields)


@pytest.mark.parametrize("how", ("form", "query"))
def test_token_by_form_or_query(emu, how):
    reply = token_reply(emu, how=how)
    assert reply.status_code == 200
    body = reply.json()
    assert {"access_token", "token_type", "expires_in", "scope", "tenant_id", "pod", "org", "jti", "user_id", "identity_id", "user_name"} <= set(body)
    assert body["token_type"] == "bearer" and body["expires_in"] == 750 and body["org"] == "acme"


def test_token_by_basic_auth(emu):
    client = emu.clients()["helpdesk"]
    credentials = base64.b64encode(("%s:%s" % (client["client_id"], client["client_secret"])).encode()).decode()
    reply = emu.session.post(emu.base_url + "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic " + credentials})
    assert reply.status_code == 200 and claims(reply.json()["access_token"])["authorities"] == ["HELPDESK"]
    wrong = base64.b64encode(("%s:wrong" % client["client_id"]).encode()).decode()
    reply = emu.session.post(emu.base_url + "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": "Basic " + wrong})
    assert reply.status_code == 401


def test_api_client_token_has_no_user(emu):
    body = token_reply(emu, role="api").json()
    assert not {"user_id", "identity_id", "user_name", "internal"} & set(body)


def segments(token):
    return [json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in token.split(".")[:2]]


def claims(token):
    return segments(token)[1]


@pytest.mark.parametrize(
    "role, authorities, user",
    (("admin", ["ORG_ADMIN"], True), ("helpdesk", ["HELPDESK"], True), ("api", [], False)),
)
def test_tokens_are_jwts_with_isc_claims(emu, role, authorities, user):
    body = token_reply(emu, role=role).json()
    header, payload = segments(body["access_token"])
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert payload["client_id"] == emu.clients()[role]["client_id"] and payload["authorities"] == authorities
    assert payload["scope"] == ["sp:scopes:all"] and payload["org"] == "acme" and payload["pod"] == body["pod"]
    assert payload["tenant_id"] == body["tenant_id"] and payload["jti"] == body["jti"]
    assert payload["exp"] - payload["iat"] == 750
    user_claims = {"identity_id", "user_name", "internal"}
    if user:
        assert user_claims <= set(payload) and payload["internal"] is True and payload["identity_id"] == body["identity_id"]
    else:
        assert not user_claims & set(payload)


@pytest.mark.parametrize("role", ("admin", "api", "helpdesk"))
def test_the_403_rule_follows_the_claims(emu, admin, role):
    """What a client can predict from its token's claims is what the emulator does."""
    client = emu.api(role)
    payload = claims(client.token)
    predicted = 200 if "identity_id" in payload and "ORG_ADMIN" in payload["authorities"] else 403
    task_id = admin.all("v2025", filters="completionStatus isnull")[0]["id"]
    assert client.patch("v2025", task_id, [{"op": "replace", "path": "/progress", "value": "x"}]).status_code == predicted


def test_a_token_with_changed_claims_is_invalid(emu):
    token = emu.token("helpdesk")
    header, payload, signature = token.split(".")
    decoded = claims(token)
    decoded["authorities"] = ["ORG_ADMIN"]
    forged = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    for candidate in (header + "." + forged + "." + signature, header + "." + payload + "." + signature[::-1], header + "." + payload):
        reply = requests.get(emu.base_url + "/v2025/task-status", headers={"Authorization": "Bearer " + candidate}, timeout=30)
        assert reply.status_code == 401 and reply.json() == {"error": "JWT validation failed: JWT is invalid"}


def test_a_token_of_another_emulator_is_invalid(emu):
    with running_emulator() as other:
        foreign = other.token()
    reply = requests.get(emu.base_url + "/v2025/task-status", headers={"Authorization": "Bearer " + foreign}, timeout=30)
    assert reply.status_code == 401 and "invalid" in reply.json()["error"]


@pytest.mark.parametrize("overrides", ({"client_secret": "wrong"}, {"client_id": "nobody"}, {"client_secret": ""}))
def test_bad_credentials_are_401(emu, overrides):
    reply = token_reply(emu, **overrides)
    assert reply.status_code == 401 and reply.json()["error"] == "unauthorized"


def test_other_grant_type_is_400(emu):
    assert token_reply(emu, grant_type="password").status_code == 400


def test_token_endpoint_wants_post(emu):
    assert emu.session.get(emu.base_url + "/oauth/token").status_code == 405


@pytest.mark.parametrize(
    "header, message",
    (
        (None, "JWT is missing"),
        ("Bearer not-a-token", "JWT is invalid"),
        ("Basic abc", "JWT is missing"),
    ),
)
def test_missing_or_invalid_token_is_401(emu, header, message):
    headers = {"Authorization": header} if header else {}
    reply = emu.session.get(emu.base_url + "/v2025/task-status", headers=headers)
    assert reply.status_code == 401 and message in reply.json()["error"]


def test_expired_token_is_401(emu, admin):
    assert admin.get("v2025", limit=1).status_code == 200
    emu.control("POST", "tokens/expire", {})
    reply = admin.get("v2025", limit=1)
    assert reply.status_code == 401 and reply.json() == {"error": "JWT validation failed: JWT is expired"}
    assert emu.api("admin").get("v2025", limit=1).status_code == 200


def test_token_lifetime_is_configurable():
    with running_emulator(token_ttl=0) as emu:
        reply = emu.api("admin").get("beta", limit=1)
        assert reply.status_code == 401 and "expired" in reply.json()["error"]


def test_token_ttl_set_through_faults(emu):
    emu.control("POST", "faults", {"token_ttl": 5})
    assert token_reply(emu).json()["expires_in"] == 5


@pytest.mark.parametrize("role", ("api", "helpdesk"))
def test_read_only_clients_read_but_cannot_patch(emu, admin, role):
    client = emu.api(role)
    task_id = admin.all("beta")[0]["id"]
    assert client.get("beta", "/" + task_id).status_code == 200
    reply = client.patch("beta", task_id, [{"op": "replace", "path": "/progress", "value": "x"}])
    assert reply.status_code == 403 and reply.json()["detailCode"] == "403 Forbidden"


def test_token_of_another_tenant_is_refused():
    with running_emulator(tenants=("acme", "globex")) as emu:
        token = emu.token("admin", tenant="globex")
        reply = requests.get(emu.base_url + "/beta/task-status", headers={"Authorization": "Bearer " + token}, timeout=5)
        assert reply.status_code == 401


def test_no_secret_or_token_in_request_log(emu, admin):
    client = emu.clients()["admin"]
    token_reply(emu, how="query")
    token_reply(emu, how="form", client_secret="wrong-" + client["client_secret"])
    admin.get("v2025", limit=1)
    log = emu.control("GET", "requests")
    text = json.dumps(log)
    assert client["client_secret"] not in text and admin.token not in text
    assert any("client_secret=REDACTED" in entry["query"] for entry in log)
    assert {entry["client_id"] for entry in log} == {client["client_id"]}
