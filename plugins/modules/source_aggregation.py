#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: source_aggregation
short_description: Launch a SailPoint ISC source's account or entitlement aggregation once, and follow it
version_added: 1.1.0
description:
  - Launches an account aggregation (C(POST /sources/{id}/load-accounts)) or an entitlement aggregation
    (C(POST /sources/{id}/load-entitlements)) of one source of SailPoint Identity Security Cloud (ISC), typically
    after a stuck aggregation was cleared with M(sailpoint.isc.task_status).
  - Idempotent. Before launching, it reads the source's pending aggregations of that O(kind) (one request from
    V(v2025), C(sourceId eq "..." and completionStatus isnull); the pending-tasks pages before). ISC fails every
    aggregation launched while another of the same source runs, so by default the module launches nothing then and
    returns the running task (O(if_running)).
  - Refuses to launch on a source ISC reports as not healthy (O(require_healthy)), before sending anything.
  - A launch is never sent twice. It is repeated only after answers that prove it was not applied (HTTP 429 or 503,
    a connection that never opened). After HTTP 500, 502, 504 or a dropped connection the module reads the source's
    pending aggregations again. If the launch took, it reports that task; if not, it launches once more, and if that
    fails the same way, it fails saying the launch may have been applied.
  - With O(wait=true), follows the task to its end and fails when it ends in C(ERROR), C(TERMINATED) or
    C(TEMPERROR), with the task's messages; a launch refused because another aggregation of the source still runs
    gets a message naming that aggregation.
author:
  - sailpoint.isc maintainers (@sailpoint-isc)
extends_documentation_fragment:
  - sailpoint.isc.connection
  - sailpoint.isc.attributes.ACTION_GROUP
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying the target.
    support: full
    details:
      - Reads the source and its pending aggregations exactly as a real run does, predicts RV(changed), and sends no
        launch. It does not wait for a running aggregation (O(if_running=queue)) or for the launch (O(wait)).
      - Predicts ISC's HTTP 403 from the token's claims and fails the same way a real run would; an account
        aggregation needs C(idn:sources:manage) (an API client may launch it), an entitlement aggregation a
        personal access token of a user at C(ORG_ADMIN).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
    details: A launch creates a new task rather than changing one; RV(task) shows it.
options:
  source_id:
    description:
      - The id of the source.
      - Exactly one of O(source_id) and O(source_name) is required.
    type: str
  source_name:
    description:
      - The name of the source, resolved with one filtered C(GET /sources) request (ISC compares names without
        case; an exact match wins). A name ISC does not know, or one several sources share, fails the module
        naming it.
    type: str
  kind:
    description:
      - Which aggregation to launch. V(accounts) launches C(Cloud Account Aggregation), V(entitlements)
        C(Cloud Group Aggregation).
      - Running aggregations are told apart by their C(uniqueName) (C(Cloud Account Aggregation) for accounts;
        C(Cloud Group Aggregation) and C(Cloud Entitlement Import) for entitlements).
    type: str
    choices: [accounts, entitlements]
    default: accounts
  disable_optimization:
    description:
      - Reprocess every account, changed or not (sent as the form field C(disableOptimization=true)).
      - Only with O(kind=accounts).
    type: bool
    default: false
  if_running:
    description:
      - What to do when an aggregation of that O(kind) is already pending on the source.
      - V(skip) launches nothing and returns the running task with RV(changed=false).
      - V(queue) waits (up to O(wait_timeout), polling as O(wait) does) for it to end, then launches.
      - V(fail) fails the module naming the running task.
      - A stuck aggregation blocks every later one until it is cleared, for example with
        M(sailpoint.isc.task_status).
    type: str
    choices: [skip, queue, fail]
    default: skip
  require_healthy:
    description:
      - Refuse to launch on a source whose C(healthy) is not V(true), naming its C(status) and C(since), before any
        launch is sent.
    type: bool
    default: true
  wait:
    description:
      - Follow the returned task (the one launched, or the one running with O(if_running=skip)) until it has a
        C(completionStatus), then return it, the seconds taken as RV(elapsed) and, for accounts, the
        aggregation's counts as RV(aggregation).
      - Polls C(GET /task-status/{id}) at O(wait_sleep) first, then twice as long after each poll, up to 30
        seconds, always within the client's rate limit. A task whose C(completed) is set while its
        C(completionStatus) is still null is still running.
      - A poll that meets a server error, a rate limit or no answer at all (after O(retries)) is reported as a
        warning and counts as still running.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds the run may wait in all (for a running aggregation with O(if_running=queue), and for the task with
        O(wait)), more than 0 and at most 86400 (a day).
    type: float
    default: 300
  wait_sleep:
    description:
      - Seconds before the second poll of a wait, from 0.5 to 3600; later polls back off up to 30 seconds apart.
    type: float
    default: 5
notes:
  - The returned task keeps ISC's own field names (C(completionStatus), C(uniqueName)), so SailPoint's documentation
    applies.
  - A launch without O(wait) sends at most four requests, the token request included (the token, the source by id
    or by name, its pending aggregations, the launch).
seealso:
  - module: sailpoint.isc.source_info
  - module: sailpoint.isc.task_status
  - module: sailpoint.isc.task_status_info
"""

EXAMPLES = r"""
- name: Launch the account aggregation of a source unless one runs
  sailpoint.isc.source_aggregation:
    base_url: "{{ isc_base_url }}"
    client_id: "{{ isc_client_id }}"
    client_secret: "{{ isc_client_secret }}"
    api_version: v2025
    source_name: Active Directory
  register: launched

