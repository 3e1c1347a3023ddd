"""Row factories: one function per entity that makes a coherent record.

The bulk generator and the live `insert_records` share these, so inserted rows look like generated
ones. A factory asks a `Picker` for related ids (within the same facility or company, so foreign
keys stay coherent) and returns the stored fields except `id` and the audit fields, plus the hidden
`_fac`/`_co` ownership columns (and `_tzm` for facilities and companies, which own a zone).
"""

from __future__ import annotations

from random import Random

from . import builders_inbound, builders_inventory, builders_master, builders_outbound
from .builder_base import Builder, Picker, Row, maybe
from .reference import FACILITIES


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
            "cust_field_1": maybe(rng, 0.3, f"CF{rng.randint(1, 99):02d}"),
            "_fac": fac,
            "_co": FACILITIES[fac - 1].company,
        }

    return build


BUILDERS: dict[str, Builder] = {
    "company": builders_master.company,
    "facility": builders_master.facility,
    "vendor": builders_master.vendor,
    "item": builders_master.item,
    "location": builders_master.location,
    "purchase_order_hdr": builders_inbound.purchase_order_hdr,
    "purchase_order_dtl": builders_inbound.purchase_order_dtl,
    "ib_shipment": builders_inbound.ib_shipment,
    "ib_shipment_dtl": builders_inbound.ib_shipment_dtl,
    "iblpn": builders_inbound.iblpn,
    "inventory": builders_inventory.inventory,
    "order_hdr": builders_outbound.order_hdr,
    "order_dtl": builders_outbound.order_dtl,
    "oblpn": builders_outbound.oblpn,
    "wave_template": builders_outbound.wave_template,
    "wave": builders_outbound.wave,
    "task": builders_outbound.task,
    "allocation": builders_outbound.allocation,
    "inventory_history": builders_inventory.inventory_history,
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
    "iblpn": ("location_id", "status_id"),
    "location": ("location_type_id",),
    "order_hdr": ("status_id",),
    "order_dtl": ("item_id",),
}
"""Values besides `_fac`/`_co` that factories read back through `Picker.attr`."""
