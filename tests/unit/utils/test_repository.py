"""The repository's own promises, checked on the files themselves: the contributor's map names what the tree holds,
the stage lists agree with the Makefile, private code says it is private, every filter is classified public or
internal, the roles carry the collection's license, and nothing points outside the repository."""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
MODULE_UTILS = ROOT / "plugins" / "module_utils"
INTERNAL_HEADER = "# Internal to the sailpoint.isc collection, not a public API: it may change in any release."
# Spelled in pieces, so that this file does not name what it forbids.
OUTSIDE_REFERENCES = ("shared" + "/docs", "shared" + "/spec", ".." + "/shared")


def tracked_files() -> list[str]:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in listing.stdout.decode().split("\0") if name]


def makefile_stages() -> list[str]:
    match = re.search(r"^STAGES := (.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert match, "the Makefile has no STAGES line"
    return match.group(1).split()


def test_architecture_names_every_top_level_folder_and_module_utils_file():
    text = (ROOT / "docs" / "architecture.md").read_text()
    folders = sorted({name.split("/")[0] for name in tracked_files() if "/" in name})
    missing = [f"{folder}/" for folder in folders if f"`{folder}/" not in text]
    missing += [path.name for path in sorted(MODULE_UTILS.glob("*.py")) if f"`{path.name}`" not in text]
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"


def test_no_tracked_file_points_outside_the_repository():
    offenders = []
    for name in tracked_files():
        path = ROOT / name
        if not path.is_file() or path.is_symlink():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        offenders += [f"{name}: {reference}" for reference in OUTSIDE_REFERENCES if reference in text]
    assert not offenders, "files refer to a folder outside the repository: " + "; ".join(offenders)


@pytest.mark.parametrize("path", sorted(MODULE_UTILS.glob("_*.py")), ids=lambda path: path.name)
def test_private_module_utils_say_so_on_their_first_line(path):
    first_line = path.read_text().splitlines()[0] if path.read_text() else ""
    assert first_line == INTERNAL_HEADER, f"{path.name} must begin with the line {INTERNAL_HEADER!r}"


def test_roles_carry_the_collections_license():
    licenses = yaml.safe_load((ROOT / "galaxy.yml").read_text())["license"]
    expected = licenses[0] if isinstance(licenses, list) and len(licenses) == 1 else licenses
    roles = sorted((ROOT / "roles").glob("*/meta/main.yml"))
    assert roles
    wrong = {}
    for meta in roles:
        found = yaml.safe_load(meta.read_text())["galaxy_info"].get("license")
        if found != expected:
            wrong[meta.parent.parent.name] = found
    assert not wrong, f"roles whose meta/main.yml license is not galaxy.yml's {expected}: {wrong}"


def marked_block(text: str, marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", text, re.S)
    assert match, f"no <!-- {marker} --> ... <!-- /{marker} --> block"
    return match.group(1)


def test_readme_lists_the_stages_of_make_test():
    block = marked_block((ROOT / "README.md").read_text(), "stages")
    listed = re.findall(r"^- `([\w-]+)`", block, re.M)
    assert listed == makefile_stages(), "README.md's stage list differs from the Makefile's STAGES (same order)"


def test_tests_readme_describes_every_stage():
    block = marked_block((ROOT / "tests" / "README.md").read_text(), "stages")
    rows = re.findall(r"^\| `([\w-]+)` \|", block, re.M)
    assert rows == makefile_stages(), "tests/README.md's stage table differs from the Makefile's STAGES (same order)"


def filter_docs() -> dict[str, str]:
    docs = {}
    for path in sorted((ROOT / "plugins" / "filter").glob("*.yml")):
        documentation = yaml.safe_load(path.read_text())["DOCUMENTATION"]
        docs[documentation["name"]] = documentation
    return docs


def filters_page_groups() -> tuple[list[str], list[str]]:
    page = (ROOT / "docs" / "docsite" / "rst" / "filters.rst").read_text()
    public, internal = page.split(".. public-filters", 1)[1].split(".. role-internals", 1)
    pattern = r":ansplugin:`sailpoint\.isc\.(\w+)#filter`"
    return re.findall(pattern, public), re.findall(pattern, internal)


def test_every_filter_is_public_or_marked_internal():
    docs = filter_docs()
    public, internal = filters_page_groups()
    assert set(public).isdisjoint(internal)
    problems = []
    for name, documentation in docs.items():
        marked = documentation["short_description"].startswith("Internal to the ")
        if marked and name not in internal:
            problems.append(f"{name} is marked internal but not listed under the role internals")
        if not marked and name not in public:
            problems.append(f"{name} is neither listed as a public filter nor marked 'Internal to the ...'")
        if marked and not any(isinstance(line, str) and line.startswith("Not a public API") for line in documentation["description"]):
            problems.append(f"{name}'s description does not say it is not a public API")
    problems += [f"{name} is listed but has no documentation" for name in set(public + internal) - set(docs)]
    assert not problems, "; ".join(problems)


def test_filters_are_registered_where_they_are_documented():
    registered = set()
    for path in (ROOT / "plugins" / "filter").glob("*.py"):
        plugin = importlib.import_module(f"ansible_collections.sailpoint.isc.plugins.filter.{path.stem}")
        registered |= set(plugin.FilterModule().filters())
    assert registered == set(filter_docs()), "filter plugins and their .yml documentation do not match"
