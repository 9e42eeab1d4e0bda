# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Look at the task report's HTML page in a real headless Chromium.

The report is produced the way an operator produces it: ``ansible-playbook sailpoint.isc.task_report`` against the
repository's ISC emulator, connected through the controller's SAIL_* environment. The screenshot is kept in
tests/output/browser/ for people to look at.

Needs Debian's Chromium (``apt-get install -y chromium``), or CHROMIUM pointing at a Chromium binary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

COLLECTION_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = COLLECTION_ROOT / "tests" / "output" / "browser"
WINDOW = (1280, 2000)
# Fills of the report's charts and cards (roles/task_report/templates/task-report.html.j2).
CHART_COLOURS = {
    "header": (0x0B, 0x3D, 0x91),
    "pending bar": (0x15, 0x65, 0xC0),
    "stuck bar": (0xD8, 0x43, 0x15),
    "success bar": (0x2E, 0x7D, 0x32),
    "error bar": (0xC6, 0x28, 0x28),
}
HOSTILE_NAME = '<script>alert("x")</script><img src="https://example.com/x.png">'
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def chromium_binary() -> str:
    binary = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not binary:
        pytest.fail("Chromium is missing: apt-get install -y chromium (or set CHROMIUM to its path)")
    return binary


def ansible_playbook() -> str:
    beside_python = Path(sys.executable).parent / "ansible-playbook"
    return str(beside_python) if beside_python.exists() else shutil.which("ansible-playbook")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    state = tmp_path_factory.mktemp("emulator")
    environment = dict(os.environ, PYTHONPATH=str(COLLECTION_ROOT / "tests" / "emulator"))
    with (state / "emulator.log").open("w") as log:
        process = subprocess.Popen(  # pylint: disable=consider-using-with
            [
                sys.executable,
                "-m",
                "isc_emulator",
                "serve",
                "--port",
                "0",
                "--tenants",
                "acme",
                "--tasks",
                "240",
                "--pending",
                "4",
                "--stuck",
                "7",
                "--seed",
                "7",
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=environment,
        )
    try:
        info = json.loads(process.stdout.readline())
        yield info
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def report_html(emulator, tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("report")
    control = emulator["control_url"]
    # A task whose name is hostile markup: the page must show it as text, not run or load it.
    body = json.dumps(
        {"tenant": "acme", "tasks": [{"id": "0e0000000000000000000000000000e9", "uniqueName": HOSTILE_NAME, "completionStatus": "ERROR"}]}
    ).encode()
    import urllib.request  # pylint: disable=import-outside-toplevel

    urllib.request.urlopen(urllib.request.Request(control + "/tasks", data=body, method="POST", headers={"Content-Type": "application/json"})).read()

    collections = work / "collections" / "ansible_collections" / "sailpoint"
    collections.mkdir(parents=True)
    (collections / "isc").symlink_to(COLLECTION_ROOT)
    admin = emulator["clients"]["admin"]
    environment = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(work / "collections"),
        ANSIBLE_NOCOLOR="1",
        SAIL_BASE_URL=emulator["base_url"],
        SAIL_CLIENT_ID=admin["client_id"],
        SAIL_CLIENT_SECRET=admin["client_secret"],
    )
    result = subprocess.run(
        [ansible_playbook(), "-i", "localhost,", "sailpoint.isc.task_report", "-e", f"task_report_dir={work / 'reports'}"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=work,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert admin["client_secret"] not in result.stdout + result.stderr
    # Run on localhost from SAIL_BASE_URL (http://127.0.0.1:PORT/acme), the tenant is named after that URL.
    port = emulator["base_url"].split(":")[2].split("/")[0]
    return work / "reports" / f"127.0.0.1_{port}_acme" / "task-report.html"


@pytest.fixture(scope="module")
def screenshot(report_html, tmp_path_factory) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    png = SCREENSHOT_DIR / "task-report.png"
    png.unlink(missing_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    command = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        report_html.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert png.exists(), f"Chromium wrote no screenshot (exit {result.returncode}): {result.stderr[-2000:]}"
    return png


def read_png(path: Path):
    """Width, height and rows of (r, g, b) bytes of an 8-bit RGB or RGBA PNG, with the standard library only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    position, compressed = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        chunk = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _compression, _filter, interlace = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            compressed += chunk
        elif kind == b"IEND":
            break
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, (depth, colour_type, interlace)
    channels = 3 if colour_type == 2 else 4
    stride = width * channels
    raw = zlib.decompress(compressed)
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                up, up_left = previous[i], previous[i - channels] if i >= channels else 0
                estimate = left + up - up_left
                distances = (abs(estimate - left), abs(estimate - up), abs(estimate - up_left))
                predictor = left if distances[0] <= distances[1] and distances[0] <= distances[2] else (up if distances[1] <= distances[2] else up_left)
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(bytes(line) if channels == 3 else bytes(b for i, b in enumerate(line) if i % 4 != 3))
        previous = line
    return width, height, rows


def test_page_loads_nothing_from_the_network(report_html):
    html = report_html.read_text(encoding="utf-8")
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in html
    resource_urls = re.findall(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?)\s*((?:https?:)?//[^"')\s>]*)""", html, re.I)
    assert resource_urls == []
    # Tags that fetch something; only the hostile task name mentions a URL, and only as escaped text.
    assert re.findall(r"<(script|link|img|iframe|object|embed|audio|video|source|base|form)\b", html, re.I) == []
    assert "@import" not in html


def test_hostile_task_name_is_shown_as_text(report_html):
    html = report_html.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(" in html
    assert "<img" not in html


def test_page_has_the_charts_and_tables(report_html):
    html = report_html.read_text(encoding="utf-8")
    for section in ("pending-age", "outcomes", "oldest-stuck", "recent-failures", "pending", "by-name", "by-source"):
        assert f'id="{section}"' in html
    assert html.count("<svg") == 2 and html.count("<table") >= 5


def test_screenshot_shows_the_report(screenshot):
    width, height, rows = read_png(screenshot)
    assert (width, height) == WINDOW
    assert 50_000 < screenshot.stat().st_size < 20_000_000
    colours = set()
    for row in rows[::4]:
        colours.update(row[i : i + 3] for i in range(0, len(row), 3 * 4))
    assert len(colours) > 200, f"only {len(colours)} colours: the page looks blank"
    pixels = {tuple(colour) for colour in colours}
    for name, wanted in CHART_COLOURS.items():
        assert any(all(abs(a - b) <= 3 for a, b in zip(wanted, pixel)) for pixel in pixels), f"no {name} in the screenshot"
    white_or_page = sum(1 for pixel in pixels if min(pixel) >= 0xF0)
    assert white_or_page < len(pixels)
