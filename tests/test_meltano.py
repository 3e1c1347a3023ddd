"""The user's path: `meltano run tap-oracle-wms target-duckdb|target-postgres`, simulator as WMS."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from oracle_wms_sim import Simulator
from tests.conftest import PG, ROOT, all_records, api_get, meltano, pg_rows, result_count


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


def test_check_connection_through_meltano(sim: Simulator, tmp_path: Path) -> None:
    output = meltano(tmp_path, "invoke", "tap-oracle-wms", "--check-connection", env=_sim_env(sim))
    assert f"Connected to {sim.base_url} as user 'demo'" in output
    assert f"{len(api_get(sim, 'entity/').json())} entities" in output


def test_round_trip_postgres_to_wms_applies_each_adjustment_once(
    fresh_sim: Simulator, tmp_path: Path, pg_schema: str
) -> None:
    """A table of adjustments in PostgreSQL -> tap-postgres -> target-oracle-wms -> the WMS."""
    psycopg = pytest.importorskip("psycopg")
    loc_a, item_a, qty_a = fresh_sim.active_location_with_inventory("F2", nth=0)
    loc_b, item_b, _ = fresh_sim.active_location_with_inventory("F2", nth=1)
    with psycopg.connect(**PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{pg_schema}"')
        conn.execute(
            f'CREATE TABLE "{pg_schema}".inventory_adjustment (id serial primary key, '
            "facility_code text, location_barcode text, item_code text, "
            "adjustment_qty numeric, actual_qty numeric, reason_code text, "
            "transaction_ref_nbr text)"
        )
        conn.execute(
            f'INSERT INTO "{pg_schema}".inventory_adjustment (facility_code, location_barcode, '
            "item_code, adjustment_qty, actual_qty, reason_code, transaction_ref_nbr) VALUES "
            "('F2', %s, %s, 3.5, null, 'CC', 'WH-RECOUNT-1'), "
            "('F2', %s, %s, null, 17, 'CC', null)",
            (loc_a, item_a, loc_b, item_b),
        )
    stream = f"{pg_schema}-inventory_adjustment"
    env = {
        "TAP_POSTGRES_FILTER_SCHEMAS": json.dumps([pg_schema]),
        "TAP_POSTGRES__SELECT": json.dumps([f"{stream}.*"]),
        "TARGET_ORACLE_WMS_BASE_URL": fresh_sim.base_url,
        "TARGET_ORACLE_WMS_STREAM_ACTIONS": json.dumps(
            {
                stream: {
                    "entity": "location",
                    "action": "operation",
                    "operation": "update_active_inventory",
                }
            }
        ),
        "TARGET_ORACLE_WMS_LEDGER_PATH": str(tmp_path / "ledger.sqlite"),
        "TARGET_ORACLE_WMS_REJECTS_PATH": str(tmp_path / "rejects.jsonl"),
    }

    for _ in range(2):  # the second run replays the whole table: nothing may change
        output = meltano(tmp_path, "run", "tap-postgres", "target-oracle-wms", env=env)
        assert fresh_sim.inventory_qty("F2", loc_a, item_a) == qty_a + Decimal("3.5")
        assert fresh_sim.inventory_qty("F2", loc_b, item_b) == Decimal(17)
        assert len(fresh_sim.history_with_ref("WH-RECOUNT-1:")) == 1
        assert len(fresh_sim.history_with_ref("singer:")) == 1
    assert "0 applied, 2 already applied (skipped), 0 rejected" in output


def test_a_field_the_wms_adds_later_reaches_the_loaded_table(
    fresh_sim: Simulator, tmp_path: Path, pg_schema: str
) -> None:
    env = {
        **_sim_env(fresh_sim),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": pg_schema,
        "TAP_ORACLE_WMS__SELECT": json.dumps(["item.*"]),
        "TAP_ORACLE_WMS_ENTITIES": json.dumps(["item"]),  # one describe a run, not 179
    }
    meltano(tmp_path, "run", "tap-oracle-wms", "target-postgres", env=env)

    fresh_sim.add_field("item", "cust_field_9", "string", max_length=50, default="added-later")
    changed = fresh_sim.update_records("item", 5, same_mod_ts=True)
    meltano(tmp_path, "run", "tap-oracle-wms", "target-postgres", env=env)

    rows = pg_rows(pg_schema, "select id, cust_field_9 from item where cust_field_9 is not null")
    assert set(changed) <= {row[0] for row in rows}
    assert {row[1] for row in rows} == {"added-later"}
    assert pg_rows(pg_schema, "select count(*) from item") == [(result_count(fresh_sim, "item"),)]


def test_postgres_to_wms_job_works_out_of_the_box(tmp_path: Path, pg_database: str) -> None:
    """The shipped sample (writeback/wms_writeback.sql) through the shipped job, as configured
    in meltano.yml, against the demo warehouse (`oracle-wms-sim serve`'s default seed)."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(**{**PG, "dbname": pg_database}, autocommit=True) as conn:
        conn.execute((ROOT / "writeback" / "wms_writeback.sql").read_text())  # type: ignore[arg-type]
    with Simulator(seed=42, scale=1) as demo:
        before = demo.inventory_qty("F1", "B-001-03-A", "ITM000189")
        assert before is not None
        env = {
            "TAP_POSTGRES_SQLALCHEMY_URL": (
                f"postgresql+psycopg2://postgres:trust@127.0.0.1:5432/{pg_database}"
            ),
            "TARGET_ORACLE_WMS_BASE_URL": demo.base_url,
            "TARGET_ORACLE_WMS_LEDGER_PATH": str(tmp_path / "ledger.sqlite"),
            "TARGET_ORACLE_WMS_REJECTS_PATH": str(tmp_path / "rejects.jsonl"),
        }
        first = meltano(tmp_path, "run", "postgres-to-wms", env=env)
        again = meltano(tmp_path, "run", "postgres-to-wms", env=env)

        assert demo.inventory_qty("F1", "B-001-03-A", "ITM000189") == before + 5
        assert demo.inventory_qty("F1", "B-001-03-D", "ITM000147") == Decimal(700)
        orders = {
            r["order_nbr"]: (r["priority"], r["cust_field_1"])
            for r in all_records(demo, "order_hdr", facility_id__code="F1")
        }
        assert orders["ORD0000007"] == (1, "expedite")
        assert orders["ORD0000008"] == (2, "customer called")
        status = {
            r["container_nbr"]: r["status_id"]
            for r in all_records(demo, "oblpn", facility_id__code="F1")
        }
        shipped_status = status[demo.oblpn_numbers("F1", shipped=True, count=1)[0]]
        assert status["OB00000010"] == status["OB00000012"] == shipped_status
    for stream in ("inventory_adjustment", "order_hdr", "oblpn_shipment"):
        assert (
            f"Stream 'wms_writeback-{stream}': 2 applied, 0 already applied (skipped), 0 rejected"
            in first
        )
        assert (
            f"Stream 'wms_writeback-{stream}': 0 applied, 2 already applied (skipped), 0 rejected"
            in again
        )
    assert "information_schema" not in first
