# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""make docs tolerates only the warnings of an offline build; everything else must fail it."""

from __future__ import annotations

from ansible_collections.sailpoint.isc.tests.utils import docs_warnings

ANSIBLE_INVENTORY_UNREACHABLE = """\
WARNING: failed to reach any of the inventories with the following issues:
intersphinx inventory 'https://docs.ansible.com/projects/ansible/devel/objects.inv' not fetchable due to \
<class 'requests.exceptions.ConnectionError'>: HTTPSConnectionPool(host='docs.ansible.com', port=443): Max retries
intersphinx inventory '../ansible_devel.inv' not readable due to FileNotFoundError: [Errno 2] No such file
"""
PYTHON_INVENTORY_UNREACHABLE = """\
WARNING: failed to reach any of the inventories with the following issues:
intersphinx inventory 'https://docs.python.org/3/objects.inv' not fetchable due to \
<class 'requests.exceptions.ConnectionError'>: HTTPSConnectionPool(host='docs.python.org', port=443): Max retries
intersphinx inventory '../python3.inv' not readable due to FileNotFoundError: [Errno 2] No such file
"""
RETURN_VALUES_LABEL = "/site/rst/task_status_module.rst:1112: WARNING: undefined label: 'common_return_values' [ref.ref]\n"


def run(text, tmp_path, capsys):
    path = tmp_path / "warnings.txt"
    path.write_text(text, encoding="utf-8")
    status = docs_warnings.main([str(path)])
    return status, capsys.readouterr().out


def test_an_offline_build_passes_and_says_what_it_tolerated(tmp_path, capsys):
    status, out = run(ANSIBLE_INVENTORY_UNREACHABLE + PYTHON_INVENTORY_UNREACHABLE + RETURN_VALUES_LABEL, tmp_path, capsys)
    assert status == 0
    assert "tolerated (offline): intersphinx inventory https://docs.ansible.com/projects/ansible/devel/objects.inv" in out
    assert "tolerated (offline): /site/rst/task_status_module.rst:1112: WARNING: undefined label: 'common_return_values'" in out
    assert "no warning but the 3 that come from being offline" in out


def test_no_warning_at_all_passes(tmp_path, capsys):
    assert run("", tmp_path, capsys)[0] == 0


def test_an_ansible_label_fails_when_ansible_docs_were_reachable(tmp_path, capsys):
    status, out = run(PYTHON_INVENTORY_UNREACHABLE + RETURN_VALUES_LABEL, tmp_path, capsys)
    assert status == 1
    assert "1 documentation warning(s) that do not come from being offline" in out


def test_a_broken_reference_of_our_own_fails(tmp_path, capsys):
    own = "/site/rst/docsite/runbooks.rst:40: WARNING: undefined label: 'ansible_collections.sailpoint.isc.docsite.awx' [ref.ref]\n"
    status, out = run(ANSIBLE_INVENTORY_UNREACHABLE + own, tmp_path, capsys)
    assert status == 1
    assert "ansible_collections.sailpoint.isc.docsite.awx" in out


def test_an_inventory_that_fails_for_another_reason_fails(tmp_path, capsys):
    refused = ANSIBLE_INVENTORY_UNREACHABLE.replace("requests.exceptions.ConnectionError", "requests.exceptions.HTTPError")
    assert run(refused, tmp_path, capsys)[0] == 1


def test_a_local_inventory_that_exists_but_is_broken_fails(tmp_path, capsys):
    broken = ANSIBLE_INVENTORY_UNREACHABLE.replace("not readable due to FileNotFoundError", "not readable due to ValueError")
    assert run(broken, tmp_path, capsys)[0] == 1


def test_errors_and_other_warnings_fail(tmp_path, capsys):
    text = "/site/rst/index.rst:5: ERROR: Unknown directive type 'foo'.\n/site/rst/x.rst: WARNING: document isn't included in any toctree\n"
    status, out = run(text, tmp_path, capsys)
    assert status == 1
    assert "2 documentation warning(s)" in out
