# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option table, the argument spec, the env fallbacks and the doc fragment cannot drift apart."""

from __future__ import annotations

import re

import certifi
import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.sailpoint.isc.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.sailpoint.isc.plugins.module_utils import _connection as connection
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import OptionError

DOCUMENTED = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
ENV_VARS = ("SAIL_BASE_URL", "SAIL_CLIENT_ID", "SAIL_CLIENT_SECRET", "SAIL_ACCESS_TOKEN")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


def test_fragment_documents_exactly_the_table():
    assert list(DOCUMENTED) == [option.name for option in connection.CONNECTION_OPTIONS]


@pytest.mark.parametrize("option", connection.CONNECTION_OPTIONS, ids=lambda option: option.name)
def test_fragment_matches_the_table(option):
    documented = DOCUMENTED[option.name]
    assert documented["type"] == option.type
    assert documented.get("default") == option.default
    assert (tuple(documented["choices"]) if "choices" in documented else None) == option.choices
    text = " ".join(documented["description"])
    assert re.findall(r"E\((SAIL_\w+)\)", text)[:1] == ([option.env] if option.env else [])
    if option.env:
        assert f"If not set, the value of the E({option.env}) environment variable is used." in documented["description"]
    # no_log has no key in a module's documentation, so the fragment says it in words
    assert ("never appears in a result, a warning or an error message" in text) == option.no_log


@pytest.mark.parametrize("option", connection.CONNECTION_OPTIONS, ids=lambda option: option.name)
def test_argument_spec_follows_the_table(option):
    entry = connection.argument_spec()[option.name]
    assert entry["type"] == option.type
    assert entry.get("default") == option.default
    assert entry.get("no_log", False) == option.no_log
    assert entry.get("choices") == (list(option.choices) if option.choices else None)
    assert (entry["fallback"][1] if "fallback" in entry else None) == ([option.env] if option.env else None)


def test_secrets_are_no_log_and_nothing_else_is():
    assert {option.name for option in connection.CONNECTION_OPTIONS if option.no_log} == {"client_secret", "access_token"}


def test_env_fallbacks_fill_the_options(monkeypatch):
    monkeypatch.setenv("SAIL_BASE_URL", "https://acme.api.identitynow.com")
    monkeypatch.setenv("SAIL_CLIENT_SECRET", "shh")
    result = ArgumentSpecValidator(connection.argument_spec()).validate({})
    assert result.validated_parameters["base_url"] == "https://acme.api.identitynow.com"
    assert "shh" in result._no_log_values  # pylint: disable=protected-access


def _params(**kwargs):
    params = {option.name: option.default for option in connection.CONNECTION_OPTIONS}
    params.update(kwargs)
    return params


def test_tenant_becomes_the_identitynow_host():
    client = connection.client_from_params(_params(tenant="Acme-2", client_id="a", client_secret="b"))
    assert client.base_url == "https://acme-2.api.identitynow.com"


@pytest.mark.parametrize("tenant", ["acme/evil", "acme.evil.com", "https://acme", "-acme", "acme?x", "", "acme%2f"])
def test_a_tenant_that_is_not_a_host_label_is_refused(tenant):
    with pytest.raises(OptionError, match="^tenant "):
        connection.resolve_base_url(_params(tenant=tenant))


@pytest.mark.parametrize(
    "base_url, message",
    [
        ("acme.api.identitynow.com", "not an http"),
        ("ftp://x", "not an http"),
        ("https://x/beta", "API version"),
        ("https://x/v2025/", "API version"),
        ("https://x?a=1", "query"),
    ],
)
def test_bad_base_urls(base_url, message):
    with pytest.raises(OptionError, match=f"^base_url .*{message}"):
        connection.resolve_base_url(_params(base_url=base_url))


def test_base_url_keeps_a_path_and_drops_the_trailing_slash():
    assert connection.resolve_base_url(_params(base_url="http://127.0.0.1:8080/acme/")) == "http://127.0.0.1:8080/acme"


