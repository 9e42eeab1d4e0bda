"""The collection's credential type passes AWX's checks, and injects what the modules read, as AWX injects it."""

from __future__ import annotations

import copy
import stat
import sys
from pathlib import Path

import pytest
import yaml

COLLECTION_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(COLLECTION_ROOT / "tests" / "utils"))

import awx_credential  # noqa: E402  pylint: disable=wrong-import-position

DEFINITION = yaml.safe_load((COLLECTION_ROOT / "extensions" / "awx" / "credential_type.yml").read_text(encoding="utf-8"))
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
CLIENT = {"client_id": "0a1b2c3d", "client_secret": "s3cr3t-value-of-the-client"}


def test_the_shipped_type_passes_awx_checks():
    awx_credential.validate(DEFINITION)
    fields = {field["id"]: field for field in DEFINITION["inputs"]["fields"]}
    assert fields["client_secret"]["secret"] is True
    assert set(DEFINITION["inputs"]["required"]) == {"client_id", "client_secret"}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d["injectors"]["env"].update(ANSIBLE_CONFIG="{{ base_url }}"), "may not set ANSIBLE_CONFIG"),
        (lambda d: d["injectors"]["env"].update(PATH="{{ base_url }}"), "may not set PATH"),
        (lambda d: d["injectors"]["env"].update(SAIL_TOKEN="{{ token }}"), "undefined field"),
        (lambda d: d["injectors"].pop("file"), "tower.filename needs an unnamed file injector"),
        (lambda d: d["inputs"]["fields"].append({"id": "tower", "label": "x"}), "reserved tower"),
        (lambda d: d["inputs"]["fields"].append({"id": "base_url", "label": "again"}), "used twice"),
        (lambda d: d["inputs"]["fields"].append({"id": "flag", "label": "Flag", "type": "boolean", "secret": True}), "for string fields"),
        (lambda d: d["inputs"]["required"].append("password"), "undefined fields"),
        (lambda d: d["injectors"]["env"].update(SAIL_X="{{ base_url }"), "SAIL_X"),
        (lambda d: d.update(kind="ssh"), "kind must be cloud or net"),
    ],
)
def test_what_awx_refuses_is_refused(change, message):
    definition = copy.deepcopy(DEFINITION)
    change(definition)
    with pytest.raises(awx_credential.CredentialTypeError, match=message):
        awx_credential.validate(definition)


def test_a_base_url_credential_injects_the_sail_variables(tmp_path):
    env, extra_vars, files = awx_credential.inject(DEFINITION, dict(CLIENT, base_url="https://acme.api.identitynow.com"), tmp_path)
    assert env["SAIL_BASE_URL"] == "https://acme.api.identitynow.com"
    assert (env["SAIL_CLIENT_ID"], env["SAIL_CLIENT_SECRET"]) == (CLIENT["client_id"], CLIENT["client_secret"])
    # AWX sets every env injector; an empty input is an empty variable, which the modules take as unset.
    assert env["SAIL_TENANT"] == env["SAIL_API_VERSION"] == env["SAIL_CA_PATH"] == env["SAIL_RATE_LIMIT"] == ""
    assert extra_vars == {} and len(files) == 1


def test_a_ca_bundle_becomes_a_private_file_named_by_sail_ca_path(tmp_path):
    env, _extra_vars, files = awx_credential.inject(DEFINITION, dict(CLIENT, tenant="acme", api_version="v2025", ca_bundle=PEM), tmp_path)
    ca_file = Path(env["SAIL_CA_PATH"])
    assert ca_file == files[0] and ca_file.parent == tmp_path / "env"
    assert ca_file.read_text() == PEM and stat.S_IMODE(ca_file.stat().st_mode) == 0o600
    assert (env["SAIL_TENANT"], env["SAIL_API_VERSION"], env["SAIL_BASE_URL"]) == ("acme", "v2025", "")


def test_a_credential_is_checked_like_awx_checks_it(tmp_path):
    with pytest.raises(awx_credential.CredentialTypeError, match="required inputs"):
        awx_credential.inject(DEFINITION, {"client_id": "x", "base_url": "https://acme.api.identitynow.com"}, tmp_path)
    with pytest.raises(awx_credential.CredentialTypeError, match="not one of"):
        awx_credential.inject(DEFINITION, dict(CLIENT, api_version="v9"), tmp_path)
    with pytest.raises(awx_credential.CredentialTypeError, match="no inputs"):
        awx_credential.inject(DEFINITION, dict(CLIENT, password="x"), tmp_path)
