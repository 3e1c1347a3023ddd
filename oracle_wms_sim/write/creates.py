"""`POST entity/{name}/`: the creatable entities of Oracle's "Creating a Resource" page.

- `inventory`: in an IBLPN (`container_id`) or in an active location (`location_id`), with
  `options.reason_code` (required) and an ADJUST_PLUS inventory history row;
- `batch_number` and `inventory_attribute`: get-or-create for the facility and company (200 with
  the existing record, 201 with a new one), keyed by `code` (the simulated entities carry their
  number or attribute set in `code`);
- `iblpn`: an inbound container without inventory (status In Transit), its `container_nbr`
  new in the facility;
- `inventory_lock`: a lock code, new in the facility.

Every create needs `fields`; any field the catalogue lacks, or that a client may not set (ids,
stamps, status), is a 400 naming it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..data import codes
from ..data.model import Entity
from ..data.records import fetch
from ..data.store import Store
from ..data.users import User
from .adjustments import (
    LOCATION_COLUMNS,
    REASON_MAX,
    REF_MAX,
    company_code,
    new_inventory,
    write_history,
)
from .validation import (
    Problems,
    checked,
    decimal_value,
    integer_value,
    rejected,
    stored_value,
)
from .validation import text_value as text

CREATABLE = frozenset(
    ("inventory", "batch_number", "inventory_attribute", "iblpn", "inventory_lock")
)
GET_OR_CREATE = frozenset(("batch_number", "inventory_attribute"))
_KEY = {"batch_number": "code", "inventory_attribute": "code", "inventory_lock": "code"}
_KEY["iblpn"] = "container_nbr"
_NOT_SETTABLE = frozenset(("id", "status_id", "create_ts", "create_user", "mod_ts", "mod_user"))
_INVENTORY_FIELDS = frozenset(
    (
        "facility_id",
        "company_id",
        "location_id",
        "container_id",
        "item_id",
        "curr_qty",
        "batch_number_id",
        "expiry_date",
    )
)
"""`facility_id` and `company_id` are required in inventory's describe (Oracle's and ours); the
simulator takes them and checks they are the place's, and takes the place's when absent."""
BATCH_FIELDS = frozenset(("batch_nbr", "item_id", "expiry_date", "lock_id"))
"""REST 22B-24D "Batch Number": the create's fields besides facility and company (matched on
facility, company, `batch_nbr` and item). The simulated batch_number keeps its number in `code`:
`batch_nbr` is stored there; `item_id`, `expiry_date` and `lock_id` are checked, not stored."""
_INVENTORY_OPTIONS = frozenset(("reason_code", "transaction_ref_nbr"))


@dataclass(frozen=True)
class Created:
    ident: int
    new: bool  # False: get-or-create found an existing record (200)


def _fk(value: Any) -> int:
    """A foreign key as written: an id, or the `{"id": ...}` object that reads return."""
    if isinstance(value, dict) and "id" in value:
        value = value["id"]
    return integer_value(value)


def _body(body: Any) -> tuple[dict[str, Any], dict[str, Any], Problems]:
    fields, options = body.get("fields"), body.get("options")
    problems: Problems = {}
    if not isinstance(fields, dict) or not fields:
        raise rejected("'fields' must be a non-empty object.", {"fields": "required"})
    if options is None:
        options = {}
    if not isinstance(options, dict):
        problems["options"] = "must be an object"
        options = {}
    return fields, options, problems


def create(
    store: Store,
    conn: sqlite3.Connection,
    name: str,
    body: Any,
    user: User,
    *,
    record_ref: bool = True,
) -> Created:
    """Check, then create (or, for get-or-create entities, find) one record. `record_ref`
    False: inventory history does not get the create's `transaction_ref_nbr`."""
    if name == "inventory":
        return Created(create_inventory(store, conn, body, user, record_ref=record_ref), True)
    return _create_owned(store, conn, store.entity(name), body, user)