def test_explicit_base_url_and_tenant_conflict():
    with pytest.raises(OptionError, match=r"base_url \(or SAIL_BASE_URL\) and tenant \(or SAIL_TENANT\) are mutually exclusive"):
        connection.resolve_base_url(_params(base_url="https://x.example", tenant="acme"))


def test_an_explicit_tenant_wins_over_sail_base_url(monkeypatch):
    monkeypatch.setenv("SAIL_BASE_URL", "https://other.example")
    params = ArgumentSpecValidator(connection.argument_spec()).validate({"tenant": "acme"}).validated_parameters
    assert connection.resolve_base_url(params) == "https://acme.api.identitynow.com"


def test_no_tenant_at_all():
    with pytest.raises(OptionError, match="set base_url .* or tenant"):
        connection.resolve_base_url(_params())


def test_credentials():
    assert connection.resolve_credentials(_params(access_token="t")) == {"access_token": "t"}
    assert connection.resolve_credentials(_params(client_id="i", client_secret="s")) == {"client_id": "i", "client_secret": "s"}
    with pytest.raises(OptionError, match="client_secret is not"):
        connection.resolve_credentials(_params(client_id="i"))
    with pytest.raises(OptionError, match="no credentials"):
        connection.resolve_credentials(_params())
    with pytest.raises(OptionError, match="access_token .* and client_id .* are mutually exclusive"):
        connection.resolve_credentials(_params(client_id="i", client_secret="s", access_token="t"))


@pytest.mark.parametrize("token", ["tökén-secret", "tok en-secret", "token-secret\n", "token\u2028secret", "\u200btoken-secret"])
def test_an_access_token_that_no_header_can_carry_is_refused_without_showing_it(token):
    with pytest.raises(OptionError, match="^access_token .*printable ASCII") as error:
        connection.client_from_params(_params(base_url="https://x.example", access_token=token))
    assert "secret" not in error.value.message


def test_explicit_credentials_win_over_a_token_from_the_environment(monkeypatch):
    monkeypatch.setenv("SAIL_ACCESS_TOKEN", "from-env")
    params = ArgumentSpecValidator(connection.argument_spec()).validate({"client_id": "i", "client_secret": "s"}).validated_parameters
    assert connection.resolve_credentials(params) == {"client_id": "i", "client_secret": "s"}


@pytest.mark.parametrize(
    "name, value, message", [("retries", -1, "retries must be from 0 to 20"), ("timeout", 0, "timeout must be more than 0 and at most 3,600")]
)
def test_numbers_are_checked(name, value, message):
    with pytest.raises(OptionError, match=message):
        connection.client_from_params(_params(base_url="https://x.example", access_token="t", **{name: value}))


def test_client_from_params_passes_everything_on():
    warnings = []
    client = connection.client_from_params(
        _params(base_url="https://x.example", access_token="tok", api_version="v2026", retries=0, validate_certs=False), warn=warnings.append
    )
    assert client.version.name == "v2026"
    assert client._verify is False  # pylint: disable=protected-access


@pytest.mark.parametrize(
    "base_url, message",
    [
        ("http://[::1", "base_url 'http://[::1' is not a valid URL"),
        ("https://acme.example:99999", "is not a valid URL"),
        ("https://admin:pa55word@acme.example", "must not carry a user name or password"),
        ("https://acme.example/ x", "contains spaces or control characters"),
    ],
)
def test_malformed_base_urls_are_refused_without_showing_a_password(base_url, message):
    with pytest.raises(OptionError, match=re.escape(message)) as error:
        connection.client_from_params(_params(base_url=base_url, access_token="tok"))
    assert "pa55word" not in error.value.message


