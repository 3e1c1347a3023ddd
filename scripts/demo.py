"""`make demo`: the simulator, `meltano run tap-oracle-wms target-duckdb`, and a row-count table.

Starts `oracle-wms-sim` on a free loopback port (its data persists in output/sim.sqlite, so
repeated demos are incremental runs against the same warehouse), points the tap at it through
TAP_ORACLE_WMS_BASE_URL, loads output/wms.duckdb, then stops the simulator.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output"
BIN = Path(sys.executable).parent


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
        }
        run = subprocess.run(
            [str(BIN / "meltano"), "run", "tap-oracle-wms", "target-duckdb"],
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
    print(f"\nDemo finished in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
