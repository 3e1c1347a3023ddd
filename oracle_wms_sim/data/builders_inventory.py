"""Row factories of inventory: stock records and the append-only inventory history."""

from __future__ import annotations

from random import Random

from .builder_base import Picker, Row, date_between, maybe, must, pick_facility, qty
from .codes import ACTIVE_LOCATION, LPN_CANCELLED, code_id
from .reference import CODE_ROWS, FACILITIES, HISTORY_REASONS, HISTORY_STATUS

_EMPTY_LPN = frozenset((code_id("container_status", "CONSUMED"), LPN_CANCELLED))
"""IBLPNs that hold no units: a consumed LPN's inventory went to zero (Oracle's "Direct
Consume": "update its inventory to zero"), a cancelled one never received any."""
_TRIES = 64
"""Draws of a location (or an LPN) before settling for none: loose units live only in ACTIVE
locations (reserve locations hold LPNs), units in LPNs only in LPNs that can hold them."""


_LOW_STOCK_EVERY = 20


def _active_location(p: Picker, rng: Random, fac: int) -> int | None:
    for _ in range(_TRIES):
        loc = p.pick("location", rng, fac=fac)
        if loc is None or int(p.attr("location", loc, "location_type_id")) == ACTIVE_LOCATION:
            return loc
    return None


def _holding_lpn(p: Picker, rng: Random, fac: int) -> int | None:
    for _ in range(_TRIES):
        lpn = p.pick("iblpn", rng, fac=fac)
        if lpn is None or int(p.attr("iblpn", lpn, "status_id")) not in _EMPTY_LPN:
            return lpn
    return None


def inventory(p: Picker, rng: Random, ident: int, parent: int | None, mod_ts: str) -> Row:
    """A stock record: in an IBLPN that can hold units (its location is the LPN's), or loose in
    an ACTIVE location, as Oracle keeps them (24D "Inventory Management Modules": active
    inventory by active location, IBLPN inventory by LPN)."""
    fac, co = pick_facility(p, rng)
    container = _holding_lpn(p, rng, fac) if rng.random() < 0.3 else None
    if container is not None:
        loc = p.attr("iblpn", container, "location_id")
    else:
        loc = _active_location(p, rng, fac) or p.pick("location", rng, fac=fac)
    orig = qty(rng, 1, 1000)
    item = p.pick("item", rng, co=co) or must(p.pick("item", rng), "item")
    curr = float(rng.randint(0, int(orig)))
    return {
        "company_id": co,
        "facility_id": fac,
        "item_id": item,
        "location_id": loc,
        "container_id": container,
        # every 20th item runs low (at most 4 units a row), as some items of a real warehouse do
        # (no draw from `rng`: the rest of the generated data stays as it was)
        "curr_qty": min(curr, 4.0) if item % _LOW_STOCK_EVERY == 0 else curr,
        "orig_qty": orig,
        "pack_qty": float(rng.choice((1, 6, 12))),
        "case_qty": float(rng.choice((6, 12, 24, 48))),
        "batch_nbr": maybe(rng, 0.4, f"B{rng.randint(1, 99999):05d}"),
        "expiry_date": maybe(rng, 0.3, date_between(rng, 5, 700)),
        "manufacture_date": maybe(rng, 0.3, date_between(rng, -400, -5)),
        "lock_flg": rng.random() < 0.03,
        "cust_field_1": maybe(rng, 0.25, rng.choice(("QC", "RETURN", "DAMAGED", "PROMO"))),
        "cust_field_2": None,
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
    orig = qty(rng, 1, 500)
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
        "item_alternate_code": f"ALT{item_id:06d}" if item_id is not None else None,
        "container_nbr": cnbr,
        "group_nbr": f"G{group:09d}",
        "adj_qty": delta,
        "orig_qty": orig,
        "reason_code": rng.choice(HISTORY_REASONS) if adjust else None,
        "transaction_ref_nbr": f"TXN-{group:09d}-{rng.randint(1, 999):03d}",
        "_fac": fac,
        "_co": co,
    }
