"""`make demo`: the simulator, `meltano run tap-oracle-wms target-duckdb dbt-duckdb:build`, a
row-count table, and a few rows of each mart (transform/, schema analytics).

Starts `oracle-wms-sim` on a free loopback port (its data persists in output/sim.sqlite, so
repeated demos are incremental runs against the same warehouse), points the tap at it through
TAP_ORACLE_WMS_BASE_URL, loads output/wms.duckdb, then stops the simulator.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output"
BIN = Path(sys.executable).parent


def shown_conninfo(conninfo: str) -> str:
    """A connection URL fit for the log: its password, whatever it is, as `***`."""
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", conninfo)


def meltano(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`meltano ARGS` in the project, output captured; the caller reads its return code."""
    return subprocess.run(
        [str(BIN / "meltano"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def source_conninfo(env: dict[str, str]) -> str:
    """tap-postgres's `sqlalchemy_url` in the dev environment, as a libpq URL."""
    run = meltano("--environment", "dev", "config", "--unsafe", "print", "tap-postgres", env=env)
    if run.returncode != 0:
        sys.exit(f"meltano config print tap-postgres failed:\n{run.stderr[-3000:]}")
    url = str(json.loads(run.stdout)["sqlalchemy_url"])
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def start_simulator() -> tuple[subprocess.Popen[str], str]:
    """Start the simulator and return it with the base URL it prints first."""
    sim = subprocess.Popen(
        [str(BIN / "oracle-wms-sim"), "serve", "--port", "0", "--db", str(OUTPUT / "sim.sqlite")],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert sim.stdout is not None
    base_url = sim.stdout.readline().strip()
    if not base_url.startswith("http"):
        sim.kill()
        sys.exit(f"oracle-wms-sim did not start (printed {base_url!r})")
    return sim, base_url


MART_SAMPLES = (
    (
        "On hand by facility and location type (analytics.mart_inventory_on_hand)",
        "select facility_code, location_type_code, count(*) as items, sum(on_hand_qty) as on_hand,"
        " sum(available_qty) as available from analytics.mart_inventory_on_hand"
        " group by all order by all",
    ),
    (
        "Open orders and late ones (analytics.mart_open_orders)",
        "select facility_code, count(*) as open_orders, count(*) filter (where is_late) as late,"
        " max(days_late) as max_days_late, max(as_of_date) as as_of"
        " from analytics.mart_open_orders group by all order by all",
    ),
    (
        "Median hours per step (analytics.mart_order_cycle_times)",
        "select facility_code, count(shipped_ts) as shipped_orders,"
        " median(hours_created_to_allocated) as created_to_allocated,"
        " median(hours_allocated_to_picked) as allocated_to_picked,"
        " median(hours_created_to_shipped) as created_to_shipped"
        " from analytics.mart_order_cycle_times group by all order by all",
    ),
    (
        "ASNs received short the most (analytics.mart_inbound_receipts)",
        "select shipment_nbr, facility_code, ib_shipment_status_code as status, expected_qty,"
        " received_qty, variance_qty, history_received_qty"
        " from analytics.mart_inbound_receipts order by variance_qty, shipment_nbr limit 5",
    ),
    (
        "Latest days of movements (analytics.mart_daily_inventory_movements)",
        "select movement_date, sum(history_rows) as history_rows, sum(qty_in) as qty_in,"
        " sum(qty_out) as qty_out from analytics.mart_daily_inventory_movements"
        " group by all order by movement_date desc limit 5",
    ),
)


def print_rows(db: duckdb.DuckDBPyConnection, title: str, sql: str) -> None:
    """A small left-aligned table of a query's rows."""
    cursor = db.execute(sql)
    names = [column[0] for column in cursor.description or ()]
    rows = [[str(value) for value in row] for row in cursor.fetchall()]
    widths = [max(len(text) for text in column) for column in zip(names, *rows, strict=False)]
    print(f"\n{title}:")
    for line in (names, *rows):
        print("  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)))


def main() -> int:
    OUTPUT.mkdir(exist_ok=True)
    started = time.monotonic()
    sim, base_url = start_simulator()
    print(f"Simulator serving {base_url}", flush=True)
    try:
        env = {
            **os.environ,
            "TAP_ORACLE_WMS_BASE_URL": base_url,
            "PATH": f"{BIN}:{os.environ['PATH']}",
            # The simulator's warehouse history ends on this day: judge open orders against it.
            "WMS_AS_OF_DATE": os.environ.get("WMS_AS_OF_DATE", "2026-01-05"),
        }
        run = subprocess.run(
            [str(BIN / "meltano"), "run", "tap-oracle-wms", "target-duckdb", "dbt-duckdb:build"],
            cwd=ROOT,
            env=env,
            check=False,
        )
    finally:
        sim.terminate()
        sim.wait(timeout=30)
    if run.returncode != 0:
        print(f"meltano run failed with exit code {run.returncode}", file=sys.stderr)
        return run.returncode
    db_path = OUTPUT / "wms.duckdb"
    with duckdb.connect(str(db_path), read_only=True) as db:
        tables = db.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema = 'oracle_wms' order by table_name"
        ).fetchall()
        counts: list[tuple[str, int]] = []
        for schema, name in tables:
            row = db.execute(f'select count(*) from "{schema}"."{name}"').fetchone()
            counts.append((name, int(row[0]) if row else 0))
    width = max(len(name) for name, _ in counts)
    print(f"\nLoaded into {db_path.relative_to(ROOT)} (schema oracle_wms):")
    print(f"{'table'.ljust(width)}  rows")
    for name, count in counts:
        print(f"{name.ljust(width)}  {count:>6}")
    print(f"{'total'.ljust(width)}  {sum(c for _, c in counts):>6}")
    with duckdb.connect(str(db_path), read_only=True) as db:
        for title, sql in MART_SAMPLES:
            print_rows(db, title, sql)
    print(f"\nDemo finished in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
