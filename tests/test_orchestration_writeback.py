"""The write-back job of the Dagster definitions (orchestration/write_back.py, issue 27 "What moves
between machines") on a temporary Dagster instance: real Meltano (its system database, the state
backend, in PostgreSQL), tap-postgres reading the shipped sample (writeback/wms_writeback.sql),
target-oracle-wms writing into the simulator over HTTP. What was applied is read from the
simulator (its inventory, its inventory history, its request log), never from the target's log."""

from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pytest

pytest.importorskip("dagster")

from dagster import (
    DagsterEventType,
    DagsterInstance,
    Failure,
    execute_job,
    reconstructable,
)

from oracle_wms_sim import Simulator
from orchestration.definitions import SettingsError, WmsEnvironment, build_definitions
from orchestration.write_back import one_at_a_time
from target_oracle_wms.ledger import Ledger
from tests.conftest import BIN, PG, ROOT, all_records

# writeback/wms_writeback.sql's rows in the demo warehouse (seed 42), written out.
DELTA = ("F1", "B-001-03-A", "ITM000189")  # adjustment_qty 5, transaction_ref_nbr WRITEBACK-DEMO-1
COUNT = ("F1", "B-001-03-D", "ITM000147")  # actual_qty 700
ORDERS = {"ORD0000007": (1, "expedite"), "ORD0000008": (2, "customer called")}


class WriteBack(NamedTuple):
    sim: Simulator
    env: str
    instance: DagsterInstance
    volume: Path
    database: str


def write_back_job() -> Any:
    """The job, rebuilt from the environment in each step's process (reconstructable)."""
    return build_definitions(os.environ).resolve_job_def(
        f"{os.environ['WMS_ENVIRONMENT']}_write_back"
    )


class Place(NamedTuple):
    env: str
    instance: DagsterInstance
    volume: Path


@pytest.fixture
def place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Place]:
    """A WMS environment of its own, the ledger's "volume" (a directory that exists), a
    temporary Dagster instance whose write-back pool allows one step, as README "When one job
    is not enough" says to set it."""
    name = f"w{uuid.uuid4().hex[:8]}"
    volume = tmp_path / "ledger-volume"
    volume.mkdir()
    monkeypatch.setenv("WMS_ENVIRONMENT", name)
    monkeypatch.setenv("WMS_LEDGER_DIR", str(volume))
    home = tmp_path / "dagster"
    home.mkdir()
    with DagsterInstance.local_temp(str(home)) as instance:
        instance.event_log_storage.set_concurrency_slots(f"oracle_wms_{name}_write_back", 1)
        yield Place(name, instance, volume)


@pytest.fixture
def write_back(
    place: Place, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WriteBack]:
    """`place`, the sample source in pg_database (with Meltano's system database) and the
    demo warehouse."""
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(**{**PG, "dbname": pg_database}, autocommit=True) as conn:
        conn.execute((ROOT / "writeback" / "wms_writeback.sql").read_text())
    with Simulator(seed=42, scale=1) as sim:
        for key, value in {
            "TAP_POSTGRES_SQLALCHEMY_URL": (
                f"postgresql+psycopg2://{PG['user']}:trust@{PG['host']}:{PG['port']}/{pg_database}"
            ),
            "TARGET_ORACLE_WMS_BASE_URL": sim.base_url,
            "TARGET_ORACLE_WMS_USERNAME": sim.username,
            "TARGET_ORACLE_WMS_PASSWORD": sim.password,
            "MELTANO_DATABASE_URI": (
                f"postgresql+psycopg://{PG['user']}@{PG['host']}:{PG['port']}/{pg_database}"
            ),
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PATH": f"{BIN}:{os.environ['PATH']}",
        }.items():
            monkeypatch.setenv(key, value)
        yield WriteBack(sim, place.env, place.instance, place.volume, pg_database)


