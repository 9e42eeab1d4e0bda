"""What launches cost the ISC emulator: launches, aggregation-status reads and list pages per second among them,
and the requests of one launch-and-wait driven by auto-completion.

Run from the collection root:
    python benchmarks/emulator_aggregations.py [--threads 2] [--requests 2000] [--seconds 10] [--tasks 5000]

It starts the emulator as a subprocess (rate limit off) and drives it over keep-alive connections; each phase stops
at its request count or its time bound, whichever comes first.
"""

import http.client
import json
import pathlib
import signal
import sys
import urllib.parse

from emulator_throughput import arguments, drive, start_emulator, token

BOUNDARY = "benchmark"
FORM_TYPE = "multipart/form-data; boundary=" + BOUNDARY
FORM = ('--%s\r\nContent-Disposition: form-data; name="disableOptimization"\r\n\r\nfalse\r\n--%s--\r\n' % (BOUNDARY, BOUNDARY)).encode()


def call(info, method, path, bearer=None, body=None, control=False):
    url = urllib.parse.urlsplit(info["control_url"] if control else info["base_url"])
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {"Content-Type": "application/json"} if control else {"Authorization": "Bearer " + bearer, "Content-Type": FORM_TYPE}
    connection.request(method, url.path + path, body, headers)
    reply = connection.getresponse()
    return json.loads(reply.read())


def main():
    args = arguments(__doc__, 2, 2000)
    process, info, command = start_emulator(args.tasks)
    try:
        bearer = token(info)
        source_ids = [source["id"] for source in call(info, "GET", "/v2025/sources", bearer)]
        print("emulator: %s" % " ".join(command))
        print("benchmark: %s %s" % (pathlib.Path(sys.argv[0]).name, " ".join(sys.argv[1:])))

        def launch(base, index, _ids):
            return "POST", "%s/v2025/sources/%s/load-accounts" % (base, source_ids[index % len(source_ids)]), FORM

        rate, count, failures = drive(info, bearer, launch, None, args.threads, args.requests, args.seconds, 202, FORM_TYPE)
        print("%-34s %8.0f requests/s  (%d requests, %d threads, %d failures)" % ("launches (load-accounts)", rate, count, args.threads, failures))
        launched = call(info, "GET", "/aggregations", control=True)["launched"]

        def status(base, index, _ids):
            return "GET", "%s/v2025/account-aggregations/%s/status" % (base, launched[index % len(launched)]), None

        def page(base, index, _ids):
            return "GET", "%s/v2025/task-status?limit=250&offset=%d" % (base, (index % 20) * 250), None

        for name, maker in (("aggregation-status reads", status), ("list pages among %d launches" % len(launched), page)):
            rate, count, failures = drive(info, bearer, maker, None, args.threads, args.requests, args.seconds)
            print("%-34s %8.0f requests/s  (%d requests, %d threads, %d failures)" % (name, rate, count, args.threads, failures))

        # One launch-and-wait on a source nothing runs on, which completes its launches after the third read.
        added = call(info, "POST", "/sources", body=json.dumps({"name": "Benchmark"}).encode(), control=True)
        call(info, "POST", "/sources/Benchmark/auto-complete", body=json.dumps({"status": "SUCCESS", "after_reads": 3}).encode(), control=True)
        call(info, "DELETE", "/requests", control=True)
        task_id = call(info, "POST", "/v2025/sources/%s/load-accounts" % added["id"], bearer, FORM)["task"]["id"]
        reads = 0
        while True:
            reads += 1
            if call(info, "GET", "/v2025/task-status/" + task_id, bearer)["completionStatus"] is not None:
                break
        kinds = [entry["kind"] for entry in call(info, "GET", "/requests", control=True)]
        print(
            "launch-and-wait, done after read %d: %d requests (%s)"
            % (reads, len(kinds), ", ".join("%s %d" % (kind, kinds.count(kind)) for kind in dict.fromkeys(kinds)))
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


if __name__ == "__main__":
    main()
