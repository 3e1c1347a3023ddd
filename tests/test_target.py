"""target-oracle-wms against the simulator: applied exactly once, validated first, never partial.

Expected quantities come from the simulator's own reads before the run, never from the target.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from oracle_wms_sim import Simulator
from tests.conftest import BIN, all_records

ADJUSTMENT_SCHEMA = {
    "type": "object",
    "properties": {
        "adj_id": {"type": "integer"},
        "facility_code": {"type": ["string", "null"]},
        "location_barcode": {"type": ["string", "null"]},
        "item_code": {"type": ["string", "null"]},
        "adjustment_qty": {"type": ["number", "null"]},
        "actual_qty": {"type": ["number", "null"]},
        "reason_code": {"type": ["string", "null"]},
        "transaction_ref_nbr": {"type": ["string", "null"]},
    },
}


@dataclass
class TargetRun:
    returncode: int
    stdout: str
    stderr: str
    rejects: list[dict[str, Any]]

    @property
    def states(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def target_config(sim: Simulator, work: Path, **overrides: Any) -> dict[str, Any]:
    return {
        "base_url": sim.base_url,
        "username": sim.username,
        "password": sim.password,
        "ledger_path": str(work / "ledger.sqlite"),
        "rejects_path": str(work / "rejects.jsonl"),
        "retry_initial_wait": 0,
        **overrides,
    }


def messages(
    stream: str, schema: dict[str, Any], key: list[str], records: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"type": "SCHEMA", "stream": stream, "schema": schema, "key_properties": key}
    ]
    out += [{"type": "RECORD", "stream": stream, "record": r} for r in records]
    out.append({"type": "STATE", "value": {"bookmarks": {stream: {"last": len(records)}}}})
    return out


def run_target(
    work: Path, config: dict[str, Any], lines: list[dict[str, Any]], timeout: float = 300
) -> TargetRun:
    config_path = work / "target.json"
    config_path.write_text(json.dumps(config))
    rejects_path = Path(config["rejects_path"])
    rejects_path.unlink(missing_ok=True)
    proc = subprocess.run(
        [str(BIN / "target-oracle-wms"), "--config", str(config_path)],
        input="".join(json.dumps(m) + "\n" for m in lines),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    rejects = (
        [json.loads(x) for x in rejects_path.read_text().splitlines()]
        if rejects_path.exists()
        else []
    )
    return TargetRun(proc.returncode, proc.stdout, proc.stderr, rejects)


def active_stock(sim: Simulator, facility: str, count: int) -> list[tuple[str, str, Decimal]]:
    """(location barcode, item code, quantity) of distinct active-location inventory rows
    without batch or LPN, the rows an adjustment without `batch_nbr` changes."""
    return [sim.active_location_with_inventory(facility, nth=n) for n in range(count)]


def qty(sim: Simulator, facility: str, barcode: str, item: str) -> Decimal:
    return sim.inventory_qty(facility, barcode, item) or Decimal(0)


def adjustment(
    adj_id: int, facility: str, barcode: str, item: str, **fields: Any
) -> dict[str, Any]:
    return {
        "adj_id": adj_id,
        "facility_code": facility,
        "location_barcode": barcode,
        "item_code": item,
        "reason_code": "CC",
        **fields,
    }


def test_adjustments_apply_exactly_once_across_replays(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    stock = active_stock(fresh_sim, "F1", 3)
    (loc_a, item_a, qty_a), (loc_b, item_b, qty_b), (loc_c, item_c, _) = stock
    records = [
        adjustment(1, "F1", loc_a, item_a, adjustment_qty=5),
        adjustment(2, "F1", loc_b, item_b, adjustment_qty=-1),
        adjustment(3, "F1", loc_c, item_c, actual_qty=42, transaction_ref_nbr="COUNT-2026-11"),
    ]
    redelivered = records[0]  # at-least-once: the same record twice in one input
    lines = messages("inventory_adjustment", ADJUSTMENT_SCHEMA, ["adj_id"], [*records, redelivered])
    config = target_config(fresh_sim, tmp_path)

    first = run_target(tmp_path, config, lines)

    assert first.returncode == 0, first.stderr[-3000:]
    assert qty(fresh_sim, "F1", loc_a, item_a) == qty_a + 5
    assert qty(fresh_sim, "F1", loc_b, item_b) == qty_b - 1
    assert qty(fresh_sim, "F1", loc_c, item_c) == 42
    assert len(fresh_sim.history_with_ref("singer:")) == 2
    assert len(fresh_sim.history_with_ref("COUNT-2026-11:")) == 1
    assert "3 applied, 1 already applied (skipped), 0 rejected" in first.stderr
    assert first.states[-1] == lines[-1]["value"]

    replay = run_target(tmp_path, config, lines)
    lost_ledger = run_target(
        tmp_path, {**config, "ledger_path": str(tmp_path / "new.sqlite")}, lines
    )

    for run in (replay, lost_ledger):
        assert run.returncode == 0, run.stderr[-3000:]
        assert "0 applied, 4 already applied (skipped), 0 rejected" in run.stderr
    assert qty(fresh_sim, "F1", loc_a, item_a) == qty_a + 5
    assert qty(fresh_sim, "F1", loc_b, item_b) == qty_b - 1
    assert len(fresh_sim.history_with_ref("singer:")) == 2
    duplicated = len(fresh_sim.history_with_ref("singer:")) - 2
    print(f"replays: applied 3, duplicated {duplicated}, lost 0")


def test_bad_records_are_rejected_with_reasons_and_their_document_is_untouched(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (loc, item, before), (loc2, item2, before2) = active_stock(fresh_sim, "F1", 2)
    reserve = fresh_sim.reserve_location("F1")
    records = [
        adjustment(1, "F1", loc, "NO-SUCH-ITEM", adjustment_qty=1),
        adjustment(2, "F1", loc, item, actual_qty=-3),
        adjustment(3, "F1", loc, item, adjustment_qty=1, reason_code=None),
        adjustment(4, "F1", loc, item, adjustment_qty=1, reason_code="R" * 26),
        adjustment(5, "F1", reserve, item, adjustment_qty=1),
        # One count sheet: a bad line keeps its good line from being written.
        adjustment(6, "F1", loc2, item2, adjustment_qty=4, transaction_ref_nbr="SHEET-9"),
        adjustment(7, "F9", loc2, item2, adjustment_qty=4, transaction_ref_nbr="SHEET-9"),
        # Valid and alone: written.
        adjustment(8, "F1", loc, item, adjustment_qty=2),
    ]
    lines = messages("inventory_adjustment", ADJUSTMENT_SCHEMA, ["adj_id"], records)

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)

    assert run.returncode != 0, "rejects must fail the run unless allow_failures is set"
    reasons = {r["record"]["adj_id"]: r["reasons"] for r in run.rejects}
    assert set(reasons) == {1, 2, 3, 4, 5, 6, 7}
    assert "item_code" in reasons[1]
    assert "actual_qty" in reasons[2]
    assert reasons[3] == {"reason_code": "required"}
    assert "25 characters" in reasons[4]["reason_code"]
    assert "not an active location" in reasons[5]["location_barcode"]
    assert "facility_code" in reasons[7]
    assert "_document" in reasons[6]
    assert qty(fresh_sim, "F1", loc, item) == before + 2
    assert qty(fresh_sim, "F1", loc2, item2) == before2
    assert fresh_sim.history_with_ref("SHEET-9") == []
    assert "1 applied, 0 already applied (skipped), 7 rejected" in run.stderr

    allowed = run_target(tmp_path, target_config(fresh_sim, tmp_path, allow_failures=True), lines)
    assert allowed.returncode == 0, allowed.stderr[-3000:]
    assert qty(fresh_sim, "F1", loc, item) == before + 2


def test_a_lost_response_is_not_applied_twice(fresh_sim: Simulator, tmp_path: Path) -> None:
    ((loc, item, before),) = active_stock(fresh_sim, "F2", 1)
    lines = messages(
        "inventory_adjustment",
        ADJUSTMENT_SCHEMA,
        ["adj_id"],
        [adjustment(1, "F2", loc, item, adjustment_qty=7)],
    )
    fresh_sim.clear_request_log()
    fresh_sim.add_fault("lost_response", next=1, path_contains="update_active_inventory")
    fresh_sim.add_fault("409", next=1, path_contains="update_active_inventory")

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)

    assert run.returncode == 0, run.stderr[-3000:]
    faults = [r["fault"] for r in fresh_sim.request_log() if r.get("fault")]
    assert "lost_response" in faults
    applied = fresh_sim.history_with_ref("singer:")
    print(f"lost response: applied 1, duplicated {len(applied) - 1}, lost {1 - len(applied)}")
    assert len(applied) == 1
    assert qty(fresh_sim, "F2", loc, item) == before + 7
    assert "1 already applied" in run.stderr or "1 applied" in run.stderr


def test_a_killed_run_then_a_rerun_apply_every_record_once(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    ((loc, item, before),) = active_stock(fresh_sim, "F3", 1)
    total = 120
    refs = ("KILL,{i}", 'KILL "{i}"', "KILL né {i}", "KILL 'ü,{i}', 倉庫")
    records = [
        adjustment(
            i, "F3", loc, item, adjustment_qty=1, transaction_ref_nbr=refs[i % 4].format(i=i)
        )
        for i in range(1, total + 1)
    ]
    lines = messages("inventory_adjustment", ADJUSTMENT_SCHEMA, ["adj_id"], records)
    config = target_config(fresh_sim, tmp_path)
    (tmp_path / "target.json").write_text(json.dumps(config))
    fresh_sim.add_fault("latency", rate=1.0, path_contains="update_active_inventory", latency_ms=25)

    target = subprocess.Popen(
        [str(BIN / "target-oracle-wms"), "--config", str(tmp_path / "target.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert target.stdin is not None
    target.stdin.write("".join(json.dumps(m) + "\n" for m in lines))
    target.stdin.close()  # end of input: the target drains its one batch
    deadline = time.monotonic() + 120
    while len(fresh_sim.history_with_ref("KILL")) < total // 3:
        assert time.monotonic() < deadline, "the target applied nothing"
        assert target.poll() is None, "the target finished before it could be killed"
        time.sleep(0.05)
    target.send_signal(signal.SIGKILL)
    target.wait()
    killed_at = len(fresh_sim.history_with_ref("KILL"))
    assert 0 < killed_at < total

    fresh_sim.clear_faults()
    rerun = run_target(tmp_path, config, lines)

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    history = fresh_sim.history_with_ref("KILL")
    applied = [h["transaction_ref_nbr"] for h in history]
    print(
        f"kill/rerun: {total} adjustments, {killed_at} before the kill, "
        f"duplicated {len(applied) - len(set(applied))}, lost {total - len(set(applied))}"
    )
    assert len(applied) == len(set(applied)) == total
    assert {ref.rsplit(":", 1)[0] for ref in applied} == {
        str(r["transaction_ref_nbr"]) for r in records
    }
    assert qty(fresh_sim, "F3", loc, item) == before + total


ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "facility_code": {"type": "string"},
        "order_nbr": {"type": "string"},
        "priority": {"type": ["integer", "null"]},
        "cust_field_1": {"type": ["string", "null"]},
        "status_id": {"type": ["integer", "null"]},
    },
}


def _order(sim: Simulator, facility: str, order_nbr: str) -> dict[str, Any]:
    rows = all_records(sim, "order_hdr", facility_id__code=facility, order_nbr=order_nbr)
    assert len(rows) == 1
    return rows[0]


def test_order_updates_send_only_writable_fields(fresh_sim: Simulator, tmp_path: Path) -> None:
    open_order, _ = fresh_sim.order_with_lines("F1", status="open")
    second_open = next(
        r["order_nbr"]
        for r in all_records(fresh_sim, "order_hdr", facility_id__code="F1")
        if r["order_nbr"] != open_order and r["status_id"] < 90
    )
    shipped, _ = fresh_sim.order_with_lines("F1", status="shipped")
    records = [
        {"facility_code": "F1", "order_nbr": open_order, "priority": 3, "cust_field_1": "rush"},
        {"facility_code": "F1", "order_nbr": second_open, "status_id": 99},
        {"facility_code": "F1", "order_nbr": shipped, "priority": 1},
        {"facility_code": "F1", "order_nbr": "NO-SUCH-ORDER", "priority": 1},
    ]
    before_second = _order(fresh_sim, "F1", second_open)
    lines = messages("order_hdr", ORDER_SCHEMA, ["facility_code", "order_nbr"], records)

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path, allow_failures=True), lines)

    assert run.returncode == 0, run.stderr[-3000:]
    updated = _order(fresh_sim, "F1", open_order)
    assert (updated["priority"], updated["cust_field_1"]) == (3, "rush")
    reasons = {r["record"]["order_nbr"]: r["reasons"] for r in run.rejects}
    assert "not a writable field" in reasons[second_open]["status_id"]
    assert reasons[shipped], "the WMS refuses changes to a shipped order"
    assert "order_nbr" in reasons["NO-SUCH-ORDER"]
    assert _order(fresh_sim, "F1", second_open)["mod_ts"] == before_second["mod_ts"]


SHIP_SCHEMA = {
    "type": "object",
    "properties": {
        "facility_code": {"type": "string"},
        "container_nbr": {"type": "string"},
        "locn_barcode": {"type": ["string", "null"]},
    },
}


def _oblpn_status(sim: Simulator, facility: str) -> dict[str, int]:
    """container_nbr -> status_id, straight from the simulator."""
    return {
        r["container_nbr"]: r["status_id"]
        for r in all_records(sim, "oblpn", facility_id__code=facility)
    }


def _bulk_requests(sim: Simulator) -> list[dict[str, Any]]:
    return [
        r
        for r in sim.request_log()
        if r["method"] == "POST" and r["path"].rstrip("/").endswith("bulk_ship")
    ]


def test_oblpns_ship_once(fresh_sim: Simulator, tmp_path: Path) -> None:
    to_ship = fresh_sim.oblpn_numbers("F1", shipped=False, count=3)
    already = fresh_sim.oblpn_numbers("F1", shipped=True, count=1)
    before = _oblpn_status(fresh_sim, "F1")
    picked = next(n for n, status in before.items() if status == 50)  # Picked: not shippable
    dock = fresh_sim.reserve_location("F1")
    records = [{"facility_code": "F1", "container_nbr": n} for n in to_ship + already]
    records[0]["locn_barcode"] = dock  # the record's own location wins over the setting
    records.append({"facility_code": "F1", "container_nbr": picked})
    lines = messages("oblpn_shipment", SHIP_SCHEMA, ["facility_code", "container_nbr"], records)
    config = target_config(fresh_sim, tmp_path, ship_location_barcode=dock, allow_failures=True)

    fresh_sim.clear_request_log()
    first = run_target(tmp_path, config, lines)
    bulk = _bulk_requests(fresh_sim)
    replay = run_target(tmp_path, config, lines)
    without_ledger = run_target(
        tmp_path, {**config, "ledger_path": str(tmp_path / "other.sqlite")}, lines
    )

    assert first.returncode == 0, first.stderr[-3000:]
    assert len(bulk) == 1 and bulk[0]["status"] == 200, "one documented bulk request"
    assert "3 applied, 1 already applied (skipped), 1 rejected" in first.stderr
    assert "0 applied, 4 already applied (skipped), 1 rejected" in replay.stderr
    # without the ledger, the LPNs' Shipped status (re-read before sending) proves them applied
    assert "0 applied, 4 already applied (skipped), 1 rejected" in without_ledger.stderr
    assert len(_bulk_requests(fresh_sim)) == 1, "nothing left to send"
    (reject,) = first.rejects
    assert "only Packed or Loaded" in reject["reasons"]["status_id"]
    after = _oblpn_status(fresh_sim, "F1")
    assert {after[n] for n in to_ship + already} == {80}
    assert after[picked] == 50, "a Picked LPN is never sent"


def test_a_status_id_0_is_read_as_its_word_not_as_none(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """container_status 0 (In Transit) is an id like any other: the reject names it."""
    (lpn,) = fresh_sim.oblpn_numbers("F1", shipped=False, count=1)
    with sqlite3.connect(fresh_sim.db_path) as conn:
        conn.execute("UPDATE oblpn SET status_id = 0 WHERE container_nbr = ?", (lpn,))
    lines = messages(
        "oblpn_shipment",
        SHIP_SCHEMA,
        ["facility_code", "container_nbr"],
        [{"facility_code": "F1", "container_nbr": lpn}],
    )
    dock = fresh_sim.reserve_location("F1")
    config = target_config(fresh_sim, tmp_path, ship_location_barcode=dock, allow_failures=True)

    run = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    (reject,) = run.rejects
    assert f"LPN {lpn} is IN_TRANSIT" in reject["reasons"]["status_id"]


def test_an_lpn_without_a_shipping_location_is_rejected_before_sending(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (lpn,) = fresh_sim.oblpn_numbers("F1", shipped=False, count=1)
    lines = messages(
        "oblpn_shipment",
        SHIP_SCHEMA,
        ["facility_code", "container_nbr"],
        [{"facility_code": "F1", "container_nbr": lpn}],
    )
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)

    assert run.returncode != 0
    (reject,) = run.rejects
    assert "ship_location_barcode" in reject["reasons"]["locn_barcode"]
    assert _bulk_requests(fresh_sim) == []
    assert _oblpn_status(fresh_sim, "F1")[lpn] != 80


def test_bulk_ship_stays_within_the_users_rows_per_page(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    lpns = fresh_sim.oblpn_numbers("F1", shipped=False, count=23)
    fresh_sim.add_user("small", "pages", rows_per_page=10)
    dock = fresh_sim.reserve_location("F1")
    records = [{"facility_code": "F1", "container_nbr": n} for n in lpns]
    lines = messages("oblpn_shipment", SHIP_SCHEMA, ["facility_code", "container_nbr"], records)
    config = {
        **target_config(fresh_sim, tmp_path, ship_location_barcode=dock),
        "username": "small",
        "password": "pages",
    }
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert [r["status"] for r in _bulk_requests(fresh_sim)] == [200, 200, 200]
    assert "23 applied" in run.stderr
    after = _oblpn_status(fresh_sim, "F1")
    assert {after[n] for n in lpns} == {80}

    # a setting below the user's cap lowers it further
    more = fresh_sim.oblpn_numbers("F1", shipped=False, count=6)
    lines = messages(
        "oblpn_shipment",
        SHIP_SCHEMA,
        ["facility_code", "container_nbr"],
        [{"facility_code": "F1", "container_nbr": n} for n in more],
    )
    fresh_sim.clear_request_log()
    run = run_target(tmp_path, {**config, "bulk_max_objects": 10}, lines)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(_bulk_requests(fresh_sim)) == 1
    too_big = run_target(tmp_path, {**config, "bulk_max_objects": 126}, lines)
    assert too_big.returncode != 0 and "bulk_max_objects" in too_big.stderr


def test_dry_run_plans_and_writes_nothing(fresh_sim: Simulator, tmp_path: Path) -> None:
    ((loc, item, before),) = active_stock(fresh_sim, "F1", 1)
    lines = messages(
        "inventory_adjustment",
        ADJUSTMENT_SCHEMA,
        ["adj_id"],
        [adjustment(1, "F1", loc, item, adjustment_qty=9)],
    )

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path, dry_run=True), lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "DRY RUN POST entity/location/" in run.stderr
    assert "1 planned (dry run)" in run.stderr
    assert qty(fresh_sim, "F1", loc, item) == before
    assert fresh_sim.history_with_ref("singer:") == []


def test_an_unknown_stream_fails_fast_naming_the_setting(sim: Simulator, tmp_path: Path) -> None:
    lines = messages("mystery", ADJUSTMENT_SCHEMA, ["adj_id"], [{"adj_id": 1}])

    run = run_target(tmp_path, target_config(sim, tmp_path), lines)

    assert run.returncode != 0
    assert "stream_actions" in run.stderr and "mystery" in run.stderr


def test_order_lines_are_found_by_order_number_and_sequence(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    order_nbr, seqs = fresh_sim.order_with_lines("F2", status="open")
    schema = {
        "type": "object",
        "properties": {
            "facility_code": {"type": "string"},
            "order_nbr": {"type": "string"},
            "seq_nbr": {"type": "integer"},
            "ord_qty": {"type": "number"},
        },
    }
    records = [
        {"facility_code": "F2", "order_nbr": order_nbr, "seq_nbr": seq, "ord_qty": 10 + seq}
        for seq in seqs
    ]
    key = ["facility_code", "order_nbr", "seq_nbr"]
    lines = messages("order_dtl", schema, key, records)
    order_id = _order(fresh_sim, "F2", order_nbr)["id"]
    before = all_records(fresh_sim, "order_dtl", order_id=order_id)

    # ord_qty is not a writable field in any Oracle page: refused unless asked for
    refused = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)
    assert refused.returncode != 0
    assert all("undocumented_patch_fields" in r["reasons"]["ord_qty"] for r in refused.rejects)
    assert all_records(fresh_sim, "order_dtl", order_id=order_id) == before

    config = target_config(fresh_sim, tmp_path, undocumented_patch_fields=True)
    run = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    stored = {
        r["seq_nbr"]: Decimal(r["ord_qty"])
        for r in all_records(fresh_sim, "order_dtl", order_id=order_id)
    }
    assert stored == {seq: Decimal(10 + seq) for seq in seqs}
    assert f"{len(seqs)} applied" in run.stderr


def test_inventory_is_created_once_in_an_active_location_never_in_a_reserve_one(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    reserve = fresh_sim.reserve_location("F1")
    active, item, _ = fresh_sim.active_location_with_inventory("F1")
    before = qty(fresh_sim, "F1", active, item)
    schema = {
        "type": "object",
        "properties": {
            "receipt_id": {"type": "integer"},
            "facility_code": {"type": "string"},
            "location_barcode": {"type": "string"},
            "item_code": {"type": "string"},
            "curr_qty": {"type": "number"},
            "reason_code": {"type": "string"},
        },
    }
    record = {
        "receipt_id": 1,
        "facility_code": "F1",
        "location_barcode": active,
        "item_code": item,
        "curr_qty": 12,
        "reason_code": "FOUND",
    }
    bad = {**record, "receipt_id": 2, "curr_qty": 0}
    in_reserve = {**record, "receipt_id": 3, "location_barcode": reserve}
    reserve_before = qty(fresh_sim, "F1", reserve, item)
    lines = messages("found_stock", schema, ["receipt_id"], [record, bad, in_reserve])
    config = target_config(
        fresh_sim,
        tmp_path,
        allow_failures=True,
        stream_actions={"found_stock": {"entity": "inventory", "action": "create"}},
    )

    first = run_target(tmp_path, config, lines)
    replay = run_target(tmp_path, config, lines)

    assert first.returncode == 0, first.stderr[-3000:]
    assert "1 applied, 0 already applied (skipped), 2 rejected" in first.stderr
    assert "0 applied, 1 already applied (skipped), 2 rejected" in replay.stderr
    reasons = {r["record"]["receipt_id"]: r["reasons"] for r in first.rejects}
    assert reasons[2] == {"curr_qty": "new inventory needs a quantity above zero"}
    assert "not an active location" in reasons[3]["location_barcode"]
    assert qty(fresh_sim, "F1", active, item) == before + 12
    assert qty(fresh_sim, "F1", reserve, item) == reserve_before
    assert len(fresh_sim.history_with_ref("singer:")) == 1


def test_parallel_writes_keep_each_rows_records_in_order(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    stock = active_stock(fresh_sim, "F2", 6)
    (loc, item, _), others = stock[0], stock[1:]
    # one row: deltas and absolute counts mixed; only this order ends at 57
    records = [
        adjustment(1, "F2", loc, item, adjustment_qty=5),
        adjustment(2, "F2", loc, item, actual_qty=100),
        adjustment(3, "F2", loc, item, adjustment_qty=-3),
        adjustment(4, "F2", loc, item, actual_qty=50),
        adjustment(5, "F2", loc, item, adjustment_qty=7),
    ]
    records += [
        adjustment(10 + n, "F2", o_loc, o_item, adjustment_qty=n + 1)
        for n, (o_loc, o_item, _) in enumerate(others)
    ]
    lines = messages("inventory_adjustment", ADJUSTMENT_SCHEMA, ["adj_id"], records)
    config = target_config(fresh_sim, tmp_path, max_parallel_writes=4)
    fresh_sim.add_fault(  # answers in random order: out-of-order writes would show
        "latency", rate=1.0, path_contains="update_active_inventory", latency_ms=5, jitter_ms=80
    )

    run = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert qty(fresh_sim, "F2", loc, item) == 57
    for n, (o_loc, o_item, before) in enumerate(others):
        assert qty(fresh_sim, "F2", o_loc, o_item) == before + n + 1
    assert len(fresh_sim.history_with_ref("singer:")) == len(records)
    assert f"{len(records)} applied, 0 already applied" in run.stderr


def test_a_bad_max_parallel_writes_is_a_config_error(sim: Simulator, tmp_path: Path) -> None:
    lines = messages("inventory_adjustment", ADJUSTMENT_SCHEMA, ["adj_id"], [])
    run = run_target(tmp_path, target_config(sim, tmp_path, max_parallel_writes=0), lines)
    assert run.returncode != 0
    assert "max_parallel_writes" in run.stderr
    assert "from 1 to 8" in run.stderr


CREATE_SCHEMA = {
    "type": "object",
    "properties": {
        "receipt_id": {"type": "integer"},
        "facility_code": {"type": "string"},
        "location_barcode": {"type": "string"},
        "item_code": {"type": "string"},
        "curr_qty": {"type": "number"},
        "reason_code": {"type": "string"},
    },
}


def test_creates_stop_when_the_wms_does_not_record_their_reference(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Contract row G4: `transaction_ref_nbr` on create is undocumented. A WMS that drops it
    gets the first create only; the others are rejected unsent, naming the assumption."""
    active, item, _ = fresh_sim.active_location_with_inventory("F2")
    before = qty(fresh_sim, "F2", active, item)
    records = [
        {
            "receipt_id": n,
            "facility_code": "F2",
            "location_barcode": active,
            "item_code": item,
            "curr_qty": 5,
            "reason_code": "FOUND",
        }
        for n in (1, 2, 3)
    ]
    lines = messages("found_stock", CREATE_SCHEMA, ["receipt_id"], records)
    config = target_config(
        fresh_sim,
        tmp_path,
        stream_actions={"found_stock": {"entity": "inventory", "action": "create"}},
    )
    fresh_sim.set_undocumented(create_ref=False)

    run = run_target(tmp_path, config, lines)

    assert run.returncode != 0
    assert "1 applied, 0 already applied (skipped), 2 rejected" in run.stderr
    assert {r["record"]["receipt_id"] for r in run.rejects} == {2, 3}
    assert all("transaction_ref_nbr" in r["reasons"] for r in run.rejects)
    assert qty(fresh_sim, "F2", active, item) == before + 5


