"""Row factories of the master data: companies, facilities, vendors, items, locations."""

from __future__ import annotations

from random import Random

from .builder_base import (
    CITIES,
    COUNTRIES,
    Picker,
    Row,
    date_between,
    maybe,
    must,
    pick_facility,
    qty,
)
from .reference import COMPANIES, FACILITIES

_WORDS = ("North", "Blue", "Summit", "Harbor", "Pine", "Delta", "Silver", "Prairie", "Atlas")
_NOUNS = ("Supply", "Foods", "Textiles", "Components", "Tools", "Goods", "Paper", "Labs")
_PRODUCTS = ("Widget", "Bracket", "Cable", "Sensor", "Gasket", "Bottle", "Carton", "Lamp")
_ADJ = ("Small", "Large", "Red", "Steel", "Organic", "Heavy-duty", "Compact", "Premium")
_STREETS = ("Main St", "Oak Ave", "Industrial Pkwy", "Harbor Rd", "Mill Ln", "Dock St")


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
    co = spec.company if ident <= len(FACILITIES) else must(p.pick("company", rng), "company")
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
    co = must(p.pick("company", rng), "company")
    return {
        "company_id": co,
        "vendor_code": f"V{ident:05d}",
        "name": f"{rng.choice(_WORDS)} {rng.choice(_NOUNS)}",
        "address_1": f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
        "city": rng.choice(CITIES),
        "country": rng.choice(COUNTRIES),
        "active_flg": rng.random() < 0.9,
        "cust_field_1": maybe(rng, 0.3, f"VC{rng.randint(1, 99):02d}"),
        "_fac": None,
        "_co": co,
    }


def item(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    co = must(p.pick("company", rng), "company")
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
        "cust_field_1": maybe(rng, 0.5, rng.choice(("FRAGILE", "COLD", "BULK", "KIT"))),
        "cust_field_2": maybe(rng, 0.2, f"SEASON-{rng.randint(1, 4)}"),
        "_fac": None,
        "_co": co,
    }


def location(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = pick_facility(p, rng)
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
        "max_units": qty(rng, 50, 5000),
        "allow_multi_sku_flg": rng.random() < 0.3,
        "last_count_date": maybe(rng, 0.6, date_between(rng, -200, -2)),
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }
