"""How an entity is described: field types, `Field`, `Entity`, and the constructors the
catalogue is written with (typed fields, the audit fields, code tables, configuration entities).

Field names follow Oracle WMS conventions (`*_id` foreign key, `*_ts` date-time, `*_date` date,
`*_flg` boolean, `*_qty` decimal). Which entities exist is `entities.ENTITIES`.
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
    indexes: tuple[str, ...] = ()  # extra indexes for documented filters ("a" or "a, b, c")
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


def int_field(name: str, *, required: bool = False, default: int | None = None) -> Field:
    return Field(name, INTEGER, required=required, default=default)


def text_field(name: str, max_length: int, *, required: bool = False) -> Field:
    return Field(name, STRING, max_length=max_length, required=required)


def decimal_field(name: str, *, scale: int = 3, required: bool = True) -> Field:
    return Field(name, DECIMAL, required=required, default="0" if required else None, scale=scale)


def bool_field(name: str) -> Field:
    return Field(name, BOOLEAN, required=True, default=False)


def fk_field(name: str, related: str, *, required: bool = True) -> Field:
    return Field(name, FOREIGN_KEY, required=required, related=related)


def child_set_field(name: str, related: str, child_fk: str) -> Field:
    return Field(name, CHILD_SET, related=related, child_fk=child_fk)


def audit_fields() -> tuple[Field, ...]:
    return (
        Field("create_ts", DATETIME, required=True),
        text_field("create_user", 30, required=True),
        Field("mod_ts", DATETIME, required=True),
        text_field("mod_user", 30, required=True),
    )


ID_FIELD = int_field("id", required=True)


def code_table(name: str) -> Entity:
    return Entity(
        name,
        (
            int_field("id", required=True),
            text_field("code", 25, required=True),
            text_field("description", 100),
        ),
        mutable="description",
    )


def config_entity(name: str) -> Entity:
    """A configuration entity of entities.tsv that the simulator does not model in depth:
    a few coded rows per facility, audited like every WMS record."""
    return Entity(
        name,
        (
            ID_FIELD,
            fk_field("company_id", "company"),
            fk_field("facility_id", "facility"),
            text_field("code", 25, required=True),
            text_field("description", 100),
            text_field("cust_field_1", 50),
            *audit_fields(),
        ),
        base_count=12,
        scales=False,
    )
