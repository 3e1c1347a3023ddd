"""What Oracle's own screens would show for a simulated warehouse, computed from the simulator's
records read over HTTP (never from loaded rows or the models under test), by the definitions the
marts cite: the Inventory Summary (Oracle WMS Cloud 24D, "Inventory Management Modules") for on
hand, allocated and available; orders below Shipped for open orders. Statuses by their codes."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from oracle_wms_sim import Simulator
from tests.conftest import all_records

HOLDING_IBLPN = {"RECEIVED", "LOCATED", "ALLOCATED", "PARTLY_ALLOCATED"}
ALLOCATED_IBLPN = {"ALLOCATED", "PARTLY_ALLOCATED"}
PACKED_OBLPN = {"PACKED", "LOADED"}
OPEN_ALLOCATION = {"CREATED", "IN_PICKING"}
CLOSED_ORDER = {"SHIPPED", "CANCELLED"}

Key = tuple[str, str, str]


def codes(sim: Simulator, table: str) -> dict[int, str]:
    """A code table's id -> code, as the API serves it."""
    return {row["id"]: row["code"] for row in all_records(sim, table)}


def _ref(value: Any) -> int | None:
    return value["id"] if value else None


def on_hand(sim: Simulator) -> dict[Key, tuple[Decimal, Decimal]]:
    """(facility, item, location type) -> (on hand, available): active units (outside LPNs) +
    units of IBLPNs in Received/Located/(Partly) Allocated + packed units of live allocations in
    Packed/Loaded OBLPNs; available = active + IBLPN units less what open allocations still
    reserve, less units of Allocated IBLPNs, less locked units."""
    container = codes(sim, "container_status")
    allocation = codes(sim, "allocation_status")
    kinds = {row["id"]: row["location_type_id"]["key"] for row in all_records(sim, "location")}
    iblpns = {row["id"]: container[row["status_id"]] for row in all_records(sim, "iblpn")}
    oblpns = {
        row["id"]: _ref(row["location_id"])
        for row in all_records(sim, "oblpn")
        if container[row["status_id"]] in PACKED_OBLPN
    }
    held: dict[Key, Decimal] = defaultdict(Decimal)
    free: dict[Key, Decimal] = defaultdict(Decimal)

    def key(row: dict[str, Any], location: int | None) -> Key:
        kind = kinds[location] if location is not None else "NO_LOCATION"
        return (row["facility_id"]["key"], row["item_id"]["key"], kind)

    for row in all_records(sim, "inventory"):
        lpn = _ref(row["container_id"])
        status = iblpns.get(lpn) if lpn is not None else None
        if lpn is not None and status not in HOLDING_IBLPN:
            continue
        units = Decimal(row["curr_qty"])
        where = key(row, _ref(row["location_id"]))
        held[where] += units
        if not row["lock_flg"] and status not in ALLOCATED_IBLPN:
            free[where] += units
    for row in all_records(sim, "allocation"):
        status = allocation[row["status_id"]]
        lpn = _ref(row["to_container_id"])
        if status != "CANCELLED" and lpn in oblpns:
            where = key(row, oblpns[lpn])
            held[where] += Decimal(row["packed_qty"])
        if status in OPEN_ALLOCATION:
            where = key(row, _ref(row["from_location_id"]))
            free[where] -= Decimal(row["alloc_qty"]) - Decimal(row["packed_qty"])
            held[where] += 0
    return {where: (held[where], free[where]) for where in held}


def open_orders(sim: Simulator, as_of: date) -> dict[str, tuple[int, int, Decimal, Decimal]]:
    """Per facility: orders below Shipped (neither Shipped nor Cancelled), how many are past
    their req_ship_date on `as_of`, and their lines' ord_qty and alloc_qty."""
    status = codes(sim, "order_status")
    lines: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in all_records(sim, "order_dtl"):
        sums = lines[line["order_id"]["id"]]
        sums[0] += Decimal(line["ord_qty"])
        sums[1] += Decimal(line["alloc_qty"])
    found: dict[str, list[Any]] = defaultdict(lambda: [0, 0, Decimal(0), Decimal(0)])
    for order in all_records(sim, "order_hdr"):
        if status[order["status_id"]] in CLOSED_ORDER:
            continue
        facility = found[order["facility_id"]["key"]]
        req = order["req_ship_date"]
        facility[0] += 1
        facility[1] += bool(req and date.fromisoformat(req) < as_of)
        facility[2] += lines[order["id"]][0]
        facility[3] += lines[order["id"]][1]
    return {code: (n, late, ordered, alloc) for code, (n, late, ordered, alloc) in found.items()}


def inventory_rows(sim: Simulator) -> int:
    """How many inventory rows the Inventory Summary counts: those outside any LPN and those in
    an IBLPN in a holding status (Received, Located, (Partly) Allocated)."""
    container = codes(sim, "container_status")
    iblpns = {row["id"]: container[row["status_id"]] for row in all_records(sim, "iblpn")}
    rows = all_records(sim, "inventory")
    lpns = [_ref(row["container_id"]) for row in rows]
    return sum(1 for lpn in lpns if lpn is None or iblpns.get(lpn) in HOLDING_IBLPN)
