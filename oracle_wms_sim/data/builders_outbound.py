"""Row factories of the outbound side: orders and their lines, outbound LPNs, allocations."""

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
    pick_code,
    pick_facility,
    qty,
)
from .reference import CODE_ROWS, FACILITIES

_FIRST = ("Ana", "Ben", "Chen", "Dana", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jules")
_LAST = ("Smith", "Garcia", "Nguyen", "Okafor", "Jansen", "Muller", "Rossi", "Kim")


_PATCH_ONLY = (
    "start_ship_date",
    "stop_ship_date",
    "ref_nbr",
    "spl_instr",
    "sales_channel",
    "gift_msg",
)
"""Order fields Oracle lets PATCH change; generated orders leave them empty (no draw from `rng`,
so the rest of the generated data stays as it was)."""


def order_hdr(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = pick_facility(p, rng)
    return {
        "company_id": co,
        "facility_id": fac,
        "order_nbr": f"ORD{ident:07d}",
        "order_type_id": pick_code("order_type", rng),
        "status_id": pick_code("order_status", rng),
        "priority": rng.choice((10, 50, 50, 50, 90)),
        "ord_date": date_between(rng, -100, -1),
        "req_ship_date": maybe(rng, 0.9, date_between(rng, -60, 20)),
        **dict.fromkeys(_PATCH_ONLY),
        "cust_name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        "cust_city": rng.choice(CITIES),
        "cust_country": rng.choice(COUNTRIES),
        "total_orig_ord_qty": qty(rng, 1, 400),
        "externally_planned_load_flg": rng.random() < 0.1,
        "cust_field_1": maybe(rng, 0.4, rng.choice(("WEB", "EDI", "PHONE", "STORE"))),
        "cust_field_2": maybe(rng, 0.1, f"PROMO{rng.randint(1, 20)}"),
        "_fac": fac,
        "_co": co,
    }


def order_dtl(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    order = parent or must(p.pick("order_hdr", rng), "order")
    fac, co = int(p.attr("order_hdr", order, "_fac")), int(p.attr("order_hdr", order, "_co"))
    ordered = qty(rng, 1, 100)
    return {
        "order_id": order,
        "seq_nbr": p.next_seq("order_dtl", order),
        "item_id": p.pick("item", rng, co=co) or must(p.pick("item", rng), "item"),
        "ord_qty": ordered,
        "orig_ord_qty": ordered,
        "alloc_qty": float(rng.randint(0, int(ordered))),
        "unit_sale_price": round(rng.uniform(1.0, 500.0), 2),
        "status_id": int(p.attr("order_hdr", order, "status_id")),
        "cust_field_1": None,
        # no draw from `rng`: the rest of the generated data stays as it was
        "shipped_qty": ordered if int(p.attr("order_hdr", order, "status_id")) == 90 else 0.0,
        "_fac": fac,
        "_co": co,
    }


def oblpn(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = pick_facility(p, rng)
    status = rng.choice((50, 60, 60, 70, 80))
    return {
        "company_id": co,
        "facility_id": fac,
        "container_nbr": f"OB{ident:08d}",
        "status_id": status,
        "order_id": p.pick("order_hdr", rng, fac=fac) or must(p.pick("order_hdr", rng), "order"),
        "location_id": p.pick("location", rng, fac=fac) if status < 80 else None,
        "weight": round(rng.uniform(0.5, 60.0), 3),
        "volume": round(rng.uniform(0.005, 0.5), 3),
        "tracking_nbr": f"1Z{rng.randrange(10**15, 10**16)}" if status == 80 else None,
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def allocation(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = pick_facility(p, rng)
    line = p.pick("order_dtl", rng, fac=fac) or must(p.pick("order_dtl", rng), "order line")
    allocated = qty(rng, 1, 50)
    status = pick_code("allocation_status", rng)
    return {
        "facility_id": fac,
        "order_dtl_id": line,
        "item_id": int(p.attr("order_dtl", line, "item_id")),
        "from_location_id": must(p.pick("location", rng, fac=fac), "location"),
        "to_container_id": p.pick("oblpn", rng, fac=fac) if rng.random() < 0.6 else None,
        "alloc_qty": allocated,
        "packed_qty": allocated if status == 91 else 0.0,
        "status_id": status,
        "wave_id": None,  # generated allocations belong to no simulated wave
        "task_id": None,
        "_fac": fac,
        "_co": co,
    }


_GENERATED = 12
"""Rows of wave_template, wave and task at every scale."""


def wave_template(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    """Four per facility: `TPL-F1-ALL` (every order type), then one per order type 1-3; a live
    insert (`insert_records`, ids above the generated 12) adds its id to keep names unique."""
    fac = (ident - 1) % len(FACILITIES) + 1
    kind = (ident - 1) // len(FACILITIES) % 4
    code = "ALL" if kind == 0 else CODE_ROWS["order_type"][kind - 1][1]
    return {
        "company_id": FACILITIES[fac - 1].company,
        "facility_id": fac,
        "template_name": f"TPL-F{fac}-{code}" if ident <= _GENERATED else f"TPL-F{fac}-{ident}",
        "description": f"Wave template {code.lower()} orders",
        "order_type_id": None if kind == 0 else CODE_ROWS["order_type"][kind - 1][0],
        "cust_field_1": None,
        "_fac": fac,
        "_co": FACILITIES[fac - 1].company,
    }


def wave(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    """Four completed waves per facility, run numbers 1-4; a live insert takes 100000 + its id
    (never a number the API hands out: those follow the facility's highest)."""
    fac = (ident - 1) % len(FACILITIES) + 1
    run_nbr = (ident - 1) // len(FACILITIES) + 1 if ident <= _GENERATED else 100_000 + ident
    return {
        "company_id": FACILITIES[fac - 1].company,
        "facility_id": fac,
        "run_nbr": run_nbr,
        "wave_template_id": p.pick("wave_template", rng, fac=fac),
        "status_id": 90,
        "cust_field_1": None,
        "_fac": fac,
        "_co": FACILITIES[fac - 1].company,
    }


def task(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac = (ident - 1) % len(FACILITIES) + 1
    return {
        "company_id": FACILITIES[fac - 1].company,
        "facility_id": fac,
        "task_nbr": f"TSK{ident:07d}",
        "wave_id": p.pick("wave", rng, fac=fac),
        "status_id": 90,
        "cust_field_1": None,
        "_fac": fac,
        "_co": FACILITIES[fac - 1].company,
    }