def _create_owned(
    store: Store, conn: sqlite3.Connection, entity: Entity, body: Any, user: User
) -> Created:
    """A facility- and company-owned record keyed by `_KEY[entity]` within the facility."""
    fields, options, problems = _body(body)
    for option in options:
        problems[f"options.{option}"] = "unknown option"
    if entity.name == "batch_number":
        fields = _batch_fields(store, conn, fields, user, problems)
    values: dict[str, Any] = {}
    for field_name, value in fields.items():
        f = entity.by_name.get(field_name)
        if f is None or not f.stored or field_name in _NOT_SETTABLE:
            problems[field_name] = f"{entity.name} has no settable field '{field_name}'."
            continue
        if field_name in ("facility_id", "company_id"):
            values[field_name] = checked(problems, field_name, _fk, value)
            continue
        values[field_name] = checked(
            problems, field_name, stored_value, f, value, user.naive_offset
        )
    key = _KEY[entity.name]
    for required in ("facility_id", "company_id", key):
        if values.get(required) is None and required not in problems:
            problems[required] = "is required"
    fac, co = values.get("facility_id"), values.get("company_id")
    if fac is not None and "facility_id" not in problems:
        owner = conn.execute("SELECT company_id FROM facility WHERE id = ?", (fac,)).fetchone()
        if owner is None or (user.facility_ids is not None and fac not in user.facility_ids):
            problems["facility_id"] = f"Facility {fac} does not exist."
        elif co is not None and "company_id" not in problems and owner[0] != co:
            problems["company_id"] = f"Facility {fac} does not belong to company {co}."
    if problems:
        raise rejected(f"The {entity.name} cannot be created.", problems)
    existing = conn.execute(
        f"SELECT id FROM {entity.name} WHERE {key} = ? AND _fac = ? AND _co = ?",
        (values[key], fac, co),
    ).fetchone()
    if existing is not None:
        if entity.name in GET_OR_CREATE:
            return Created(int(existing[0]), False)
        message = f"{entity.name} '{values[key]}' already exists in facility {fac}."
        raise rejected(message, {key: message})
    ident = store.next_id(conn, entity.name)
    stamp = store.stamps(conn, entity)[0]
    row = {**_defaults(entity), **values, "id": ident, "_fac": fac, "_co": co}
    if "status_id" in entity.by_name:
        row["status_id"] = codes.code_id("container_status", "IN_TRANSIT")
    for stamp_field in ("create_ts", "mod_ts"):
        row[stamp_field] = stamp
    row["create_user"] = row["mod_user"] = user.username
    store.insert_row(conn, entity.name, row)
    return Created(ident, True)


def _batch_fields(
    store: Store, conn: sqlite3.Connection, fields: dict[str, Any], user: User, problems: Problems
) -> dict[str, Any]:
    """batch_number's documented fields checked and mapped onto the simulated entity."""
    rest = {k: v for k, v in fields.items() if k not in BATCH_FIELDS}
    if "batch_nbr" in fields:
        if "code" in fields:
            problems["batch_nbr"] = "give batch_nbr (Oracle's name) or code, not both"
        rest["code"] = fields["batch_nbr"]
    if fields.get("item_id") is not None:
        item = checked(problems, "item_id", _fk, fields["item_id"])
        found = item is not None and fetch(conn, store.entity("item"), item, user, ("id",))
        if item is not None and not found:
            problems["item_id"] = f"Item {item} does not exist."
    if fields.get("expiry_date") is not None:
        f = store.entity("inventory").by_name["expiry_date"]
        checked(problems, "expiry_date", stored_value, f, fields["expiry_date"])
    if fields.get("lock_id") is not None:
        lock = checked(problems, "lock_id", _fk, fields["lock_id"])
        found = lock is not None and fetch(
            conn, store.entity("inventory_lock"), lock, user, ("id",)
        )
        if lock is not None and not found:
            problems["lock_id"] = f"Inventory lock {lock} does not exist."
    return rest


def _defaults(entity: Entity) -> dict[str, Any]:
    """`describe`'s default of every required field that has one (a decimal 0, a flag false)."""
    out: dict[str, Any] = {}
    for f in entity.stored_fields:
        if f.required and f.default is not None:
            out[f.name] = f.default if not isinstance(f.default, bool) else int(f.default)
    return out


