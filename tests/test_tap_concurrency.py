"""Issue 16: every request within one budget (`max_concurrent_requests`), the first pages of the
streams to come requested ahead, and a run that reads what a sequential run reads.

The simulator counts the API requests in flight; no test here times anything."""

from __future__ import annotations

import json
import typing as t
from datetime import datetime, timedelta
from pathlib import Path

from oracle_wms_sim import Simulator
from tests.conftest import all_records, discover_catalog, run_tap, tap_config

ACTIVITY_IDS = list(range(1, 11))
STATUS_IDS = [0, 10, 20, 30, 40, 50, 60, 70, 80, 95, 99]
HISTORY = {"history_activity_ids": ACTIVITY_IDS, "history_status_ids": STATUS_IDS}


def _select_all(catalog: dict[str, t.Any]) -> dict[str, t.Any]:
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = True
    return catalog


def _records(stdout: str) -> list[str]:
    """RECORD messages without `time_extracted`, sorted."""
    messages = [json.loads(line) for line in stdout.splitlines()]
    return sorted(
        json.dumps([m["stream"], m["record"]], sort_keys=True)
        for m in messages
        if m["type"] == "RECORD"
    )


def _schemas_before_records(stdout: str) -> bool:
    """Each stream's SCHEMA comes before its first RECORD, and streams are not interleaved."""
    seen: set[str] = set()
    done: set[str] = set()
    current = None
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "SCHEMA":
            seen.add(message["stream"])
        elif message["type"] == "RECORD":
            stream = message["stream"]
            if stream not in seen or stream in done:
                return False
            if current not in (None, stream):
                done.add(current)
            current = stream
    return True


