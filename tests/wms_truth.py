"""What every mart should hold for a simulated warehouse, computed from the simulator's records
read over HTTP (never from loaded rows or the models under test): one function per mart under
transform/models/marts, each giving every row (by the mart's key) with every column. The
definitions are the ones the marts cite: the Inventory Summary (Oracle WMS Cloud 24D, "Inventory
Management Modules") for on hand, allocated and available; orders below Shipped for open orders;
the IB Shipment screen's Shipped and Received quantities; and the marts' own documented measures
(cycle times, daily movements), written here again from their descriptions. Statuses by code."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from oracle_wms_sim import Simulator
from tests.conftest import all_records

HOLDING_IBLPN = {"RECEIVED", "LOCATED", "ALLOCATED", "PARTLY_ALLOCATED"}
ALLOCATED_IBLPN = {"ALLOCATED", "PARTLY_ALLOCATED"}
PACKED_OBLPN = {"PACKED", "LOADED"}
OPEN_ALLOCATION = {"CREATED", "IN_PICKING"}
CLOSED_ORDER = {"SHIPPED", "CANCELLED"}
PICKED_ALLOCATION = {"PICKED", "PACKED"}

Row = dict[str, Any]
Mart = dict[Any, Row]  # the mart's key -> column -> value


def codes(sim: Simulator, table: str) -> dict[int, str]:
    """A code table's id -> code, as the API serves it."""
    return {row["id"]: row["code"] for row in all_records(sim, table)}


def _ref(value: Any) -> int | None:
    return value["id"] if value else None


def _key(value: Any) -> str | None:
    return str(value["key"]) if value else None


