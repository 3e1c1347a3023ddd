"""What the JSON stage interface of each entity takes (the table in docs/write-api.md, "Stage
interface"), and which of them Oracle documents.
"""

from __future__ import annotations

from dataclasses import dataclass

DOCUMENTED = frozenset({"order"})
"""Stage entities with a JSON interface Oracle documents: sales orders (JSON since 24B, with the
`parameters` of Readiness 24D). Oracle documents no JSON ASN (`ib_shipment`) interface."""
UNDOCUMENTED = (
    "Oracle documents no JSON stage interface for '{entity}' (only the XML init_stage_interface "
    "has one); this target assumes POST stage/{entity}/ takes the sales order interface's shape "
    "(see docs/api-behaviour.md, 'Stage')"
)


@dataclass(frozen=True)
class StageSpec:
    """What the stage interface of one entity takes (the table in docs/write-api.md)."""

    entity: str
    header_entity: str
    line_entity: str
    key_field: str
    header_fields: frozenset[str]
    """Header fields sent as given, checked against `describe` of `header_entity`."""
    line_fields: frozenset[str]
    qty_field: str
    code_field: str
    """The header's coded reference: order type (orders) or vendor (ASNs)."""
    code_entity: str
    code_key: str
    code_required: bool
    code_per_company: bool
    noun: str
    """For messages: "Order WEB-1 was not created ..."."""

    @property
    def list_name(self) -> str:
        return f"stage_{self.entity}_list"

    @property
    def line_list_name(self) -> str:
        return f"stage_{self.line_entity}_list"

    @property
    def record_fields(self) -> frozenset[str]:
        control = {"facility_code", "company_code", "action_code", "lines"}
        return self.header_fields | {self.key_field, self.code_field} | control


STAGE: dict[str, StageSpec] = {
    "order": StageSpec(
        entity="order",
        header_entity="order_hdr",
        line_entity="order_dtl",
        key_field="order_nbr",
        header_fields=frozenset(
            {
                "ord_date",
                "req_ship_date",
                "priority",
                "cust_name",
                "cust_city",
                "cust_country",
                "cust_field_1",
                "cust_field_2",
            }
        ),
        line_fields=frozenset({"unit_sale_price", "cust_field_1"}),
        qty_field="ord_qty",
        code_field="order_type",
        code_entity="order_type",
        code_key="code",
        code_required=True,
        code_per_company=False,
        noun="Order",
    ),
    "ib_shipment": StageSpec(
        entity="ib_shipment",
        header_entity="ib_shipment",
        line_entity="ib_shipment_dtl",
        key_field="shipment_nbr",
        header_fields=frozenset({"trailer_nbr", "ref_nbr", "exp_arrival_date", "cust_field_1"}),
        line_fields=frozenset({"lpn_nbr", "cust_field_1"}),
        qty_field="shipped_qty",
        code_field="vendor_code",
        code_entity="vendor",
        code_key="vendor_code",
        code_required=False,
        code_per_company=True,
        noun="Shipment",
    ),
}
