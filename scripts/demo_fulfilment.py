"""`make demo-fulfilment`: an order-to-ship and receiving flow from a PostgreSQL system of record
into the WMS and back, every write a `meltano run ... target-oracle-wms` step.

The system of record is schema `fulfilment` (writeback/fulfilment/schema.sql) in the database
tap-postgres reads in the `dev` environment; the WMS is read back into schema `fulfilment_wms`
of the same database (`meltano run fulfilment-readback`). Both schemas are recreated each run,
and every business key carries the run's tag. The steps, each a SQL file of
writeback/fulfilment/ and a Meltano job of meltano.yml:

1. read the WMS back (items with stock, locations), seed orders and an ASN for stock that exists;
2. stage the orders and the ASN (`fulfilment-stage`);
3. run a manual wave of the orders' lines (`fulfilment-waves`), read back what it allocated;
4. the pick-to-light log from the allocations, confirmed pick by pick (`fulfilment-picks`);
5. ship the closed LPNs (`fulfilment-ship`); 6. receive the ASN's LPNs (`fulfilment-receive`);
7. read everything back and print each order line and each item's stock against what the
   system of record did (writeback/fulfilment/result.sql), then the simulator's request counts.

Exits non-zero when a step fails or the WMS's end state differs from the system of record's.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import psycopg
import requests
from demo import BIN, OUTPUT, ROOT, meltano, shown_conninfo, source_conninfo, start_simulator

SQL_DIR = ROOT / "writeback" / "fulfilment"
FACILITY = "F1"
TEMPLATE = "TPL-F1-ALL"
ORDERS = 4
SUMMARY = re.compile(
    r"Stream '(?P<stream>[^']+)': (?P<applied>\d+) applied, (?P<already>\d+) "
    r"already applied \(skipped\), (?P<rejected>\d+) rejected"
)
WRITE_STEPS = (
    # (title, SQL that builds the step's table, Meltano job, the table the job reads)
    ("stage orders and ASN", "stage.sql", "fulfilment-stage", ("order_document", "asn_document")),
    ("run the wave", "waves.sql", "fulfilment-waves", ("wave_request",)),
    ("confirm picks", "picks.sql", "fulfilment-picks", ("pick_log",)),
    ("ship LPNs", "shipments.sql", "fulfilment-ship", ("lpn_shipment",)),
    ("receive the ASN", "receipts.sql", "fulfilment-receive", ("asn_receipt",)),
)
READ_COUNT = re.compile(r"Run done: \d+ entities, (\d+) records")
"""The tap's run summary in a read-back's log (`Run done: 5 entities, 9 records ...`; the SDK's
per-request record counters are off by default, `metrics_log_level`); only the tap's line
(`tap-wms-fulfilment`) is counted, not the loader's."""
READ_BACK_AFTER = {"fulfilment-waves"}
"""Steps after which the next one needs the WMS's data (which locations the wave allocated)."""


class StepFailedError(Exception):
    """A Meltano run exited non-zero (the message holds its output's tail)."""


