"""The Dagster definitions (orchestration/, issue 27) run in-process on a temporary Dagster
instance: real Meltano (its system database, the state backend, in PostgreSQL), the simulator over
HTTP, target-postgres and dbt on PostgreSQL. Expected values come from the simulator's API and
from the literal group list of meltano.yml, never from the definitions under test."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

dagster = pytest.importorskip("dagster")
psutil = pytest.importorskip("psutil")

from dagster import (  # noqa: E402
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    execute_job,
    reconstructable,
)

from oracle_wms_sim import Simulator  # noqa: E402
from orchestration.definitions import build_definitions  # noqa: E402
from tests.conftest import BIN, PG, ROOT, result_count  # noqa: E402

GROUPS = {  # meltano.yml's tap-oracle-wms--<group> extractors, written out
    "masters": [
        "company", "facility", "item", "location", "location_type", "vendor", "order_status",
        "order_type", "allocation_status", "ib_shipment_status", "container_status",
        "history_activity",
    ],
    "orders": ["order_hdr", "order_dtl", "allocation", "wave", "task", "oblpn"],
    "inbound": [
        "ib_shipment", "ib_shipment_dtl", "iblpn", "purchase_order_hdr", "purchase_order_dtl",
    ],
    "inventory": ["inventory"],
    "history": ["inventory_history"],
}  # fmt: skip
BUDGET = 9  # README: Oracle's guidance is fewer than 10 simultaneous requests
POOL_LIMIT = 2
MARTS = ["mart_open_orders", "mart_inventory_on_hand", "mart_daily_inventory_movements"]


def wms_job() -> Any:
    """The job, rebuilt from the environment in each step's process (reconstructable)."""
    environment = os.environ["WMS_ENVIRONMENT"]
    return build_definitions(os.environ).resolve_job_def(f"{environment}_wms_to_marts")


@pytest.fixture
def setup(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Simulator, str, DagsterInstance]]:
    """A simulator, the environment a code location would have, a temporary Dagster instance
    whose pools allow POOL_LIMIT steps each."""
    name = f"t{uuid.uuid4().hex[:8]}"
    url = f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{pg_database}"
    with Simulator(seed=11, scale=1) as sim:
        for key, value in {
            "TAP_ORACLE_WMS_BASE_URL": sim.base_url,
            "TAP_ORACLE_WMS_USERNAME": sim.username,
            "TAP_ORACLE_WMS_PASSWORD": sim.password,
            # One discovery for the groups (as on one worker), none shared with other tests.
            "TAP_ORACLE_WMS_DISCOVERY_CACHE_PATH": str(tmp_path / "discovery"),
            "MELTANO_DATABASE_URI": url,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TARGET_POSTGRES_SQLALCHEMY_URL": url,
            "DBT_POSTGRES_DBNAME": pg_database,
            "WMS_AS_OF_DATE": "2026-01-05",
            "WMS_ENVIRONMENT": name,
            "PATH": f"{BIN}:{os.environ['PATH']}",
        }.items():
            monkeypatch.setenv(key, value)
        # Deploy step: the shared system database migrated once (first runs at once race on it).
        subprocess.run(
            [str(BIN / "meltano"), "upgrade", "database"], cwd=ROOT, check=True, capture_output=True
        )
        overrides = {"concurrency": {"pools": {"default_limit": POOL_LIMIT}}}
        home = tmp_path / "dagster"
        home.mkdir()
        with DagsterInstance.local_temp(str(home), overrides=overrides) as inst:
            yield sim, name, inst


def run(
    instance: DagsterInstance,
    *,
    keys: list[AssetKey] | None = None,
    ops: dict[str, Any] | None = None,
    in_process: bool = False,
) -> Any:
    """The job (or the assets `keys`); `in_process` for a one-step run (a step process of its
    own costs a Dagster start, several seconds under load)."""
    executor = {"in_process": {}} if in_process else {"multiprocess": {"max_concurrent": 6}}
    config = {"execution": {"config": executor}, "ops": ops or {}}
    with execute_job(
        reconstructable(wms_job), instance, run_config=config, asset_selection=keys
    ) as result:
        return result.success, result.run_id, result.all_events


def count(database: str, table: str) -> int:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(**{**PG, "dbname": database}) as conn:
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])


def wms_count(sim: Simulator, entity: str) -> int:
    """The entity's rows in the WMS: the API's result_count, or, for inventory_history (whose
    list Oracle answers only within a facility and activity), the simulator's own table."""
    if entity != "inventory_history":
        return result_count(sim, entity)
    with sqlite3.connect(sim.db_path) as conn:
        return int(conn.execute("select count(*) from inventory_history").fetchone()[0])


def states(database: str) -> dict[str, str]:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(**{**PG, "dbname": database}) as conn:
        rows = conn.execute(
            "select state_id, partial_state::text, completed_state::text from state"
        )
        return {row[0]: f"{row[1]}|{row[2]}" for row in rows.fetchall()}


