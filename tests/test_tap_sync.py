"""The tap against the running simulator: discovery, full sync, incremental sync."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import (
    ROOT,
    all_records,
    api_get,
    discover_catalog,
    result_count,
    run_tap,
    select_streams,
    tap_config,
)


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, f"{value!r} has no UTC offset"
    return parsed


def _entry(catalog: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in catalog["streams"] if e["tap_stream_id"] == name)


def _root_metadata(entry: dict[str, Any]) -> dict[str, Any]:
    return next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])


def test_discover_lists_every_entity_with_typed_schemas(sim: Simulator, tmp_path: Path) -> None:
    index = api_get(sim, "entity/").json()
    catalog = discover_catalog(tmp_path, tap_config(sim))

    assert sorted(e["tap_stream_id"] for e in catalog["streams"]) == sorted(index)

    order_dtl = _entry(catalog, "order_dtl")
    props = order_dtl["schema"]["properties"]
    assert props["id"]["type"] == "integer"
    assert order_dtl["key_properties"] == ["id"]
    # A foreign key lands as an integer id plus its business key as text.
    assert "integer" in props["order_id"]["type"]
    assert "string" in props["order_id_key"]["type"]
    assert props["mod_ts"]["format"] == "date-time"
    assert _root_metadata(order_dtl)["valid-replication-keys"] == ["mod_ts"]

    # Every field `describe` reports is in the schema (foreign keys split, child links left out).
    described = api_get(sim, "entity/order_dtl/describe/").json()["fields"]
    for name, spec in described.items():
        if spec["type"] == "child_set":
            assert name not in props
        elif spec["type"] == "foreign_key":
            assert {name, f"{name}_key"} <= props.keys()
        else:
            assert name in props, f"describe field {name} missing from the schema"

    # Code tables have no audit timestamps: full table.
    order_status = _entry(catalog, "order_status")
    assert "valid-replication-keys" not in _root_metadata(order_status)


def test_full_sync_matches_the_simulator(sim: Simulator, tmp_path: Path) -> None:
    config = tap_config(sim)
    wanted = {"company", "facility", "item", "order_hdr", "order_dtl", "order_status", "inventory"}
    catalog = select_streams(discover_catalog(tmp_path, config), wanted)

    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    assert set(run.records) == wanted
    for entity in wanted:  # progress and totals in the log
        assert f"Entity '{entity}' done: {len(run.records[entity])} records" in run.stderr
    for entity in wanted:
        ids = [r["id"] for r in run.records[entity]]
        assert len(ids) == len(set(ids)), f"{entity}: a record was emitted twice in one run"
        assert len(ids) == result_count(sim, entity), entity

    # Field by field against the simulator's own answer, for an entity with foreign keys,
    # decimals and offset date-times (every date-time emitted in UTC: the same instant).
    raw = {r["id"]: r for r in all_records(sim, "order_dtl")}
    described = api_get(sim, "entity/order_dtl/describe/").json()["fields"]
    for row in run.records["order_dtl"]:
        source = raw[row["id"]]
        for name, value in source.items():
            if isinstance(value, dict) and "id" in value:
                assert row[name] == value["id"], name
                assert row[f"{name}_key"] == str(value["key"]), name
            elif described[name]["type"] == "datetime" and value is not None:
                assert _instant(row[name]) == _instant(value), name  # emitted in UTC
            elif described[name]["type"] == "decimal" and value is not None:
                assert Decimal(str(row[name])) == Decimal(value), name
            elif not isinstance(value, dict):
                assert row[name] == value, name


def test_small_pages_with_shared_timestamps_lose_and_repeat_nothing(
    sim: Simulator, tmp_path: Path
) -> None:
    """Batch jobs stamp many rows with one mod_ts; pages of 7 cut through those groups."""
    config = tap_config(sim, page_size=7)
    catalog = select_streams(discover_catalog(tmp_path, config), {"order_hdr"})
    mod_ts = [r["mod_ts"] for r in all_records(sim, "order_hdr")]
    assert len(mod_ts) - len(set(mod_ts)) > 7, "the simulator should share mod_ts across rows"

    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    ids = [r["id"] for r in run.records["order_hdr"]]
    assert sorted(ids) == sorted(r["id"] for r in all_records(sim, "order_hdr"))


def _bookmark(state: dict[str, Any], stream: str) -> str:
    return str(state["bookmarks"][stream]["replication_key_value"])


def test_incremental_run_emits_every_change_and_nothing_older(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_sim)
    catalog = select_streams(
        discover_catalog(tmp_path, config), {"order_hdr", "order_dtl", "order_status"}
    )
    first = run_tap(tmp_path, config, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    assert len(first.records["order_hdr"]) == result_count(fresh_sim, "order_hdr")
    bookmark = _bookmark(first.last_state, "order_hdr")
    assert _instant(bookmark) == max(
        _instant(r["mod_ts"]) for r in all_records(fresh_sim, "order_hdr")
    )

    updated = fresh_sim.update_records("order_hdr", 30, same_mod_ts=True)
    inserted = fresh_sim.insert_records("order_hdr", 20, same_mod_ts=True)
    updated_dtl = fresh_sim.update_records("order_dtl", 15, same_mod_ts=False)

    second = run_tap(tmp_path, config, catalog=catalog, state=first.last_state)

    assert second.returncode == 0, second.stderr[-3000:]
    emitted = {r["id"]: r for r in second.records["order_hdr"]}
    assert set(updated) | set(inserted) <= emitted.keys()
    assert set(updated_dtl) <= {r["id"] for r in second.records["order_dtl"]}
    # None older than the bookmark, and exactly what changed after it: the rows at the
    # bookmark, unchanged, were emitted by the first run and are not emitted again (issue 23).
    assert all(_instant(r["mod_ts"]) >= _instant(bookmark) for r in emitted.values())
    assert len(emitted) == fresh_sim.result_count("order_hdr", mod_ts__gt=bookmark)
    # Updated records arrive with their new values.
    for record_id in updated:
        current = api_get(fresh_sim, f"entity/order_hdr/{record_id}/").json()
        assert _instant(emitted[record_id]["mod_ts"]) == _instant(current["mod_ts"])
    # A full-table stream is read whole every time.
    assert len(second.records["order_status"]) == result_count(fresh_sim, "order_status")

    new_bookmark = _bookmark(second.last_state, "order_hdr")
    assert _instant(new_bookmark) > _instant(bookmark)

    # Nothing changed since: the run ends cleanly; the rows at the bookmark (and within
    # `lookback` of it) are read again but not emitted again (issue 23, meltano/sdk#2154).
    third = run_tap(tmp_path, config, catalog=catalog, state=second.last_state)
    assert third.returncode == 0, third.stderr[-3000:]
    assert not third.records.get("order_hdr"), "rows read again unchanged are not re-emitted"
    assert "Entity 'order_hdr':" in third.stderr and "rows read again" in third.stderr
    assert _bookmark(third.last_state, "order_hdr") == new_bookmark


@pytest.mark.parametrize("entity", ["order_hdr", "inventory"])
def test_bookmark_past_all_data_is_an_empty_run(
    sim: Simulator, tmp_path: Path, entity: str
) -> None:
    """lgfapi answers 404 to a list that matches nothing: the tap reads it as no records."""
    config = tap_config(sim)
    catalog = select_streams(discover_catalog(tmp_path, config), {entity})
    future = "2099-01-01T00:00:00.000000+00:00"
    state = {"bookmarks": {entity: {"replication_key": "mod_ts", "replication_key_value": future}}}

    run = run_tap(tmp_path, config, catalog=catalog, state=state)

    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records.get(entity, []) == []
    assert _bookmark(run.last_state, entity) == future


def test_start_date_limits_the_first_run_across_time_zones(sim: Simulator, tmp_path: Path) -> None:
    """Facilities render mod_ts in -06:00, -05:00 and +01:00: the cut is on the instant."""
    raw = all_records(sim, "order_hdr")
    assert len({r["mod_ts"][-6:] for r in raw}) >= 2, "expected several facility offsets"
    stamps = sorted({_instant(r["mod_ts"]) for r in raw})
    start = stamps[len(stamps) // 2]
    config = tap_config(sim, start_date=start.isoformat())
    catalog = select_streams(discover_catalog(tmp_path, config), {"order_hdr"})

    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    expected = {r["id"] for r in raw if _instant(r["mod_ts"]) >= start}
    assert {r["id"] for r in run.records["order_hdr"]} == expected


def test_committed_catalog_is_the_simulators_discovery(tmp_path: Path) -> None:
    """catalogs/ must not drift from what the tap discovers (regenerate with `make catalog`)."""
    with Simulator() as default_sim:
        fresh = discover_catalog(tmp_path, tap_config(default_sim))
    committed = json.loads((ROOT / "catalogs" / "tap-oracle-wms.catalog.json").read_text())
    assert committed == json.loads(json.dumps(fresh, sort_keys=True))


ACTIVITY_IDS = list(range(1, 11))
"""The simulator's history activity ids (oracle_wms_sim.data.reference), given as a user would."""
STATUS_IDS = [0, 10, 20, 30, 40, 50, 60, 70, 80, 95, 99]
"""The simulator's container statuses, given as a user would."""