def _qty(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _hours(start: datetime | None, end: datetime | None) -> Decimal | None:
    if start is None or end is None:
        return None
    seconds = Decimal(str((end - start).total_seconds()))
    return (seconds / 3600).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _line_sums(
    sim: Simulator, entity: str, parent: str, *quantities: str
) -> defaultdict[int, list[Any]]:
    """Per parent id (an order, an ASN): its lines' count, then the sum of each quantity."""
    sums: defaultdict[int, list[Any]] = defaultdict(lambda: [0, *(Decimal(0) for _ in quantities)])
    for line in all_records(sim, entity):
        found = sums[line[parent]["id"]]
        found[0] += 1
        for n, name in enumerate(quantities, 1):
            found[n] += _qty(line[name])
    return sums


def inventory_history(sim: Simulator) -> list[Row]:
    """Every inventory_history record over HTTP. Oracle lists it only under company, facility
    and history_activity_id + status_id filters (the simulator's store count proves none is
    missed)."""
    facilities = [(f["company_id"]["key"], f["code"]) for f in all_records(sim, "facility")]
    activities = [row["id"] for row in all_records(sim, "history_activity")]
    statuses = [row["id"] for row in all_records(sim, "container_status")]
    rows = [
        row
        for company, facility in facilities
        for activity in activities
        for status in statuses
        for row in all_records(
            sim,
            "inventory_history",
            company_id__code=company,
            facility_id__code=facility,
            history_activity_id=activity,
            status_id=status,
        )
    ]
    assert len(rows) == sim.result_count("inventory_history"), "history rows missed"
    return rows


def on_hand(sim: Simulator, former_location_types: dict[int, str] | None = None) -> Mart:
    """mart_inventory_on_hand by on_hand_key (facility/item/location type): active units
    (outside LPNs) + units of IBLPNs in Received/Located/(Partly) Allocated + packed units of live
    allocations in Packed/Loaded OBLPNs; allocated = what open allocations still reserve at their
    from-location + units of Allocated IBLPNs; available = active + IBLPN units less allocated
    and locked units; rows, locations, LPNs, earliest expiry and last change over those rows.

    A location whose location type was deleted (the simulator lets a test do it; the API then
    names the type by id only) keeps the code it had, from `former_location_types`: the location
    row did not change, so no incremental run reads it again."""
    container = codes(sim, "container_status")
    allocation = codes(sim, "allocation_status")
    former = former_location_types or {}
    kinds = {
        row["id"]: row["location_type_id"]["key"] or former[row["location_type_id"]["id"]]
        for row in all_records(sim, "location")
    }
    iblpns = {row["id"]: container[row["status_id"]] for row in all_records(sim, "iblpn")}
    oblpns = {
        row["id"]: (_ref(row["location_id"]), row["container_nbr"])
        for row in all_records(sim, "oblpn")
        if container.get(row["status_id"]) in PACKED_OBLPN
    }
    sums = ("active_qty", "iblpn_qty", "oblpn_qty", "allocated_qty", "locked_qty")
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}

    def group(row: Row, location: int | None) -> dict[str, Any]:
        kind = kinds.get(location, "NO_LOCATION") if location is not None else "NO_LOCATION"
        facility, item = row["facility_id"], row["item_id"]
        found = groups.setdefault(
            (facility["id"], facility["key"], item["id"], item["key"], kind),
            {"rows": 0, "locations": set(), "lpns": set(), "expiry": [], "changed": []}
            | {name: Decimal(0) for name in sums},
        )
        return found

    for row in all_records(sim, "inventory"):
        lpn = _ref(row["container_id"])
        status = iblpns.get(lpn) if lpn is not None else None
        if lpn is not None and status not in HOLDING_IBLPN:
            continue
        units = _qty(row["curr_qty"])
        found = group(row, _ref(row["location_id"]))
        found["rows"] += 1
        if row["location_id"]:
            found["locations"].add(_ref(row["location_id"]))
        if row["container_id"]:
            found["lpns"].add(_key(row["container_id"]))
        found["iblpn_qty" if lpn is not None else "active_qty"] += units
        if status in ALLOCATED_IBLPN:
            found["allocated_qty"] += units
        if row["lock_flg"]:
            found["locked_qty"] += units
        if row["expiry_date"]:
            found["expiry"].append(_date(row["expiry_date"]))
        found["changed"].append(_instant(row["mod_ts"]))
    for row in all_records(sim, "allocation"):
        status = allocation[row["status_id"]]
        lpn = _ref(row["to_container_id"])
        if status != "CANCELLED" and lpn in oblpns:
            location, container_nbr = oblpns[lpn]
            found = group(row, location)
            found["oblpn_qty"] += _qty(row["packed_qty"])
            found["lpns"].add(container_nbr)
        if status in OPEN_ALLOCATION:
            found = group(row, _ref(row["from_location_id"]))
            found["allocated_qty"] += _qty(row["alloc_qty"]) - _qty(row["packed_qty"])
    mart: Mart = {}
    for (facility_id, facility, item_id, item, kind), found in groups.items():
        key = f"{facility}/{item}/{kind}"
        mart[key] = {
            "facility_id": facility_id,
            "facility_code": facility,
            "item_id": item_id,
            "item_code": item,
            "location_type_code": kind,
            "inventory_rows": found["rows"],
            "locations": len(found["locations"]),
            "lpns": len(found["lpns"]),
            "on_hand_qty": found["active_qty"] + found["iblpn_qty"] + found["oblpn_qty"],
            "locked_qty": found["locked_qty"],
            "available_qty": found["active_qty"]
            + found["iblpn_qty"]
            - found["allocated_qty"]
            - found["locked_qty"],
            "earliest_expiry_date": min(found["expiry"], default=None),
            "last_change_ts": max(found["changed"], default=None),
            **{name: found[name] for name in sums if name != "locked_qty"},
            "on_hand_key": key,
        }
    return mart


