"""The simulator's write side over real HTTP (loopback), against docs/write-api.md."""

from __future__ import annotations

import base64
import json
import socket
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_simulator import assert_error

AUTH = ("demo", "demo")
TABLES = (
    "inventory",
    "inventory_history",
    "order_hdr",
    "order_dtl",
    "ib_shipment",
    "ib_shipment_dtl",
    "oblpn",
)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A simulator of its own per test: every test here changes the warehouse."""
    with Simulator(seed=23, scale=1) as running:
        yield running


def api(sim: Simulator, path: str) -> str:
    return f"{sim.api_url}{path}"


def fingerprint(sim: Simulator) -> dict[str, tuple[Any, ...]]:
    """Row count and newest stamp of every table a write may touch: equal before and after
    means nothing was written (any write adds a row or stamps a newer mod_ts/create_ts)."""
    conn = sqlite3.connect(sim.db_path)
    try:
        out = {}
        for table in TABLES:
            stamp = "create_ts" if table == "inventory_history" else "mod_ts"
            out[table] = conn.execute(f"SELECT count(*), max({stamp}) FROM {table}").fetchone()
        return out
    finally:
        conn.close()


def one(http: requests.Session, sim: Simulator, entity: str, **filters: Any) -> dict[str, Any]:
    response = http.get(api(sim, f"entity/{entity}/"), params=filters)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == 1, results
    return results[0]  # type: ignore[no-any-return]


def location_id(http: requests.Session, sim: Simulator, barcode: str, facility: str) -> int:
    return int(one(http, sim, "location", barcode=barcode, facility_id__code=facility)["id"])


def adjust(
    http: requests.Session, sim: Simulator, location: int, **options: Any
) -> requests.Response:
    return http.post(
        api(sim, f"entity/location/{location}/update_active_inventory/"),
        json={"options": options},
    )


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# ---- inventory adjustments -------------------------------------------------------------------
def test_delta_adjustment_changes_inventory_and_writes_history(
    sim: Simulator, http: requests.Session
) -> None:
    barcode, item, qty = sim.active_location_with_inventory("F1")
    loc = location_id(http, sim, barcode, "F1")
    inventory = one(http, sim, "inventory", location_id=loc, item_id__code=item)
    before = fingerprint(sim)

    response = adjust(
        http,
        sim,
        loc,
        item_code=item,
        adjustment_qty="5",
        reason_code="CC",
        transaction_ref_nbr="t1-plus",
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "location_id": loc,
        "item_code": item,
        "orig_qty": f"{qty:.3f}",
        "curr_qty": f"{qty + 5:.3f}",
        "inventory_id": inventory["id"],
        "inventory_history_id": body["inventory_history_id"],
    }
    assert sim.inventory_qty("F1", barcode, item) == qty + 5

    # the inventory record: new curr_qty, mod_ts newer than every earlier stamp, API user
    after = http.get(api(sim, f"entity/inventory/{inventory['id']}/")).json()
    assert after["curr_qty"] == f"{qty + 5:.3f}" and after["mod_user"] == "demo"
    newest_before = before["inventory"][1]
    assert sim.result_count("inventory", mod_ts__gt=newest_before + "+00:00") == 1

    (row,) = sim.history_with_ref("t1-plus")
    assert row["id"] == body["inventory_history_id"]
    assert row["history_activity"] == "ADJUST_PLUS" and row["status_id"] == 20
    assert (row["adj_qty"], row["orig_qty"]) == (Decimal(5), qty)
    assert (row["reason_code"], row["item_code"], row["facility_code"]) == ("CC", item, "F1")
    assert row["container_nbr"] is None and row["create_user"] == "demo"
    assert row["group_nbr"].startswith("W")
    assert row["create_ts"] > datetime.fromisoformat(before["inventory_history"][1] + "+00:00")

    # the history row in read shape, through the documented required filters
    listed = one(
        http,
        sim,
        "inventory_history",
        company_id__code="C1",
        facility_id__code="F1",
        group_nbr=row["group_nbr"],
    )
    assert listed["adj_qty"] == "5.000" and listed["transaction_ref_nbr"] == "t1-plus"
    assert listed["history_activity_id"]["key"] == "ADJUST_PLUS"
    assert listed["company_id"]["key"] == "C1" and listed["facility_id"]["key"] == "F1"

    minus = adjust(
        http,
        sim,
        loc,
        item_code=item,
        adjustment_qty=-3,
        reason_code="DMG",
        transaction_ref_nbr="t1-minus",
    )
    assert minus.json()["curr_qty"] == f"{qty + 2:.3f}"
    (row,) = sim.history_with_ref("t1-minus")
    assert row["history_activity"] == "ADJUST_MINUS" and row["adj_qty"] == Decimal(-3)
    assert row["orig_qty"] == qty + 5
    assert [r["transaction_ref_nbr"] for r in sim.history_with_ref("t1-")] == [
        "t1-plus",
        "t1-minus",
    ]
    counts = fingerprint(sim)
    assert counts["inventory"][0] == before["inventory"][0]  # updated in place, not added
    assert counts["inventory_history"][0] == before["inventory_history"][0] + 2


def test_absolute_count_is_a_cycle_count_and_safe_to_repeat(
    sim: Simulator, http: requests.Session
) -> None:
    barcode, item, qty = sim.active_location_with_inventory("F2")
    loc = location_id(http, sim, barcode, "F2")
    first = adjust(
        http,
        sim,
        loc,
        item_code=item,
        actual_qty="2.5",
        reason_code="CC",
        transaction_ref_nbr="count-1",
    )
    assert first.status_code == 200, first.text
    assert (first.json()["orig_qty"], first.json()["curr_qty"]) == (f"{qty:.3f}", "2.500")
    again = adjust(
        http,
        sim,
        loc,
        item_code=item,
        actual_qty=2.5,
        reason_code="CC",
        transaction_ref_nbr="count-2",
    )
    assert again.json()["curr_qty"] == "2.500"
    assert sim.inventory_qty("F2", barcode, item) == Decimal("2.5")
    rows = sim.history_with_ref("count-")
    assert [r["history_activity"] for r in rows] == ["CYCLE_COUNT", "CYCLE_COUNT"]
    assert [r["adj_qty"] for r in rows] == [Decimal("2.5") - qty, Decimal(0)]
    assert rows[1]["orig_qty"] == Decimal("2.5")


def test_adjustment_creates_the_missing_inventory_row(
    sim: Simulator, http: requests.Session
) -> None:
    barcode, _, _ = sim.active_location_with_inventory("F1")
    loc = location_id(http, sim, barcode, "F1")
    stocked = {
        i["item_id"]["key"]
        for i in http.get(api(sim, "entity/inventory/"), params={"location_id": loc}).json()[
            "results"
        ]
    }
    items = http.get(api(sim, "entity/item/"), params={"company_id__code": "C1"}).json()
    item = next(i["code"] for i in items["results"] if i["code"] not in stocked)
    assert sim.inventory_qty("F1", barcode, item) is None

    below = adjust(http, sim, loc, item_code=item, adjustment_qty="-1", reason_code="LOST")
    body = assert_error(below, 400, "VALIDATION_ERROR")
    assert "below zero" in body["details"]["adjustment_qty"]

    made = adjust(http, sim, loc, item_code=item, adjustment_qty="4", reason_code="FOUND")
    assert made.status_code == 200, made.text
    assert made.json()["orig_qty"] == "0.000" and made.json()["curr_qty"] == "4.000"
    record = http.get(api(sim, f"entity/inventory/{made.json()['inventory_id']}/")).json()
    assert record["location_id"]["id"] == loc and record["item_id"]["key"] == item
    assert record["facility_id"]["key"] == "F1" and record["create_user"] == "demo"
    assert record["create_ts"] == record["mod_ts"]
    assert sim.inventory_qty("F1", barcode, item) == Decimal(4)


def _bad_adjustments(sim: Simulator, other_company_item: str) -> list[tuple[dict[str, Any], str]]:
    _, item, _ = sim.active_location_with_inventory("F1")
    good = {"item_code": item, "adjustment_qty": "1", "reason_code": "CC"}
    return [
        ({**good, "item_code": None}, "item_code"),
        ({**good, "item_code": "NO-SUCH-ITEM"}, "item_code"),
        ({**good, "item_code": other_company_item}, "item_code"),  # F1 belongs to C1
        ({**good, "reason_code": None}, "reason_code"),
        ({**good, "reason_code": "R" * 26}, "reason_code"),
        ({**good, "transaction_ref_nbr": "x" * 251}, "transaction_ref_nbr"),
        ({**good, "batch_nbr": "B" * 51}, "batch_nbr"),
        ({**good, "actual_qty": "3"}, "actual_qty"),  # both quantities
        ({"item_code": item, "reason_code": "CC"}, "adjustment_qty"),  # neither
        ({**good, "adjustment_qty": "lots"}, "adjustment_qty"),
        ({**good, "adjustment_qty": True}, "adjustment_qty"),
        ({**good, "adjustment_qty": "1.0001"}, "adjustment_qty"),
        ({**good, "adjustment_qty": "0"}, "adjustment_qty"),
        ({**good, "adjustment_qty": "-100000"}, "adjustment_qty"),  # below zero
        ({"item_code": item, "actual_qty": "-1", "reason_code": "CC"}, "actual_qty"),
        ({**good, "colour": "red"}, "colour"),
    ]


def test_every_adjustment_error_names_its_field_and_writes_nothing(
    sim: Simulator, http: requests.Session
) -> None:
    barcode, item, qty = sim.active_location_with_inventory("F1")
    loc = location_id(http, sim, barcode, "F1")
    c2_item = one(http, sim, "item", company_id__code="C2", page_size=1)["code"]
    before = fingerprint(sim)
    for options, field in _bad_adjustments(sim, c2_item):
        body = assert_error(adjust(http, sim, loc, **options), 400, "VALIDATION_ERROR")
        assert field in body["details"], (options, body)
        assert isinstance(body["details"][field], str) and body["details"][field]
    reserve = location_id(http, sim, sim.reserve_location("F1"), "F1")
    body = assert_error(
        adjust(http, sim, reserve, item_code=item, adjustment_qty="1", reason_code="CC"),
        400,
        "VALIDATION_ERROR",
    )
    assert "not an active location" in body["details"]["location_id"]
    url = api(sim, f"entity/location/{loc}/update_active_inventory/")
    not_json = http.post(url, data=b"{nope", headers={"Content-Type": "application/json"})
    assert "body" in assert_error(not_json, 400, "VALIDATION_ERROR")["details"]
    assert (
        "options"
        in assert_error(http.post(url, json={"options": [1]}), 400, "VALIDATION_ERROR")["details"]
    )
    assert_error(
        adjust(http, sim, 999_999, item_code=item, adjustment_qty="1", reason_code="CC"),
        404,
        "NOT_FOUND",
    )
    assert fingerprint(sim) == before
    assert sim.inventory_qty("F1", barcode, item) == qty


# ---- PATCH -----------------------------------------------------------------------------------
def test_patch_writes_writable_fields_and_answers_the_record(
    sub_second_filters: Simulator, sim: Simulator, http: requests.Session
) -> None:
    order_nbr, _ = sim.order_with_lines("F2")
    order = one(http, sim, "order_hdr", order_nbr=order_nbr)
    newest = fingerprint(sim)["order_hdr"][1] + "+00:00"
    response = http.patch(
        api(sim, f"entity/order_hdr/{order['id']}/"),
        json={"fields": {"priority": 5, "req_ship_date": "2026-03-01", "cust_field_1": "RUSH"}},
    )
    assert response.status_code == 200, response.text
    record = response.json()
    assert record == http.get(api(sim, f"entity/order_hdr/{order['id']}/")).json()
    assert (record["priority"], record["req_ship_date"], record["cust_field_1"]) == (
        5,
        "2026-03-01",
        "RUSH",
    )
    assert record["mod_user"] == "demo" and instant(record["mod_ts"]) > instant(order["mod_ts"])
    assert record["status_id"] == order["status_id"] and record["cust_name"] == order["cust_name"]
    # an incremental reader on mod_ts sees exactly this change
    changed = http.get(api(sim, "entity/order_hdr/"), params={"mod_ts__gt": newest}).json()
    assert [r["id"] for r in changed["results"]] == [order["id"]]
    # null clears an optional field; decimals travel as strings
    line = one(http, sim, "order_dtl", order_id=order["id"], seq_nbr=1)
    cleared = http.patch(
        api(sim, f"entity/order_dtl/{line['id']}/"),
        json={"fields": {"ord_qty": "7.5", "cust_field_1": None}},
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["ord_qty"] == "7.500" and cleared.json()["cust_field_1"] is None
    lpn = one(http, sim, "oblpn", container_nbr=sim.oblpn_numbers("F2", False, 1)[0])
    weighed = http.patch(api(sim, f"entity/oblpn/{lpn['id']}/"), json={"fields": {"weight": 12}})
    assert weighed.json()["weight"] == "12.000"


def test_patch_refuses_unknown_and_read_only_fields_and_bad_values(
    sim: Simulator, http: requests.Session
) -> None:
    order_nbr, _ = sim.order_with_lines("F1")
    order = one(http, sim, "order_hdr", order_nbr=order_nbr)
    line = one(http, sim, "order_dtl", order_id=order["id"], seq_nbr=1)
    shipment = http.get(
        api(sim, "entity/ib_shipment/"), params={"status_id__in": "0,10,30", "ordering": "id"}
    ).json()["results"][0]
    before = fingerprint(sim)
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("order_hdr", {"status_id": 90}, "status_id"),
        ("order_hdr", {"order_nbr": "X"}, "order_nbr"),
        ("order_hdr", {"cust_name": "X"}, "cust_name"),
        ("order_hdr", {"no_such_field": 1}, "no_such_field"),
        ("order_hdr", {"cust_field_7": "X"}, "cust_field_7"),  # writable name, not in describe
        ("order_hdr", {"order_dtl_set": 1}, "order_dtl_set"),
        ("order_hdr", {"priority": "high"}, "priority"),
        ("order_hdr", {"priority": 1.5}, "priority"),
        ("order_hdr", {"req_ship_date": "next week"}, "req_ship_date"),
        ("order_hdr", {"cust_field_1": "x" * 51}, "cust_field_1"),
        ("order_hdr", {"cust_field_1": 12}, "cust_field_1"),
        ("order_dtl", {"ord_qty": "-1"}, "ord_qty"),
        ("order_dtl", {"ord_qty": None}, "ord_qty"),
        ("order_dtl", {"ord_qty": "1.2345"}, "ord_qty"),
        ("order_dtl", {"item_id": 3}, "item_id"),
        ("ib_shipment", {"ref_nbr": "r" * 51}, "ref_nbr"),
        ("ib_shipment", {"exp_arrival_date": 20260101}, "exp_arrival_date"),
    ]
    ids = {"order_hdr": order["id"], "order_dtl": line["id"], "ib_shipment": shipment["id"]}
    for entity, fields, field in cases:
        response = http.patch(api(sim, f"entity/{entity}/{ids[entity]}/"), json={"fields": fields})
        body = assert_error(response, 400, "VALIDATION_ERROR")
        assert set(body["details"]) == {field}, (entity, fields, body)
    # several problems at once: every one named, still nothing written
    several = http.patch(
        api(sim, f"entity/order_hdr/{order['id']}/"),
        json={"fields": {"priority": 3, "status_id": 90, "cust_field_2": "y" * 60}},
    )
    assert set(assert_error(several, 400, "VALIDATION_ERROR")["details"]) == {
        "status_id",
        "cust_field_2",
    }
    empty = http.patch(api(sim, f"entity/order_hdr/{order['id']}/"), json={"fields": {}})
    assert "fields" in assert_error(empty, 400, "VALIDATION_ERROR")["details"]
    assert_error(
        http.patch(api(sim, "entity/order_hdr/999999/"), json={"fields": {"priority": 1}}),
        404,
        "NOT_FOUND",
    )
    assert_error(
        http.patch(api(sim, "entity/no_such/1/"), json={"fields": {"priority": 1}}),
        404,
        "NOT_FOUND",
    )
    assert fingerprint(sim) == before


def test_status_rules_refuse_closed_orders_and_shipments(
    sim: Simulator, http: requests.Session
) -> None:
    order_nbr, seqs = sim.order_with_lines("F1", status="shipped")
    order = one(http, sim, "order_hdr", order_nbr=order_nbr)
    assert order["status_id"] == 90
    line = one(http, sim, "order_dtl", order_id=order["id"], seq_nbr=seqs[0])
    before = fingerprint(sim)
    for entity, ident, fields in (
        ("order_hdr", order["id"], {"priority": 1}),
        ("order_hdr", order["id"], {"cust_field_1": "late"}),
        ("order_dtl", line["id"], {"ord_qty": "1"}),
    ):
        response = http.patch(api(sim, f"entity/{entity}/{ident}/"), json={"fields": fields})
        body = assert_error(response, 400, "VALIDATION_ERROR")
        assert list(body["details"]) == ["status_id"]
        assert order_nbr in body["details"]["status_id"] and "Shipped" in body["message"]
    cancelled = http.get(
        api(sim, "entity/order_hdr/"), params={"status_id": 99, "ordering": "id"}
    ).json()["results"][0]
    refused = http.patch(
        api(sim, f"entity/order_hdr/{cancelled['id']}/"), json={"fields": {"priority": 1}}
    )
    assert "Cancelled" in assert_error(refused, 400, "VALIDATION_ERROR")["details"]["status_id"]

    # Oracle: a shipment changes only In Transit, Receiving Started or Receiving Complete; its
    # lines after receiving started only where the shipment type allows it (none here)
    for status, allowed, lines_allowed in (
        (90, False, False),
        (99, False, False),
        (30, True, False),
        (0, True, True),
    ):
        shipment = http.get(
            api(sim, "entity/ib_shipment/"),
            params={"status_id": status, "ordering": "id", "ib_shipment_dtl__isnull": "false"},
        ).json()["results"][0]
        dtl = one(http, sim, "ib_shipment_dtl", shipment_id=shipment["id"], seq_nbr=1)
        for entity, ident, fields, ok in (
            (
                "ib_shipment",
                shipment["id"],
                {"ref_nbr": "R-1", "exp_arrival_date": "2026-02-02"},
                allowed,
            ),
            ("ib_shipment_dtl", dtl["id"], {"shipped_qty": 3}, lines_allowed),
        ):
            response = http.patch(api(sim, f"entity/{entity}/{ident}/"), json={"fields": fields})
            if ok:
                assert response.status_code == 200, response.text
            else:
                body = assert_error(response, 400, "VALIDATION_ERROR")
                assert list(body["details"]) == ["status_id"]
    assert fingerprint(sim)["order_hdr"] == before["order_hdr"]
    assert fingerprint(sim)["order_dtl"] == before["order_dtl"]


# ---- faults on writes ---------------------------------------------------------------------
def test_409_fault_answers_record_changed_without_applying(
    sim: Simulator, http: requests.Session
) -> None:
    order_nbr, _ = sim.order_with_lines("F3")
    order = one(http, sim, "order_hdr", order_nbr=order_nbr)
    url = api(sim, f"entity/order_hdr/{order['id']}/")
    sim.add_fault("409", next=1)
    assert http.get(url).status_code == 200  # reads never consume a write fault
    before = fingerprint(sim)
    conflict = http.patch(url, json={"fields": {"priority": 2}})
    body = assert_error(conflict, 409, "RECORD_CHANGED")
    assert "re-read" in body["message"]
    assert fingerprint(sim) == before and http.get(url).json()["priority"] == order["priority"]
    assert http.patch(url, json={"fields": {"priority": 2}}).json()["priority"] == 2

    barcode, item, qty = sim.active_location_with_inventory("F3")
    loc = location_id(http, sim, barcode, "F3")
    sim.add_fault("409", rate=1.0, path_contains="update_active_inventory")
    for _ in range(3):
        response = adjust(
            http,
            sim,
            loc,
            item_code=item,
            adjustment_qty="1",
            reason_code="CC",
            transaction_ref_nbr="conflict",
        )
        assert_error(response, 409, "RECORD_CHANGED")
    assert sim.history_with_ref("conflict") == [] and sim.inventory_qty("F3", barcode, item) == qty
    sim.clear_faults()
    log = [e for e in sim.request_log() if e["method"] in ("POST", "PATCH")]
    assert [(e["method"], e["status"], e["fault"]) for e in log] == [
        ("PATCH", 409, "409"),
        ("PATCH", 200, None),
        ("POST", 409, "409"),
        ("POST", 409, "409"),
        ("POST", 409, "409"),
    ]


def _raw_request(sim: Simulator, method: str, path: str, body: bytes) -> bytes:
    """Send one request on a bare socket and return every byte the server sends back."""
    token = base64.b64encode(b"demo:demo").decode()
    head = (
        f"{method} /{sim.environment}/wms/lgfapi/v10/{path} HTTP/1.1\r\n"
        f"Host: {sim.host}:{sim.port}\r\nAuthorization: Basic {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((sim.host, sim.port), timeout=10) as conn:
        conn.sendall(head + body)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


def test_lost_response_applies_once_and_sends_nothing(
    sim: Simulator, http: requests.Session
) -> None:
    barcode, item, qty = sim.active_location_with_inventory("F1", nth=2)
    loc = location_id(http, sim, barcode, "F1")
    sim.add_fault("lost_response", next=1, path_contains="update_active_inventory")
    with pytest.raises(requests.ConnectionError):
        adjust(
            http,
            sim,
            loc,
            item_code=item,
            adjustment_qty="2",
            reason_code="CC",
            transaction_ref_nbr="lost-1",
        )
    # applied exactly once, though the client never heard of it
    assert len(sim.history_with_ref("lost-1")) == 1
    assert sim.inventory_qty("F1", barcode, item) == qty + 2
    entry = [e for e in sim.request_log() if e["method"] == "POST"][-1]
    assert (entry["status"], entry["fault"]) == (200, "lost_response")

    # the fault is spent: the next write answers normally
    again = adjust(http, sim, loc, item_code=item, actual_qty="1", reason_code="CC")
    assert again.status_code == 200

    # on the wire: not a single byte of answer, yet the ship happened
    lpn = one(http, sim, "oblpn", container_nbr=sim.oblpn_numbers("F1", False, 1)[0])
    sim.add_fault("lost_response", next=1)
    ship = json.dumps({"options": {"locn_barcode": sim.reserve_location("F1")}}).encode()
    assert _raw_request(sim, "POST", f"entity/oblpn/{lpn['id']}/ship/", ship) == b""
    assert http.get(api(sim, f"entity/oblpn/{lpn['id']}/")).json()["status_id"] == 80


# ---- outbound LPNs -----------------------------------------------------------------------------
def test_ship_and_already_shipped(sim: Simulator, http: requests.Session) -> None:
    numbers = sim.oblpn_numbers("F2", False, 2)
    first, second = (one(http, sim, "oblpn", container_nbr=n) for n in numbers)
    url = api(sim, f"entity/oblpn/{first['id']}/ship/")
    here = {"options": {"locn_barcode": sim.reserve_location("F2")}}
    shipped = http.post(url, json=here)
    assert shipped.status_code == 200, shipped.text
    record = shipped.json()
    assert record["status_id"] == 80 and record["location_id"] is None
    assert record["mod_user"] == "demo" and instant(record["mod_ts"]) > instant(first["mod_ts"])
    assert record == http.get(api(sim, f"entity/oblpn/{first['id']}/")).json()

    before = fingerprint(sim)
    twice = assert_error(http.post(url, json=here), 400, "VALIDATION_ERROR")
    assert twice["details"] == {"status_id": "LPN is already shipped."}
    dock = sim.reserve_location("F1")  # a barcode of another facility
    wrong = http.post(
        api(sim, f"entity/oblpn/{second['id']}/ship/"), json={"options": {"locn_barcode": dock}}
    )
    assert "locn_barcode" in assert_error(wrong, 400, "VALIDATION_ERROR")["details"]
    odd = http.post(
        api(sim, f"entity/oblpn/{second['id']}/ship/"),
        json={"options": {**here["options"], "carrier": "UPS"}},
    )
    assert "options.carrier" in assert_error(odd, 400, "VALIDATION_ERROR")["details"]
    assert_error(http.post(api(sim, "entity/oblpn/999999/ship/"), json=here), 404, "NOT_FOUND")
    assert fingerprint(sim) == before

    ok = http.post(api(sim, f"entity/oblpn/{second['id']}/ship/"), json=here)
    assert ok.status_code == 200 and ok.json()["status_id"] == 80


def test_bulk_ship(sim: Simulator, http: requests.Session) -> None:
    open_ids = [
        one(http, sim, "oblpn", container_nbr=n)["id"] for n in sim.oblpn_numbers("F3", False, 3)
    ]
    done = one(http, sim, "oblpn", container_nbr=sim.oblpn_numbers("F3", True, 1)[0])["id"]
    url = api(sim, "entity/oblpn/bulk_ship/")
    where = sim.reserve_location("F3")
    before = fingerprint(sim)
    all_or_nothing = http.post(
        url,
        json={
            "parameters": {"id__in": [open_ids[0], done]},
            "options": {"locn_barcode": where, "commit_frequency": 0},
        },
    )
    assert all_or_nothing.status_code == 200, all_or_nothing.text
    assert fingerprint(sim) == before, "commit_frequency 0: the failure rolls everything back"
    each = http.post(
        url,
        json={
            "parameters": {"id__in": [*open_ids[:2], done, 999_999]},
            "options": {"locn_barcode": where},
        },
    )
    assert each.status_code == 200, each.text
    statuses = [http.get(api(sim, f"entity/oblpn/{i}/")).json()["status_id"] for i in open_ids]
    assert statuses[:2] == [80, 80] and statuses[2] != 80


# ---- create ----------------------------------------------------------------------------------
def test_create_inventory_writes_history(sim: Simulator, http: requests.Session) -> None:
    barcode, _, _ = sim.active_location_with_inventory("F1", nth=3)
    loc = location_id(http, sim, barcode, "F1")
    reserve = location_id(http, sim, sim.reserve_location("F1"), "F1")
    item = one(http, sim, "item", company_id__code="C1", page_size=1, ordering="id")
    c2_item = one(http, sim, "item", company_id__code="C2", page_size=1)
    url = api(sim, "entity/inventory/")
    fields = {"location_id": loc, "item_id": item["id"], "curr_qty": "12"}
    before = fingerprint(sim)
    for body, field in (
        ({"fields": fields}, "reason_code"),
        ({"fields": fields, "options": {"reason_code": ""}}, "reason_code"),
        ({"fields": {**fields, "curr_qty": 0}, "options": {"reason_code": "R"}}, "curr_qty"),
        (
            {"fields": {**fields, "location_id": 999_999}, "options": {"reason_code": "R"}},
            "location_id",
        ),
        (
            {"fields": {**fields, "location_id": reserve}, "options": {"reason_code": "R"}},
            "location_id",
        ),
        (
            {"fields": {**fields, "item_id": c2_item["id"]}, "options": {"reason_code": "R"}},
            "item_id",
        ),
        ({"fields": {**fields, "lock_flg": True}, "options": {"reason_code": "R"}}, "lock_flg"),
        (
            {"fields": {**fields, "batch_number_id": 999}, "options": {"reason_code": "R"}},
            "batch_number_id",
        ),
    ):
        assert field in assert_error(http.post(url, json=body), 400, "VALIDATION_ERROR")["details"]
    assert fingerprint(sim) == before

    created = http.post(
        url,
        json={
            "fields": {**fields, "batch_number_id": 1},
            "options": {"reason_code": "RECV", "transaction_ref_nbr": "create-1"},
        },
    )
    assert created.status_code == 201, created.text
    record = created.json()
    assert record == http.get(api(sim, f"entity/inventory/{record['id']}/")).json()
    assert record["curr_qty"] == "12.000" and record["location_id"]["key"] == barcode
    assert record["item_id"]["key"] == item["code"] and record["batch_nbr"] is not None
    (row,) = sim.history_with_ref("create-1")
    assert row["history_activity"] == "ADJUST_PLUS" and row["reason_code"] == "RECV"
    assert (row["adj_qty"], row["orig_qty"]) == (Decimal(12), Decimal(0))
    assert sim.inventory_qty("F1", barcode, item["code"]) >= Decimal(12)  # type: ignore[operator]


# ---- permissions, routes, persistence, log ----------------------------------------------------
def test_read_only_user_gets_403_on_writes(sim: Simulator, http: requests.Session) -> None:
    sim.add_user("viewer", "pw", writable=False)
    http.post(
        sim.admin_url + "users", json={"username": "viewer2", "password": "pw", "writable": False}
    )
    barcode, item, _ = sim.active_location_with_inventory("F1")
    loc = location_id(http, sim, barcode, "F1")
    order = one(http, sim, "order_hdr", order_nbr=sim.order_with_lines("F1")[0])
    before = fingerprint(sim)
    for user in ("viewer", "viewer2"):
        viewer = requests.Session()
        viewer.auth = (user, "pw")
        assert viewer.get(api(sim, f"entity/order_hdr/{order['id']}/")).status_code == 200
        posted = viewer.post(
            api(sim, f"entity/location/{loc}/update_active_inventory/"),
            json={"options": {"item_code": item, "adjustment_qty": 1, "reason_code": "CC"}},
        )
        assert "create" in assert_error(posted, 403, "PERMISSION_DENIED")["message"]
        patched = viewer.patch(
            api(sim, f"entity/order_hdr/{order['id']}/"), json={"fields": {"priority": 1}}
        )
        assert "update" in assert_error(patched, 403, "PERMISSION_DENIED")["message"]
    assert fingerprint(sim) == before
    # a writer limited to F2 cannot reach an F1 location: 404 as for reads
    sim.add_user("f2", "pw", facilities=["F2"])
    other = requests.post(
        api(sim, f"entity/location/{loc}/update_active_inventory/"),
        json={"options": {"item_code": item, "adjustment_qty": 1, "reason_code": "CC"}},
        auth=("f2", "pw"),
    )
    assert_error(other, 404, "NOT_FOUND")
    assert fingerprint(sim) == before


def test_unsupported_method_and_path_pairs_are_405(sim: Simulator, http: requests.Session) -> None:
    cases = [
        ("POST", "entity/item/", "GET, HEAD"),
        ("POST", "entity/order_hdr/5/", "GET, HEAD, PATCH"),
        ("PATCH", "entity/order_hdr/", "GET, HEAD"),
        ("POST", "entity/order_hdr/5/ship/", "GET, HEAD"),
        ("PUT", "entity/order_hdr/5/", "GET, HEAD, PATCH"),
        ("DELETE", "entity/inventory/", "GET, HEAD, POST"),
        ("GET", "entity/oblpn/bulk_ship/", None),
        ("PATCH", "entity/oblpn/bulk_ship/", "POST"),
        ("PUT", "entity/oblpn/5/ship/", "POST"),
    ]
    before = fingerprint(sim)
    for method, path, allow in cases:
        response = http.request(method, api(sim, path), json={"fields": {"priority": 1}})
        if allow is None:
            assert_error(response, 404, "NOT_FOUND")  # bulk_ship is no record id
            continue
        assert_error(response, 405, "METHOD_NOT_ALLOWED")
        assert response.headers["Allow"] == allow, (method, path)
    xml = http.patch(api(sim, "entity/order_hdr/5/?format=xml"), json={"fields": {"priority": 1}})
    assert xml.status_code == 400 and b"format" in xml.content
    assert fingerprint(sim) == before


def test_writes_persist_across_a_restart_on_the_same_db(tmp_path: Path) -> None:
    db = tmp_path / "wms.sqlite"
    with Simulator(seed=5, db_path=db) as first, requests.Session() as http:
        http.auth = AUTH
        barcode, item, qty = first.active_location_with_inventory("F2")
        loc = location_id(http, first, barcode, "F2")
        assert (
            adjust(
                http,
                first,
                loc,
                item_code=item,
                actual_qty="9",
                reason_code="CC",
                transaction_ref_nbr="persist-1",
            ).status_code
            == 200
        )
        order = one(http, first, "order_hdr", order_nbr=first.order_with_lines("F2")[0])
        patched = http.patch(
            api(first, f"entity/order_hdr/{order['id']}/"), json={"fields": {"cust_field_2": "P"}}
        ).json()
    with Simulator(seed=5, db_path=db) as second, requests.Session() as http:
        http.auth = AUTH
        assert second.inventory_qty("F2", barcode, item) == Decimal(9) != qty
        assert [r["adj_qty"] for r in second.history_with_ref("persist-1")] == [Decimal(9) - qty]
        again = http.get(api(second, f"entity/order_hdr/{order['id']}/")).json()
        same = ("cust_field_2", "mod_ts", "mod_user", "priority", "status_id")
        assert [again[k] for k in same] == [patched[k] for k in same]
        assert again["cust_field_2"] == "P" and again["mod_user"] == "demo"


def test_request_log_records_writes_without_bodies(sim: Simulator, http: requests.Session) -> None:
    barcode, item, _ = sim.active_location_with_inventory("F1")
    loc = location_id(http, sim, barcode, "F1")
    sim.clear_request_log()
    adjust(
        http,
        sim,
        loc,
        item_code=item,
        adjustment_qty=1,
        reason_code="SECRET-REASON",
        transaction_ref_nbr="secret-ref",
    )
    http.patch(api(sim, "entity/order_hdr/999999/"), json={"fields": {"priority": 1}})
    log = sim.request_log()
    assert [(e["method"], e["status"], e["auth"]) for e in log] == [
        ("POST", 200, "basic"),
        ("PATCH", 404, "basic"),
    ]
    assert log[0]["path"].endswith(f"entity/location/{loc}/update_active_inventory/")
    text = repr(log)
    assert "SECRET-REASON" not in text and "secret-ref" not in text and "demo:demo" not in text
