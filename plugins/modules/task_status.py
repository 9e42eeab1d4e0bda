#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) sailpoint.isc contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: task_status
short_description: Clear stuck SailPoint ISC tasks by stating the task status they should have
version_added: 1.0.0
description:
  - States how one task, or a list of tasks, of SailPoint Identity Security Cloud (ISC) should look, typically
    to clear a task stuck as pending by giving it a O(completion_status) and a O(completed) time.
  - Reads each task, computes the JSON Patch between the task as ISC has it and as it should be, and sends only
    that difference. When there is none, nothing is sent and the task is reported unchanged, so a second
    identical run changes nothing.
  - By default only tasks pending when read (those without a C(completionStatus)) are touched, and every PATCH
    starts with RFC 6902 C(test) operations on the values read, so that ISC refuses the PATCH of a task whose
    C(modified) or C(percentComplete) changed meanwhile. See O(only_pending) and O(guard) for exactly what this
    guarantees.
  - Check mode reads the tasks, computes the same patch and returns the predicted tasks without sending it.
author:
  - sailpoint.isc maintainers (@sailpoint-isc)
requirements:
  - jsonpatch >= 1.32 (Python library, where the module runs)
extends_documentation_fragment:
  - sailpoint.isc.connection
  - sailpoint.isc.attributes.ACTION_GROUP
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the target.
    support: full
    details: Reads the tasks and computes the patch exactly as a real run does, sends nothing, and returns the predicted tasks.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: Returns the before and after values of the fields that change, per task.
