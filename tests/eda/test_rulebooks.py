# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rulebooks of extensions/eda/rulebooks and the rulebook snippets of the EDA page, read by ansible-rulebook's own
schema and parser; their source arguments, rendered as ansible-rulebook renders them, are arguments the source
accepts; and the playbook a rulebook runs selects the same tasks as its source watches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible_rulebook.rules_parser import parse_rule_sets
from ansible_rulebook.util import substitute_variables
from ansible_rulebook.validators import Validate

from ansible_collections.sailpoint.isc.extensions.eda.plugins.event_source import task_status
from ansible_collections.sailpoint.isc.plugins.module_utils._aggregations import AGGREGATION_KINDS

COLLECTION = Path(__file__).resolve().parents[2]
RULEBOOKS = sorted((COLLECTION / "extensions" / "eda" / "rulebooks").glob("*.yml"))
EDA_PAGE = COLLECTION / "docs" / "docsite" / "rst" / "eda.rst"
SOURCE = "sailpoint.isc.task_status"
# what an activation of the EDA controller rulebook must be given
CONTROLLER_VARIABLES = {"isc_base_url": "https://acme.api.identitynow.com", "isc_source_client_id": "reader", "isc_source_client_secret": "shh"}


def load(path: Path) -> list:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def yaml_blocks(text: str) -> list:
    """The code blocks of an reStructuredText page marked as YAML, dedented."""
    blocks = []
    for match in re.finditer(r"^\.\. code-block:: yaml\n((?:\n|   .*\n)+)", text, re.M):
        blocks.append("\n".join(line[3:] for line in match.group(1).splitlines()))
    return blocks


def task_status_sources(rulebook: list) -> list:
    return [source[SOURCE] for ruleset in rulebook for source in ruleset["sources"] if SOURCE in source]


def test_every_rulebook_is_there():
    assert [path.name for path in RULEBOOKS] == [
        "clear_stuck_tasks.yml",
        "clear_stuck_tasks_controller.yml",
        "follow_up_after_aggregations.yml",
        "recover_stuck_aggregations.yml",
        "recover_stuck_aggregations_controller.yml",
    ]


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda path: path.name)
def test_ansible_rulebook_accepts_the_rulebook(path):
    rulebook = load(path)
    Validate.rulebook(rulebook)
    rulesets = parse_rule_sets(load(path), {})
    assert rulesets and all(ruleset.rules for ruleset in rulesets)
    assert task_status_sources(rulebook)


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda path: path.name)
@pytest.mark.parametrize(
    "variables", [{}, {"isc_stuck_after": "2h", "isc_poll_interval": 300, "isc_unique_names": ["Identity Refresh"]}], ids=["defaults", "set"]
)
def test_the_rendered_source_arguments_are_valid(path, variables, monkeypatch):
    monkeypatch.setenv("SAIL_BASE_URL", "https://acme.api.identitynow.com")
    monkeypatch.setenv("SAIL_CLIENT_ID", "reader")
    monkeypatch.setenv("SAIL_CLIENT_SECRET", "shh")
    for arguments in task_status_sources(load(path)):
        rendered = substitute_variables(arguments, dict(CONTROLLER_VARIABLES if "controller" in path.name else {}, **variables))
        connection, settings = task_status.validate_arguments(rendered)
        assert connection["base_url"] == "https://acme.api.identitynow.com"
        if "isc_poll_interval" in variables:
            assert settings.interval == 300


@pytest.mark.parametrize("path", [path for path in RULEBOOKS if path.name.startswith("clear_stuck_tasks")], ids=lambda path: path.name)
def test_the_playbook_closes_what_the_source_announces(path):
    """The stuck_tasks role selects again when it runs: with the same threshold and selection as the source."""
    variables = dict(CONTROLLER_VARIABLES, isc_stuck_after="2h", isc_unique_names=["Identity Refresh"], isc_types=["IDENTITY_REFRESH"], isc_source_ids=["s1"])
    (ruleset,) = load(path)
    arguments = substitute_variables(ruleset["sources"][0][SOURCE], variables)
    (rule,) = [rule for rule in ruleset["rules"] if rule["condition"] == 'event.kind == "stuck"']
    action = rule["action"].get("run_playbook") or rule["action"]["run_job_template"]["job_args"]
    extra_vars = substitute_variables(action["extra_vars"], variables)
    assert extra_vars["stuck_tasks_older_than"] == arguments["older_than"] == "2h"
    assert extra_vars["stuck_tasks_unique_names"] == arguments["unique_name"] == ["Identity Refresh"]
    assert extra_vars["stuck_tasks_types"] == arguments["type"] == ["IDENTITY_REFRESH"]
    assert extra_vars["stuck_tasks_source_ids"] == arguments["source_id"] == ["s1"]
    assert extra_vars["stuck_tasks_max_tasks"] == 25
    # the failure notice leaves out the tasks this very rule closed, by the progress note the rule gives them
    (notify,) = [rule for rule in ruleset["rules"] if rule["name"] == "Report a failed task"]
    assert f'event.task.progress != "{extra_vars["stuck_tasks_progress_note"]}"' in notify["condition"]


@pytest.mark.parametrize("path", [path for path in RULEBOOKS if path.name.startswith("recover_stuck_aggregations")], ids=lambda path: path.name)
def test_the_recovery_watches_the_aggregations_of_the_table_and_recovers_the_source_of_the_event(path):
    """The source announces exactly the aggregations the role recovers, with the role's threshold; the run is limited to
    the stuck task's source."""
    variables = dict(CONTROLLER_VARIABLES, isc_stuck_after="2h", isc_cooldown="30m")
    (ruleset,) = load(path)
    arguments = substitute_variables(ruleset["sources"][0][SOURCE], variables)
    assert sorted(arguments["unique_name"]) == sorted(AGGREGATION_KINDS)
    (rule,) = [rule for rule in ruleset["rules"] if rule["condition"].startswith('event.kind == "stuck"')]
    action = rule["action"].get("run_playbook") or rule["action"]["run_job_template"]["job_args"]
    event = {"kind": "stuck", "tenant": "acme", "task": {"id": "t1", "target": {"id": "2c91808a7813090a017813f1a8a10001"}}}
    extra_vars = substitute_variables(action["extra_vars"], dict(variables, event=event))
    assert extra_vars["recover_aggregations_older_than"] == arguments["older_than"] == "2h"
    assert extra_vars["recover_aggregations_source_ids"] == ["2c91808a7813090a017813f1a8a10001"]
    assert extra_vars["recover_aggregations_cooldown"] == "30m"
    assert rule["throttle"]["group_by_attributes"] == ["event.tenant", "event.task.target.id"]


def test_the_eda_page_shows_valid_rulebooks(monkeypatch):
    monkeypatch.setenv("SAIL_BASE_URL", "https://acme.api.identitynow.com")
    blocks = [yaml.safe_load(block) for block in yaml_blocks(EDA_PAGE.read_text(encoding="utf-8"))]
    rulebooks = [block for block in blocks if isinstance(block, list) and block and "rules" in block[0]]
    assert len(rulebooks) == 3
    for rulebook in rulebooks:
        Validate.rulebook(rulebook)
        # the variables a snippet names stand for what a reader fills in
        named = {name: "x" for name in re.findall(r"\{\{\s*(\w+)\s*\}\}", yaml.safe_dump(rulebook)) if name not in ("event", "events")}
        for arguments in task_status_sources(rulebook):
            task_status.validate_arguments(substitute_variables(arguments, dict(named, **CONTROLLER_VARIABLES)))
        parse_rule_sets(rulebook, {})
