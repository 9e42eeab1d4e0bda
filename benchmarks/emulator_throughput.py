"""Requests per second the ISC emulator serves on loopback: list pages (limit=250) and PATCHes.

Run from the collection root:
    python benchmarks/emulator_throughput.py [--threads 4] [--requests 3000] [--seconds 10] [--tasks 5000]

It starts the emulator as a subprocess (rate limit off), drives it from a few client threads over keep-alive
connections, and stops each phase at the request count or the time bound, whichever comes first.
"""

import argparse
import http.client
import json
import os
import pathlib
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

EMULATOR_ROOT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "emulator"


def start_emulator(tasks):
    command = [sys.executable, "-m", "isc_emulator", "serve", "--rate-limit", "off", "--tasks", str(tasks), "--pending", "300", "--stuck", "50"]
    env = dict(os.environ, PYTHONPATH=str(EMULATOR_ROOT))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, env=env, text=True)
    return process, json.loads(process.stdout.readline()), command


def token(info):
    client = info["clients"]["admin"]
    url = urllib.parse.urlsplit(info["base_url"])
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]})
    connection.request("POST", url.path + "/oauth/token", form, {"Content-Type": "application/x-www-form-urlencoded"})
    return json.loads(connection.getresponse().read())["access_token"]


def list_request(base_path, index, _ids):
    return "GET", "%s/v2025/task-status?limit=250&offset=%d" % (base_path, (index % 20) * 250), None


def patch_request(base_path, index, ids):
    body = json.dumps([{"op": "replace", "path": "/progress", "value": "benchmark %d" % index}])
    return "PATCH", "%s/v2025/task-status/%s" % (base_path, ids[index % len(ids)]), body


def drive(info, bearer, make_request, ids, threads, total, seconds, expected=200, content_type="application/json-patch+json"):
    """Requests per second, the number made and failures (answers other than ``expected``), for ``total`` requests
    shared by ``threads``."""
    url = urllib.parse.urlsplit(info["base_url"])
    headers = {"Authorization": "Bearer " + bearer, "Content-Type": content_type}
    counter = iter(range(total))
    lock = threading.Lock()
    done, failures, deadline = [0], [0], time.monotonic() + seconds

    def worker():
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        while time.monotonic() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            method, path, body = make_request(url.path, index, ids)
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            response.read()
            with lock:
                done[0] += 1
                failures[0] += response.status != expected
        connection.close()

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _index in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return done[0] / (time.monotonic() - started), done[0], failures[0]


def arguments(description, threads, requests):
    """The options every emulator benchmark takes: --threads, --requests, --seconds, --tasks."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=threads)
    parser.add_argument("--requests", type=int, default=requests, help="per phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="time bound per phase")
    parser.add_argument("--tasks", type=int, default=5000)
    return parser.parse_args()


def main():
    args = arguments(__doc__, 4, 3000)
    process, info, command = start_emulator(args.tasks)
    try:
        bearer = token(info)
        url = urllib.parse.urlsplit(info["base_url"])
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        connection.request("GET", url.path + "/v2025/task-status?limit=250&filters=completionStatus%20isnull", headers={"Authorization": "Bearer " + bearer})
        ids = [task["id"] for task in json.loads(connection.getresponse().read())]
        print("emulator: %s" % " ".join(command))
        print("benchmark: %s %s" % (pathlib.Path(sys.argv[0]).name, " ".join(sys.argv[1:])))
        for name, maker in (("list pages (limit=250)", list_request), ("PATCH", patch_request)):
            rate, count, failures = drive(info, bearer, maker, ids, args.threads, args.requests, args.seconds)
            print("%-24s %8.0f requests/s  (%d requests, %d threads, %d failures)" % (name, rate, count, args.threads, failures))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
