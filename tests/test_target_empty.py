"""Empty means nothing (issue 22, item 4): an empty or absent list, filter or key never widens a
write (a manual wave with `"orders": []` once ran the whole template: every open order of the
facility) nor a read; it is a reject naming the field, and nothing is sent for it. Checked in
the simulator: no new wave, no write request, no read with an empty filter value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from oracle_wms_sim import Simulator
from tests.test_target import (
    ADJUSTMENT_SCHEMA,
    ORDER_SCHEMA,
    SHIP_SCHEMA,
    active_stock,
    adjustment,
    messages,
    run_target,
    target_config,
)
from tests.test_target_fulfilment import (
    PICK_SCHEMA,
    RECEIPT_SCHEMA,
    WAVE_SCHEMA,
    open_asn,
    waves,
)

WAVE = {"request_id": "w", "facility_code": "F1", "template_name": "TPL-F1-ALL"}


@pytest.mark.parametrize(
    "orders",
    [[], "[]", None, "absent"],
    ids=["empty list", "empty JSON text", "null", "absent from a stream that declares it"],
)
def test_a_manual_wave_without_orders_is_a_reject_never_a_whole_template_run(
    orders: Any, fresh_sim: Simulator, tmp_path: Path
) -> None:
    record = dict(WAVE) if orders == "absent" else {**WAVE, "orders": orders}
    schema = {"type": "object", "properties": dict(WAVE_SCHEMA["properties"])}
    schema["properties"]["orders"] = {"type": ["array", "string", "null"]}  # JSON text too
    before = {w["id"] for w in waves(fresh_sim)}
    fresh_sim.clear_request_log()

    run = run_target(
        tmp_path,
        target_config(fresh_sim, tmp_path),
        messages("wave_run", schema, ["request_id"], [record]),
    )

    assert "Traceback" not in run.stderr
    assert run.returncode != 0
    (reject,) = run.rejects
    assert "empty" in reject["reasons"]["orders"], reject
    assert [w for w in waves(fresh_sim) if w["id"] not in before] == [], "nothing waved"
    assert not [r for r in fresh_sim.request_log() if r["method"] == "POST"]


def _cases(sim: Simulator) -> dict[str, tuple[list[dict[str, Any]], dict[str, Any], str]]:
    """sink -> (messages of one record with an empty list or key, extra config, field)."""
    ((barcode, item, _),) = active_stock(sim, "F1", 1)
    asn, _ = open_asn(sim)
    receipt = {"facility_code": "F1", "shipment_nbr": asn, "container_nbr": "IB-EMPTY-1"}
    stage_schema = {
        "type": "object",
        "properties": {
            "facility_code": {"type": "string"},
            "order_nbr": {"type": "string"},
            "order_type": {"type": "string"},
            "lines": {"type": ["array", "null"], "items": {"type": "object"}},
        },
    }
    pick = {"log_id": 1, "facility_code": "F1", "action_code": "Complete", "wave_nbr": ""}
    return {
        "receipt items []": (
            messages(
                "iblpn_receipt", RECEIPT_SCHEMA, ["container_nbr"], [{**receipt, "items": []}]
            ),
            {},
            "items",
        ),
        "receipt items absent": (
            messages("iblpn_receipt", RECEIPT_SCHEMA, ["container_nbr"], [receipt]),
            {},
            "items",
        ),
        "receipt item_code empty": (
            messages(
                "iblpn_receipt",
                RECEIPT_SCHEMA,
                ["container_nbr"],
                [{**receipt, "items": [{"item_code": "", "qty": 1}]}],
            ),
            {},
            "items[0].item_code",
        ),
        "stage lines []": (
            messages(
                "new_orders",
                stage_schema,
                ["order_nbr"],
                [{"facility_code": "F1", "order_nbr": "EMPTY-1", "order_type": "STD", "lines": []}],
            ),
            {"stream_actions": {"new_orders": {"entity": "order", "action": "stage"}}},
            "lines",
        ),
        "update key empty": (
            messages(
                "order_hdr",
                ORDER_SCHEMA,
                ["facility_code"],
                [{"facility_code": "F1", "order_nbr": "", "priority": 3}],
            ),
            {},
            "order_nbr",
        ),
        "update without fields": (
            messages(
                "order_hdr",
                ORDER_SCHEMA,
                ["facility_code", "order_nbr"],
                [{"facility_code": "F1", "order_nbr": "ANY"}],
            ),
            {},
            "_fields",
        ),
        "ship container empty": (
            messages(
                "oblpn_shipment",
                SHIP_SCHEMA,
                ["facility_code"],
                [{"facility_code": "F1", "container_nbr": ""}],
            ),
            {"ship_location_barcode": sim.reserve_location("F1")},
            "container_nbr",
        ),
        "adjustment location empty": (
            messages(
                "inventory_adjustment",
                ADJUSTMENT_SCHEMA,
                ["adj_id"],
                [adjustment(1, "F1", "", item, adjustment_qty=1)],
            ),
            {},
            "location_barcode",
        ),
        "adjustment item empty": (
            messages(
                "inventory_adjustment",
                ADJUSTMENT_SCHEMA,
                ["adj_id"],
                [adjustment(1, "F1", barcode, "", adjustment_qty=1)],
            ),
            {},
            "item_code",
        ),
        "pick Complete without wave": (
            messages("pick_confirm", PICK_SCHEMA, ["log_id"], [pick]),
            {},
            "wave_nbr",
        ),
        "manual wave line without seq_nbr": (
            messages(
                "wave_run",
                WAVE_SCHEMA,
                ["request_id"],
                [{**WAVE, "orders": [{"order_nbr": "ANY"}]}],
            ),
            {},
            "orders[0].seq_nbr",
        ),
    }


CASE_NAMES = [
    "receipt items []",
    "receipt items absent",
    "receipt item_code empty",
    "stage lines []",
    "update key empty",
    "update without fields",
    "ship container empty",
    "adjustment location empty",
    "adjustment item empty",
    "pick Complete without wave",
    "manual wave line without seq_nbr",
]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_an_empty_list_or_key_is_a_reject_naming_it_and_nothing_is_sent(
    case: str, fresh_sim: Simulator, tmp_path: Path
) -> None:
    lines, extra, field = _cases(fresh_sim)[case]
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path, **extra), lines)

    assert "Traceback" not in run.stderr
    assert run.returncode != 0
    (reject,) = run.rejects
    assert field in reject["reasons"], json.dumps(reject)
    log = fresh_sim.request_log()
    assert not [r for r in log if r["method"] in ("POST", "PATCH")], "nothing written"
    empty = [r for r in log if any(v == "" for v in (r["query"] or {}).values())]
    assert not empty, f"a read with an empty filter value: {empty}"
