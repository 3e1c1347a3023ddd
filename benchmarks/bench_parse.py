"""1. Parse ceiling: `tap-oracle-wms` full sync of inventory against a plain loop, same pages.

The ceiling is `plain_loop.py`: one `requests` session GETs the sequenced `mod_ts,id` pages the
tap asks for, `json.loads` each, writes nothing. The tap runs as a subprocess with its catalog
(inventory only) and its Singer output to /dev/null. Records are counted by the simulator
(`result_count`). Goal: tap >= 0.8 of the ceiling, no latency added.

    .venv/bin/python benchmarks/bench_parse.py [--quick]
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from common import (
    Row,
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
    tap_logged_rate,
    workdir,
)

NAME = "parse"
ENTITY = "inventory"
GOAL = 0.8


def scales(quick: bool) -> list[int]:
    """Scale 67: 201,000 inventory rows (quick: 7, 21,000)."""
    return [7 if quick else 67]


def main() -> int:
    args = parser(__doc__).parse_args()
    (scale,) = scales(args.quick)
    header("1. parse ceiling: tap full sync of inventory vs plain GET + json.loads loop")
    with workdir(args) as work, simulators(given_sims(args), [scale], work) as sims:
        sim = sims[scale]
        tmp = work / NAME
        tmp.mkdir(exist_ok=True)
        total = sim.result_count(ENTITY)
        config, catalog = tap_catalog(sim, tmp, ENTITY)
        url = sequenced_url(sim, ENTITY, ordering="mod_ts,id")
        records, loop = plain_loop([url])
        assert records == total, f"plain loop read {records} of {total} records"
        ceiling = measured_row(NAME, "plain loop: GET + json.loads (parse ceiling)", total, loop)
        print_row(ceiling)
        assert ceiling.rate is not None
        case = "tap-oracle-wms full sync -> /dev/null"
        row = attempt(NAME, case, partial(_tap, config, catalog, case, total, ceiling.rate))
        print_row(against(row, ceiling.rate, "parse ceiling", GOAL))
        save_rows(args.json, [ceiling, row])
    return 0


def _tap(config: Path, catalog: Path, case: str, total: int, ceiling: float) -> Row:
    tap = run_tap(config, catalog)
    notes = tap_logged_rate(tap.stderr, ENTITY, total, ceiling)
    return measured_row(NAME, case, total, tap, notes=notes)


if __name__ == "__main__":
    sys.exit(main())
