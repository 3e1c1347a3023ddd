"""target-oracle-wms at cloud latency is bounded by rounds of reads before and after its writes
(issue 29): the reads no record decides start when a stream's SCHEMA arrives and go once a run,
a stage batch reads its headers once before its message, receipts are read back together, and a
facility's first wave run takes its marker from the batch's lookups while the next run reads its
own after the first made its wave. Counted in the simulator's request log; outcomes read from
the WMS with plain requests."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from oracle_wms_sim import Simulator
from tests.conftest import BIN, all_records
from tests.hostile import Hostile, Reply, Seen, pass_through
from tests.test_target import messages, run_target, target_config
from tests.test_target_fulfilment import (
    RECEIPT_SCHEMA,
    TEMPLATE_WAVE_SCHEMA,
    lpn_contents,
    open_asn,
    stage_order,
    waves,
)
from tests.test_target_stage import ASN_DOC_SCHEMA, ORDER_DOC_SCHEMA, STAGE_ACTIONS

API = "/wms/lgfapi/v10/"


def gets(sim: Simulator) -> Counter[str]:
    """GET requests by path (after the API prefix), list and `describe` alike."""
    return Counter(r["path"].split(API, 1)[1] for r in sim.request_log() if r["method"] == "GET")


def test_run_wide_reads_start_before_the_records_and_go_once(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    items = [r["code"] for r in all_records(fresh_sim, "item", company_id__code="C1")[:2]]
    order = {
        "facility_code": "F1",
        "order_nbr": "AHEAD-O-1",
        "order_type": "STD",
        "lines": [{"seq_nbr": 1, "item_code": items[0], "ord_qty": 2}],
    }
    asn = {
        "facility_code": "F1",
        "shipment_nbr": "AHEAD-A-1",
        "lines": json.dumps([{"seq_nbr": 1, "item_code": items[1], "shipped_qty": 3}]),
    }
    order_lines = messages("new_orders", ORDER_DOC_SCHEMA, ["order_nbr"], [order])
    asn_lines = messages("asns", ASN_DOC_SCHEMA, ["shipment_nbr"], [asn])
    schemas = [order_lines[0], asn_lines[0]]
    rest = [*order_lines[1:], *asn_lines[1:]]
    config_path = tmp_path / "target.json"
    config_path.write_text(
        json.dumps(target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS))
    )
    fresh_sim.clear_request_log()
    run_wide = {
        "entity/facility/",
        "entity/order_hdr/describe/",
        "entity/order_dtl/describe/",
        "entity/ib_shipment/describe/",
        "entity/ib_shipment_dtl/describe/",
    }
    proc = subprocess.Popen(
        [str(BIN / "target-oracle-wms"), "--config", str(config_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdin is not None
        proc.stdin.write("".join(json.dumps(m) + "\n" for m in schemas))
        proc.stdin.flush()
        deadline = time.monotonic() + 60
        while not run_wide <= set(gets(fresh_sim)) and time.monotonic() < deadline:
            time.sleep(0.05)
        ahead = gets(fresh_sim)  # no record has been sent yet
        _out, err = proc.communicate("".join(json.dumps(m) + "\n" for m in rest), timeout=120)
    finally:
        proc.kill()
    assert run_wide <= set(ahead), f"read before any record: {sorted(ahead)}"
    assert proc.returncode == 0, err[-3000:]
    assert "Stream 'new_orders': 1 applied" in err and "Stream 'asns': 1 applied" in err
    counted = gets(fresh_sim)
    assert {path: counted[path] for path in run_wide} == dict.fromkeys(run_wide, 1)
    # each stage batch: its headers read once before the message (with the lookups), once after
    log = [(r["method"], r["path"].split(API, 1)[1]) for r in fresh_sim.request_log()]
    for entity, header in (("order", "order_hdr"), ("ib_shipment", "ib_shipment")):
        sent = log.index(("POST", f"stage/{entity}/"))
        reads = [i for i, call in enumerate(log) if call == ("GET", f"entity/{header}/")]
        assert len([i for i in reads if i < sent]) == 1, log
        assert len([i for i in reads if i > sent]) == 1, log
    assert all_records(fresh_sim, "order_hdr", facility_id__code="F1", order_nbr="AHEAD-O-1")


def test_receipts_are_read_back_together_after_they_are_sent(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    asn, (item_a, item_b, *_) = open_asn(fresh_sim)
    records: list[dict[str, Any]] = [
        {
            "facility_code": "F1",
            "shipment_nbr": asn,
            "container_nbr": f"RCV-TOG-{n}",
            "items": [{"item_code": (item_a, item_b)[n % 2], "qty": n + 1}],
        }
        for n in range(5)
    ]
    lines = messages("iblpn_receipt", RECEIPT_SCHEMA, ["facility_code", "container_nbr"], records)
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path, max_parallel_writes=2), lines)

    log = [(r["method"], r["path"].split(API, 1)[1]) for r in fresh_sim.request_log()]
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Stream 'iblpn_receipt': 5 applied" in run.stderr
    for n, record in enumerate(records):
        expected = {record["items"][0]["item_code"]: Decimal(n + 1)}
        assert lpn_contents(fresh_sim, record["container_nbr"]) == expected
    last_post = max(i for i, (method, _) in enumerate(log) if method == "POST")
    assert len([m for m, _ in log if m == "POST"]) == 5
    # the IBLPNs and their inventory, side by side: one round trip for the five
    assert sorted(log[last_post + 1 :]) == [("GET", "entity/iblpn/"), ("GET", "entity/inventory/")]
    first_post = min(i for i, (method, _) in enumerate(log) if method == "POST")
    assert all(method == "POST" for method, _ in log[first_post : last_post + 1]), log


def test_two_template_runs_of_a_facility_in_one_batch_each_find_their_own_wave(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Without a run number in the answer the wave is the one above the run's marker: the
    second run's marker must be read after the first run made its wave."""
    fresh_sim.set_undocumented(run_template_answer="empty")
    before = {w["id"] for w in waves(fresh_sim)}
    records = [
        {"request_id": f"run-{n}", "facility_code": "F1", "template_name": "TPL-F1-ALL"}
        for n in (1, 2)
    ]
    lines = messages("wave_run", TEMPLATE_WAVE_SCHEMA, ["request_id"], records)

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path, wave_timeout=60), lines)

    assert run.returncode == 0, run.stderr[-3000:]
    new = sorted(w["id"] for w in waves(fresh_sim) if w["id"] not in before)
    assert len(new) == 2
    found = [f"(id {wave_id}) Completed" in run.stderr for wave_id in new]
    assert found == [True, True], run.stderr[-3000:]
    assert "Stream 'wave_run': 2 applied" in run.stderr


