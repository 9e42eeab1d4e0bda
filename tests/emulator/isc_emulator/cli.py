"""isc-emulator serve: start the emulator, print one JSON line describing it, serve until SIGTERM or SIGINT."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from isc_emulator import aggregations, faults
from isc_emulator.app import Emulator, Options, tenant_names
from isc_emulator.server import make_server

SWITCH_INTERVAL = 0.0005


def _share(text):
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _count(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _rate_limit(text):
    try:
        return faults.parse_rate_limit(text)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(str(problem)) from None


def _max_url_length(text):
    try:
        return faults.check_max_url_length(text)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(str(problem)) from None


def _type_names(text):
    try:
        return faults.check_type_names(text)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(str(problem)) from None


def _tenants(text):
    try:
        return tenant_names(text)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(str(problem)) from None


def _seconds(text):
    value = float(text)
    if not 0 <= value <= 86_400 * 365:
        raise argparse.ArgumentTypeError("must be a number of seconds from 0 to a year")
    return value


def _scenario(text):
    try:
        aggregations.parse_scenario(text)
    except ValueError as problem:
        raise argparse.ArgumentTypeError(str(problem)) from None
    return text


def build_parser():
    parser = argparse.ArgumentParser(prog="isc-emulator", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the emulator")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 picks any free port")
    serve.add_argument("--seed", type=int, default=1)
    serve.add_argument("--tasks", type=_count, default=200, help="visible tasks per tenant")
    serve.add_argument("--pending", type=_count, default=3, help="recently started pending tasks")
    serve.add_argument("--stuck", type=_count, default=5, help="pending tasks stuck for hours or days")
    serve.add_argument("--tenants", type=_tenants, default=("acme",), help="a number of tenants or comma-separated names")
    serve.add_argument("--state", help="SQLite file; an existing one is reused, not reseeded (default: in memory)")
    serve.add_argument("--rate-limit", type=_rate_limit, default=(100, 10.0), help="COUNT/SECONDS per client and version, or off")
    serve.add_argument("--fault-rate", type=_share, default=0.0, help="share of API requests answered with an injected fault")
    serve.add_argument("--token-ttl", type=_count, default=750, help="token lifetime in seconds")
    serve.add_argument("--require-experimental", action="store_true", help="refuse v2024+ calls without X-SailPoint-Experimental: true")
    serve.add_argument("--latency-ms", type=_count, default=0, help="delay added to every API request")
    serve.add_argument(
        "--max-url-length",
        type=_max_url_length,
        default=faults.DEFAULT_MAX_URL_LENGTH,
        help="longest request line in bytes a tenant's gateway accepts; longer ones get 414 (default 8192)",
    )
    serve.add_argument(
        "--reject-types",
        type=_type_names,
        default=(),
        metavar="NAMES",
        help='comma-separated task-definition names the type filter refuses with 400 "Unsupported Task Definition type", as ISC does live',
    )
    serve.add_argument("--tls-cert", help="PEM certificate; serves HTTPS with --tls-key")
    serve.add_argument("--tls-key", help="PEM private key for --tls-cert")
    serve.add_argument(
        "--validate-requests",
        action="store_true",
        help="answer 400 to any API request that breaks SailPoint's OpenAPI specification (needs openapi-core)",
    )
    serve.add_argument(
        "--aggregation-seconds",
        type=_seconds,
        default=None,
        help="launched aggregations complete with SUCCESS this many seconds after their launch (default: only a control call completes them)",
    )
    serve.add_argument(
        "--stuck-aggregations",
        type=_scenario,
        default=None,
        metavar="SOURCE:COUNT[:down][:entitlements],...",
        help="seed pending aggregations stuck for 6 hours on named sources; down marks the source's appliance as down",
    )
    return parser


def options_from(args):
    fault_config = faults.FaultConfig(
        fault_rate=args.fault_rate,
        latency_ms=args.latency_ms,
        require_experimental=args.require_experimental,
        rate_limit=args.rate_limit,
        token_ttl=args.token_ttl,
        max_url_length=args.max_url_length,
        rejected_types=args.reject_types,
    )
    return Options(
        seed=args.seed,
        tasks=args.tasks,
        pending=args.pending,
        stuck=args.stuck,
        tenants=args.tenants,
        state=args.state,
        faults=fault_config,
        validate_requests=args.validate_requests,
        aggregation_seconds=args.aggregation_seconds,
        stuck_aggregations=args.stuck_aggregations,
    )


def main(argv=None):
    args = build_parser().parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("isc-emulator: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    # Threads blocked on sockets wait for the GIL up to the switch interval (5 ms) while another thread
    # assembles a page; a shorter interval keeps keep-alive latency under a millisecond.
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        emulator = Emulator(options_from(args))
    except ModuleNotFoundError as missing:
        # Only --validate-requests imports anything beyond the emulator's own dependencies.
        print("isc-emulator: --validate-requests needs %s (pip install -r requirements-dev.txt)" % missing.name, file=sys.stderr)
        return 2
    except ValueError as problem:
        # --stuck-aggregations naming a source the tenant does not have.
        print("isc-emulator: %s" % problem, file=sys.stderr)
        return 2
    server = make_server(emulator, args.host, args.port, args.tls_cert, args.tls_key)

    def stop(_signum, _frame):
        # shutdown() waits for serve_forever to return, so it cannot run on the thread serving.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write(json.dumps(emulator.describe(server.root_url)) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        emulator.close()
    return 0
