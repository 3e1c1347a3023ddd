"""Settle the generated outbound side so its quantities and statuses agree, as in a real WMS.

The row factories draw orders, lines, outbound LPNs and allocations independently (each from its
own seeded stream), so on their own an order can be Created with allocations, a line's
`alloc_qty` can differ from its allocations, a Packed allocation can sit in no LPN and an LPN of
a shipped order can still be Packed. `settle` runs once after bulk generation, in id order
(deterministic), and makes them agree by the simulator's own life-cycle rules (the ones the
write side follows: `write/allocation.py`, `write/picking.py`, `write/shipping.py`,
`write/fulfilment.py`), so a mart computed by Oracle's definitions cannot be right by accident:

- allocations of Created or Cancelled orders are Cancelled; every live allocation is capped so
  a line's live allocations never exceed its `ord_qty`;
- an open (Created, In Picking) allocation reserves loose, unlocked stock of its item in an
  ACTIVE location of its facility (its `from_location_id`), never more than that location holds
  less what earlier allocations reserved; without such stock it is Cancelled;
- a Picked or Packed allocation holds `packed_qty = alloc_qty` in an outbound LPN of its own
  order (Packed when the LPN is Packed, Loaded or Shipped, Picked when the LPN is still being
  picked); without one it is Picked onto no LPN (on the cart);
- an order's outbound LPNs are Shipped (no location, a tracking number) exactly when the order
  is Shipped, Cancelled when it is, and otherwise never Shipped (Loaded, on the trailer);
- a line's `alloc_qty` is the sum of its live allocations, its `shipped_qty` that sum when the
  order shipped (else 0); an open order's (and its lines') status is what those imply, by the
  rules `write/fulfilment.py` applies after every pick (`order_status` below).

History rows are not settled (their sums do not reproduce the stock); docs/simulator.md says so.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from .codes import ACTIVE_LOCATION, code_id

ORDER_CREATED = code_id("order_status", "CREATED")
ORDER_PARTLY_ALLOCATED = code_id("order_status", "PARTLY_ALLOCATED")
ORDER_ALLOCATED = code_id("order_status", "ALLOCATED")
ORDER_IN_PICKING = code_id("order_status", "IN_PICKING")
ORDER_PICKED = code_id("order_status", "PICKED")
ORDER_PACKED = code_id("order_status", "PACKED")
ORDER_SHIPPED = code_id("order_status", "SHIPPED")
ORDER_CANCELLED = code_id("order_status", "CANCELLED")
ALLOC_CREATED = code_id("allocation_status", "CREATED")
ALLOC_IN_PICKING = code_id("allocation_status", "IN_PICKING")
ALLOC_PICKED = code_id("allocation_status", "PICKED")
ALLOC_PACKED = code_id("allocation_status", "PACKED")
ALLOC_CANCELLED = code_id("allocation_status", "CANCELLED")
LPN_PICKED = code_id("container_status", "PICKED")
LPN_LOADED = code_id("container_status", "LOADED")
LPN_SHIPPED = code_id("container_status", "SHIPPED")
LPN_CANCELLED = code_id("container_status", "CANCELLED")


@dataclass
class _Line:
    order: int
    item: int
    ordered: float
    allocated: float = 0.0


@dataclass
class _Alloc:
    id: int
    line: int
    status: int
    qty: float
    packed: float = 0.0
    container: int | None = None
    location: int | None = None


@dataclass
class _Lpn:
    order: int
    status: int
    location: int | None
    tracking: str | None
    allocs: list[_Alloc] = field(default_factory=list)


def order_status(lines: list[tuple[float, float]], allocs: list[_Alloc]) -> int:
    """The status an open order's lines ((ord_qty, alloc_qty)) and live allocations imply:
    `write/fulfilment.py` without the shipped case (a generated open order shipped nothing)."""
    if any(a.packed > 0 for a in allocs):
        if all(a.status == ALLOC_PACKED for a in allocs):
            return ORDER_PACKED
        if all(a.packed >= a.qty for a in allocs):
            return ORDER_PICKED
        return ORDER_IN_PICKING
    if lines and all(allocated >= ordered for ordered, allocated in lines):
        return ORDER_ALLOCATED
    if sum(allocated for _, allocated in lines) > 0:
        return ORDER_PARTLY_ALLOCATED
    return ORDER_CREATED


def _stock(conn: sqlite3.Connection) -> dict[tuple[int, int], list[list[int | float]]]:
    """(facility, item) -> [[location, units], ...]: loose unlocked stock in ACTIVE locations."""
    stock: dict[tuple[int, int], list[list[int | float]]] = defaultdict(list)
    for fac, item, loc, units in conn.execute(
        "SELECT i.facility_id, i.item_id, i.location_id, sum(i.curr_qty) FROM inventory i "
        "JOIN location l ON l.id = i.location_id WHERE i.container_id IS NULL "
        "AND NOT i.lock_flg AND l.location_type_id = ? GROUP BY 1, 2, 3 HAVING sum(i.curr_qty) > 0 "
        "ORDER BY 1, 2, 3",
        (ACTIVE_LOCATION,),
    ):
        stock[(fac, item)].append([loc, float(units)])
    return stock


def _reserve(stock: list[list[int | float]], wanted: float) -> tuple[int, float] | None:
    """Take up to `wanted` units from the first location with any left."""
    for place in stock:
        if place[1] >= 1:
            take = float(min(wanted, int(place[1])))
            place[1] -= take
            return int(place[0]), take
    return None


def settle(conn: sqlite3.Connection) -> None:
    """Make the generated orders, lines, outbound LPNs and allocations agree (module doc)."""
    orders = {i: (s, f) for i, s, f in conn.execute("SELECT id, status_id, _fac FROM order_hdr")}
    lines = {
        i: _Line(o, it, float(q))
        for i, o, it, q in conn.execute("SELECT id, order_id, item_id, ord_qty FROM order_dtl")
    }
    lpns = {
        i: _Lpn(o, s, loc, t)
        for i, o, s, loc, t in conn.execute(
            "SELECT id, order_id, status_id, location_id, tracking_nbr FROM oblpn ORDER BY id"
        )
    }
    by_order: dict[int, list[int]] = defaultdict(list)
    for ident, lpn in lpns.items():
        by_order[lpn.order].append(ident)
    stock = _stock(conn)
    allocs = [
        _Alloc(i, d, s, float(q), location=loc)
        for i, d, s, q, loc in conn.execute(
            "SELECT id, order_dtl_id, status_id, alloc_qty, from_location_id FROM allocation "
            "ORDER BY id"
        )
    ]
    for ident, lpn in lpns.items():
        status = orders[lpn.order][0]
        if status == ORDER_SHIPPED:
            lpn.status, lpn.location = LPN_SHIPPED, None
            lpn.tracking = lpn.tracking or f"1Z{ident:016d}"
        elif status == ORDER_CANCELLED:
            lpn.status, lpn.location = LPN_CANCELLED, None
        elif lpn.status == LPN_SHIPPED:
            lpn.status, lpn.tracking = LPN_LOADED, None
    for alloc in allocs:
        line = lines[alloc.line]
        status, fac = orders[line.order]
        qty = min(alloc.qty, line.ordered - line.allocated)
        if status in (ORDER_CREATED, ORDER_CANCELLED) or qty <= 0:
            alloc.status = ALLOC_CANCELLED
            continue
        alloc.qty = qty
        if status != ORDER_SHIPPED and alloc.status in (ALLOC_CREATED, ALLOC_IN_PICKING):
            taken = _reserve(stock.get((fac, line.item), []), qty)
            if taken is None:
                alloc.status = ALLOC_CANCELLED
                continue
            alloc.location, alloc.qty = taken
            alloc.status = ALLOC_CREATED
        else:
            alloc.packed = alloc.qty
            held = [n for n in by_order[line.order] if lpns[n].status != LPN_CANCELLED]
            alloc.container = held[alloc.id % len(held)] if held else None
            if alloc.container is None:
                alloc.status = ALLOC_PACKED if status == ORDER_SHIPPED else ALLOC_PICKED
            else:
                lpn = lpns[alloc.container]
                alloc.status = ALLOC_PICKED if lpn.status <= LPN_PICKED else ALLOC_PACKED
                lpn.allocs.append(alloc)
        line.allocated += alloc.qty
    _write(conn, orders, lines, lpns, allocs)


def _write(
    conn: sqlite3.Connection,
    orders: dict[int, tuple[int, int]],
    lines: dict[int, _Line],
    lpns: dict[int, _Lpn],
    allocs: list[_Alloc],
) -> None:
    conn.executemany(
        "UPDATE allocation SET status_id = ?, alloc_qty = ?, packed_qty = ?, to_container_id = ?, "
        "from_location_id = coalesce(?, from_location_id) WHERE id = ?",
        [(a.status, a.qty, a.packed, a.container, a.location, a.id) for a in allocs],
    )
    conn.executemany(
        "UPDATE oblpn SET status_id = ?, location_id = ?, tracking_nbr = ? WHERE id = ?",
        [(n.status, n.location, n.tracking, i) for i, n in lpns.items()],
    )
    conn.executemany(
        "UPDATE order_dtl SET alloc_qty = ?, shipped_qty = ? WHERE id = ?",
        [
            (n.allocated, n.allocated if orders[n.order][0] == ORDER_SHIPPED else 0.0, i)
            for i, n in lines.items()
        ],
    )
    per_order_lines: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for line in lines.values():
        per_order_lines[line.order].append((line.ordered, line.allocated))
    per_order_allocs: dict[int, list[_Alloc]] = defaultdict(list)
    for alloc in allocs:
        if alloc.status != ALLOC_CANCELLED:
            per_order_allocs[lines[alloc.line].order].append(alloc)
    statuses = [
        (order_status(per_order_lines[o], per_order_allocs[o]), o)
        for o, (status, _) in orders.items()
        if status not in (ORDER_SHIPPED, ORDER_CANCELLED)
    ]
    conn.executemany("UPDATE order_hdr SET status_id = ? WHERE id = ?", statuses)
    conn.executemany("UPDATE order_dtl SET status_id = ? WHERE order_id = ?", statuses)
