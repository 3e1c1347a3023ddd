"""target-oracle-wms stage sink: orders and ASNs as stage documents, validated first, their
outcome read from the entity module (Oracle documents no read-back of stage results), never
created twice. Expected rows come from the records sent and the simulator's own reads."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from oracle_wms_sim import Simulator
from tests.conftest import all_records
from tests.test_target import messages, run_target, target_config

ORDER_DOC_SCHEMA = {
    "type": "object",
    "properties": {
        "facility_code": {"type": "string"},
        "order_nbr": {"type": "string"},
        "action_code": {"type": ["string", "null"]},
        "order_type": {"type": ["string", "null"]},
        "priority": {"type": ["integer", "null"]},
        "req_ship_date": {"type": ["string", "null"], "format": "date"},
        "cust_name": {"type": ["string", "null"]},
        "lines": {"type": ["array", "null"], "items": {"type": "object"}},
    },
}
ASN_DOC_SCHEMA = {
    "type": "object",
    "properties": {
        "facility_code": {"type": "string"},
        "shipment_nbr": {"type": "string"},
        "vendor_code": {"type": ["string", "null"]},
        "ref_nbr": {"type": ["string", "null"]},
        "lines": {"type": ["string", "null"]},
    },
}
STAGE_ACTIONS = {
    "new_orders": {"entity": "order", "action": "stage"},
    "asns": {"entity": "ib_shipment", "action": "stage"},
}


def _items(sim: Simulator, company: str, count: int) -> list[str]:
    return [r["code"] for r in all_records(sim, "item", company_id__code=company)[:count]]


def _order_doc(order_nbr: str, lines: list[tuple[int, str, str]], **fields: Any) -> dict[str, Any]:
    return {
        "facility_code": "F1",
        "order_nbr": order_nbr,
        "order_type": "STD",
        "lines": [{"seq_nbr": s, "item_code": i, "ord_qty": q} for s, i, q in lines],
        **fields,
    }


def _orders(sim: Simulator, prefix: str) -> dict[str, dict[str, Any]]:
    rows = all_records(sim, "order_hdr", facility_id__code="F1", order_nbr__startswith=prefix)
    return {r["order_nbr"]: r for r in rows}


def _lines(sim: Simulator, order_id: int) -> dict[int, tuple[str, Decimal]]:
    rows = all_records(sim, "order_dtl", order_id=order_id)
    return {r["seq_nbr"]: (r["item_id"]["key"], Decimal(str(r["ord_qty"]))) for r in rows}


def _stage_posts(sim: Simulator, entity: str) -> int:
    return sum(
        1
        for r in sim.request_log()
        if r["method"] == "POST" and r["path"].rstrip("/").endswith(f"stage/{entity}")
    )


def test_orders_and_asns_are_created_in_batched_messages_and_replays_change_nothing(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    a, b, c = _items(fresh_sim, "C1", 3)
    vendor = all_records(fresh_sim, "vendor", company_id__code="C1")[0]["vendor_code"]
    orders = [
        _order_doc("WEB-1", [(1, a, "5"), (2, b, "2.5")], priority=7, cust_name="ACME"),
        _order_doc("WEB-2", [(1, c, "1")], req_ship_date="2026-12-01"),
        _order_doc("WEB-3", [(1, a, "3")]),
    ]
    asn_lines = [{"seq_nbr": 1, "item_code": b, "shipped_qty": 40}]
    asns = [  # lines as JSON text, as a tap reading a json column may send them
        {
            "facility_code": "F1",
            "shipment_nbr": "ASN-1",
            "vendor_code": vendor,
            "ref_nbr": "PO-77",
            "lines": json.dumps(asn_lines),
        }
    ]
    lines = messages("new_orders", ORDER_DOC_SCHEMA, ["facility_code", "order_nbr"], orders)
    lines += messages("asns", ASN_DOC_SCHEMA, ["facility_code", "shipment_nbr"], asns)
    config = target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS, stage_batch_size=2)
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert _stage_posts(fresh_sim, "order") == 2  # 3 documents, 2 per message
    assert _stage_posts(fresh_sim, "ib_shipment") == 1
    created = _orders(fresh_sim, "WEB-")
    assert sorted(created) == ["WEB-1", "WEB-2", "WEB-3"]
    assert created["WEB-1"]["priority"] == 7
    assert created["WEB-1"]["cust_name"] == "ACME"
    assert created["WEB-1"]["order_type_id"]["key"] == "STD"
    assert created["WEB-2"]["req_ship_date"] == "2026-12-01"
    assert _lines(fresh_sim, created["WEB-1"]["id"]) == {
        1: (a, Decimal(5)),
        2: (b, Decimal("2.5")),
    }
    (asn,) = all_records(fresh_sim, "ib_shipment", facility_id__code="F1", shipment_nbr="ASN-1")
    assert asn["vendor_id"]["key"] == vendor
    assert asn["ref_nbr"] == "PO-77"
    (asn_line,) = all_records(fresh_sim, "ib_shipment_dtl", shipment_id=asn["id"])
    assert asn_line["item_id"]["key"] == b
    assert Decimal(str(asn_line["shipped_qty"])) == 40
    assert "Stream 'new_orders': 3 applied" in run.stderr

    fresh_sim.clear_request_log()
    replay = run_target(tmp_path, config, lines)
    assert replay.returncode == 0, replay.stderr[-3000:]
    assert _stage_posts(fresh_sim, "order") == 0
    assert "Stream 'new_orders': 0 applied, 3 already applied" in replay.stderr
    assert sorted(_orders(fresh_sim, "WEB-")) == ["WEB-1", "WEB-2", "WEB-3"]

    # Without the ledger (another machine), the order numbers found in the WMS prove it.
    (tmp_path / "ledger.sqlite").unlink()
    lost_ledger = run_target(tmp_path, config, lines[:3] + lines[4:])  # without WEB-2
    assert lost_ledger.returncode == 0, lost_ledger.stderr[-3000:]
    assert "Stream 'new_orders': 0 applied, 2 already applied" in lost_ledger.stderr
    assert len(all_records(fresh_sim, "order_dtl", order_id=created["WEB-1"]["id"])) == 2


def test_bad_documents_are_rejected_before_anything_is_sent(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (a,) = _items(fresh_sim, "C1", 1)
    (other_company_item,) = _items(fresh_sim, "C2", 1)
    orders = [
        _order_doc("BAD-1", [(1, a, "1"), (2, "NO-SUCH-ITEM", "1")]),
        _order_doc("BAD-2", [(1, a, "-4")]),
        _order_doc("BAD-3", [(1, a, "1")], order_type="NOPE"),
        _order_doc("BAD-4", [(1, a, "1"), (1, a, "2")]),
        _order_doc("BAD-5", [(1, other_company_item, "1")]),
        _order_doc("BAD-6", [(1, a, "1")], cust_name="x" * 101),
        _order_doc("BAD-7", [(1, a, "1")], status_id=0),
        _order_doc("BAD-8", []),
        {**_order_doc("BAD-9", [(1, a, "1")]), "facility_code": "F9"},
        _order_doc("GOOD-1", [(1, a, "2")]),
    ]
    lines = messages("new_orders", ORDER_DOC_SCHEMA, ["facility_code", "order_nbr"], orders)
    fresh_sim.clear_request_log()

    run = run_target(
        tmp_path, target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS), lines
    )

    assert run.returncode != 0
    reasons = {r["record"]["order_nbr"]: r["reasons"] for r in run.rejects}
    assert set(reasons) == {f"BAD-{n}" for n in range(1, 10)}
    assert "NO-SUCH-ITEM" in reasons["BAD-1"]["lines[1].item_code"]
    assert "above zero" in reasons["BAD-2"]["lines[0].ord_qty"]
    assert "NOPE" in reasons["BAD-3"]["order_type"]
    assert "twice" in reasons["BAD-4"]["lines[1].seq_nbr"]
    assert other_company_item in reasons["BAD-5"]["lines[0].item_code"]
    assert "at most 100" in reasons["BAD-6"]["cust_name"]
    assert "status_id" in reasons["BAD-7"]
    assert "at least one line" in reasons["BAD-8"]["lines"]
    assert "F9" in reasons["BAD-9"]["facility_code"]
    assert _stage_posts(fresh_sim, "order") == 1  # the good document only
    assert sorted(_orders(fresh_sim, "BAD-") | _orders(fresh_sim, "GOOD-")) == ["GOOD-1"]


def test_documents_the_wms_refuses_are_rejected_with_its_reason(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    shipped, _ = fresh_sim.order_with_lines("F1", status="shipped")
    open_order, seqs = fresh_sim.order_with_lines("F1", status="open")
    (a,) = _items(fresh_sim, "C1", 1)
    before = _orders(fresh_sim, shipped)[shipped]
    orders = [
        {"facility_code": "F1", "order_nbr": shipped, "action_code": "UPDATE", "priority": 1},
        {
            "facility_code": "F1",
            "order_nbr": open_order,
            "action_code": "UPDATE",
            "priority": 2,
            "lines": [
                {"seq_nbr": seqs[0], "ord_qty": 9},
                {"seq_nbr": 999, "item_code": a, "ord_qty": 4},
            ],
        },
    ]
    lines = messages("new_orders", ORDER_DOC_SCHEMA, ["facility_code", "order_nbr"], orders)

    run = run_target(
        tmp_path, target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS), lines
    )

    assert run.returncode != 0
    (reject,) = run.rejects
    assert reject["record"]["order_nbr"] == shipped
    reason = reject["reasons"]["_wms"]
    assert f"Order {shipped} was not updated by the WMS" in reason
    assert re.search(r"file group singer-[0-9a-f]{40}YYYYMMDDHHMMSS \(the message id ", reason)
    after = _orders(fresh_sim, shipped)[shipped]
    assert after["priority"] == before["priority"]
    assert after["mod_ts"] == before["mod_ts"]
    updated = _orders(fresh_sim, open_order)[open_order]
    assert updated["priority"] == 2
    changed = _lines(fresh_sim, updated["id"])
    assert changed[seqs[0]][1] == 9
    assert changed[999] == (a, Decimal(4))
    assert "1 applied, 0 already applied (skipped), 1 rejected" in run.stderr


def test_a_lost_stage_answer_is_settled_from_the_documents_not_resent(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    a, b = _items(fresh_sim, "C1", 2)
    orders = [_order_doc("LOST-1", [(1, a, "1")]), _order_doc("LOST-2", [(1, b, "6")])]
    lines = messages("new_orders", ORDER_DOC_SCHEMA, ["facility_code", "order_nbr"], orders)
    fresh_sim.clear_request_log()
    fresh_sim.add_fault("lost_response", next=1, path_contains="stage/order")

    run = run_target(
        tmp_path, target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS), lines
    )

    assert run.returncode == 0, run.stderr[-3000:]
    assert any(r.get("fault") == "lost_response" for r in fresh_sim.request_log())
    created = _orders(fresh_sim, "LOST-")
    line_counts = [
        len(all_records(fresh_sim, "order_dtl", order_id=o["id"])) for o in created.values()
    ]
    assert sorted(created) == ["LOST-1", "LOST-2"]
    assert line_counts == [1, 1]
    assert _stage_posts(fresh_sim, "order") == 1  # the documents were there: nothing resent
    assert "Stream 'new_orders': 2 applied" in run.stderr


def test_a_lost_answer_for_a_document_the_wms_refused_is_a_named_reject(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    shipped, _ = fresh_sim.order_with_lines("F1", status="shipped")
    (a,) = _items(fresh_sim, "C1", 1)
    orders = [
        _order_doc("LOSTR-1", [(1, a, "1")]),
        {"facility_code": "F1", "order_nbr": shipped, "action_code": "DELETE"},
    ]
    lines = messages("new_orders", ORDER_DOC_SCHEMA, ["facility_code", "order_nbr"], orders)
    fresh_sim.clear_request_log()
    fresh_sim.add_fault("lost_response", next=1, path_contains="stage/order")
    config = target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS, stage_timeout=1)

    run = run_target(tmp_path, config, lines)

    assert run.returncode != 0
    (reject,) = run.rejects
    assert reject["record"]["order_nbr"] == shipped
    assert f"Order {shipped} was not deleted by the WMS within 1 s" in reject["reasons"]["_wms"]
    assert "see the WMS input interface errors for file group singer-" in reject["reasons"]["_wms"]
    assert sorted(_orders(fresh_sim, "LOSTR-")) == ["LOSTR-1"]
    assert len(_orders(fresh_sim, shipped)) == 1
    assert _stage_posts(fresh_sim, "order") == 1  # never resent while it may be on its way
    assert "Stream 'new_orders': 1 applied, 0 already applied (skipped), 1 rejected" in run.stderr


def test_a_rerun_without_the_ledger_after_a_lost_answer_creates_nothing_twice(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    a, b, c = _items(fresh_sim, "C1", 3)
    first = [_order_doc("ONCE-1", [(1, a, "1")]), _order_doc("ONCE-2", [(1, b, "2")])]
    more = [_order_doc("ONCE-3", [(1, c, "3"), (2, a, "1")])]
    keys = ["facility_code", "order_nbr"]
    config = target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS)
    fresh_sim.add_fault("lost_response", next=1, path_contains="stage/order")
    lost = run_target(tmp_path, config, messages("new_orders", ORDER_DOC_SCHEMA, keys, first))
    assert lost.returncode == 0, lost.stderr[-3000:]

    (tmp_path / "ledger.sqlite").unlink()  # another machine, or the ledger lost
    fresh_sim.clear_request_log()
    rerun = run_target(
        tmp_path, config, messages("new_orders", ORDER_DOC_SCHEMA, keys, first + more)
    )

    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "Stream 'new_orders': 1 applied, 2 already applied" in rerun.stderr
    rows = all_records(
        fresh_sim, "order_hdr", facility_id__code="F1", order_nbr__startswith="ONCE-"
    )
    assert sorted(r["order_nbr"] for r in rows) == ["ONCE-1", "ONCE-2", "ONCE-3"]  # once each
    line_counts = {
        r["order_nbr"]: len(all_records(fresh_sim, "order_dtl", order_id=r["id"])) for r in rows
    }
    assert line_counts == {"ONCE-1": 1, "ONCE-2": 1, "ONCE-3": 2}
    posts = [
        r for r in fresh_sim.request_log() if r["method"] == "POST" and "stage/order" in r["path"]
    ]
    assert len(posts) == 1  # ONCE-3 alone was sent


def test_an_asn_stage_run_warns_that_the_interface_is_an_assumption(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (a,) = _items(fresh_sim, "C1", 1)
    asns = [
        {
            "facility_code": "F1",
            "shipment_nbr": "ASN-W1",
            "lines": json.dumps([{"seq_nbr": 1, "item_code": a, "shipped_qty": 1}]),
        }
    ]
    lines = messages("asns", ASN_DOC_SCHEMA, ["facility_code", "shipment_nbr"], asns)

    run = run_target(
        tmp_path, target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS), lines
    )

    assert run.returncode == 0, run.stderr[-3000:]
    assert "Oracle documents no JSON stage interface for 'ib_shipment'" in run.stderr
    assert "docs/api-behaviour.md" in run.stderr


def test_an_error_answer_resends_only_the_documents_not_yet_in_the_wms(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    a, b = _items(fresh_sim, "C1", 2)
    orders = [_order_doc("RETRY-1", [(1, a, "1")]), _order_doc("RETRY-2", [(1, b, "2")])]
    lines = messages("new_orders", ORDER_DOC_SCHEMA, ["facility_code", "order_nbr"], orders)
    fresh_sim.clear_request_log()
    fresh_sim.add_fault("503", next=1, path_contains="stage/order")

    run = run_target(
        tmp_path, target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS), lines
    )

    assert run.returncode == 0, run.stderr[-3000:]
    posts = [
        r for r in fresh_sim.request_log() if r["method"] == "POST" and "stage/order" in r["path"]
    ]
    assert [r["status"] for r in posts] == [503, 200]
    created = _orders(fresh_sim, "RETRY-")
    assert sorted(created) == ["RETRY-1", "RETRY-2"]
    assert [len(_lines(fresh_sim, o["id"])) for o in created.values()] == [1, 1]
    assert "Stream 'new_orders': 2 applied" in run.stderr


def test_asns_are_rejected_naming_the_assumption_when_the_wms_has_no_asn_interface(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (a,) = _items(fresh_sim, "C1", 1)
    fresh_sim.stage.entities = frozenset({"order"})  # a WMS with only the documented interface
    asns = [
        {
            "facility_code": "F1",
            "shipment_nbr": "ASN-NONE-1",
            "lines": json.dumps([{"seq_nbr": 1, "item_code": a, "shipped_qty": 1}]),
        }
    ]
    lines = messages("asns", ASN_DOC_SCHEMA, ["facility_code", "shipment_nbr"], asns)

    run = run_target(
        tmp_path, target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS), lines
    )

    assert run.returncode != 0
    (reject,) = run.rejects
    reason = reject["reasons"]["_wms"]
    assert "the WMS has no stage interface stage/ib_shipment/" in reason
    assert "Oracle documents no JSON stage interface for 'ib_shipment'" in reason
    assert all_records(fresh_sim, "ib_shipment", shipment_nbr="ASN-NONE-1") == []


def test_a_message_the_wms_refuses_whole_is_sent_again_one_document_per_message(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """A 400 for the whole message (here a WMS with a lower cap than the target's batch) may be
    one document's: the documents go again one per message, and only a refused one is rejected
    (issue 22, item 3)."""
    (a,) = _items(fresh_sim, "C1", 1)
    fresh_sim.stage.max_records = 1  # a WMS with a lower cap than the target's batch
    orders = [_order_doc("CAP-1", [(1, a, "1")]), _order_doc("CAP-2", [(1, a, "2")])]
    lines = messages("new_orders", ORDER_DOC_SCHEMA, ["facility_code", "order_nbr"], orders)
    config = target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS)
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "at most 1 records (got 2)" in run.stderr
    assert _stage_posts(fresh_sim, "order") == 3, "the message, then each document alone"
    assert sorted(_orders(fresh_sim, "CAP-")) == ["CAP-1", "CAP-2"]


def test_dry_run_plans_stage_documents_without_sending(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    (a,) = _items(fresh_sim, "C1", 1)
    lines = messages(
        "new_orders",
        ORDER_DOC_SCHEMA,
        ["facility_code", "order_nbr"],
        [_order_doc("DRY-1", [(1, a, "2")])],
    )
    fresh_sim.clear_request_log()
    config = target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS, dry_run=True)

    run = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "DRY RUN POST stage/order/" in run.stderr
    assert _stage_posts(fresh_sim, "order") == 0
    assert _orders(fresh_sim, "DRY-") == {}


def test_a_bad_stage_batch_size_is_a_config_error(fresh_sim: Simulator, tmp_path: Path) -> None:
    (a,) = _items(fresh_sim, "C1", 1)
    lines = messages(
        "new_orders",
        ORDER_DOC_SCHEMA,
        ["facility_code", "order_nbr"],
        [_order_doc("CFG-1", [(1, a, "2")])],
    )
    config = target_config(fresh_sim, tmp_path, stream_actions=STAGE_ACTIONS, stage_batch_size=5000)

    run = run_target(tmp_path, config, lines)

    assert run.returncode != 0
    assert "stage_batch_size" in run.stderr
    assert _orders(fresh_sim, "CFG-") == {}
