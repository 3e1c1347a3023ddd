"""Inventory quantity changes: `location/.../update_active_inventory` and `POST inventory/`.

Both change inventory and append one `inventory_history` row in the caller's transaction, so a
reader sees either neither or both. The history row is what makes a write provable afterwards:
it carries the client's `transaction_ref_nbr` (docs/write-api.md, "No idempotency key").
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..data import codes
from ..data.records import fetch, qty_text, quantity
from ..data.store import Store
from ..data.users import User
from ..errors import ApiError
from . import fulfilment as ff
from .validation import (
    FieldError,
    Problems,
    checked,
    decimal_value,
    integer_value,
    rejected,
    text_value,
)

REASON_MAX = 25
REF_MAX = 250
BATCH_MAX = 50
ITEM_KEYS = ("item_code", "item_barcode", "item_alternate_code")
"""Oracle: exactly one of these names the item."""
INVENTORY_ATTRIBUTE_OPTIONS = tuple(f"invn_attr_{letter}" for letter in "ABCDEFGHIJKLMNO")
_ADJUST_OPTIONS = frozenset(
    (
        *ITEM_KEYS,
        "adjustment_qty",
        "actual_qty",
        "reason_code",
        "batch_nbr",
        "expiry_date",
        *INVENTORY_ATTRIBUTE_OPTIONS,
        "transaction_ref_nbr",
        "locn_capacity_check_flg",
        "company_id",
        "company_code",
    )
)
_ITEM_COLUMN = {"item_code": "code", "item_barcode": "barcode"}
"""The item column each item key matches; the simulated item has no alternate code, so
`item_alternate_code` matches nothing (400 naming it)."""
LOCATION_COLUMNS = ("id", "barcode", "location_type_id", "_fac", "_co")
_LOCATION_FILTERS = frozenset(("facility_id", "facility_id__code", "barcode"))


@dataclass(frozen=True)
class Adjustment:
    """Validated options of `update_active_inventory` (location-independent checks done)."""

    item_key: str  # which of ITEM_KEYS names the item
    item_value: str
    delta: Decimal | None  # adjustment_qty
    actual: Decimal | None  # actual_qty
    reason_code: str
    batch_nbr: str | None
    transaction_ref_nbr: str | None
    expiry_date: str | None = None
    company_id: int | None = None
    company_code: str | None = None


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


def _unknown(options: dict[str, Any], known: frozenset[str], problems: Problems) -> None:
    for name in options:
        if name not in known:
            problems[name] = "unknown option"


def _date(value: Any) -> str:
    if not isinstance(value, str):
        raise FieldError(f"must be an ISO 8601 date (got {value!r})")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise FieldError(f"must be an ISO 8601 date (got {value!r})") from None


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError(f"must be true or false (got {value!r})")
    return value


def parse_adjustment(options: Any) -> Adjustment:
    """400 naming each bad option; nothing depends on the location yet.

    Inventory attributes (`invn_attr_A`...`O`) are checked as text of at most 50 characters;
    the simulated inventory carries none, so they do not narrow the match. The simulated
    locations have no capacity, so `locn_capacity_check_flg` never refuses."""
    if not isinstance(options, dict):
        raise rejected("'options' must be an object.", {"options": "must be an object"})
    problems: Problems = {}
    _unknown(options, _ADJUST_OPTIONS, problems)
    keys = [k for k in ITEM_KEYS if options.get(k) not in (None, "")]
    item_key = keys[0] if keys else "item_code"
    if len(keys) > 1:
        problems[keys[1]] = "give only one of item_code, item_barcode or item_alternate_code"
    item = checked(problems, item_key, text_value, options.get(item_key), 100, required=True)
    if not keys:
        problems["item_code"] = "give one of item_code, item_barcode or item_alternate_code"
    expiry = None
    if options.get("expiry_date") is not None:
        expiry = checked(problems, "expiry_date", _date, options["expiry_date"])
    for name in INVENTORY_ATTRIBUTE_OPTIONS:
        checked(problems, name, text_value, options.get(name), 50)
    if options.get("locn_capacity_check_flg") is not None:
        checked(problems, "locn_capacity_check_flg", _flag, options["locn_capacity_check_flg"])
    company_id = company_code = None
    if options.get("company_id") is not None:
        company_id = checked(problems, "company_id", integer_value, options["company_id"])
    if options.get("company_code") is not None:
        company_code = checked(problems, "company_code", text_value, options["company_code"], 25)
    if company_id is not None and company_code is not None:
        problems["company_code"] = "give only one of company_id or company_code"
    reason = checked(
        problems, "reason_code", text_value, options.get("reason_code"), REASON_MAX, required=True
    )
    batch = checked(problems, "batch_nbr", text_value, options.get("batch_nbr"), BATCH_MAX)
    ref = checked(
        problems, "transaction_ref_nbr", text_value, options.get("transaction_ref_nbr"), REF_MAX
    )
    given = [k for k in ("adjustment_qty", "actual_qty") if options.get(k) is not None]
    delta = actual = None
    if len(given) != 1:
        problems[given[1] if given else "adjustment_qty"] = (
            "give exactly one of adjustment_qty (a signed delta) or actual_qty (the count)"
        )
    elif given[0] == "adjustment_qty":
        delta = checked(problems, "adjustment_qty", decimal_value, options["adjustment_qty"])
        if delta is not None and delta == 0:
            problems["adjustment_qty"] = "must not be zero"
    else:
        actual = checked(problems, "actual_qty", decimal_value, options["actual_qty"])
        if actual is not None and actual < 0:
            problems["actual_qty"] = "must be at least 0"
    if problems:
        raise rejected("The inventory adjustment is not valid.", problems)
    return Adjustment(
        item_key,
        str(item),
        delta,
        actual,
        str(reason),
        batch or None,
        ref or None,
        expiry,
        company_id,
        company_code or None,
    )


def find_location(
    conn: sqlite3.Connection, store: Store, parameters: Any, user: User
) -> dict[str, Any]:
    """The one location the filter form names: `barcode` with `facility_id` or
    `facility_id__code` (a barcode is unique only within a facility); 400 naming a bad filter,
    404 when no location in the user's scope matches."""
    if not isinstance(parameters, dict) or not parameters:
        raise rejected(
            "The location filters are not valid.",
            {"parameters": "required: barcode and facility_id or facility_id__code"},
        )
    problems: Problems = {
        f"parameters.{name}": "unknown filter"
        for name in parameters
        if name not in _LOCATION_FILTERS
    }
    barcode = checked(
        problems, "parameters.barcode", text_value, parameters.get("barcode"), 40, required=True
    )
    facility = ff.required_one_of(parameters, ff.FACILITY_KEYS, problems, "parameters.")
    if problems:
        raise rejected("The location filters are not valid.", problems)
    if facility[0] == "facility_id":
        condition = "t._fac = ?"
    else:
        condition = "t._fac = (SELECT id FROM facility WHERE code = ?)"
    scope = user.scope_sql(store.entity("location"))
    limit = f" AND ({scope})" if scope else ""
    row = conn.execute(
        f"SELECT {', '.join('t.' + c for c in LOCATION_COLUMNS)} FROM location t "
        f"WHERE t.barcode = ? AND {condition}{limit}",
        (barcode, facility[1]),
    ).fetchone()
    if row is None:
        raise ApiError(404, f"No location '{barcode}' matches the filters.")
    return dict(zip(LOCATION_COLUMNS, row, strict=True))