def step_windows(instance: DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """Each successful step's (start, end), from the run's event log."""
    starts: dict[str, float] = {}
    windows: dict[str, tuple[float, float]] = {}
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type == DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type == DagsterEventType.STEP_SUCCESS:
            windows[event.step_key] = (starts[event.step_key], entry.timestamp)
    return windows


@pytest.mark.timeout(1500)  # four Dagster runs; about 5 minutes on 2 idle cores
def test_groups_load_in_parallel_within_budget_then_marts(setup: Any, pg_database: str) -> None:
    sim, env, instance = setup
    raw = f"oracle_wms_{env}"
    sim.clear_request_log()
    ok, run_id, events = run(instance)
    assert ok, [e.message for e in events if e.event_type == DagsterEventType.STEP_FAILURE]

    # Every asset materialized: each entity and each mart named here.
    for entities in GROUPS.values():
        for entity in entities:
            assert instance.get_latest_materialization_event(AssetKey([env, "wms", entity]))
    for mart in MARTS:
        assert instance.get_latest_materialization_event(AssetKey([env, mart])), mart

    # Within the budget at the WMS, and groups did run side by side.
    assert 1 <= sim.peak_in_flight() <= BUDGET
    windows = step_windows(instance, run_id)
    loads = [windows[f"{env}_{group}"] for group in GROUPS]
    assert any(a[0] < b[1] and b[0] < a[1] for a in loads for b in loads if a is not b)
    # The marts built after every load.
    marts_start = windows[f"{env}_marts"][0]
    assert all(end <= marts_start for _, end in loads)
    assert count(pg_database, f"analytics_{env}.mart_open_orders") > 0

    # One state id per group, and nothing else.
    first_states = states(pg_database)
    assert set(first_states) == {
        f"dev:tap-oracle-wms--{group}-to-target-postgres:{env}" for group in GROUPS
    }
    # The union of the groups' tables is every selected entity, each with the WMS's count.
    for entities in GROUPS.values():
        for entity in entities:
            assert count(pg_database, f"{raw}.{entity}") == wms_count(sim, entity), entity

    # Second run of the orders group: incremental (a changed-since filter on every order_hdr
    # list request) and the new rows arrive.
    sim.insert_records("order_hdr", 7)
    sim.clear_request_log()
    orders = [AssetKey([env, "wms", e]) for e in GROUPS["orders"]]
    ok, _, events = run(instance, keys=orders, in_process=True)
    assert ok
    order_lists = [
        entry
        for entry in sim.request_log()
        if entry["path"].rstrip("/").endswith("entity/order_hdr")
    ]
    assert order_lists and all("mod_ts__gte" in entry["query"] for entry in order_lists)
    assert count(pg_database, f"{raw}.order_hdr") == result_count(sim, "order_hdr")
    assert sim.peak_in_flight() <= BUDGET

    # A group killed mid-run: the others' state untouched, its rerun completes.
    before = states(pg_database)
    sim.insert_records("inventory_history", 30)
    sim.add_fault("latency", rate=1.0, latency_ms=400, path_contains="inventory_history")
    history_keys = [AssetKey([env, "wms", "inventory_history"])]
    outcome: dict[str, Any] = {}
    runner = threading.Thread(target=lambda: outcome.update(r=run(instance, keys=history_keys)))
    runner.start()
    killed = kill_when_reading(sim, "tap-oracle-wms--history", env)
    runner.join(timeout=300)
    assert killed and outcome["r"][0] is False
    sim.clear_faults()
    after = states(pg_database)
    history_id = f"dev:tap-oracle-wms--history-to-target-postgres:{env}"
    assert {k: v for k, v in after.items() if k != history_id} == {
        k: v for k, v in before.items() if k != history_id
    }
    # Meltano still records the killed run as running: the rerun says so in one line...
    ok, _, events = run(instance, keys=history_keys, in_process=True)
    failure = next(e for e in events if e.event_type == DagsterEventType.STEP_FAILURE)
    assert "pipeline is already running" in failure.step_failure_data.error.message
    # ...and, told that no run of the group is alive, completes.
    force = {f"{env}_history": {"config": {"force": True}}}
    ok, _, _ = run(instance, keys=history_keys, ops=force, in_process=True)
    assert ok
    loaded = count(pg_database, f"{raw}.inventory_history")
    assert loaded == wms_count(sim, "inventory_history")


def kill_when_reading(sim: Simulator, extractor: str, env: str) -> bool:
    """SIGKILL the `meltano run` of `extractor` (and its tap and target) once the simulator has
    answered a request of that group's entity."""
    for _ in range(600):
        busy = any("inventory_history" in entry["path"] for entry in sim.request_log())
        procs = [
            p
            for p in psutil.process_iter(["cmdline"])
            if extractor in " ".join(p.info["cmdline"] or [])
            and env in " ".join(p.info["cmdline"] or [])
        ]
        if busy and procs:
            for proc in procs:
                for child in proc.children(recursive=True):
                    child.send_signal(signal.SIGKILL)
                proc.send_signal(signal.SIGKILL)
            return True
        time.sleep(0.5)
    return False


def test_a_failed_load_shows_the_connectors_line(
    setup: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, env, instance = setup
    monkeypatch.setenv("TAP_ORACLE_WMS_PASSWORD", "not-the-password")
    ok, _, events = run(instance, keys=[AssetKey([env, "wms", "inventory"])], in_process=True)
    assert not ok
    failures = [e for e in events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert len(failures) == 1
    error = failures[0].step_failure_data.error
    message = error.message.strip()
    assert "tap-oracle-wms--inventory: tap-oracle-wms WMS answered 401" in message
    assert "check the username and password settings" in message
    assert "Traceback" not in message and len(message.splitlines()) == 1
    assert "not-the-password" not in message
