"""The dbt project in transform/ (issue 17), through Meltano's dbt utilities, on DuckDB and
PostgreSQL: `meltano run tap-oracle-wms target-<db> dbt-<db>:build` after the first load and after
an incremental run with churn, the marts checked against the simulator's own records (read over
HTTP, never through the models under test)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from oracle_wms_sim import Simulator
from tests.conftest import PG, all_records, meltano

AS_OF = "2026-01-05"  # the simulator's history ends here; pinned so lateness does not move
CLOSED_ORDER_STATUSES = {90, 99}  # Shipped, Cancelled (docs/simulator.md, order_status)


def _env(sim: Simulator, tmp_path: Path) -> dict[str, str]:
    return {
        "TAP_ORACLE_WMS_BASE_URL": sim.base_url,
        "TAP_ORACLE_WMS_USERNAME": sim.username,
        "TAP_ORACLE_WMS_PASSWORD": sim.password,
        "WMS_AS_OF_DATE": AS_OF,
        # This run's own compiled SQL and logs (the project's transform/target stays untouched).
        "DBT_DUCKDB_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_DUCKDB_LOG_PATH": str(tmp_path / "dbt-logs"),
        "DBT_POSTGRES_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_POSTGRES_LOG_PATH": str(tmp_path / "dbt-logs"),
    }


def _on_hand_truth(sim: Simulator) -> dict[tuple[str, str, str], Decimal]:
    """On hand per (facility, item, location type) from the simulator's inventory and location
    records: curr_qty summed, NO_LOCATION for inventory in no location."""
    location_types = {
        loc["id"]: loc["location_type_id"]["key"] for loc in all_records(sim, "location")
    }
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in all_records(sim, "inventory"):
        location = row["location_id"]
        kind = location_types[location["id"]] if location else "NO_LOCATION"
        key = (row["facility_id"]["key"], row["item_id"]["key"], kind)
        totals[key] += Decimal(row["curr_qty"])
    return dict(totals)


def _open_orders_truth(sim: Simulator) -> dict[str, tuple[int, int]]:
    """Per facility: orders neither Shipped nor Cancelled, and how many of them are past their
    req_ship_date on AS_OF."""
    as_of = date.fromisoformat(AS_OF)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in all_records(sim, "order_hdr"):
        if order["status_id"] in CLOSED_ORDER_STATUSES:
            continue
        facility = counts[order["facility_id"]["key"]]
        facility[0] += 1
        req = order["req_ship_date"]
        facility[1] += bool(req and date.fromisoformat(req) < as_of)
    return {code: (n, late) for code, (n, late) in counts.items()}


ON_HAND_SQL = "select facility_code, item_code, location_type_code, on_hand_qty from {}"
OPEN_SQL = (
    "select facility_code, count(*), sum(case when is_late then 1 else 0 end) from {} "
    "group by facility_code"
)


def _churn(sim: Simulator) -> None:
    """WMS activity between two runs: stock changes and new stock, orders changed and added,
    new inventory history (appended), receipts on ASN lines."""
    for entity in ("inventory", "order_hdr", "order_dtl"):
        sim.update_records(entity, 40, same_mod_ts=True)
        sim.insert_records(entity, 15, same_mod_ts=True)
    sim.insert_records("inventory_history", 24, same_mod_ts=True)
    sim.update_records("ib_shipment_dtl", 20, same_mod_ts=False)
    sim.update_records("allocation", 20, same_mod_ts=True)


@pytest.fixture
def pg_marts(pg_schema: str) -> Iterator[str]:
    """pg_schema for the loaded tables and the marts; dbt's staging schema dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    try:
        yield pg_schema
    finally:
        with psycopg.connect(**PG, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{pg_schema}_staging" CASCADE')


@pytest.mark.parametrize("database", ["duckdb", "postgres"])
def test_dbt_build_after_load_and_after_churn_matches_the_wms(
    database: str, fresh_sim: Simulator, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = _env(fresh_sim, tmp_path)
    db_path = tmp_path / "wms.duckdb"
    schema = ""
    if database == "duckdb":
        env |= {"TARGET_DUCKDB_FILEPATH": str(db_path), "DBT_DUCKDB_PATH": str(db_path)}
    else:
        schema = request.getfixturevalue("pg_marts")
        env |= {
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
            "DBT_POSTGRES_SOURCE_SCHEMA": schema,
            "DBT_POSTGRES_SCHEMA": schema,
        }

    def mart(name: str, sql: str) -> list[tuple[Any, ...]]:
        if database == "duckdb":
            with duckdb.connect(str(db_path), read_only=True) as db:
                return db.execute(sql.format(f"analytics.{name}")).fetchall()
        psycopg = pytest.importorskip("psycopg")
        with psycopg.connect(**PG) as conn:
            return conn.execute(sql.format(f'"{schema}".{name}')).fetchall()

    on_hand: list[dict[tuple[str, str, str], Decimal]] = []
    for run in range(2):
        if run:
            _churn(fresh_sim)
        output = meltano(
            tmp_path, "run", "tap-oracle-wms", f"target-{database}", f"dbt-{database}:build", env=env
        )
        assert "Completed successfully" in output

        loaded = {
            (f, i, t): Decimal(q) for f, i, t, q in mart("mart_inventory_on_hand", ON_HAND_SQL)
        }
        assert loaded, "the on-hand mart is empty"
        assert loaded == _on_hand_truth(fresh_sim)
        on_hand.append(loaded)
        open_orders = {f: (int(n), int(late)) for f, n, late in mart("mart_open_orders", OPEN_SQL)}
        assert open_orders == _open_orders_truth(fresh_sim)
    assert on_hand[0] != on_hand[1], "the churn changed no on-hand quantity"
