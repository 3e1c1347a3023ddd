"""Straight reads of the simulated warehouse for tests: business keys in, plain values out.

Tests of a writer need to know what exists before they write (a location with stock, an open
order, unshipped LPNs) and what the write did afterwards (quantities, history rows), without
going through the client under test. Every pick is deterministic: lowest id first, `nth` skips.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from ..data import codes
from ..data.records import quantity
from ..data.timefmt import from_store


def _facility(conn: sqlite3.Connection, code: str) -> tuple[int, int]:
    row = conn.execute("SELECT id, company_id FROM facility WHERE code = ?", (code,)).fetchone()
    if row is None:
        raise LookupError(f"no facility {code!r}")
    return int(row[0]), int(row[1])


def inventory_qty(
    conn: sqlite3.Connection, facility_code: str, location_barcode: str, item_code: str
) -> Decimal | None:
    fac, co = _facility(conn, facility_code)
    row = conn.execute(
        "SELECT count(i.id), sum(i.curr_qty) FROM inventory i "
        "JOIN location l ON l.id = i.location_id JOIN item t ON t.id = i.item_id "
        "WHERE l.barcode = ? AND l._fac = ? AND t.code = ? AND t._co = ?",
        (location_barcode, fac, item_code, co),
    ).fetchone()
    return quantity(row[1]) if row[0] else None


def history_with_ref(conn: sqlite3.Connection, prefix: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT h.id, f.code, a.code, h.status_id, h.item_code, h.container_nbr, h.group_nbr, "
        "h.adj_qty, h.orig_qty, h.reason_code, h.transaction_ref_nbr, h.create_ts, h.create_user "
        "FROM inventory_history h JOIN facility f ON f.id = h.facility_id "
        "JOIN history_activity a ON a.id = h.history_activity_id "
        "WHERE substr(h.transaction_ref_nbr, 1, length(?)) = ? ORDER BY h.id",
        (prefix, prefix),
    ).fetchall()
    return [
        {
            "id": r[0],
            "facility_code": r[1],
            "history_activity": r[2],
            "status_id": r[3],
            "item_code": r[4],
            "container_nbr": r[5],
            "group_nbr": r[6],
            "adj_qty": quantity(r[7]),
            "orig_qty": quantity(r[8]),
            "reason_code": r[9],
            "transaction_ref_nbr": r[10],
            "create_ts": from_store(r[11]),
            "create_user": r[12],
        }
        for r in rows
    ]


def active_location_with_inventory(
    conn: sqlite3.Connection, facility_code: str, nth: int = 0
) -> tuple[str, str, Decimal]:
    """An active location holding exactly one inventory row of an item (no batch, no LPN,
    positive quantity), so a delta or a count on (location, item) means one thing."""
    fac, _ = _facility(conn, facility_code)
    row = conn.execute(
        "SELECT l.barcode, t.code, i.curr_qty FROM inventory i "
        "JOIN location l ON l.id = i.location_id JOIN item t ON t.id = i.item_id "
        "WHERE l._fac = ? AND l.location_type_id = ? AND i.batch_nbr IS NULL "
        "AND i.container_id IS NULL AND i.curr_qty > 0 AND NOT EXISTS (SELECT 1 FROM inventory o "
        "WHERE o.location_id = i.location_id AND o.item_id = i.item_id AND o.id != i.id) "
        "ORDER BY i.id LIMIT 1 OFFSET ?",
        (fac, codes.ACTIVE_LOCATION, nth),
    ).fetchone()
    if row is None:
        raise LookupError(f"no active location with inventory in {facility_code}")
    return str(row[0]), str(row[1]), quantity(row[2])


def reserve_location(conn: sqlite3.Connection, facility_code: str, nth: int = 0) -> str:
    fac, _ = _facility(conn, facility_code)
    row = conn.execute(
        "SELECT barcode FROM location WHERE _fac = ? AND location_type_id != ? "
        "ORDER BY id LIMIT 1 OFFSET ?",
        (fac, codes.ACTIVE_LOCATION, nth),
    ).fetchone()
    if row is None:
        raise LookupError(f"no non-active location in {facility_code}")
    return str(row[0])


def order_with_lines(
    conn: sqlite3.Connection, facility_code: str, status: str = "open", nth: int = 0
) -> tuple[str, list[int]]:
    """An order with lines: `open` (neither Shipped nor Cancelled) or `shipped`."""
    fac, _ = _facility(conn, facility_code)
    closed = sorted(codes.ORDER_CLOSED)
    if status == "open":
        condition = f"o.status_id NOT IN ({', '.join('?' * len(closed))})"
        args: list[Any] = list(closed)
    elif status == "shipped":
        condition, args = "o.status_id = ?", [codes.code_id("order_status", "SHIPPED")]
    else:
        raise ValueError("status must be 'open' or 'shipped'")
    row = conn.execute(
        f"SELECT o.id, o.order_nbr FROM order_hdr o WHERE o._fac = ? AND {condition} "
        "AND EXISTS (SELECT 1 FROM order_dtl d WHERE d.order_id = o.id) "
        "ORDER BY o.id LIMIT 1 OFFSET ?",
        (fac, *args, nth),
    ).fetchone()
    if row is None:
        raise LookupError(f"no {status} order with lines in {facility_code}")
    lines = conn.execute(
        "SELECT seq_nbr FROM order_dtl WHERE order_id = ? ORDER BY seq_nbr", (row[0],)
    ).fetchall()
    return str(row[1]), [int(r[0]) for r in lines]


def oblpn_numbers(
    conn: sqlite3.Connection, facility_code: str, shipped: bool, count: int
) -> list[str]:
    """LPN numbers that are Shipped, or can be shipped (Packed or Loaded)."""
    fac, _ = _facility(conn, facility_code)
    if shipped:
        condition, args = "status_id = ?", [codes.LPN_SHIPPED]
    else:
        condition, args = "status_id IN (?, ?)", sorted(codes.LPN_SHIPPABLE)
    rows = conn.execute(
        f"SELECT container_nbr FROM oblpn WHERE _fac = ? AND {condition} ORDER BY id LIMIT ?",
        (fac, *args, count),
    ).fetchall()
    if len(rows) < count:
        raise LookupError(f"only {len(rows)} such LPNs in {facility_code}")
    return [str(r[0]) for r in rows]