- name: Set the connection once for every module of the collection
  module_defaults:
    group/sailpoint.isc.isc:
      base_url: "{{ isc_base_url }}"
      client_id: "{{ isc_client_id }}"
      client_secret: "{{ isc_client_secret }}"
      api_version: v2025
  block:
    - name: Launch the entitlement aggregation after the running one, and wait up to ten minutes for it
      sailpoint.isc.source_aggregation:
        source_id: "{{ launched.source.id }}"
        kind: entitlements
        if_running: queue
        wait: true
        wait_timeout: 600
      register: entitlements

    - name: Reprocess every account, and fail if an account aggregation is already running
      sailpoint.isc.source_aggregation:
        source_id: "{{ launched.source.id }}"
        disable_optimization: true
        if_running: fail
        wait: true
      register: accounts

    - name: Show the counts
      ansible.builtin.debug:
        msg: "{{ accounts.aggregation.processedAccounts }} of {{ accounts.aggregation.totalAccounts }} changed accounts processed"
      when: accounts.aggregation is not none
"""

RETURN = r"""
changed:
  description: Whether an aggregation was launched (in check mode, would be).
  returned: always
  type: bool
launched:
  description: Whether this run launched an aggregation (in check mode, would launch one); false when one was running and O(if_running=skip).
  returned: always
  type: bool
  sample: true
source:
  description: The source as read before the launch.
  returned: always
  type: dict
  contains:
    id:
      description: The source's id.
      type: str
    name:
      description: The source's name.
      type: str
    healthy:
      description: Whether ISC reports the source as healthy.
      type: bool
    status:
      description: ISC's state of the source, for example V(SOURCE_STATE_HEALTHY) or V(SOURCE_STATE_ERROR_VA).
      type: str
    since:
      description: Since when the source has that status.
      type: str
  sample: {id: 2c9180835d2e5168015d32f890ca1581, name: Active Directory, healthy: true, status: SOURCE_STATE_HEALTHY, since: "2026-07-11T21:23:15.380Z"}
task:
  description:
    - The task status of the aggregation, with every field of a TaskStatus as M(sailpoint.isc.task_status_info)
      returns tasks.
    - The task launched (as the launch answered it, fields it did not send null, or as last read with O(wait=true)),
      or the one running when nothing was launched.
    - Null in check mode when nothing runs (a launch would create it).
  returned: always
  type: dict
  sample:
    id: 2c9180835d2e5168015d32f890ca1581
    type: QUARTZ
    uniqueName: Cloud Account Aggregation
    description: Aggregate from the specified application
    parentName: null
    launcher: api
    target: {id: 2c9180835d2e5168015d32f890ca1582, type: APPLICATION, name: Active Directory}
    created: "2026-07-11T21:23:15.000Z"
    modified: "2026-07-11T21:25:15.000Z"
    launched: "2026-07-11T21:23:15.000Z"
    completed: "2026-07-11T21:25:15.000Z"
    completionStatus: SUCCESS
    messages: []
    returns: []
    attributes: {appId: c31386cb18bb403cbb6df4c86294ff82, optimizedAggregation: enabled}
    progress: Completed
    percentComplete: 100
aggregation:
  description:
    - The account-aggregation status (C(GET /account-aggregations/{id}/status)) with its counts (C(totalAccounts),
      C(processedAccounts), ...), read once the task ended, with O(wait=true) and O(kind=accounts).
    - Null otherwise, and when ISC no longer has it (it keeps it for about an hour after the aggregation).
  returned: always
  type: dict
  sample: {start: "2026-07-11T21:23:15.104Z", status: COMPLETED, totalAccounts: 520, processedAccounts: 520}
elapsed:
  description: Seconds the run took, waits included.
  returned: when O(wait=true)
  type: float
  sample: 42.5
msg:
  description: Why the run failed.
  returned: failure
  type: str
  sample: "source 'Active Directory' (2c91...) is not healthy (healthy False, status SOURCE_STATE_ERROR_VA, since 2026-07-11T21:23:15Z): ..."
status:
  description: The HTTP status of ISC's answer that made the module fail (403 when check mode predicts it); absent when no answer caused it.
  returned: failure
  type: int
  sample: 403
detail:
  description: What is known about a failure caused by an ISC answer, secrets masked (V(status), V(method), V(path), V(body)).
  returned: failure
  type: dict
  sample: {status: 400, method: POST, path: /v2025/sources/2c91.../load-accounts, body: {detailCode: 400.1 Bad Request Content}}
"""

from ansible_collections.sailpoint.isc.plugins.module_utils import _connection as connection
from ansible_collections.sailpoint.isc.plugins.module_utils import _errors as errors
from ansible_collections.sailpoint.isc.plugins.module_utils import _source_aggregation as source_aggregation


def argument_spec() -> dict:
    spec = connection.argument_spec()
    spec.update(
        source_id={"type": "str"},
        source_name={"type": "str"},
        kind={"type": "str", "choices": ["accounts", "entitlements"], "default": "accounts"},
        disable_optimization={"type": "bool", "default": False},
        if_running={"type": "str", "choices": list(source_aggregation.IF_RUNNING), "default": "skip"},
        require_healthy={"type": "bool", "default": True},
        wait={"type": "bool", "default": False},
        wait_timeout={"type": "float", "default": 300},
        wait_sleep={"type": "float", "default": 5},
    )
    return spec


def main() -> None:
    module = connection.build_module(
        argument_spec(),
        mutually_exclusive=[("source_id", "source_name")],
        required_one_of=[("source_id", "source_name")],
        supports_check_mode=True,
    )
    try:
        plan = source_aggregation.plan_launch(module.params)
        client = connection.client_from_params(module.params, warn=module.warn)
        try:
            result = source_aggregation.run(client, plan, module.check_mode)
        finally:
            client.close()
    except source_aggregation.Refusal as refusal:
        errors.fail(module, refusal, **refusal.result)
    except errors.IscError as error:
        errors.fail(module, error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