def test_undocumented_patch_fields_are_verified_by_a_re_read(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Contract row H4: a WMS that answers 200 but ignores `ord_qty` is caught by the re-read."""
    order_nbr, seqs = fresh_sim.order_with_lines("F1", status="open")
    order_id = _order(fresh_sim, "F1", order_nbr)["id"]
    before = {
        r["seq_nbr"]: r["ord_qty"] for r in all_records(fresh_sim, "order_dtl", order_id=order_id)
    }
    schema = {
        "type": "object",
        "properties": {
            "facility_code": {"type": "string"},
            "order_nbr": {"type": "string"},
            "seq_nbr": {"type": "integer"},
            "ord_qty": {"type": "number"},
            "cust_field_1": {"type": "string"},
        },
    }
    assert len(seqs) > 1
    seq = seqs[0]
    wanted = int(Decimal(before[seq])) + 3
    records = [
        {"facility_code": "F1", "order_nbr": order_nbr, "seq_nbr": seq, "ord_qty": wanted},
        {"facility_code": "F1", "order_nbr": order_nbr, "seq_nbr": seqs[-1], "cust_field_1": "ok"},
    ]
    lines = messages("order_dtl", schema, ["facility_code", "order_nbr", "seq_nbr"], records)
    fresh_sim.set_undocumented(patch_fields=False)

    run = run_target(
        tmp_path, target_config(fresh_sim, tmp_path, undocumented_patch_fields=True), lines
    )

    assert run.returncode != 0
    (reject,) = run.rejects
    assert reject["record"]["seq_nbr"] == seq
    assert "does not show it" in reject["reasons"]["ord_qty"]
    after = {r["seq_nbr"]: r for r in all_records(fresh_sim, "order_dtl", order_id=order_id)}
    assert after[seq]["ord_qty"] == before[seq]
    assert after[seqs[-1]]["cust_field_1"] == "ok"