def create_inventory(
    store: Store, conn: sqlite3.Connection, body: Any, user: User, *, record_ref: bool = True
) -> int:
    """New inventory (always a new row) in an IBLPN or an active location, and its ADJUST_PLUS
    history row; its id."""
    fields, options, problems = _body(body)
    for name in fields:
        if name not in _INVENTORY_FIELDS:
            problems[name] = "unknown field"
    for name in options:
        if name not in _INVENTORY_OPTIONS:
            problems[name] = "unknown option"
    places = [n for n in ("location_id", "container_id") if fields.get(n) is not None]
    if len(places) != 1:
        problems["location_id"] = "give one of location_id (an active location) or container_id"
    for name in ("item_id", "curr_qty"):
        if fields.get(name) is None:
            problems[name] = "is required"
    item_id = checked(problems, "item_id", _fk, fields.get("item_id", 0))
    qty = checked(problems, "curr_qty", decimal_value, fields.get("curr_qty", 1))
    if qty is not None and qty <= 0:
        problems["curr_qty"] = "must be greater than 0"
    expiry = None
    if fields.get("expiry_date") is not None:
        expiry = checked(
            problems,
            "expiry_date",
            stored_value,
            store.entity("inventory").by_name["expiry_date"],
            fields["expiry_date"],
        )
    reason = checked(
        problems, "reason_code", text, options.get("reason_code"), REASON_MAX, required=True
    )
    ref = checked(
        problems, "transaction_ref_nbr", text, options.get("transaction_ref_nbr"), REF_MAX
    )
    place, container_id = _place(store, conn, fields, places, user=user, problems=problems)
    if place is not None and item_id is not None and "item_id" not in problems:
        found = conn.execute("SELECT _co FROM item WHERE id = ?", (item_id,)).fetchone()
        if found is None or found[0] != place["_co"]:
            company = company_code(conn, int(place["_co"]))
            problems["item_id"] = f"Item {item_id} does not exist in company {company}."
    batch = _batch_code(conn, fields.get("batch_number_id"), problems)
    _same_owner(fields, place, problems)
    if problems:
        raise rejected("The inventory cannot be created.", problems)
    assert place is not None and qty is not None
    stamp = store.stamps(conn, store.entity("inventory"))[0]
    inventory_id = new_inventory(
        store,
        conn,
        place,
        item=item_id,
        qty=qty,
        batch_nbr=batch,
        user=user,
        stamp=stamp,
        expiry_date=expiry,
        container_id=container_id,
    )
    code = conn.execute("SELECT code FROM item WHERE id = ?", (item_id,)).fetchone()[0]
    write_history(
        store,
        conn,
        place,
        user,
        activity=codes.ADJUST_PLUS,
        item_code=str(code),
        container_id=container_id,
        adj_qty=qty,
        orig_qty=Decimal("0"),
        reason_code=str(reason),
        transaction_ref_nbr=(ref or None) if record_ref else None,
    )
    return inventory_id


def _place(
    store: Store,
    conn: sqlite3.Connection,
    fields: dict[str, Any],
    places: list[str],
    *,
    user: User,
    problems: Problems,
) -> tuple[dict[str, Any] | None, int | None]:
    """(where the inventory goes, as a location-like row, and its container id)."""
    if len(places) != 1:
        return None, None
    name = places[0]
    ident = checked(problems, name, _fk, fields[name])
    if ident is None:
        return None, None
    if name == "container_id":
        lpn = fetch(conn, store.entity("iblpn"), ident, user, ("id", "location_id", "_fac", "_co"))
        if lpn is None:
            problems[name] = f"IBLPN {ident} does not exist."
            return None, None
        return {"id": lpn["location_id"], "_fac": lpn["_fac"], "_co": lpn["_co"]}, ident
    location = fetch(conn, store.entity("location"), ident, user, LOCATION_COLUMNS)
    if location is None:
        problems[name] = f"Location {ident} does not exist."
        return None, None
    if location["location_type_id"] != codes.ACTIVE_LOCATION:
        problems[name] = (
            f"Location '{location['barcode']}' is not an active location: inventory is created "
            "in an IBLPN or an active location."
        )
        return None, None
    return location, None


def _same_owner(fields: dict[str, Any], place: dict[str, Any] | None, problems: Problems) -> None:
    """`facility_id`/`company_id`, when given, must be the place's."""
    for name, column in (("facility_id", "_fac"), ("company_id", "_co")):
        if fields.get(name) is None or place is None:
            continue
        ident = checked(problems, name, _fk, fields[name])
        if ident is not None and ident != place[column]:
            problems[name] = f"is not the {name[:-3]} of the location or IBLPN ({place[column]})"


def _batch_code(conn: sqlite3.Connection, value: Any, problems: Problems) -> str | None:
    """`batch_number_id` names a batch_number record; the inventory keeps its code."""
    if value is None:
        return None
    ident = checked(problems, "batch_number_id", _fk, value)
    if ident is None:
        return None
    row = conn.execute("SELECT code FROM batch_number WHERE id = ?", (ident,)).fetchone()
    if row is None:
        problems["batch_number_id"] = f"Batch number {ident} does not exist."
        return None
    return str(row[0])
