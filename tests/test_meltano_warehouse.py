"""The user's path end to end, on the suite's one shared warehouse (tests/warehouse.py): `meltano
run tap-oracle-wms target-<db> dbt-<db>:build` on DuckDB and PostgreSQL, after the first load,
and after a scheduled run that follows churn, a wave, picks, a shipment and a receipt (issue 17)
and rows leaving the WMS every way they can (issue 25; issue 26 item 3, "deleted upstream, gone
in the marts"). Loaded tables are checked against the simulator's API; every mart, every row and
column, against tests/wms_truth.py, which computes them from the simulator's own records read
over HTTP, never through the models under test.

The tests run in phase order (file order): each calls `warehouse.at(phase)`."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import all_records, api_get, result_count
from tests.warehouse import CHURNED, DATABASES, SELECTED, Warehouse

pytestmark = pytest.mark.parametrize("database", DATABASES)


def _count(sim: Simulator, entity: str) -> int:
    """The simulator's row count of an entity; inventory_history lists need lgfapi's filters
    (one list per company, facility, activity and status), so its count is the simulator's own
    (`Simulator.result_count`, read from its store)."""
    if entity != "inventory_history":
        return result_count(sim, entity)
    return sim.result_count(entity)


# loaded ---------------------------------------------------------------------------------------


def test_the_first_load_holds_every_selected_entity(warehouse: Warehouse, database: str) -> None:
    warehouse.at("loaded")
    assert "Completed successfully" in warehouse.outputs[database]
    assert len(SELECTED) >= 15
    sim = warehouse.sim
    for entity in SELECTED:
        (row,) = warehouse.query(
            database, f"select count(*) as n, count(distinct id) as ids from raw.{entity}"
        )
        assert (row["n"], row["ids"]) == (_count(sim, entity),) * 2, entity
    (joined,) = warehouse.query(
        database,
        "select count(*) as n from raw.order_dtl d join raw.order_hdr h "
        "on d.order_id = h.id and d.order_id_key = h.order_nbr",
    )
    assert joined["n"] == result_count(sim, "order_dtl")


def test_staging_is_typed_like_the_api(warehouse: Warehouse, database: str) -> None:
    """Staging holds the API's values: the instant (aware), the date, the exact decimal."""
    warehouse.at("loaded")
    staged = warehouse.query(
        database,
        "select order_id, create_ts, req_ship_date, total_orig_ord_qty "
        "from staging.stg_wms__order_hdr",
    )
    expected = {
        order["id"]: (
            datetime.fromisoformat(order["create_ts"]),
            date.fromisoformat(order["req_ship_date"]) if order["req_ship_date"] else None,
            Decimal(order["total_orig_ord_qty"]),
        )
        for order in all_records(warehouse.sim, "order_hdr")
    }
    assert len(staged) == len(expected)
    for row in staged:
        order_id, created = row["order_id"], row["create_ts"]
        qty = row["total_orig_ord_qty"]
        assert created.tzinfo is not None, "create_ts has no time zone"
        assert (created, row["req_ship_date"], qty) == expected[order_id], order_id
        assert str(qty) == str(expected[order_id][2]), f"{order_id}: {qty} is not exact"


def test_after_the_first_load_every_mart_matches_the_wms(
    warehouse: Warehouse, database: str
) -> None:
    warehouse.at("loaded")
    warehouse.assert_marts_match_the_wms(database)


# changed: churn and deletes, then a scheduled run ----------------------------------------


def _expected_rows(sim: Simulator, entity: str) -> dict[int, dict[str, Any]]:
    """The simulator's records as a loader should hold them (written from the API guide)."""
    fields = api_get(sim, f"entity/{entity}/describe/").json()["fields"]
    rows: dict[int, dict[str, Any]] = {}
    for record in all_records(sim, entity):
        row: dict[str, Any] = {}
        for name, value in record.items():
            kind = fields[name]["type"]
            if kind == "child_set":
                continue
            if kind == "foreign_key":
                row[name] = value["id"] if value else None
                row[f"{name}_key"] = str(value["key"]) if value else None
            elif value is None:
                row[name] = None
            elif kind == "decimal":
                row[name] = Decimal(value)
            elif kind == "datetime":
                row[name] = datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
            elif kind == "date":
                row[name] = date.fromisoformat(value)
            else:
                row[name] = value
        rows[record["id"]] = row
    return rows


