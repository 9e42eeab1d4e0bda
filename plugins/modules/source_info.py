#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: source_info
short_description: Read SailPoint ISC sources, their health and their pending aggregations
version_added: 1.1.0
description:
  - Reads the sources of SailPoint Identity Security Cloud (ISC) by O(ids), by O(names), or all of them, each with
    whether ISC reports it C(healthy), its C(status) and C(since), its connector and its cluster.
  - Ids and names are read with filtered C(GET /sources) requests (C(id in (...)), C(name in (...))), as many ids
    in each as fit a request line; all sources page by page.
  - Optionally adds each source's health record (O(health)), its pending aggregations with their age
    (O(pending_aggregations), one listing for all sources), and a connection test by the virtual appliance
    (O(check_connection)).
  - Changes nothing in ISC. O(check_connection) is the one request that is not a read (it asks the virtual
    appliance to reach the source); it is skipped in check mode unless O(check_connection_in_check_mode=true).
author:
  - sailpoint.isc maintainers (@sailpoint-isc)
extends_documentation_fragment:
  - sailpoint.isc.connection
  - sailpoint.isc.attributes.ACTION_GROUP
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module never changes anything, so it runs in check mode as it does otherwise, except that
        O(check_connection) is skipped (RV(sources[].connection) is null) unless O(check_connection_in_check_mode=true).
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: The module never changes anything, so it has no difference to show.
options:
  ids:
    description:
      - The ids of the sources to read. An id ISC does not know is left out of RV(sources).
      - Mutually exclusive with O(names). Without either, every source is read.
    type: list
    elements: str
  names:
    description:
      - The names of the sources to read (ISC compares them without case). A name ISC does not know is left out.
    type: list
    elements: str
  max_results:
    description:
      - Return at most this many sources, from 0 to 10,000,000. By default, all.
    type: int
  health:
    description:
      - Add each source's health record (C(GET /sources/{id}/source-health), one request per source) as
        RV(sources[].health).
      - V(beta) has no such operation; there the module warns and RV(sources[].health) is null.
    type: bool
    default: false
  pending_aggregations:
    description:
      - Add each source's pending tasks (its aggregations, which ISC runs against the source) as
        RV(sources[].pending_aggregations), each with its C(age) in seconds and its C(kind).
      - Read in one listing for all sources (from V(v2025), C(sourceId in (...) and completionStatus isnull); the
        pending-tasks pages before), not one per source.
    type: bool
    default: false
  check_connection:
    description:
      - Ask the virtual appliance to test each source now (C(POST /sources/{id}/connector/check-connection), one
        request per source), and add ISC's answer as RV(sources[].connection).
      - This is not a read, though it changes no data; it is skipped in check mode unless
        O(check_connection_in_check_mode=true).
      - A source ISC refuses to test (HTTP 400, 403 or 404) gets C(status=FAILURE) with the error; the other
        sources are still tested.
    type: bool
    default: false
  check_connection_in_check_mode:
    description:
      - Test the connections in check mode too.
    type: bool
    default: false
notes:
  - Returned sources keep ISC's own field names (C(connectorName), C(healthy)), so SailPoint's documentation applies.
seealso:
  - module: sailpoint.isc.source_aggregation
  - module: sailpoint.isc.task_status_info
"""

EXAMPLES = r"""
- name: Every source, with its pending aggregations
  sailpoint.isc.source_info:
    base_url: "{{ isc_base_url }}"
    client_id: "{{ isc_client_id }}"
    client_secret: "{{ isc_client_secret }}"
    api_version: v2025
    pending_aggregations: true
  register: all_sources

- name: Set the connection once for every module of the collection
  module_defaults:
    group/sailpoint.isc.isc:
      base_url: "{{ isc_base_url }}"
      client_id: "{{ isc_client_id }}"
      client_secret: "{{ isc_client_secret }}"
      api_version: v2025
  block:
    - name: Two sources by name, with their health records, and a connection test
      sailpoint.isc.source_info:
        names: [Active Directory, Workday]
        health: true
        check_connection: true
      register: checked

    - name: Name the sources with an aggregation pending for more than six hours
      ansible.builtin.debug:
        msg: "{{ item.name }}: {{ item.pending_aggregations | map(attribute='id') | join(', ') }}"
      loop: "{{ all_sources.sources }}"
      loop_control:
        label: "{{ item.name }}"
      when: item.pending_aggregations | rejectattr('age', 'none') | selectattr('age', 'ge', 21600) | list | length > 0
