"""5. Target: 50,000 inventory adjustments (+1 each) into the simulator through target-oracle-wms;
then the writes that have a bulk form: new orders through the stage interface, LPN shipments.

The adjustments cycle over the simulator's active-location inventory of facility F1 (location
barcode, item code, batch), each with its own `transaction_ref_nbr`. They are fed as Singer
messages (stream `inventory_adjustment`) to `target-oracle-wms` with a temporary ledger and
rejects file, and the history activity and status ids adjustments are recorded under (as
docs/api-behaviour.md advises: its reference look-ups use exact ids). HTTP requests are counted
from the simulator's request log (cleared before).
The ceiling is `plain_writes.py`: one POST per adjustment and nothing else, on a sample.
Goal: >= 50 records per HTTP request where bulk endpoints exist. lgfapi's
`location/update_active_inventory/` takes one location and one item per request, so
adjustments cannot share a request; stage messages (up to 1,000 orders, each with its lines) and
`oblpn/bulk_ship` (up to the user's Rows per Page, 125, LPNs) can. A stage run also reads the
orders' headers twice (before sending, so a rerun without the ledger creates nothing twice, and
after, since Oracle documents no read-back of stage results), about 160 order numbers per GET.
Skipped when the simulator has no write side.

    .venv/bin/python benchmarks/bench_target.py [--quick]
"""

from __future__ import annotations

import itertools
import json
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from common import (
    BENCH,
    BIN,
    Row,
    Sim,
    against,
    attempt,
    given_sims,
    header,
    measure,
    measured_row,
    parser,
    print_row,
    save_rows,
    simulators,
    target_config,
    verdict,
    workdir,
)

NAME = "target"
STREAM = "inventory_adjustment"
FACILITY = "F1"
RECORDS_PER_REQUEST_GOAL = 50
RUN = uuid.uuid4().hex[:8]
"""In every transaction reference: a rerun on the same simulator DB writes new ones."""
SCHEMA = {
    "type": "object",
    "properties": {
        "facility_code": {"type": "string"},
        "location_barcode": {"type": "string"},
        "item_code": {"type": "string"},
        "batch_nbr": {"type": ["string", "null"]},
        "adjustment_qty": {"type": "number"},
        "reason_code": {"type": "string"},
        "transaction_ref_nbr": {"type": "string"},
    },
}


def scales(quick: bool) -> list[int]:
    """Scale 67 (about 18,000 active-location inventory rows in F1; quick: 7, about 1,900)."""
    return [7 if quick else 67]


def sizes(quick: bool) -> tuple[int, int, int]:
    """(adjustments through the target, adjustments of the plain-POST ceiling, new orders)."""
    return (1_000, 1_000, 1_000) if quick else (50_000, 2_000, 10_000)


def main() -> int:
    args = parser(__doc__).parse_args()
    (scale,) = scales(args.quick)
    count, sample, orders = sizes(args.quick)
    header(f"5. target: {count:,} inventory adjustments, {orders:,} orders, LPN shipments")
    with workdir(args) as work, simulators(given_sims(args), [scale], work) as sims:
        sim = sims[scale]
        tmp = work / NAME
        tmp.mkdir(exist_ok=True)
        rows = []
        for row in _runs(sim, tmp, count, sample, orders):
            rows.append(row)
            print_row(row)
        save_rows(args.json, rows)
    return 0


def _runs(sim: Sim, tmp: Path, count: int, sample: int, orders: int) -> Iterator[Row]:
    stock = active_inventory(sim)
    if not _has_write_side(sim, stock[0]):
        case = f"target-oracle-wms, {count:,} adjustments"
        yield Row(NAME, case, met="skipped", notes=NO_WRITES)
        return
    case = "plain loop: one POST per adjustment (ceiling)"
    ceiling = attempt(NAME, case, partial(_plain_writes, sim, tmp, stock, sample, case))
    yield ceiling
    case = f"target-oracle-wms, {count:,} adjustments (+1)"
    row = attempt(NAME, case, partial(_target, sim, tmp, stock, count, case))
    if ceiling.rate:
        against(row, ceiling.rate, "one-POST ceiling")
    yield row
    case = f"target-oracle-wms, {orders:,} new orders of 3 lines (stage)"
    yield attempt(NAME, case, partial(_stage_orders, sim, tmp, orders, case))
    case = "target-oracle-wms, every Packed or Loaded LPN of F1 shipped (bulk_ship)"
    yield attempt(NAME, case, partial(_lpn_shipments, sim, tmp, case))


