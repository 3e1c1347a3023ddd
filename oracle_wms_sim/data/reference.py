"""The fixed reference rows every simulated warehouse shares: its two companies and three
facilities (with their zones), and the rows of the hand-written code tables.

Builders, the generator, users' eligibility and the write rules (`codes`) all read these, so the
same ids mean the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Company:
    code: str
    name: str
    city: str
    country: str
    tz_minutes: int


@dataclass(frozen=True)
class Facility:
    code: str
    name: str
    company: int
    city: str
    state: str
    zip: str
    country: str
    tz_minutes: int


COMPANIES = (
    Company("C1", "Acme Distribution", "Chicago", "US", -360),
    Company("C2", "Nordic Retail AB", "Amsterdam", "NL", 60),
)
"""Zones are fixed offsets (no DST) so rendered offsets are stable and easy to check."""

FACILITIES = (
    Facility("F1", "Chicago DC", 1, "Chicago", "IL", "60601", "US", -360),
    Facility("F2", "Atlanta DC", 1, "Atlanta", "GA", "30301", "US", -300),
    Facility("F3", "Rotterdam DC", 2, "Rotterdam", "ZH", "3011", "NL", 60),
)

CODE_ROWS: dict[str, tuple[tuple[int, str, str], ...]] = {
    "order_status": (
        (0, "CREATED", "Created"),
        (10, "PARTLY_ALLOCATED", "Partly Allocated"),
        (20, "ALLOCATED", "Allocated"),
        (25, "IN_PICKING", "In Picking"),
        (30, "PICKED", "Picked"),
        (40, "PACKED", "Packed"),
        (50, "LOADED", "Loaded"),
        (90, "SHIPPED", "Shipped"),
        (99, "CANCELLED", "Cancelled"),
    ),
    "order_type": (
        (1, "STD", "Standard order"),
        (2, "RUSH", "Rush order"),
        (3, "ECOM", "E-commerce order"),
        (4, "TRANSFER", "Facility transfer"),
    ),
    "ib_shipment_status": (
        (0, "IN_TRANSIT", "In Transit"),
        (10, "RECEIVING_STARTED", "Receiving Started"),
        (30, "RECEIVED", "Shipment Received"),
        (90, "VERIFIED", "Shipment Verified"),
        (99, "CANCELLED", "Cancelled"),
    ),
    "purchase_order_status": (
        (0, "CREATED", "Created"),
        (10, "IN_RECEIVING", "In Receiving"),
        (30, "RECEIVED", "Received"),
        (90, "CLOSED", "Closed"),
        (99, "CANCELLED", "Cancelled"),
    ),
    "container_status": (
        (0, "IN_TRANSIT", "In Transit"),
        (10, "RECEIVED", "Received"),
        (20, "LOCATED", "Located"),
        (30, "ALLOCATED", "Allocated"),
        (40, "PARTLY_PICKED", "Partly Picked"),
        (50, "PICKED", "Picked"),
        (60, "PACKED", "Packed"),
        (70, "LOADED", "Loaded"),
        (80, "SHIPPED", "Shipped"),
        (95, "CONSUMED", "Consumed"),
        (99, "CANCELLED", "Cancelled"),
    ),
    "location_type": (
        (1, "ACTIVE", "Active pick location"),
        (2, "RESERVE", "Reserve location"),
        (3, "DOCK", "Dock door"),
        (4, "STAGING", "Staging lane"),
        (5, "DROP", "Drop zone"),
    ),
    "allocation_status": (
        (0, "CREATED", "Created"),
        (10, "IN_PICKING", "In Picking"),
        (90, "PICKED", "Picked"),
        (91, "PACKED", "Packed"),
        (99, "CANCELLED", "Cancelled"),
    ),
    "wave_status": (
        (10, "IN_PROGRESS", "In Progress"),
        (90, "COMPLETED", "Completed"),
        (99, "CANCELLED", "Cancelled"),
    ),
    "task_status": (
        (10, "READY", "Ready"),
        (15, "HELD", "Held"),
        (90, "COMPLETED", "Completed"),
        (99, "CANCELLED", "Cancelled"),
    ),
    "history_activity": (
        (1, "RECEIPT", "Container received"),
        (2, "PUTAWAY", "Container located"),
        (3, "ADJUST_PLUS", "Inventory adjustment plus"),
        (4, "ADJUST_MINUS", "Inventory adjustment minus"),
        (5, "CYCLE_COUNT", "Cycle count adjustment"),
        (6, "PICK", "Inventory picked"),
        (7, "PACK", "Inventory packed"),
        (8, "SHIP", "Container shipped"),
        (9, "LOCK", "Inventory locked"),
        (10, "UNLOCK", "Inventory unlocked"),
    ),
}

HISTORY_STATUS: dict[int, int] = {
    1: 10,
    2: 20,
    3: 20,
    4: 20,
    5: 20,
    6: 50,
    7: 60,
    8: 80,
    9: 20,
    10: 20,
}
"""history_activity id -> the container_status id a history row of that activity carries."""

HISTORY_REASONS = ("DMG", "FOUND", "LOST", "CC", "QC", "EXP")


def code_rows(name: str) -> tuple[tuple[int, str, str], ...]:
    """The fixed rows of a code table: hand-written above, else five generic ones."""
    rows = CODE_ROWS.get(name)
    if rows is not None:
        return rows
    label = name.replace("_", " ").capitalize()
    return tuple((n, f"{name.upper()[:22]}_{n}", f"{label} {n}") for n in range(1, 6))
