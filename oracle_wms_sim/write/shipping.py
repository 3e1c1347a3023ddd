"""`oblpn/{id}/ship/`: an outbound LPN leaves the building.

Shipping sets the LPN's status to Shipped (container_status 80) and clears its location, as the
generated shipped LPNs have none. Shipping twice is refused with the message a client can
recognise as "already done" (docs/write-api.md), which makes a retried ship harmless.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..data import codes
from ..data.records import fetch
from ..data.store import Store
from ..data.users import User
from ..errors import ApiError
from .validation import FieldError, rejected, text_value

ALREADY_SHIPPED = "LPN is already shipped."
_OPTIONS = frozenset(("locn_barcode",))


def parse_options(options: Any) -> str | None:
    """The optional `locn_barcode`; 400 for anything else in `options`."""
    if options is None:
        return None
    if not isinstance(options, dict):
        raise rejected("'options' must be an object.", {"options": "must be an object"})
    problems = {name: "unknown option" for name in options if name not in _OPTIONS}
    barcode = None
    try:
        barcode = text_value(options.get("locn_barcode"), 40)
    except FieldError as exc:
        problems["locn_barcode"] = str(exc)
    if problems:
        raise rejected("The ship options are not valid.", problems)
    return barcode or None


def ship(
    store: Store, conn: sqlite3.Connection, ident: int, locn_barcode: str | None, user: User
) -> None:
    lpn = fetch(conn, store.entity("oblpn"), ident, user, ("id", "status_id", "_fac"))
    if lpn is None:
        raise ApiError(404, f"No oblpn record with id {ident}.")
    if lpn["status_id"] == codes.LPN_SHIPPED:
        raise rejected(ALREADY_SHIPPED, {"status_id": ALREADY_SHIPPED})
    if lpn["status_id"] == codes.LPN_CANCELLED:
        raise rejected("LPN is cancelled.", {"status_id": "LPN is cancelled."})
    if locn_barcode is not None:
        found = conn.execute(
            "SELECT 1 FROM location WHERE barcode = ? AND _fac = ?", (locn_barcode, lpn["_fac"])
        ).fetchone()
        if found is None:
            message = f"No location '{locn_barcode}' in the LPN's facility."
            raise rejected(message, {"locn_barcode": message})
    stamp = store.stamps(conn, store.entity("oblpn"))[0]
    conn.execute(
        "UPDATE oblpn SET status_id = ?, location_id = NULL, mod_ts = ?, mod_user = ? WHERE id = ?",
        (codes.LPN_SHIPPED, stamp, user.username, ident),
    )
