#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: task_status_info
short_description: Find SailPoint ISC task statuses, count them or wait for one
description:
  - Reads task statuses (aggregations, identity refreshes and other background tasks) from SailPoint Identity Security
    Cloud (ISC), one by O(id) or many selected by O(scope), structured selectors, age, or raw ISC filters.
  - Chooses the operations each O(api_version) offers (C(/task-status/pending-tasks) or C(completionStatus isnull)),
    merges their answers without duplicates, and reads every page.
  - Selectors are sent to ISC as a filter where the version supports the field, and applied by the module otherwise,
    so every version gives the same answer.
  - Never changes anything.
version_added: 1.0.0
author:
  - sailpoint.isc maintainers (@sailpoint-isc)
extends_documentation_fragment:
  - sailpoint.isc.connection
  - sailpoint.isc.attributes.INFO_MODULE
  - sailpoint.isc.attributes.ACTION_GROUP
options:
  id:
    description:
      - The id of one task. Returns it, or an empty list when ISC answers 404 (unknown, or older than ISC's 90 days).
      - The selectors below still narrow the task; O(filters) and O(sorters) cannot be combined with O(id).
    type: str
  scope:
    description:
      - Which tasks to read. V(pending) are tasks without a C(completionStatus).
    type: str
    choices: [pending, completed, all]
    default: all
  completion_status:
    description:
      - Keep tasks whose C(completionStatus) is one of these (V(SUCCESS), V(WARNING), V(ERROR), V(TERMINATED),
        V(TEMPERROR), any case). Implies completed tasks, so it cannot be combined with O(scope=pending).
    type: list
    elements: str
  unique_name:
    description:
      - Keep tasks whose C(uniqueName) is one of these, for example V(Cloud Account Aggregation). Case-insensitive.
      - ISC has no filter on this field, so it is always applied by the module.
    type: list
    elements: str
  type:
    description:
      - Keep tasks of these task definitions, for example V(CLOUD_ACCOUNT_AGGREGATION) or V(IDENTITY_REFRESH), as ISC's
        C(type) filter understands them (not C(QUARTZ) or C(QPOC)).
      - When the module applies it itself, it compares C(attributes.taskDefinitionName), or the C(uniqueName) in upper
        case with underscores when that attribute is missing.
      - ISC refuses some documented names in its filter (HTTP 400 "Unsupported Task Definition type", for example
        V(CLOUD_ENTITLEMENT_IMPORT)). The module then reads again without that filter, selects the same tasks
        itself and warns; the refusal holds for the rest of the run, so it costs one request.
    type: list
    elements: str
  source_id:
    description:
      - Keep tasks whose C(target.id) (the source of an aggregation) is one of these.
    type: list
    elements: str
  launcher:
    description:
      - Keep tasks started by one of these (C(launcher)). Sent to ISC with V(v2026) and V(v1), applied by the module otherwise.
    type: list
    elements: str
  older_than:
    description:
      - Keep tasks launched (or created, when never launched) at least this long ago, for example V(90s),
        V(30m), V(6h), V(2d) or V(1h30m). A bare number counts as seconds. A task started exactly that long ago is
        kept; the C(stuck_tasks) role, the task report and the event source draw the same line.
      - With O(scope=pending), this selects stuck tasks.
      - Units are V(s), V(m), V(h), V(d) and V(w), combined in any order with or without spaces; at most ten years.
    type: str
  filters:
    description:
      - A raw ISC filter expression, for example V(type eq "IDENTITY_REFRESH"), added with C(and) to the selectors.
      - Not possible for pending tasks with V(beta) or V(v2024), whose pending-tasks operation takes no filters.
    type: str
  sorters:
    description:
      - ISC sorters, V(created) or V(-created) (descending), the only field ISC sorts task statuses by.
        Merged answers of several operations are sorted by the module.
    type: str
  max_results:
    description:
      - Return at most this many tasks, from 0 to 10,000,000. By default, all.
    type: int
  count:
    description:
      - Also return RV(total), the number of matching tasks (before O(max_results)), from ISC's C(X-Total-Count) when ISC
        applies the whole selection, else counted by the module.
    type: bool
    default: false
  wait:
    description:
      - With O(id), poll the task until it has completed, then return it and RV(elapsed).
      - Fails when O(wait_timeout) passes first.
      - A poll that meets a server error, a rate limit or no answer at all (after O(retries)) is reported as a
        warning and counts as still pending; the failure at O(wait_timeout) names the last such error.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait for the task to complete, more than 0 and at most 86400 (a day).
    type: float
    default: 300
  wait_sleep:
    description:
      - Seconds between two polls, from 0.5 to 3600.
    type: float
    default: 5
  fields:
    description:
      - Return only these fields of each task, for example V([id, uniqueName, completionStatus, launched]).
      - ISC still sends whole tasks; the module drops the other fields as each page arrives, so a large listing
        moves and holds a fraction of the data through Ansible.
      - Each must be a field of a TaskStatus (V(id), V(type), V(uniqueName), V(description), V(parentName),
        V(launcher), V(target), V(created), V(modified), V(launched), V(completed), V(completionStatus),
        V(messages), V(returns), V(attributes), V(progress), V(percentComplete), V(taskDefinitionSummary)).
      - To pass the tasks on to M(sailpoint.isc.task_status) O(sailpoint.isc.task_status#module:tasks), keep at least
        V(id), V(created), V(modified), V(completed), V(completionStatus) and V(percentComplete).
    type: list
    elements: str
notes:
  - Returned tasks keep ISC's own field names (C(completionStatus), C(uniqueName)), so SailPoint's documentation applies.
seealso:
  - module: sailpoint.isc.task_status
"""

EXAMPLES = r"""
- name: Stuck tasks, pending for at least 6 hours
  sailpoint.isc.task_status_info:
    base_url: "{{ isc_base_url }}"
    client_id: "{{ isc_client_id }}"
    client_secret: "{{ isc_client_secret }}"
    scope: pending
    older_than: 6h
  register: stuck

- name: Failed account aggregations of one source, newest first, with the total
  sailpoint.isc.task_status_info:
    base_url: "{{ isc_base_url }}"
    client_id: "{{ isc_client_id }}"
    client_secret: "{{ isc_client_secret }}"
    api_version: v2025
    completion_status: [ERROR, TERMINATED]
    type: [CLOUD_ACCOUNT_AGGREGATION]
    sorters: -created
    max_results: 10
    count: true
  register: failed

- name: Set the connection once for every module of the collection
  module_defaults:
    group/sailpoint.isc.isc:
      base_url: "{{ isc_base_url }}"
      client_id: "{{ isc_client_id }}"
      client_secret: "{{ isc_client_secret }}"
      api_version: v2026
  block:
    - name: Wait up to ten minutes for one task to complete
      sailpoint.isc.task_status_info:
        id: "{{ stuck.tasks[0].id }}"
        wait: true
        wait_timeout: 600
        wait_sleep: 10
      register: finished
      when: stuck.tasks | length > 0

    - name: Raw filter for anything the selectors do not cover
      sailpoint.isc.task_status_info:
        filters: 'launcher eq "sweep" or launcher eq "scheduler"'
"""

RETURN = r"""
tasks:
  description:
    - The matching task statuses, as ISC returns them (only the O(fields) named, when given).
    - Empty when nothing matches, or when O(id) is unknown to ISC.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 2c9180835d2e5168015d32f890ca1581
      type: QUARTZ
      uniqueName: Cloud Account Aggregation
      description: Aggregate from the specified application
      parentName: null
      launcher: sweep
      target: {id: 2c9180835d2e5168015d32f890ca1581, type: APPLICATION, name: "Active Directory [source]"}
      created: "2026-07-11T21:23:15.000Z"
      modified: "2026-07-11T21:23:15.000Z"
      launched: "2026-07-11T21:23:15.000Z"
      completed: null
      completionStatus: null
      messages: []
      returns: []
      attributes: {appId: c31386cb18bb403cbb6df4c86294ff82, taskDefinitionName: CLOUD_ACCOUNT_AGGREGATION}
      progress: Processing accounts
      percentComplete: 42
total:
  description: The number of matching tasks before O(max_results).
  returned: when O(count=true)
  type: int
  sample: 42
elapsed:
  description: Seconds spent waiting for the task to complete.
  returned: when O(wait=true)
  type: float
  sample: 12.5
status:
  description: The HTTP status of ISC's answer that made the module fail; absent when no answer caused it (an invalid option, a timeout).
  returned: failure
  type: int
  sample: 400
detail:
  description:
    - What is known about the failure, secrets masked.
    - For an ISC answer, its V(status), V(method), V(path) and V(body) (ISC's error response).
    - When O(wait) ran out, the last state read as V(task) (null when it could not be read) and the seconds waited as V(elapsed).
  returned: failure
  type: dict
  sample: {status: 400, method: GET, path: /beta/task-status, body: {detailCode: 400.1 Bad Request Content, trackingId: t-42}}
"""

from ansible_collections.sailpoint.isc.plugins.module_utils import _connection as connection
from ansible_collections.sailpoint.isc.plugins.module_utils import _errors as errors
from ansible_collections.sailpoint.isc.plugins.module_utils import _task_query as task_query
from ansible_collections.sailpoint.isc.plugins.module_utils._task_reader import SCOPES


def argument_spec():
    spec = connection.argument_spec()
    spec.update(
        id=dict(type="str"),
        scope=dict(type="str", choices=list(SCOPES), default="all"),
        completion_status=dict(type="list", elements="str"),
        unique_name=dict(type="list", elements="str"),
        type=dict(type="list", elements="str"),
        source_id=dict(type="list", elements="str"),
        launcher=dict(type="list", elements="str"),
        older_than=dict(type="str"),
        filters=dict(type="str"),
        sorters=dict(type="str"),
        max_results=dict(type="int"),
        count=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="float", default=300),
        wait_sleep=dict(type="float", default=5),
        fields=dict(type="list", elements="str"),
    )
    return spec


def main():
    module = connection.build_module(argument_spec(), supports_check_mode=True)
    try:
        plan = task_query.plan_query(module.params)
        client = connection.client_from_params(module.params, warn=module.warn)
        try:
            result = task_query.query_tasks(client, plan)
        finally:
            client.close()
    except errors.IscError as error:
        errors.fail(module, error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
