"""What loaders make of the records (issue 13, item 9): target-postgres stores date-times in
`timestamp without time zone` in its session's zone, which `meltano.yml` pins to UTC; a stream
map on a decimal field in the form the README gives works."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import (
    PG,
    all_records,
    meltano,
    run_tap,
    select_streams,
    tap_config,
)


@pytest.fixture
def amsterdam_db() -> Iterator[str]:
    """A database of its own whose default zone is Europe/Amsterdam (not UTC)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(**PG, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {exc}")
    name = f"wms_tz_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    admin.execute(f"ALTER DATABASE \"{name}\" SET timezone = 'Europe/Amsterdam'")
    try:
        yield name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_timestamps_load_as_utc_whatever_the_database_zone(
    sim: Simulator, tmp_path: Path, amsterdam_db: str
) -> None:
    psycopg = pytest.importorskip("psycopg")
    env = {
        "TAP_ORACLE_WMS_BASE_URL": sim.base_url,
        "TAP_ORACLE_WMS_USERNAME": sim.username,
        "TAP_ORACLE_WMS_PASSWORD": sim.password,
        "TAP_ORACLE_WMS__SELECT": '["company.*"]',
        "TARGET_POSTGRES_SQLALCHEMY_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{amsterdam_db}",
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": "oracle_wms",
    }
    meltano(tmp_path, "--environment", "dev", "run", "tap-oracle-wms", "target-postgres", env=env)

    with psycopg.connect(**{**PG, "dbname": amsterdam_db}) as conn:
        assert conn.execute("show timezone").fetchone() == ("Europe/Amsterdam",)
        loaded = dict(conn.execute("select id, mod_ts from oracle_wms.company").fetchall())
    expected = {
        r["id"]: datetime.fromisoformat(r["mod_ts"]).astimezone(UTC).replace(tzinfo=None)
        for r in all_records(sim, "company")
    }
    assert loaded == expected


def test_a_stream_map_on_a_decimal_in_the_documented_form(
    sim: Simulator, sim_catalog: dict[str, Any], tmp_path: Path
) -> None:
    config = tap_config(
        sim,
        stream_maps={
            "item": {"unit_cost": "unit_cost * 12 / 10", "cost_f": "float(unit_cost) * 1.2"}
        },
    )
    catalog = select_streams(sim_catalog, {"item"})

    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    sent = {r["id"]: r["unit_cost"] for r in all_records(sim, "item")}
    for row in run.records["item"]:
        if sent[row["id"]] is None:
            continue
        assert Decimal(str(row["unit_cost"])) == Decimal(str(sent[row["id"]])) * 12 / 10
        assert row["cost_f"] == pytest.approx(float(sent[row["id"]]) * 1.2)