def launch(instance: DagsterInstance, executor: str = "multiprocess") -> Any:
    """One run of the job: its step in a process of its own (forked from a server that imported
    Dagster and the definitions once), or `in_process` for runs that stop before Meltano."""
    settings: dict[str, Any] = (
        {"start_method": {"forkserver": {}}} if executor == "multiprocess" else {}
    )
    config: dict[str, Any] = {"execution": {"config": {executor: settings}}}
    with execute_job(reconstructable(write_back_job), instance, run_config=config) as result:
        return result.success, result.run_id, result.all_events


def failure_line(events: list[Any]) -> str:
    failures = [e for e in events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert len(failures) == 1, [e.message for e in events]
    message = str(failures[0].step_failure_data.error.message).strip()
    assert "Traceback" not in message and len(message.splitlines()) == 1, message
    return message.removeprefix("dagster._core.definitions.events.Failure: ")


def writes(sim: Simulator) -> list[dict[str, Any]]:
    """Every write request the WMS answered (the token endpoint's POST is not one)."""
    return [
        entry
        for entry in sim.request_log()
        if entry["method"] in {"POST", "PATCH"} and "/lgfapi/" in entry["path"]
    ]


def step_window(instance: DagsterInstance, run_id: str) -> tuple[float, float]:
    """The write-back step's (start, success) times, from the run's event log."""
    times = {
        entry.dagster_event.event_type: entry.timestamp
        for entry in instance.all_logs(run_id)
        if entry.dagster_event is not None and entry.dagster_event.step_key is not None
    }
    return times[DagsterEventType.STEP_START], times[DagsterEventType.STEP_SUCCESS]


@pytest.mark.timeout(900)
def test_write_backs_run_one_at_a_time_and_apply_each_record_once(write_back: WriteBack) -> None:
    sim, env, instance = write_back.sim, write_back.env, write_back.instance
    before = sim.inventory_qty(*DELTA)
    assert before is not None

    # A run the pool does not see (another deployment, a `meltano run` by hand) holds the
    # ledger: the write-back is refused before it writes, in target-oracle-wms's own line.
    ledger = (write_back.volume / env / "ledger.sqlite").resolve()
    holder = Ledger(ledger, sim.base_url)
    try:
        ok, _, events = launch(instance, "in_process")
    finally:
        holder.close()
    assert not ok
    line = failure_line(events)
    assert line.startswith("write-back: target-oracle-wms")
    assert f"ledger_path '{ledger}': in use by another run" in line
    assert f"(pid {os.getpid()} on host {socket.gethostname()}, started " in line
    assert writes(sim) == []

    # Two runs launched at the same moment, as two workers would (each step in a process of
    # its own): the second waits for the pool's one slot, then finds every record applied.
    outcomes: dict[int, Any] = {}
    start = threading.Barrier(2)

    def worker(index: int) -> None:
        start.wait()
        outcomes[index] = launch(instance)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=800)
    for ok, _, events in outcomes.values():
        assert ok, [e.message for e in events if e.event_type == DagsterEventType.STEP_FAILURE]
    first, second = sorted(step_window(instance, run_id) for _, run_id, _ in outcomes.values())
    assert first[1] <= second[0]

    # Each record applied once in the WMS: the delta once, the count's history row once, one
    # PATCH per order row (an order update leaves no trace in the WMS to dedupe on: only the
    # ledger keeps the second run from sending it again).
    assert sim.inventory_qty(*DELTA) == before + 5
    assert len(sim.history_with_ref("WRITEBACK-DEMO-1:")) == 1
    assert sim.inventory_qty(*COUNT) == Decimal(700)
    assert len(sim.history_with_ref("singer:")) == 1
    patches = [w for w in writes(sim) if w["method"] == "PATCH" and "order_hdr" in w["path"]]
    assert len(patches) == len(ORDERS)
    orders = {
        o["order_nbr"]: (o["priority"], o["cust_field_1"])
        for o in all_records(sim, "order_hdr", facility_id__code="F1")
    }
    assert {nbr: orders[nbr] for nbr in ORDERS} == ORDERS
    # The ledger is on the volume; the state in the PostgreSQL every worker reaches.
    assert ledger.is_file()
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(**{**PG, "dbname": write_back.database}) as conn:
        ids = [row[0] for row in conn.execute("select state_id from state").fetchall()]
    assert f"dev:tap-postgres-to-target-oracle-wms:{env}" in ids


