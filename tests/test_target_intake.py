"""Issue 12 against the simulator: never applied twice, never skipped in silence, never half a
document without a report naming its records, validated first.

Expected quantities come from the simulator's reads before the run, never from the target.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from oracle_wms_sim import Simulator
from tests.conftest import all_records
from tests.test_target import (
    ADJUSTMENT_SCHEMA,
    active_stock,
    adjustment,
    messages,
    qty,
    run_target,
    target_config,
)

STREAM = "inventory_adjustment"


def _adjustments(records: list[dict[str, Any]], schema: dict[str, Any] | None = None) -> list[Any]:
    return messages(STREAM, schema or ADJUSTMENT_SCHEMA, ["adj_id"], records)


def _reasons(run: Any) -> dict[Any, dict[str, str]]:
    return {r["record"].get("adj_id"): r["reasons"] for r in run.rejects}


# 1. Applied twice: user values in filters are matched exactly ---------------------------------


def test_a_ref_with_a_comma_is_found_after_a_rerun_without_the_ledger(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (loc_a, item_a, qty_a), (loc_b, item_b, qty_b) = active_stock(fresh_sim, "F1", 2)
    records = [
        adjustment(1, "F1", loc_a, item_a, adjustment_qty=5, transaction_ref_nbr="PO-77,LINE-3"),
        # a sibling: several commas, a quote and a space
        adjustment(2, "F1", loc_b, item_b, adjustment_qty=-1, transaction_ref_nbr='A,B "c", d'),
    ]
    config = target_config(fresh_sim, tmp_path)

    first = run_target(tmp_path, config, _adjustments(records))
    rerun = run_target(
        tmp_path, {**config, "ledger_path": str(tmp_path / "lost.sqlite")}, _adjustments(records)
    )

    assert first.returncode == 0, first.stderr[-3000:]
    assert "2 applied, 0 already applied (skipped), 0 rejected" in first.stderr
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "0 applied, 2 already applied (skipped), 0 rejected" in rerun.stderr
    assert qty(fresh_sim, "F1", loc_a, item_a) == qty_a + 5
    assert qty(fresh_sim, "F1", loc_b, item_b) == qty_b - 1
    assert len(fresh_sim.history_with_ref("PO-77,LINE-3:")) == 1
    assert len(fresh_sim.history_with_ref('A,B "c", d:')) == 1


def test_a_lost_response_under_a_ref_with_a_comma_is_not_applied_twice(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    ((loc, item, before),) = active_stock(fresh_sim, "F2", 1)
    records = [adjustment(1, "F2", loc, item, adjustment_qty=4, transaction_ref_nbr="RMA,9")]
    fresh_sim.add_fault("lost_response", next=1, path_contains="update_active_inventory")

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), _adjustments(records))

    assert run.returncode == 0, run.stderr[-3000:]
    assert "lost_response" in [r.get("fault") for r in fresh_sim.request_log()]
    assert len(fresh_sim.history_with_ref("RMA,9:")) == 1
    assert qty(fresh_sim, "F2", loc, item) == before + 4


# 2. Dropped in silence: every record has an identity and the ledger knows its content -------


def test_a_null_or_missing_key_is_a_named_reject(fresh_sim: Simulator, tmp_path: Path) -> None:
    (loc_a, item_a, qty_a), (loc_b, item_b, qty_b) = active_stock(fresh_sim, "F1", 2)
    null_a = adjustment(1, "F1", loc_a, item_a, adjustment_qty=1)
    null_b = adjustment(2, "F1", loc_b, item_b, adjustment_qty=1)
    null_a["adj_id"] = null_b["adj_id"] = None
    missing = adjustment(3, "F1", loc_b, item_b, adjustment_qty=2)
    del missing["adj_id"]
    lines = _adjustments([null_a, null_b, missing])
    config = target_config(fresh_sim, tmp_path)

    run = run_target(tmp_path, config, lines)
    again = run_target(tmp_path, config, lines)

    for each in (run, again):
        assert each.returncode != 0
        assert "0 applied, 0 already applied (skipped), 3 rejected" in each.stderr
        assert len(each.rejects) == 3
        assert all("key property" in r["reasons"]["adj_id"] for r in each.rejects)
    assert qty(fresh_sim, "F1", loc_a, item_a) == qty_a
    assert qty(fresh_sim, "F1", loc_b, item_b) == qty_b


def test_a_different_record_under_an_applied_key_is_a_named_reject(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (loc, item, before), (loc2, item2, before2) = active_stock(fresh_sim, "F1", 2)
    config = target_config(fresh_sim, tmp_path)
    first = run_target(
        tmp_path, config, _adjustments([adjustment(5000, "F1", loc, item, adjustment_qty=2)])
    )
    changed = adjustment(5000, "F1", loc, item, adjustment_qty=7)
    same = adjustment(5000, "F1", loc, item, adjustment_qty=2)
    # a sibling: two different records under one new key in one input
    once = adjustment(5001, "F1", loc2, item2, adjustment_qty=3)
    twice = adjustment(5001, "F1", loc2, item2, adjustment_qty=9)

    second = run_target(tmp_path, config, _adjustments([changed, same, once, twice]))

    assert first.returncode == 0, first.stderr[-3000:]
    assert second.returncode != 0
    assert "1 applied, 1 already applied (skipped), 2 rejected" in second.stderr
    rejected = [(r["record"]["adj_id"], r["record"]["adjustment_qty"]) for r in second.rejects]
    assert sorted(rejected) == [(5000, 7), (5001, 9)]
    assert all("different values" in r["reasons"]["_ledger"] for r in second.rejects)
    assert qty(fresh_sim, "F1", loc, item) == before + 2
    assert qty(fresh_sim, "F1", loc2, item2) == before2 + 3


def test_a_ledger_without_content_hashes_keeps_working(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Rows of an old ledger are "applied, content unknown": their identities stay applied."""
    ((loc, item, before),) = active_stock(fresh_sim, "F1", 1)
    ledger = tmp_path / "ledger.sqlite"
    with sqlite3.connect(ledger) as old:
        old.execute(
            "CREATE TABLE applied (stream TEXT NOT NULL, identity TEXT NOT NULL, applied_at REAL"
            " NOT NULL, result TEXT, PRIMARY KEY (stream, identity))"
        )
        old.execute("INSERT INTO applied VALUES (?, '[7000]', 0, 'null')", (STREAM,))
    old.close()
    records = [
        adjustment(7000, "F1", loc, item, adjustment_qty=6),
        adjustment(7001, "F1", loc, item, adjustment_qty=1),
    ]

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), _adjustments(records))

    assert run.returncode == 0, run.stderr[-3000:]
    assert "1 applied, 1 already applied (skipped), 0 rejected" in run.stderr
    assert qty(fresh_sim, "F1", loc, item) == before + 1
    with sqlite3.connect(ledger) as migrated:
        rows = dict(migrated.execute("SELECT identity, content FROM applied").fetchall())
    migrated.close()
    assert rows["[7000]"] is None
    assert rows["[7001]"]


