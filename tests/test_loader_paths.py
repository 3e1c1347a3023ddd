"""Every way target-postgres loads (issue 29): row by row (INSERT), COPY, and from the tap's BATCH
files, through `meltano run`. Each must load every date-time as the instant the WMS sent: COPY and
BATCH hand PostgreSQL the text, and `timestamp without time zone` drops an offset instead of
converting it, so the tap emits every date-time in UTC. Decimals stay exact on every path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import all_records, api_get, meltano, pg_rows

ENTITIES = ("order_hdr", "ib_shipment")
"""Rows of three facilities in three zones (-06:00, -05:00, +01:00); ib_shipment has a date-time
besides create_ts and mod_ts (verified_ts)."""

PATHS = {
    "insert": {"TARGET_POSTGRES_USE_COPY": "false"},
    "copy": {"TARGET_POSTGRES_USE_COPY": "true"},
    "batch": {"TARGET_POSTGRES_USE_COPY": "true"},
}


def _date_time_fields(sim: Simulator, entity: str) -> list[str]:
    """The entity's date-time fields, as the WMS's own `describe` lists them."""
    fields = api_get(sim, f"entity/{entity}/describe/").json()["fields"]
    return sorted(name for name, spec in fields.items() if spec.get("type") == "datetime")


def _instant(value: str | None) -> datetime | None:
    """A WMS date-time (with its facility's offset) as a naive UTC datetime: what a
    `timestamp without time zone` column holds for that instant in a UTC session."""
    if value is None:
        return None
    return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)


@pytest.mark.parametrize("path", sorted(PATHS))
def test_every_load_path_keeps_each_date_time_instant_and_decimal(
    sim: Simulator, tmp_path: Path, pg_schema: str, path: str
) -> None:
    env = {
        "TAP_ORACLE_WMS_BASE_URL": sim.base_url,
        "TAP_ORACLE_WMS_USERNAME": sim.username,
        "TAP_ORACLE_WMS_PASSWORD": sim.password,
        "TAP_ORACLE_WMS__SELECT": json.dumps([f"{e}.*" for e in ENTITIES]),
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": pg_schema,
        **PATHS[path],
    }
    batches = tmp_path / "batches"
    if path == "batch":
        env["TAP_ORACLE_WMS_BATCH_CONFIG"] = json.dumps(
            {
                "encoding": {"format": "jsonl", "compression": "gzip"},
                "storage": {"root": batches.as_uri()},
            }
        )
    output = meltano(
        tmp_path, "--environment", "dev", "run", "tap-oracle-wms", "target-postgres", env=env
    )

    # the path taken is the one asked for
    statements = output.lower()
    if path == "insert":
        assert "insert into" in statements and "copy " not in statements
    else:
        assert "copy " in statements
    assert (path == "batch") == (batches.exists() and any(batches.iterdir()))

    checked = 0
    for entity in ENTITIES:
        names = _date_time_fields(sim, entity)
        assert {"create_ts", "mod_ts"} <= set(names)
        wms = {r["id"]: r for r in all_records(sim, entity)}
        columns = ", ".join(names)
        loaded = {
            row[0]: row[1:] for row in pg_rows(pg_schema, f"select id, {columns} from {entity}")
        }
        assert loaded.keys() == wms.keys(), f"{entity}: ids differ"
        for record_id, values in loaded.items():
            expected = tuple(_instant(wms[record_id][name]) for name in names)
            assert values == expected, f"{path}: {entity} id {record_id} {names}"
            checked += sum(v is not None for v in values)
    assert checked > 2 * sum(len(all_records(sim, e)) for e in ENTITIES)  # verified_ts too

    orders = {r["id"]: r["total_orig_ord_qty"] for r in all_records(sim, "order_hdr")}
    quantities = dict(pg_rows(pg_schema, "select id, total_orig_ord_qty from order_hdr"))
    assert quantities == {k: None if v is None else Decimal(v) for k, v in orders.items()}
