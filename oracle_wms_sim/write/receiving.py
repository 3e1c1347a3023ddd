"""`POST entity/iblpn/receive`: receive one inbound LPN against an ASN or a purchase order
(docs/api-contract.md L16, L17; Oracle's REST 26B "Receive").

Fields at the top level of the body, as Oracle's table lists them. Applied: the IBLPN is created
Received (at the dock location when named) with one inventory row per `item_list` entry, the
ASN lines' `received_qty` rise (the PO lines' too, with `po_nbr`, whose ASN, numbered as the PO,
is created on first receipt as Oracle says it is), the ASN becomes Receiving Started or
Received, and one RECEIPT history row is written per entry. A `container_nbr` already used in
the facility is refused, so a repeated receive of the same LPN never adds stock twice.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from ..data import codes
from ..data.records import quantity
from ..data.store import Store
from ..data.users import User
from . import fulfilment as ff
from .adjustments import new_inventory
from .validation import FieldError, Problems, checked, decimal_value, rejected, text_value
from .variant import Undocumented

_FIELDS = frozenset(
    (
        "facility_id",
        "facility_id__code",
        "company_id",
        "company_id__code",
        "container_nbr",
        "shipment_nbr",
        "po_nbr",
        "pallet_nbr",
        "lpn_type",
        "trailer_nbr",
        "recv_dock_nbr_or_location_barcode",
        "marked_for_qc_flg",
        "allow_inv_exp_override_flg",
        "allow_rem_exp_override_flg",
        "item_list",
    )
)
_FLAGS = ("marked_for_qc_flg", "allow_inv_exp_override_flg", "allow_rem_exp_override_flg")
"""Readiness 25B "Enhancements to Receiving API" adds the two expiry override flags (default
false); the simulator checks no expiry rule, so they change nothing here."""
_ENTRY_FIELDS = frozenset(
    ("item_barcode", "qty", "case_qty", "pack_qty", "batch_nbr", "expiry_date")
)
LPN_RECEIVED = codes.code_id("container_status", "RECEIVED")  # 10
SHIPMENT_IN_TRANSIT = codes.code_id("ib_shipment_status", "IN_TRANSIT")
SHIPMENT_STARTED = codes.code_id("ib_shipment_status", "RECEIVING_STARTED")
SHIPMENT_RECEIVED = codes.code_id("ib_shipment_status", "RECEIVED")
PO_IN_RECEIVING = codes.code_id("purchase_order_status", "IN_RECEIVING")
PO_RECEIVED = codes.code_id("purchase_order_status", "RECEIVED")


@dataclass(frozen=True)
class Entry:
    item_barcode: str
    qty: Decimal
    case_qty: Decimal | None
    pack_qty: Decimal | None
    batch_nbr: str | None
    expiry_date: str | None


def _entries(raw: Any, problems: Problems) -> list[Entry]:
    if not isinstance(raw, list) or not raw:
        problems["item_list"] = "must be a non-empty list of {item_barcode, qty, ...}"
        return []
    entries = []
    for index, entry in enumerate(raw):
        where = f"item_list[{index}]"
        if not isinstance(entry, dict):
            problems[where] = "must be an object"
            continue
        for name in entry:
            if name not in _ENTRY_FIELDS:
                problems[f"{where}.{name}"] = "unknown field"
        barcode = checked(
            problems, f"{where}.item_barcode", text_value, entry.get("item_barcode"), 100,
            required=True,
        )  # fmt: skip
        qty = checked(problems, f"{where}.qty", decimal_value, entry.get("qty"))
        if entry.get("qty") is None:
            problems[f"{where}.qty"] = "is required"
        elif qty is not None and qty <= 0:
            problems[f"{where}.qty"] = "must be more than 0"
        sizes: dict[str, Decimal | None] = {}
        for name in ("case_qty", "pack_qty"):
            sizes[name] = None
            if entry.get(name) is not None:
                sizes[name] = checked(problems, f"{where}.{name}", decimal_value, entry[name])
        batch = checked(problems, f"{where}.batch_nbr", text_value, entry.get("batch_nbr"), 50)
        expiry = checked(problems, f"{where}.expiry_date", _date, entry.get("expiry_date"))
        if barcode is not None and qty is not None:
            entries.append(Entry(barcode, qty, sizes["case_qty"], sizes["pack_qty"], batch, expiry))
    return entries


def _date(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise FieldError(f"must be an ISO 8601 date (got {value!r})") from None


class Receiving:
    """The receive route of one simulator."""

    def __init__(self, store: Store, undocumented: Undocumented) -> None:
        self.store = store
        self.undocumented = undocumented

    def receive(self, conn: sqlite3.Connection, body: dict[str, Any], user: User) -> int:
        """Apply one receipt in the caller's transaction; the new IBLPN's id (400 on a
        refusal, naming the field)."""
        problems: Problems = {name: "unknown field" for name in body if name not in _FIELDS}
        facility = ff.named_facility(conn, user, body, problems, "")
        company_pair = ff.required_one_of(body, ("company_id", "company_id__code"), problems, "")
        company = ff.company_of(conn, user, company_pair, problems, "")
        nbr = checked(
            problems, "container_nbr", text_value, body.get("container_nbr"), 50, required=True
        )
        document = ff.required_one_of(body, ("po_nbr", "shipment_nbr"), problems, "")
        for name in ("pallet_nbr", "lpn_type", "trailer_nbr", "recv_dock_nbr_or_location_barcode"):
            checked(problems, name, text_value, body.get(name), 50)
        for flag in _FLAGS:
            if not isinstance(body.get(flag, False), bool):
                problems[flag] = "must be true or false"
        entries = _entries(body.get("item_list"), problems)
        if problems:
            raise rejected("The receipt is not valid.", problems)
        assert facility is not None and company is not None and nbr is not None
        if company != ff.facility_company(conn, facility):
            raise _refused(company_pair[0], "is not the company of the facility")
        self._check_new_lpn(conn, nbr, facility)
        dock = self._dock(conn, body.get("recv_dock_nbr_or_location_barcode"), facility)
        items = [self._item(conn, e.item_barcode, company, i) for i, e in enumerate(entries)]
        if document[0] == "shipment_nbr":
            shipment, ref = self._shipment(conn, str(document[1]), facility), str(document[1])
            po = None
        else:
            po, ref = self._purchase_order(conn, str(document[1]), facility), str(document[1])
            shipment = self._po_shipment(
                conn, po, ref, facility=facility, company=company, user=user
            )
        self._check_on_document(conn, shipment, items)
        lpn = ff.insert(
            self.store, conn, "iblpn", user,
            {
                "company_id": company, "facility_id": facility, "container_nbr": nbr,
                "status_id": LPN_RECEIVED, "shipment_id": shipment, "location_id": dock,
                "weight": 0.0, "volume": 0.0, "priority_date": None, "cust_field_1": None,
                "_fac": facility, "_co": company,
            },
        )  # fmt: skip
        stamp = ff.stamp(self.store, conn, "inventory")
        place = {"id": dock, "_fac": facility, "_co": company}
        for entry, item in zip(entries, items, strict=True):
            inventory = new_inventory(
                self.store, conn, place, item=item, qty=entry.qty, batch_nbr=entry.batch_nbr,
                user=user, stamp=stamp, expiry_date=entry.expiry_date, container_id=lpn,
            )  # fmt: skip
            sizes = {
                name: float(value)
                for name, value in (("case_qty", entry.case_qty), ("pack_qty", entry.pack_qty))
                if value is not None
            }
            if sizes:
                ff.touch(self.store, conn, "inventory", inventory, user, **sizes)
            self._raise_lines(
                conn, "ib_shipment_dtl", link="shipment_id", parent=shipment, item=item,
                qty=entry.qty, user=user,
            )  # fmt: skip
            if po is not None:
                self._raise_lines(
                    conn, "purchase_order_dtl", link="po_id", parent=po, item=item,
                    qty=entry.qty, user=user,
                )  # fmt: skip
            ff.history(
                self.store, conn, user, facility=facility, activity=ff.RECEIPT, item_id=item,
                container_nbr=nbr, adj_qty=entry.qty, orig_qty=Decimal(0), ref=ref,
            )  # fmt: skip
        self._settle(
            conn, "ib_shipment", lines="ib_shipment_dtl", link="shipment_id", parent=shipment,
            user=user,
        )  # fmt: skip
        if po is not None:
            self._settle(
                conn, "purchase_order_hdr", lines="purchase_order_dtl", link="po_id", parent=po,
                user=user,
            )  # fmt: skip
        return lpn

    # ---- checks ----------------------------------------------------------------------------
    @staticmethod
    def _check_new_lpn(conn: sqlite3.Connection, nbr: str, facility: int) -> None:
        for table in ("iblpn", "oblpn"):
            if conn.execute(
                f"SELECT 1 FROM {table} WHERE container_nbr = ? AND facility_id = ?",
                (nbr, facility),
            ).fetchone():
                raise _refused("container_nbr", f"LPN '{nbr}' already exists in the facility.")

    @staticmethod
    def _dock(conn: sqlite3.Connection, barcode: Any, facility: int) -> int | None:
        if not barcode:
            return None
        row = conn.execute(
            "SELECT id FROM location WHERE barcode = ? AND facility_id = ?", (barcode, facility)
        ).fetchone()
        if row is None:
            raise _refused(
                "recv_dock_nbr_or_location_barcode", f"No location '{barcode}' in the facility."
            )
        return int(row[0])

    def _item(self, conn: sqlite3.Connection, barcode: str, company: int, index: int) -> int:
        columns = ("barcode", "code") if self.undocumented.item_code_as_barcode else ("barcode",)
        for column in columns:
            row = conn.execute(
                f"SELECT id FROM item WHERE {column} = ? AND company_id = ? ORDER BY id",
                (barcode, company),
            ).fetchone()
            if row is not None:
                return int(row[0])
        raise _refused(f"item_list[{index}].item_barcode", f"No item '{barcode}' in the company.")

    @staticmethod
    def _shipment(conn: sqlite3.Connection, nbr: str, facility: int) -> int:
        row = conn.execute(
            "SELECT id, status_id FROM ib_shipment WHERE shipment_nbr = ? AND facility_id = ?",
            (nbr, facility),
        ).fetchone()
        if row is None:
            raise _refused("shipment_nbr", f"No inbound shipment '{nbr}' in the facility.")
        if int(row[1]) not in (SHIPMENT_IN_TRANSIT, SHIPMENT_STARTED, SHIPMENT_RECEIVED):
            label = codes.code_label("ib_shipment_status", int(row[1]))
            raise _refused("shipment_nbr", f"Shipment '{nbr}' is {label}: it cannot be received.")
        return int(row[0])

    @staticmethod
    def _purchase_order(conn: sqlite3.Connection, nbr: str, facility: int) -> int:
        row = conn.execute(
            "SELECT id, status_id FROM purchase_order_hdr WHERE po_nbr = ? AND facility_id = ?",
            (nbr, facility),
        ).fetchone()
        if row is None:
            raise _refused("po_nbr", f"No purchase order '{nbr}' in the facility.")
        if int(row[1]) not in (0, PO_IN_RECEIVING, PO_RECEIVED):
            label = codes.code_label("purchase_order_status", int(row[1]))
            raise _refused("po_nbr", f"Purchase order '{nbr}' is {label}: it cannot be received.")
        return int(row[0])

    def _po_shipment(
        self,
        conn: sqlite3.Connection,
        po: int,
        nbr: str,
        *,
        facility: int,
        company: int,
        user: User,
    ) -> int:
        """The ASN receipts against the PO go to (numbered as the PO), created on first use
        with one line per PO line (shipped = ordered)."""
        row = conn.execute(
            "SELECT id FROM ib_shipment WHERE shipment_nbr = ? AND facility_id = ?", (nbr, facility)
        ).fetchone()
        if row is not None:
            return int(row[0])
        vendor = conn.execute(
            "SELECT vendor_id FROM purchase_order_hdr WHERE id = ?", (po,)
        ).fetchone()
        shipment = ff.insert(
            self.store, conn, "ib_shipment", user,
            {
                "company_id": company, "facility_id": facility, "shipment_nbr": nbr,
                "vendor_id": vendor[0], "status_id": SHIPMENT_IN_TRANSIT, "trailer_nbr": None,
                "ref_nbr": None, "exp_arrival_date": None, "verified_ts": None,
                "cust_field_1": None, "_fac": facility, "_co": company,
            },
        )  # fmt: skip
        for line, seq, item, ordered in conn.execute(
            "SELECT id, seq_nbr, item_id, ord_qty FROM purchase_order_dtl WHERE po_id = ? "
            "ORDER BY seq_nbr",
            (po,),
        ).fetchall():
            ff.insert(
                self.store, conn, "ib_shipment_dtl", user,
                {
                    "shipment_id": shipment, "seq_nbr": seq, "item_id": item, "po_dtl_id": line,
                    "lpn_nbr": None, "shipped_qty": ordered, "received_qty": 0.0,
                    **{f"inv_attr_{letter}": None for letter in "abcdefghijklmno"},
                    "cust_field_1": None, "_fac": facility, "_co": company,
                },
            )  # fmt: skip
        return shipment

    @staticmethod
    def _check_on_document(conn: sqlite3.Connection, shipment: int, items: list[int]) -> None:
        on_it = {
            int(r[0])
            for r in conn.execute(
                "SELECT DISTINCT item_id FROM ib_shipment_dtl WHERE shipment_id = ?", (shipment,)
            )
        }
        for index, item in enumerate(items):
            if item not in on_it:
                raise _refused(
                    f"item_list[{index}].item_barcode", "the item is not on the shipment"
                )

    # ---- quantities and statuses -------------------------------------------------------------
    def _raise_lines(
        self,
        conn: sqlite3.Connection,
        table: str,
        *,
        link: str,
        parent: int,
        item: int,
        qty: Decimal,
        user: User,
    ) -> None:
        """Raise `received_qty` of the parent's lines of the item: lines with room first (by
        seq_nbr), the rest on the last."""
        expected = "shipped_qty" if table == "ib_shipment_dtl" else "ord_qty"
        lines = conn.execute(
            f"SELECT id, {expected}, received_qty FROM {table} WHERE {link} = ? AND item_id = ? "
            "ORDER BY seq_nbr",
            (parent, item),
        ).fetchall()
        if not lines:
            return
        left = qty
        for position, (ident, wanted, received) in enumerate(lines):
            room = max(Decimal(0), quantity(wanted) - quantity(received))
            take = left if position == len(lines) - 1 else min(left, room)
            if take > 0:
                ff.touch(
                    self.store, conn, table, int(ident), user,
                    received_qty=float(quantity(received) + take),
                )  # fmt: skip
                left -= take
            if left <= 0:
                break

    def _settle(
        self,
        conn: sqlite3.Connection,
        header: str,
        *,
        lines: str,
        link: str,
        parent: int,
        user: User,
    ) -> None:
        expected = "shipped_qty" if lines == "ib_shipment_dtl" else "ord_qty"
        rows = conn.execute(
            f"SELECT {expected}, received_qty FROM {lines} WHERE {link} = ?", (parent,)
        ).fetchall()
        done = all(quantity(r) >= quantity(w) for w, r in rows)
        if header == "ib_shipment":
            status = SHIPMENT_RECEIVED if done else SHIPMENT_STARTED
        else:
            status = PO_RECEIVED if done else PO_IN_RECEIVING
        current = conn.execute(f"SELECT status_id FROM {header} WHERE id = ?", (parent,)).fetchone()
        if int(current[0]) != status:
            ff.touch(self.store, conn, header, parent, user, status_id=status)


def _refused(name: str, message: str) -> Exception:
    return rejected(f"The receipt was refused: {message}", {name: message})
