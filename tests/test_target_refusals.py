"""One record's value never ends the run (issue 22, item 3): a value the WMS refuses (400) on a
read made from it, or on a write, is that record's named reject; the records beside it are
applied (checked in the WMS) and the rejects file is written.

The simulator refuses a run number that is not a number; for the other sinks a proxy on
127.0.0.1 answers 400 to any read whose query carries the value `POISON` (a WMS refusing a
value the simulator accepts: a length, a character set), so every read each sink builds from
record values is tried.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import all_records
from tests.hostile import Hostile, Reply, Seen, pass_through
from tests.test_target import (
    ADJUSTMENT_SCHEMA,
    ORDER_SCHEMA,
    SHIP_SCHEMA,
    active_stock,
    adjustment,
    messages,
    qty,
    run_target,
    target_config,
)
from tests.test_target_fulfilment import (
    PICK_SCHEMA,
    RECEIPT_SCHEMA,
    WAVE_SCHEMA,
    allocations,
    lpn_contents,
    open_asn,
    picked_order,
    stage_order,
    stock,
)

POISON = "POISON"


def test_a_pick_whose_wave_nbr_the_wms_refuses_is_its_reject_and_the_rest_goes_on(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    first, *_ = picked_order(fresh_sim, "REFUSE-T-1", 3)
    line = {
        "facility_code": "F1",
        "action_code": "Pick",
        "order_nbr": "REFUSE-T-1",
        "item_code": first["item_id"]["key"],
        "qty": 1,
        "pick_location": first["from_location_id"]["key"],
        "to_container_nbr": "OB-REFUSE-1",
    }
    records = [{"log_id": 1, **line, "wave_nbr": "W-5"}, {"log_id": 2, **line}]

    run = run_target(
        tmp_path,
        target_config(fresh_sim, tmp_path),
        messages("pick_confirm", PICK_SCHEMA, ["log_id"], records),
    )

    assert "Traceback" not in run.stderr
    assert run.returncode != 0
    (reject,) = run.rejects
    assert reject["record"]["log_id"] == 1
    assert "W-5" in reject["reasons"]["wave_nbr"] and "refused" in reject["reasons"]["wave_nbr"]
    (after,) = [a for a in allocations(fresh_sim, "REFUSE-T-1") if a["id"] == first["id"]]
    assert Decimal(str(after["packed_qty"])) == 1, "log 2 applied"


def poison_proxy(sim: Simulator) -> Hostile:
    """The simulator behind a proxy that answers 400 to a read carrying `POISON` anywhere in
    its query, naming the parameter, as the WMS does for a filter value it cannot take."""
    send = pass_through(sim.base_url, (sim.username, sim.password))

    def forward(seen: Seen) -> Reply:
        bad = [name for name, value in seen.query.items() if POISON in value]
        if seen.method == "GET" and bad:
            return Reply(400, {"message": "Invalid filter value.", "details": {bad[0]: "invalid"}})
        return send(seen)

    return Hostile(forward)


Case = tuple[list[dict[str, Any]], dict[str, Any], str, Callable[[], None]]
"""(Singer messages, extra config, the poisoned record's field, a check the other applied)."""


def adjustments_case(sim: Simulator) -> Case:
    ((barcode, item, _),) = active_stock(sim, "F1", 1)
    before = qty(sim, "F1", barcode, item)
    records = [
        adjustment(1, "F1", f"{POISON}-LOC", item, adjustment_qty=1),
        adjustment(2, "F1", barcode, item, adjustment_qty=1),
    ]

    def check() -> None:
        assert qty(sim, "F1", barcode, item) == before + 1

    lines = messages("inventory_adjustment", ADJUSTMENT_SCHEMA, ["adj_id"], records)
    return lines, {}, "location_barcode", check


def updates_case(sim: Simulator) -> Case:
    order_nbr, _ = sim.order_with_lines("F1", status="open")
    records = [
        {"facility_code": "F1", "order_nbr": f"{POISON}-SO", "priority": 7},
        {"facility_code": "F1", "order_nbr": order_nbr, "priority": 7},
    ]

    def check() -> None:
        (row,) = all_records(sim, "order_hdr", facility_id__code="F1", order_nbr=order_nbr)
        assert row["priority"] == 7

    lines = messages("order_hdr", ORDER_SCHEMA, ["facility_code", "order_nbr"], records)
    return lines, {}, "order_nbr", check


def shipping_case(sim: Simulator) -> Case:
    (lpn,) = sim.oblpn_numbers("F1", shipped=False, count=1)
    records = [
        {"facility_code": "F1", "container_nbr": f"{POISON}-LPN"},
        {"facility_code": "F1", "container_nbr": lpn},
    ]

    def check() -> None:
        (row,) = all_records(sim, "oblpn", facility_id__code="F1", container_nbr=lpn)
        assert row["status_id"] == 80

    key = ["facility_code", "container_nbr"]
    lines = messages("oblpn_shipment", SHIP_SCHEMA, key, records)
    return lines, {"ship_location_barcode": sim.reserve_location("F1")}, "container_nbr", check


def stage_case(sim: Simulator) -> Case:
    ((_, item, _),) = active_stock(sim, "F1", 1)
    schema = {
        "type": "object",
        "properties": {
            "facility_code": {"type": "string"},
            "order_nbr": {"type": "string"},
            "order_type": {"type": "string"},
            "lines": {"type": "array", "items": {"type": "object"}},
        },
    }
    lines_of = [{"seq_nbr": 1, "item_code": item, "ord_qty": 1}]
    records = [
        {"facility_code": "F1", "order_nbr": nbr, "order_type": "STD", "lines": lines_of}
        for nbr in (f"{POISON}-NEW", "REFUSE-NEW-1")
    ]

    def check() -> None:
        assert all_records(sim, "order_hdr", facility_id__code="F1", order_nbr="REFUSE-NEW-1")

    lines = messages("new_orders", schema, ["facility_code", "order_nbr"], records)
    actions = {"new_orders": {"entity": "order", "action": "stage"}}
    return lines, {"stream_actions": actions}, "order_nbr", check


def receipts_case(sim: Simulator) -> Case:
    asn, (item, *_) = open_asn(sim)
    records = [
        {
            "facility_code": "F1",
            "shipment_nbr": asn,
            "container_nbr": nbr,
            "items": [{"item_code": item, "qty": 2}],
        }
        for nbr in (f"{POISON}-IB", "IB-REFUSE-1")
    ]

    def check() -> None:
        assert lpn_contents(sim, "IB-REFUSE-1") == {item: Decimal(2)}

    key = ["facility_code", "container_nbr"]
    lines = messages("iblpn_receipt", RECEIPT_SCHEMA, key, records)
    return lines, {}, "container_nbr", check


def waves_case(sim: Simulator) -> Case:
    ((_, item, _),) = stock(sim, 1)
    stage_order(sim, "REFUSE-WAVE-1", [(item, 1)])
    records = [
        {
            "request_id": name,
            "facility_code": "F1",
            "template_name": "TPL-F1-ALL",
            "orders": [{"order_nbr": nbr, "seq_nbr": 1}],
        }
        for name, nbr in (("poisoned", f"{POISON}-SO"), ("fine", "REFUSE-WAVE-1"))
    ]

    def check() -> None:
        assert allocations(sim, "REFUSE-WAVE-1"), "the valid wave ran"

    lines = messages("wave_run", WAVE_SCHEMA, ["request_id"], records)
    return lines, {}, "orders[0].order_nbr", check


def picks_case(sim: Simulator) -> Case:
    first, *_ = picked_order(sim, "REFUSE-PICK-1", 3)
    line = {
        "facility_code": "F1",
        "action_code": "Pick",
        "order_nbr": "REFUSE-PICK-1",
        "item_code": first["item_id"]["key"],
        "qty": 1,
        "to_container_nbr": "OB-REFUSE-2",
    }
    records = [
        {"log_id": 1, **line, "pick_location": f"{POISON}-LOC"},
        {"log_id": 2, **line, "pick_location": first["from_location_id"]["key"]},
    ]

    def check() -> None:
        (after,) = [a for a in allocations(sim, "REFUSE-PICK-1") if a["id"] == first["id"]]
        assert Decimal(str(after["packed_qty"])) == 1

    lines = messages("pick_confirm", PICK_SCHEMA, ["log_id"], records)
    return lines, {}, "pick_location", check


def poisoned(
    case: Callable[[Simulator], Case], where: str, value: Any
) -> Callable[[Simulator], Case]:
    """`case` with its first record's `where` (a field, or `list.field` of its first entry)
    poisoned instead: another read built from record values."""

    def build(sim: Simulator) -> Case:
        lines, extra, _, check = case(sim)
        records = [m for m in lines if m["type"] == "RECORD"]
        first, second = records[0]["record"], records[1]["record"]
        own = {  # a document's own key (a receipt's LPN, a staged order's number)
            n: v.replace(POISON, "CLEAN")
            for n, v in first.items()
            if n in ("container_nbr", "order_nbr") and POISON in str(v)
        }
        first.clear()
        first.update(json.loads(json.dumps(second)))
        first.update((n, v) for n, v in own.items() if isinstance(v, str))  # its own key
        for name in ("adj_id", "log_id", "request_id"):
            if name in second:
                first[name] = f"{second[name]}-p" if isinstance(second[name], str) else -1
        name, _, inner = where.partition(".")
        if inner:
            first[name][0][inner] = value
        else:
            first[name] = value
        field = f"{name}[0].{inner}" if inner else name
        return lines, extra, field, check

    return build


CASES: dict[str, Callable[[Simulator], Case]] = {
    "adjustments": adjustments_case,
    "updates": updates_case,
    "shipping": shipping_case,
    "stage": stage_case,
    "receipts": receipts_case,
    "waves": waves_case,
    "picks": picks_case,
    "adjustments transaction_ref_nbr": poisoned(
        adjustments_case, "transaction_ref_nbr", f"{POISON}-REF"
    ),
    "adjustments item_code": poisoned(adjustments_case, "item_code", f"{POISON}-ITEM"),
    "receipts items item_code": poisoned(receipts_case, "items.item_code", f"{POISON}-ITEM"),
    "receipts shipment_nbr": poisoned(receipts_case, "shipment_nbr", f"{POISON}-ASN"),
    "stage lines item_code": poisoned(stage_case, "lines.item_code", f"{POISON}-ITEM"),
    "picks order_nbr": poisoned(picks_case, "order_nbr", f"{POISON}-SO"),
    "picks item_code": poisoned(picks_case, "item_code", f"{POISON}-ITEM"),
    "waves template_name": poisoned(waves_case, "template_name", f"{POISON}-TPL"),
}


@pytest.mark.parametrize("sink", sorted(CASES))
def test_a_value_the_wms_refuses_on_a_read_is_one_reject_in_every_sink(
    sink: str, fresh_sim: Simulator, tmp_path: Path
) -> None:
    lines, extra, field, check = CASES[sink](fresh_sim)
    with poison_proxy(fresh_sim) as proxy:
        config = {**target_config(fresh_sim, tmp_path, **extra), "base_url": proxy.base_url}
        run = run_target(tmp_path, config, lines)
        refused = [r for r in proxy.requests if any(POISON in v for v in r.query.values())]

    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert refused, "the poisoned value was read"
    assert run.returncode != 0
    (reject,) = run.rejects
    assert POISON in json.dumps(reject["record"])
    assert POISON in reject["reasons"].get(field, ""), reject["reasons"]
    check()


def write_refusing_proxy(sim: Simulator, refuse: Callable[[dict[str, Any]], bool]) -> Hostile:
    """The simulator behind a proxy that answers 400 to a POST whose JSON body `refuse` picks
    (a WMS refusing one record's value for the whole request), forwarding the rest."""
    send = pass_through(sim.base_url, (sim.username, sim.password))

    def forward(seen: Seen) -> Reply:
        if seen.method == "POST" and refuse(json.loads(seen.body)):
            return Reply(400, {"message": "Invalid value.", "details": {"value": POISON}})
        return send(seen)

    return Hostile(forward)


def test_a_stage_message_refused_for_one_document_applies_the_others(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    lines, extra, _, check = stage_case(fresh_sim)
    for message in lines:  # the poisoned document passes the target's checks: the WMS refuses
        if message["type"] == "RECORD" and POISON in message["record"]["order_nbr"]:
            message["record"]["order_nbr"] = "REFUSE-NEW-0"
            message["record"]["cust_name"] = POISON
        if message["type"] == "SCHEMA":
            message["schema"]["properties"]["cust_name"] = {"type": ["string", "null"]}
    with write_refusing_proxy(fresh_sim, lambda body: POISON in json.dumps(body)) as proxy:
        config = {**target_config(fresh_sim, tmp_path, **extra), "base_url": proxy.base_url}
        run = run_target(tmp_path, config, lines)
        stage_posts = [r for r in proxy.requests if r.method == "POST"]

    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode != 0
    (reject,) = run.rejects
    assert reject["record"]["order_nbr"] == "REFUSE-NEW-0", reject
    assert len(stage_posts) == 3, "the message, then each document alone"
    check()
    assert not all_records(fresh_sim, "order_hdr", facility_id__code="F1", order_nbr="REFUSE-NEW-0")


def test_a_bulk_ship_refused_for_one_lpn_ships_the_others(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    good, bad = fresh_sim.oblpn_numbers("F1", shipped=False, count=2)
    (bad_row,) = all_records(fresh_sim, "oblpn", facility_id__code="F1", container_nbr=bad)
    records = [{"facility_code": "F1", "container_nbr": n} for n in (bad, good)]
    lines = messages("oblpn_shipment", SHIP_SCHEMA, ["facility_code", "container_nbr"], records)

    def refuse(body: dict[str, Any]) -> bool:
        return bad_row["id"] in (body.get("parameters") or {}).get("id__in", [])

    with write_refusing_proxy(fresh_sim, refuse) as proxy:
        config = target_config(
            fresh_sim, tmp_path, ship_location_barcode=fresh_sim.reserve_location("F1")
        )
        run = run_target(tmp_path, {**config, "base_url": proxy.base_url}, lines)

    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode != 0
    (reject,) = run.rejects
    assert reject["record"]["container_nbr"] == bad
    status = {
        r["container_nbr"]: r["status_id"]
        for r in all_records(fresh_sim, "oblpn", facility_id__code="F1")
    }
    assert status[good] == 80, "the other LPN shipped"
    assert status[bad] == bad_row["status_id"]
