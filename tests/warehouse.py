"""One loaded warehouse for the suite (the `warehouse` fixture of tests/conftest.py): a simulator
loaded by real Meltano into DuckDB and PostgreSQL with the dbt build of each (`meltano run
tap-oracle-wms target-<db> dbt-<db>:build`), taken through two phases that each end with one
such run per database:

- `loaded`: the first load of a fresh warehouse;
- `changed`: what happens between two scheduled runs: WMS activity (updates and inserts, many
  sharing one mod_ts, a wave, picks, a shipment, a receipt, appended history), then rows leaving
  the WMS every way they can (a stage DELETE of orders, inventory emptied and deleted, a
  code-table row, purged history).

Tests that only need "a loaded warehouse" read it instead of loading their own; tests of a phase
call `warehouse.at(phase)`, which runs the phases up to it once (phases only go forward: the tests
of one phase sit together in tests/test_meltano_warehouse.py, in phase order)."""

from __future__ import annotations

import shutil
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests
import yaml

from oracle_wms_sim import Simulator
from tests import wms_truth
from tests.conftest import PG, ROOT, all_records, meltano
from tests.test_simulator_writes import adjust, location_id

AS_OF = "2026-01-05"  # the simulator's history ends here; pinned so lateness does not move
PHASES = ("loaded", "changed")
DATABASES = ("duckdb", "postgres")
SELECTED = [  # the entities meltano.yml selects
    pattern.split(".")[0]
    for plugin in yaml.safe_load((ROOT / "meltano.yml").read_text())["plugins"]["extractors"]
    if plugin["name"] == "tap-oracle-wms"
    for pattern in plugin["select"]
]
CHURNED = ("inventory", "order_hdr", "order_dtl")


def wms_env(sim: Simulator, tmp_path: Path) -> dict[str, str]:
    """`meltano run`'s environment for a simulator: the tap's connection, the pinned as-of date,
    this run's own dbt target and log directories (the project's transform/target untouched)."""
    return {
        "TAP_ORACLE_WMS_BASE_URL": sim.base_url,
        "TAP_ORACLE_WMS_USERNAME": sim.username,
        "TAP_ORACLE_WMS_PASSWORD": sim.password,
        "WMS_AS_OF_DATE": AS_OF,
        "DBT_DUCKDB_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_DUCKDB_LOG_PATH": str(tmp_path / "dbt-logs"),
        "DBT_POSTGRES_TARGET_PATH": str(tmp_path / "dbt-target"),
        "DBT_POSTGRES_LOG_PATH": str(tmp_path / "dbt-logs"),
    }