NO_WRITES = "skipped: simulator has no write side (update_active_inventory)"


def active_inventory(sim: Sim) -> list[dict[str, Any]]:
    """(location id and barcode, item code, batch) of every active-location inventory row."""
    rows = sim.all_records(
        "inventory",
        location_id__location_type_id__code="ACTIVE",
        facility_id__code=FACILITY,
        fields="id,location_id,item_id,batch_nbr",
        ordering="id",
    )
    return [
        {
            "location_id": r["location_id"]["id"],
            "location_barcode": r["location_id"]["key"],
            "item_code": r["item_id"]["key"],
            "batch_nbr": r.get("batch_nbr"),
        }
        for r in rows
    ]


def _has_write_side(sim: Sim, stock: dict[str, Any]) -> bool:
    """An empty adjustment: 400 from a simulator that writes, 404/405 from one that does not."""
    url = f"{sim.api_url}entity/location/{stock['location_id']}/update_active_inventory/"
    status = sim.session.post(url, json={"options": {}}, timeout=60).status_code
    return status not in (404, 405, 501)


def adjustments(stock: list[dict[str, Any]], count: int, tag: str) -> Iterator[dict[str, Any]]:
    for number, row in zip(range(count), itertools.cycle(stock), strict=False):
        yield {
            "facility_code": FACILITY,
            "location_barcode": row["location_barcode"],
            "item_code": row["item_code"],
            "batch_nbr": row["batch_nbr"],
            "adjustment_qty": 1,
            "reason_code": "BENCH",
            "transaction_ref_nbr": f"{tag}-{number:07d}",
        }


def _plain_writes(sim: Sim, tmp: Path, stock: list[dict[str, Any]], sample: int, case: str) -> Row:
    path = tmp / "plain-writes.jsonl"
    by_barcode = {row["location_barcode"]: row["location_id"] for row in stock}
    with path.open("w") as out:
        for record in adjustments(stock, sample, f"bench-plain-{RUN}"):
            options = {
                "item_code": record["item_code"],
                "adjustment_qty": "1",
                "reason_code": record["reason_code"],
                "transaction_ref_nbr": record["transaction_ref_nbr"],
            }
            if record["batch_nbr"]:
                options["batch_nbr"] = record["batch_nbr"]
            location = by_barcode[record["location_barcode"]]
            out.write(json.dumps({"location_id": location, "options": options}) + "\n")
    cmd = [sys.executable, str(BENCH / "plain_writes.py"), sim.api_url, str(path)]
    measured = measure(cmd)
    measured.check("plain_writes.py")
    return measured_row(NAME, case, sample, measured)


def _target(sim: Sim, tmp: Path, stock: list[dict[str, Any]], count: int, case: str) -> Row:
    messages = _messages(tmp, stock, count)
    row = _run_target(sim, tmp, messages, count, case, adjustment_history(sim))
    row.goal = row.met = ""  # one location and item a request: no bulk form to hold it to
    return row


def adjustment_history(sim: Sim) -> dict[str, list[int]]:
    """The history ids an adjustment is recorded under, given as docs/api-behaviour.md advises
    (lgfapi needs exact activity and status values to look a reference up; with every id the
    look-up before writing costs about two requests a record): the simulator's adjustment and
    cycle-count activities, and the Located status their rows carry."""
    activities = sim.all_records("history_activity", ordering="id")
    statuses = sim.all_records("container_status", ordering="id")
    adjusting = {"ADJUST_PLUS", "ADJUST_MINUS", "CYCLE_COUNT"}
    return {
        "history_activity_ids": [int(r["id"]) for r in activities if r["code"] in adjusting],
        "history_status_ids": [int(r["id"]) for r in statuses if r["code"] == "LOCATED"],
    }


def _run_target(
    sim: Sim, tmp: Path, messages: Path, count: int, case: str, settings: dict[str, Any]
) -> Row:
    """The target on `messages`, HTTP requests counted by the simulator's request log."""
    config = target_config(sim, tmp, f"ledger-{RUN}.sqlite", **settings)
    sim.clear_request_log()
    with messages.open() as stdin:
        measured = measure([str(BIN / "target-oracle-wms"), "--config", str(config)], stdin=stdin)
    log = sim.request_log()
    measured.check("target-oracle-wms")
    methods = Counter(str(entry.get("method")) for entry in log)
    per_request = count / len(log) if log else 0.0
    row = measured_row(NAME, case, count, measured)
    row.goal = f">= {RECORDS_PER_REQUEST_GOAL} records per HTTP request"
    row.met = verdict(per_request >= RECORDS_PER_REQUEST_GOAL, f"{per_request:.2f} per request")
    row.notes = (
        f"{len(log):,} HTTP requests ({', '.join(f'{m} {n:,}' for m, n in methods.items())}): "
        f"{len(log) / count:.3f} requests per record"
    )
    return row


