"""`make demo-writeback`: reverse ETL from PostgreSQL into the simulator, then what was applied.

Loads writeback/wms_writeback.sql into the PostgreSQL database that tap-postgres reads in the
`dev` environment (schema `wms_writeback`, recreated each time), starts `oracle-wms-sim` on the
same data as `make demo` (output/sim.sqlite), runs the `postgres-to-wms` job
(`meltano run postgres-to-wms`) against it and prints the target's per-stream counts and the
WMS rows the sample touched. A second run applies nothing: every row is already applied.
"""

from __future__ import annotations

import os
import re
import sys
import time
from typing import Any

import psycopg
import requests
from demo import BIN, OUTPUT, ROOT, meltano, shown_conninfo, source_conninfo, start_simulator

SQL = ROOT / "writeback" / "wms_writeback.sql"
SUMMARY = re.compile(r"Stream '[^']+': \d+ applied, .*rejected.*")


def wms_rows(base_url: str, entity: str, **filters: str) -> list[dict[str, Any]]:
    response = requests.get(
        f"{base_url}/wms/lgfapi/v10/entity/{entity}/",
        params={"page_size": 100, **filters},
        auth=("demo", "demo"),
        timeout=30,
    )
    return [] if response.status_code == 404 else list(response.json()["results"])


def print_wms_state(base_url: str, conninfo: str) -> None:
    """The WMS rows each sample table names, as the simulator now serves them."""
    with psycopg.connect(conninfo) as conn:
        adjustments = conn.execute(
            "select facility_code, location_barcode, item_code from "
            "wms_writeback.inventory_adjustment order by id"
        ).fetchall()
        orders = conn.execute(
            "select facility_code, order_nbr from wms_writeback.order_hdr order by 2"
        ).fetchall()
        lpns = conn.execute(
            "select facility_code, container_nbr from wms_writeback.oblpn_shipment order by 2"
        ).fetchall()
    print("\nNow in the WMS:")
    for facility, location, item in adjustments:
        qty = sum(
            float(r["curr_qty"])
            for r in wms_rows(
                base_url,
                "inventory",
                facility_id__code=facility,
                location_id__barcode=location,
                item_id__code=item,
            )
        )
        print(f"  inventory {facility} {location} {item}: curr_qty {qty:g}")
    for facility, order_nbr in orders:
        for r in wms_rows(base_url, "order_hdr", facility_id__code=facility, order_nbr=order_nbr):
            print(
                f"  order_hdr {facility} {order_nbr}: priority {r['priority']}, "
                f"cust_field_1 {r['cust_field_1']!r}"
            )
    for facility, lpn in lpns:
        for r in wms_rows(base_url, "oblpn", facility_id__code=facility, container_nbr=lpn):
            status = r["status_id"]
            print(f"  oblpn {facility} {lpn}: status {status}")


def main() -> int:
    OUTPUT.mkdir(exist_ok=True)
    started = time.monotonic()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    conninfo = source_conninfo(env)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(SQL.read_text())  # type: ignore[arg-type]
    shown = shown_conninfo(conninfo)
    print(f"Loaded {SQL.relative_to(ROOT)} into {shown} (schema wms_writeback)", flush=True)
    sim, base_url = start_simulator()
    print(f"Simulator serving {base_url}", flush=True)
    try:
        run = meltano("run", "postgres-to-wms", env={**env, "TARGET_ORACLE_WMS_BASE_URL": base_url})
        summary = [m.group(0) for m in SUMMARY.finditer(run.stdout + run.stderr)]
        if run.returncode != 0:
            print(run.stdout[-3000:], run.stderr[-6000:], sep="\n", file=sys.stderr)
            print(f"meltano run postgres-to-wms failed ({run.returncode})", file=sys.stderr)
            return run.returncode
        print("\nmeltano run postgres-to-wms (target-oracle-wms):")
        for line in summary:
            print(f"  {line}")
        print_wms_state(base_url, conninfo)
    finally:
        sim.terminate()
        sim.wait(timeout=30)
    print(f"\nWriteback demo finished in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