options:
  id:
    description:
      - The id of one task to handle. Results are returned in RV(task).
      - Mutually exclusive with O(ids).
    type: str
  ids:
    description:
      - The ids of several tasks handled in one run; results are returned in RV(tasks).
      - One task's failure (not found, forbidden, a failed guard) does not stop the others; the module finishes
        them, then fails listing exactly which ids failed and why, and still returns what it changed.
      - An empty list is a valid input that changes nothing.
      - Ids must not repeat, must not be empty or V(.), and must not contain V(/), a backslash, V(?), V(#), V(%),
        V(..) or a control character, as these could change the request path.
      - Several ids are read in pages, not one by one. From V(v2025) a list request filtered with C(id in (...))
        reads up to 125 ids at once (about 5 KB of URL, inside the 8 KiB request line gateways commonly accept). On
        V(beta) and V(v2024), whose list holds only completed tasks, the module counts the pending tasks and reads
        the pending-tasks pages (250 each) followed by filtered lists for the other ids, when that takes fewer
        requests than one GET per id.
      - Mutually exclusive with O(id) and O(tasks).
    type: list
    elements: str
  tasks:
    description:
      - The tasks exactly as M(sailpoint.isc.task_status_info) returned them, to handle without reading them again
        (for example the stuck tasks a listing just found). Results are returned in RV(tasks).
      - Each must hold at least C(id), C(created), C(modified), C(completed), C(completionStatus) and
        C(percentComplete) (keep them when the listing used O(sailpoint.isc.task_status_info#module:fields)).
      - The patch is planned on the listed values and the guard (O(guard)) asserts them, so a task that moved since
        it was listed is never overwritten; ISC answers 409, and the module re-reads the task and reports it.
      - Mutually exclusive with O(id) and O(ids).
    type: list
    elements: dict
  completion_status:
    description:
      - The C(completionStatus) the task should have. Given in any case, sent in upper case.
      - A task whose status already matches in another case (C(Error) for V(ERROR)) needs no change.
    type: str
  completed:
    description:
      - The C(completed) time the task should have, as an RFC 3339 date-time with an offset
        (for example V(2024-05-17T19:33:16.470Z)), not in the future and not before the task was created.
      - V(now) sets the current time only when the task has no C(completed) time yet, so reruns do not change it.
    type: str
  progress:
    description:
      - The C(progress) text the task should have, for example V(Cleared by runbook).
    type: str
  percent_complete:
    description:
      - The C(percentComplete) the task should have, from 0 to 100.
    type: int
  patch:
    description:
      - Raw JSON Patch operations for anything the other options do not cover. They are applied to the task as
        read to predict the result, so they are idempotent too, and only the resulting difference is sent.
      - Each operation is a dict with C(op) (V(add), V(replace) or V(test)), C(path) and C(value). C(value) must not
        be null, as SailPoint's specification does not allow it.
      - V(add) and V(replace) may only target the writable fields V(/completionStatus), V(/completed),
        V(/progress) and V(/percentComplete), and not a field another option of this task sets too.
        V(test) may look at any field of the task; it is checked against the task as read and sent with the
        PATCH, so ISC checks it again at write time.
    type: list
    elements: dict
  only_pending:
    description:
      - When true, a task that already has a C(completionStatus) when it is read is left alone and listed in
        RV(left_alone).
      - This is checked on the read only. The PATCH cannot assert that the task is still pending, because
        SailPoint's JSON Patch never carries null, so a task that finishes between the read and the write is
        protected only by O(guard); with O(guard=false) its outcome is overwritten.
      - When false, finished tasks are brought to the stated values as well.
    type: bool
    default: true
  guard:
    description:
      - When true, each PATCH begins with RFC 6902 C(test) operations asserting the values read that ISC changes
        whenever a task moves, so ISC refuses (HTTP 409) the PATCH of a task that changed between the read and
        the write.
      - Only values that were set when read are tested, since a test cannot carry null. A task read without
        C(modified) is guarded by C(percentComplete) alone, so a change that leaves C(percentComplete) as it was
        is not detected; a task read with neither is not guarded at all.
      - A failed test (HTTP 409) is re-read and reported as a failure of that task; it is never retried blindly.
    type: bool
    default: true
  concurrency:
    description:
      - With O(ids) or O(tasks), how many PATCHes are in flight at once (1 to 16).
      - The client paces the whole run to O(rate_limit) and honours ISC's C(429) with C(Retry-After).
    type: int
    default: 4
notes:
  - The PATCH needs credentials with user context (a personal access token) and the user level ORG_ADMIN,
    CERT_ADMIN or REPORT_ADMIN; other credentials can read tasks but get HTTP 403 on the PATCH. In check mode the
    module reads the access token's claims and reports the tasks ISC would refuse, instead of predicting a change.
  - A PATCH that failed with HTTP 500, 502 or 504, or whose connection dropped, may have been applied all the same;
    its failure says so (RV(failures[].maybe_applied)), and a rerun reconciles the task.
  - When several tasks fail for the same reason, RV(msg) names the reason once, with the tasks it hit.
  - Only O(completion_status), O(completed), O(progress) and O(percent_complete) (or the same fields through
    O(patch)) can change.
seealso:
  - module: sailpoint.isc.task_status_info
  - name: SailPoint API, update task status by id
    description: The PATCH operation this module sends.
    link: https://developer.sailpoint.com/docs/api/beta/update-task-status
"""

EXAMPLES = r"""
- name: Clear one stuck task as failed
  sailpoint.isc.task_status:
    base_url: "{{ isc_base_url }}"
    client_id: "{{ isc_client_id }}"
    client_secret: "{{ isc_client_secret }}"
    id: 2c9180835d2e5168015d32f890ca1581
    completion_status: error
    completed: now
    progress: Cleared by the stuck task runbook

- name: Preview which stuck tasks would be cleared, and how
  sailpoint.isc.task_status:
    base_url: "{{ isc_base_url }}"
    client_id: "{{ isc_client_id }}"
    client_secret: "{{ isc_client_secret }}"
    ids: "{{ stuck.tasks | map(attribute='id') | list }}"
    completion_status: TERMINATED
    completed: now
  check_mode: true
  diff: true
  register: preview

- name: Clear many tasks, eight at a time, with a raw patch for percentComplete
  sailpoint.isc.task_status:
    base_url: "{{ isc_base_url }}"
    client_id: "{{ isc_client_id }}"
    client_secret: "{{ isc_client_secret }}"
    ids: "{{ preview.tasks | map(attribute='id') | list }}"
    completion_status: TERMINATED
    completed: now
    patch:
      - op: replace
        path: /percentComplete
        value: 100
    concurrency: 8
"""

RETURN = r"""
task:
  description:
    - With O(id), the task after the run as ISC returned it, or as it would be in check mode.
    - A task left alone or unchanged is returned as read; after a failed guard it is the task as re-read.
  returned: with O(id), when the task could be read
  type: dict
  sample:
    id: 2c9180835d2e5168015d32f890ca1581
    type: QUARTZ
    uniqueName: Cloud Account Aggregation
    description: Aggregate source accounts
    parentName: null
    launcher: sweep
    created: "2024-05-17T18:00:00.000Z"
    modified: "2024-05-17T19:33:16.470Z"
    launched: "2024-05-17T18:00:01.000Z"
    completed: "2024-05-17T19:33:16.470Z"
    completionStatus: ERROR
    messages: []
    returns: []
    attributes: {}
    progress: Cleared by the stuck task runbook
    percentComplete: 40
tasks:
  description:
    - With O(ids), the tasks after the run in the order of O(ids), each as described for RV(task).
    - A task that could not be read (for example not found) is missing here and listed in RV(failures).
  returned: with O(ids)
  type: list
  elements: dict
  sample:
    - id: 2c9180835d2e5168015d32f890ca1581
      completionStatus: ERROR
      completed: "2024-05-17T19:33:16.470Z"
patch:
  description:
    - Per task id, the JSON Patch operations sent, or that would be sent in check mode, guard tests first.
    - An empty list means the task needed no change (or was left alone, or could not be read).
    - After a failed guard it holds the operations ISC refused.
  returned: always
  type: dict
  sample:
    2c9180835d2e5168015d32f890ca1581:
      - op: test
        path: /modified
        value: "2024-05-17T18:05:00.000Z"
      - op: test
        path: /percentComplete
        value: 40
      - op: replace
        path: /completionStatus
        value: ERROR
      - op: replace
        path: /completed
        value: "2024-05-17T19:33:16.470Z"
left_alone:
  description:
    - The tasks left alone because they already have a C(completionStatus) and O(only_pending) is true.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The task id.
      type: str
      returned: always
    reason:
      description: Why the task was left alone, with its current C(completionStatus).
      type: str
      returned: always
  sample:
    - id: 2c9180835d2e5168015d32f890ca1581
      reason: already finished with completionStatus SUCCESS; left alone because only_pending is true
failed_ids:
  description: The ids of the tasks that failed, in the order given; empty when none failed.
  returned: always
  type: list
  elements: str
  sample: [2c9180835d2e5168015d32f890ca1581]
failures:
  description: Why each task in RV(failed_ids) failed.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The task id.
      type: str
      returned: always
    status:
      description: The HTTP status ISC answered with, when there was one (404, 403, 409 for a failed guard, ...).
      type: int
      returned: always
    msg:
      description: What went wrong and, after a failed guard, the task's state as read and as re-read.
      type: str
      returned: always
    maybe_applied:
      description:
        - True when the PATCH failed in a way that does not prove it was not applied (HTTP 500, 502, 504, a dropped
          connection); a rerun reconciles the task.
      type: bool
      returned: always
  sample:
    - id: 2c9180835d2e5168015d32f890ca1581
      status: 404
      msg: "reading the task failed: HTTP 404: GET /beta/task-status/2c9180835d2e5168015d32f890ca1581 failed with HTTP 404"
diff:
  description:
    - In diff mode, the before and after values of only the fields that change.
    - With O(id), C(before) and C(after) hold those fields; with O(ids), they are keyed by task id and hold only
      the tasks that change.
  returned: in diff mode
  type: dict
  sample:
    before:
      completionStatus: null
      completed: null
    after:
      completionStatus: ERROR
      completed: "2024-05-17T19:33:16.470Z"
api_requests:
  description:
    - The HTTP requests this module run sent to ISC, token requests and repeated tries included (ISC counts each
      one against the tenant's API usage); in check mode only the reads.
    - 0 when the module failed before any request (an invalid option).
  returned: always
  type: int
  sample: 4
msg:
  description:
    - When tasks failed, which ones and why; the other tasks were still handled.
    - When the run failed as a whole (an invalid option, credentials ISC refused, ISC unreachable), what went wrong.
  returned: failure
  type: str
  sample: "1 of 3 tasks failed (2c9180835d2e5168015d32f890ca1581); the other tasks were handled (2 changed). Failures: ..."
status:
  description: When the run failed as a whole after an HTTP answer, the HTTP status ISC answered with.
  returned: failure
  type: int
  sample: 401
detail:
  description: When the run failed as a whole, details of the error, for example the error body ISC answered with.
  returned: failure
  type: raw
  sample:
    detailCode: 401 Unauthorized
    messages:
      - text: The client id or secret is not valid
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.sailpoint.isc.plugins.module_utils import _connection as connection
from ansible_collections.sailpoint.isc.plugins.module_utils import _errors as errors
from ansible_collections.sailpoint.isc.plugins.module_utils import _task_patch as task_patch


def argument_spec() -> dict:
    spec = connection.argument_spec()
    spec.update(
        id={"type": "str"},
        ids={"type": "list", "elements": "str"},
        completion_status={"type": "str"},
        completed={"type": "str"},
        progress={"type": "str"},
        percent_complete={"type": "int"},
        patch={"type": "list", "elements": "dict"},
        only_pending={"type": "bool", "default": True},
        guard={"type": "bool", "default": True},
        concurrency={"type": "int", "default": 4},
        tasks={"type": "list", "elements": "dict"},
    )
    return spec


def main() -> None:
    module = connection.build_module(
        argument_spec(),
        mutually_exclusive=[("id", "ids", "tasks")],
        required_one_of=[("id", "ids", "tasks")],
        supports_check_mode=True,
    )
    if not task_patch.HAS_JSONPATCH:
        module.fail_json(msg=missing_required_lib("jsonpatch"), exception=task_patch.JSONPATCH_IMPORT_ERROR, api_requests=0)
    client = None
    try:
        plan = task_patch.validate(module.params)
        client = connection.client_from_params(module.params, warn=module.warn)
        try:
            result = task_patch.run(client, plan, module.check_mode, module._diff)
        finally:
            client.close()
    except errors.IscError as error:
        errors.fail(module, error, api_requests=connection.requests_sent(client))
    else:
        result["api_requests"] = client.requests_sent
        if result["failed_ids"]:
            module.fail_json(**result)
        module.exit_json(**result)


if __name__ == "__main__":
    main()
