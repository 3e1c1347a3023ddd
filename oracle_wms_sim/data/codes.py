"""Ids of the code-table rows that the write rules depend on, looked up by code.

The fixed rows live in `reference.CODE_ROWS`; naming them here by code (not by number) keeps the
rules readable and ties them to the same rows that reads serve.
"""

from __future__ import annotations

from .reference import CODE_ROWS, HISTORY_STATUS


def code_id(table: str, code: str) -> int:
    for ident, row_code, _ in CODE_ROWS[table]:
        if row_code == code:
            return ident
    raise KeyError(f"{table} has no code {code}")


def code_label(table: str, ident: int) -> str:
    """A code row's code as a word for messages: `SHIPPED` -> `Shipped`."""
    for row_id, code, _ in CODE_ROWS[table]:
        if row_id == ident:
            return code.replace("_", " ").capitalize()
    return str(ident)


ORDER_CLOSED = frozenset((code_id("order_status", "SHIPPED"), code_id("order_status", "CANCELLED")))
"""order_hdr (and its lines) cannot be changed in these statuses: 90 Shipped, 99 Cancelled."""

SHIPMENT_CLOSED = frozenset(
    (code_id("ib_shipment_status", "VERIFIED"), code_id("ib_shipment_status", "CANCELLED"))
)
"""ib_shipment (and its lines) cannot be changed in these: 90 Shipment Verified, 99 Cancelled."""

LPN_SHIPPED = code_id("container_status", "SHIPPED")  # 80
LPN_CANCELLED = code_id("container_status", "CANCELLED")  # 99
ACTIVE_LOCATION = code_id("location_type", "ACTIVE")  # 1

ADJUST_PLUS = code_id("history_activity", "ADJUST_PLUS")  # 3
ADJUST_MINUS = code_id("history_activity", "ADJUST_MINUS")  # 4
CYCLE_COUNT = code_id("history_activity", "CYCLE_COUNT")  # 5


def history_status(activity: int) -> int:
    """The container_status id a history row of this activity carries (20 Located for
    adjustments and cycle counts)."""
    return HISTORY_STATUS[activity]
