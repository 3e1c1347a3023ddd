"""The dbt project in transform/ (issue 17) on its own: what staging does with rows a loader left
in a state the tap never produces, and that dbt's tests catch broken rows. The builds after each
load, and every mart against the WMS, are tests/test_meltano_warehouse.py's."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import duckdb

from tests.conftest import BIN, ROOT, meltano_env
from tests.warehouse import Warehouse, wms_env


def test_staging_keeps_the_latest_version_and_dbt_tests_catch_broken_rows(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """Rows a loader appended instead of merging are deduplicated on id, newest mod_ts first;
    an order line whose order does not exist fails the build (a relationships test). On a copy
    of the shared warehouse's DuckDB file as its first load left it."""
    db_path = tmp_path / "wms.duckdb"
    shutil.copyfile(warehouse.first_load(), db_path)
    env = {**wms_env(warehouse.sim, tmp_path), "DBT_DUCKDB_PATH": str(db_path)}
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
        # The two staging models and their tests (a whole build was 40 s more under load).
        [
            str(BIN / "meltano"),
            *("invoke", "dbt-duckdb:build", "--select", "stg_wms__order_hdr", "stg_wms__order_dtl"),
        ],
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
