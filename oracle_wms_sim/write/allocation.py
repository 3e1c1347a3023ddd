"""Wave allocation: which order lines a wave takes, and the inventory each line reserves.

The simulator's own model (docs/api-contract.md L7; Oracle documents no allocation rules):
a template selects the open lines of its facility's orders in status Created or Partly
Allocated (and of its order type when it names one), by order priority, order id, line number;
each line takes unlocked inventory of its item held in ACTIVE locations of the facility
outside any container, locations by `pick_sequence` then id. What a location can still give is
its `curr_qty` less the open quantity (`alloc_qty - packed_qty`) of the Created/In Picking
allocations from it, so two waves never reserve the same units. Each (line, location) gets one
allocation (Created) and one task (Ready); the line's `alloc_qty` rises and the order's status
follows (`fulfilment.refresh_order`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal

from ..data import codes
from ..data.records import quantity
from ..data.store import Store
from ..data.users import User
from . import fulfilment as ff


@dataclass(frozen=True)
class Line:
    """An order line a wave may allocate: `open_qty` = `ord_qty - alloc_qty` (> 0)."""

    id: int
    order_id: int
    item_id: int
    open_qty: Decimal


_LINE_SQL = (
    "SELECT d.id, d.order_id, d.item_id, d.ord_qty, d.alloc_qty FROM order_dtl d "
    "JOIN order_hdr h ON h.id = d.order_id "
)


def _lines(rows: list[tuple[int, int, int, float, float]]) -> list[Line]:
    found = []
    for ident, order, item, ordered, allocated in rows:
        open_qty = quantity(ordered) - quantity(allocated)
        if open_qty > 0:
            found.append(Line(int(ident), int(order), int(item), open_qty))
    return found


def template_lines(conn: sqlite3.Connection, facility: int, order_type: int | None) -> list[Line]:
    """The open lines a template of `facility` (and `order_type`, when set) selects."""
    kind = "" if order_type is None else " AND h.order_type_id = ?"
    rows = conn.execute(
        f"{_LINE_SQL}WHERE h.facility_id = ? AND h.status_id IN (?, ?){kind} "
        "ORDER BY h.priority, h.id, d.seq_nbr",
        (
            facility,
            ff.ORDER_CREATED,
            ff.ORDER_PARTLY_ALLOCATED,
            *(() if order_type is None else (order_type,)),
        ),
    ).fetchall()
    return _lines(rows)


def listed_lines(conn: sqlite3.Connection, line_ids: list[int]) -> list[Line]:
    """The lines of a manual wave, in the order a template would take them."""
    if not line_ids:
        return []
    marks = ", ".join("?" * len(line_ids))
    rows = conn.execute(
        f"{_LINE_SQL}WHERE d.id IN ({marks}) ORDER BY h.priority, h.id, d.seq_nbr", line_ids
    ).fetchall()
    return _lines(rows)


def available(conn: sqlite3.Connection, facility: int, item: int) -> list[tuple[int, Decimal]]:
    """(location id, quantity still free) of the item's active locations in the facility, in
    allocation order; locations with nothing free are left out."""
    held = conn.execute(
        "SELECT l.id, sum(i.curr_qty) FROM inventory i JOIN location l ON l.id = i.location_id "
        "WHERE i.facility_id = ? AND i.item_id = ? AND i.container_id IS NULL "
        "AND i.lock_flg = 0 AND l.location_type_id = ? "
        "GROUP BY l.id ORDER BY l.pick_sequence IS NULL, l.pick_sequence, l.id",
        (facility, item, codes.ACTIVE_LOCATION),
    ).fetchall()
    reserved = dict(
        conn.execute(
            "SELECT from_location_id, sum(alloc_qty - packed_qty) FROM allocation "
            f"WHERE facility_id = ? AND item_id = ? AND status_id IN ({', '.join('?' * 2)}) "
            "GROUP BY from_location_id",
            (facility, item, *ff.ALLOC_OPEN),
        ).fetchall()
    )
    free = []
    for location, on_hand in held:
        left = quantity(on_hand) - quantity(reserved.get(location, 0.0))
        if left > 0:
            free.append((int(location), left))
    return free


def allocate(
    store: Store, conn: sqlite3.Connection, wave: dict[str, int], lines: list[Line], user: User
) -> Decimal:
    """Allocate `lines` for the wave (`id`, `facility_id`, `company_id`); the total allocated."""
    total = Decimal(0)
    orders: list[int] = []
    for line in lines:
        need = line.open_qty
        taken = Decimal(0)
        for location, free in available(conn, wave["facility_id"], line.item_id):
            if need <= 0:
                break
            take = min(need, free)
            task = ff.insert(
                store,
                conn,
                "task",
                user,
                {
                    "company_id": wave["company_id"],
                    "facility_id": wave["facility_id"],
                    "task_nbr": f"TSK{store.next_id(conn, 'task'):07d}",
                    "wave_id": wave["id"],
                    "status_id": ff.TASK_READY,
                    "cust_field_1": None,
                    "_fac": wave["facility_id"],
                    "_co": wave["company_id"],
                },
            )
            ff.insert(
                store,
                conn,
                "allocation",
                user,
                {
                    "facility_id": wave["facility_id"],
                    "order_dtl_id": line.id,
                    "item_id": line.item_id,
                    "from_location_id": location,
                    "to_container_id": None,
                    "alloc_qty": float(take),
                    "packed_qty": 0.0,
                    "status_id": ff.ALLOC_CREATED,
                    "wave_id": wave["id"],
                    "task_id": task,
                    "_fac": wave["facility_id"],
                    "_co": wave["company_id"],
                },
            )
            need -= take
            taken += take
        if taken > 0:
            allocated = conn.execute(
                "SELECT alloc_qty FROM order_dtl WHERE id = ?", (line.id,)
            ).fetchone()[0]
            ff.touch(
                store,
                conn,
                "order_dtl",
                line.id,
                user,
                alloc_qty=float(quantity(allocated) + taken),
            )
            total += taken
            if line.order_id not in orders:
                orders.append(line.order_id)
    for order in orders:
        ff.refresh_order(store, conn, order, user)
    return total


def release(
    store: Store, conn: sqlite3.Connection, wave_id: int, user: User, *, picked_too: bool
) -> None:
    """Undo a wave's allocations: each open one gives back its unpicked quantity (cancelled
    when nothing of it was picked), its task is cancelled, its line's `alloc_qty` drops, and
    the orders' statuses follow. `picked_too`: allocations with picks are reduced to what was
    picked instead of refusing (the caller checked)."""
    rows = conn.execute(
        "SELECT a.id, a.order_dtl_id, a.alloc_qty, a.packed_qty, a.task_id, d.order_id "
        "FROM allocation a JOIN order_dtl d ON d.id = a.order_dtl_id "
        f"WHERE a.wave_id = ? AND a.status_id IN ({', '.join('?' * 2)}) ORDER BY a.id",
        (wave_id, *ff.ALLOC_OPEN),
    ).fetchall()
    orders: list[int] = []
    for ident, line, allocated, packed, task, order in rows:
        picked = quantity(packed)
        if picked > 0 and not picked_too:
            continue
        give_back = quantity(allocated) - picked
        status = ff.ALLOC_CANCELLED if picked == 0 else ff.ALLOC_PICKED
        ff.touch(
            store, conn, "allocation", int(ident), user, alloc_qty=float(picked), status_id=status
        )
        if task is not None:
            task_status = ff.TASK_CANCELLED if picked == 0 else ff.TASK_COMPLETED
            ff.touch(store, conn, "task", int(task), user, status_id=task_status)
        now = conn.execute("SELECT alloc_qty FROM order_dtl WHERE id = ?", (line,)).fetchone()[0]
        left = max(Decimal(0), quantity(now) - give_back)
        ff.touch(store, conn, "order_dtl", int(line), user, alloc_qty=float(left))
        if int(order) not in orders:
            orders.append(int(order))
    for order in orders:
        ff.refresh_order(store, conn, order, user)
