"""Rows that arrive behind the cursor, and rows read again (issue 23 item 2, contract D20).

A long transaction commits rows whose `mod_ts` lies before rows already read; a bulk job stamps
hundreds of rows with one `mod_ts`. Within `lookback` of the bookmark a late row is read; a row
read again unchanged is not emitted again, and the log says how many were read again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import api_get, discover_catalog, run_tap, select_streams, tap_config


def test_the_simulator_commits_rows_behind_the_newest(fresh_sim: Simulator) -> None:
    newest = api_get(fresh_sim, "entity/order_hdr/", ordering="-mod_ts", page_size=1).json()
    top = newest["results"][0]["mod_ts"]
    ids = fresh_sim.commit_late("order_hdr", 3, behind_s=120)
    for ident in ids:
        row = api_get(fresh_sim, f"entity/order_hdr/{ident}/").json()
        assert row["mod_ts"] < top or row["mod_ts"][:19] != top[:19]
    again = api_get(fresh_sim, "entity/order_hdr/", ordering="-mod_ts", page_size=1).json()
    assert again["results"][0]["mod_ts"] == top


@pytest.mark.parametrize(("lookback", "behind", "read"), [(600, 120, True), (0, 120, False)])
def test_rows_committed_behind_the_cursor(
    fresh_sim: Simulator, tmp_path: Path, lookback: float, behind: float, read: bool
) -> None:
    config = tap_config(fresh_sim, lookback=lookback)
    catalog = select_streams(discover_catalog(tmp_path, config), {"order_hdr"})
    first = run_tap(tmp_path, config, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]

    late = set(fresh_sim.commit_late("order_hdr", 5, behind_s=behind))
    changed = set(fresh_sim.update_records("order_hdr", 3, same_mod_ts=False))
    second = run_tap(tmp_path, config, catalog=catalog, state=first.last_state)
    assert second.returncode == 0, second.stderr[-3000:]
    emitted = [r["id"] for r in second.records.get("order_hdr", [])]
    assert len(emitted) == len(set(emitted))
    # what is emitted: the changed rows, and the late ones when within lookback; nothing else
    assert set(emitted) == changed | (late if read else set())

    third = run_tap(tmp_path, config, catalog=catalog, state=second.last_state)
    assert third.returncode == 0, third.stderr[-3000:]
    assert not third.records.get("order_hdr"), "an unchanged WMS: nothing emitted again"


def test_a_bulk_stamp_is_not_emitted_again_by_every_run(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """meltano/sdk#2154: 600 orders stamped with one mod_ts, then runs on an unchanged WMS."""
    config = tap_config(fresh_sim)
    catalog = select_streams(discover_catalog(tmp_path, config), {"order_hdr"})
    first = run_tap(tmp_path, config, catalog=catalog)
    bulk = set(fresh_sim.update_records("order_hdr", 600, same_mod_ts=True))
    second = run_tap(tmp_path, config, catalog=catalog, state=first.last_state)
    assert {r["id"] for r in second.records["order_hdr"]} == bulk
    state = second.last_state
    for _ in range(2):
        run = run_tap(tmp_path, config, catalog=catalog, state=state)
        assert run.returncode == 0, run.stderr[-3000:]
        assert not run.records.get("order_hdr")
        assert "600 rows read again" in run.stderr
        state = run.last_state
    fresh_sim.update_records("order_hdr", 2, same_mod_ts=True)
    fourth = run_tap(tmp_path, config, catalog=catalog, state=state)
    assert len(fourth.records["order_hdr"]) == 2