def location_by_id(
    conn: sqlite3.Connection, store: Store, location_id: int, user: User
) -> dict[str, Any]:
    """The location of the id form (404 for one the user cannot see)."""
    location = fetch(conn, store.entity("location"), location_id, user, LOCATION_COLUMNS)
    if location is None:
        raise ApiError(404, f"No location record with id {location_id}.")
    return location


def _item_company(
    conn: sqlite3.Connection, adj: Adjustment, location: dict[str, Any], user: User
) -> tuple[int | None, str]:
    """The company the item belongs to: the option's (eligible for the user), else the
    location's; (None, reason) when the option names no company the user may act for."""
    if adj.company_id is None and adj.company_code is None:
        return int(location["_co"]), _company_code(conn, int(location["_co"]))
    if adj.company_id is not None:
        row = conn.execute("SELECT id, code FROM company WHERE id = ?", (adj.company_id,))
    else:
        row = conn.execute("SELECT id, code FROM company WHERE code = ?", (adj.company_code,))
    found = row.fetchone()
    if found is None or (user.company_ids is not None and found[0] not in user.company_ids):
        return None, str(adj.company_code or adj.company_id)
    return int(found[0]), str(found[1])


def adjust(
    store: Store, conn: sqlite3.Connection, location: dict[str, Any], adj: Adjustment, user: User
) -> Adjusted:
    """Apply one adjustment in an active location (found by `location_by_id`/`find_location`)."""
    location_id = int(location["id"])
    problems: Problems = {}
    if location["location_type_id"] != codes.ACTIVE_LOCATION:
        problems["location_id"] = f"Location '{location['barcode']}' is not an active location."
    company, company_name = _item_company(conn, adj, location, user)
    item = None
    if company is None:
        name = "company_id" if adj.company_id is not None else "company_code"
        problems[name] = f"No company '{company_name}' for this user."
    else:
        item = _item_by(conn, adj.item_key, adj.item_value, company)
        if item is None:
            problems[adj.item_key] = (
                f"Item '{adj.item_value}' does not exist in company {company_name}."
            )
    if problems:
        raise rejected("The inventory adjustment is not valid.", problems)
    assert item is not None
    item_id, item_code = item
    expiry_match = "" if adj.expiry_date is None else " AND expiry_date = ?"
    current = conn.execute(
        "SELECT id, curr_qty, container_id FROM inventory WHERE location_id = ? AND item_id = ? "
        f"AND batch_nbr IS ?{expiry_match} ORDER BY container_id IS NOT NULL, id LIMIT 1",
        (location_id, item_id, adj.batch_nbr, *([adj.expiry_date] if adj.expiry_date else [])),
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
        inventory_id = new_inventory(
            store,
            conn,
            location,
            item=item_id,
            qty=new,
            batch_nbr=adj.batch_nbr,
            user=user,
            stamp=stamp,
            expiry_date=adj.expiry_date,
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
        item_code=item_code,
        container_id=current[2] if current else None,
        adj_qty=new - orig,
        orig_qty=orig,
        reason_code=adj.reason_code,
        transaction_ref_nbr=adj.transaction_ref_nbr,
    )
    return Adjusted(location_id, item_code, orig, new, inventory_id, history_id)


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


def new_inventory(
    store: Store,
    conn: sqlite3.Connection,
    location: dict[str, Any],
    *,
    item: int,
    qty: Decimal,
    batch_nbr: str | None,
    user: User,
    stamp: str,
    expiry_date: str | None = None,
    container_id: int | None = None,
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
            "location_id": None if location.get("id") is None else int(location["id"]),
            "container_id": container_id,
            "curr_qty": float(qty),
            "orig_qty": float(qty),
            "pack_qty": 1.0,
            "case_qty": case_qty,
            "batch_nbr": batch_nbr,
            "expiry_date": expiry_date,
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


def _item_by(
    conn: sqlite3.Connection, key: str, value: str, company: int
) -> tuple[int, str] | None:
    """(id, code) of the company's item whose `key` column is `value` (the lowest id when
    several), else None."""
    column = _ITEM_COLUMN.get(key)
    if column is None:
        return None
    row = conn.execute(
        f"SELECT id, code FROM item WHERE {column} = ? AND _co = ? ORDER BY id LIMIT 1",
        (value, company),
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def item_by_code(conn: sqlite3.Connection, code: str, company: int) -> int | None:
    """The id of the company's item with this code (the lowest when several), else None."""
    found = _item_by(conn, "item_code", code, company)
    return None if found is None else found[0]


def company_code(conn: sqlite3.Connection, company: int) -> str:
    """A company's code for messages (its id when unknown)."""
    return _company_code(conn, company)


def _company_code(conn: sqlite3.Connection, company: int) -> str:
    row = conn.execute("SELECT code FROM company WHERE id = ?", (company,)).fetchone()
    return str(row[0]) if row else str(company)
