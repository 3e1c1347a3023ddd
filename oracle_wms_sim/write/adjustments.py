"""Inventory quantity changes: `location/.../update_active_inventory` and `POST inventory/`.

Both change inventory and append one `inventory_history` row in the caller's transaction, so a
reader sees either neither or both. The history row is what makes a write provable afterwards:
it carries the client's `transaction_ref_nbr` (docs/write-api.md, "No idempotency key").
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..data import codes
from ..data.records import fetch, qty_text, quantity
from ..data.store import Store
from ..data.users import User
from ..errors import ApiError
from .validation import FieldError, Problems, decimal_value, integer_value, rejected, text_value

REASON_MAX = 25
REF_MAX = 250
BATCH_MAX = 50
_ADJUST_OPTIONS = frozenset(
    ("item_code", "adjustment_qty", "actual_qty", "reason_code", "batch_nbr", "transaction_ref_nbr")
)
_LOCATION_COLUMNS = ("id", "barcode", "location_type_id", "_fac", "_co")


@dataclass(frozen=True)
class Adjustment:
    """Validated options of `update_active_inventory` (location-independent checks done)."""

    item_code: str
    delta: Decimal | None  # adjustment_qty
    actual: Decimal | None  # actual_qty
    reason_code: str
    batch_nbr: str | None
    transaction_ref_nbr: str | None


@dataclass(frozen=True)
class Adjusted:
    location_id: int
    item_code: str
    orig_qty: Decimal
    curr_qty: Decimal
    inventory_id: int | None
    inventory_history_id: int

    def to_json(self) -> dict[str, Any]:
        return {
            "location_id": self.location_id,
            "item_code": self.item_code,
            "orig_qty": qty_text(self.orig_qty),
            "curr_qty": qty_text(self.curr_qty),
            "inventory_id": self.inventory_id,
            "inventory_history_id": self.inventory_history_id,
        }


def _check(problems: Problems, name: str, check: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return check(*args, **kwargs)
    except FieldError as exc:
        problems[name] = str(exc)
        return None


def _unknown(options: dict[str, Any], known: frozenset[str], problems: Problems) -> None:
    for name in options:
        if name not in known:
            problems[name] = "unknown option"


def parse_adjustment(options: Any) -> Adjustment:
    """400 naming each bad option; nothing depends on the location yet."""
    if not isinstance(options, dict):
        raise rejected("'options' must be an object.", {"options": "must be an object"})
    problems: Problems = {}
    _unknown(options, _ADJUST_OPTIONS, problems)
    item = _check(problems, "item_code", text_value, options.get("item_code"), 25, required=True)
    reason = _check(
        problems, "reason_code", text_value, options.get("reason_code"), REASON_MAX, required=True
    )
    batch = _check(problems, "batch_nbr", text_value, options.get("batch_nbr"), BATCH_MAX)
    ref = _check(
        problems, "transaction_ref_nbr", text_value, options.get("transaction_ref_nbr"), REF_MAX
    )
    given = [k for k in ("adjustment_qty", "actual_qty") if options.get(k) is not None]
    delta = actual = None
    if len(given) != 1:
        problems[given[1] if given else "adjustment_qty"] = (
            "give exactly one of adjustment_qty (a signed delta) or actual_qty (the count)"
        )
    elif given[0] == "adjustment_qty":
        delta = _check(problems, "adjustment_qty", decimal_value, options["adjustment_qty"])
        if delta is not None and delta == 0:
            problems["adjustment_qty"] = "must not be zero"
    else:
        actual = _check(problems, "actual_qty", decimal_value, options["actual_qty"])
        if actual is not None and actual < 0:
            problems["actual_qty"] = "must be at least 0"
    if problems:
        raise rejected("The inventory adjustment is not valid.", problems)
    return Adjustment(str(item), delta, actual, str(reason), batch or None, ref or None)


def adjust(
    store: Store, conn: sqlite3.Connection, location_id: int, adj: Adjustment, user: User
) -> Adjusted:
    """Apply one adjustment in an active location (404 for a location the user cannot see)."""
    location = fetch(conn, store.entity("location"), location_id, user, _LOCATION_COLUMNS)
    if location is None:
        raise ApiError(404, f"No location record with id {location_id}.")
    problems: Problems = {}
    if location["location_type_id"] != codes.ACTIVE_LOCATION:
        problems["location_id"] = f"Location '{location['barcode']}' is not an active location."
    item = item_by_code(conn, adj.item_code, int(location["_co"]))
    if item is None:
        company = _company_code(conn, int(location["_co"]))
        problems["item_code"] = f"Item '{adj.item_code}' does not exist in company {company}."
    if problems:
        raise rejected("The inventory adjustment is not valid.", problems)
    assert item is not None
    current = conn.execute(
        "SELECT id, curr_qty, container_id FROM inventory WHERE location_id = ? AND item_id = ? "
        "AND batch_nbr IS ? ORDER BY container_id IS NOT NULL, id LIMIT 1",
        (location_id, item, adj.batch_nbr),
    ).fetchone()
    orig = quantity(current[1]) if current else Decimal("0.000")
    new = orig + adj.delta if adj.delta is not None else adj.actual
    assert new is not None
    if new < 0:
        raise rejected(
            "The inventory adjustment is not valid.",
            {"adjustment_qty": f"would take the quantity below zero (on hand {qty_text(orig)})"},
        )
    stamp = store.stamps(conn, store.entity("inventory"))[0]
    inventory_id: int | None = int(current[0]) if current else None
    if inventory_id is not None:
        conn.execute(
            "UPDATE inventory SET curr_qty = ?, mod_ts = ?, mod_user = ? WHERE id = ?",
            (float(new), stamp, user.username, inventory_id),
        )
    elif new > 0:
        inventory_id = _new_inventory(
            store,
            conn,
            location,
            item=item,
            qty=new,
            batch_nbr=adj.batch_nbr,
            user=user,
            stamp=stamp,
        )
    if adj.actual is not None:
        activity = codes.CYCLE_COUNT
    else:
        activity = codes.ADJUST_PLUS if new > orig else codes.ADJUST_MINUS
    history_id = write_history(
        store,
        conn,
        location,
        user,
        activity=activity,
        item_code=adj.item_code,
        container_id=current[2] if current else None,
        adj_qty=new - orig,
        orig_qty=orig,
        reason_code=adj.reason_code,
        transaction_ref_nbr=adj.transaction_ref_nbr,
    )
    return Adjusted(location_id, adj.item_code, orig, new, inventory_id, history_id)


def write_history(
    store: Store,
    conn: sqlite3.Connection,
    location: dict[str, Any],
    user: User,
    *,
    activity: int,
    item_code: str,
    container_id: int | None,
    adj_qty: Decimal,
    orig_qty: Decimal,
    reason_code: str,
    transaction_ref_nbr: str | None,
) -> int:
    """Append one inventory_history row; `group_nbr` is `W` + its id, never a generated
    group's (those are `G...`)."""
    ident = store.next_id(conn, "inventory_history")
    container = None
    if container_id is not None:
        found = conn.execute(
            "SELECT container_nbr FROM iblpn WHERE id = ?", (container_id,)
        ).fetchone()
        container = found[0] if found else None
    fac, co = int(location["_fac"]), int(location["_co"])
    store.insert_row(
        conn,
        "inventory_history",
        {
            "id": ident,
            "company_id": co,
            "facility_id": fac,
            "history_activity_id": activity,
            "status_id": codes.history_status(activity),
            "item_code": item_code,
            "container_nbr": container,
            "group_nbr": f"W{ident:09d}",
            "adj_qty": float(adj_qty),
            "orig_qty": float(orig_qty),
            "reason_code": reason_code,
            "transaction_ref_nbr": transaction_ref_nbr,
            "create_ts": store.stamps(conn, store.entity("inventory_history"))[0],
            "create_user": user.username,
            "_fac": fac,
            "_co": co,
        },
    )
    return ident