def test_every_entity_within_the_budget_reads_what_a_sequential_run_reads(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_sim, max_concurrent_requests=3, **HISTORY)
    sequential = tap_config(fresh_sim, max_concurrent_requests=1, **HISTORY)

    def overlapping(latency_ms: float) -> None:
        """A latency so requests overlap; under prefetch.SLOW_REQUEST (50 ms), so the first
        pages go one ahead."""
        fresh_sim.add_fault("latency", rate=1, latency_ms=latency_ms)

    overlapping(20)
    fresh_sim.clear_request_log()
    catalog = _select_all(discover_catalog(tmp_path, config))
    assert 2 <= fresh_sim.peak_in_flight() <= 3, "discovery describes within the budget"

    # The sequential runs (the first only gives a STATE) need no overlap, so no latency.
    fresh_sim.clear_faults()
    first = run_tap(tmp_path, sequential, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    state = first.last_state
    fresh_sim.insert_records("inventory", 5)

    overlapping(5)  # 5 ms is enough for a budget of 3 exceeded by 1 to show (checked)
    fresh_sim.clear_request_log()
    ahead = run_tap(tmp_path, config, catalog=catalog, state=state)
    peak = fresh_sim.peak_in_flight()
    fresh_sim.clear_faults()
    alone = run_tap(tmp_path, sequential, catalog=catalog, state=state)

    assert ahead.returncode == 0, ahead.stderr[-3000:]
    assert alone.returncode == 0, alone.stderr[-3000:]
    assert 2 <= peak <= 3, f"{peak} requests in flight with max_concurrent_requests 3"
    assert _records(ahead.stdout) == _records(alone.stdout)
    assert _without_clock(ahead.last_state) == _without_clock(alone.last_state)
    assert _schemas_before_records(ahead.stdout)


def test_the_default_budget_is_never_exceeded(sim: Simulator, tmp_path: Path) -> None:
    """Full-table id ranges (8 at a time), next pages and first pages ahead all share it."""
    config = tap_config(sim, max_parallel_requests=8, **HISTORY)
    catalog = _select_all(discover_catalog(tmp_path, config))
    for entry in catalog["streams"]:
        entry["replication_method"] = "FULL_TABLE"
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["forced-replication-method"] = "FULL_TABLE"
    sim.add_fault("latency", rate=1, latency_ms=10)
    try:
        sim.clear_request_log()
        run = run_tap(tmp_path, config, catalog=catalog)
        peak = sim.peak_in_flight()
    finally:
        sim.clear_faults()
    assert run.returncode == 0, run.stderr[-3000:]
    assert 2 <= peak <= 8


def test_history_combinations_answered_empty_are_not_asked_again_within_the_recheck(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_sim, history_empty_recheck=86400, **HISTORY)
    catalog = discover_catalog(tmp_path, config)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == "inventory_history"
    first = run_tap(tmp_path, config, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    partitions = first.last_state["bookmarks"]["inventory_history"]["partitions"]
    empty = [p for p in partitions if "empty_at" in p]
    read = [p for p in partitions if p.get("replication_key_value")]
    assert empty and read and len(empty) + len(read) == len(partitions)
    assert "every combination is asked this run" in first.stderr, "the first run says why"

    def history_requests() -> int:
        """Lists of a combination (not the one question whether lookups are taken)."""
        log = fresh_sim.request_log()
        lists = [r for r in log if r["path"].endswith("/inventory_history/")]
        assert sum("history_activity_id__in" in r["query"] for r in lists) == 1
        return sum("history_activity_id__in" not in r["query"] for r in lists)

    fresh_sim.clear_request_log()
    second = run_tap(tmp_path, config, catalog=catalog, state=first.last_state)
    assert second.returncode == 0, second.stderr[-3000:]
    assert history_requests() == len(read)
    assert _without_clock(second.last_state) == _without_clock(first.last_state)
    assert "every combination is asked this run" not in second.stderr

    fresh_sim.clear_request_log()
    every = tap_config(fresh_sim, history_empty_recheck=0, **HISTORY)
    third = run_tap(tmp_path, every, catalog=catalog, state=first.last_state)
    assert third.returncode == 0, third.stderr[-3000:]
    assert history_requests() == len(partitions)


def test_an_incremental_first_run_reads_id_ranges_with_a_correct_bookmark(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_sim, page_size=200, max_parallel_requests=4)
    sequential = tap_config(fresh_sim, page_size=200, max_parallel_requests=1)
    catalog = discover_catalog(tmp_path, config)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == "inventory"

    fresh_sim.clear_request_log()
    fresh_sim.add_fault("latency", rate=1, latency_ms=60)  # a cloud WMS (prefetch.SLOW_REQUEST)
    backfill = run_tap(tmp_path, config, catalog=catalog)
    fresh_sim.clear_faults()
    ranges = [r for r in fresh_sim.request_log() if "id__range" in r["query"]]
    alone = run_tap(tmp_path, sequential, catalog=catalog)
    fast = run_tap(tmp_path, config, catalog=catalog)  # no latency: one sequenced list

    assert backfill.returncode == 0, backfill.stderr[-3000:]
    assert ranges and all("mod_ts__lte" in r["query"] for r in ranges)
    ids = [r["id"] for r in backfill.records["inventory"]]
    assert len(ids) == len(set(ids)) == len(alone.records["inventory"])
    assert _records(backfill.stdout) == _records(alone.stdout)
    # the same bookmark and the same rows of its lookback window (`recent`, issue 23), though
    # the id ranges read them in no order
    assert _without_clock(backfill.last_state) == _without_clock(alone.last_state)
    assert backfill.last_state["bookmarks"]["inventory"]["recent"]
    assert _records(fast.stdout) == _records(alone.stdout)
    assert _without_clock(fast.last_state) == _without_clock(alone.last_state)
    bookmark = backfill.last_state["bookmarks"]["inventory"]["replication_key_value"]
    assert bookmark == max(r["mod_ts"] for r in backfill.records["inventory"])

    changed = fresh_sim.insert_records("inventory", 3)
    after = run_tap(tmp_path, config, catalog=catalog, state=backfill.last_state)
    assert after.returncode == 0, after.stderr[-3000:]
    # only the changes: the window the first run read is not emitted again
    assert sorted(r["id"] for r in after.records["inventory"]) == sorted(changed)


def _without_clock(state: dict[str, t.Any]) -> dict[str, t.Any]:
    """The state less the time each delete sweep ran (`deletes.swept_at`: the clock of the run,
    not what it read)."""
    bookmarks = {}
    for stream, value in state["bookmarks"].items():
        deletes = value.get("deletes")
        if isinstance(deletes, dict):
            kept = {k: v for k, v in deletes.items() if k != "swept_at"}
            bookmarks[stream] = {**value, "deletes": kept}
        else:
            bookmarks[stream] = value
    return {**state, "bookmarks": bookmarks}


def test_a_long_first_run_records_exactly_the_rows_within_lookback_of_its_bookmark(
    tmp_path: Path,
) -> None:
    """More rows than `rereads.TRIM_EVERY` (4,096) in one ordered read, and more than that in
    the window itself (5,000 rows written just now): the window the run records (`recent`) is
    every emitted row within `lookback` of the newest, whatever was trimmed on the way."""
    with Simulator(seed=7, scale=1) as sim:
        sim.insert_records("inventory", 5000)
        rows = sorted(
            (str(r["mod_ts"]), int(r["id"]))
            for r in all_records(sim, "inventory", fields="id,mod_ts")
        )
        newest = datetime.fromisoformat(rows[-1][0])
        lookback = 86400
        config = tap_config(sim, lookback=lookback, max_parallel_requests=1)
        catalog = discover_catalog(tmp_path, config)
        for entry in catalog["streams"]:
            for item in entry["metadata"]:
                if item["breadcrumb"] == []:
                    item["metadata"]["selected"] = entry["tap_stream_id"] == "inventory"
        run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    emitted = run.records["inventory"]
    assert len(emitted) == len(rows) > 4096
    edge = newest - timedelta(seconds=lookback)
    expected = {
        str(r["id"]): r["mod_ts"] for r in emitted if datetime.fromisoformat(r["mod_ts"]) >= edge
    }
    assert 5000 <= len(expected) < len(rows)
    assert run.last_state["bookmarks"]["inventory"]["recent"] == expected
