"""Rows deleted in the WMS reach the Singer output (tap_oracle_wms.deletes): incremental streams
send a deleted id once, with `_sdc_deleted_at`, after an id sweep; full-table streams send
ACTIVATE_VERSION; purged history is kept unless `purged_history` is `delete`. Real simulator over
loopback HTTP, the tap as a subprocess; the expected ids come from the simulator's own answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from oracle_wms_sim import Simulator
from tap_oracle_wms.deletes import decode_ids, encode_ids
from tests.conftest import all_records, run_tap, tap_config

ENTITIES = ["order_hdr", "order_dtl", "inventory", "order_type"]


def _deleted(records: list[dict[str, Any]]) -> set[int]:
    return {r["id"] for r in records if r.get("_sdc_deleted_at")}


def _activate_versions(stdout: str) -> dict[str, int]:
    found = {}
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "ACTIVATE_VERSION":
            found[message["stream"]] = message["version"]
    return found


def test_deleted_rows_are_sent_once_after_a_sweep(fresh_sim: Simulator, tmp_path: Path) -> None:
    config = tap_config(fresh_sim, entities=ENTITIES, delete_sweep_interval=0)
    first = run_tap(tmp_path, config)
    assert first.returncode == 0, first.stderr[-2000:]
    assert not any(_deleted(rows) for rows in first.records.values())
    assert first.schemas["order_hdr"]["properties"]["_sdc_deleted_at"]["format"] == "date-time"
    assert "_sdc_deleted_at" in first.schemas["order_type"]["properties"]  # full table too

    lines_before = {r["id"]: r["order_id"]["id"] for r in all_records(fresh_sim, "order_dtl")}
    orders = set(fresh_sim.delete_records("order_hdr", 5))
    inventory = set(fresh_sim.delete_records("inventory", 4))
    codes = set(fresh_sim.delete_records("order_type", 1))
    lines = {line for line, order in lines_before.items() if order in orders}
    assert lines  # the orders had lines, gone with them

    second = run_tap(tmp_path, config, state=first.last_state)
    assert second.returncode == 0, second.stderr[-2000:]
    assert _deleted(second.records["order_hdr"]) == orders
    assert _deleted(second.records["order_dtl"]) == lines
    assert _deleted(second.records["inventory"]) == inventory
    # the full-table code table: every row but the deleted one, under a new version, and the
    # deleted one marked (for loaders that ignore ACTIVATE_VERSION)
    versions = _activate_versions(second.stdout)
    assert set(versions) == {"order_type"}
    rows = second.records["order_type"]
    assert _deleted(rows) == codes
    sent = {r["id"] for r in rows} - codes
    assert sent == {r["id"] for r in all_records(fresh_sim, "order_type")}

    third = run_tap(tmp_path, config, state=second.last_state)
    assert third.returncode == 0, third.stderr[-2000:]
    assert not any(_deleted(rows) for rows in third.records.values())  # sent once


def test_between_sweeps_new_ids_are_remembered_and_deletes_wait(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_sim, entities=["order_hdr"], delete_sweep_interval=3600)
    first = run_tap(tmp_path, config)
    inserted = fresh_sim.insert_records("order_hdr", 3)
    second = run_tap(tmp_path, config, state=first.last_state)  # not due: no sweep
    gone = fresh_sim.delete_records("order_hdr", 2)
    third = run_tap(tmp_path, config, state=second.last_state)
    assert not _deleted(third.records.get("order_hdr", []))
    entry = third.last_state["bookmarks"]["order_hdr"]["deletes"]
    assert set(inserted) <= set(decode_ids(entry["known"]))
    # the sweep once due (here: its time moved back) finds the deletes, inserted rows included
    entry["swept_at"] = "2000-01-01T00:00:00+00:00"
    fresh_sim.delete_records("order_hdr", 0)
    fourth = run_tap(tmp_path, config, state=third.last_state)
    assert _deleted(fourth.records["order_hdr"]) == set(gone)


def test_purged_history_is_kept_by_default_and_deleted_on_request(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    history = ["inventory_history"]
    kept = tap_config(fresh_sim, entities=history, delete_sweep_interval=0)
    dropped = {**kept, "purged_history": "delete"}
    first_kept = run_tap(tmp_path, kept)
    first_dropped = run_tap(tmp_path, dropped)
    assert "deletes" not in first_kept.last_state["bookmarks"]["inventory_history"]
    assert "_sdc_deleted_at" not in first_kept.schemas["inventory_history"]["properties"]
    purged = set(fresh_sim.purge(retention_years=1, as_of=_years_on(1, 60))["inventory_history"])
    assert purged
    second_kept = run_tap(tmp_path, kept, state=first_kept.last_state)
    second_dropped = run_tap(tmp_path, dropped, state=first_dropped.last_state)
    assert second_kept.returncode == second_dropped.returncode == 0, second_dropped.stderr[-2000:]
    assert not _deleted(second_kept.records.get("inventory_history", []))
    assert _deleted(second_dropped.records["inventory_history"]) == purged
    # a deleted row of a partitioned stream is valid against its schema (no partition filter
    # values, which are text, copied into its integer fields)
    schema = second_dropped.schemas["inventory_history"]
    validator = jsonschema.validators.validator_for(schema)(schema)  # built once: 3,000 rows
    for record in second_dropped.records["inventory_history"]:
        if record.get("_sdc_deleted_at"):
            validator.validate(record)


def _years_on(years: int, days_more: int) -> datetime:
    return datetime.now(UTC) + timedelta(days=365 * (years - 1) + days_more)


@pytest.mark.parametrize("bad", ["", "!!", encode_ids([1])[:-3] + "xx"])
def test_a_broken_known_list_in_the_state_is_named(
    fresh_sim: Simulator, tmp_path: Path, bad: str
) -> None:
    config = tap_config(fresh_sim, entities=["order_type", "order_hdr"], delete_sweep_interval=0)
    state = {
        "bookmarks": {
            "order_hdr": {
                "replication_key": "mod_ts",
                "replication_key_value": "2030-01-01T00:00:00+00:00",
                "deletes": {"known": bad, "swept_at": "2000-01-01T00:00:00+00:00"},
            }
        }
    }
    run = run_tap(tmp_path, config, state=state)
    assert run.returncode != 0
    assert "bookmarks.order_hdr.deletes.known" in run.stderr
    assert "Traceback" not in run.stderr


def test_ids_round_trip_compactly() -> None:
    ids = [*range(1, 500_001), *range(500_010, 1_000_000, 3), 7_000_000]
    text = encode_ids(reversed(ids))
    assert list(decode_ids(text)) == ids
    assert len(text) < 1_000_000 and len(encode_ids(range(1, 1_000_001))) < 100