class Warehouse:
    """The shared warehouse: its simulator, its DuckDB file and PostgreSQL schema, its phase."""

    def __init__(self, sim: Simulator, root: Path, schema: str) -> None:
        self.sim = sim
        self.root = root
        self.schema = schema
        self.duckdb_path = root / "wms.duckdb"
        self.first_load_copy = root / "first-load.duckdb"  # the DuckDB file after `loaded`
        self.phase = -1
        self.failed = ""
        self.outputs: dict[str, str] = {}  # database -> the last run's output
        self.on_hand_seen: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        self.deleted: dict[str, set[int]] = {}
        self.location_types: dict[int, str] = {}  # the code table before a type was deleted
        self._truth: dict[str, tuple[str, wms_truth.Mart]] | None = None
        self.env = wms_env(sim, root) | {
            "TAP_ORACLE_WMS_DELETE_SWEEP_INTERVAL": "0",  # every run looks for deletes
            "TAP_ORACLE_WMS_PURGED_HISTORY": "delete",
            # One discovery for the four runs (no phase changes what `describe` answers).
            "TAP_ORACLE_WMS_DISCOVERY_CACHE_TTL": "3600",
            "TAP_ORACLE_WMS_DISCOVERY_CACHE_PATH": str(root / "discovery"),
            "TARGET_DUCKDB_FILEPATH": str(self.duckdb_path),
            "DBT_DUCKDB_PATH": str(self.duckdb_path),
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
            "DBT_POSTGRES_SOURCE_SCHEMA": schema,
            "DBT_POSTGRES_SCHEMA": schema,
        }

    def at(self, phase: str) -> None:
        """Run the phases up to `phase` (each: the WMS changed, then one run per database)."""
        wanted = PHASES.index(phase)
        if self.failed:
            pytest.fail(f"the shared warehouse broke earlier: {self.failed}")
        if wanted < self.phase:
            pytest.fail(f"the shared warehouse is past `{phase}`: run its tests in file order")
        while self.phase < wanted:
            step = PHASES[self.phase + 1]
            try:
                if step == "changed":
                    churn(self.sim)
                    self.location_types = wms_truth.codes(self.sim, "location_type")
                    self.deleted = delete_in_the_wms(self.sim)
                for database in DATABASES:
                    self.outputs[database] = meltano(
                        self.root,
                        "run",
                        "tap-oracle-wms",
                        f"target-{database}",
                        f"dbt-{database}:build",
                        env=self.env,
                    )
                    self.on_hand_seen[(step, database)] = self.mart_rows(
                        database, "mart_inventory_on_hand"
                    )
            except BaseException as exc:
                self.failed = f"phase {step}: {str(exc)[-3000:]}"
                raise
            if step == "loaded":
                shutil.copyfile(self.duckdb_path, self.first_load_copy)
            self.phase += 1
            self._truth = None

    def first_load(self) -> Path:
        """A DuckDB file as the first load left it (a copy: change it at will)."""
        if self.phase < PHASES.index("loaded"):
            self.at("loaded")
        return self.first_load_copy

    def truth(self) -> dict[str, tuple[str, wms_truth.Mart]]:
        """Every mart as the WMS's records give it now (computed once per phase)."""
        if self._truth is None:
            as_of = date.fromisoformat(AS_OF)
            self._truth = wms_truth.marts(self.sim, as_of, self.location_types)
        return self._truth

    def query(self, database: str, sql: str) -> list[dict[str, Any]]:
        """Rows as dicts; `raw.x`, `staging.x` and `marts.x` name the loaded table, dbt's staging
        model and the mart in that database."""
        if database == "duckdb":
            sql = sql.replace("raw.", "oracle_wms.").replace("staging.", "analytics_staging.")
            with duckdb.connect(str(self.duckdb_path), read_only=True) as db:
                cursor = db.execute(sql.replace("marts.", "analytics."))
                columns = [c[0] for c in cursor.description or []]
                return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        psycopg = pytest.importorskip("psycopg")
        sql = sql.replace("raw.", f'"{self.schema}".').replace(
            "staging.", f'"{self.schema}_staging".'
        )
        with psycopg.connect(**PG, row_factory=psycopg.rows.dict_row) as conn:
            return conn.execute(sql.replace("marts.", f'"{self.schema}".')).fetchall()  # type: ignore[arg-type]

    def mart_rows(self, database: str, mart: str) -> list[tuple[Any, ...]]:
        return sorted(
            tuple(row.values()) for row in self.query(database, f"select * from marts.{mart}")
        )

    def assert_marts_match_the_wms(self, database: str) -> None:
        """Every mart (every row, every column) equal to the truth module's, which computes
        each from the simulator's records; the columns themselves the same set, so a measure added
        to a mart fails here until the truth computes it too."""
        problems = [
            problem
            for mart, (key, truth) in self.truth().items()
            for problem in mart_differences(
                f"{database} {mart}",
                key,
                truth,
                self.query(database, f"select * from marts.{mart}"),
                database,
            )
        ]
        assert not problems, "\n".join(problems)


def mart_differences(
    where: str, key: str, truth: wms_truth.Mart, rows: list[dict[str, Any]], database: str
) -> list[str]:
    """What differs between a mart's rows and the truth's (nothing: an empty list)."""
    loaded = {row[key]: row for row in rows}
    if len(loaded) != len(rows):
        return [f"{where}: {key} is not unique"]
    if not truth:
        return [f"{where}: the WMS gives no row (nothing tested)"]
    missing, extra = truth.keys() - loaded.keys(), loaded.keys() - truth.keys()
    if missing or extra:
        return [
            f"{where}: rows missing {sorted(missing, key=str)[:5]}, "
            f"not in the WMS {sorted(extra, key=str)[:5]}"
        ]
    columns = set(next(iter(truth.values())))
    if set(rows[0]) != columns:
        return [f"{where}: columns {set(rows[0]) ^ columns}"]
    wrong = [
        (k, column, loaded[k][column], want[column])
        for k, want in truth.items()
        for column in sorted(columns)
        if not _same(database, column, loaded[k][column], want[column])
    ]
    return [f"{where}: {len(wrong)} values differ, e.g. {wrong[:5]}"] if wrong else []