def _assert_same_contents(
    expected: dict[int, dict[str, Any]], loaded: list[dict[str, Any]], entity: str, where: str
) -> None:
    assert len(loaded) == len(expected), f"{where}.{entity}: row count"
    for row in loaded:
        want = expected[row["id"]]
        for name, value in want.items():
            got = row[name]
            if isinstance(value, Decimal) and isinstance(got, float):
                got = Decimal(str(got)).quantize(value)  # DuckDB's target stores doubles
            elif isinstance(value, date) and isinstance(got, str):
                got = date.fromisoformat(got)  # ... and dates as text
            assert got == value, (
                f"{where}.{entity} id {row['id']} field {name}: {got!r} != {value!r}"
            )


def test_a_scheduled_run_after_churn_loads_exactly_the_wms(
    warehouse: Warehouse, database: str
) -> None:
    """The second run is incremental (from the saved state), merges on the primary key, and
    leaves the churned tables' live rows equal to the WMS, field by field; the rows no longer in
    the WMS (the deleted ones, and the lines of deleted orders) are the ones marked deleted
    (`_sdc_deleted_at`)."""
    warehouse.at("changed")
    assert "Completed successfully" in warehouse.outputs[database]  # dbt's tests pass too
    for entity in CHURNED:
        expected = _expected_rows(warehouse.sim, entity)
        loaded = warehouse.query(database, f"select * from raw.{entity}")
        live = [row for row in loaded if row["_sdc_deleted_at"] is None]
        _assert_same_contents(expected, live, entity, database)
        marked = {int(row["id"]) for row in loaded if row["_sdc_deleted_at"] is not None}
        assert marked == {int(row["id"]) for row in loaded} - expected.keys(), entity
        assert warehouse.deleted.get(entity, set()) <= marked, entity
    (orders,) = warehouse.query(
        database,
        "select count(*) as n, count(distinct id) as ids from raw.order_hdr "
        "where _sdc_deleted_at is null",
    )
    assert (orders["n"], orders["ids"]) == (result_count(warehouse.sim, "order_hdr"),) * 2


def test_rows_deleted_in_the_wms_leave_staging(warehouse: Warehouse, database: str) -> None:
    warehouse.at("changed")
    keys = {
        "order_hdr": "order_id",
        "inventory": "inventory_id",
        "location_type": "location_type_id",
    }
    for name, ids in warehouse.deleted.items():
        staged = {
            int(row["id"])
            for row in warehouse.query(
                database, f"select {keys[name]} as id from staging.stg_wms__{name}"
            )
        }
        assert ids, name
        assert not staged & ids, name
        assert staged == {r["id"] for r in all_records(warehouse.sim, name)}, name


def test_with_hard_delete_off_the_loaders_keep_deleted_rows_marked(
    warehouse: Warehouse, database: str
) -> None:
    """README's loader table, for target-postgres and target-duckdb as configured (hard_delete
    off): an order deleted in the WMS (incremental: `_sdc_deleted_at`) and a code-table row
    (location_type, full table: ACTIVATE_VERSION, and the id missing from the full read) stay,
    marked deleted; target-postgres keeps the marked row's key and nulls its other columns.
    (tests/test_meltano_deletes.py: hard_delete on, and target-jsonl.)"""
    warehouse.at("changed")
    for entity in ("order_hdr", "location_type"):
        loaded = {
            int(row["id"]): row["gone"]
            for row in warehouse.query(
                database, f"select id, _sdc_deleted_at is not null as gone from raw.{entity}"
            )
        }
        live = {row["id"] for row in all_records(warehouse.sim, entity)}
        deleted = warehouse.deleted[entity]
        assert loaded == dict.fromkeys(live, False) | dict.fromkeys(deleted, True), entity
    if database == "postgres":
        kept = warehouse.query(
            database,
            "select count(order_nbr) as n from raw.order_hdr where _sdc_deleted_at is not null",
        )
        assert kept == [{"n": 0}]


def test_after_churn_and_deletes_every_mart_matches_the_wms(
    warehouse: Warehouse, database: str
) -> None:
    """Every mart measure after the warehouse worked and with deleted orders, deleted and
    emptied inventory, a deleted code and purged history (issue 26 item 3)."""
    warehouse.at("changed")
    warehouse.assert_marts_match_the_wms(database)
    seen = warehouse.on_hand_seen
    assert seen[("loaded", database)] != seen[("changed", database)], "no on hand changed"