def _new_inventory(
    store: Store,
    conn: sqlite3.Connection,
    location: dict[str, Any],
    *,
    item: int,
    qty: Decimal,
    batch_nbr: str | None,
    user: User,
    stamp: str,
) -> int:
    ident = store.next_id(conn, "inventory")
    case_qty = conn.execute("SELECT std_case_qty FROM item WHERE id = ?", (item,)).fetchone()[0]
    fac, co = int(location["_fac"]), int(location["_co"])
    store.insert_row(
        conn,
        "inventory",
        {
            "id": ident,
            "company_id": co,
            "facility_id": fac,
            "item_id": item,
            "location_id": int(location["id"]),
            "container_id": None,
            "curr_qty": float(qty),
            "orig_qty": float(qty),
            "pack_qty": 1.0,
            "case_qty": case_qty,
            "batch_nbr": batch_nbr,
            "lock_flg": 0,
            "create_ts": stamp,
            "create_user": user.username,
            "mod_ts": stamp,
            "mod_user": user.username,
            "_fac": fac,
            "_co": co,
        },
    )
    return ident


def item_by_code(conn: sqlite3.Connection, code: str, company: int) -> int | None:
    """The id of the company's item with this code (the lowest when several), else None."""
    row = conn.execute(
        "SELECT id FROM item WHERE code = ? AND _co = ? ORDER BY id LIMIT 1", (code, company)
    ).fetchone()
    return None if row is None else int(row[0])


