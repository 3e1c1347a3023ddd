"""The dbt project in transform/ (issue 17), through Meltano's dbt utilities, on DuckDB and
PostgreSQL: `meltano run tap-oracle-wms target-<db> dbt-<db>:build` after the first load and after
an incremental run with churn, a wave, picks, a shipment and a receipt, the marts checked against
what Oracle's definitions give on the simulator's own records (tests/wms_truth.py, read over
HTTP, never through the models under test)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from oracle_wms_sim import Simulator
from tests import wms_truth
from tests.conftest import BIN, PG, ROOT, all_records, meltano, meltano_env

AS_OF = "2026-01-05"  # the simulator's history ends here; pinned so lateness does not move


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


ON_HAND_SQL = (
    "select facility_code, item_code, location_type_code, on_hand_qty, available_qty from {}"
)
OPEN_SQL = (
    "select facility_code, count(*), sum(case when is_late then 1 else 0 end), sum(ord_qty), "
    "sum(alloc_qty) from {} group by facility_code"
)


STAGED_ORDERS_SQL = "select order_id, create_ts, req_ship_date, total_orig_ord_qty from {}"


def _assert_typed_like_the_api(sim: Simulator, staged: list[tuple[Any, ...]]) -> None:
    """Staging holds the API's values: the instant (aware), the date, the exact decimal."""
    expected = {
        order["id"]: (
            datetime.fromisoformat(order["create_ts"]),
            date.fromisoformat(order["req_ship_date"]) if order["req_ship_date"] else None,
            Decimal(order["total_orig_ord_qty"]),
        )
        for order in all_records(sim, "order_hdr")
    }
    assert len(staged) == len(expected)
    for order_id, created, req_ship, qty in staged:
        assert created.tzinfo is not None, "create_ts has no time zone"
        assert (created, req_ship, qty) == expected[order_id], order_id
        assert str(qty) == str(expected[order_id][2]), f"{order_id}: {qty} is not exact"


def _churn(sim: Simulator) -> None:
    """WMS activity between two runs: stock changes and new stock, orders changed and added,
    new inventory history (appended), receipts on ASN lines."""
    for entity in ("inventory", "order_hdr", "order_dtl"):
        sim.update_records(entity, 40, same_mod_ts=True)
        sim.insert_records(entity, 15, same_mod_ts=True)
    sim.insert_records("inventory_history", 24, same_mod_ts=True)
    sim.update_records("ib_shipment_dtl", 20, same_mod_ts=False)
    sim.update_records("allocation", 20, same_mod_ts=True)
    _operate(sim)


def _operate(sim: Simulator) -> None:
    """The warehouse at work through the API: a template wave in F1, two of its allocations
    picked into outbound LPNs and closed (Packed), one of them shipped, and a receipt into a new
    IBLPN against an In Transit ASN."""
    with requests.Session() as http:
        http.auth = (sim.username, sim.password)

        def post(path: str, body: dict[str, Any], status: int = 200) -> Any:
            response = http.post(f"{sim.api_url}{path}", json=body)
            assert response.status_code == status, response.text
            return response.json() if response.content else None

        f1 = {"facility_id__code": "F1", "company_id__code": "C1"}
        run = post(
            "entity/wave_template/run_template/",
            {"parameters": {"facility_id__code": "F1", "template_name": "TPL-F1-ALL"}},
            202,
        )
        deadline = time.monotonic() + 60
        while True:
            (wave,) = all_records(sim, "wave", run_nbr=run["run_nbr"], facility_id__code="F1")
            if wave["status_id"] == 90:
                break
            assert time.monotonic() < deadline, "the wave did not complete"
            time.sleep(0.1)
        allocations = all_records(sim, "allocation", wave_id=wave["id"])
        assert len(allocations) >= 2, "the wave allocated too little to pick"
        for n, alloc in enumerate(allocations[:2]):
            lpn = f"OB-MART-{n}"
            common = {**f1, "async_flg": False, "to_container_nbr": lpn}
            post(
                "pick_pack/pick_confirm/",
                {
                    **common,
                    "action_code": "Pick",
                    "qty": alloc["alloc_qty"],
                    "order_nbr": alloc["order_dtl_id"]["key"].rsplit("-", 1)[0],
                    "item_barcode": alloc["item_id"]["key"],
                    "pick_location": alloc["from_location_id"]["key"],
                },
                204,
            )
            post("pick_pack/pick_confirm/", {**common, "action_code": "Close"}, 204)
        post(
            "entity/oblpn/bulk_ship/",
            {
                "parameters": {**f1, "container_nbr__in": ["OB-MART-0"]},
                "options": {"locn_barcode": allocations[0]["from_location_id"]["key"]},
            },
        )
        asn = all_records(sim, "ib_shipment", facility_id=1, status_id=0)[0]
        line = all_records(sim, "ib_shipment_dtl", shipment_id=asn["id"])[0]
        post(
            "entity/iblpn/receive",
            {
                **f1,
                "shipment_nbr": asn["shipment_nbr"],
                "container_nbr": "IB-MART-1",
                "item_list": [{"item_barcode": line["item_id"]["key"], "qty": "7"}],
            },
        )


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
                where = "analytics_staging" if name.startswith("stg_") else "analytics"
                return db.execute(sql.format(f"{where}.{name}")).fetchall()
        psycopg = pytest.importorskip("psycopg")
        where = f"{schema}_staging" if name.startswith("stg_") else schema
        with psycopg.connect(**PG) as conn:
            return conn.execute(sql.format(f'"{where}".{name}')).fetchall()

    on_hand: list[dict[wms_truth.Key, tuple[Decimal, Decimal]]] = []
    for run in range(2):
        if run:
            _churn(fresh_sim)
        output = meltano(
            tmp_path,
            "run",
            "tap-oracle-wms",
            f"target-{database}",
            f"dbt-{database}:build",
            env=env,
        )
        assert "Completed successfully" in output
        if not run:
            _assert_typed_like_the_api(fresh_sim, mart("stg_wms__order_hdr", STAGED_ORDERS_SQL))

        loaded = {
            (f, i, t): (Decimal(q), Decimal(a))
            for f, i, t, q, a in mart("mart_inventory_on_hand", ON_HAND_SQL)
        }
        assert loaded, "the on-hand mart is empty"
        assert loaded == wms_truth.on_hand(fresh_sim)
        on_hand.append(loaded)
        open_orders = {
            f: (int(n), int(late), Decimal(o), Decimal(a))
            for f, n, late, o, a in mart("mart_open_orders", OPEN_SQL)
        }
        assert open_orders == wms_truth.open_orders(fresh_sim, date.fromisoformat(AS_OF))
    assert on_hand[0] != on_hand[1], "the churn changed no on-hand quantity"


