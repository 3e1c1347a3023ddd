"""The generated warehouse is coherent the way a real one is (issue 26): checked on the records
the simulator serves over HTTP, each rule stated here from Oracle's life cycle, never by the
simulator's own code (oracle_wms_sim/data/coherence.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import all_records
from tests.wms_truth import codes


@pytest.fixture(scope="module")
def wms() -> Iterator[dict[str, Any]]:
    """One generated warehouse's records and code tables, read once over HTTP."""
    with Simulator(seed=3, scale=1) as sim:
        entities = ("inventory", "iblpn", "oblpn", "location", "order_hdr", "order_dtl")
        records: dict[str, Any] = {e: all_records(sim, e) for e in (*entities, "allocation")}
        for table in ("container_status", "allocation_status", "order_status", "location_type"):
            records[table] = codes(sim, table)
        yield records


def _by_id(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in rows}


def test_no_units_in_consumed_or_cancelled_iblpns(wms: dict[str, Any]) -> None:
    """Oracle's Direct Consume sets a consumed IBLPN's inventory to zero; a cancelled LPN holds
    nothing either."""
    status = {row["id"]: wms["container_status"][row["status_id"]] for row in wms["iblpn"]}
    assert "CONSUMED" in status.values(), "the generator made no consumed IBLPN to check"
    inside = [
        row["id"]
        for row in wms["inventory"]
        if row["container_id"]
        and status[row["container_id"]["id"]] in {"CONSUMED", "CANCELLED"}
        and Decimal(row["curr_qty"]) > 0
    ]
    assert inside == []


def test_loose_units_only_in_active_locations(wms: dict[str, Any]) -> None:
    """Reserve, dock, staging and drop locations hold LPNs; units outside an LPN are in active
    (pick) locations ("Active Inventory" vs "Reserve Inventory", 24D)."""
    kinds = {row["id"]: row["location_type_id"]["key"] for row in wms["location"]}
    loose = [row for row in wms["inventory"] if row["container_id"] is None]
    assert loose
    assert {kinds[row["location_id"]["id"]] for row in loose if row["location_id"]} == {"ACTIVE"}
    assert all(row["location_id"] for row in loose)


def test_order_lines_allocate_what_their_allocations_hold(wms: dict[str, Any]) -> None:
    """A line's alloc_qty is the sum of its live (not Cancelled) allocations and never above
    its ord_qty; a shipped line shipped what it allocated, an open one nothing."""
    status = wms["allocation_status"]
    held: dict[int, Decimal] = defaultdict(Decimal)
    for row in wms["allocation"]:
        if status[row["status_id"]] != "CANCELLED":
            held[row["order_dtl_id"]["id"]] += Decimal(row["alloc_qty"])
    orders = _by_id(wms["order_hdr"])
    order_status = wms["order_status"]
    assert any(held.values())
    for line in wms["order_dtl"]:
        allocated = Decimal(line["alloc_qty"])
        assert allocated == held[line["id"]], line["id"]
        assert allocated <= Decimal(line["ord_qty"]), line["id"]
        shipped = order_status[orders[line["order_id"]["id"]]["status_id"]] == "SHIPPED"
        assert Decimal(line["shipped_qty"]) == (allocated if shipped else 0), line["id"]


def test_order_status_follows_its_allocations(wms: dict[str, Any]) -> None:
    """Created orders have nothing allocated, Allocated ones all their lines, Partly Allocated
    some; Picked/Packed orders picked every live allocation; an order and its lines agree."""
    order_status = wms["order_status"]
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in wms["order_dtl"]:
        lines[line["order_id"]["id"]].append(line)
    seen = set()
    for order in wms["order_hdr"]:
        status = order_status[order["status_id"]]
        mine = lines[order["id"]]
        allocated = [Decimal(line["alloc_qty"]) for line in mine]
        ordered = [Decimal(line["ord_qty"]) for line in mine]
        assert {line["status_id"] for line in mine} <= {order["status_id"]}, order["id"]
        if status == "CREATED":
            assert sum(allocated) == 0, order["id"]
        elif status == "ALLOCATED":
            assert allocated == ordered, order["id"]
        elif status == "PARTLY_ALLOCATED":
            assert 0 < sum(allocated) < sum(ordered), order["id"]
        seen.add(status)
    assert {"CREATED", "PARTLY_ALLOCATED", "SHIPPED", "CANCELLED"} <= seen


def test_allocations_and_outbound_lpns_agree_with_their_orders(wms: dict[str, Any]) -> None:
    """Open allocations reserve loose unlocked stock of their item in an active location (never
    more than it holds); picked units sit in an LPN of their own order; an order's LPNs are
    Shipped exactly when it is, with no location and a tracking number."""
    container = wms["container_status"]
    alloc_status = wms["allocation_status"]
    order_status = wms["order_status"]
    orders = _by_id(wms["order_hdr"])
    lines = _by_id(wms["order_dtl"])
    lpns = _by_id(wms["oblpn"])
    kinds = {row["id"]: row["location_type_id"]["key"] for row in wms["location"]}
    stock: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for row in wms["inventory"]:
        if row["container_id"] is None and not row["lock_flg"] and row["location_id"]:
            stock[(row["location_id"]["id"], row["item_id"]["id"])] += Decimal(row["curr_qty"])
    reserved: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    for row in wms["allocation"]:
        status = alloc_status[row["status_id"]]
        line = lines[row["order_dtl_id"]["id"]]
        assert row["item_id"]["id"] == line["item_id"]["id"], row["id"]
        if status in {"CREATED", "IN_PICKING"}:
            place = row["from_location_id"]["id"]
            assert kinds[place] == "ACTIVE", row["id"]
            reserved[(place, row["item_id"]["id"])] += Decimal(row["alloc_qty"]) - Decimal(
                row["packed_qty"]
            )
        elif status in {"PICKED", "PACKED"}:
            assert Decimal(row["packed_qty"]) == Decimal(row["alloc_qty"]), row["id"]
            if row["to_container_id"]:
                lpn = lpns[row["to_container_id"]["id"]]
                assert lpn["order_id"]["id"] == line["order_id"]["id"], row["id"]
            else:
                assert (
                    status == "PICKED"
                    or order_status[orders[line["order_id"]["id"]]["status_id"]] == "SHIPPED"
                ), row["id"]
    assert reserved
    over = {place: qty for place, qty in reserved.items() if qty > stock[place]}
    assert over == {}
    for lpn in wms["oblpn"]:
        shipped = container[lpn["status_id"]] == "SHIPPED"
        order_shipped = order_status[orders[lpn["order_id"]["id"]]["status_id"]] == "SHIPPED"
        assert shipped == order_shipped, lpn["id"]
        if shipped:
            assert lpn["location_id"] is None and lpn["tracking_nbr"], lpn["id"]
