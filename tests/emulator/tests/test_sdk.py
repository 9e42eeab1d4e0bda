"""SailPoint's official Python SDK as a real client: it must see no difference from a tenant."""

import datetime
import warnings

import pytest
from sailpoint.configuration import Configuration, ConfigurationParams
from sailpoint.task_management import ApiClient, TaskManagementApi
from sailpoint.task_management.exceptions import ApiException
from sailpoint.task_management.models.json_patch_operation import JsonPatchOperation
from sailpoint.task_management.models.task_status import TaskStatus

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def sdk(emu):
    params = ConfigurationParams()
    params.base_url = emu.base_url
    params.client_id = emu.clients()["admin"]["client_id"]
    params.client_secret = emu.clients()["admin"]["client_secret"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        configuration = Configuration(params)
    assert configuration.access_token
    with ApiClient(configuration) as client:
        yield TaskManagementApi(client)


def test_list_with_count_and_pages(sdk):
    reply = sdk.get_task_status_list_v1_with_http_info(limit=25, offset=0, count=True)
    assert reply.status_code == 200 and int(reply.headers["X-Total-Count"]) == 60
    assert len(reply.data) == 25 and all(isinstance(task, TaskStatus) for task in reply.data)
    second = sdk.get_task_status_list_v1(limit=25, offset=25)
    assert not {task.id for task in reply.data} & {task.id for task in second}


def test_pending_through_the_isnull_filter(sdk):
    pending = sdk.get_task_status_list_v1(filters="completionStatus isnull", sorters="-created")
    assert len(pending) == 8 and all(task.completion_status is None and task.completed is None for task in pending)


def test_filters(sdk):
    refreshes = sdk.get_task_status_list_v1(filters='type eq "IDENTITY_REFRESH" and launcher in ("sweep", "system", "jane.doe")')
    assert all(task.unique_name == "Identity Refresh" for task in refreshes)


def test_count_by_head_through_the_sdk_client(sdk):
    client = sdk.api_client
    serialized = client.param_serialize("HEAD", "/beta/task-status/pending-tasks", query_params=[("count", True)])
    reply = client.call_api(*serialized)
    assert reply.status == 200 and reply.getheader("X-Total-Count") == "8"


def test_get_and_patch(sdk):
    task = sdk.get_task_status_list_v1(filters="completionStatus isnull")[0]
    assert sdk.get_task_status_v1(task.id) == task
    completed = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    operations = [
        JsonPatchOperation.from_dict({"op": "test", "path": "/percentComplete", "value": task.percent_complete}),
        JsonPatchOperation.from_dict({"op": "replace", "path": "/completionStatus", "value": "ERROR"}),
        JsonPatchOperation.from_dict({"op": "replace", "path": "/completed", "value": completed}),
    ]
    patched = sdk.update_task_status_v1(task.id, operations)
    assert patched.completion_status == "ERROR" and patched.completed is not None
    with pytest.raises(ApiException) as caught:
        sdk.update_task_status_v1(task.id, operations[:1] + [JsonPatchOperation.from_dict({"op": "test", "path": "/percentComplete", "value": 101})])
    assert caught.value.status == 409


def test_sdk_errors(sdk):
    with pytest.raises(ApiException) as caught:
        sdk.get_task_status_v1("0" * 32)
    assert caught.value.status == 404
    with pytest.raises(ApiException) as caught:
        sdk.get_task_status_list_v1(filters='bogus eq "x"')
    assert caught.value.status == 400 and "bogus" in caught.value.body


def test_sdk_bad_credentials_get_no_token(emu, capsys):
    params = ConfigurationParams()
    params.base_url = emu.base_url
    params.client_id = emu.clients()["admin"]["client_id"]
    params.client_secret = "wrong"
    assert Configuration(params).access_token is None
    assert "Unauthorized" in capsys.readouterr().out
