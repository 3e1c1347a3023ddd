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
ORDER_OPEN = frozenset(
    ident for ident, _, _ in CODE_ROWS["order_status"] if ident < code_id("order_status", "SHIPPED")
)
"""Oracle (25B "PATCH Order"): an order changes only while its status is below Shipped."""

SHIPMENT_OPEN = frozenset(
    code_id("ib_shipment_status", code) for code in ("IN_TRANSIT", "RECEIVING_STARTED", "RECEIVED")
)
"""The only statuses in which an ib_shipment (and its lines) may be changed through PATCH, as
Oracle's "IB Shipment" page lists them: In Transit, Receiving Started, Receiving Complete (our
`RECEIVED`, "Shipment Received"). Every other status (Verified, Cancelled, and Locked for
Receiving or Verification in Progress where a WMS has them) refuses changes."""
RECEIVING_STARTED = frozenset(
    code_id("ib_shipment_status", code) for code in ("RECEIVING_STARTED", "RECEIVED")
)
"""Detail lines change in these only where the shipment type allows updating after receiving
started (the simulator's shipment types never do)."""

LPN_SHIPPED = code_id("container_status", "SHIPPED")  # 80
LPN_CANCELLED = code_id("container_status", "CANCELLED")  # 99
LPN_SHIPPABLE = frozenset(
    (code_id("container_status", "PACKED"), code_id("container_status", "LOADED"))
)
"""Ship OBLPN ships only Packed (60) or Loaded (70) LPNs."""
ACTIVE_LOCATION = code_id("location_type", "ACTIVE")  # 1

ADJUST_PLUS = code_id("history_activity", "ADJUST_PLUS")  # 3
ADJUST_MINUS = code_id("history_activity", "ADJUST_MINUS")  # 4
CYCLE_COUNT = code_id("history_activity", "CYCLE_COUNT")  # 5


def history_status(activity: int) -> int:
    """The container_status id a history row of this activity carries (20 Located for
    adjustments and cycle counts)."""
    return HISTORY_STATUS[activity]