"""

RETURN = r"""
sources:
  description: The sources read, in ISC's order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The source's id.
      type: str
    name:
      description: The source's name.
      type: str
    description:
      description: Its description.
      type: str
    type:
      description: Its type, for example V(OpenLDAP - Direct).
      type: str
    connector:
      description: Its connector script name, for example V(active-directory).
      type: str
    connectorName:
      description: Its connector's name, for example V(Active Directory).
      type: str
    cluster:
      description: The cluster of virtual appliances that reaches it (C(type), C(id), C(name)), or null.
      type: dict
    authoritative:
      description: Whether it is an authoritative source.
      type: bool
    healthy:
      description: Whether ISC reports it as healthy.
      type: bool
    status:
      description: ISC's state of the source, for example V(SOURCE_STATE_HEALTHY) or V(SOURCE_STATE_ERROR_VA).
      type: str
    since:
      description: Since when it has that status.
      type: str
    owner:
      description: Its owner (C(type), C(id), C(name)).
      type: dict
    created:
      description: When it was created.
      type: str
    modified:
      description: When it was last modified.
      type: str
    health:
      description: ISC's source-health record (C(status), C(hostname), C(pod), C(iqServiceVersion), ...); null with V(beta).
      returned: when O(health=true)
      type: dict
    pending_aggregations:
      description:
        - The source's pending tasks (those whose C(target.id) is the source), each a TaskStatus as
          M(sailpoint.isc.task_status_info) returns it, plus C(age) (seconds since it was launched, or created when
          never launched; null when neither is a date-time) and C(kind) (V(accounts), V(entitlements), or null for a
          task that is no aggregation the collection knows).
        - A task whose C(completed) is set while its C(completionStatus) is null is still pending.
      returned: when O(pending_aggregations=true)
      type: list
      elements: dict
    connection:
      description:
        - ISC's answer to the connection test (C(status) V(SUCCESS) or V(FAILURE), C(elapsedMillis), C(details));
          for a source ISC refused to test, C(status=FAILURE), C(error) and C(http_status).
        - Null in check mode unless O(check_connection_in_check_mode=true).
      returned: when O(check_connection=true)
      type: dict
  sample:
    - id: 2c9180835d2e5168015d32f890ca1581
      name: Active Directory
      description: The corporate directory
      type: Active Directory - Direct
      connector: active-directory
      connectorName: Active Directory
      cluster: {type: CLUSTER, id: 2c9180866166b5b0016167c32ef31a66, name: Corporate Cluster}
      authoritative: true
      healthy: true
      status: SOURCE_STATE_HEALTHY
      since: "2026-07-11T21:23:15.380Z"
      owner: {type: IDENTITY, id: 2c91808568c529c60168cca6f90c1313, name: Jane Doe}
      created: "2026-01-08T14:50:03.827Z"
      modified: "2026-07-11T21:23:15.380Z"
      pending_aggregations:
        - id: 2c9180835d2e5168015d32f890ca1599
          uniqueName: Cloud Account Aggregation
          completionStatus: null
          age: 23400
          kind: accounts
status:
  description: The HTTP status of ISC's answer that made the module fail; absent when no answer caused it.
  returned: failure
  type: int
  sample: 401
detail:
  description: What is known about a failure caused by an ISC answer, secrets masked (V(status), V(method), V(path), V(body)).
  returned: failure
  type: dict
  sample: {status: 400, method: GET, path: /v2025/sources, body: {detailCode: 400.1 Bad Request Content}}
"""

from ansible_collections.sailpoint.isc.plugins.module_utils import _connection as connection
from ansible_collections.sailpoint.isc.plugins.module_utils import _errors as errors
from ansible_collections.sailpoint.isc.plugins.module_utils import _sources as sources


def argument_spec() -> dict:
    spec = connection.argument_spec()
    spec.update(
        ids={"type": "list", "elements": "str"},
        names={"type": "list", "elements": "str"},
        max_results={"type": "int"},
        health={"type": "bool", "default": False},
        pending_aggregations={"type": "bool", "default": False},
        check_connection={"type": "bool", "default": False},
        check_connection_in_check_mode={"type": "bool", "default": False},
    )
    return spec


def main() -> None:
    module = connection.build_module(argument_spec(), mutually_exclusive=[("ids", "names")], supports_check_mode=True)
    try:
        plan = sources.plan_info(module.params)
        client = connection.client_from_params(module.params, warn=module.warn)
        try:
            result = sources.source_info(client, plan, module.check_mode)
        finally:
            client.close()
    except errors.IscError as error:
        errors.fail(module, error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
