# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""task_reader: reads per API version, selectors on the server or here, a refused type filter, reads by id."""

from __future__ import annotations

import re
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from ansible_collections.sailpoint.isc.plugins.module_utils import _filters as isc_filters
from ansible_collections.sailpoint.isc.plugins.module_utils import _task_reader as task_reader
from ansible_collections.sailpoint.isc.plugins.module_utils._client import API_VERSIONS, Page
from ansible_collections.sailpoint.isc.plugins.module_utils._errors import BadRequestError, OptionError
from ansible_collections.sailpoint.isc.plugins.module_utils._task_reader import Selectors, TaskReader, read_pending
from ansible_collections.sailpoint.isc.tests.unit.plugins.fake_isc import make_task

UNSUPPORTED = "GET /v2025/task-status failed with HTTP 400: Unsupported Task Definition type: CLOUD_ENTITLEMENT_IMPORT"


def _reader(version):
    return TaskReader(SimpleNamespace(version=API_VERSIONS[version]))


def _plan(version, scope="all", **selectors):
    return _reader(version).plan(Selectors(**selectors), scope)


@pytest.mark.parametrize(
    "version, scope, expected",
    [
        ("beta", "all", [("list", None), ("pending", None)]),
        ("beta", "pending", [("pending", None)]),
        ("v2024", "completed", [("list", None)]),
        ("v2025", "all", [("list", None)]),
        ("v2025", "pending", [("list", "completionStatus isnull")]),
        ("v2026", "pending", [("list", "completionStatus isnull")]),
        ("v1", "pending", [("list", "completionStatus isnull")]),
        ("v2026", "completed", [("list", 'completionStatus in ("SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR")')]),
    ],
)
def test_scope_chooses_operations_per_version(version, scope, expected):
    assert [(read.operation, read.filters) for read in _plan(version, scope)] == expected


def test_selectors_go_to_the_server_where_the_version_supports_them():
    (read,) = _plan("v2025", "pending", types=("IDENTITY_REFRESH",), launchers=("sweep",), unique_names=("Identity Refresh",))
    assert read.filters == '(completionStatus isnull) and (type eq "IDENTITY_REFRESH")'
    assert set(read.local) == {"launchers", "unique_names"} and not read.exact
    (read,) = _plan("v2026", launchers=("sweep", 'a"b'), filters='id eq "x" or id eq "y"')
    assert read.filters == '(launcher in ("sweep", "a\\"b")) and (id eq "x" or id eq "y")'
    assert read.local == () and read.exact


def test_pending_tasks_of_a_source_are_one_request_from_v2025_and_the_pending_pages_before():
    (read,) = _plan("v2025", "pending", source_ids=("2c91",))
    assert (read.operation, read.filters, read.exact) == ("list", '(completionStatus isnull) and (sourceId eq "2c91")', True)
    (read,) = _plan("v2024", "pending", source_ids=("2c91",))
    assert (read.operation, read.filters, read.local) == ("pending", None, ("source_ids",))


def test_completion_status_implies_completed():
    (read,) = _plan("beta", completion_statuses=("ERROR", "SUCCESS"))
    assert read.operation == "list" and read.filters == 'completionStatus in ("ERROR", "SUCCESS")'
    with pytest.raises(OptionError, match="^completion_status selects completed tasks"):
        _plan("v2026", "pending", completion_statuses=("ERROR",))


def test_raw_filters_cannot_reach_the_pending_endpoint():
    with pytest.raises(OptionError, match="^filters cannot select pending tasks with api_version v2024"):
        _plan("v2024", filters='type eq "X"')
    assert [read.operation for read in _plan("v2024", "completed", filters='type eq "X"')] == ["list"]


def test_the_type_selector_matches_the_task_definition_name_or_the_unique_name():
    assert task_reader.task_definition_name({"attributes": {"taskDefinitionName": "CLOUD_GROUP_AGGREGATION"}, "uniqueName": "x"}) == "CLOUD_GROUP_AGGREGATION"
    assert task_reader.task_definition_name({"attributes": {}, "uniqueName": "Cloud Entitlement Import"}) == "CLOUD_ENTITLEMENT_IMPORT"
    selectors = Selectors(types=("cloud_entitlement_import",), source_ids=("src1",))
    assert task_reader.selected(make_task(1, uniqueName="Cloud Entitlement Import", attributes={}), selectors)
    assert not task_reader.selected(make_task(1, uniqueName="Cloud Entitlement Import", attributes={}, target=None), selectors)


def test_completed_without_a_status_is_pending_for_the_scope():
    task = make_task(1, completionStatus=None)
    assert task["completed"] is not None
    assert task_reader.selected(task, Selectors(), "pending") and not task_reader.selected(task, Selectors(), "completed")


def test_id_batches_stay_inside_the_url_budget():
    long_ids = [f"{'x' * 200}{index}" for index in range(100)]
    batches = task_reader.id_batches(tuple(long_ids))
    assert sum(len(batch) for batch in batches) == 100
    for batch in batches:
        assert len(quote(isc_filters.condition("id", batch), safe="")) <= task_reader.ID_FILTER_BUDGET + 200
    assert [len(batch) for batch in task_reader.id_batches(tuple(f"{index:032x}" for index in range(250)))] == [125, 125]