# 3. Half-written documents -----------------------------------------------------------------


def test_a_count_sheet_going_below_zero_is_not_sent_at_all(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (loc_a, item_a, qty_a), (loc_b, item_b, qty_b), (loc_c, item_c, qty_c) = active_stock(
        fresh_sim, "F1", 3
    )
    records = [
        adjustment(1, "F1", loc_a, item_a, adjustment_qty=3, transaction_ref_nbr="SHEET-2"),
        adjustment(
            2, "F1", loc_b, item_b, adjustment_qty=-float(qty_b + 1), transaction_ref_nbr="SHEET-2"
        ),
        # a sibling: an absolute count, then a delta below it, on one row of one sheet
        adjustment(3, "F1", loc_c, item_c, actual_qty=1, transaction_ref_nbr="SHEET-3"),
        adjustment(4, "F1", loc_c, item_c, adjustment_qty=-2, transaction_ref_nbr="SHEET-3"),
    ]

    dry = run_target(
        tmp_path, target_config(fresh_sim, tmp_path, dry_run=True), _adjustments(records)
    )
    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), _adjustments(records))

    assert set(_reasons(dry)) == {1, 2, 3, 4}, "a dry run plans what a run would send"
    assert "planned (dry run)" not in dry.stderr  # nothing of the sheets is planned
    assert run.returncode != 0
    reasons = _reasons(run)
    assert set(reasons) == {1, 2, 3, 4}
    assert "below zero" in reasons[2]["adjustment_qty"]
    assert "below zero" in reasons[4]["adjustment_qty"]
    assert "_document" in reasons[1] and "_document" in reasons[3]
    assert qty(fresh_sim, "F1", loc_a, item_a) == qty_a
    assert qty(fresh_sim, "F1", loc_b, item_b) == qty_b
    assert qty(fresh_sim, "F1", loc_c, item_c) == qty_c
    assert fresh_sim.history_with_ref("SHEET-") == []