def test_write_back_runs_only_beside_its_ledger_one_at_a_time(
    place: Place, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ledger directory, one this worker does not have, or a pool that would let two runs
    in: each is one line, and nothing is created (the run stops before Meltano starts)."""
    env, instance = place.env, place.instance
    pool = f"oracle_wms_{env}_write_back"
    job = write_back_job()
    assert job.tags["oracle_wms/write_back"] == env
    # The code location loads as a whole, as `dagster dev` loads it (an op named as its job
    # made Dagster refuse the repository, and the UI showed empty groups).
    repository = build_definitions(os.environ).get_repository_def()
    jobs = {definition.name for definition in repository.get_all_jobs()}
    assert {f"{env}_write_back", f"{env}_wms_to_marts"} <= jobs
    assert {node.definition.pool for node in job.graph.nodes} == {pool}
    # On Kubernetes, the run's pod mounts the ledger's claim at WMS_LEDGER_DIR (dagster-k8s's
    # `dagster-k8s/config` tag, its documented keys).
    monkeypatch.setenv("WMS_LEDGER_VOLUME_CLAIM", "wms-ledger-prod")
    assert json.loads(write_back_job().tags["dagster-k8s/config"]) == {
        "container_config": {
            "volume_mounts": [{"name": "wms-ledger", "mount_path": str(place.volume)}]
        },
        "pod_spec_config": {
            "volumes": [
                {"name": "wms-ledger", "persistent_volume_claim": {"claim_name": "wms-ledger-prod"}}
            ]
        },
    }
    monkeypatch.delenv("WMS_LEDGER_VOLUME_CLAIM")

    monkeypatch.delenv("WMS_LEDGER_DIR")
    ok, _, events = launch(instance, "in_process")
    assert not ok
    assert failure_line(events).startswith(
        f"WMS_LEDGER_DIR is not set: the write-back of WMS environment {env} keeps"
    )

    missing = tmp_path / "not-mounted"
    monkeypatch.setenv("WMS_LEDGER_DIR", str(missing))
    ok, _, events = launch(instance, "in_process")
    assert not ok
    assert failure_line(events).startswith(
        f"WMS_LEDGER_DIR {missing} does not exist on this worker ({socket.gethostname()})"
    )
    assert not missing.exists()

    # The pool is checked before anything else a run does (here without a run: the same call).
    instance.event_log_storage.set_concurrency_slots(pool, 2)
    with pytest.raises(Failure) as refused:
        one_at_a_time(instance, pool)
    assert refused.value.description == (
        f"pool {pool} allows 2 steps at once; write-back must run one at a time (two runs "
        f"would race on one ledger): `dagster instance concurrency set {pool} 1`"
    )
    assert list(place.volume.iterdir()) == []

    # Write-back's share of the request budget: the loads get what is left.
    assert WmsEnvironment.from_environ({"WMS_REQUEST_BUDGET": "9"}).load_budget == 8
    with pytest.raises(SettingsError) as too_many:
        WmsEnvironment.from_environ({"WMS_REQUEST_BUDGET": "4", "WMS_WRITE_BACK_REQUESTS": "4"})
    assert str(too_many.value) == (
        "WMS_WRITE_BACK_REQUESTS='4': a whole number from 1 to 8 (target-oracle-wms's "
        "max_parallel_writes) and below WMS_REQUEST_BUDGET (4)"
    )