def open_orders(sim: Simulator, as_of: date) -> Mart:
    """mart_open_orders by order_id: orders below Shipped (neither Shipped nor Cancelled), their
    age and lateness on `as_of`, their lines' count, ord_qty and alloc_qty."""
    status = codes(sim, "order_status")
    lines = _line_sums(sim, "order_dtl", "order_id", "ord_qty", "alloc_qty")
    mart: Mart = {}
    for order in all_records(sim, "order_hdr"):
        code = status.get(order["status_id"])
        if code is None or code in CLOSED_ORDER:
            continue
        ordered, required = _date(order["ord_date"]), _date(order["req_ship_date"])
        late = required is not None and required < as_of
        count, ord_qty, alloc_qty = lines[order["id"]]
        mart[order["id"]] = {
            "order_id": order["id"],
            "order_nbr": order["order_nbr"],
            "facility_id": _ref(order["facility_id"]),
            "facility_code": _key(order["facility_id"]),
            "company_code": _key(order["company_id"]),
            "order_type_code": _key(order["order_type_id"]),
            "order_status_id": order["status_id"],
            "order_status_code": code,
            "priority": order["priority"],
            "cust_name": order["cust_name"],
            "ord_date": ordered,
            "req_ship_date": required,
            "create_ts": _instant(order["create_ts"]),
            "as_of_date": as_of,
            "age_days": (as_of - ordered).days if ordered else None,
            "days_late": (as_of - required).days if late and required else 0,
            "is_late": late,
            "order_lines": count,
            "ord_qty": ord_qty,
            "alloc_qty": alloc_qty,
        }
    return mart


def inbound_receipts(sim: Simulator, history: list[Row]) -> Mart:
    """mart_inbound_receipts by shipment_id: each ASN's lines (expected = shipped_qty, received),
    the variance and ratio, its inbound LPNs, and the RECEIPT history rows of those LPNs (history
    container_nbr and facility = the IBLPN's)."""
    status = codes(sim, "ib_shipment_status")
    lines = _line_sums(sim, "ib_shipment_dtl", "shipment_id", "shipped_qty", "received_qty")
    lpns: dict[int, int] = defaultdict(int)
    by_container: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    for lpn in all_records(sim, "iblpn"):
        shipment = _ref(lpn["shipment_id"])
        if shipment is not None:
            lpns[shipment] += 1
            by_container[(lpn["container_nbr"], _ref(lpn["facility_id"]))].append(shipment)
    receipts: dict[int, list[Any]] = defaultdict(list)
    for row in history:
        if _key(row["history_activity_id"]) != "RECEIPT":
            continue
        for shipment in by_container.get((row["container_nbr"], _ref(row["facility_id"])), []):
            receipts[shipment].append(row)
    mart: Mart = {}
    for asn in all_records(sim, "ib_shipment"):
        count, expected, received = lines[asn["id"]]
        rows = receipts.get(asn["id"], [])
        instants = [_instant(row["create_ts"]) for row in rows]
        ratio = None
        if expected > 0:
            ratio = (received / expected).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        mart[asn["id"]] = {
            "shipment_id": asn["id"],
            "shipment_nbr": asn["shipment_nbr"],
            "facility_id": _ref(asn["facility_id"]),
            "facility_code": _key(asn["facility_id"]),
            "vendor_code": _key(asn["vendor_id"]),
            "ib_shipment_status_code": status.get(asn["status_id"]),
            "exp_arrival_date": _date(asn["exp_arrival_date"]),
            "verified_ts": _instant(asn["verified_ts"]),
            "expected_qty": expected,
            "received_qty": received,
            "variance_qty": received - expected,
            "history_received_qty": sum((_qty(row["adj_qty"]) for row in rows), Decimal(0)),
            "first_receipt_ts": min(instants, default=None),
            "last_receipt_ts": max(instants, default=None),
            "asn_lines": count,
            "lpns": lpns.get(asn["id"], 0),
            "received_ratio": ratio,
            "receipt_history_rows": len(rows),
        }
    return mart


