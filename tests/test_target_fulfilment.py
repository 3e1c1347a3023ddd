"""target-oracle-wms fulfilment actions against the simulator over HTTP: receive, run_wave and
pick_confirm, each applied exactly once (counted in the WMS, not in the target's report),
across reruns, lost answers and a kill between the pending marker and the answer.

Set-up and expectations come from plain HTTP requests to the simulator (stage, run_manual,
entity reads), never from the target under test.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.conftest import BIN, all_records
from tests.hostile import Hostile, Reply, Seen
from tests.test_target import messages, run_target, target_config

RECEIPT_SCHEMA = {
    "type": "object",
    "properties": {
        "facility_code": {"type": "string"},
        "company_code": {"type": ["string", "null"]},
        "shipment_nbr": {"type": ["string", "null"]},
        "po_nbr": {"type": ["string", "null"]},
        "container_nbr": {"type": ["string", "null"]},
        "dock": {"type": ["string", "null"]},
        "items": {"type": ["array", "string", "null"]},
    },
}
WAVE_SCHEMA = {
    "type": "object",
    "properties": {
        "request_id": {"type": "string"},
        "facility_code": {"type": ["string", "null"]},
        "template_name": {"type": ["string", "null"]},
        "orders": {"type": ["array", "null"]},
    },
}
TEMPLATE_WAVE_SCHEMA = {
    "type": "object",
    "properties": {k: v for k, v in WAVE_SCHEMA["properties"].items() if k != "orders"},
}
"""A stream of whole-template runs: its SCHEMA has no `orders` (one that has runs manual waves)."""
PICK_SCHEMA = {
    "type": "object",
    "properties": {
        "log_id": {"type": "integer"},
        "facility_code": {"type": ["string", "null"]},
        "action_code": {"type": ["string", "null"]},
        "wave_nbr": {"type": ["string", "null"]},
        "order_nbr": {"type": ["string", "null"]},
        "item_code": {"type": ["string", "null"]},
        "qty": {"type": ["number", "null"]},
        "pick_location": {"type": ["string", "null"]},
        "to_container_nbr": {"type": ["string", "null"]},
    },
}


# Plain HTTP to the simulator -----------------------------------------------------------------


def post(sim: Simulator, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(
        f"{sim.base_url}/wms/lgfapi/v10/{path}",
        json=body,
        auth=(sim.username, sim.password),
        timeout=30,
    )


def posts(sim: Simulator, fragment: str) -> list[dict[str, Any]]:
    """POST requests the simulator logged whose path contains `fragment`."""
    return [r for r in sim.request_log() if r["method"] == "POST" and fragment in r["path"]]


def stage_order(sim: Simulator, order_nbr: str, lines: list[tuple[str, int]]) -> None:
    """A new order in F1 (priority 1: waved first), through the stage interface."""
    body = {
        "async_flg": False,
        "header": {
            "messageid": f"test-{order_nbr}",
            "facility_code": "F1",
            "company_code": "C1",
            "entity": "order",
        },
        "stage_order_list": [
            {
                "action_code": "CREATE",
                "order_nbr": order_nbr,
                "order_type": "STD",
                "priority": 1,
                "stage_order_dtl_list": [
                    {"seq_nbr": n, "item_code": item, "ord_qty": str(q)}
                    for n, (item, q) in enumerate(lines, start=1)
                ],
            }
        ],
    }
    response = post(sim, "stage/order/", body)
    assert response.status_code == 200, response.text
    assert all_records(sim, "order_hdr", facility_id__code="F1", order_nbr=order_nbr)


def waves(sim: Simulator) -> list[dict[str, Any]]:
    return all_records(sim, "wave", facility_id__code="F1")


def wait_completed(sim: Simulator, wave_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        (wave,) = all_records(sim, "wave", id=wave_id)
        if wave["status_id"] == 90:
            return wave
        assert time.monotonic() < deadline, f"wave {wave_id} never completed"
        time.sleep(0.1)


def manual_wave(sim: Simulator, order_nbr: str, seqs: list[int]) -> dict[str, Any]:
    """Wave the order's lines through `run_manual` and wait for the wave to complete."""
    before = {w["id"] for w in waves(sim)}
    body = {
        "parameters": {"facility_id__code": "F1", "template_name": "TPL-F1-ALL"},
        "options": {"order_seq_nbr_list": [{"order_nbr": order_nbr, "seq_nbr_list": seqs}]},
    }
    response = post(sim, "entity/wave_template/run_manual/", body)
    assert response.status_code == 202, response.text
    (new,) = [w for w in waves(sim) if w["id"] not in before]
    return wait_completed(sim, new["id"])


