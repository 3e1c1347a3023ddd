"""Date-time filter values at whole seconds (issue 23 item 1, docs/api-contract.md D18).

Real tenants refuse a filter value with a fractional second; the simulator does too by default.
The tap's bounds are rounded so that a row can only be read again, never skipped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import (
    all_records,
    api_get,
    discover_catalog,
    run_tap,
    select_streams,
    tap_config,
)

FRACTION = "2026-01-03T12:11:42.5+00:00"


def test_the_simulator_refuses_a_fractional_second_by_default(sim: Simulator) -> None:
    refused = api_get(sim, "entity/order_hdr/", mod_ts__gte=FRACTION)
    assert refused.status_code == 400
    assert "mod_ts__gte" in refused.json()["details"]
    for param in ("create_ts__lt", "mod_ts__range"):
        value = f"{FRACTION},2026-02-01T00:00:00+00:00" if param.endswith("range") else FRACTION
        assert api_get(sim, "entity/order_hdr/", **{param: value}).status_code == 400
    whole = api_get(sim, "entity/order_hdr/", mod_ts__gte="2026-01-03T12:11:42+00:00")
    assert whole.status_code in (200, 404)


def test_the_simulator_takes_fractions_when_told() -> None:
    with Simulator(seed=3, whole_second_filters=False) as lenient:
        answer = api_get(lenient, "entity/order_hdr/", mod_ts__gte=FRACTION)
        assert answer.status_code in (200, 404)


def _ids_at_or_after(rows: list[dict[str, object]], instant: datetime) -> set[int]:
    return {
        int(str(r["id"]))
        for r in rows
        if datetime.fromisoformat(str(r["mod_ts"])).astimezone(UTC) >= instant
    }


@pytest.mark.parametrize("lookback", [0, 1])
def test_a_fractional_bookmark_reads_every_row_from_it(
    fresh_sim: Simulator, tmp_path: Path, lookback: float
) -> None:
    """A bookmark with microseconds (as every record carries), with and without a lookback (whole
    seconds since issue 28): the run must not fail, and emits exactly the rows from the bookmark
    less the lookback."""
    config = tap_config(fresh_sim, lookback=lookback)
    catalog = select_streams(discover_catalog(tmp_path, config), {"order_hdr"})
    changed = set(fresh_sim.update_records("order_hdr", 5, same_mod_ts=False))
    rows = all_records(fresh_sim, "order_hdr")
    stamps = sorted(
        datetime.fromisoformat(str(r["mod_ts"])).astimezone(UTC) for r in rows if r["id"] in changed
    )
    bookmark = stamps[1]  # the second-oldest changed row: four rows are at or after it
    assert bookmark.microsecond, "the simulator's stamps carry microseconds"
    state = {
        "bookmarks": {
            "order_hdr": {
                "replication_key": "mod_ts",
                "replication_key_value": bookmark.isoformat(timespec="microseconds"),
            }
        }
    }
    run = run_tap(tmp_path, config, catalog=catalog, state=state)
    assert run.returncode == 0, run.stderr[-3000:]
    emitted = {r["id"] for r in run.records.get("order_hdr", [])}
    # exactly the rows from the bookmark less the lookback: the rows the rounded filter adds
    # (its second before that instant) are read, not emitted
    assert emitted == _ids_at_or_after(rows, bookmark - timedelta(seconds=lookback))
    assert len(_ids_at_or_after(rows, bookmark) & changed) == 4


def test_a_fractional_start_date_reads_every_row_from_it(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    rows = all_records(fresh_sim, "order_hdr")
    stamps = sorted(datetime.fromisoformat(str(r["mod_ts"])).astimezone(UTC) for r in rows)
    start = stamps[len(stamps) // 2] - timedelta(microseconds=250_000)
    config = tap_config(fresh_sim, start_date=start.isoformat())
    catalog = select_streams(discover_catalog(tmp_path, config), {"order_hdr"})
    run = run_tap(tmp_path, config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-3000:]
    emitted = {r["id"] for r in run.records["order_hdr"]}
    assert emitted == _ids_at_or_after(rows, start)
