"""The order-to-ship and receiving flow end to end (issue 15): a PostgreSQL system of record
(writeback/fulfilment/) written into the simulator step by step through Meltano
(`meltano run fulfilment-*`: tap-postgres -> target-oracle-wms), read back through
`meltano run fulfilment-readback` (tap-oracle-wms -> target-postgres).

What the WMS must hold at the end is computed here, from the system of record's own tables and
the simulator's stock read over its API before the flow, never from the flow's result views
or the target's reports: every order Shipped, each line having shipped its ordered quantity,
or all the WMS had free of its item when that was less (the seed orders one line short), each
item's on-hand quantity moved by exactly the shipped and received quantities, one Pick history
row per allocation, every allocation packed in full, exactly one new wave, one IBLPN per
scanned LPN holding what was scanned, every ASN line received in full.

The kill test SIGKILLs the Meltano process group of the pick step and of the receive step at a
random write (the n-th POST, n drawn from a seed printed with every failure; set
FULFILMENT_KILL_SEED to replay one), reruns each, and asserts the same end state. Its orders
also have lines split over several allocations (a second line of an item already ordered, from
the same location) and its pick log picks at most 3 units a press, so presses cross from one
allocation into the next (issue 22): the end state then also counts one Pick history row per
press and, per order and item, as many units picked as packed.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from oracle_wms_sim import Simulator
from tests.conftest import BIN, ROOT, all_records, meltano, meltano_env

SQL = ROOT / "writeback" / "fulfilment"
FACILITY, COMPANY, TEMPLATE, ORDERS = "F1", "C1", "TPL-F1-ALL", 3
STEPS = (
    ("stage.sql", "fulfilment-stage"),
    ("waves.sql", "fulfilment-waves"),
    ("picks.sql", "fulfilment-picks"),
    ("shipments.sql", "fulfilment-ship"),
    ("receipts.sql", "fulfilment-receive"),
)
KILLED = {"fulfilment-picks": "pick_pack/", "fulfilment-receive": "iblpn/receive"}
"""The steps the kill test interrupts, and the POST whose n-th occurrence triggers the kill (a
pick log line goes to pick_confirm, close_lpn or wave_complete: every `pick_pack/` POST counts)."""
PICK, RECEIPT = 6, 1
"""history_activity ids (the simulator's code table, docs/simulator.md)."""
PICKED_STATUS, RECEIVED_STATUS = 50, 10
SHIPPED = 90
OPEN_ALLOCATION = {0, 10}
"""allocation_status Created, In Picking."""
SUMMARY = re.compile(
    r"Stream '(?P<stream>[^']+)': (?P<applied>\d+) applied, (?P<already>\d+) already applied "
    r"\(skipped\), (?P<rejected>\d+) rejected"
)
STREAMS = {
    f"fulfilment-{table}"
    for table in ("order_document", "asn_document", "wave_request", "pick_log", "lpn_shipment")
} | {"fulfilment-asn_receipt"}


def _conninfo(database: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}"


def _env(sim: Simulator, tmp_path: Path, database: str) -> dict[str, str]:
    return {
        "TAP_POSTGRES_SQLALCHEMY_URL": (
            f"postgresql+psycopg2://postgres:trust@127.0.0.1:5432/{database}"
        ),
        "TARGET_POSTGRES_FULFILMENT_SQLALCHEMY_URL": (
            f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
        ),
        "TAP_ORACLE_WMS_BASE_URL": sim.base_url,
        "TARGET_ORACLE_WMS_BASE_URL": sim.base_url,
        "TARGET_ORACLE_WMS_LEDGER_PATH": str(tmp_path / "ledger.sqlite"),
        "TARGET_ORACLE_WMS_REJECTS_PATH": str(tmp_path / "rejects.jsonl"),
    }


def _rows(database: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(_conninfo(database)) as conn:
        return conn.execute(query).fetchall()  # type: ignore[arg-type]


def _stock(sim: Simulator) -> dict[str, Decimal]:
    """On-hand quantity per item code in the facility, every inventory row (API)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in all_records(sim, "inventory", facility_id__code=FACILITY):
        totals[row["item_id"]["key"]] += Decimal(row["curr_qty"])
    return dict(totals)


def _available(sim: Simulator) -> dict[str, Decimal]:
    """What a wave can allocate per item code (API): per ACTIVE location, the unlocked units
    outside any LPN less the open quantity of the Created / In Picking allocations from it,
    when above zero (docs/api-contract.md L7)."""
    active = {
        r["id"]
        for r in all_records(sim, "location", facility_id__code=FACILITY)
        if r["location_type_id"]["key"] == "ACTIVE"
    }
    free: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for r in all_records(sim, "inventory", facility_id__code=FACILITY):
        location = (r["location_id"] or {}).get("id")
        if location in active and r["container_id"] is None and not r["lock_flg"]:
            free[r["item_id"]["key"], location] += Decimal(r["curr_qty"])
    for a in all_records(sim, "allocation", facility_id__code=FACILITY):
        key = (a["item_id"]["key"], (a["from_location_id"] or {}).get("id"))
        if a["status_id"] in OPEN_ALLOCATION and key in free:
            free[key] -= Decimal(a["alloc_qty"]) - Decimal(a["packed_qty"])
    available: dict[str, Decimal] = defaultdict(Decimal)
    for (item, _), qty in free.items():
        available[item] += max(qty, Decimal(0))
    return dict(available)


def _max_id(sim: Simulator, entity: str) -> int:
    return max((r["id"] for r in all_records(sim, entity, facility_id__code=FACILITY)), default=0)


def _expected(
    database: str, stock_before: dict[str, Decimal], available: dict[str, Decimal]
) -> dict[str, Any]:
    """The end state the system of record's own tables call for: each line ships what was
    ordered, or all the WMS had free of its item when that was less (each item is on one line)."""
    lines = _rows(
        database, "select order_nbr, seq_nbr, item_code, ord_qty from fulfilment.sales_order_line"
    )
    asn = _rows(database, "select seq_nbr, item_code, shipped_qty from fulfilment.asn_line")
    scans = _rows(
        database,
        "select r.container_nbr, e ->> 'item_code', (e ->> 'qty')::numeric "
        "from fulfilment.asn_receipt r, jsonb_array_elements(r.items) e",
    )
    free = dict(available)
    shipped: dict[tuple[str, int], Decimal] = {}
    for order, seq, item, qty in sorted(lines):  # waved by order, then line
        shipped[order, seq] = min(qty, free.get(item, Decimal(0)))
        free[item] = free.get(item, Decimal(0)) - shipped[order, seq]
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for order, seq, item, _ in lines:
        moved[item] -= shipped[order, seq]
    for _, item, qty in asn:
        moved[item] += qty
    iblpns: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for container, item, qty in scans:
        iblpns[container][item] = qty
    return {
        "orders": {order: SHIPPED for order, _, _, _ in lines},
        "shipped": shipped,
        "stock": {
            item: stock_before.get(item, Decimal(0)) + delta for item, delta in moved.items()
        },
        "picked_per_line": shipped,
        "unpacked_allocations": 0,
        "iblpns": dict(iblpns),
        "received": {seq: qty for seq, _, qty in asn},
        "receipt_history": Counter((c, i) for c, i, _ in scans),
        "new_waves": 1,
    }


def _history(sim: Simulator, activity: int, status: int, prefix: str) -> list[dict[str, Any]]:
    """This flow's inventory_history rows of one activity and status (its LPNs: `prefix`)."""
    rows = all_records(
        sim,
        "inventory_history",
        company_id__code=COMPANY,
        facility_id__code=FACILITY,
        history_activity_id=activity,
        status_id=status,
    )
    return [h for h in rows if (h["container_nbr"] or "").startswith(prefix)]


def _actual(sim: Simulator, database: str, items: set[str], wave_id_before: int) -> dict[str, Any]:
    """The same figures, as the simulator serves them now (API reads only)."""
    tag = _rows(database, "select tag from fulfilment.flow_run")[0][0]
    order_nbrs = [r[0] for r in _rows(database, "select order_nbr from fulfilment.sales_order")]
    headers = [
        h
        for h in all_records(sim, "order_hdr", facility_id__code=FACILITY)
        if h["order_nbr"] in order_nbrs
    ]
    order_of = {h["id"]: h["order_nbr"] for h in headers}
    details = [d for d in all_records(sim, "order_dtl") if d["order_id"]["id"] in order_of]
    line_of = {d["id"]: (order_of[d["order_id"]["id"]], d["seq_nbr"]) for d in details}
    allocations = [a for a in all_records(sim, "allocation") if a["order_dtl_id"]["id"] in line_of]
    picked: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for a in allocations:
        picked[line_of[a["order_dtl_id"]["id"]]] += Decimal(a["packed_qty"])
    pick_rows = _history(sim, PICK, PICKED_STATUS, f"OB{tag}")
    receipts = _history(sim, RECEIPT, RECEIVED_STATUS, f"IB{tag}")
    iblpns: dict[str, dict[str, Decimal]] = {}
    for lpn in all_records(sim, "iblpn", facility_id__code=FACILITY):
        if lpn["container_nbr"].startswith(f"IB{tag}"):
            contents = all_records(sim, "inventory", container_id=lpn["id"])
            iblpns[lpn["container_nbr"]] = {
                r["item_id"]["key"]: Decimal(r["curr_qty"]) for r in contents
            }
    shipment = next(
        s
        for s in all_records(sim, "ib_shipment", facility_id__code=FACILITY)
        if s["shipment_nbr"] == f"ASN-{tag}"
    )
    asn_lines = all_records(sim, "ib_shipment_dtl", shipment_id=shipment["id"])
    stock_now = _stock(sim)
    return {
        "orders": {h["order_nbr"]: h["status_id"] for h in headers},
        "shipped": {line_of[d["id"]]: Decimal(d["shipped_qty"]) for d in details},
        "stock": {item: stock_now.get(item, Decimal(0)) for item in items},
        "picked_per_line": dict(picked),
        "unpacked_allocations": sum(
            1 for a in allocations if Decimal(a["packed_qty"]) != Decimal(a["alloc_qty"])
        ),
        "iblpns": iblpns,
        "received": {d["seq_nbr"]: Decimal(d["received_qty"]) for d in asn_lines},
        "receipt_history": Counter((h["container_nbr"], h["item_code"]) for h in receipts),
        "new_waves": sum(
            1
            for w in all_records(sim, "wave", facility_id__code=FACILITY)
            if w["id"] > wave_id_before
        ),
        # Not in the expectation: what was picked is what was packed (below).
        "pick_history": _totals(
            (h["transaction_ref_nbr"], h["item_code"], -Decimal(h["adj_qty"])) for h in pick_rows
        ),
        "allocations": _totals(
            (line_of[a["order_dtl_id"]["id"]][0], a["item_id"]["key"], Decimal(a["packed_qty"]))
            for a in allocations
        ),
        "presses": len(pick_rows),
    }


def _totals(rows: Any) -> dict[tuple[str, str], Decimal]:
    """(order, item) -> the sum of the quantities, where above zero."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for order, item, qty in rows:
        totals[order, item] += qty
    return {key: qty for key, qty in totals.items() if qty}


def _assert_end_state(sim: Simulator, database: str, before: dict[str, Any], why: str) -> None:
    expected = _expected(database, before["stock"], before["available"])
    # The flow ships one line short: ordered above what the WMS had free.
    assert sum(expected["shipped"].values()) < sum(
        r[0] for r in _rows(database, "select ord_qty from fulfilment.sales_order_line")
    ), "no short line: the seed found no item with 1 to 39 units free"
    actual = _actual(sim, database, set(expected["stock"]), before["wave_id"])
    # Per order and item, the units picked (history) are the units packed: nothing picked twice;
    # and one Pick history row per press of the log.
    assert actual.pop("pick_history") == actual.pop("allocations"), why
    presses = _rows(database, "select count(*) from fulfilment.pick_log where action_code = 'Pick'")
    assert actual.pop("presses") == presses[0][0], why
    for key, value in expected.items():
        assert actual[key] == value, f"{key}: {why}"


def _before(sim: Simulator) -> dict[str, Any]:
    """What the end state is measured against, read before any write."""
    return {"stock": _stock(sim), "available": _available(sim), "wave_id": _max_id(sim, "wave")}


def _start_flow(database: str, tag: str) -> None:
    with psycopg.connect(_conninfo(database), autocommit=True) as conn:
        conn.execute((SQL / "schema.sql").read_text())  # type: ignore[arg-type]
        conn.execute(
            "INSERT INTO fulfilment.flow_run VALUES (%s, %s, %s, %s)",
            (tag, FACILITY, ORDERS, TEMPLATE),
        )


def _sql(database: str, name: str) -> None:
    _run_sql(database, (SQL / name).read_text())


def _run_sql(database: str, text: str) -> None:
    with psycopg.connect(_conninfo(database), autocommit=True) as conn:
        conn.execute(text)  # type: ignore[arg-type]


SPLIT_LINE = """
INSERT INTO fulfilment.sales_order_line (order_nbr, seq_nbr, item_code, ord_qty)
SELECT l.order_nbr, 3, l.item_code, 7 FROM fulfilment.sales_order_line l
JOIN fulfilment.flow_run r ON l.order_nbr = format('SO-%s-2', r.tag) AND l.seq_nbr = 1
"""
"""Order 2 also orders 7 more of its line 1's item (at least 40 free, from one location first):
two allocations of one item and location for one order."""
PRESSES_OF_3 = """
CREATE TEMPORARY TABLE press ON COMMIT DROP AS
WITH g AS (
    SELECT facility_code, wave_nbr, order_nbr, item_code, pick_location, to_container_nbr,
           sum(qty) AS total, min(pick_nbr) AS first
    FROM fulfilment.pick_log WHERE action_code = 'Pick'
    GROUP BY 1, 2, 3, 4, 5, 6
)
SELECT g.*, k, least(3, g.total - 3 * (k - 1)) AS qty
FROM g, generate_series(1, ceil(g.total / 3)::int) AS k;
CREATE TEMPORARY TABLE closing ON COMMIT DROP AS
SELECT * FROM fulfilment.pick_log WHERE action_code = 'Close';
DELETE FROM fulfilment.pick_log;
INSERT INTO fulfilment.pick_log (pick_nbr, facility_code, action_code, wave_nbr, order_nbr,
                                 item_code, qty, pick_location, to_container_nbr)
SELECT format('PRESS-%s', lpad(row_number() OVER (ORDER BY first, k)::text, 4, '0')),
       facility_code, 'Pick', wave_nbr, order_nbr, item_code, qty, pick_location,
       to_container_nbr
FROM press;
INSERT INTO fulfilment.pick_log (pick_nbr, facility_code, action_code, to_container_nbr)
SELECT format('PRESS-%s', lpad(((SELECT count(*) FROM press)
                                + row_number() OVER (ORDER BY pick_nbr))::text, 4, '0')),
       facility_code, 'Close', to_container_nbr
FROM closing;
"""
"""The pick log rewritten as a picker works: at most 3 units a press, each order, item and
location picked in presses that cross from one allocation into the next."""


def _posts(sim: Simulator, path: str) -> int:
    return sum(1 for e in sim.request_log() if e["method"] == "POST" and path in e["path"])


def _run_and_kill(
    sim: Simulator, tmp_path: Path, env: dict[str, str], job: str, nth_post: int
) -> int:
    """`meltano run <job>` in its own process group, SIGKILLed (the group: meltano, tap and
    target) as soon as the simulator has seen the step's `nth_post`-th write; returns how many
    writes it had seen by then."""
    path = KILLED[job]
    before = _posts(sim, path)
    log = tmp_path / f"{job}-killed.log"
    with log.open("w") as output:
        proc = subprocess.Popen(
            [str(BIN / "meltano"), "run", job],
            cwd=ROOT,
            env=meltano_env(tmp_path, env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 300
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            seen = _posts(sim, path) - before
            if seen >= nth_post:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                return seen
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    pytest.fail(
        f"{job} ended before its write {nth_post} (exit {proc.returncode}):\n"
        f"{log.read_text()[-4000:]}"
    )


def test_the_demo_flow_ships_every_order_and_moves_stock_exactly(
    fresh_sim: Simulator, tmp_path: Path, pg_database: str
) -> None:
    """`scripts/demo_fulfilment.py` (what `make demo-fulfilment` runs) against a simulator of
    its own and a database of its own."""
    before = _before(fresh_sim)
    env = meltano_env(tmp_path, _env(fresh_sim, tmp_path, pg_database))
    proc = subprocess.run(
        [
            str(BIN / "python"),
            str(ROOT / "scripts" / "demo_fulfilment.py"),
            "--base-url",
            fresh_sim.base_url,
            "--orders",
            str(ORDERS),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert "Traceback" not in output
    for step in ("fulfilment-stage", "fulfilment-waves", "fulfilment-picks", "fulfilment-ship"):
        assert f"meltano run {step}" in output
    summaries = list(SUMMARY.finditer(output))
    assert {m["stream"] for m in summaries} == STREAMS, output[-6000:]
    assert all(m["rejected"] == "0" for m in summaries), output[-6000:]
    assert "Shipped" in output and " NO" not in output
    read_backs = [int(n) for n in re.findall(r"read back: (\d+) records", output)]
    assert len(read_backs) >= 2 and all(n > 0 for n in read_backs), read_backs

    _assert_end_state(fresh_sim, pg_database, before, "uninterrupted run")


def test_a_write_back_killed_mid_step_and_rerun_applies_nothing_twice(
    fresh_sim: Simulator, tmp_path: Path, pg_database: str
) -> None:
    seed = int(os.environ.get("FULFILMENT_KILL_SEED") or int.from_bytes(os.urandom(4)))
    rng = random.Random(seed)
    why = f"FULFILMENT_KILL_SEED={seed}"
    env = _env(fresh_sim, tmp_path, pg_database)
    _start_flow(pg_database, "K" + format(seed % 46656, "03X"))
    meltano(tmp_path, "run", "fulfilment-readback", env=env)
    _sql(pg_database, "seed.sql")
    _run_sql(pg_database, SPLIT_LINE)
    before = _before(fresh_sim)
    kills: list[str] = []
    for sql, job in STEPS:
        _sql(pg_database, sql)
        if job == "fulfilment-picks":
            _run_sql(pg_database, PRESSES_OF_3)
            crossing = _rows(
                pg_database,
                "select count(*) from fulfilment_wms.allocation a "
                "join fulfilment_wms.order_dtl d on d.id = a.order_dtl_id "
                "join fulfilment_wms.order_hdr h on h.id = d.order_id "
                "join fulfilment.sales_order o on o.order_nbr = h.order_nbr "
                "group by h.order_nbr, a.item_id, a.from_location_id having count(*) > 1",
            )
            assert crossing, f"{why}: no line split over several allocations"
        if job in KILLED:
            table = "pick_log" if job == "fulfilment-picks" else "asn_receipt"
            records = _rows(pg_database, f"select count(*) from fulfilment.{table}")[0][0]
            nth = rng.randint(1, records)
            seen = _run_and_kill(fresh_sim, tmp_path, env, job, nth)
            kills.append(f"{job} killed at write {seen} of {records}")
            output = meltano(tmp_path, "run", "--force", job, env=env)
            summaries = list(SUMMARY.finditer(output))
            assert summaries, f"{why}: {output[-4000:]}"
            # What the killed run wrote counts as applied, not sent again, not refused.
            assert sum(int(m["already"]) for m in summaries) >= 1, f"{why}: {output[-4000:]}"
            assert all(m["rejected"] == "0" for m in summaries), f"{why}: {output[-4000:]}"
        else:
            meltano(tmp_path, "run", job, env=env)
        if job == "fulfilment-waves":
            meltano(tmp_path, "run", "fulfilment-readback", env=env)
    print(f"{why}: " + "; ".join(kills))

    _assert_end_state(fresh_sim, pg_database, before, f"{why}: {kills}")