def allocations(sim: Simulator, order_nbr: str) -> list[dict[str, Any]]:
    return all_records(sim, "allocation", order_dtl_id__order_id__order_nbr=order_nbr)


def stock(sim: Simulator, count: int) -> list[tuple[str, str, Decimal]]:
    """(active location barcode, item code, qty) rows of F1 with at least 4 units."""
    found: list[tuple[str, str, Decimal]] = []
    nth = 0
    while len(found) < count:
        row = sim.active_location_with_inventory("F1", nth=nth)
        nth += 1
        if row[2] >= 4 and row[1] not in {r[1] for r in found}:
            found.append(row)
    return found


# Receive -----------------------------------------------------------------------------------


def open_asn(sim: Simulator) -> tuple[str, list[str]]:
    """An F1 ASN In Transit and the item codes of its lines."""
    for asn in all_records(sim, "ib_shipment", facility_id__code="F1", status_id=0):
        lines = all_records(sim, "ib_shipment_dtl", shipment_id=asn["id"])
        items = sorted({line["item_id"]["key"] for line in lines})
        if len(items) >= 2:
            return asn["shipment_nbr"], items
    raise AssertionError("no open ASN with two items in F1")


def lpn_contents(sim: Simulator, container_nbr: str) -> dict[str, Decimal]:
    (lpn,) = all_records(sim, "iblpn", facility_id__code="F1", container_nbr=container_nbr)
    return {
        inv["item_id"]["key"]: Decimal(str(inv["curr_qty"]))
        for inv in all_records(sim, "inventory", container_id=lpn["id"])
    }


def receipt_rows(sim: Simulator, container_nbr: str) -> int:
    rows = all_records(
        sim, "inventory", facility_id__code="F1", container_id__container_nbr=container_nbr
    )
    return len(rows)


