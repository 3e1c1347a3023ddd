"""Deletes through real Meltano (issue 25): what each loader does with a row the tap reports
deleted. That deleted rows leave staging and every mart, on DuckDB and PostgreSQL, is
tests/test_meltano_warehouse.py's (the shared warehouse's `changed` phase)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from oracle_wms_sim import Simulator
from tests.conftest import all_records, meltano, pg_rows
from tests.warehouse import wms_env

LOADERS = [  # hard_delete off on both databases: the shared warehouse's (test_meltano_warehouse)
    ("target-postgres", True),
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
        **wms_env(fresh_sim, tmp_path),
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
