"""Row factories: one function per entity that makes a coherent record.

The bulk generator and the live `insert_records` share these, so inserted rows look like generated
ones. A factory asks a `Picker` for related ids (within the same facility or company, so foreign
keys stay coherent) and returns the stored fields except `id` and the audit fields, plus the hidden
`_fac`/`_co` ownership columns (and `_tzm` for facilities and companies, which own a zone).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from random import Random
from typing import Any, Protocol

from .timefmt import BASE_INSTANT

Row = dict[str, Any]


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


_WORDS = ("North", "Blue", "Summit", "Harbor", "Pine", "Delta", "Silver", "Prairie", "Atlas")
_NOUNS = ("Supply", "Foods", "Textiles", "Components", "Tools", "Goods", "Paper", "Labs")
_PRODUCTS = ("Widget", "Bracket", "Cable", "Sensor", "Gasket", "Bottle", "Carton", "Lamp")
_ADJ = ("Small", "Large", "Red", "Steel", "Organic", "Heavy-duty", "Compact", "Premium")
_CITIES = ("Springfield", "Riverside", "Fairview", "Madison", "Georgetown", "Salem", "Utrecht")
_STREETS = ("Main St", "Oak Ave", "Industrial Pkwy", "Harbor Rd", "Mill Ln", "Dock St")
_COUNTRIES = ("US", "US", "US", "CA", "MX", "NL", "DE")
_FIRST = ("Ana", "Ben", "Chen", "Dana", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jules")
_LAST = ("Smith", "Garcia", "Nguyen", "Okafor", "Jansen", "Muller", "Rossi", "Kim")


class Picker(Protocol):
    """Finds related records; in memory while generating, in SQL for live inserts."""

    def pick(
        self, entity: str, rng: Random, *, fac: int | None = None, co: int | None = None
    ) -> int | None:
        """A random existing id of `entity`, restricted to a facility or company if given."""
        ...

    def attr(self, entity: str, ident: int, name: str) -> Any:
        """One stored (possibly hidden) value of a record."""
        ...

    def next_seq(self, entity: str, parent: int) -> int:
        """The next line number of a child record under `parent`."""
        ...


def _date(rng: Random, lo: int, hi: int) -> str:
    """A date between `lo` and `hi` days after the fixed base instant (negative: before)."""
    return (BASE_INSTANT + timedelta(days=rng.randint(lo, hi))).date().isoformat()


def _maybe(rng: Random, share: float, value: str) -> str | None:
    return value if rng.random() < share else None


def _qty(rng: Random, lo: int, hi: int) -> float:
    return float(rng.randint(lo, hi))


def _must(value: int | None, what: str) -> int:
    if value is None:
        raise LookupError(f"no {what} to refer to")
    return value


def _facility(p: Picker, rng: Random) -> tuple[int, int]:
    fac = _must(p.pick("facility", rng), "facility")
    return fac, int(p.attr("facility", fac, "_co"))


def _code(name: str, rng: Random) -> int:
    return rng.choice(CODE_ROWS[name])[0]


def company(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    spec = COMPANIES[(ident - 1) % len(COMPANIES)]
    suffix = "" if ident <= len(COMPANIES) else str(ident)
    return {
        "code": spec.code + suffix,
        "name": spec.name + suffix,
        "parent_company_id": None,
        "address_1": f"{rng.randint(1, 999)} {rng.choice(_STREETS)}",
        "city": spec.city,
        "country": spec.country,
        "active_flg": True,
        "cust_field_1": None,
        "_fac": None,
        "_co": ident,
        "_tzm": spec.tz_minutes,
    }


def facility(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    spec = FACILITIES[(ident - 1) % len(FACILITIES)]
    co = spec.company if ident <= len(FACILITIES) else _must(p.pick("company", rng), "company")
    code = spec.code if ident <= len(FACILITIES) else f"F{ident}"
    return {
        "company_id": co,
        "code": code,
        "name": spec.name if ident <= len(FACILITIES) else f"{spec.city} DC {ident}",
        "address_1": f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
        "city": spec.city,
        "state": spec.state,
        "zip": spec.zip,
        "country": spec.country,
        "ship_cutoff_time": f"{rng.randint(14, 18):02d}:{rng.choice((0, 30)):02d}:00",
        "active_flg": True,
        "cust_field_1": None,
        "_fac": ident,
        "_co": co,
        "_tzm": spec.tz_minutes,
    }


def vendor(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    co = _must(p.pick("company", rng), "company")
    return {
        "company_id": co,
        "vendor_code": f"V{ident:05d}",
        "name": f"{rng.choice(_WORDS)} {rng.choice(_NOUNS)}",
        "address_1": f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
        "city": rng.choice(_CITIES),
        "country": rng.choice(_COUNTRIES),
        "active_flg": rng.random() < 0.9,
        "cust_field_1": _maybe(rng, 0.3, f"VC{rng.randint(1, 99):02d}"),
        "_fac": None,
        "_co": co,
    }


def item(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    co = _must(p.pick("company", rng), "company")
    return {
        "company_id": co,
        "code": f"ITM{ident:06d}",
        "description": f"{rng.choice(_ADJ)} {rng.choice(_PRODUCTS)} {rng.randint(1, 500)}",
        "barcode": f"{rng.randrange(10**11, 10**12)}",
        "unit_cost": round(rng.uniform(0.5, 250.0), 4),
        "unit_weight": round(rng.uniform(0.01, 40.0), 3),
        "unit_volume": round(rng.uniform(0.001, 2.0), 3),
        "std_case_qty": float(rng.choice((1, 6, 12, 24, 48))),
        "hazmat_flg": rng.random() < 0.05,
        "cust_field_1": _maybe(rng, 0.5, rng.choice(("FRAGILE", "COLD", "BULK", "KIT"))),
        "cust_field_2": _maybe(rng, 0.2, f"SEASON-{rng.randint(1, 4)}"),
        "_fac": None,
        "_co": co,
    }


def location(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = _facility(p, rng)
    area = rng.choice("ABCR")
    aisle, bay, level = ident // 40, (ident // 4) % 10, "ABCD"[ident % 4]
    ltype = 2 if area == "R" else rng.choice((1, 1, 1, 2, 3, 4, 5))
    return {
        "facility_id": fac,
        "location_type_id": ltype,
        "area": area,
        "aisle": f"{aisle:03d}",
        "bay": f"{bay:02d}",
        "level": level,
        "barcode": f"{area}-{aisle:03d}-{bay:02d}-{level}",
        "pick_sequence": ident,
        "max_lpns": rng.choice((1, 2, 4, 10)),
        "max_units": _qty(rng, 50, 5000),
        "allow_multi_sku_flg": rng.random() < 0.3,
        "last_count_date": _maybe(rng, 0.6, _date(rng, -200, -2)),
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def purchase_order_hdr(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = _facility(p, rng)
    vend = p.pick("vendor", rng, co=co) or _must(p.pick("vendor", rng), "vendor")
    return {
        "company_id": co,
        "facility_id": fac,
        "po_nbr": f"PO{ident:07d}",
        "vendor_id": vend,
        "status_id": _code("purchase_order_status", rng),
        "ord_date": _date(rng, -120, -10),
        "exp_receipt_date": _maybe(rng, 0.8, _date(rng, -9, 30)),
        "cust_field_1": _maybe(rng, 0.2, f"BUYER{rng.randint(1, 9)}"),
        "_fac": fac,
        "_co": co,
    }


def purchase_order_dtl(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    po = parent or _must(p.pick("purchase_order_hdr", rng), "purchase order")
    fac, co = (
        int(p.attr("purchase_order_hdr", po, "_fac")),
        int(p.attr("purchase_order_hdr", po, "_co")),
    )
    ordered = _qty(rng, 10, 500)
    return {
        "po_id": po,
        "seq_nbr": p.next_seq("purchase_order_dtl", po),
        "item_id": p.pick("item", rng, co=co) or _must(p.pick("item", rng), "item"),
        "ord_qty": ordered,
        "received_qty": float(rng.randint(0, int(ordered))),
        "unit_cost": round(rng.uniform(0.5, 200.0), 4),
        "status_id": _code("purchase_order_status", rng),
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def ib_shipment(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = _facility(p, rng)
    status = _code("ib_shipment_status", rng)
    return {
        "company_id": co,
        "facility_id": fac,
        "shipment_nbr": f"ASN{ident:07d}",
        "vendor_id": p.pick("vendor", rng, co=co) if rng.random() < 0.7 else None,
        "status_id": status,
        "trailer_nbr": _maybe(rng, 0.8, f"TRL{rng.randint(1000, 9999)}"),
        "ref_nbr": _maybe(rng, 0.5, f"REF-{rng.randint(10000, 99999)}"),
        "exp_arrival_date": _date(rng, -60, 20),
        "verified_ts": mod_ts if status == 90 else None,
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def ib_shipment_dtl(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    shp = parent or _must(p.pick("ib_shipment", rng), "ib_shipment")
    fac, co = int(p.attr("ib_shipment", shp, "_fac")), int(p.attr("ib_shipment", shp, "_co"))
    shipped = _qty(rng, 1, 300)
    return {
        "shipment_id": shp,
        "seq_nbr": p.next_seq("ib_shipment_dtl", shp),
        "item_id": p.pick("item", rng, co=co) or _must(p.pick("item", rng), "item"),
        "po_dtl_id": p.pick("purchase_order_dtl", rng, co=co) if rng.random() < 0.6 else None,
        "lpn_nbr": _maybe(rng, 0.7, f"IB{rng.randint(1, 99999999):08d}"),
        "shipped_qty": shipped,
        "received_qty": float(rng.randint(0, int(shipped))),
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def iblpn(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = _facility(p, rng)
    status = rng.choice((0, 10, 20, 20, 20, 95))
    return {
        "company_id": co,
        "facility_id": fac,
        "container_nbr": f"IB{ident:08d}",
        "status_id": status,
        "shipment_id": p.pick("ib_shipment", rng, fac=fac) if rng.random() < 0.8 else None,
        "location_id": p.pick("location", rng, fac=fac) if status >= 20 else None,
        "weight": round(rng.uniform(1.0, 900.0), 3),
        "volume": round(rng.uniform(0.01, 2.5), 3),
        "priority_date": _maybe(rng, 0.3, _date(rng, -90, 0)),
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def inventory(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = _facility(p, rng)
    container = p.pick("iblpn", rng, fac=fac) if rng.random() < 0.3 else None
    if container is not None:
        loc = p.attr("iblpn", container, "location_id")
    else:
        loc = p.pick("location", rng, fac=fac)
    orig = _qty(rng, 1, 1000)
    return {
        "company_id": co,
        "facility_id": fac,
        "item_id": p.pick("item", rng, co=co) or _must(p.pick("item", rng), "item"),
        "location_id": loc,
        "container_id": container,
        "curr_qty": float(rng.randint(0, int(orig))),
        "orig_qty": orig,
        "pack_qty": float(rng.choice((1, 6, 12))),
        "case_qty": float(rng.choice((6, 12, 24, 48))),
        "batch_nbr": _maybe(rng, 0.4, f"B{rng.randint(1, 99999):05d}"),
        "expiry_date": _maybe(rng, 0.3, _date(rng, 5, 700)),
        "manufacture_date": _maybe(rng, 0.3, _date(rng, -400, -5)),
        "lock_flg": rng.random() < 0.03,
        "cust_field_1": _maybe(rng, 0.25, rng.choice(("QC", "RETURN", "DAMAGED", "PROMO"))),
        "cust_field_2": None,
        "_fac": fac,
        "_co": co,
    }


def order_hdr(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = _facility(p, rng)
    return {
        "company_id": co,
        "facility_id": fac,
        "order_nbr": f"ORD{ident:07d}",
        "order_type_id": _code("order_type", rng),
        "status_id": _code("order_status", rng),
        "priority": rng.choice((10, 50, 50, 50, 90)),
        "ord_date": _date(rng, -100, -1),
        "req_ship_date": _maybe(rng, 0.9, _date(rng, -60, 20)),
        "cust_name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        "cust_city": rng.choice(_CITIES),
        "cust_country": rng.choice(_COUNTRIES),
        "total_orig_ord_qty": _qty(rng, 1, 400),
        "externally_planned_load_flg": rng.random() < 0.1,
        "cust_field_1": _maybe(rng, 0.4, rng.choice(("WEB", "EDI", "PHONE", "STORE"))),
        "cust_field_2": _maybe(rng, 0.1, f"PROMO{rng.randint(1, 20)}"),
        "_fac": fac,
        "_co": co,
    }


def order_dtl(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    order = parent or _must(p.pick("order_hdr", rng), "order")
    fac, co = int(p.attr("order_hdr", order, "_fac")), int(p.attr("order_hdr", order, "_co"))
    ordered = _qty(rng, 1, 100)
    return {
        "order_id": order,
        "seq_nbr": p.next_seq("order_dtl", order),
        "item_id": p.pick("item", rng, co=co) or _must(p.pick("item", rng), "item"),
        "ord_qty": ordered,
        "orig_ord_qty": ordered,
        "alloc_qty": float(rng.randint(0, int(ordered))),
        "unit_sale_price": round(rng.uniform(1.0, 500.0), 2),
        "status_id": int(p.attr("order_hdr", order, "status_id")),
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def oblpn(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = _facility(p, rng)
    status = rng.choice((50, 60, 60, 70, 80))
    return {
        "company_id": co,
        "facility_id": fac,
        "container_nbr": f"OB{ident:08d}",
        "status_id": status,
        "order_id": p.pick("order_hdr", rng, fac=fac) or _must(p.pick("order_hdr", rng), "order"),
        "location_id": p.pick("location", rng, fac=fac) if status < 80 else None,
        "weight": round(rng.uniform(0.5, 60.0), 3),
        "volume": round(rng.uniform(0.005, 0.5), 3),
        "tracking_nbr": f"1Z{rng.randrange(10**15, 10**16)}" if status == 80 else None,
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def allocation(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = _facility(p, rng)
    line = p.pick("order_dtl", rng, fac=fac) or _must(p.pick("order_dtl", rng), "order line")
    allocated = _qty(rng, 1, 50)
    status = _code("allocation_status", rng)
    return {
        "facility_id": fac,
        "order_dtl_id": line,
        "item_id": int(p.attr("order_dtl", line, "item_id")),
        "from_location_id": _must(p.pick("location", rng, fac=fac), "location"),
        "to_container_id": p.pick("oblpn", rng, fac=fac) if rng.random() < 0.6 else None,
        "alloc_qty": allocated,
        "packed_qty": allocated if status == 91 else 0.0,
        "status_id": status,
        "_fac": fac,
        "_co": co,
    }


def inventory_history(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    """Rows come in transaction groups of eight consecutive ids sharing facility, activity and
    `group_nbr`, like the several history rows one WMS transaction writes."""
    group = (ident - 1) // 8 + 1
    fac = (group * 7 + group // 3) % len(FACILITIES) + 1
    co = FACILITIES[fac - 1].company
    activity = (group * 13 + group // 7) % len(CODE_ROWS["history_activity"]) + 1
    orig = _qty(rng, 1, 500)
    adjust = activity in (3, 4, 5)
    delta = float(rng.randint(1, 40)) * (-1 if activity in (4, 6, 8) else 1)
    if activity in (7, 8):
        container = p.pick("oblpn", rng, fac=fac)
        cnbr = f"OB{container:08d}" if container is not None else None
    else:
        container = p.pick("iblpn", rng, fac=fac)
        cnbr = f"IB{container:08d}" if container is not None else None
    item_id = p.pick("item", rng, co=co)
    return {
        "company_id": co,
        "facility_id": fac,
        "history_activity_id": activity,
        "status_id": HISTORY_STATUS[activity],
        "item_code": f"ITM{item_id:06d}" if item_id is not None else None,
        "container_nbr": cnbr,
        "group_nbr": f"G{group:09d}",
        "adj_qty": delta,
        "orig_qty": orig,
        "reason_code": rng.choice(HISTORY_REASONS) if adjust else None,
        "transaction_ref_nbr": f"TXN-{group:09d}-{rng.randint(1, 999):03d}",
        "_fac": fac,
        "_co": co,
    }


Builder = Callable[[Picker, Random, int, "int | None", str], Row]


def config_builder(name: str) -> Builder:
    """Rows of a generic configuration entity: four per facility, round robin."""
    prefix = "".join(part[0] for part in name.split("_")).upper()
    label = name.replace("_", " ").capitalize()

    def build(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
        fac = (ident - 1) % len(FACILITIES) + 1
        return {
            "company_id": FACILITIES[fac - 1].company,
            "facility_id": fac,
            "code": f"{prefix}{ident:05d}",
            "description": f"{label} {ident}",
            "cust_field_1": _maybe(rng, 0.3, f"CF{rng.randint(1, 99):02d}"),
            "_fac": fac,
            "_co": FACILITIES[fac - 1].company,
        }

    return build


BUILDERS: dict[str, Builder] = {
    "company": company,
    "facility": facility,
    "vendor": vendor,
    "item": item,
    "location": location,
    "purchase_order_hdr": purchase_order_hdr,
    "purchase_order_dtl": purchase_order_dtl,
    "ib_shipment": ib_shipment,
    "ib_shipment_dtl": ib_shipment_dtl,
    "iblpn": iblpn,
    "inventory": inventory,
    "order_hdr": order_hdr,
    "order_dtl": order_dtl,
    "oblpn": oblpn,
    "allocation": allocation,
    "inventory_history": inventory_history,
}


def builder_for(name: str) -> Builder:
    """The entity's own factory, or the generic configuration one."""
    builder = BUILDERS.get(name)
    if builder is None:
        builder = BUILDERS[name] = config_builder(name)
    return builder


PARENTS: dict[str, tuple[str, str]] = {
    "purchase_order_dtl": ("purchase_order_hdr", "po_id"),
    "ib_shipment_dtl": ("ib_shipment", "shipment_id"),
    "order_dtl": ("order_hdr", "order_id"),
}
"""Child entity -> (parent entity, foreign key): the generator groups lines under headers."""

KEPT_ATTRS: dict[str, tuple[str, ...]] = {
    "company": ("_tzm",),
    "facility": ("_tzm",),
    "iblpn": ("location_id",),
    "order_hdr": ("status_id",),
    "order_dtl": ("item_id",),
}
"""Values besides `_fac`/`_co` that factories read back through `Picker.attr`."""
