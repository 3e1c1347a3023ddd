"""The user's path: `meltano run tap-oracle-wms target-duckdb|target-postgres`, simulator as WMS."""

from __future__ import annotations

from pathlib import Path

import duckdb
import yaml

from oracle_wms_sim.server import Simulator
from tests.conftest import ROOT, meltano, pg_rows, result_count

SELECTED = [
    line.strip()[2:].split(".")[0]
    for line in (ROOT / "meltano.yml").read_text().splitlines()
    if line.strip().startswith("- ") and line.strip().endswith(".*")
]


def _sim_env(sim: Simulator) -> dict[str, str]:
    return {
        "TAP_ORACLE_WMS_BASE_URL": sim.base_url,
        "TAP_ORACLE_WMS_USERNAME": sim.username,
        "TAP_ORACLE_WMS_PASSWORD": sim.password,
    }


def test_every_plugin_is_defined_without_meltano_hub() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    plugins = [p for kind in project["plugins"].values() for p in kind]
    assert plugins
    for plugin in plugins:
        assert {"namespace", "pip_url", "executable"} <= plugin.keys(), plugin["name"]


def test_schedule_is_listed(tmp_path: Path) -> None:
    output = meltano(tmp_path, "schedule", "list", env={})
    assert "wms-to-postgres-hourly" in output
    assert "@hourly" in output


def test_meltano_run_to_duckdb(sim: Simulator, tmp_path: Path) -> None:
    db_path = tmp_path / "wms.duckdb"
    env = {**_sim_env(sim), "TARGET_DUCKDB_FILEPATH": str(db_path)}

    meltano(tmp_path, "run", "tap-oracle-wms", "target-duckdb", env=env)

    assert len(SELECTED) >= 15
    with duckdb.connect(str(db_path), read_only=True) as db:
        for entity in SELECTED:
            sql = f"select count(*), count(distinct id) from oracle_wms.{entity}"
            row = db.execute(sql).fetchone()
            assert row is not None
            assert row == (result_count(sim, entity),) * 2, entity
        joined = db.execute(
            "select count(*) from oracle_wms.order_dtl d join oracle_wms.order_hdr h "
            "on d.order_id = h.id and d.order_id_key = h.order_nbr"
        ).fetchone()
    assert joined == (result_count(sim, "order_dtl"),)


def test_meltano_run_to_postgres(sim: Simulator, tmp_path: Path, pg_schema: str) -> None:
    env = {**_sim_env(sim), "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": pg_schema}

    meltano(tmp_path, "run", "tap-oracle-wms", "target-postgres", env=env)

    for entity in SELECTED:
        assert pg_rows(pg_schema, f"select count(*), count(distinct id) from {entity}") == [
            (result_count(sim, entity),) * 2
        ], entity
    # Running again (incremental, from the saved state) merges on the primary key.
    meltano(tmp_path, "run", "tap-oracle-wms", "target-postgres", env=env)
    assert pg_rows(pg_schema, "select count(*), count(distinct id) from order_hdr") == [
        (result_count(sim, "order_hdr"),) * 2
    ]
