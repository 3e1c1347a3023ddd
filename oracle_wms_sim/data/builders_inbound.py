"""Row factories of the inbound side: purchase orders and their lines, inbound shipments (ASNs)
and their lines, inbound LPNs.
"""

from __future__ import annotations

from random import Random

from .builder_base import Picker, Row, date_between, maybe, must, pick_code, pick_facility, qty


def purchase_order_hdr(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = pick_facility(p, rng)
    vend = p.pick("vendor", rng, co=co) or must(p.pick("vendor", rng), "vendor")
    return {
        "company_id": co,
        "facility_id": fac,
        "po_nbr": f"PO{ident:07d}",
        "vendor_id": vend,
        "status_id": pick_code("purchase_order_status", rng),
        "ord_date": date_between(rng, -120, -10),
        "exp_receipt_date": maybe(rng, 0.8, date_between(rng, -9, 30)),
        "cust_field_1": maybe(rng, 0.2, f"BUYER{rng.randint(1, 9)}"),
        "_fac": fac,
        "_co": co,
    }


def purchase_order_dtl(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    po = parent or must(p.pick("purchase_order_hdr", rng), "purchase order")
    fac, co = (
        int(p.attr("purchase_order_hdr", po, "_fac")),
        int(p.attr("purchase_order_hdr", po, "_co")),
    )
    ordered = qty(rng, 10, 500)
    return {
        "po_id": po,
        "seq_nbr": p.next_seq("purchase_order_dtl", po),
        "item_id": p.pick("item", rng, co=co) or must(p.pick("item", rng), "item"),
        "ord_qty": ordered,
        "received_qty": float(rng.randint(0, int(ordered))),
        "unit_cost": round(rng.uniform(0.5, 200.0), 4),
        "status_id": pick_code("purchase_order_status", rng),
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def ib_shipment(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = pick_facility(p, rng)
    status = pick_code("ib_shipment_status", rng)
    return {
        "company_id": co,
        "facility_id": fac,
        "shipment_nbr": f"ASN{ident:07d}",
        "vendor_id": p.pick("vendor", rng, co=co) if rng.random() < 0.7 else None,
        "status_id": status,
        "trailer_nbr": maybe(rng, 0.8, f"TRL{rng.randint(1000, 9999)}"),
        "ref_nbr": maybe(rng, 0.5, f"REF-{rng.randint(10000, 99999)}"),
        "exp_arrival_date": date_between(rng, -60, 20),
        "verified_ts": mod_ts if status == 90 else None,
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def ib_shipment_dtl(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    shp = parent or must(p.pick("ib_shipment", rng), "ib_shipment")
    fac, co = int(p.attr("ib_shipment", shp, "_fac")), int(p.attr("ib_shipment", shp, "_co"))
    shipped = qty(rng, 1, 300)
    return {
        "shipment_id": shp,
        "seq_nbr": p.next_seq("ib_shipment_dtl", shp),
        "item_id": p.pick("item", rng, co=co) or must(p.pick("item", rng), "item"),
        "po_dtl_id": p.pick("purchase_order_dtl", rng, co=co) if rng.random() < 0.6 else None,
        "lpn_nbr": maybe(rng, 0.7, f"IB{rng.randint(1, 99999999):08d}"),
        "shipped_qty": shipped,
        "received_qty": float(rng.randint(0, int(shipped))),
        **{f"inv_attr_{letter}": None for letter in "abcdefghijklmno"},
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }


def iblpn(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    fac, co = pick_facility(p, rng)
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
        "priority_date": maybe(rng, 0.3, date_between(rng, -90, 0)),
        "cust_field_1": None,
        "_fac": fac,
        "_co": co,
    }
