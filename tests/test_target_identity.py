"""Where a record's identity comes from (issue 22, item 7): in a stream without key properties,
two identical one-unit presses of a pick log are two picks, not a redelivery. A record whose
write adds (a Pick or Short, a wave run, an adjustment's delta, an inventory create) takes its
identity from its log (`log_id`, `log_ts`), never from its content; without either it is a
reject naming `key_properties`. Counted in the WMS (units packed, on-hand quantity).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from oracle_wms_sim import Simulator
from tests.test_target import (
    ADJUSTMENT_SCHEMA,
    active_stock,
    adjustment,
    messages,
    qty,
    run_target,
    target_config,
)
from tests.test_target_fulfilment import (
    PICK_SCHEMA,
    TEMPLATE_WAVE_SCHEMA,
    allocations,
    picked_order,
    posts,
    waves,
)

LOG_SCHEMA = {
    "type": "object",
    "properties": {**PICK_SCHEMA["properties"], "log_ts": {"type": ["string", "null"]}},
}


def press(sim: Simulator, order_nbr: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(an allocation of at least 3 units, a one-unit Pick of it without any log identity)."""
    allocation = next(
        a for a in picked_order(sim, order_nbr, 3) if Decimal(str(a["alloc_qty"])) >= 3
    )
    line = {
        "facility_code": "F1",
        "action_code": "Pick",
        "order_nbr": order_nbr,
        "item_code": allocation["item_id"]["key"],
        "qty": 1,
        "pick_location": allocation["from_location_id"]["key"],
        "to_container_nbr": f"OB-{order_nbr}",
    }
    return allocation, line


def packed(sim: Simulator, order_nbr: str, allocation_id: int) -> Decimal:
    (row,) = [a for a in allocations(sim, order_nbr) if a["id"] == allocation_id]
    return Decimal(str(row["packed_qty"]))


def test_two_identical_presses_with_their_own_log_ids_are_two_picks(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    allocation, line = press(fresh_sim, "ID-T-1")
    records = [{"log_id": 1, **line}, {"log_id": 2, **line}, {"log_id": 2, **line}]
    lines = messages("pick_confirm", LOG_SCHEMA, [], records)  # log 2 redelivered
    config = target_config(fresh_sim, tmp_path)

    run = run_target(tmp_path, config, lines)
    fresh_sim.clear_request_log()
    rerun = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert packed(fresh_sim, "ID-T-1", allocation["id"]) == 2, "two presses, one redelivery"
    assert "2 applied, 1 already applied" in run.stderr
    assert rerun.returncode == 0 and posts(fresh_sim, "pick_confirm") == []
    assert packed(fresh_sim, "ID-T-1", allocation["id"]) == 2


def test_two_identical_presses_told_apart_by_their_log_time_are_two_picks(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    allocation, line = press(fresh_sim, "ID-T-2")
    records = [
        {"log_ts": "2026-12-06T08:00:01Z", **line},
        {"log_ts": "2026-12-06T08:00:02Z", **line},
    ]

    run = run_target(
        tmp_path,
        target_config(fresh_sim, tmp_path),
        messages("pick_confirm", LOG_SCHEMA, [], records),
    )

    assert run.returncode == 0, run.stderr[-3000:]
    assert packed(fresh_sim, "ID-T-2", allocation["id"]) == 2


def test_presses_without_any_identity_are_rejects_not_guesses(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    allocation, line = press(fresh_sim, "ID-T-3")
    close = {"facility_code": "F1", "action_code": "Close", "to_container_nbr": "OB-ID-T-3"}
    fresh_sim.clear_request_log()

    run = run_target(
        tmp_path,
        target_config(fresh_sim, tmp_path),
        messages("pick_confirm", LOG_SCHEMA, [], [line, line, close]),
    )

    assert run.returncode != 0
    assert len(run.rejects) == 3, "both presses, and the Close the WMS refuses (no LPN picked)"
    presses = [r for r in run.rejects if r["record"]["action_code"] == "Pick"]
    assert len(presses) == 2
    assert all("log_id or log_ts" in r["reasons"]["key_properties"] for r in presses)
    assert packed(fresh_sim, "ID-T-3", allocation["id"]) == 0
    assert posts(fresh_sim, "pick_confirm") == [], "no press is sent"
    assert [r["status"] for r in posts(fresh_sim, "close_lpn")] == [400], "only the Close"


def test_a_keyless_wave_run_needs_its_own_identity(fresh_sim: Simulator, tmp_path: Path) -> None:
    before = {w["id"] for w in waves(fresh_sim)}
    record = {"facility_code": "F1", "template_name": "TPL-F1-ALL"}

    run = run_target(
        tmp_path,
        target_config(fresh_sim, tmp_path),
        messages("wave_run", TEMPLATE_WAVE_SCHEMA, [], [record]),
    )

    assert run.returncode != 0
    (reject,) = run.rejects
    assert "log_id or log_ts" in reject["reasons"]["key_properties"]
    assert [w for w in waves(fresh_sim) if w["id"] not in before] == []


def test_keyless_adjustments_add_once_per_log_line_and_counts_need_no_identity(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (barcode, item, _), (other_barcode, other_item, _) = active_stock(fresh_sim, "F1", 2)
    start = qty(fresh_sim, "F1", barcode, item)
    schema = {
        "type": "object",
        "properties": {**ADJUSTMENT_SCHEMA["properties"], "log_id": {"type": "integer"}},
    }
    delta = adjustment(0, "F1", barcode, item, adjustment_qty=1)
    del delta["adj_id"]
    count = adjustment(0, "F1", other_barcode, other_item, actual_qty=7)
    del count["adj_id"]
    records = [
        {"log_id": 1, **delta},
        {"log_id": 2, **delta},
        {"log_id": 2, **delta},  # redelivered
        delta,  # no identity: a reject
        count,
        count,  # an absolute count: its content is its identity
    ]

    run = run_target(
        tmp_path,
        target_config(fresh_sim, tmp_path),
        messages("inventory_adjustment", schema, [], records),
    )

    assert run.returncode != 0
    (reject,) = run.rejects
    assert "log_id" not in reject["record"]
    assert "log_id or log_ts" in reject["reasons"]["key_properties"]
    assert qty(fresh_sim, "F1", barcode, item) == start + 2
    assert qty(fresh_sim, "F1", other_barcode, other_item) == 7
