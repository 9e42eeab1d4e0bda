# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The option table in plugins/module_utils/connection.py is the source of truth; a unit test compares this
# fragment with it (names, types, defaults, choices, env vars, no_log).


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  base_url:
    description:
      - The tenant's API root, without an API version, as SailPoint's SDKs and CLI use it, for example
        V(https://acme.api.identitynow.com).
      - If not set, the value of the E(SAIL_BASE_URL) environment variable is used.
      - Mutually exclusive with O(tenant). An explicit O(tenant) wins over a value that comes from E(SAIL_BASE_URL).
    type: str
  tenant:
    description:
      - The tenant name, a shortcut for O(base_url) V(https://<tenant>.api.identitynow.com).
      - Letters, digits and inner hyphens only.
      - Mutually exclusive with O(base_url).
    type: str
  client_id:
    description:
      - Client ID of a personal access token or an API client, used with O(client_secret) to obtain an access token
        (OAuth client credentials). The token is fetched on first use and renewed before it expires or once after a
        401 answer.
      - If not set, the value of the E(SAIL_CLIENT_ID) environment variable is used.
      - Mutually exclusive with O(access_token). An explicit option wins over a value that comes from the environment.
    type: str
  client_secret:
    description:
      - Client secret belonging to O(client_id).
      - It never appears in a result, a warning or an error message, in plain, urlencoded or JSON-escaped form.
      - If not set, the value of the E(SAIL_CLIENT_SECRET) environment variable is used.
    type: str
  access_token:
    description:
      - An access token already issued, used instead of O(client_id) and O(client_secret). It cannot be renewed, so a
        401 answer fails the task.
      - It never appears in a result, a warning or an error message, in plain, urlencoded or JSON-escaped form.
      - If not set, the value of the E(SAIL_ACCESS_TOKEN) environment variable is used.
      - Mutually exclusive with O(client_id).
    type: str
  api_version:
    description:
      - The API version to call.
      - V(beta) and V(v2024) list pending tasks through C(/task-status/pending-tasks); V(v2025), V(v2026) and V(v1)
        filter C(GET /task-status) with C(completionStatus isnull).
      - V(v2024), V(v2025) and V(v2026) are sent the C(X-SailPoint-Experimental) header.
      - V(v1) is the version-less service the official Python SDK calls, C(/task-status/v1), and behaves like V(v2026).
    type: str
    default: beta
    choices: [beta, v2024, v2025, v2026, v1]
  validate_certs:
    description:
      - Verify the server's TLS certificate. Set to V(false) only for a test server you trust.
    type: bool
    default: true
  ca_path:
    description:
      - A CA bundle file (PEM) to verify the server's certificate with, instead of the system's.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: float
    default: 30.0
  retries:
    description:
      - How many times a request is repeated after an answer or a failure that may pass.
      - Reads (GET) and the token request are repeated after HTTP 429, 500, 502, 503 or 504, and after a connection
        that failed or dropped.
      - A PATCH is repeated only after 429 or 503 or a failed connect, answers that guarantee it was not applied.
        After a 500, 502 or 504 or a dropped connection the patch may have been applied, so it is not repeated.
      - A C(Retry-After) header is always honoured; otherwise the wait grows exponentially (capped at 30 seconds) with
        jitter.
      - Each retry leaves a warning.
    type: int
    default: 5
requirements:
  - requests >= 2.31 (Python library, where the module runs; with the runbooks, the controller)
"""
