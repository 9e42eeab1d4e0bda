"""Every task of a tenant through SailPoint's Python SDK and its paginator, as a user's script would page them.

    SAIL_BASE_URL=... SAIL_CLIENT_ID=... SAIL_CLIENT_SECRET=... python benchmarks/_sdk_list.py LIMIT

Prints one JSON line: the tasks read, the seconds from before the SDK's import to the last task, the process's
CPU seconds and its peak RSS. The credentials come from the environment, as the SDK's own configuration reads them.
"""

import json
import os
import resource
import sys
import time

STARTED = time.perf_counter()

from sailpoint.configuration import Configuration, ConfigurationParams  # noqa: E402  pylint: disable=wrong-import-position
from sailpoint.paginator import Paginator  # noqa: E402  pylint: disable=wrong-import-position
from sailpoint.task_management import ApiClient, TaskManagementApi  # noqa: E402  pylint: disable=wrong-import-position


def main():
    limit = int(sys.argv[1])
    params = ConfigurationParams()
    params.base_url = os.environ["SAIL_BASE_URL"]
    params.client_id = os.environ["SAIL_CLIENT_ID"]
    params.client_secret = os.environ["SAIL_CLIENT_SECRET"]
    with ApiClient(Configuration(params)) as client:
        tasks = Paginator.paginate(TaskManagementApi(client).get_task_status_list_v1, limit, limit=250)
    elapsed = time.perf_counter() - STARTED
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"tasks": len(tasks), "wall": elapsed, "cpu": usage.ru_utime + usage.ru_stime, "peak_rss": usage.ru_maxrss * 1024}))


if __name__ == "__main__":
    main()