def test_receipts_apply_once_across_reruns_and_a_lost_answer(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    asn, (item_a, item_b, *_) = open_asn(fresh_sim)
    records = [
        {
            "facility_code": "F1",
            "shipment_nbr": asn,
            "container_nbr": "RCV-T-1",
            "items": [{"item_code": item_a, "qty": 3}, {"item_code": item_b, "qty": 2.5}],
        },
        {
            "facility_code": "F1",
            "shipment_nbr": asn,
            "container_nbr": "RCV-T-2",
            "items": json.dumps([{"item_code": item_a, "qty": 1}]),
        },
    ]
    lines = messages("iblpn_receipt", RECEIPT_SCHEMA, ["facility_code", "container_nbr"], records)
    config = target_config(fresh_sim, tmp_path)
    fresh_sim.clear_request_log()
    fresh_sim.add_fault("lost_response", next=1, path_contains="iblpn/receive")

    first = run_target(tmp_path, config, lines)

    assert first.returncode == 0, first.stderr[-3000:]
    assert [r["fault"] for r in posts(fresh_sim, "iblpn/receive") if r.get("fault")] == [
        "lost_response"
    ]
    assert lpn_contents(fresh_sim, "RCV-T-1") == {item_a: Decimal(3), item_b: Decimal("2.5")}
    assert lpn_contents(fresh_sim, "RCV-T-2") == {item_a: Decimal(1)}
    assert len(posts(fresh_sim, "iblpn/receive")) == 2, "the lost answer was not resent"
    assert "Stream 'iblpn_receipt': 2 applied, 0 already applied" in first.stderr
    assert "Stream 'iblpn_receipt' batch: 2 record(s): 2 applied, 0 already applied" in first.stderr

    fresh_sim.clear_request_log()
    rerun = run_target(tmp_path, config, lines)
    without_ledger = run_target(
        tmp_path, {**config, "ledger_path": str(tmp_path / "other.sqlite")}, lines
    )

    assert rerun.returncode == 0 and without_ledger.returncode == 0, without_ledger.stderr[-3000:]
    assert "0 applied, 2 already applied" in rerun.stderr
    assert "0 applied, 2 already applied" in without_ledger.stderr
    assert posts(fresh_sim, "iblpn/receive") == []
    assert receipt_rows(fresh_sim, "RCV-T-1") == 2 and receipt_rows(fresh_sim, "RCV-T-2") == 1

    # the same LPN number with other contents is not "already applied": a named reject
    changed = [{**records[1], "items": [{"item_code": item_a, "qty": 7}]}]
    other = messages("iblpn_receipt", RECEIPT_SCHEMA, ["facility_code", "container_nbr"], changed)
    clash = run_target(tmp_path, {**config, "ledger_path": str(tmp_path / "third.sqlite")}, other)
    assert clash.returncode != 0
    (reject,) = clash.rejects
    assert "already exists" in reject["reasons"]["container_nbr"]
    assert posts(fresh_sim, "iblpn/receive") == []


def test_a_receipt_answered_without_a_body_is_read_back(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    fresh_sim.set_undocumented(receive_answer="empty")
    asn, (item_a, *_) = open_asn(fresh_sim)
    record = {
        "facility_code": "F1",
        "shipment_nbr": asn,
        "container_nbr": "RCV-T-9",
        "items": [{"item_code": item_a, "qty": 4}],
    }
    lines = messages("iblpn_receipt", RECEIPT_SCHEMA, ["facility_code", "container_nbr"], [record])
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert [r["status"] for r in posts(fresh_sim, "iblpn/receive")] == [204]
    assert lpn_contents(fresh_sim, "RCV-T-9") == {item_a: Decimal(4)}
    assert "Stream 'iblpn_receipt': 1 applied" in run.stderr


def test_a_receipt_against_a_purchase_order_applies_once(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    po = all_records(fresh_sim, "purchase_order_hdr", facility_id__code="F1", status_id=0)[0]
    lines_of_po = all_records(fresh_sim, "purchase_order_dtl", po_id=po["id"])
    item = lines_of_po[0]["item_id"]["key"]
    off_po = next(
        i["code"]
        for i in all_records(fresh_sim, "item", company_id__code="C1")
        if i["code"] not in {ln["item_id"]["key"] for ln in lines_of_po}
    )
    records = [
        {
            "facility_code": "F1",
            "po_nbr": po["po_nbr"],
            "container_nbr": "RCV-PO-1",
            "items": [{"item_code": item, "qty": 3}],
        },
        {
            "facility_code": "F1",
            "po_nbr": po["po_nbr"],
            "container_nbr": "RCV-PO-2",
            "items": [{"item_code": off_po, "qty": 3}],
        },
    ]
    lines = messages("iblpn_receipt", RECEIPT_SCHEMA, ["facility_code", "container_nbr"], records)
    config = target_config(fresh_sim, tmp_path)
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, config, lines)
    rerun = run_target(tmp_path, {**config, "ledger_path": str(tmp_path / "b.sqlite")}, lines)

    assert lpn_contents(fresh_sim, "RCV-PO-1") == {item: Decimal(3)}
    (reject,) = run.rejects
    assert f"not on purchase order {po['po_nbr']}" in reject["reasons"]["items[0].item_code"]
    assert "1 applied, 0 already applied, 1 rejected" in run.stderr
    assert "0 applied, 1 already applied, 1 rejected" in rerun.stderr
    assert len(posts(fresh_sim, "iblpn/receive")) == 1


def test_bad_receipts_are_rejected_naming_the_field(fresh_sim: Simulator, tmp_path: Path) -> None:
    asn, (item_a, *_) = open_asn(fresh_sim)
    not_on_asn = next(
        i["code"]
        for i in all_records(fresh_sim, "item", company_id__code="C1")
        if i["code"] not in open_asn(fresh_sim)[1]
    )
    base = {"facility_code": "F1", "shipment_nbr": asn}
    records = [
        {**base, "container_nbr": "BAD-1", "items": [{"item_code": "NO-SUCH", "qty": 1}]},
        {**base, "container_nbr": "BAD-2", "items": [{"item_code": item_a, "qty": -1}]},
        {**base, "container_nbr": "BAD-3", "items": [{"item_code": not_on_asn, "qty": 1}]},
        {**base, "container_nbr": "BAD-4", "shipment_nbr": "NO-ASN", "items": []},
        {"facility_code": "F1", "container_nbr": "BAD-5", "items": [{"item_code": item_a}]},
        {**base, "container_nbr": "BAD-6" + "X" * 50, "items": [{"item_code": item_a, "qty": 1}]},
    ]
    lines = messages("iblpn_receipt", RECEIPT_SCHEMA, ["facility_code", "container_nbr"], records)
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)

    assert run.returncode != 0
    reasons = {r["record"]["container_nbr"]: r["reasons"] for r in run.rejects}
    assert "no item 'NO-SUCH'" in reasons["BAD-1"]["items[0].item_code"]
    assert "above zero" in reasons["BAD-2"]["items[0].qty"]
    assert "not on ASN" in reasons["BAD-3"]["items[0].item_code"]
    assert "no ASN 'NO-ASN'" in reasons["BAD-4"]["shipment_nbr"]
    assert "at least one item" in reasons["BAD-4"]["items"]
    assert "exactly one of shipment_nbr" in reasons["BAD-5"]["shipment_nbr"]
    assert reasons["BAD-5"]["items[0].qty"] == "required"
    assert "at most 50 characters" in reasons["BAD-6" + "X" * 50]["container_nbr"]
    assert posts(fresh_sim, "iblpn/receive") == []


# run_wave ----------------------------------------------------------------------------------


def wave_lines(request_id: str, **fields: Any) -> list[dict[str, Any]]:
    record = {"request_id": request_id, "facility_code": "F1", "template_name": "TPL-F1-ALL"}
    schema = WAVE_SCHEMA if "orders" in fields else TEMPLATE_WAVE_SCHEMA
    return messages("wave_run", schema, ["request_id"], [{**record, **fields}])


def test_a_wave_runs_once_and_a_rerun_or_lost_answer_runs_none(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (_, item, _), *_ = stock(fresh_sim, 1)
    stage_order(fresh_sim, "WAVE-T-1", [(item, 2)])
    before = {w["id"] for w in waves(fresh_sim)}
    config = target_config(fresh_sim, tmp_path, wave_timeout=60)
    lines = wave_lines("run-1")
    fresh_sim.clear_request_log()
    fresh_sim.add_fault("lost_response", next=1, path_contains="run_template")

    first = run_target(tmp_path, config, lines)

    assert first.returncode == 0, first.stderr[-3000:]
    (new,) = [w for w in waves(fresh_sim) if w["id"] not in before]
    assert new["status_id"] == 90
    assert len(posts(fresh_sim, "run_template")) == 1, "the lost answer was not resent"
    assert f"wave run_nbr {new['run_nbr']} (id {new['id']}) Completed" in first.stderr
    assert "Stream 'wave_run': 1 applied, 0 already applied" in first.stderr
    assert allocations(fresh_sim, "WAVE-T-1"), "the wave allocated the staged order"

    rerun = run_target(tmp_path, config, lines)

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "0 applied, 1 already applied" in rerun.stderr
    assert [w["id"] for w in waves(fresh_sim) if w["id"] not in before] == [new["id"]]
    assert len(posts(fresh_sim, "run_template")) == 1


@pytest.mark.parametrize("answer", ["empty", "wave_nbr"])
def test_a_wave_is_found_whatever_the_answer_body(
    fresh_sim: Simulator, tmp_path: Path, answer: str
) -> None:
    """202 without a body (the wave found above the marker), or the run number as `wave_nbr`."""
    fresh_sim.set_undocumented(run_template_answer=answer)
    before = {w["id"] for w in waves(fresh_sim)}

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), wave_lines("run-empty"))

    assert run.returncode == 0, run.stderr[-3000:]
    (new,) = [w for w in waves(fresh_sim) if w["id"] not in before]
    assert f"wave run_nbr {new['run_nbr']} (id {new['id']}) Completed" in run.stderr
    (status,) = {r["status"] for r in posts(fresh_sim, "run_template")}
    assert status == 202


