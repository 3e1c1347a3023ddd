"""One entity never costs the others (issue 23 item 6): behind a WMS that refuses every request
of one entity, the other entities are read, the failure is one line naming it, the run ends
non-zero with STATE for what was read, and the next run reads the failed entity from its
bookmark and only new rows of the others."""

from __future__ import annotations

from pathlib import Path

from oracle_wms_sim import Simulator
from tests.conftest import all_records, discover_catalog, run_tap, select_streams, tap_config

ENTITIES = {"item", "order_dtl", "order_hdr", "order_status"}


def test_one_entity_refused_costs_the_others_nothing(fresh_sim: Simulator, tmp_path: Path) -> None:
    config = tap_config(fresh_sim, start_date="2020-01-01T00:00:00Z")
    catalog = select_streams(discover_catalog(tmp_path, config), ENTITIES)
    fresh_sim.add_fault("400", rate=1, path_contains="entity/order_dtl/")
    first = run_tap(tmp_path, config, catalog=catalog)
    fresh_sim.clear_faults()

    assert first.returncode == 1
    assert "order_dtl" not in first.records
    for entity in ENTITIES - {"order_dtl"}:  # order_hdr and order_status come after it
        assert len(first.records[entity]) == len(all_records(fresh_sim, entity)), entity
    failed = [line for line in first.stderr.splitlines() if "Entity 'order_dtl' failed" in line]
    assert len(failed) == 1 and "400" in failed[0]
    assert "1 entity failed this run" in first.stderr.splitlines()[-1]
    assert "Traceback" not in first.stderr
    bookmarks = first.last_state["bookmarks"]
    assert bookmarks["order_hdr"]["replication_key_value"]
    assert not bookmarks.get("order_dtl", {}).get("replication_key_value")

    changed = set(fresh_sim.update_records("order_hdr", 4, same_mod_ts=False))
    second = run_tap(tmp_path, config, catalog=catalog, state=first.last_state)
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(second.records["order_dtl"]) == len(all_records(fresh_sim, "order_dtl"))
    assert {r["id"] for r in second.records["order_hdr"]} == changed


def test_credentials_refused_still_end_the_run_at_once(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_sim)
    catalog = select_streams(discover_catalog(tmp_path, config), ENTITIES)
    run = run_tap(tmp_path, {**config, "password": "wrong"}, catalog=catalog)
    assert run.returncode == 1
    assert "failed and the run goes on" not in run.stderr
    assert not run.records