def test_sail_base_url_is_checked_the_same_way(monkeypatch):
    monkeypatch.setenv("SAIL_BASE_URL", "http://[::1")
    params = ArgumentSpecValidator(connection.argument_spec()).validate({"access_token": "tok"}).validated_parameters
    with pytest.raises(OptionError, match="^base_url"):
        connection.client_from_params(params)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("timeout", float("nan"), "timeout must be a finite number"),
        ("timeout", float("inf"), "timeout must be a finite number"),
        ("timeout", 1e9, "timeout must be more than 0 and at most 3,600"),
        ("retries", 10**6, "retries must be from 0 to 20"),
        ("rate_limit", "fast", "rate_limit must be REQUESTS/SECONDS such as 100/10, or off"),
        ("rate_limit", "0/10", "rate_limit must allow 1 to"),
        ("rate_limit", "100/0", "rate_limit must allow 1 to"),
        ("api_version", "v3", "api_version must be one of"),
    ],
)
def test_every_number_and_setting_is_checked_before_any_request(name, value, message):
    with pytest.raises(OptionError, match=re.escape(message)):
        connection.client_from_params(_params(base_url="https://x.example", access_token="tok", **{name: value}))


def test_a_ca_path_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(OptionError, match="^ca_path .* does not exist"):
        connection.client_from_params(_params(base_url="https://x.example", access_token="tok", ca_path=str(tmp_path / "nope.pem")))
    bundle = certifi.where()
    assert connection.client_from_params(_params(base_url="https://x.example", access_token="tok", ca_path=bundle))._verify == bundle


@pytest.mark.parametrize("content", [b"", b"not a certificate", b"0\x82\x01\x0a\x02\x82\x01\x01\x00" * 20])
def test_a_ca_path_without_a_pem_certificate_is_refused_without_advising_to_stop_verifying(tmp_path, content):
    bundle = tmp_path / "ca.crt"
    bundle.write_bytes(content)
    with pytest.raises(OptionError, match="^ca_path .* holds no PEM certificate") as raised:
        connection.client_from_params(_params(base_url="https://x.example", access_token="tok", ca_path=str(bundle)))
    assert "validate_certs" not in raised.value.message


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_an_environment_ca_bundle_that_requests_would_use_is_checked(tmp_path, monkeypatch, variable):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv(variable, str(tmp_path / "missing.pem"))
    with pytest.raises(OptionError, match=f"^{variable} .* does not exist, .* set ca_path") as raised:
        connection.client_from_params(_params(base_url="https://x.example", access_token="tok"))
    assert "validate_certs" not in raised.value.message
    # the module's own settings win over the variable, and plain http uses no bundle
    for settings in ({"ca_path": certifi.where()}, {"validate_certs": False}, {"base_url": "http://x.example"}):
        connection.client_from_params(_params(**dict({"base_url": "https://x.example", "access_token": "tok"}, **settings)))


@pytest.mark.parametrize("text, expected", [("100/10", (100, 10.0)), ("5 / 1.5s", (5, 1.5)), ("off", None), ("OFF", None)])
def test_rate_limit_settings(text, expected):
    client = connection.client_from_params(_params(base_url="https://x.example", access_token="tok", rate_limit=text))
    assert client._pacer._limit == (expected[0] if expected else 0)  # pylint: disable=protected-access


def test_defaults_come_from_the_table_for_callers_that_are_not_modules(monkeypatch):
    monkeypatch.setenv("SAIL_BASE_URL", "https://acme.example")
    monkeypatch.setenv("SAIL_ACCESS_TOKEN", "tok")
    monkeypatch.setenv("SAIL_RATE_LIMIT", "50/10")
    params = connection.with_fallbacks({"api_version": "v2025"})
    assert params["base_url"] == "https://acme.example" and params["api_version"] == "v2025"
    assert params["rate_limit"] == "50/10" and params["timeout"] == 30.0 and params["retries"] == 5
    client = connection.client_from_params(params)
    assert client.version.name == "v2025"


def test_an_empty_variable_counts_as_not_set(monkeypatch):
    # AWX injects every variable of a credential type, those of empty inputs as empty strings
    for name in ("SAIL_BASE_URL", "SAIL_API_VERSION", "SAIL_CA_PATH", "SAIL_RATE_LIMIT"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("SAIL_TENANT", "acme")
    monkeypatch.setenv("SAIL_ACCESS_TOKEN", "tok")
    params = ArgumentSpecValidator(connection.argument_spec()).validate({}).validated_parameters
    assert params["api_version"] == "beta" and params["ca_path"] is None and params["rate_limit"] == "100/10"
    client = connection.client_from_params(params)
    assert client.base_url == "https://acme.api.identitynow.com"
