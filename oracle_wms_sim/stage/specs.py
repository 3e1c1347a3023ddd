"""What each stage entity takes and where its documents land (docs/write-api.md, the table of
"Stage interface"): the header and line entities, the business key, the fields stored as given,
the coded reference, the line quantity and the first status.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..data import codes

ACTIONS = ("CREATE", "UPDATE", "DELETE")
CODE_MAX = 25  # item, vendor and order type codes


@dataclass(frozen=True)
class DocumentSpec:
    """What one stage entity takes and where it lands."""

    entity: str  # the stage name: `order`, `ib_shipment`
    header: str  # header entity
    line: str  # line entity
    link: str  # the line's foreign key to its header
    key: str  # the business key of the header, unique per facility
    noun: str  # for messages: "Order 'WEB-1' already exists ..."
    header_fields: frozenset[str]  # stored as given (checked against the header entity)
    code_field: str  # the header's coded reference (order type, vendor)
    line_fields: frozenset[str]  # stored as given (checked against the line entity)
    qty: str  # the line quantity, > 0
    status_table: str
    first_status: int  # new documents start here; only these can be deleted

    @property
    def list_name(self) -> str:
        return f"stage_{self.entity}_list"

    @property
    def line_list(self) -> str:
        return f"stage_{self.line}_list"

    @property
    def record_fields(self) -> frozenset[str]:
        return frozenset(
            ("action_code", self.key, self.code_field, self.line_list, *self.header_fields)
        )

    @property
    def line_record_fields(self) -> frozenset[str]:
        return frozenset(("seq_nbr", "item_code", self.qty, *self.line_fields))


SPECS: dict[str, DocumentSpec] = {
    "order": DocumentSpec(
        entity="order",
        header="order_hdr",
        line="order_dtl",
        link="order_id",
        key="order_nbr",
        noun="Order",
        header_fields=frozenset(
            (
                "ord_date",
                "req_ship_date",
                "priority",
                "cust_name",
                "cust_city",
                "cust_country",
                "cust_field_1",
                "cust_field_2",
            )
        ),
        code_field="order_type",
        line_fields=frozenset(("unit_sale_price", "cust_field_1")),
        qty="ord_qty",
        status_table="order_status",
        first_status=codes.code_id("order_status", "CREATED"),
    ),
    "ib_shipment": DocumentSpec(
        entity="ib_shipment",
        header="ib_shipment",
        line="ib_shipment_dtl",
        link="shipment_id",
        key="shipment_nbr",
        noun="Shipment",
        header_fields=frozenset(("trailer_nbr", "ref_nbr", "exp_arrival_date", "cust_field_1")),
        code_field="vendor_code",
        line_fields=frozenset(("lpn_nbr", "cust_field_1")),
        qty="shipped_qty",
        status_table="ib_shipment_status",
        first_status=codes.code_id("ib_shipment_status", "IN_TRANSIT"),
    ),
}


@dataclass(frozen=True)
class Target:
    """Where a message's documents go: the header's facility and company, and who sent it."""

    facility_id: int
    company_id: int
    facility_code: str
    company_code: str
    tz_minutes: int
    username: str
