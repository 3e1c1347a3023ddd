"""`oblpn/{id}/ship/` and `oblpn/bulk_ship/`: an outbound LPN leaves the building.

Oracle's "Ship OBLPN" page: `options.locn_barcode` (the final shipping location) is required,
`output_file_to_generate` is optional, and only Packed or Loaded LPNs ship. Shipping sets the
LPN's status to Shipped (container_status 80) and clears its location, as the generated shipped
LPNs have none; its Packed allocations raise their lines' `shipped_qty`, write SHIP history
rows and close their orders when all they allocated shipped (docs/api-contract.md L15). The
refusal of an LPN already Shipped carries a message of the simulator's own
("LPN is already shipped."): Oracle does not document it, so a client must not depend on it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from ..data import codes
from ..data.records import fetch, quantity
from ..data.store import Store
from ..data.users import User
from ..errors import ApiError
from . import fulfilment as ff
from .validation import FieldError, Problems, rejected, text_value

ALREADY_SHIPPED = "LPN is already shipped."
OUTPUT_FILES = frozenset(("oblpn_shipping_info", "lpn_inventory", "container_outbound_load_export"))
"""The documented values of `output_file_to_generate` (the last since 26B)."""
_OPTIONS = frozenset(("locn_barcode", "output_file_to_generate"))
_FILTERS = frozenset(
    ("container_nbr__in", "facility_id", "facility_id__code", "company_id", "company_id__code")
)


@dataclass(frozen=True)
class ShipOptions:
    locn_barcode: str
    output_files: tuple[str, ...]


def parse_options(options: Any) -> ShipOptions:
    """`locn_barcode` (required) and `output_file_to_generate`; 400 naming anything else."""
    if not isinstance(options, dict):
        raise rejected(
            "The ship options are not valid.",
            {"options.locn_barcode": "is required (the final shipping location's barcode)"},
        )
    problems: Problems = {
        f"options.{name}": "unknown option" for name in options if name not in _OPTIONS
    }
    barcode = None
    try:
        barcode = text_value(options.get("locn_barcode"), 40, required=True)
    except FieldError as exc:
        problems["options.locn_barcode"] = f"{exc} (the final shipping location's barcode)"
    files = options.get("output_file_to_generate")
    wanted: tuple[str, ...] = ()
    if files is not None:
        listed = [files] if isinstance(files, str) else files
        if not isinstance(listed, list) or any(f not in OUTPUT_FILES for f in listed):
            problems["options.output_file_to_generate"] = (
                f"must be one or a list of {', '.join(sorted(OUTPUT_FILES))}"
            )
        else:
            wanted = tuple(listed)
    if problems:
        raise rejected("The ship options are not valid.", problems)
    assert barcode is not None
    return ShipOptions(barcode, wanted)


def ship(
    store: Store, conn: sqlite3.Connection, ident: int, options: ShipOptions, user: User
) -> None:
    lpn = fetch(conn, store.entity("oblpn"), ident, user, ("id", "status_id", "_fac"))
    if lpn is None:
        raise ApiError(404, f"No oblpn record with id {ident}.")
    status = int(lpn["status_id"])
    if status == codes.LPN_SHIPPED:
        raise rejected(ALREADY_SHIPPED, {"status_id": ALREADY_SHIPPED})
    if status not in codes.LPN_SHIPPABLE:
        label = codes.code_label("container_status", status)
        message = f"LPN is {label}: only Packed or Loaded LPNs can be shipped."
        raise rejected(message, {"status_id": message})
    found = conn.execute(
        "SELECT 1 FROM location WHERE barcode = ? AND _fac = ?",
        (options.locn_barcode, lpn["_fac"]),
    ).fetchone()
    if found is None:
        message = f"No location '{options.locn_barcode}' in the LPN's facility."
        raise rejected(message, {"locn_barcode": message})
    stamp = store.stamps(conn, store.entity("oblpn"))[0]
    conn.execute(
        "UPDATE oblpn SET status_id = ?, location_id = NULL, mod_ts = ?, mod_user = ? WHERE id = ?",
        (codes.LPN_SHIPPED, stamp, user.username, ident),
    )
    _ship_contents(store, conn, ident, int(lpn["_fac"]), user)


def _ship_contents(
    store: Store, conn: sqlite3.Connection, lpn: int, facility: int, user: User
) -> None:
    """The LPN's Packed allocations leave with it: each raises its line's `shipped_qty` and
    writes a SHIP history row; their orders close when everything allocated shipped
    (docs/api-contract.md L15)."""
    nbr = conn.execute("SELECT container_nbr FROM oblpn WHERE id = ?", (lpn,)).fetchone()[0]
    orders: list[int] = []
    for line, item, packed, order, order_nbr in conn.execute(
        "SELECT a.order_dtl_id, a.item_id, a.packed_qty, d.order_id, h.order_nbr "
        "FROM allocation a JOIN order_dtl d ON d.id = a.order_dtl_id "
        "JOIN order_hdr h ON h.id = d.order_id "
        "WHERE a.to_container_id = ? AND a.status_id = ? ORDER BY a.id",
        (lpn, ff.ALLOC_PACKED),
    ).fetchall():
        shipped = conn.execute("SELECT shipped_qty FROM order_dtl WHERE id = ?", (line,)).fetchone()
        moved = quantity(packed)
        ff.touch(
            store,
            conn,
            "order_dtl",
            int(line),
            user,
            shipped_qty=float(quantity(shipped[0]) + moved),
        )
        ff.history(
            store, conn, user, facility=facility, activity=ff.SHIP, item_id=int(item),
            container_nbr=str(nbr), adj_qty=-moved, orig_qty=moved, ref=str(order_nbr),
        )  # fmt: skip
        if int(order) not in orders:
            orders.append(int(order))
    for order in orders:
        ff.refresh_order(store, conn, order, user)


def resolve_lpns(
    conn: sqlite3.Connection,
    store: Store,
    user: User,
    filters: dict[str, Any],
    *,
    strict: bool,
    problems: Problems,
) -> list[int]:
    """The ids of the LPNs named by `container_nbr__in` within a facility and company (both
    needed unless `require_facility_company_flg` is false), in the user's scope."""
    for name in filters:
        if name not in _FILTERS:
            problems[f"parameters.{name}"] = "unknown filter"
    numbers = filters.get("container_nbr__in")
    if isinstance(numbers, str):
        numbers = [n for n in numbers.split(",") if n.strip()]
    if not isinstance(numbers, list) or not numbers or not all(isinstance(n, str) for n in numbers):
        problems["parameters.container_nbr__in"] = "must be a non-empty list of LPN numbers"
    facility = ff.one_of(filters, ff.FACILITY_KEYS, problems, "parameters.")
    company = ff.one_of(filters, ("company_id", "company_id__code"), problems, "parameters.")
    if strict and (facility is None or company is None):
        problems["parameters"] = (
            "filtering on fields other than id needs facility and company "
            "(or options.require_facility_company_flg false)"
        )
    if problems or not isinstance(numbers, list):
        return []
    marks = ", ".join("?" * len(numbers))
    where, args = [f"t.container_nbr IN ({marks})"], list(numbers)
    for pair, table, column in ((facility, "facility", "_fac"), (company, "company", "_co")):
        if pair is None:
            continue
        name, value = pair
        if name.endswith("__code"):
            where.append(f"t.{column} = (SELECT id FROM {table} WHERE code = ?)")
        else:
            where.append(f"t.{column} = ?")
        args.append(value)
    scope = user.scope_sql(store.entity("oblpn"))
    if scope:
        where.append(f"({scope})")
    rows = conn.execute(
        f"SELECT t.id FROM oblpn t WHERE {' AND '.join(where)} ORDER BY t.id", args
    ).fetchall()
    return [int(r[0]) for r in rows]