def _history_ids(server: Simulator) -> set[int]:
    """Every inventory_history id, straight from the simulator's database (not through lgfapi)."""
    with sqlite3.connect(server.db_path) as conn:
        return {int(r[0]) for r in conn.execute("SELECT id FROM inventory_history")}


def _history_requests(server: Simulator) -> list[dict[str, str]]:
    return [r["query"] for r in server.request_log() if r["path"].endswith("/inventory_history/")]


def test_inventory_history_is_read_with_documented_filters_and_own_bookmarks(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(
        fresh_sim,
        history_activity_ids=ACTIVITY_IDS,
        history_status_ids=STATUS_IDS,
        history_empty_recheck=0,  # the inserted rows may fall in combinations empty before
    )
    catalog = select_streams(discover_catalog(tmp_path, config), {"inventory_history"})
    entry = _entry(catalog, "inventory_history")
    assert _root_metadata(entry)["valid-replication-keys"] == ["create_ts"]
    fresh_sim.clear_request_log()

    first = run_tap(tmp_path, config, catalog=catalog)

    assert first.returncode == 0, first.stderr[-3000:]
    emitted = [r["id"] for r in first.records["inventory_history"]]
    assert len(emitted) == len(set(emitted))
    assert set(emitted) == _history_ids(fresh_sim)
    # Oracle's combination company + facility + history_activity_id + status_id, plain values
    combination = {"company_id__code", "facility_id__code", "history_activity_id", "status_id"}
    queries = _history_requests(fresh_sim)
    assert queries and all(combination <= {k.split("__in")[0] for k in q} for q in queries)
    # one one-record question of the lookup form (the simulator refuses it, as Oracle may),
    # then only plain values
    asked, lists = [q for q in queries if q.get("page_size") == "1"], queries[1:]
    assert len(asked) == 1 and queries[0] == asked[0]
    assert {"history_activity_id__in", "status_id__in"} <= set(asked[0])
    assert not [
        k for q in lists for k in q if k.startswith(("history_activity_id__", "status_id__"))
    ]
    paths = [r["path"] for r in fresh_sim.request_log()]
    checks = [p for p in paths if "/history_activity/" in p or "/container_status/" in p]
    assert len(checks) == 2, "the configured ids checked against each entity once, no fallback"
    partitions = first.last_state["bookmarks"]["inventory_history"]["partitions"]
    contexts = [p["context"] for p in partitions]
    assert {c["facility_code"] for c in contexts} == {"F1", "F2", "F3"}
    assert {c["history_activity_id"] for c in contexts} == {str(a) for a in ACTIVITY_IDS}

    inserted = fresh_sim.insert_records("inventory_history", 30, same_mod_ts=True)
    second = run_tap(tmp_path, config, catalog=catalog, state=first.last_state)

    assert second.returncode == 0, second.stderr[-3000:]
    again = {r["id"] for r in second.records["inventory_history"]}
    assert set(inserted) <= again
    assert len(again) < len(emitted) // 2, "the second run should start from each bookmark"


def test_inventory_history_ids_fall_back_to_listed_entities_with_a_warning(
    sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(sim)  # no history_activity_ids / history_status_ids
    catalog = select_streams(discover_catalog(tmp_path, config), {"inventory_history"})
    config["metrics_log_level"] = "INFO"  # the request metrics, to read their 404 tags

    sim.clear_request_log()
    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    assert {r["id"] for r in run.records["inventory_history"]} == _history_ids(sim)
    assert "history_activity_ids not set" in run.stderr
    assert "Oracle does not document" in run.stderr
    index = [r for r in sim.request_log() if r["path"].endswith("/lgfapi/v10/entity/")]
    assert len(index) == 1, "both fallbacks read the entity index, once a run"
    partitions = run.last_state["bookmarks"]["inventory_history"]["partitions"]
    read = {(p["context"]["history_activity_id"], p["context"]["status_id"]) for p in partitions}
    assert {s for _, s in read} == {str(s) for s in STATUS_IDS}, "container_status's 0 too"
    assert {a for a, _ in read} == {str(a) for a in ACTIVITY_IDS}
    declared = set(run.schemas["inventory_history"]["properties"])
    undeclared = {k for r in run.records["inventory_history"] for k in r} - declared
    assert not undeclared, f"record fields the SCHEMA does not declare: {undeclared}"
    timers = [
        json.loads(line.split("METRIC: ", 1)[1])
        for line in run.stderr.splitlines()
        if '"http_request_duration"' in line
    ]
    empty = [m for m in timers if m["tags"]["http_status_code"] == 404]
    assert empty and all(m["tags"]["status"] == "succeeded" for m in empty), "404: empty list"
    done = [line for line in run.stderr.splitlines() if "Entity 'inventory_history' " in line]
    rows, lists, full = len(run.records["inventory_history"]), len(partitions), len(empty)
    assert len(done) == 1, "one line for the stream, not one per list"
    starts = [line for line in run.stderr.splitlines() if "Starting incremental sync" in line]
    assert not starts, "the SDK's line per list is DEBUG"
    assert f"done: {rows} records from {lists} lists ({lists - full} with records," in done[0]


def test_a_configured_history_id_the_wms_does_not_list_is_named(
    sim: Simulator, tmp_path: Path
) -> None:
    """history is read only for the ids given: a mistyped one would read nothing unnoticed."""
    config = tap_config(sim, history_activity_ids=[*ACTIVITY_IDS, 999], history_status_ids=[10, 77])
    catalog = select_streams(discover_catalog(tmp_path, config), {"inventory_history"})

    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    warned = [line for line in run.stderr.splitlines() if "not among the ids" in line]
    assert len(warned) == 2, run.stderr[-3000:]
    said = "\n".join(warned)
    assert "history_activity_ids: 999 not among the ids of entity 'history_activity'" in said
    assert "history_status_ids: 77 not among the ids of entity 'container_status'" in said
    good = tap_config(sim, history_activity_ids=ACTIVITY_IDS, history_status_ids=STATUS_IDS)
    quiet = run_tap(tmp_path, good, catalog=catalog)
    assert quiet.returncode == 0, quiet.stderr[-3000:]
    assert "not among the ids" not in quiet.stderr


def _force_full_table(catalog: dict[str, Any], entity: str) -> dict[str, Any]:
    """What `meltano.yml` metadata `replication-method: FULL_TABLE` does to a catalog entry."""
    entry = _entry(catalog, entity)
    entry["replication_method"] = "FULL_TABLE"
    _root_metadata(entry)["forced-replication-method"] = "FULL_TABLE"
    return catalog


def test_full_table_reads_id_ranges_in_parallel_and_every_row_once(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_sim, page_size=100, max_parallel_requests=4)
    catalog = _force_full_table(
        select_streams(discover_catalog(tmp_path, config), {"inventory"}), "inventory"
    )
    fresh_sim.clear_request_log()
    fresh_sim.start_churn("inventory", per_second=100, updates=True, inserts=False)
    try:
        run = run_tap(tmp_path, config, catalog=catalog)
    finally:
        fresh_sim.stop_churn()

    assert run.returncode == 0, run.stderr[-3000:]
    ids = [r["id"] for r in run.records["inventory"]]
    assert len(ids) == len(set(ids)), "a row was read twice"
    assert set(ids) == {r["id"] for r in all_records(fresh_sim, "inventory")}
    ranged = [r for r in fresh_sim.request_log() if "id__range" in r.get("query", "")]
    assert len(ranged) >= 16, "expected several id ranges read side by side"
    assert "full table in" in run.stderr


def test_one_request_at_a_time_when_parallelism_is_off(sim: Simulator, tmp_path: Path) -> None:
    config = tap_config(sim, page_size=200, max_parallel_requests=1)
    catalog = _force_full_table(
        select_streams(discover_catalog(tmp_path, config), {"order_dtl"}), "order_dtl"
    )
    sim.clear_request_log()

    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.records["order_dtl"]) == result_count(sim, "order_dtl")
    assert not [r for r in sim.request_log() if "id__range" in r.get("query", "")]


def test_stream_maps_apply_to_records_and_schema(sim: Simulator, tmp_path: Path) -> None:
    config = tap_config(
        sim,
        stream_maps={
            "item": {"description": "__NULL__", "code_lower": "code.lower()"},
        },
    )
    catalog = select_streams(discover_catalog(tmp_path, config), {"item"})

    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "description" not in run.schemas["item"]["properties"]
    assert "code_lower" in run.schemas["item"]["properties"]
    for row in run.records["item"]:
        assert "description" not in row
        assert row["code_lower"] == row["code"].lower()


def test_a_field_the_wms_adds_later_is_reported_then_loaded_after_rediscovery(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_sim)
    old_catalog = select_streams(discover_catalog(tmp_path, config), {"item"})
    first = run_tap(tmp_path, config, catalog=old_catalog)
    assert first.returncode == 0, first.stderr[-3000:]

    fresh_sim.add_field("item", "cust_field_9", "string", max_length=50, default="added-later")
    fresh_sim.update_records("item", 3, same_mod_ts=True)  # rows with the field, to be read
    stale = run_tap(tmp_path, config, catalog=old_catalog, state=first.last_state)

    assert stale.returncode == 0, stale.stderr[-3000:]
    assert stale.records["item"], "rows changed since are read"
    assert "cust_field_9" in stale.stderr, "a field the catalog lacks must be reported"
    assert all("cust_field_9" not in row for row in stale.records["item"])

    new_catalog = select_streams(discover_catalog(tmp_path, config), {"item"})
    added = _entry(new_catalog, "item")["schema"]["properties"]["cust_field_9"]
    assert added == {"type": ["string", "null"]}, "describe's max_length binds writes, not reads"
    fresh = run_tap(tmp_path, config, catalog=new_catalog)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert {row["cust_field_9"] for row in fresh.records["item"]} == {"added-later"}


def test_a_small_full_table_entity_costs_one_request(sim: Simulator, tmp_path: Path) -> None:
    config = tap_config(sim, max_parallel_requests=4)
    catalog = select_streams(discover_catalog(tmp_path, config), {"order_status"})
    sim.clear_request_log()

    run = run_tap(tmp_path, config, catalog=catalog)
    lists = [r for r in sim.request_log() if r["path"].endswith("/entity/order_status/")]

    assert run.returncode == 0, run.stderr[-3000:]
    assert len(lists) == 1
    assert len(run.records["order_status"]) == result_count(sim, "order_status")