def order_cycle_times(sim: Simulator) -> Mart:
    """mart_order_cycle_times by order_id: created (create_ts), allocated (first allocation of
    its lines), picked (when every live allocation is Picked or Packed: the last of their
    mod_ts), shipped (a Shipped order: the last mod_ts of its Shipped OBLPNs, else its own
    mod_ts), and the hours between them."""
    status = codes(sim, "order_status")
    allocation_status = codes(sim, "allocation_status")
    container = codes(sim, "container_status")
    order_of_line = {line["id"]: line["order_id"]["id"] for line in all_records(sim, "order_dtl")}
    allocations: dict[int, list[tuple[str, datetime | None, datetime | None]]] = defaultdict(list)
    for row in all_records(sim, "allocation"):
        order = order_of_line.get(_ref(row["order_dtl_id"]) or -1)
        code = allocation_status.get(row["status_id"])
        if order is not None and code is not None:
            allocations[order].append((code, _instant(row["create_ts"]), _instant(row["mod_ts"])))
    shipped: dict[int, list[datetime | None]] = defaultdict(list)
    for lpn in all_records(sim, "oblpn"):
        if container.get(lpn["status_id"]) == "SHIPPED" and lpn["order_id"]:
            shipped[lpn["order_id"]["id"]].append(_instant(lpn["mod_ts"]))
    mart: Mart = {}
    for order in all_records(sim, "order_hdr"):
        code = status.get(order["status_id"])
        if code is None:
            continue
        mine = allocations.get(order["id"], [])
        picked = [mod for kind, _, mod in mine if kind in PICKED_ALLOCATION]
        cancelled = sum(1 for kind, _, _ in mine if kind == "CANCELLED")
        created = _instant(order["create_ts"])
        allocated = min((made for _, made, _ in mine if made), default=None)
        picked_ts = None
        if picked and len(picked) + cancelled == len(mine):
            picked_ts = max((mod for mod in picked if mod), default=None)
        shipped_ts = None
        if code == "SHIPPED":
            lpn_times = [t for t in shipped.get(order["id"], []) if t]
            shipped_ts = max(lpn_times) if lpn_times else _instant(order["mod_ts"])
        mart[order["id"]] = {
            "order_id": order["id"],
            "order_nbr": order["order_nbr"],
            "facility_id": _ref(order["facility_id"]),
            "facility_code": _key(order["facility_id"]),
            "order_type_code": _key(order["order_type_id"]),
            "order_status_code": code,
            "created_ts": created,
            "allocated_ts": allocated,
            "picked_ts": picked_ts,
            "shipped_ts": shipped_ts,
            "allocations": len(mine),
            "shipped_lpns": len(shipped.get(order["id"], [])),
            "hours_created_to_allocated": _hours(created, allocated),
            "hours_allocated_to_picked": _hours(allocated, picked_ts),
            "hours_picked_to_shipped": _hours(picked_ts, shipped_ts),
            "hours_created_to_shipped": _hours(created, shipped_ts),
        }
    return mart


def daily_inventory_movements(history: list[Row]) -> Mart:
    """mart_daily_inventory_movements by movement_key (facility/UTC day/activity): rows,
    transactions (distinct group_nbr), items, units in, units out (positive), net."""
    groups: dict[tuple[int | None, str | None, date, str | None], list[Row]] = defaultdict(list)
    for row in history:
        day = datetime.fromisoformat(row["create_ts"]).astimezone(UTC).date()
        facility = row["facility_id"]
        groups[(_ref(facility), _key(facility), day, _key(row["history_activity_id"]))].append(row)
    mart: Mart = {}
    for (facility_id, facility, day, activity), rows in groups.items():
        moved = [_qty(row["adj_qty"]) for row in rows]
        key = f"{facility}/{day.isoformat()}/{activity}"
        mart[key] = {
            "movement_key": key,
            "facility_id": facility_id,
            "facility_code": facility,
            "movement_date": day,
            "history_activity_code": activity,
            "history_rows": len(rows),
            "transactions": len({row["group_nbr"] for row in rows if row["group_nbr"]}),
            "items": len({row["item_code"] for row in rows if row["item_code"]}),
            "qty_in": sum((q for q in moved if q > 0), Decimal(0)),
            "qty_out": sum((-q for q in moved if q < 0), Decimal(0)),
            "net_qty": sum(moved, Decimal(0)),
        }
    return mart


def marts(
    sim: Simulator, as_of: date, former_location_types: dict[int, str] | None = None
) -> dict[str, tuple[str, Mart]]:
    """Every mart: name -> (its key column, its rows), for the WMS as it is now."""
    history = inventory_history(sim)
    return {
        "mart_inventory_on_hand": ("on_hand_key", on_hand(sim, former_location_types)),
        "mart_open_orders": ("order_id", open_orders(sim, as_of)),
        "mart_inbound_receipts": ("shipment_id", inbound_receipts(sim, history)),
        "mart_order_cycle_times": ("order_id", order_cycle_times(sim)),
        "mart_daily_inventory_movements": ("movement_key", daily_inventory_movements(history)),
    }