LINE_SCHEMA = {
    "type": "object",
    "properties": {
        "facility_code": {"type": "string"},
        "order_nbr": {"type": "string"},
        "seq_nbr": {"type": "integer"},
        "ord_qty": {"type": "number"},
        "cust_field_1": {"type": "string"},
    },
}
LINE_KEY = ["facility_code", "order_nbr", "seq_nbr"]


def _lines(sim: Simulator, order_nbr: str) -> dict[int, dict[str, Any]]:
    (order,) = all_records(sim, "order_hdr", facility_id__code="F1", order_nbr=order_nbr)
    return {r["seq_nbr"]: r for r in all_records(sim, "order_dtl", order_id=order["id"])}


def test_an_order_with_a_negative_line_quantity_is_not_changed(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    order_nbr, seqs = fresh_sim.order_with_lines("F1", status="open")
    before = _lines(fresh_sim, order_nbr)
    records = [
        {"facility_code": "F1", "order_nbr": order_nbr, "seq_nbr": seqs[0], "ord_qty": 9},
        {"facility_code": "F1", "order_nbr": order_nbr, "seq_nbr": seqs[-1], "ord_qty": -5},
    ]
    config = target_config(fresh_sim, tmp_path, undocumented_patch_fields=True)

    run = run_target(tmp_path, config, messages("order_dtl", LINE_SCHEMA, LINE_KEY, records))

    assert run.returncode != 0
    reasons = {r["record"]["seq_nbr"]: r["reasons"] for r in run.rejects}
    assert "negative" in reasons[seqs[-1]]["ord_qty"]
    assert "_document" in reasons[seqs[0]]
    assert _lines(fresh_sim, order_nbr) == before


def test_a_document_the_wms_refuses_in_part_is_reported_by_record(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    order_nbr, seqs = fresh_sim.order_with_lines("F1", status="open")
    before = _lines(fresh_sim, order_nbr)
    refused_id = before[seqs[-1]]["id"]
    fresh_sim.add_fault("409", rate=1.0, path_contains=f"order_dtl/{refused_id}/")
    records = [
        {"facility_code": "F1", "order_nbr": order_nbr, "seq_nbr": seqs[0], "cust_field_1": "x1"},
        {"facility_code": "F1", "order_nbr": order_nbr, "seq_nbr": seqs[-1], "cust_field_1": "x2"},
    ]
    config = target_config(fresh_sim, tmp_path, max_retries=1, max_parallel_writes=1)

    run = run_target(tmp_path, config, messages("order_dtl", LINE_SCHEMA, LINE_KEY, records))

    assert run.returncode != 0
    (reject,) = run.rejects
    assert reject["record"]["seq_nbr"] == seqs[-1]
    written = reject["reasons"]["_document"]
    assert f'applied ["F1", "{order_nbr}", {seqs[0]}]' in written
    assert f'not applied ["F1", "{order_nbr}", {seqs[-1]}]' in written
    assert "written in part" in run.stderr
    after = _lines(fresh_sim, order_nbr)
    assert after[seqs[0]]["cust_field_1"] == "x1"
    assert after[seqs[-1]]["cust_field_1"] == before[seqs[-1]]["cust_field_1"]


# 4. Validated first, truly -----------------------------------------------------------------


def test_a_record_failing_its_schema_is_one_reject(fresh_sim: Simulator, tmp_path: Path) -> None:
    (loc, item, before), (loc2, item2, before2) = active_stock(fresh_sim, "F1", 2)
    bad = adjustment(1, "F1", loc, item, adjustment_qty="abc")
    bad_reason = adjustment(2, "F1", loc, item, adjustment_qty=1, reason_code=5)  # a sibling
    good = adjustment(3, "F1", loc2, item2, adjustment_qty=2)
    lines = _adjustments([bad, bad_reason, good])

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path, allow_failures=True), lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    reasons = _reasons(run)
    assert set(reasons) == {1, 2}
    assert "SCHEMA" in reasons[1]["adjustment_qty"]
    assert "SCHEMA" in reasons[2]["reason_code"]
    assert qty(fresh_sim, "F1", loc, item) == before
    assert qty(fresh_sim, "F1", loc2, item2) == before2 + 2


def test_unknown_fields_are_a_reject_naming_them(fresh_sim: Simulator, tmp_path: Path) -> None:
    ((loc, item, before),) = active_stock(fresh_sim, "F1", 1)
    schema = {
        "type": "object",
        "properties": {
            **cast(dict[str, Any], ADJUSTMENT_SCHEMA["properties"]),
            "batch_number": {"type": "string"},
            "reason_kode": {"type": "string"},
        },
    }
    records = [
        adjustment(1, "F1", loc, item, adjustment_qty=1, batch_number="B1"),
        adjustment(2, "F1", loc, item, adjustment_qty=1, reason_kode="CC"),
    ]

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), _adjustments(records, schema))

    assert run.returncode != 0
    reasons = _reasons(run)
    assert "unknown field" in reasons[1]["batch_number"]
    assert "unknown field" in reasons[2]["reason_kode"]
    assert qty(fresh_sim, "F1", loc, item) == before


