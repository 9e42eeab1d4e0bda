#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: api_usage_info
short_description: Count a SailPoint ISC tenant's API calls this month
description:
  - Reads how many API calls the tenant made, from C(GET /api-usage/count), since the first day of the current month
    unless O(start_date) or O(end_date) say otherwise, optionally only those of one HTTP O(method).
  - ISC has the operation from API version V(v2025) on (and in V(v1)); set O(api_version) to one of those. The
    credential needs the C(sp:api-usage:read) scope; ISC answers 403 otherwise.
  - One request, plus the token request. Never changes anything.
version_added: 1.1.0
author:
  - sailpoint.isc maintainers (@sailpoint-isc)
extends_documentation_fragment:
  - sailpoint.isc.connection
  - sailpoint.isc.attributes.INFO_MODULE
  - sailpoint.isc.attributes.ACTION_GROUP
options:
  method:
    description: Count only the calls of this HTTP method (V(GET), V(POST), V(PUT), V(PATCH), V(DELETE), V(HEAD); any case).
    type: str
  start_date:
    description: Count the calls after this day (C(YYYY-MM-DD)); by default from the first day of the current month.
    type: str
  end_date:
    description: Count the calls before this day (C(YYYY-MM-DD)); by default up to today.
    type: str
notes:
  - The task_report role's C(prom) format publishes the figure as C(sailpoint_isc_api_usage_calls), so that an alert
    can warn before the tenant's monthly quota is spent.
"""

EXAMPLES = r"""
- name: API calls of the tenant this month
  sailpoint.isc.api_usage_info:
    base_url: "{{ isc_base_url }}"
    client_id: "{{ isc_client_id }}"
    client_secret: "{{ isc_client_secret }}"
    api_version: v2025
  register: usage

- name: Show them
  ansible.builtin.debug:
    msg: "{{ usage.usage.NumberOfCalls }} API calls this month ({{ usage.api_requests }} spent asking)"

- name: GET calls since a day
  sailpoint.isc.api_usage_info:
    base_url: "{{ isc_base_url }}"
    client_id: "{{ isc_client_id }}"
    client_secret: "{{ isc_client_secret }}"
    api_version: v2025
    method: GET
    start_date: "2026-01-01"
"""

RETURN = r"""
usage:
  description: ISC's answer, with C(NumberOfCalls), the API calls in the span asked about.
  returned: success
  type: dict
  sample: {NumberOfCalls: 1000}
api_requests:
  description:
    - The HTTP requests this module run sent to ISC, token requests and repeated tries included.
    - 0 when the module failed before any request (an invalid option).
  returned: always
  type: int
  sample: 2
status:
  description: The HTTP status of ISC's answer that made the module fail (403 without C(sp:api-usage:read)).
  returned: failure
  type: int
  sample: 403
detail:
  description: What is known about the failure, secrets masked; for an ISC answer its V(status), V(method), V(path) and V(body).
  returned: failure
  type: dict
  sample: {status: 403, method: GET, path: /v2025/api-usage/count, body: {detailCode: 403 Forbidden}}
"""

from ansible_collections.sailpoint.isc.plugins.module_utils import _api_usage as api_usage
from ansible_collections.sailpoint.isc.plugins.module_utils import _connection as connection
from ansible_collections.sailpoint.isc.plugins.module_utils import _errors as errors


def argument_spec():
    spec = connection.argument_spec()
    spec.update(method=dict(type="str"), start_date=dict(type="str"), end_date=dict(type="str"))
    return spec


def main():
    module = connection.build_module(argument_spec(), supports_check_mode=True)
    client = None
    try:
        plan = api_usage.plan_usage(module.params)
        client = connection.client_from_params(module.params, warn=module.warn)
        try:
            result = api_usage.read_usage(client, plan)
        finally:
            client.close()
    except errors.IscError as error:
        errors.fail(module, error, api_requests=connection.requests_sent(client))
    module.exit_json(**result, api_requests=client.requests_sent)


if __name__ == "__main__":
    main()
