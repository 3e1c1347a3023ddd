"""The simulated entity catalogue: field names, types and relations, as `describe` reports them.

One table of truth drives the SQLite schema, the generator, the filters, the renderer and
`describe`, so that the five can never disagree. Field names follow Oracle WMS conventions
(`*_id` foreign key, `*_ts` date-time, `*_date` date, `*_flg` boolean, `*_qty` decimal).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

# Type names reported by `describe` (docs/api-behaviour.md).
INTEGER: Final = "integer"
STRING: Final = "string"
DECIMAL: Final = "decimal"
BOOLEAN: Final = "boolean"
DATETIME: Final = "datetime"
DATE: Final = "date"
TIME: Final = "time"
FOREIGN_KEY: Final = "foreign_key"
CHILD_SET: Final = "child_set"

SQL_TYPES: Final = {
    INTEGER: "INTEGER",
    STRING: "TEXT",
    DECIMAL: "REAL",
    BOOLEAN: "INTEGER",
    DATETIME: "TEXT",
    DATE: "TEXT",
    TIME: "TEXT",
    FOREIGN_KEY: "INTEGER",
}


@dataclass(frozen=True)
class Field:
    """One field of an entity. `related` names the target entity of a foreign key or child set."""

    name: str
    type: str
    max_length: int | None = None
    required: bool = False
    default: str | int | bool | None = None
    related: str | None = None
    child_fk: str | None = None  # child_set: the child's foreign key pointing back here
    scale: int = 3  # decimals: digits after the point when rendered

    @property
    def nullable(self) -> bool:
        return not self.required and self.name != "id"

    @property
    def stored(self) -> bool:
        """Child sets are computed from the child table, not stored."""
        return self.type != CHILD_SET

    @property
    def filterable(self) -> bool:
        return self.type != CHILD_SET


@dataclass(frozen=True)
class Entity:
    """An entity: its fields in response order, the field used as a foreign-key `key`, and
    `key_sql`, an SQL expression over alias `r` when the key is not a single column."""

    name: str
    fields: tuple[Field, ...]
    key: str = "code"
    key_sql: str | None = None
    mutable: str = "cust_field_1"  # the ordinary field that `update_records` changes
    base_count: int = 0  # rows at scale 1 (0: fixed rows, see generator)
    scales: bool = True  # False: `base_count` rows whatever the scale (configuration entities)
    indexes: tuple[str, ...] = ()  # extra single-column indexes for documented filters
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def tracks_changes(self) -> bool:
        """Has `mod_ts`: updates stamp it, single records send `Last-Modified`."""
        return "mod_ts" in self.by_name

    @property
    def audited(self) -> bool:
        """Has `create_ts`: owned by a facility/company (hidden columns), built by a builder."""
        return "create_ts" in self.by_name

    @property
    def is_code_table(self) -> bool:
        return not self.audited

    @property
    def stamp_column(self) -> str:
        """The newest-change column: `mod_ts`, or `create_ts` for append-only history."""
        return "mod_ts" if self.tracks_changes else "create_ts"

    @property
    def stored_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.stored)

    def key_expression(self, alias: str) -> str:
        if self.key_sql is not None:
            return self.key_sql.replace("r.", f"{alias}.")
        return f"{alias}.{self.key}"


def _i(name: str, *, required: bool = False, default: int | None = None) -> Field:
    return Field(name, INTEGER, required=required, default=default)


def _s(name: str, max_length: int, *, required: bool = False) -> Field:
    return Field(name, STRING, max_length=max_length, required=required)


def _d(name: str, *, scale: int = 3, required: bool = True) -> Field:
    return Field(name, DECIMAL, required=required, default="0" if required else None, scale=scale)


def _b(name: str) -> Field:
    return Field(name, BOOLEAN, required=True, default=False)


def _fk(name: str, related: str, *, required: bool = True) -> Field:
    return Field(name, FOREIGN_KEY, required=required, related=related)


def _set(name: str, related: str, child_fk: str) -> Field:
    return Field(name, CHILD_SET, related=related, child_fk=child_fk)


def _audit() -> tuple[Field, ...]:
    return (
        Field("create_ts", DATETIME, required=True),
        _s("create_user", 30, required=True),
        Field("mod_ts", DATETIME, required=True),
        _s("mod_user", 30, required=True),
    )


def code_table(name: str) -> Entity:
    return Entity(
        name,
        (_i("id", required=True), _s("code", 25, required=True), _s("description", 100)),
        mutable="description",
    )


def config_entity(name: str) -> Entity:
    """A configuration entity of entities.tsv that the simulator does not model in depth:
    a few coded rows per facility, audited like every WMS record."""
    return Entity(
        name,
        (
            _ID,
            _fk("company_id", "company"),
            _fk("facility_id", "facility"),
            _s("code", 25, required=True),
            _s("description", 100),
            _s("cust_field_1", 50),
            *_audit(),
        ),
        base_count=12,
        scales=False,
    )


_ID = _i("id", required=True)

_ENTITY_LIST: Final = (
    code_table("order_status"),
    code_table("order_type"),
    code_table("ib_shipment_status"),
    code_table("purchase_order_status"),
    code_table("container_status"),
    code_table("location_type"),
    code_table("allocation_status"),
    code_table("history_activity"),
    Entity(
        "company",
        (
            _ID,
            _s("code", 25, required=True),
            _s("name", 60, required=True),
            _fk("parent_company_id", "company", required=False),
            _s("address_1", 100),
            _s("city", 40),
            _s("country", 2),
            _b("active_flg"),
            _s("cust_field_1", 50),
            *_audit(),
        ),
    ),
    Entity(
        "facility",
        (
            _ID,
            _fk("company_id", "company"),
            _s("code", 25, required=True),
            _s("name", 60, required=True),
            _s("address_1", 100),
            _s("city", 40),
            _s("state", 3),
            _s("zip", 10),
            _s("country", 2),
            Field("ship_cutoff_time", TIME),
            _b("active_flg"),
            _s("cust_field_1", 50),
            *_audit(),
        ),
    ),
    Entity(
        "vendor",
        (
            _ID,
            _fk("company_id", "company"),
            _s("vendor_code", 25, required=True),
            _s("name", 60, required=True),
            _s("address_1", 100),
            _s("city", 40),
            _s("country", 2),
            _b("active_flg"),
            _s("cust_field_1", 50),
            *_audit(),
        ),
        key="vendor_code",
        base_count=30,
    ),
    Entity(
        "item",
        (
            _ID,
            _fk("company_id", "company"),
            _s("code", 25, required=True),
            _s("description", 250),
            _s("barcode", 100),
            _d("unit_cost", scale=4),
            _d("unit_weight"),
            _d("unit_volume"),
            _d("std_case_qty"),
            _b("hazmat_flg"),
            _s("cust_field_1", 50),
            _s("cust_field_2", 50),
            *_audit(),
        ),
        base_count=200,
    ),
    Entity(
        "location",
        (
            _ID,
            _fk("facility_id", "facility"),
            _fk("location_type_id", "location_type"),
            _s("area", 10, required=True),
            _s("aisle", 10),
            _s("bay", 10),
            _s("level", 10),
            _s("barcode", 40, required=True),
            _i("pick_sequence"),
            _i("max_lpns"),
            _d("max_units"),
            _b("allow_multi_sku_flg"),
            Field("last_count_date", DATE),
            _s("cust_field_1", 50),
            *_audit(),
        ),
        key="barcode",
        base_count=600,
    ),
    Entity(
        "purchase_order_hdr",
        (
            _ID,
            _fk("company_id", "company"),
            _fk("facility_id", "facility"),
            _s("po_nbr", 50, required=True),
            _fk("vendor_id", "vendor"),
            _i("status_id", required=True),
            Field("ord_date", DATE, required=True),
            Field("exp_receipt_date", DATE),
            _s("cust_field_1", 50),
            _set("purchase_order_dtl_set", "purchase_order_dtl", "po_id"),
            *_audit(),
        ),
        key="po_nbr",
        base_count=90,
    ),
    Entity(
        "purchase_order_dtl",
        (
            _ID,
            _fk("po_id", "purchase_order_hdr"),
            _i("seq_nbr", required=True),
            _fk("item_id", "item"),
            _d("ord_qty"),
            _d("received_qty"),
            _d("unit_cost", scale=4),
            _i("status_id", required=True),
            _s("cust_field_1", 50),
            *_audit(),
        ),
        key="seq_nbr",
        key_sql=(
            "((SELECT p.po_nbr FROM purchase_order_hdr p WHERE p.id = r.po_id) || '-' || r.seq_nbr)"
        ),
        mutable="received_qty",
        base_count=360,
    ),
    Entity(
        "ib_shipment",
        (
            _ID,
            _fk("company_id", "company"),
            _fk("facility_id", "facility"),
            _s("shipment_nbr", 50, required=True),
            _fk("vendor_id", "vendor", required=False),
            _i("status_id", required=True),
            _s("trailer_nbr", 50),
            _s("ref_nbr", 50),
            Field("exp_arrival_date", DATE),
            Field("verified_ts", DATETIME),
            _s("cust_field_1", 50),
            _set("ib_shipment_dtl_set", "ib_shipment_dtl", "shipment_id"),
            *_audit(),
        ),
        key="shipment_nbr",
        base_count=120,
    ),
    Entity(
        "ib_shipment_dtl",
        (
            _ID,
            _fk("shipment_id", "ib_shipment"),
            _i("seq_nbr", required=True),
            _fk("item_id", "item"),
            _fk("po_dtl_id", "purchase_order_dtl", required=False),
            _s("lpn_nbr", 50),
            _d("shipped_qty"),
            _d("received_qty"),
            _s("cust_field_1", 50),
            *_audit(),
        ),
        key="seq_nbr",
        key_sql="((SELECT s.shipment_nbr FROM ib_shipment s WHERE s.id = r.shipment_id) "
        "|| '-' || r.seq_nbr)",
        mutable="received_qty",
        base_count=480,
    ),
    Entity(
        "iblpn",
        (
            _ID,
            _fk("company_id", "company"),
            _fk("facility_id", "facility"),
            _s("container_nbr", 50, required=True),
            _i("status_id", required=True),
            _fk("shipment_id", "ib_shipment", required=False),
            _fk("location_id", "location", required=False),
            _d("weight"),
            _d("volume"),
            Field("priority_date", DATE),
            _s("cust_field_1", 50),
            *_audit(),
        ),
        key="container_nbr",
        base_count=900,
    ),
    Entity(
        "inventory",
        (
            _ID,
            _fk("company_id", "company"),
            _fk("facility_id", "facility"),
            _fk("item_id", "item"),
            _fk("location_id", "location", required=False),
            _fk("container_id", "iblpn", required=False),
            _d("curr_qty"),
            _d("orig_qty"),
            _d("pack_qty"),
            _d("case_qty"),
            _s("batch_nbr", 50),
            Field("expiry_date", DATE),
            Field("manufacture_date", DATE),
            _b("lock_flg"),
            _s("cust_field_1", 50),
            _s("cust_field_2", 50),
            *_audit(),
        ),
        key="id",
        mutable="curr_qty",
        base_count=3000,
        indexes=("location_id",),  # adjustments find a location's inventory
    ),
    Entity(
        "order_hdr",
        (
            _ID,
            _fk("company_id", "company"),
            _fk("facility_id", "facility"),
            _s("order_nbr", 50, required=True),
            _fk("order_type_id", "order_type"),
            _i("status_id", required=True),
            _i("priority", default=50),
            Field("ord_date", DATE, required=True),
            Field("req_ship_date", DATE),
            _s("cust_name", 100),
            _s("cust_city", 40),
            _s("cust_country", 2),
            _d("total_orig_ord_qty"),
            _b("externally_planned_load_flg"),
            _s("cust_field_1", 50),
            _s("cust_field_2", 50),
            _set("order_dtl_set", "order_dtl", "order_id"),
            *_audit(),
        ),
        key="order_nbr",
        base_count=600,
    ),
    Entity(
        "order_dtl",
        (
            _ID,
            _fk("order_id", "order_hdr"),
            _i("seq_nbr", required=True),
            _fk("item_id", "item"),
            _d("ord_qty"),
            _d("orig_ord_qty"),
            _d("alloc_qty"),
            _d("unit_sale_price", scale=2),
            _i("status_id", required=True),
            _s("cust_field_1", 50),
            *_audit(),
        ),
        key="seq_nbr",
        key_sql="((SELECT o.order_nbr FROM order_hdr o WHERE o.id = r.order_id) "
        "|| '-' || r.seq_nbr)",
        mutable="ord_qty",
        base_count=2400,
    ),
    Entity(
        "oblpn",
        (
            _ID,
            _fk("company_id", "company"),
            _fk("facility_id", "facility"),
            _s("container_nbr", 50, required=True),
            _i("status_id", required=True),
            _fk("order_id", "order_hdr"),
            _fk("location_id", "location", required=False),
            _d("weight"),
            _d("volume"),
            _s("tracking_nbr", 50),
            _s("cust_field_1", 50),
            *_audit(),
        ),
        key="container_nbr",
        base_count=400,
    ),
    Entity(
        "allocation",
        (
            _ID,
            _fk("facility_id", "facility"),
            _fk("order_dtl_id", "order_dtl"),
            _fk("item_id", "item"),
            _fk("from_location_id", "location"),
            _fk("to_container_id", "oblpn", required=False),
            _d("alloc_qty"),
            _d("packed_qty"),
            _i("status_id", required=True),
            *_audit(),
        ),
        key="id",
        mutable="packed_qty",
        base_count=1500,
    ),
)

INVENTORY_HISTORY: Final = Entity(
    "inventory_history",
    (
        _ID,
        _fk("company_id", "company"),
        _fk("facility_id", "facility"),
        _fk("history_activity_id", "history_activity"),
        _i("status_id", required=True),  # a container_status id, bare as Oracle documents
        _s("item_code", 25),
        _s("container_nbr", 50),
        _s("group_nbr", 50),
        _d("adj_qty"),
        _d("orig_qty"),
        _s("reason_code", 25),
        _s("transaction_ref_nbr", 250),
        Field("create_ts", DATETIME, required=True),
        _s("create_user", 30, required=True),
    ),
    key="id",
    mutable="reason_code",
    base_count=3000,
    indexes=("group_nbr",),
)
"""Append-only: no `mod_ts`, so clients replicate it on `create_ts` (as Oracle advises)."""


def _all_entities() -> tuple[Entity, ...]:
    from .generic_entities import generic_entities  # noqa: PLC0415 - needs the helpers above

    core = (*_ENTITY_LIST, INVENTORY_HISTORY)
    return (*core, *generic_entities({e.name for e in core}))


ENTITIES: Final[dict[str, Entity]] = {e.name: e for e in _all_entities()}
"""All entities in generation order (a referenced entity comes before its referrers)."""
