"""7. Delete detection: what finding deleted rows costs an hourly run at 300 ms per request.

The tap finds rows deleted in the WMS by an id sweep of each incrementally read entity (every id
listed, `fields=id`, 1,250 a request, `max_parallel_requests` lists at a time; tap_oracle_wms/
deletes.py) at most once per `delete_sweep_interval` (a day by default); full-table entities
cost nothing more (ACTIVATE_VERSION, and the ids of the full read compared with the last). Each
case is the hourly run of the first run's STATE with a sweep due in every run
(`delete_sweep_interval` 0) against the same run with `detect_deletes` off, both at 300 ms per
request: the difference is a sweep's cost (requests counted by the simulator, seconds of wall
time); divided by 24 it is the cost per hourly run at the daily default. The demo warehouse (every
entity, scale 1, inventory_history kept: `purged_history` keep), and incremental inventory at a
larger scale, whose sweep's requests are extrapolated to 1,000,000 rows from the id page size
(ceil(rows / 1,250) pages and one request for the highest id).

    .venv/bin/python benchmarks/bench_deletes.py [--quick]
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench_cloud import LATENCY_MS, LATENCY_S, Run, final_state, slow
from common import (
    BIN,
    PAGE_SIZE,
    Row,
    Sim,
    attempt,
    given_sims,
    header,
    history_settings,
    parser,
    print_row,
    save_rows,
    simulators,
    tap_catalog,
    tap_config,
    workdir,
    write_json,
)

NAME = "deletes"
HOURS = 24
"""Hourly runs per sweep at the default `delete_sweep_interval` (86400 s)."""
MILLION = 1_000_000
DEFAULT_PARALLEL = 2
"""`max_parallel_requests`' default: id-range lists of one sweep read at once."""


def scales(quick: bool) -> list[int]:
    """Scale 1 (the demo warehouse, every entity) and inventory at scale 7 (21,000 rows; full
    runs: 67, 201,000 rows)."""
    return [1, 7 if quick else 67]


def main() -> int:
    args = parser(__doc__).parse_args()
    small, big = scales(args.quick)
    header(f"7. delete detection: {LATENCY_MS} ms per request")
    rows: list[Row] = []
    with workdir(args) as work, simulators(given_sims(args), [small, big], work) as sims:
        tmp = work / NAME
        tmp.mkdir(exist_ok=True)
        for row in (
            attempt(NAME, "demo warehouse", lambda: _demo(sims[small], tmp)),
            attempt(NAME, "inventory", lambda: _inventory(sims[big], tmp)),
        ):
            rows.append(row)
            print_row(row)
        save_rows(args.json, rows)
    return 0


def _tap(config: Path, catalog: Path, state: Path | None = None) -> list[str]:
    cmd = [str(BIN / "tap-oracle-wms"), "--config", str(config), "--catalog", str(catalog)]
    return cmd + (["--state", str(state)] if state else [])


def _sweep_cost(sim: Sim, tmp: Path, name: str, catalog: Path, **settings: object) -> Row:
    """The first run (no latency) for its STATE, then the hourly run with and without a sweep
    due, at 300 ms; the row holds the difference."""
    sweeping = tap_config(sim, tmp, f"{name}-sweep", delete_sweep_interval=0, **settings)
    off = tap_config(sim, tmp, f"{name}-off", detect_deletes=False, **settings)
    first = Run(sim, _tap(sweeping, catalog), tmp / f"{name}-first.out")
    state = write_json(tmp / f"{name}-state.json", final_state(first.out))
    first.out.unlink()
    plain = slow(sim, _tap(off, catalog, state), tmp / f"{name}-off.out")
    swept = slow(sim, _tap(sweeping, catalog, state), tmp / f"{name}-sweep.out")
    requests = swept.requests - plain.requests
    seconds = swept.measured.wall_s - plain.measured.wall_s
    row = swept.row(f"{name}: hourly run with a sweep due")
    row.notes = (
        f"a sweep: {requests} requests, {seconds:.1f} s more than the same run without "
        f"({plain.requests} requests, {plain.measured.wall_s:.1f} s); per hourly run at the "
        f"daily default: {requests / HOURS:.1f} requests, {seconds / HOURS:.2f} s"
    )
    return row


def _demo(sim: Sim, tmp: Path) -> Row:
    """Every entity of the demo warehouse, as bench_cloud's hourly run reads them."""
    history = history_settings(sim)
    config = tap_config(sim, tmp, "deletes-discover", **history)
    found = Run(sim, [str(BIN / "tap-oracle-wms"), "--config", str(config), "--discover"],
                tmp / "catalog.json")  # fmt: skip
    catalog = json.loads(found.out.read_text())
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if not entry["breadcrumb"]:
                entry["metadata"]["selected"] = True
    path = write_json(tmp / "deletes-catalog-all.json", catalog)
    row = _sweep_cost(sim, tmp, "demo warehouse, every entity", path, **history)
    row.records = sum(
        sim.result_count(s["tap_stream_id"])
        for s in catalog["streams"]
        if s.get("replication_key") and s["tap_stream_id"] != "inventory_history"
    )
    row.notes += f"; {row.records} rows in the swept entities"
    return row


def _inventory(sim: Sim, tmp: Path) -> Row:
    """Incremental inventory alone, and the same sweep extrapolated to 1,000,000 rows."""
    config, catalog = tap_catalog(sim, tmp, "inventory")
    del config
    total = sim.result_count("inventory")
    row = _sweep_cost(sim, tmp, f"inventory, {total} rows", catalog)
    row.records = total
    pages = math.ceil(MILLION / PAGE_SIZE) + 1
    seconds = pages * LATENCY_S / DEFAULT_PARALLEL
    row.notes += (
        f"; measured pages {math.ceil(total / PAGE_SIZE) + 1} expected from the page size. "
        f"1,000,000 rows (computed): {pages} requests, {seconds:.0f} s at "
        f"{DEFAULT_PARALLEL} lists at a time; per hourly run at the daily default "
        f"{pages / HOURS:.1f} requests, {seconds / HOURS:.1f} s"
    )
    return row


if __name__ == "__main__":
    raise SystemExit(main())