def test_quantities_out_of_bounds_are_rejected(fresh_sim: Simulator, tmp_path: Path) -> None:
    ((loc, item, before),) = active_stock(fresh_sim, "F1", 1)
    records = [
        adjustment(1, "F1", loc, item, adjustment_qty=1e30),
        adjustment(2, "F1", loc, item, adjustment_qty=10**25),
        adjustment(3, "F1", loc, item, actual_qty=10**12),  # a sibling: 13 digits
        adjustment(4, "F1", loc, item, adjustment_qty=Decimal("0.000001")),  # 6 decimals
    ]
    lines = _adjustments(records)
    lines[-2]["record"]["adjustment_qty"] = 0.000001  # JSON number, not text

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)

    assert run.returncode != 0
    reasons = _reasons(run)
    assert set(reasons) == {1, 2, 3, 4}
    assert "12 digits" in reasons[1]["adjustment_qty"]
    assert "12 digits" in reasons[2]["adjustment_qty"]
    assert "12 digits" in reasons[3]["actual_qty"]
    assert "decimal places" in reasons[4]["adjustment_qty"]
    assert qty(fresh_sim, "F1", loc, item) == before


def test_impossible_dates_are_rejected(fresh_sim: Simulator, tmp_path: Path) -> None:
    open_order, _ = fresh_sim.order_with_lines("F1", status="open")
    (before,) = all_records(fresh_sim, "order_hdr", facility_id__code="F1", order_nbr=open_order)
    plain = {
        "type": "object",
        "properties": {
            "facility_code": {"type": "string"},
            "order_nbr": {"type": "string"},
            "req_ship_date": {"type": "string"},
        },
    }
    formatted = {
        "type": "object",
        "properties": {
            **cast(dict[str, Any], plain["properties"]),
            "req_ship_date": {"type": "string", "format": "date"},
        },
    }
    key = ["facility_code", "order_nbr"]
    config = target_config(fresh_sim, tmp_path)

    for schema, value in (
        (plain, "2026-02-30"),
        (plain, "2026-03-01T10:00:00"),  # a sibling: a date-time in a date field
        (formatted, "2026-02-30"),
    ):
        record = {"facility_code": "F1", "order_nbr": open_order, "req_ship_date": value}
        run = run_target(tmp_path, config, messages("order_hdr", schema, key, [record]))
        assert run.returncode != 0, value
        (reject,) = run.rejects
        assert "req_ship_date" in reject["reasons"], reject
        assert "Traceback" not in run.stderr
    (after,) = all_records(fresh_sim, "order_hdr", facility_id__code="F1", order_nbr=open_order)
    assert after["req_ship_date"] == before["req_ship_date"]


def test_a_key_with_a_comma_matches_no_other_row(fresh_sim: Simulator, tmp_path: Path) -> None:
    """A sibling of the ref case: a location barcode made of two real ones joined by a comma
    must not find either (an `__in` list would split it)."""
    (loc_a, item_a, qty_a), (loc_b, _, _) = active_stock(fresh_sim, "F1", 2)
    records = [adjustment(1, "F1", f"{loc_a},{loc_b}", item_a, adjustment_qty=1)]

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), _adjustments(records))

    assert run.returncode != 0
    assert "no location" in _reasons(run)[1]["location_barcode"]
    assert qty(fresh_sim, "F1", loc_a, item_a) == qty_a


def test_an_unknown_field_of_an_lpn_to_ship_is_a_reject(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """A sibling of unknown adjustment fields, for Ship OBLPN (`locn_barcod` for `locn_barcode`)."""
    schema = {
        "type": "object",
        "properties": {
            "facility_code": {"type": "string"},
            "container_nbr": {"type": "string"},
            "locn_barcod": {"type": "string"},
        },
    }
    record = {"facility_code": "F1", "container_nbr": "NO-SUCH-LPN", "locn_barcod": "SHIP-1"}
    lines = messages("oblpn_shipment", schema, ["facility_code", "container_nbr"], [record])
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)

    assert run.returncode != 0
    (reject,) = run.rejects
    assert "unknown field" in reject["reasons"]["locn_barcod"]
    assert [r for r in fresh_sim.request_log() if r.get("method") != "GET"] == []