STAGE_ACTIONS = {"new_orders": {"entity": "order", "action": "stage"}}
"""Stream `new_orders` to the stage interface's orders."""


def orders_file(sim: Sim, tmp: Path, count: int, tag: str) -> Path:
    """`count` new orders of facility F1, 3 lines each, as stage documents (stream
    `new_orders`, `STAGE_ACTIONS`), numbered `BENCH-{tag}-000000` on."""
    company = sim.all_records("facility", code=FACILITY)[0]["company_id"]["key"]
    items = [r["code"] for r in sim.all_records("item", company_id__code=company, fields="code")]
    path = tmp / "orders.singer.jsonl"
    schema = {
        "type": "object",
        "properties": {
            "facility_code": {"type": "string"},
            "order_nbr": {"type": "string"},
            "order_type": {"type": "string"},
            "lines": {"type": "array", "items": {"type": "object"}},
        },
    }
    records = (
        {
            "facility_code": FACILITY,
            "order_nbr": f"BENCH-{tag}-{number:06d}",
            "order_type": "STD",
            "lines": [
                {"seq_nbr": seq, "item_code": items[(number + seq) % len(items)], "ord_qty": seq}
                for seq in (1, 2, 3)
            ],
        }
        for number in range(count)
    )
    singer_file(path, "new_orders", schema, ["facility_code", "order_nbr"], records)
    return path


def _stage_orders(sim: Sim, tmp: Path, count: int, case: str) -> Row:
    path = orders_file(sim, tmp, count, RUN)
    return _run_target(sim, tmp, path, count, case, {"stream_actions": STAGE_ACTIONS})


def _lpn_shipments(sim: Sim, tmp: Path, case: str) -> Row:
    """Every Packed or Loaded outbound LPN of F1 (stream `oblpn_shipment`), shipped to one
    location of F1 (Oracle's Ship OBLPN requires `locn_barcode`)."""
    lpns = [
        r["container_nbr"]
        for r in sim.all_records(
            "oblpn", facility_id__code=FACILITY, fields="container_nbr,status_id", ordering="id"
        )
        if int(r["status_id"]) in (60, 70)
    ]
    dock = sim.all_records("location", facility_id__code=FACILITY, fields="barcode", ordering="id")
    config = {"ship_location_barcode": dock[0]["barcode"]}
    path = tmp / "lpns.singer.jsonl"
    schema = {
        "type": "object",
        "properties": {"facility_code": {"type": "string"}, "container_nbr": {"type": "string"}},
    }
    records = ({"facility_code": FACILITY, "container_nbr": lpn} for lpn in lpns)
    singer_file(path, "oblpn_shipment", schema, ["facility_code", "container_nbr"], records)
    return _run_target(sim, tmp, path, len(lpns), case.replace("every", f"{len(lpns):,}"), config)


def _messages(tmp: Path, stock: list[dict[str, Any]], count: int) -> Path:
    """The Singer input: one SCHEMA, then a RECORD per adjustment."""
    path = tmp / "adjustments.singer.jsonl"
    records = adjustments(stock, count, f"bench-target-{RUN}")
    # The log's own key: the target refuses a keyless stream's records (it could not tell a
    # redelivery from a second write; issue 22), so every one was rejected without it.
    singer_file(path, STREAM, SCHEMA, ["transaction_ref_nbr"], records)
    return path


def singer_file(
    path: Path,
    stream: str,
    schema: dict[str, Any],
    keys: list[str],
    records: Iterable[dict[str, Any]],
) -> None:
    """A target's input: the stream's SCHEMA message, then one RECORD message per record."""
    with path.open("w") as out:
        message = {"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": keys}
        out.write(json.dumps(message) + "\n")
        for record in records:
            out.write(json.dumps({"type": "RECORD", "stream": stream, "record": record}) + "\n")


if __name__ == "__main__":
    sys.exit(main())
