"""What waves, picks, ship and receive share: facility and company context, stamped updates and
inserts, movement history rows, and the order status that follows from allocations.

Every change goes through `touch` or `insert` so it stamps `mod_ts` (and `create_ts` on insert)
after the entity's newest stamp (docs/simulator.md, "Simulated life cycle"); every movement
writes one inventory_history row shaped like the other written rows (`group_nbr` `W` + id).
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from ..data import codes
from ..data.records import quantity
from ..data.store import Store
from ..data.users import User
from .validation import Problems

ORDER_CREATED = codes.code_id("order_status", "CREATED")  # 0
ORDER_PARTLY_ALLOCATED = codes.code_id("order_status", "PARTLY_ALLOCATED")  # 10
ORDER_ALLOCATED = codes.code_id("order_status", "ALLOCATED")  # 20
ORDER_IN_PICKING = codes.code_id("order_status", "IN_PICKING")  # 25
ORDER_PICKED = codes.code_id("order_status", "PICKED")  # 30
ORDER_PACKED = codes.code_id("order_status", "PACKED")  # 40
ORDER_SHIPPED = codes.code_id("order_status", "SHIPPED")  # 90
ALLOC_CREATED = codes.code_id("allocation_status", "CREATED")  # 0
ALLOC_IN_PICKING = codes.code_id("allocation_status", "IN_PICKING")  # 10
ALLOC_PICKED = codes.code_id("allocation_status", "PICKED")  # 90
ALLOC_PACKED = codes.code_id("allocation_status", "PACKED")  # 91
ALLOC_CANCELLED = codes.code_id("allocation_status", "CANCELLED")  # 99
ALLOC_OPEN = (ALLOC_CREATED, ALLOC_IN_PICKING)
"""Allocations that still reserve inventory (their `alloc_qty - packed_qty`)."""
WAVE_IN_PROGRESS = codes.code_id("wave_status", "IN_PROGRESS")  # 10
WAVE_COMPLETED = codes.code_id("wave_status", "COMPLETED")  # 90
WAVE_CANCELLED = codes.code_id("wave_status", "CANCELLED")  # 99
TASK_READY = codes.code_id("task_status", "READY")  # 10
TASK_COMPLETED = codes.code_id("task_status", "COMPLETED")  # 90
TASK_CANCELLED = codes.code_id("task_status", "CANCELLED")  # 99
RECEIPT = codes.code_id("history_activity", "RECEIPT")  # 1
PICK = codes.code_id("history_activity", "PICK")  # 6
PACK = codes.code_id("history_activity", "PACK")  # 7
SHIP = codes.code_id("history_activity", "SHIP")  # 8

FACILITY_KEYS = ("facility_id", "facility_id__code")
"""The two ways a payload names its facility (by id or by code)."""


def one_of(source: dict[str, Any], names: tuple[str, str], problems: Problems, where: str) -> Any:
    """(name, value) of the one of `names` given in `source`, None when neither; both given is
    a problem named `where` + the second name."""
    given = [n for n in names if source.get(n) not in (None, "")]
    if len(given) > 1:
        problems[f"{where}{given[1]}"] = f"give only one of {' or '.join(names)}"
    return (given[0], source[given[0]]) if given else None


def required_one_of(
    source: dict[str, Any], names: tuple[str, str], problems: Problems, where: str
) -> Any:
    """`one_of`, with neither given a problem named `where` + the last name."""
    pair = one_of(source, names, problems, where)
    if pair is None:
        problems[f"{where}{names[-1]}"] = f"give one of {' or '.join(names)}"
    return pair


def named_facility(
    conn: sqlite3.Connection,
    user: User,
    source: dict[str, Any],
    problems: Problems,
    where: str,
    *,
    default_code: str | None = None,
) -> int | None:
    """The id of the facility `source` names by `facility_id` or `facility_id__code` (else
    `default_code`, a user's default facility), within the user's facilities; None with a
    problem under `where` + the key when it names none or another's."""
    pair = one_of(source, FACILITY_KEYS, problems, where)
    if pair is None and default_code is not None:
        pair = ("facility_id__code", default_code)
    if pair is None:
        problems[f"{where}facility_id__code"] = "give one of facility_id or facility_id__code"
    return facility_of(conn, user, pair, problems, where)


def facility_of(
    conn: sqlite3.Connection, user: User, pair: Any, problems: Problems, where: str
) -> int | None:
    """The id of the facility named by (`facility_id` | `facility_id__code`, value) within the
    user's facilities; a problem under `where` + the key otherwise."""
    if pair is None:
        return None
    name, value = pair
    column = "code" if name.endswith("__code") else "id"
    row = conn.execute(f"SELECT id FROM facility WHERE {column} = ?", (value,)).fetchone()
    if row is None or (user.facility_ids is not None and int(row[0]) not in user.facility_ids):
        problems[f"{where}{name}"] = f"No facility '{value}' for this user."
        return None
    return int(row[0])


def company_of(
    conn: sqlite3.Connection, user: User, pair: Any, problems: Problems, where: str
) -> int | None:
    """The id of the company named by (`company_id` | `company_id__code` | `company_code`,
    value) within the user's companies; a problem otherwise."""
    if pair is None:
        return None
    name, value = pair
    column = "id" if name == "company_id" else "code"
    row = conn.execute(f"SELECT id FROM company WHERE {column} = ?", (value,)).fetchone()
    if row is None or (user.company_ids is not None and int(row[0]) not in user.company_ids):
        problems[f"{where}{name}"] = f"No company '{value}' for this user."
        return None
    return int(row[0])


def facility_company(conn: sqlite3.Connection, facility: int) -> int:
    return int(
        conn.execute("SELECT company_id FROM facility WHERE id = ?", (facility,)).fetchone()[0]
    )


def stamp(store: Store, conn: sqlite3.Connection, table: str) -> str:
    """A new `mod_ts` for `table`: the wall clock, after the table's newest stamp; one per
    table and write transaction, so the rows one operation changes share it (as a WMS job's
    do), and a wave of thousands of rows does not read the clock thousands of times."""
    key = ("mod_ts", table)
    if key not in store.memo:
        store.memo[key] = store.stamps(conn, store.entity(table))[0]
    return str(store.memo[key])


def touch(
    store: Store,
    conn: sqlite3.Connection,
    table: str,
    ident: int,
    user: User,
    **values: Any,
) -> None:
    """UPDATE one record's `values`, stamping `mod_ts`/`mod_user`."""
    sets = ", ".join(f"{name} = ?" for name in values)
    conn.execute(
        f"UPDATE {table} SET {sets}{', ' if sets else ''}mod_ts = ?, mod_user = ? WHERE id = ?",
        (*values.values(), stamp(store, conn, table), user.username, ident),
    )


def insert(
    store: Store, conn: sqlite3.Connection, table: str, user: User, row: dict[str, Any]
) -> int:
    """Insert one audited record (`row` without id and audit fields, with `_fac`/`_co`)."""
    ident = store.next_id(conn, table)
    now = stamp(store, conn, table)
    full = {
        "id": ident,
        **row,
        "create_ts": now,
        "create_user": user.username,
        "mod_ts": now,
        "mod_user": user.username,
    }
    store.insert_row(conn, table, full)
    return ident


def history(
    store: Store,
    conn: sqlite3.Connection,
    user: User,
    *,
    facility: int,
    activity: int,
    item_id: int,
    container_nbr: str | None,
    adj_qty: Decimal,
    orig_qty: Decimal,
    ref: str | None,
) -> int:
    """Append one movement row to inventory_history (activity, the container status it
    implies, the item's code and alternate code, `group_nbr` `W` + its id)."""
    ident = store.next_id(conn, "inventory_history")
    company = facility_company(conn, facility)
    store.insert_row(
        conn,
        "inventory_history",
        {
            "id": ident,
            "company_id": company,
            "facility_id": facility,
            "history_activity_id": activity,
            "status_id": codes.history_status(activity),
            "item_code": item_code(conn, item_id),
            "item_alternate_code": None,
            "container_nbr": container_nbr,
            "group_nbr": f"W{ident:09d}",
            "adj_qty": float(adj_qty),
            "orig_qty": float(orig_qty),
            "reason_code": None,
            "transaction_ref_nbr": ref,
            "create_ts": store.stamps(conn, store.entity("inventory_history"))[0],
            "create_user": user.username,
            "_fac": facility,
            "_co": company,
        },
    )
    return ident


def item_code(conn: sqlite3.Connection, item_id: int) -> str:
    return str(conn.execute("SELECT code FROM item WHERE id = ?", (item_id,)).fetchone()[0])


def _order_status(conn: sqlite3.Connection, order: int) -> int | None:
    """The status the order's lines and live allocations imply, None to leave it alone."""
    lines = conn.execute(
        "SELECT ord_qty, alloc_qty, shipped_qty FROM order_dtl WHERE order_id = ?", (order,)
    ).fetchall()
    allocated = [quantity(a) for _, a, _ in lines]
    if sum(allocated) > 0 and all(
        quantity(s) >= quantity(a) for _, a, s in lines if quantity(a) > 0
    ):
        return ORDER_SHIPPED
    allocs = conn.execute(
        "SELECT a.alloc_qty, a.packed_qty, a.status_id FROM allocation a "
        "JOIN order_dtl d ON d.id = a.order_dtl_id WHERE d.order_id = ? AND a.status_id != ?",
        (order, ALLOC_CANCELLED),
    ).fetchall()
    if any(quantity(p) > 0 for _, p, _ in allocs):
        if all(int(s) == ALLOC_PACKED for _, _, s in allocs):
            return ORDER_PACKED
        if all(quantity(p) >= quantity(a) for a, p, _ in allocs):
            return ORDER_PICKED
        return ORDER_IN_PICKING
    if lines and all(quantity(a) >= quantity(o) for o, a, _ in lines):
        return ORDER_ALLOCATED
    if sum(allocated) > 0:
        return ORDER_PARTLY_ALLOCATED
    return ORDER_CREATED


def refresh_order(store: Store, conn: sqlite3.Connection, order: int, user: User) -> int:
    """Set the order's (and its lines') status to what its quantities imply; a Shipped or
    Cancelled order is left alone. Stamps only what changes. Returns the status."""
    current = int(
        conn.execute("SELECT status_id FROM order_hdr WHERE id = ?", (order,)).fetchone()[0]
    )
    if current in codes.ORDER_CLOSED:
        return current
    status = _order_status(conn, order)
    if status is None or status == current:
        return current
    touch(store, conn, "order_hdr", order, user, status_id=status)
    for (line,) in conn.execute(
        "SELECT id FROM order_dtl WHERE order_id = ? AND status_id != ?", (order, status)
    ).fetchall():
        touch(store, conn, "order_dtl", int(line), user, status_id=status)
    return status