def test_staging_keeps_the_latest_version_and_dbt_tests_catch_broken_rows(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Rows a loader appended instead of merging are deduplicated on id, newest mod_ts first;
    an order line whose order does not exist fails the build (a relationships test)."""
    db_path = tmp_path / "wms.duckdb"
    env = {
        **_env(fresh_sim, tmp_path),
        "TARGET_DUCKDB_FILEPATH": str(db_path),
        "DBT_DUCKDB_PATH": str(db_path),
    }
    meltano(tmp_path, "run", "tap-oracle-wms", "target-duckdb", env=env)
    with duckdb.connect(str(db_path)) as db:
        newer, older = (
            row[0]
            for row in db.execute(
                "select id from oracle_wms.order_hdr where status_id not in (90, 99) "
                "order by id limit 2"
            ).fetchall()
        )
        loaded_status = db.execute(
            "select status_id from oracle_wms.order_hdr where id = ?", [older]
        ).fetchone()
        # The table as a loader that appends (no primary key) leaves it.
        db.execute("create table oracle_wms.order_hdr_appended as from oracle_wms.order_hdr")
        db.execute("drop table oracle_wms.order_hdr")
        db.execute("alter table oracle_wms.order_hdr_appended rename to order_hdr")
        db.execute(  # a later version: cancelled a day after the loaded one
            "insert into oracle_wms.order_hdr select * replace (99 as status_id, "
            "mod_ts + interval 1 day as mod_ts) from oracle_wms.order_hdr where id = ?",
            [newer],
        )
        db.execute(  # an earlier version: must not win
            "insert into oracle_wms.order_hdr select * replace (99 as status_id, "
            "mod_ts - interval 1 day as mod_ts) from oracle_wms.order_hdr where id = ?",
            [older],
        )
        db.execute(
            "insert into oracle_wms.order_dtl select * replace (id + 1000000 as id, "
            "999999999 as order_id) from oracle_wms.order_dtl order by id limit 1"
        )
    proc = subprocess.run(
        [str(BIN / "meltano"), "invoke", "dbt-duckdb:build"],
        cwd=ROOT,
        env=meltano_env(tmp_path, env),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert "FAIL 1 wms_relationships_stg_wms__order_dtl_order_id" in output, output[-3000:]
    assert "PASS unique_stg_wms__order_hdr_order_id" in output, output[-3000:]
    with duckdb.connect(str(db_path), read_only=True) as db:
        staged = dict(
            db.execute(
                "select order_id, order_status_id from analytics_staging.stg_wms__order_hdr "
                "where order_id in (?, ?)",
                [newer, older],
            ).fetchall()
        )
    assert loaded_status is not None
    assert staged == {newer: 99, older: loaded_status[0]}