class Flow:
    """One run of the flow against one WMS and one database."""

    def __init__(
        self, conninfo: str, base_url: str, env: dict[str, str], tag: str, orders: int = ORDERS
    ) -> None:
        self.conninfo = conninfo
        self.orders = orders
        self.base_url = base_url
        self.tag = tag
        loader_url = re.sub(r"^postgresql://", "postgresql+psycopg://", conninfo)
        self.env = {
            **env,
            "TAP_ORACLE_WMS_BASE_URL": base_url,
            "TARGET_ORACLE_WMS_BASE_URL": base_url,
            # The read-back lands beside the system of record, whatever target-postgres names.
            "TARGET_POSTGRES_FULFILMENT_SQLALCHEMY_URL": loader_url,
            # This run's own state: its read-backs start from an empty schema.
            "MELTANO_RUN_STATE_ID_SUFFIX": f"fulfilment-{tag}",
        }
        self.requests: list[tuple[str, int, list[dict[str, Any]]]] = []

    def sql(self, name: str) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute((SQL_DIR / name).read_text())  # type: ignore[arg-type]

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.conninfo) as conn:
            return conn.execute(query).fetchall()  # type: ignore[arg-type]

    def admin(self, method: str, path: str) -> Any:
        root = self.base_url.rsplit("/", 1)[0]
        response = requests.request(
            method, f"{root}/_sim/{path}", auth=("demo", "demo"), timeout=30
        )
        response.raise_for_status()
        return response.json()

    def run_job(self, job: str) -> str:
        self.admin("DELETE", "requests")
        run = meltano("run", job, env=self.env)
        output = run.stdout + run.stderr
        if run.returncode != 0:
            raise StepFailedError(f"meltano run {job} failed ({run.returncode}):\n{output[-5000:]}")
        return output

    def start(self) -> None:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute((SQL_DIR / "schema.sql").read_text())  # type: ignore[arg-type]
            conn.execute("DROP SCHEMA IF EXISTS fulfilment_wms CASCADE")
            conn.execute(
                "INSERT INTO fulfilment.flow_run VALUES (%s, %s, %s, %s)",
                (self.tag, FACILITY, self.orders, TEMPLATE),
            )

    def read_back(self) -> None:
        started = time.monotonic()
        output = self.run_job("fulfilment-readback")
        loaded = sum(
            int(found.group(1))
            for line in output.splitlines()
            if "tap-wms-fulfilment" in line and (found := READ_COUNT.search(line))
        )
        print(f"  read back: {loaded} records in {time.monotonic() - started:.0f} s", flush=True)

    def write_step(self, title: str, sql: str, job: str, tables: Sequence[str]) -> None:
        self.sql(sql)
        counts = {
            table: self.rows(f"select count(*) from fulfilment.{table}")[0][0] for table in tables
        }
        built = ", ".join(f"{n} {table} rows" for table, n in counts.items())
        print(f"\n{title} ({built}): meltano run {job}", flush=True)
        started = time.monotonic()
        output = self.run_job(job)
        log = self.admin("GET", "requests")
        self.requests.append((job, sum(counts.values()), log))
        for match in SUMMARY.finditer(output):
            print(f"  {match.group(0)}")
        print(f"  {len(log)} WMS requests in {time.monotonic() - started:.0f} s", flush=True)
        if job in READ_BACK_AFTER:
            self.read_back()

    def run(self) -> bool:
        """Every step, then the result tables; True when the WMS matches the system of record."""
        self.start()
        print(f"Run {self.tag}: system of record in schema fulfilment", flush=True)
        print("\nread the WMS's master data and stock: meltano run fulfilment-readback")
        self.read_back()
        self.sql("seed.sql")
        orders, lines = self.rows(
            "select count(distinct order_nbr), count(*) from fulfilment.sales_order_line"
        )[0]
        print(f"  seeded {orders} orders ({lines} lines) and 1 ASN for items with stock")
        for step in WRITE_STEPS:
            self.write_step(*step)
        print("\nread the end state back: meltano run fulfilment-readback")
        self.read_back()
        self.sql("result.sql")
        ok_orders = self.table("Orders (WMS status and shipped quantity)", "order_result")
        ok_stock = self.table("Stock per item (on hand in the WMS)", "stock_result")
        self.print_request_costs()
        return ok_orders and ok_stock

    def table(self, title: str, view: str) -> bool:
        with psycopg.connect(self.conninfo) as conn:
            cursor = conn.execute(f"select * from fulfilment.{view} order by 1, 2")  # type: ignore[arg-type]
            names = [c.name for c in cursor.description or ()]
            rows = cursor.fetchall()
        text = [[_text(v) for v in row] for row in rows]
        widths = [max(len(s) for s in column) for column in zip(names, *text, strict=False)]
        print(f"\n{title}:")
        for line in (names, *text):
            print("  ".join(s.ljust(w) for s, w in zip(line, widths, strict=True)))
        return bool(rows) and all(row[-1] is True for row in rows)

    def print_request_costs(self) -> None:
        print("\nWMS requests per write-back step (the simulator's request log):")
        for job, records, log in self.requests:
            kinds = Counter(_kind(entry) for entry in log)
            detail = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
            per = len(log) / records if records else 0
            print(f"  {job}: {records} records, {len(log)} requests ({per:.1f} per record)")
            print(f"    {detail}")


def _kind(entry: dict[str, Any]) -> str:
    path = re.sub(r"^/[^/]+/wms/lgfapi/v10/", "", entry["path"])
    path = re.sub(r"/\d+/", "/{id}/", path).rstrip("/")
    return f"{entry['method']} {path}"


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return f"{value.normalize():f}" if isinstance(value, Decimal) else str(value)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--base-url",
        help="a running simulator's base URL (tests); default: start one on output/sim.sqlite",
    )
    parser.add_argument("--orders", type=int, default=ORDERS, help="sales orders to seed (1-50)")
    args = parser.parse_args(argv)
    OUTPUT.mkdir(exist_ok=True)
    started = time.monotonic()
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    conninfo = source_conninfo(env)
    sim, base_url = (None, args.base_url) if args.base_url else start_simulator()
    shown = shown_conninfo(conninfo)
    print(f"Simulator serving {base_url}; system of record in {shown}", flush=True)
    try:
        flow = Flow(conninfo, base_url, env, uuid.uuid4().hex[:6].upper(), args.orders)
        ok = flow.run()
    except StepFailedError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        if sim is not None:
            sim.terminate()
            sim.wait(timeout=30)
    print(f"\nFulfilment demo finished in {time.monotonic() - started:.1f} s")
    if not ok:
        print("The WMS's end state differs from the system of record (rows marked NO)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
