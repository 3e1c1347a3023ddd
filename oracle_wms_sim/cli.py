"""`oracle-wms-sim serve ...`: run the simulator until SIGTERM/SIGINT.

The first stdout line is the base URL (flushed at once) so scripts can start the server with
`--port 0` and read where it listens; request logs go to stderr.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from .chaos.faults import Fault
from .http.simulator import Simulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oracle-wms-sim", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="generate (or reuse) data and serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    serve.add_argument("--db", default=None, help="SQLite file, reused if it holds data")
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--scale", type=int, default=1, help="multiplies the big-entity counts")
    serve.add_argument("--environment", default="demo")
    serve.add_argument("--username", default="demo")
    serve.add_argument("--password", default="demo")
    serve.add_argument("--quiet", action="store_true", help="do not log requests")
    serve.add_argument("--oauth-client-id", default="demo-client")
    serve.add_argument("--oauth-client-secret", default="demo-secret")
    serve.add_argument(
        "--token-lifetime", type=float, default=3600, help="bearer token lifetime, seconds"
    )
    serve.add_argument(
        "--stage-delay",
        type=float,
        default=0.2,
        help="seconds before a queued stage message is processed",
    )
    serve.add_argument(
        "--wave-seconds",
        type=float,
        default=0.5,
        help="seconds a wave stays In Progress before it is allocated and Completed",
    )
    serve.add_argument(
        "--pick-delay",
        type=float,
        default=0.2,
        help="seconds before an asynchronous pick confirm (async_flg true) is applied",
    )
    serve.add_argument(
        "--undo-wave-even-after-picking",
        action="store_true",
        help="company parameter UNDO_WAVE_EVEN_AFTER_PICKING = Yes (undo after picks started)",
    )
    serve.add_argument(
        "--index-layout",
        choices=("object", "names", "objects"),
        default="object",
        help="layout of GET entity/ (Oracle documents none): name->URL object, or a list",
    )
    serve.add_argument(
        "--lenient-required-filters",
        action="store_true",
        help="NOT Oracle: let lookups (history_activity_id__in=...) satisfy inventory_history's "
        "required filters (for the benchmark baseline of the old client only)",
    )
    serve.add_argument(
        "--sub-second-filters",
        action="store_true",
        help="accept date-time filter values finer than a second (real tenants refuse them: "
        "docs/api-contract.md D18)",
    )
    serve.add_argument(
        "--refuse-ordering",
        action="append",
        default=[],
        metavar="ENTITY:FIELD",
        help="the entity answers 400 to an ordering by FIELD (docs/api-contract.md D19); "
        "repeatable",
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND:key=value...",
        help="inject a fault, e.g. 503:next=3:retry_after=1 or reset:rate=0.05 (repeatable)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.scale < 1:
        print("--scale must be at least 1", file=sys.stderr)
        return 2
    for name in ("stage_delay", "wave_seconds", "pick_delay"):
        if getattr(args, name) < 0:
            print(f"--{name.replace('_', '-')} must be at least 0", file=sys.stderr)
            return 2
    try:
        faults = [Fault.parse(text) for text in args.fault]
    except ValueError as exc:
        print(f"--fault: {exc}", file=sys.stderr)
        return 2
    refused: dict[str, set[str]] = {}
    for text in args.refuse_ordering:
        entity, _, name = text.partition(":")
        if not entity or not name:
            print(f"--refuse-ordering: expected ENTITY:FIELD, got {text!r}", file=sys.stderr)
            return 2
        refused.setdefault(entity, set()).add(name)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    sim = Simulator(
        index_layout=args.index_layout,
        lenient_required_filters=args.lenient_required_filters,
        whole_second_filters=not args.sub_second_filters,
        refused_orderings={entity: frozenset(names) for entity, names in refused.items()},
        seed=args.seed,
        scale=args.scale,
        db_path=args.db,
        host=args.host,
        port=args.port,
        environment=args.environment,
        username=args.username,
        password=args.password,
        log_requests=not args.quiet,
        oauth_client_id=args.oauth_client_id,
        oauth_client_secret=args.oauth_client_secret,
        token_lifetime=args.token_lifetime,
        faults=faults,
        stage_delay=args.stage_delay,
        wave_seconds=args.wave_seconds,
        pick_delay=args.pick_delay,
        undo_wave_even_after_picking=args.undo_wave_even_after_picking,
    )
    try:
        sim.start()
    except (OSError, RuntimeError) as exc:
        sim.stop()
        print(f"oracle-wms-sim: {exc}", file=sys.stderr)
        return 1
    try:
        print(sim.base_url, flush=True)
        meta = sim.meta
        print(
            f"serving seed={meta.get('seed')} scale={meta.get('scale')} "
            f"db={args.db or '(temporary)'}",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
