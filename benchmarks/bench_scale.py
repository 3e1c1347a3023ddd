"""3. Scale: the tap over inventory_history at 100k, 300k and 1M rows; memory must stay flat.

One simulator per size (scales 34, 100 and 334: 102,000, 300,000 and 1,002,000 rows; quick: 1, 3
and 10). The tap reads inventory_history with Oracle's documented filter combination, one list
per company, facility, activity and status (`oracle_wms.scoping`; the ids given as settings);
the plain loop walks the same sequenced `create_ts,id` lists as its ceiling. Goals: peak RSS
< 200 MB at every size, and no growth with the rows: the largest size's peak at most 20 MB above
the smallest's (ten times the rows; a leak of even 25 bytes a row would break it). At the
smallest size, the history cost: requests and records/s of the documented path (plain loop and
tap) against the old client's path (one `__in` list per company and facility, served by a second
simulator on the same data started with `--lenient-required-filters`).

    .venv/bin/python benchmarks/bench_scale.py [--quick]
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from common import (
    Row,
    Sim,
    against,
    attempt,
    given_sims,
    header,
    history_scopes,
    history_scopes_before,
    history_settings,
    measured_row,
    parser,
    plain_loop,
    plain_loop_requests,
    print_row,
    run_tap,
    save_rows,
    sequenced_url,
    simulators,
    start_sim,
    tap_catalog,
    tap_logged_rate,
    verdict,
    workdir,
)

NAME = "scale"
ENTITY = "inventory_history"
MEMORY_LIMIT_MB = 200.0
GROWTH_LIMIT_MB = 20.0


def scales(quick: bool) -> list[int]:
    return [1, 3, 10] if quick else [34, 100, 334]


def main() -> int:
    args = parser(__doc__).parse_args()
    sizes = scales(args.quick)
    header(f"3. scale: tap over {ENTITY}, peak RSS must stay under {MEMORY_LIMIT_MB:.0f} MB")
    rows: list[Row] = []
    taps: list[Row] = []
    with workdir(args) as work, simulators(given_sims(args), sizes, work) as sims:
        for scale in sizes:
            tmp = work / f"{NAME}-{scale}"
            tmp.mkdir(exist_ok=True)
            for row in _one_size(sims[scale], tmp):
                rows.append(row)
                print_row(row)
            taps.append(rows[-1])
            if scale == sizes[0]:
                for row in _history_cost(sims[scale], scale, work, tmp):
                    rows.append(row)
                    print_row(row)
            sims[scale].stop()  # the next, larger one has the machine to itself
    rows.append(_growth(taps[0], taps[-1]))
    print_row(rows[-1])
    save_rows(args.json, rows)
    return 0


def _one_size(sim: Sim, tmp: Path) -> list[Row]:
    """The plain-loop ceiling and the tap at one size."""
    scopes = history_scopes(sim)
    total = sum(sim.result_count(ENTITY, **scope) for scope in scopes)
    urls = [sequenced_url(sim, ENTITY, ordering="create_ts,id", **scope) for scope in scopes]
    records, loop = plain_loop(urls)
    assert records == total, f"plain loop read {records} of {total} records"
    ceiling = measured_row(NAME, f"{total:,} rows: plain loop (parse ceiling)", total, loop)
    case = f"{total:,} rows: tap-oracle-wms -> /dev/null"
    row = attempt(NAME, case, partial(_tap, sim, tmp, case, total))
    assert ceiling.rate is not None
    return [ceiling, against(row, ceiling.rate, "parse ceiling")]


def _history_cost(sim: Sim, scale: int, work: Path, tmp: Path) -> list[Row]:
    """Requests and records/s of a full history read: the old `__in` path, the documented
    combinations (plain loop), and the tap on the documented combinations."""
    after_urls = [
        sequenced_url(sim, ENTITY, ordering="create_ts,id", **s) for s in history_scopes(sim)
    ]
    records, sent, loop = plain_loop_requests(after_urls)
    after = measured_row(NAME, "history cost: plain loop, documented combinations", records, loop)
    after.notes = f"{sent:,} requests over {len(after_urls):,} lists"
    before_sim = start_sim(scale, work, "--lenient-required-filters")
    try:
        before_urls = [
            sequenced_url(before_sim, ENTITY, ordering="create_ts,id", **s)
            for s in history_scopes_before(before_sim)
        ]
        old_records, old_sent, old_loop = plain_loop_requests(before_urls)
    finally:
        before_sim.stop()
    before = measured_row(NAME, "history cost: plain loop, old __in path", old_records, old_loop)
    before.notes = f"{old_sent:,} requests over {len(before_urls):,} lists (baseline)"
    if old_records != records:
        before.notes += f"; WARNING: {old_records:,} records, documented path {records:,}"
    sim.clear_request_log()
    case = "history cost: tap-oracle-wms, documented combinations"
    tap = attempt(NAME, case, partial(_tap, sim, tmp, case, records))
    history = [r for r in sim.request_log() if r["path"].endswith(f"/{ENTITY}/")]
    tap.notes = f"{len(history):,} requests; " + tap.notes
    assert before.rate is not None
    return [before, against(after, before.rate, "old __in path"), tap]


def _tap(sim: Sim, tmp: Path, case: str, total: int) -> Row:
    config, catalog = tap_catalog(sim, tmp, ENTITY, **history_settings(sim))
    tap = run_tap(config, catalog)
    notes = tap_logged_rate(tap.stderr, ENTITY, total)
    row = measured_row(NAME, case, total, tap, notes=notes)
    row.goal = f"peak RSS < {MEMORY_LIMIT_MB:.0f} MB"
    row.met = verdict(tap.peak_rss_mb < MEMORY_LIMIT_MB, f"{tap.peak_rss_mb:.0f} MB")
    return row


def _growth(smallest: Row, largest: Row) -> Row:
    if not (smallest.peak_rss_mb and largest.peak_rss_mb and smallest.records):
        return Row(NAME, "tap memory growth", met="ERROR", notes="a size failed")
    growth = largest.peak_rss_mb - smallest.peak_rss_mb
    return Row(
        NAME,
        f"tap memory growth, {smallest.records:,} -> {largest.records:,} rows",
        goal=f"flat: grows < {GROWTH_LIMIT_MB:.0f} MB",
        met=verdict(
            growth < GROWTH_LIMIT_MB,
            f"{smallest.peak_rss_mb:.0f} -> {largest.peak_rss_mb:.0f} MB, {growth:+.0f} MB",
        ),
    )


if __name__ == "__main__":
    sys.exit(main())
