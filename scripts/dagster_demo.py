"""`make dagster`: the Dagster UI on the demo warehouse.

Starts the simulator (output/sim.sqlite, as `make demo`), then `dagster dev` on the definitions in
orchestration/ with WMS environment `demo`: every entity group of meltano.yml loads into
PostgreSQL (database `test`, schema oracle_wms_demo; Meltano's state in the same database), the
marts build into analytics_demo. Dagster's instance lives in output/dagster (pool limit 2,
orchestration/dagster.yaml). The job demo_write_back writes the sample of `make demo-writeback`
(schema wms_writeback of database `test`) into the simulator: its pool is set to 1 here and its
ledger is in output/dagster/ledger (this machine's stand-in for the ledger's volume). Ctrl-C stops
both.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from demo import BIN, OUTPUT, ROOT, start_simulator

DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main() -> None:
    OUTPUT.mkdir(exist_ok=True)
    home = OUTPUT / "dagster"
    home.mkdir(exist_ok=True)
    ledger = home / "ledger"
    ledger.mkdir(exist_ok=True)
    shutil.copy(ROOT / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    sim, base_url = start_simulator()
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DAGSTER_HOME": str(home),
        "WMS_ENVIRONMENT": "demo",
        "TAP_ORACLE_WMS_BASE_URL": base_url,
        "TAP_ORACLE_WMS_USERNAME": "demo",
        "TAP_ORACLE_WMS_PASSWORD": "demo",
        "TARGET_ORACLE_WMS_BASE_URL": base_url,
        "WMS_LEDGER_DIR": str(ledger),
        "MELTANO_DATABASE_URI": os.environ.get("MELTANO_DATABASE_URI", DATABASE),
        "TARGET_POSTGRES_SQLALCHEMY_URL": os.environ.get(
            "TARGET_POSTGRES_SQLALCHEMY_URL", DATABASE
        ),
        "DBT_POSTGRES_DBNAME": os.environ.get("DBT_POSTGRES_DBNAME", "test"),
    }
    # Meltano's system database migrated once, before loads start side by side.
    subprocess.run([str(BIN / "meltano"), "upgrade", "database"], cwd=ROOT, env=env, check=True)
    # Write-back one run at a time (orchestration/write_back.py refuses a pool of another limit).
    subprocess.run(
        [str(BIN / "dagster"), "instance", "concurrency", "set", "oracle_wms_demo_write_back", "1"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    port = os.environ.get("DAGSTER_PORT", "3000")
    print(f"simulator at {base_url}; Dagster UI at http://127.0.0.1:{port}", flush=True)
    dagster = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "-m", "orchestration.location", "-p", port],
        cwd=ROOT,
        env=env,
    )
    try:
        dagster.wait()
    except KeyboardInterrupt:
        # Ctrl-C reached `dagster dev` too: let it stop its webserver, daemon and code server.
        try:
            dagster.wait(timeout=60)
        except subprocess.TimeoutExpired:
            dagster.terminate()
            dagster.wait()
    finally:
        sim.terminate()
        sim.wait(timeout=10)


if __name__ == "__main__":
    main()