def _company_code(conn: sqlite3.Connection, company: int) -> str:
    row = conn.execute("SELECT code FROM company WHERE id = ?", (company,)).fetchone()
    return str(row[0]) if row else str(company)


# ---- POST entity/inventory/ ---------------------------------------------------------------
_CREATE_FIELDS = frozenset(("location_id", "item_id", "curr_qty", "batch_number_id"))
_CREATE_OPTIONS = frozenset(("reason_code", "transaction_ref_nbr"))


def _fk(value: Any) -> int:
    """A foreign key as written: an id, or the `{"id": ...}` object that reads return."""
    if isinstance(value, dict) and "id" in value:
        value = value["id"]
    return integer_value(value)


def create_inventory(store: Store, conn: sqlite3.Connection, body: Any, user: User) -> int:
    """A new inventory record (always a new row) and its ADJUST_PLUS history; its id."""
    fields, options = body.get("fields"), body.get("options")
    if not isinstance(fields, dict) or not fields:
        raise rejected("'fields' must be a non-empty object.", {"fields": "required"})
    if not isinstance(options, dict):
        options = {} if options is None else {"options": options}
    problems: Problems = {}
    _unknown(fields, _CREATE_FIELDS, problems)
    _unknown(options, _CREATE_OPTIONS, problems)
    for name in ("location_id", "item_id", "curr_qty"):
        if fields.get(name) is None:
            problems[name] = "is required"
    location_id = _check(problems, "location_id", _fk, fields.get("location_id", 0))
    item_id = _check(problems, "item_id", _fk, fields.get("item_id", 0))
    qty = _check(problems, "curr_qty", decimal_value, fields.get("curr_qty", 1))
    if qty is not None and qty <= 0:
        problems["curr_qty"] = "must be greater than 0"
    reason = _check(
        problems, "reason_code", text_value, options.get("reason_code"), REASON_MAX, required=True
    )
    ref = _check(
        problems, "transaction_ref_nbr", text_value, options.get("transaction_ref_nbr"), REF_MAX
    )
    location = None
    if location_id is not None and "location_id" not in problems:
        location = fetch(conn, store.entity("location"), location_id, user, _LOCATION_COLUMNS)
        if location is None:
            problems["location_id"] = f"Location {location_id} does not exist."
    if location is not None and item_id is not None and "item_id" not in problems:
        found = conn.execute("SELECT _co FROM item WHERE id = ?", (item_id,)).fetchone()
        if found is None or found[0] != location["_co"]:
            company = _company_code(conn, int(location["_co"]))
            problems["item_id"] = f"Item {item_id} does not exist in company {company}."
    batch = _batch_code(conn, fields.get("batch_number_id"), problems)
    if problems:
        raise rejected("The inventory cannot be created.", problems)
    assert location is not None and qty is not None
    stamp = store.stamps(conn, store.entity("inventory"))[0]
    inventory_id = _new_inventory(
        store, conn, location, item=item_id, qty=qty, batch_nbr=batch, user=user, stamp=stamp
    )
    code = conn.execute("SELECT code FROM item WHERE id = ?", (item_id,)).fetchone()[0]
    write_history(
        store,
        conn,
        location,
        user,
        activity=codes.ADJUST_PLUS,
        item_code=str(code),
        container_id=None,
        adj_qty=qty,
        orig_qty=Decimal("0"),
        reason_code=str(reason),
        transaction_ref_nbr=ref or None,
    )
    return inventory_id


def _batch_code(conn: sqlite3.Connection, value: Any, problems: Problems) -> str | None:
    """`batch_number_id` names a batch_number record; the inventory keeps its code."""
    if value is None:
        return None
    ident = _check(problems, "batch_number_id", _fk, value)
    if ident is None:
        return None
    row = conn.execute("SELECT code FROM batch_number WHERE id = ?", (ident,)).fetchone()
    if row is None:
        problems["batch_number_id"] = f"Batch number {ident} does not exist."
        return None
    return str(row[0])
