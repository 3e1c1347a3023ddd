"""`PATCH entity/{name}/{id}/`: which fields a client may change, and when.

The writable-field table and the status rules are those of docs/write-api.md. Values are checked
against the entity's own catalogue (type, `max_length`, null), so a field added at run time with
a custom-field name is writable like the others.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..data import codes
from ..data.model import Entity
from ..data.records import fetch
from ..data.store import Store
from ..data.users import User
from ..errors import ApiError
from .validation import FieldError, Problems, rejected, stored_value

CUSTOM_FIELD = re.compile(r"^cust_(field|date|number|decimal|short_text|long_text)_\d+$")
INVENTORY_ATTRIBUTES = frozenset(f"inv_attr_{letter}" for letter in "abcdefghijklmno")
DIMENSIONS = frozenset(("length", "width", "height", "weight", "volume"))
WRITABLE: dict[str, frozenset[str]] = {
    "order_hdr": frozenset(
        (
            "priority",
            "ref_nbr",
            "spl_instr",
            "sales_channel",
            "gift_msg",
            "req_ship_date",
            "start_ship_date",
            "stop_ship_date",
        )
    ),
    "ib_shipment_dtl": INVENTORY_ATTRIBUTES,
    "oblpn": DIMENSIONS,
    "iblpn": DIMENSIONS,
    "container": DIMENSIONS,
}
"""Entity -> writable fields Oracle documents, besides the custom fields every entity allows
(order_hdr: the 25B "PATCH Order" parameter list; ib_shipment_dtl: the IB Shipment Detail field
table; containers: "Container, IBLPN, and OBLPN"). A name the entity's catalogue lacks stays
unknown (400 naming it)."""
PATCHABLE = frozenset(
    (
        "active_location",
        "appointment",
        "company",
        "container",
        "facility",
        "ib_shipment",
        "ib_shipment_dtl",
        "iblpn",
        "item_characteristics",
        "load",
        "location",
        "oblpn",
        "order_dtl",
        "order_hdr",
        "purchase_order_dtl",
        "purchase_order_hdr",
        "reserve_location",
        "vendor",
        "work_order_hdr",
        "work_order_kit",
    )
)
"""The entities PATCH works on. REST 23C "Updating a Resource (PATCH)": "a limited number of
entity resources", not listed there; these 20 are those the practitioner's OpenAPI in
`fribeiro1/oraclewmscloudutils` (2020) declares PATCH on (not `item`). Any other entity answers
405 (docs/api-contract.md H1)."""
UNDOCUMENTED: dict[str, frozenset[str]] = {
    "order_dtl": frozenset(("ord_qty",)),
    "ib_shipment": frozenset(("exp_arrival_date", "ref_nbr")),
    "ib_shipment_dtl": frozenset(("shipped_qty",)),
}
"""Fields the simulator also lets PATCH change although no Oracle page we could read lists them
(docs/api-contract.md H4-H6). The target sends them only when told to, and then re-reads the
record to prove the WMS applied them."""
NON_NEGATIVE = frozenset((("order_dtl", "ord_qty"), ("ib_shipment_dtl", "shipped_qty")))


@dataclass(frozen=True)
class StatusRule:
    """Allow changes only while the owning header is in one of `open_statuses`."""

    header: str  # the entity that carries the status
    link: str | None  # the patched entity's foreign key to it; None: the record itself
    open_statuses: frozenset[int]
    status_table: str
    noun: str
    why: str = "it can no longer be changed."


RULES: dict[str, StatusRule] = {
    "order_hdr": StatusRule("order_hdr", None, codes.ORDER_OPEN, "order_status", "Order"),
    "order_dtl": StatusRule("order_hdr", "order_id", codes.ORDER_OPEN, "order_status", "Order"),
    "ib_shipment": StatusRule(
        "ib_shipment", None, codes.SHIPMENT_OPEN, "ib_shipment_status", "Shipment"
    ),
    "ib_shipment_dtl": StatusRule(
        "ib_shipment",
        "shipment_id",
        codes.SHIPMENT_OPEN - codes.RECEIVING_STARTED,
        "ib_shipment_status",
        "Shipment",
        "its lines can no longer be changed (its shipment type does not allow updating the ASN "
        "after receiving started).",
    ),
}
"""Oracle: orders change only below Shipped (25B); ib_shipment only In Transit, Receiving
Started or Receiving Complete; its lines after receiving started only with the shipment type's
flag, which no simulated shipment type has."""


def is_writable(entity: str, name: str) -> bool:
    return (
        name in WRITABLE.get(entity, frozenset())
        or name in UNDOCUMENTED.get(entity, frozenset())
        or bool(CUSTOM_FIELD.match(name))
    )


def check_fields(entity: Entity, fields: Any, user: User) -> dict[str, Any]:
    """The stored values of `fields`; 400 naming every unknown, read-only or invalid field."""
    if not isinstance(fields, dict) or not fields:
        raise rejected("'fields' must be a non-empty object.", {"fields": "required"})
    problems: Problems = {}
    values: dict[str, Any] = {}
    for name, value in fields.items():
        f = entity.by_name.get(name)
        if f is None or not f.stored:
            problems[name] = f"{entity.name} has no field '{name}'."
            continue
        if not is_writable(entity.name, name):
            problems[name] = f"Field '{name}' of {entity.name} is not writable."
            continue
        try:
            values[name] = stored_value(f, value, user.naive_offset)
        except FieldError as exc:
            problems[name] = str(exc)
            continue
        if (entity.name, name) in NON_NEGATIVE and values[name] is not None and values[name] < 0:
            problems[name] = "must be at least 0"
    if problems:
        raise rejected(f"The {entity.name} update is not valid.", problems)
    return values


def check_status(conn: sqlite3.Connection, entity: Entity, ident: int) -> None:
    """400 on `status_id` when the record (or its header) is closed for changes."""
    rule = RULES.get(entity.name)
    if rule is None:
        return
    header = ident
    if rule.link is not None:
        header = conn.execute(
            f"SELECT {rule.link} FROM {entity.name} WHERE id = ?", (ident,)
        ).fetchone()[0]
    key_column = "order_nbr" if rule.header == "order_hdr" else "shipment_nbr"
    row = conn.execute(
        f"SELECT status_id, {key_column} FROM {rule.header} WHERE id = ?", (header,)
    ).fetchone()
    if row is not None and row[0] not in rule.open_statuses:
        label = codes.code_label(rule.status_table, int(row[0]))
        message = f"{rule.noun} {row[1]} is {label}: {rule.why}"
        raise rejected(message, {"status_id": message})


def patch(
    store: Store,
    conn: sqlite3.Connection,
    entity: Entity,
    ident: int,
    *,
    fields: Any,
    user: User,
    undocumented: bool = True,
) -> None:
    """Check, then write the fields and stamp `mod_ts`/`mod_user` (when the entity has them).
    `undocumented` False: the `UNDOCUMENTED` fields are accepted but left unchanged."""
    if fetch(conn, entity, ident, user, ("id",)) is None:
        raise ApiError(404, f"No {entity.name} record with id {ident}.")
    values = check_fields(entity, fields, user)
    check_status(conn, entity, ident)
    if not undocumented:
        for name in UNDOCUMENTED.get(entity.name, frozenset()):
            values.pop(name, None)
    if entity.tracks_changes:
        values["mod_ts"] = store.stamps(conn, entity)[0]
        values["mod_user"] = user.username
    assignments = ", ".join(f"{name} = ?" for name in values)
    conn.execute(f"UPDATE {entity.name} SET {assignments} WHERE id = ?", [*values.values(), ident])
