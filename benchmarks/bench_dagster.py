"""Dagster (issue 27): one job against the entity groups run side by side, at 300 ms a request.

    .venv/bin/python benchmarks/bench_dagster.py

Both read the 25 entities of tap-oracle-wms's selection from a fresh simulator (seed 42, scale
1) into PostgreSQL, from empty state: "one job" is `meltano run tap-oracle-wms target-postgres`
(max_concurrent_requests 8, the default); "groups" is the Dagster job's five loads
(orchestration/, the marts left out) on a temporary instance whose pool allows 2 at once, each
with max_concurrent_requests 9 // 2 = 4. Prints wall time and the simulator's peak of requests
in flight for each. Not part of `make bench` (it needs `.[dagster]` and PostgreSQL).

Measured 2026-12-06 on the shared 2-core machine (load average 12 to 24, so the wall times are
high for both; the ratio is what to read):

| run (300 ms a request) | wall s | peak in flight | requests |
| --- | ---: | ---: | ---: |
| one job | 119.9 | 8 | 906 |
| groups, pool 2 x 4 | 316.2 | 8 | 1086 |

Within one environment's budget, groups are not faster: the budget (8 of 9) is the limit either
way, the longest group (history) gets 4 requests instead of 8, and each group pays its own
Dagster step process, Meltano start and catalog (two groups starting together discovered twice:
the 180 more requests). What they buy is independence: a group's state, failure and rerun are
its own, groups can run on other workers, and each environment has a budget of its own. With
the discovery cache off (every group discovering), the groups took 554.2 s and 1626 requests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dagster import DagsterInstance, execute_job, reconstructable  # noqa: E402

from oracle_wms_sim import Simulator  # noqa: E402
from orchestration.definitions import build_definitions  # noqa: E402

BIN = Path(sys.executable).parent
LATENCY_MS = 300
PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


def loads_job() -> Any:
    """The environment's job, its loads only (rebuilt in each step's process)."""
    defs = build_definitions(os.environ)
    name = os.environ["WMS_ENVIRONMENT"]
    job = defs.resolve_job_def(f"{name}_wms_to_marts")
    keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[1:2] == ["wms"]]
    return job.get_subset(asset_selection=set(keys))


def counts(sim: Simulator) -> tuple[int, int]:
    """The peak of requests in flight and the requests answered since the log was cleared."""
    return sim.peak_in_flight(), len(sim.request_log())


def main() -> None:
    database = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{database}"')
    url = f"{PG}/{database}"
    rows = []
    try:
        with Simulator(seed=42, scale=1) as sim, tempfile.TemporaryDirectory() as tmp:
            os.environ.update(
                {
                    "TAP_ORACLE_WMS_BASE_URL": sim.base_url,
                    "TAP_ORACLE_WMS_USERNAME": sim.username,
                    "TAP_ORACLE_WMS_PASSWORD": sim.password,
                    # A discovery cache of this run's own: each run discovers once, cold.
                    "TAP_ORACLE_WMS_DISCOVERY_CACHE_PATH": str(Path(tmp) / "discovery-one"),
                    "MELTANO_DATABASE_URI": url,
                    "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                    "TARGET_POSTGRES_SQLALCHEMY_URL": url,
                    "WMS_ENVIRONMENT": "bench",
                    "PATH": f"{BIN}:{os.environ['PATH']}",
                }
            )
            sim.add_fault("latency", rate=1.0, latency_ms=LATENCY_MS)

            sim.clear_request_log()
            started = time.monotonic()
            subprocess.run(
                [str(BIN / "meltano"), "run", "tap-oracle-wms", "target-postgres"],
                cwd=ROOT,
                env={**os.environ, "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": "bench_one_job"},
                check=True,
                capture_output=True,
            )
            rows.append(("one job", time.monotonic() - started, *counts(sim)))

            os.environ["TAP_ORACLE_WMS_DISCOVERY_CACHE_PATH"] = str(Path(tmp) / "discovery-groups")
            sim.clear_request_log()
            overrides = {"concurrency": {"pools": {"default_limit": 2}}}
            home = Path(tmp) / "dagster"
            home.mkdir()
            with DagsterInstance.local_temp(str(home), overrides=overrides) as instance:
                started = time.monotonic()
                config = {"execution": {"config": {"multiprocess": {"max_concurrent": 5}}}}
                with execute_job(reconstructable(loads_job), instance, run_config=config) as result:
                    assert result.success
                rows.append(("groups, pool 2 x 4", time.monotonic() - started, *counts(sim)))
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print(f"| run ({LATENCY_MS} ms a request) | wall s | peak in flight | requests |")
    print("| --- | ---: | ---: | ---: |")
    for name, wall, peak, requests in rows:
        print(f"| {name} | {wall:.1f} | {peak} | {requests} |")


if __name__ == "__main__":
    main()
