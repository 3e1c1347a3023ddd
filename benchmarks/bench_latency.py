"""2. Latency ceiling: the simulator adds 300 ms to every API request, as a cloud API would.

The sequential ceiling is page_size / latency (1,250 / 0.3 s = 4,167 records/s): no client that
waits for each page before asking for the next can beat it. Measured against it, in the same run:
the plain loop (`plain_loop.py`, one request at a time), the tap in sequenced mode
(`max_parallel_requests` 1, incremental inventory: keyset pages on `mod_ts,id`), and the tap's
parallel mode (full-table inventory read in id ranges, `max_parallel_requests` requests at a
time, at the default and at the maximum), when the tap offers one.
Goals: sequenced >= 0.9 x the sequential ceiling; full table >= 3 x it through bounded parallel
page requests.

    .venv/bin/python benchmarks/bench_latency.py [--quick]
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path

from common import (
    PAGE_SIZE,
    Row,
    Sim,
    against,
    attempt,
    given_sims,
    header,
    measured_row,
    parser,
    plain_loop,
    print_row,
    run_tap,
    save_rows,
    sequenced_url,
    simulators,
    tap_catalog,
    tap_config,
    tap_logged_rate,
    tap_parallel_setting,
    workdir,
)

NAME = "latency"
ENTITY = "inventory"
LATENCY_MS = 300
SEQUENCED_GOAL = 0.9
PARALLEL_GOAL = 3.0
CEILING = PAGE_SIZE / (LATENCY_MS / 1000)
LABEL = "sequential ceiling"


def scales(quick: bool) -> list[int]:
    """Scale 67: 201,000 inventory rows, 161 pages (quick: 7, 21,000 rows, 17 pages)."""
    return [7 if quick else 67]


def main() -> int:
    args = parser(__doc__).parse_args()
    (scale,) = scales(args.quick)
    header(f"2. latency ceiling: {LATENCY_MS} ms per request, {LABEL} {CEILING:,.0f} records/s")
    with workdir(args) as work, simulators(given_sims(args), [scale], work) as sims:
        sim = sims[scale]
        tmp = work / NAME
        tmp.mkdir(exist_ok=True)
        catalogs = {  # discovered before the latency is on
            full_table: tap_catalog(sim, tmp, ENTITY, full_table=full_table)[1]
            for full_table in (False, True)
        }
        rows = [Row(NAME, f"{LABEL} = {PAGE_SIZE} / {LATENCY_MS / 1000:g} s", rate=CEILING)]
        print_row(rows[0])
        sim.set_latency(LATENCY_MS)
        try:
            for row in _runs(sim, tmp, catalogs):
                rows.append(row)
                print_row(row)
        finally:
            sim.clear_faults()
        save_rows(args.json, rows)
    return 0


def _runs(sim: Sim, tmp: Path, catalogs: dict[bool, Path]) -> Iterator[Row]:
    total = sim.result_count(ENTITY)
    yield against(_plain(sim, total), CEILING, LABEL)
    offered, default, maximum = tap_parallel_setting()
    case = "tap sequenced (incremental, max_parallel_requests 1)"
    run = partial(_tap, sim, tmp, case, catalogs[False], total, 1 if offered else None)
    yield against(attempt(NAME, case, run), CEILING, LABEL, SEQUENCED_GOAL)
    if not offered:
        yield Row(
            NAME, "tap parallel, full table", goal=f">= {PARALLEL_GOAL:g} x", met="not offered"
        )
        return
    for parallel in sorted({default, maximum} - {1}):
        case = f"tap parallel (full table, max_parallel_requests {parallel})"
        run = partial(_tap, sim, tmp, case, catalogs[True], total, parallel)
        goal = PARALLEL_GOAL if parallel == maximum else None
        yield against(attempt(NAME, case, run), CEILING, LABEL, goal)


def _plain(sim: Sim, total: int) -> Row:
    records, measured = plain_loop([sequenced_url(sim, ENTITY, ordering="mod_ts,id")])
    assert records == total, f"plain loop read {records} of {total} records"
    return measured_row(NAME, "plain loop, one request at a time", total, measured)


def _tap(sim: Sim, tmp: Path, case: str, catalog: Path, total: int, parallel: int | None) -> Row:
    """The tap with `max_parallel_requests` (None: a tap without the setting)."""
    settings = {} if parallel is None else {"max_parallel_requests": parallel}
    config = tap_config(sim, tmp, f"tap-{parallel}", **settings)
    measured = run_tap(config, catalog)
    notes = tap_logged_rate(measured.stderr, ENTITY, total)
    return measured_row(NAME, case, total, measured, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