def test_a_stage_run_failing_on_a_later_message_keeps_what_the_earlier_one_did(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Message 1's read-back goes in the background while message 2 is sent: when message 2
    ends the run (503, no retries left), message 1's documents still reach the ledger."""
    items = [r["code"] for r in all_records(fresh_sim, "item", company_id__code="C1")[:1]]
    orders = [
        {
            "facility_code": "F1",
            "order_nbr": f"PIPE-{n}",
            "order_type": "STD",
            "lines": [{"seq_nbr": 1, "item_code": items[0], "ord_qty": n}],
        }
        for n in (1, 2, 3, 4)
    ]
    lines = messages("new_orders", ORDER_DOC_SCHEMA, ["order_nbr"], orders)
    send = pass_through(fresh_sim.base_url, (fresh_sim.username, fresh_sim.password))
    staged: list[str] = []

    def second_message_fails(seen: Seen) -> Reply:
        if seen.method == "POST" and "stage/order" in seen.path:
            staged.append(seen.path)
            if len(staged) > 1:
                return Reply(503, {"message": "Service unavailable"})
        return send(seen)

    config = target_config(
        fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS, stage_batch_size=2, max_retries=0
    )
    with Hostile(second_message_fails) as proxy:
        failed = run_target(tmp_path, {**config, "base_url": proxy.base_url}, lines)

    assert failed.returncode != 0
    assert "Traceback" not in failed.stderr
    assert len(staged) == 2
    made = all_records(
        fresh_sim, "order_hdr", facility_id__code="F1", order_nbr__startswith="PIPE-"
    )
    assert sorted(r["order_nbr"] for r in made) == ["PIPE-1", "PIPE-2"]
    with sqlite3.connect(tmp_path / "ledger.sqlite") as ledger:
        applied = sorted(row[0] for row in ledger.execute("SELECT identity FROM applied"))
    assert applied == [json.dumps(["PIPE-1"]), json.dumps(["PIPE-2"])]

    fresh_sim.clear_request_log()
    rerun = run_target(tmp_path, config, lines)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "Stream 'new_orders': 2 applied, 2 already applied" in rerun.stderr
    made = all_records(
        fresh_sim, "order_hdr", facility_id__code="F1", order_nbr__startswith="PIPE-"
    )
    assert sorted(r["order_nbr"] for r in made) == ["PIPE-1", "PIPE-2", "PIPE-3", "PIPE-4"]


def test_two_updates_of_one_order_in_consecutive_messages_are_each_read_back_alone(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """A message's read-back goes beside the next message, except when the next one changes
    the same document: read while the second UPDATE lands, the first would look undone. The
    simulator delays every order read, so an overlap would show."""
    stage_order(fresh_sim, "TWICE-1", [(_item(fresh_sim), 2)])
    updates = [
        {"facility_code": "F1", "order_nbr": "TWICE-1", "action_code": "UPDATE", "priority": p}
        for p in (5, 6)
    ]
    lines = messages("new_orders", ORDER_DOC_SCHEMA, ["order_nbr", "priority"], updates)
    config = target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS, stage_batch_size=1)
    fresh_sim.add_fault("latency", rate=1, latency_ms=300, path_contains="entity/order_hdr")
    try:
        run = run_target(tmp_path, config, lines)
    finally:
        fresh_sim.clear_faults()

    assert run.returncode == 0, run.stderr[-3000:]
    assert "Stream 'new_orders': 2 applied" in run.stderr
    (order,) = all_records(fresh_sim, "order_hdr", facility_id__code="F1", order_nbr="TWICE-1")
    assert order["priority"] == 6


def _item(sim: Simulator) -> str:
    return str(all_records(sim, "item", company_id__code="C1")[0]["code"])
