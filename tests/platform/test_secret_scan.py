"""The secret scanner finds a secret in every encoding it claims, wherever it sits, and nothing else."""

from __future__ import annotations

import base64
import html
import json
import sys
import urllib.parse
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "utils"))

import artifact_scan as secret_scan  # noqa: E402  pylint: disable=wrong-import-position

SECRETS = {
    "hex client secret": "3f9a0c51d2e84b67a1c09e3d5f7b2a4c6e8d0f1a3b5c7e9d2f4a6c8e0b1d3f5a",
    "JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiIsImV4cCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg",
    "awkward secret": "p@ss/w+rd=&<\"q'>\\\u00fc~",
}


def plantings(secret: str):
    """(form, bytes holding the secret) for every encoding the scanner claims to cover, at every alignment."""
    raw = secret.encode("utf-8")
    yield "raw", b"before " + raw + b" after"
    yield "urlencoded", ("client_secret=" + urllib.parse.quote(secret, safe="") + "&x=1").encode()
    yield "form-encoded", urllib.parse.urlencode({"grant_type": "client_credentials", "client_secret": secret}).encode()
    yield "JSON", json.dumps({"msg": "failed: " + secret}).encode()
    yield "JSON in JSON", json.dumps({"stdout": json.dumps({"msg": secret})}).encode()
    yield "JSON, non-ASCII kept", json.dumps({"msg": secret}, ensure_ascii=False).encode("utf-8")
    yield "HTML", ("<td>" + html.escape(secret) + "</td>").encode()
    for prefix_length in range(6):
        for suffix in (b"", b"x", b"xy", b" trailing bytes"):
            data = b"p" * prefix_length + raw + suffix
            for name, encode in (("base64", base64.b64encode), ("urlsafe base64", base64.urlsafe_b64encode)):
                encoded = encode(data)
                yield f"{name}, {prefix_length} bytes before", b"blob " + encoded + b" end"
                yield f"{name} unpadded, {prefix_length} bytes before", b"blob " + encoded.rstrip(b"=") + b" end"
                yield f"{name} in a query, {prefix_length} bytes before", urllib.parse.quote(encoded.decode(), safe="").encode()
                yield f"{name} in JSON, {prefix_length} bytes before", json.dumps({"body": encoded.decode()}).encode()
    yield "Basic header", b"Authorization: Basic " + base64.b64encode(b"client-id:" + raw)


@pytest.mark.parametrize("label", sorted(SECRETS))
def test_every_planted_form_is_found(label):
    secret = SECRETS[label]
    missed = [form for form, data in plantings(secret) if not secret_scan.scan_bytes(data, {label: secret})]
    assert not missed


@pytest.mark.parametrize("label", sorted(SECRETS))
def test_unrelated_and_near_miss_data_is_clean(label):
    secret = SECRETS[label]
    near_miss = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    clean = [data for _form, data in plantings(near_miss)]
    clean.append(base64.b64encode(secret[: len(secret) // 2].encode()))
    assert not [data for data in clean if secret_scan.scan_bytes(data, {label: secret})]


def test_hits_name_the_label_never_the_secret(tmp_path):
    secret = SECRETS["hex client secret"]
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "1.json").write_text(json.dumps({"stdout": base64.b64encode(b"xx" + secret.encode()).decode()}))
    (tmp_path / "clean.txt").write_text("nothing here")
    scan = secret_scan.scan_paths([tmp_path], {"the client secret": secret})
    assert scan.files == 2 and len(scan.hits) == 1
    assert "the client secret" in str(scan.hits[0]) and secret not in str(scan.hits[0]) and secret not in scan.summary()


def test_skipped_paths_are_not_read(tmp_path):
    secret = SECRETS["hex client secret"]
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "envvars").write_text(secret)
    (tmp_path / "stdout").write_text("ok")
    scan = secret_scan.scan_paths([tmp_path], {"secret": secret}, skip=lambda path: path.name == "env")
    assert (scan.files, scan.hits) == (1, [])


def test_jwt_shaped_strings_are_reported_whoever_issued_them(tmp_path):
    (tmp_path / "stdout").write_text("token " + SECRETS["JWT"] + " used")
    scan = secret_scan.scan_paths([tmp_path], {"an unrelated secret": SECRETS["hex client secret"]})
    assert [hit.label for hit in scan.hits] == ["a JWT-shaped token"]


def test_a_short_secret_is_refused():
    with pytest.raises(ValueError, match="shorter than"):
        secret_scan.needles("short")


def test_command_line_exit_status(tmp_path, capsys):
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps({"secret": SECRETS["hex client secret"]}))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "log").write_text("fine")
    assert secret_scan.main(["--secrets", str(secrets_file), str(tmp_path / "out")]) == 0
    (tmp_path / "out" / "log").write_text(urllib.parse.quote(SECRETS["hex client secret"]))
    assert secret_scan.main(["--secrets", str(secrets_file), str(tmp_path / "out")]) == 1
    assert "1 hits in 1 files" in capsys.readouterr().out
