# -*- coding: utf-8 -*-
# Copyright: contributors to the sailpoint.isc collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The option table in plugins/module_utils/_connection.py is the source of truth; a unit test compares this
# fragment with it (names, types, defaults, choices, env vars, no_log).


class ModuleDocFragment:
    DOCUMENTATION = r"""
notes:
  - An environment variable that is set but empty (as AWX injects the inputs of a credential left empty) counts as
    not set.
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
      - If not set, the value of the E(SAIL_TENANT) environment variable is used.
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
      - If not set, the value of the E(SAIL_API_VERSION) environment variable is used.
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
      - A CA bundle file (PEM), or a directory of CA certificates, to verify the server's certificate with, instead of
        the system's. It must exist; a path that does not is refused before any request.
      - It wins over E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE); so does O(validate_certs=false).
      - If not set, the value of the E(SAIL_CA_PATH) environment variable is used.
    type: path
  timeout:
    description:
      - Seconds each HTTP answer may take as a whole, more than 0 and at most 3600. The time counts from connecting
        until the last byte of the body, so a server or proxy that sends slowly (a byte now and then) cannot hold a run
        longer; an answer that takes longer fails saying it was too slow.
      - Each try of a request (see O(retries)) has its own O(timeout); the waits between tries are not counted.
    type: float
    default: 30.0
  retries:
    description:
      - How many times a request is repeated after a transient failure, from 0 to 20.
      - Reads (GET, HEAD) and the token request are repeated after HTTP 429, 500, 502, 503 or 504, a dropped
        connection or a timeout.
      - A PATCH is repeated only after 429 or 503 or a failed connect, answers that guarantee it was not applied.
        After 500, 502, 504 or a dropped connection it may have been applied; the module says so, and a rerun
        reconciles the task with its desired state.
      - A host name that does not resolve, or a port where nothing accepts connections, is not retried.
      - A C(Retry-After) header is always honoured; otherwise the wait grows exponentially (capped at 30 seconds) with
        jitter. Each retry leaves a warning.
    type: int
    default: 5
  rate_limit:
    description:
      - The client's own pace, so that a bulk run stays under the tenant's rate limit instead of running into it.
        V(N/S) lets at most N requests start in any S seconds; V(off) sends as fast as answers come.
      - ISC counts requests per client id and API version at its gateway; its published limit is 100 requests per
        10 seconds, the default. Set the limit of your tenant's contract if it differs, and give each client of a
        fleet its own.
      - The window is kept between the module runs of one client (a role that lists tasks and then patches them), in a
        small file named after a hash of the tenant, client id and API version, so that the second run does not start
        with a window the first one already used. The file (mode 0600) lives in a folder only the user can enter
        (mode 0700), C($XDG_RUNTIME_DIR/sailpoint-isc), else C(~/.ansible/sailpoint-isc), else
        C(sailpoint-isc-UID) in the system's temporary folder. A folder that is a link, belongs to another user or
        lets others write in it is not used; whatever is found in place of the file (a link, a FIFO, a device, a
        file of another user or one that is not a saved window) is ignored with a warning and replaced.
      - Whatever the setting, a 429 answer holds every request of the run until its C(Retry-After) has passed.
      - If not set, the value of the E(SAIL_RATE_LIMIT) environment variable is used.
    type: str
    default: 100/10
requirements:
  - requests >= 2.31 (Python library, where the module runs; with the runbooks, the controller)
"""