def _same(database: str, column: str, got: Any, want: Any) -> bool:
    """Equal as values (Decimal 1.50 = 1.5, an instant in any zone). DuckDB computes hours from
    doubles (epoch()) before rounding to two places: a half-way value may round the other way."""
    if database == "duckdb" and column.startswith("hours_") and None not in (got, want):
        return bool(abs(Decimal(got) - Decimal(want)) <= Decimal("0.01"))
    return bool(got == want)


# What happens in the WMS between runs --------------------------------------------------------


def churn(sim: Simulator) -> None:
    """WMS activity between two scheduled runs: stock and orders updated and added (many sharing
    one mod_ts, some not), new inventory history (appended), receipts on ASN lines, allocations
    changed, and the warehouse at work through the API (`operate`)."""
    for entity in CHURNED:
        sim.update_records(entity, 40, same_mod_ts=True)
        sim.insert_records(entity, 15, same_mod_ts=True)
        sim.update_records(entity, 10, same_mod_ts=False)
    sim.insert_records("inventory_history", 24, same_mod_ts=True)
    sim.update_records("ib_shipment_dtl", 20, same_mod_ts=False)
    sim.update_records("allocation", 20, same_mod_ts=True)
    operate(sim)


def operate(sim: Simulator) -> None:
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
            common = {**f1, "async_flg": False, "to_container_nbr": f"OB-MART-{n}"}
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


def stage_delete(sim: Simulator, count: int) -> set[int]:
    """Delete `count` Created orders of facility F2 through the stage interface, as the target's
    stage sink does (POST stage/order/, action_code DELETE); their ids. (F2: the churn's wave
    took F1's Created orders.)"""
    (status,) = [s["id"] for s in all_records(sim, "order_status") if s["code"] == "CREATED"]
    created = [
        o
        for o in all_records(sim, "order_hdr", facility_id__code="F2", status_id=str(status))
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
            "facility_code": "F2",
            "company_code": "C1",
        },
        "stage_order_list": [
            {"action_code": "DELETE", "order_nbr": o["order_nbr"]} for o in created
        ],
    }
    with requests.Session() as http:
        http.auth = (sim.username, sim.password)
        answer = http.post(f"{sim.api_url}stage/order/", json=body)
    assert answer.status_code == 200, answer.text
    gone = {o["id"] for o in created}
    assert not {o["id"] for o in all_records(sim, "order_hdr")} & gone
    return gone


def delete_in_the_wms(sim: Simulator) -> dict[str, set[int]]:
    """Every way a row leaves: stage DELETE, inventory emptied (with the undocumented reading on)
    and deleted, a location type the locations name, and the scheduled purge; the ids gone."""
    orders = stage_delete(sim, 5)
    sim.set_undocumented(zero_inventory_removed=True)
    emptied = set()
    with requests.Session() as http:
        http.auth = (sim.username, sim.password)
        for nth in range(2):
            barcode, item, qty = sim.active_location_with_inventory("F1", nth=nth)
            loc = location_id(http, sim, barcode, "F1")
            answer = adjust(
                http, sim, loc, item_code=item, adjustment_qty=f"-{qty}", reason_code="CC"
            )
            assert answer.status_code == 200, answer.text
            emptied.add(answer.json()["inventory_id"])
    inventory = emptied | set(sim.delete_records("inventory", 3))
    used = all_records(sim, "location")[0]["location_type_id"]["id"]
    with sim.store.transaction() as conn:
        sim.store.remove_rows(conn, "location_type", [used])
    purged = set(sim.purge(retention_years=1)["inventory_history"])
    assert purged
    return {"order_hdr": orders, "inventory": inventory, "location_type": {used}}