class RefusingClient:
    """A v2025 tenant that refuses one type name in its filter, as ISC does live; records every request."""

    def __init__(self, tasks, refused="CLOUD_ENTITLEMENT_IMPORT", version="v2025", message=UNSUPPORTED):
        self.version = API_VERSIONS[version]
        self.tasks = tasks
        self.refused = refused
        self.message = message
        self.requests = []
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def _answer(self, filters):
        if filters and re.search(rf"type (eq|in) .*{self.refused}", filters, re.IGNORECASE):
            raise BadRequestError(self.message, status=400)
        pending = "completionStatus isnull" in (filters or "")
        ids = re.findall(r'"([^"]+)"', filters) if re.search(r"\bid (eq|in)", filters or "") else []
        return [task for task in self.tasks if (task["completionStatus"] is None) == pending and (not ids or task["id"] in ids)]

    def iter_pages(self, filters=None, sorters=None, max_results=None, operation="list", page_size=250):
        self.requests.append(("GET", operation, filters))
        yield self._answer(filters)

    def count_tasks(self, filters=None, operation="list"):
        self.requests.append(("COUNT", operation, filters))
        return len(self._answer(filters))

    def read_page(self, operation="list", filters=None, sorters=None, limit=250, offset=0, count=False):
        self.requests.append(("PAGE", operation, filters))
        tasks = self._answer(filters)
        return Page(tasks[:limit], len(tasks), "Sun, 06 Dec 2026 19:00:00 GMT")


def _tasks():
    return [
        make_task(1, pending=True, uniqueName="Cloud Entitlement Import", attributes={"taskDefinitionName": "CLOUD_ENTITLEMENT_IMPORT"}),
        make_task(2, pending=True, uniqueName="Cloud Account Aggregation"),
        make_task(3, uniqueName="Cloud Entitlement Import", attributes={"taskDefinitionName": "CLOUD_ENTITLEMENT_IMPORT"}),
    ]


def test_a_refused_type_filter_is_matched_here_once_warned_and_remembered_for_the_run():
    client = RefusingClient(_tasks())
    reader = TaskReader(client)
    selectors = Selectors(types=("CLOUD_ENTITLEMENT_IMPORT",))
    assert [task["id"][-1] for task in reader.pending(selectors)] == ["1"]
    assert [task["id"][-1] for task in reader.completed(selectors)] == ["3"]
    # one refused request in the whole run: the second read plans the type on this side from the start
    assert [entry[2] for entry in client.requests] == [
        '(completionStatus isnull) and (type eq "CLOUD_ENTITLEMENT_IMPORT")',
        "completionStatus isnull",
        'completionStatus in ("SUCCESS", "WARNING", "ERROR", "TERMINATED", "TEMPERROR")',
    ]
    (warning,) = client.warnings
    assert "ISC refused the type filter" in warning and "CLOUD_ENTITLEMENT_IMPORT" in warning and "collection's side" in warning


def test_a_refused_type_filter_makes_a_count_local():
    client = RefusingClient(_tasks())
    reader = TaskReader(client)
    selectors = Selectors(types=("CLOUD_ENTITLEMENT_IMPORT",))
    (read,) = reader.plan(selectors, "pending")
    assert read.exact and reader.count(read, selectors) is None
    assert not reader.plan(selectors, "pending")[0].exact and len(client.warnings) == 1


def test_the_probe_survives_a_refused_type_filter():
    client = RefusingClient(_tasks())
    probe = TaskReader(client).probe(Selectors(types=("CLOUD_ENTITLEMENT_IMPORT",)))
    assert probe.signature == (2, 1, f"{3:032x}") and probe.server_time.year == 2026
    # the pending count meets the refusal; the page of completed tasks already leaves the type out
    assert len(client.warnings) == 1 and [entry[0] for entry in client.requests] == ["COUNT", "COUNT", "PAGE"]


def test_other_bad_requests_are_not_taken_for_a_refused_type():
    client = RefusingClient(_tasks(), refused="X", message="GET /v2025/task-status failed with HTTP 400: Unsupported sorter 'name'")
    with pytest.raises(BadRequestError, match="sorter"):
        list(TaskReader(client).pending(Selectors(types=("X",))))
    assert client.warnings == []


def test_read_pending_of_a_source():
    client = RefusingClient([make_task(1, pending=True), make_task(2, pending=True, target={"id": "other"})], version="v2024")
    client.iter_pages = lambda filters=None, sorters=None, max_results=None, operation="list", page_size=250: iter([client.tasks])
    assert [task["id"][-1] for task in read_pending(client, Selectors(source_ids=("SRC1",)))] == ["1"]


def test_completed_by_ids_leaves_pending_and_unknown_ids_out():
    client = RefusingClient(_tasks())
    found = TaskReader(client).completed_by_ids([f"{1:032x}", f"{3:032x}", "gone"], Selectors())
    assert [task["id"][-1] for task in found] == ["3"]
