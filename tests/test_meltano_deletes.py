"""Deletes end to end through real Meltano (issue 25): rows deleted in the simulator (orders by a
stage DELETE, inventory, a code-table row, purged history) leave the warehouse after the next
`meltano run tap-oracle-wms target-<db> dbt-<db>:build`, and the marts no longer count them. The
expected figures come from the simulator's API (its store for inventory_history, which lgfapi
lists only under required filters), never from the loaded rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests

from oracle_wms_sim import Simulator
from tests import wms_truth
from tests.conftest import PG, all_records, meltano, pg_rows
from tests.test_dbt import AS_OF, _env, pg_marts  # noqa: F401 (a fixture)
from tests.test_simulator_writes import adjust, location_id


def _stage_delete(sim: Simulator, count: int) -> set[int]:
    """Delete `count` Created orders of facility F1 through the stage interface, as the target's
    stage sink does (POST stage/order/, action_code DELETE); their ids."""
    http = requests.Session()
    http.auth = (sim.username, sim.password)
    (status,) = [s["id"] for s in all_records(sim, "order_status") if s["code"] == "CREATED"]
    created = [
        o
        for o in all_records(sim, "order_hdr", facility_id__code="F1", status_id=str(status))
        if o["company_id"]["key"] == "C1"
    ][:count]
    assert len(created) == count
    body = {
        "async_flg": False,
        "header": {
            "document_version": "25D",
            "origin_system": "tests",
            "entity": "order",
            "messageid": "deletes-1",
            "facility_code": "F1",
            "company_code": "C1",
        },
        "stage_order_list": [
            {"action_code": "DELETE", "order_nbr": o["order_nbr"]} for o in created
        ],
    }
    answer = http.post(f"{sim.api_url}stage/order/", json=body)
    assert answer.status_code == 200, answer.text
    gone = {o["id"] for o in created}
    assert not {o["id"] for o in all_records(sim, "order_hdr")} & gone
    return gone


def _delete_in_the_wms(sim: Simulator) -> dict[str, set[int]]:
    """Every way a row leaves: stage DELETE, inventory emptied (with the undocumented reading on)
    and deleted, a location type the locations name, and the scheduled purge."""
    orders = _stage_delete(sim, 5)
    sim.set_undocumented(zero_inventory_removed=True)
    http = requests.Session()
    http.auth = (sim.username, sim.password)
    emptied = set()
    for nth in range(2):
        barcode, item, qty = sim.active_location_with_inventory("F1", nth=nth)
        loc = location_id(http, sim, barcode, "F1")
        answer = adjust(http, sim, loc, item_code=item, adjustment_qty=f"-{qty}", reason_code="CC")
        assert answer.status_code == 200, answer.text
        emptied.add(answer.json()["inventory_id"])
    inventory = emptied | set(sim.delete_records("inventory", 3))
    used = all_records(sim, "location")[0]["location_type_id"]["id"]
    with sim.store.transaction() as conn:
        sim.store.remove_rows(conn, "location_type", [used])
    purged = set(sim.purge(retention_years=1)["inventory_history"])
    assert purged
    return {"order_hdr": orders, "inventory": inventory, "location_type": {used}}


ON_HAND_TOTAL = "select sum(inventory_rows), sum(on_hand_qty) from {}"
OPEN_SQL = (
    "select facility_code, count(*), sum(case when is_late then 1 else 0 end) from {} "
    "group by facility_code"
)


@pytest.mark.parametrize("database", ["postgres", "duckdb"])
def test_rows_deleted_in_the_wms_leave_staging_and_the_marts(
    database: str, fresh_sim: Simulator, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    env = _env(fresh_sim, tmp_path) | {
        "TAP_ORACLE_WMS_DELETE_SWEEP_INTERVAL": "0",
        "TAP_ORACLE_WMS_PURGED_HISTORY": "delete",
    }
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
    query = _query(database, db_path, schema)
    run = ("run", "tap-oracle-wms", f"target-{database}", f"dbt-{database}:build")
    assert "Completed successfully" in meltano(tmp_path, *run, env=env)
    deleted = _delete_in_the_wms(fresh_sim)

    assert "Completed successfully" in meltano(tmp_path, *run, env=env)  # tests pass too

    truth = wms_truth.on_hand(fresh_sim)  # by Oracle's definition, from the WMS's rows
    rows, qty = query("mart_inventory_on_hand", ON_HAND_TOTAL)[0]
    assert (int(rows), Decimal(qty)) == (
        wms_truth.inventory_rows(fresh_sim),
        sum(held for held, _ in truth.values()),
    )
    opened = {f: (int(n), int(late)) for f, n, late in query("mart_open_orders", OPEN_SQL)}
    open_truth = wms_truth.open_orders(fresh_sim, date.fromisoformat(AS_OF))
    assert opened == {f: (n, late) for f, (n, late, _, _) in open_truth.items()}
    keys = {
        "order_hdr": "order_id",
        "inventory": "inventory_id",
        "location_type": "location_type_id",
    }
    staged = {
        name: {int(i) for (i,) in query(f"stg_wms__{name}", f"select {key} from {{}}")}
        for name, key in keys.items()
    }
    for name, ids in deleted.items():
        assert not staged[name] & ids, name
        assert staged[name] == {r["id"] for r in all_records(fresh_sim, name)}, name
    moved = query("mart_daily_inventory_movements", "select sum(history_rows) from {}")[0][0]
    assert int(moved) == fresh_sim.result_count("inventory_history")


def _query(database: str, db_path: Path, schema: str) -> Callable[[str, str], list[Any]]:
    def query(name: str, sql: str) -> list[Any]:
        if database == "duckdb":
            with duckdb.connect(str(db_path), read_only=True) as db:
                where = "analytics_staging" if name.startswith("stg_") else "analytics"
                return db.execute(sql.format(f"{where}.{name}")).fetchall()
        psycopg = pytest.importorskip("psycopg")
        where = f"{schema}_staging" if name.startswith("stg_") else schema
        with psycopg.connect(**PG) as conn:
            return conn.execute(sql.format(f'"{where}".{name}')).fetchall()

    return query


LOADERS = [
    ("target-postgres", False),
    ("target-postgres", True),
    ("target-duckdb", False),
    ("target-duckdb", True),
    ("target-jsonl", False),
]


@pytest.mark.parametrize(("loader", "hard_delete"), LOADERS)
def test_what_each_loader_does_with_a_delete(
    loader: str,
    hard_delete: bool,
    fresh_sim: Simulator,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """The README's loader table: an order deleted (incremental: `_sdc_deleted_at`) and a code
    table row deleted (full table: ACTIVATE_VERSION, and the id missing from the full read)."""
    env = {
        **_env(fresh_sim, tmp_path),
        "TAP_ORACLE_WMS_ENTITIES": '["order_hdr", "order_type"]',
        "TAP_ORACLE_WMS__SELECT": '["order_hdr.*", "order_type.*"]',
        "TAP_ORACLE_WMS_DELETE_SWEEP_INTERVAL": "0",
    }
    schema = ""
    db_path = tmp_path / "wms.duckdb"
    jsonl = tmp_path / "jsonl"
    if loader == "target-postgres":
        schema = request.getfixturevalue("pg_schema")
        env |= {"TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema}
        env |= {"TARGET_POSTGRES_HARD_DELETE": str(hard_delete).lower()}
    elif loader == "target-duckdb":
        env |= {"TARGET_DUCKDB_FILEPATH": str(db_path)}
        env |= {"TARGET_DUCKDB_HARD_DELETE": str(hard_delete).lower()}
    else:
        jsonl.mkdir()
        env |= {"TARGET_JSONL_DESTINATION_PATH": str(jsonl)}
    meltano(tmp_path, "run", "tap-oracle-wms", loader, env=env)
    orders = set(fresh_sim.delete_records("order_hdr", 3))
    codes = set(fresh_sim.delete_records("order_type", 1))
    meltano(tmp_path, "run", "tap-oracle-wms", loader, env=env)
    live_orders = {r["id"] for r in all_records(fresh_sim, "order_hdr")}
    live_codes = {r["id"] for r in all_records(fresh_sim, "order_type")}

    def loaded(table: str) -> dict[int, bool]:
        """id -> marked deleted, as the loader left the table."""
        sql = f"select id, _sdc_deleted_at is not null from {table}"
        if loader == "target-postgres":
            return {int(i): bool(d) for i, d in pg_rows(schema, sql)}
        with duckdb.connect(str(db_path), read_only=True) as db:
            return {
                int(i): bool(d)
                for i, d in db.execute(sql.replace(table, f"oracle_wms.{table}")).fetchall()
            }

    if loader == "target-jsonl":
        lines = [json.loads(x) for x in (jsonl / "order_hdr.jsonl").read_text().splitlines()]
        marked = {r["id"] for r in lines if r.get("_sdc_deleted_at")}
        assert marked == orders  # appended: one more line per deleted id
        code_lines = [json.loads(x) for x in (jsonl / "order_type.jsonl").read_text().splitlines()]
        assert {r["id"] for r in code_lines if r.get("_sdc_deleted_at")} == codes
        return
    order_rows, code_rows = loaded("order_hdr"), loaded("order_type")
    expected_orders = _expected(loader, hard_delete, live_orders, orders)
    expected_codes = _expected(loader, hard_delete, live_codes, codes)
    assert order_rows == expected_orders
    assert code_rows == expected_codes
    if loader == "target-postgres":  # the marked row keeps its key, its other columns go null
        kept = pg_rows(
            schema, "select count(order_nbr) from order_hdr where _sdc_deleted_at is not null"
        )
        assert kept == [(0,)]


def _expected(loader: str, hard_delete: bool, live: set[int], deleted: set[int]) -> dict[int, bool]:
    """What the loader's docs say it does with a record carrying `_sdc_deleted_at`: target-duckdb
    deletes the row with `hard_delete`, else keeps it marked; target-postgres always keeps it
    marked (its `hard_delete` acts on ACTIVATE_VERSION only, which drops a full table's rows of
    older versions: the deleted code is then back only as the tap's marked row)."""
    rows = dict.fromkeys(live, False)
    if not (loader == "target-duckdb" and hard_delete):
        rows |= dict.fromkeys(deleted, True)
    return rows