def test_a_run_killed_after_its_marker_finds_its_wave_instead_of_running_another(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    fresh_sim.flow.wave_seconds = 30  # the wave stays In Progress while the target polls it
    before = {w["id"] for w in waves(fresh_sim)}
    config = target_config(fresh_sim, tmp_path, wave_timeout=120)
    (tmp_path / "target.json").write_text(json.dumps(config))
    target = subprocess.Popen(
        [str(BIN / "target-oracle-wms"), "--config", str(tmp_path / "target.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert target.stdin is not None
    target.stdin.write("".join(json.dumps(m) + "\n" for m in wave_lines("run-kill")))
    target.stdin.close()
    deadline = time.monotonic() + 60
    while not [w for w in waves(fresh_sim) if w["id"] not in before]:
        assert time.monotonic() < deadline, "the target ran no wave"
        assert target.poll() is None, "the target finished before it could be killed"
        time.sleep(0.05)
    target.send_signal(signal.SIGKILL)
    target.wait()
    (started,) = [w for w in waves(fresh_sim) if w["id"] not in before]
    assert started["status_id"] == 10, "killed while the wave was still In Progress"
    fresh_sim.flow.wave_seconds = 0.2

    rerun = run_target(tmp_path, config, wave_lines("run-kill"))

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert [w["id"] for w in waves(fresh_sim) if w["id"] not in before] == [started["id"]]
    assert len(posts(fresh_sim, "run_template")) == 1, "no second wave was asked for"
    assert "0 applied, 1 already applied" in rerun.stderr
    assert f"wave run_nbr {started['run_nbr']} (id {started['id']}) Completed" in rerun.stderr


def test_a_wave_still_running_at_the_timeout_is_a_reject_and_a_rerun_waits_for_it(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    fresh_sim.flow.wave_seconds = 30
    before = {w["id"] for w in waves(fresh_sim)}
    config = target_config(fresh_sim, tmp_path, wave_timeout=1)
    fresh_sim.clear_request_log()

    late = run_target(tmp_path, config, wave_lines("slow-1"))

    assert late.returncode != 0
    (started,) = [w for w in waves(fresh_sim) if w["id"] not in before]
    (reject,) = late.rejects
    assert f"wave run_nbr {started['run_nbr']}" in reject["reasons"]["_wms"]
    assert "wave_timeout" in reject["reasons"]["_wms"]
    assert f"wave run_nbr {started['run_nbr']} is IN_PROGRESS after" in late.stderr  # progress
    fresh_sim.flow.wave_seconds = 0.2

    rerun = run_target(tmp_path, {**config, "wave_timeout": 60}, wave_lines("slow-1"))

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert [w["id"] for w in waves(fresh_sim) if w["id"] not in before] == [started["id"]]
    assert len(posts(fresh_sim, "run_template")) == 1
    assert "0 applied, 1 already applied" in rerun.stderr


def test_a_manual_wave_runs_the_records_orders(fresh_sim: Simulator, tmp_path: Path) -> None:
    (_, item_a, _), (_, item_b, _) = stock(fresh_sim, 2)
    stage_order(fresh_sim, "MANUAL-T-1", [(item_a, 1), (item_b, 1)])
    before = {w["id"] for w in waves(fresh_sim)}
    lines = wave_lines("manual-1", orders=[{"order_nbr": "MANUAL-T-1", "seq_nbr": 2}])
    config = target_config(fresh_sim, tmp_path)
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, config, lines)
    rerun = run_target(tmp_path, config, lines)

    assert run.returncode == 0 and rerun.returncode == 0, run.stderr[-3000:]
    (new,) = [w for w in waves(fresh_sim) if w["id"] not in before]
    assert new["status_id"] == 90
    assert [r["status"] for r in posts(fresh_sim, "run_manual")] == [202]
    assert {a["item_id"]["key"] for a in allocations(fresh_sim, "MANUAL-T-1")} == {item_b}
    assert "0 applied, 1 already applied" in rerun.stderr


def test_a_bad_wave_record_is_rejected_naming_the_field(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    lines = wave_lines("bad-1", template_name="NO-SUCH-TEMPLATE")
    lines += wave_lines("bad-2", facility_code="NOPE")[1:]
    lines += wave_lines("bad-3", orders=[{"order_nbr": "NO-ORDER", "seq_nbr": 1}])[1:]
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)

    assert run.returncode != 0
    reasons = {r["record"]["request_id"]: r["reasons"] for r in run.rejects}
    assert "no wave template 'NO-SUCH-TEMPLATE'" in reasons["bad-1"]["template_name"]
    assert "no facility 'NOPE'" in reasons["bad-2"]["facility_code"]
    assert "no order 'NO-ORDER'" in reasons["bad-3"]["orders[0].order_nbr"]
    assert posts(fresh_sim, "wave_template") == []


# pick_confirm ------------------------------------------------------------------------------


def picked_order(sim: Simulator, order_nbr: str, qty: int) -> list[dict[str, Any]]:
    """A staged order of two items, waved by hand: its allocations."""
    (_, item_a, _), (_, item_b, _) = stock(sim, 2)
    stage_order(sim, order_nbr, [(item_a, qty), (item_b, qty)])
    manual_wave(sim, order_nbr, [1, 2])
    found = allocations(sim, order_nbr)
    assert found, "the wave allocated nothing"
    return found


def pick_lines(sim: Simulator, order_nbr: str, lpn: str, split: bool = False) -> list[Any]:
    """The robot log of picking every allocation of the order into `lpn`, then closing it."""
    return messages(
        "pick_confirm", PICK_SCHEMA, ["log_id"], pick_records(sim, order_nbr, lpn, split)
    )


def pick_records(
    sim: Simulator, order_nbr: str, lpn: str, split: bool = False, first_id: int = 1
) -> list[dict[str, Any]]:
    """`pick_lines`' records, their `log_id`s from `first_id`; `split`: an allocation of more
    than one unit in two lines (all but one unit, then the last unit)."""
    records: list[dict[str, Any]] = []
    for allocation in allocations(sim, order_nbr):
        qty = Decimal(str(allocation["alloc_qty"]))
        parts = [qty - 1, Decimal(1)] if split and qty > 1 else [qty]
        for part in parts:
            records.append(
                {
                    "log_id": first_id + len(records),
                    "facility_code": "F1",
                    "action_code": "Pick",
                    "order_nbr": order_nbr,
                    "item_code": allocation["item_id"]["key"],
                    "qty": float(part),
                    "pick_location": allocation["from_location_id"]["key"],
                    "to_container_nbr": lpn,
                }
            )
    close = {"facility_code": "F1", "action_code": "Close", "to_container_nbr": lpn}
    records.append({"log_id": first_id + len(records), **close})
    return records


def oblpn_status(sim: Simulator, lpn: str) -> int:
    (row,) = all_records(sim, "oblpn", facility_id__code="F1", container_nbr=lpn)
    return int(row["status_id"])


def test_picks_apply_once_across_a_rerun_and_a_lost_answer(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    allocated = picked_order(fresh_sim, "PICK-T-1", 3)
    on_hand = {
        (a["from_location_id"]["key"], a["item_id"]["key"]): fresh_sim.inventory_qty(
            "F1", a["from_location_id"]["key"], a["item_id"]["key"]
        )
        for a in allocated
    }
    lines = pick_lines(fresh_sim, "PICK-T-1", "OB-T-1", split=True)
    picks = [m for m in lines if m["type"] == "RECORD" and m["record"]["action_code"] == "Pick"]
    config = target_config(fresh_sim, tmp_path)
    fresh_sim.clear_request_log()
    fresh_sim.add_fault("lost_response", next=1, path_contains="pick_confirm")

    first = run_target(tmp_path, config, lines)

    assert first.returncode == 0, first.stderr[-3000:]
    sent = posts(fresh_sim, "pick_confirm")
    assert [r["fault"] for r in sent if r.get("fault")] == ["lost_response"]
    assert len(sent) == len(picks), "one request per pick; the lost answer not resent"
    (close,) = posts(fresh_sim, "close_lpn")  # REST 21D's endpoint, fields in the query string
    assert close["query"]["to_container_nbr"] == "OB-T-1"
    after = allocations(fresh_sim, "PICK-T-1")
    assert [Decimal(str(a["packed_qty"])) for a in after] == [
        Decimal(str(a["alloc_qty"])) for a in allocated
    ]
    assert {a["status_id"] for a in after} == {91}, "picked, then packed by the Close"
    assert oblpn_status(fresh_sim, "OB-T-1") == 60
    for a in allocated:
        where = (a["from_location_id"]["key"], a["item_id"]["key"])
        moved = Decimal(str(a["alloc_qty"]))
        assert fresh_sim.inventory_qty("F1", *where) == (on_hand[where] or 0) - moved
    history = [h for h in fresh_sim.history_with_ref("PICK-T-1") if h["history_activity"] == "PICK"]
    assert len(history) == len(picks), "one PICK history row per pick line"
    assert f"Stream 'pick_confirm': {len(picks) + 1} applied" in first.stderr

    fresh_sim.clear_request_log()
    rerun = run_target(tmp_path, config, lines)

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"0 applied, {len(picks) + 1} already applied" in rerun.stderr
    assert posts(fresh_sim, "pick_confirm") == []
    again = [h for h in fresh_sim.history_with_ref("PICK-T-1") if h["history_activity"] == "PICK"]
    assert len(again) == len(picks)


def test_a_pick_whose_run_died_after_sending_is_not_confirmed_twice(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """A run killed after its pick reached the WMS leaves the pending marker (the allocation's
    packed_qty before the request) and no ledger row: the rerun compares, and sends nothing."""
    first, *_ = picked_order(fresh_sim, "PICK-T-2", 3)
    item, where = first["item_id"]["key"], first["from_location_id"]["key"]
    record = {
        "log_id": 1,
        "facility_code": "F1",
        "action_code": "Pick",
        "order_nbr": "PICK-T-2",
        "item_code": item,
        "qty": 1,
        "pick_location": where,
        "to_container_nbr": "OB-T-2",
    }
    ledger = tmp_path / "ledger.sqlite"
    with sqlite3.connect(ledger) as db:  # what the killed run committed before its POST
        db.execute(
            "CREATE TABLE pending (stream TEXT NOT NULL, identity TEXT NOT NULL, "
            "marked_at REAL NOT NULL, marker TEXT NOT NULL, PRIMARY KEY (stream, identity))"
        )
        marker = {"allocation_id": first["id"], "field": "packed_qty", "before": "0"}
        db.execute(
            "INSERT INTO pending VALUES ('pick_confirm', '[1]', 0, ?)", (json.dumps(marker),)
        )
    (barcode,) = [i["barcode"] for i in all_records(fresh_sim, "item", code=item)]
    body = {
        "facility_id__code": "F1",
        "company_id__code": "C1",
        "action_code": "Pick",
        "order_nbr": "PICK-T-2",
        "item_barcode": barcode,
        "qty": "1",
        "pick_location": where,
        "to_container_nbr": "OB-T-2",
        "async_flg": False,
    }
    assert post(fresh_sim, "pick_pack/pick_confirm/", body).status_code == 204  # it arrived
    fresh_sim.clear_request_log()

    rerun = run_target(
        tmp_path,
        target_config(fresh_sim, tmp_path),
        messages("pick_confirm", PICK_SCHEMA, ["log_id"], [record]),
    )

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "0 applied, 1 already applied" in rerun.stderr
    assert posts(fresh_sim, "pick_confirm") == []
    (after,) = [a for a in allocations(fresh_sim, "PICK-T-2") if a["id"] == first["id"]]
    assert Decimal(str(after["packed_qty"])) == 1, "picked once"


def test_an_over_allocation_pick_is_rejected_with_the_wms_reason(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    first = max(picked_order(fresh_sim, "PICK-T-3", 3), key=lambda a: Decimal(str(a["alloc_qty"])))
    assert Decimal(str(first["alloc_qty"])) >= 2
    line = {
        "facility_code": "F1",
        "action_code": "Pick",
        "order_nbr": "PICK-T-3",
        "item_code": first["item_id"]["key"],
        "pick_location": first["from_location_id"]["key"],
        "to_container_nbr": "OB-T-3",
    }
    full = float(first["alloc_qty"])
    records = [
        {"log_id": 1, **line, "qty": full - 1},
        {"log_id": 2, **line, "qty": 2},  # fine on its own, over the allocation after log 1
        {"log_id": 3, **line, "qty": full + 5},  # over it on its own: never sent
        {"log_id": 4, **line, "action_code": "Jump", "qty": 1},
        {"log_id": 5, **{**line, "to_container_nbr": None}, "qty": 1},
        {"log_id": 6, **line, "item_code": "NO-SUCH", "qty": 1},
    ]
    lines = messages("pick_confirm", PICK_SCHEMA, ["log_id"], records)
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)

    assert run.returncode != 0
    reasons = {r["record"]["log_id"]: r["reasons"] for r in run.rejects}
    assert sorted(reasons) == [2, 3, 4, 5, 6]
    refusal = [r for r in posts(fresh_sim, "pick_confirm") if r["status"] == 400]
    assert len(refusal) == 1, "the pick over what log 1 left open went to the WMS"
    assert "qty" in reasons[2] and "over" not in reasons[2]["qty"], reasons[2]  # the WMS's words
    assert "over the open allocated quantity" in reasons[3]["qty"]
    assert "one of Pick" in reasons[4]["action_code"]
    assert "required" in reasons[5]["to_container_nbr"]
    assert "no item 'NO-SUCH'" in reasons[6]["item_code"]
    assert len(posts(fresh_sim, "pick_confirm")) == 2
    (after,) = [a for a in allocations(fresh_sim, "PICK-T-3") if a["id"] == first["id"]]
    assert Decimal(str(after["packed_qty"])) == Decimal(str(first["alloc_qty"])) - 1


def wave_proxy(sim: Simulator, also_run: str | None = None) -> Hostile:
    """A WMS whose `wave` entity has no `wave_template_id` (Oracle names none, L6): the proxy
    drops the field from `describe` and answers 400 to a filter on it; with `also_run`, every
    run_template POST first runs that other template of the facility (another scheduler's wave
    landing between the target's marker and its look for the new wave)."""
    prefix = sim.base_url.split("/", 3)[3]
    origin = sim.base_url[: -len(prefix) - 1]
    auth = (sim.username, sim.password)

    def forward(seen: Seen) -> Reply:
        url = origin + "/" + prefix + seen.path[len("/demo") :]
        if seen.method == "POST":
            if also_run and "run_template" in seen.path:
                other = {"parameters": {"template_name": also_run, "facility_id__code": "F1"}}
                requests.post(
                    f"{origin}/{prefix}/wms/lgfapi/v10/entity/wave_template/run_template/",
                    json=other,
                    auth=auth,
                    timeout=30,
                ).raise_for_status()
            answer = requests.post(
                url,
                data=seen.body,
                headers={"Content-Type": "application/json"},
                auth=auth,
                timeout=30,
            )
            return Reply(answer.status_code, answer.content)
        if "wave_template_id" in seen.query:
            return Reply(400, {"message": "unknown filter", "details": {"wave_template_id": "?"}})
        answer = requests.get(url, params=seen.query, auth=auth, timeout=30)
        if seen.path.endswith("/entity/wave/describe/"):
            body = answer.json()
            body["fields"].pop("wave_template_id", None)
            return Reply(answer.status_code, body)
        return Reply(answer.status_code, answer.content)

    return Hostile(forward)


def test_a_wave_is_found_where_the_wave_entity_names_no_template(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """No template field, no run number in the answer: the one new wave of the facility."""
    fresh_sim.set_undocumented(run_template_answer="empty")
    before = {w["id"] for w in waves(fresh_sim)}
    with wave_proxy(fresh_sim) as proxy:
        config = {**target_config(fresh_sim, tmp_path), "base_url": proxy.base_url}
        run = run_target(tmp_path, config, wave_lines("run-no-template-field"))
    assert run.returncode == 0, run.stderr[-3000:]
    (new,) = [w for w in waves(fresh_sim) if w["id"] not in before]
    assert f"wave run_nbr {new['run_nbr']} (id {new['id']}) Completed" in run.stderr
    assert not [r for r in proxy.requests if "wave_template_id" in r.query]


def test_several_new_waves_and_no_template_field_is_a_reject_naming_the_assumption(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    fresh_sim.set_undocumented(run_template_answer="empty")
    before = {w["id"] for w in waves(fresh_sim)}
    with wave_proxy(fresh_sim, also_run="TPL-F1-STD") as proxy:
        config = {**target_config(fresh_sim, tmp_path), "base_url": proxy.base_url}
        first = run_target(tmp_path, config, wave_lines("run-ambiguous"))
        rerun = run_target(tmp_path, config, wave_lines("run-ambiguous"))
    assert "Traceback" not in first.stderr
    rejects = [json.loads(line) for line in Path(config["rejects_path"]).read_text().splitlines()]
    assert rejects and "no wave_template_id" in json.dumps(rejects[0])
    assert "2 waves appeared" in json.dumps(rejects[0])
    assert len([w for w in waves(fresh_sim) if w["id"] not in before]) == 2, "nothing run again"
    assert len(posts(fresh_sim, "run_template")) == 2  # the target's one and the other's
    assert rerun.returncode == first.returncode
