"""From an entity's `describe` to a JSON Schema, and from an lgfapi record to a flat row.

Both live here because they must agree: the schema promises what the converted records hold.

The row shape is what a SQL user wants to join on:
- a foreign key `{"id": 12, "key": "F1", "url": ...}` becomes `facility_id` (integer) and
  `facility_id_key` (text); the URL is dropped (it is derived from the id and may be blank);
- a child collection `*_set` (`{"result_count", "url"}`) is a link, not data, and is left out;
- decimals, sent as strings for precision, become `Decimal` (JSON number) values;
- date-times keep their offset; `utc_timestamp` gives the instant in one fixed format
  for bookmark comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any, Literal

FieldKind = Literal[
    "integer",
    "string",
    "decimal",
    "boolean",
    "datetime",
    "date",
    "time",
    "foreign_key",
    "child_set",
]

_KNOWN_KINDS: frozenset[str] = frozenset(FieldKind.__args__)  # type: ignore[attr-defined]

KEY_SUFFIX = "_key"
"""Suffix of the text column that carries a foreign key's business key."""

REPLICATION_KEYS = ("mod_ts", "create_ts")
"""Preferred replication keys, in order: `mod_ts` sees updates, `create_ts` only inserts."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of an entity as `describe` reports it."""

    name: str
    kind: FieldKind
    required: str = "N"
    allow_blank: bool = True
    max_length: int | None = None
    default: Any = None
    related_entity: str | None = None


@dataclass(frozen=True)
class EntityDescription:
    """An entity's fields (in response order) and its filterable parameters."""

    name: str
    fields: tuple[FieldSpec, ...]
    parameters: tuple[str, ...]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @cached_property
    def by_name(self) -> dict[str, FieldSpec]:
        """Fields by name, built once: sinks look fields up for every record they check."""
        return {f.name: f for f in self.fields}

    @property
    def replication_key(self) -> str | None:
        """`mod_ts`, else `create_ts`, else None (full table)."""
        names = set(self.field_names)
        return next((key for key in REPLICATION_KEYS if key in names), None)

    @classmethod
    def from_describe(cls, name: str, body: Mapping[str, Any]) -> EntityDescription:
        """Read a `describe` answer (layout in docs/api-behaviour.md).

        Raises:
            ValueError: the body does not have the documented keys.
        """
        raw_fields = body.get("fields")
        if not isinstance(raw_fields, Mapping) or not raw_fields:
            raise ValueError(f"describe of entity '{name}' has no 'fields' object")
        fields = tuple(
            _field_spec(field_name, spec if isinstance(spec, Mapping) else {})
            for field_name, spec in raw_fields.items()
        )
        params = body.get("parameters") or []
        return cls(name=name, fields=fields, parameters=tuple(str(p) for p in params))


def field_kind(name: str, declared_type: object) -> FieldKind:
    """The field's kind: the declared type when we know it, else Oracle's naming conventions."""
    if isinstance(declared_type, str) and declared_type in _KNOWN_KINDS:
        return declared_type  # type: ignore[return-value]
    if name in {"id", "status_id"}:
        return "integer"
    if name.endswith("_ts"):
        return "datetime"
    if name.endswith("_date"):
        return "date"
    if name.endswith("_time"):
        return "time"
    if name.endswith("_flg"):
        return "boolean"
    if name.endswith("_set"):
        return "child_set"
    if name.endswith("_id"):
        return "foreign_key"
    if name.endswith(("_qty", "_amount", "_amt", "_price", "_cost", "_weight", "_volume")):
        return "decimal"
    return "string"


def _field_spec(name: str, spec: Mapping[str, Any]) -> FieldSpec:
    max_length = spec.get("max_length")
    return FieldSpec(
        name=name,
        kind=field_kind(name, spec.get("type")),
        required=str(spec.get("required") or "N"),
        allow_blank=bool(spec.get("allow_blank", True)),
        max_length=max_length if isinstance(max_length, int) and max_length > 0 else None,
        default=spec.get("default"),
        related_entity=spec.get("related_entity") or None,
    )


_SCALAR_SCHEMAS: dict[str, dict[str, Any]] = {
    "integer": {"type": ["integer", "null"]},
    "decimal": {"type": ["number", "null"]},
    "boolean": {"type": ["boolean", "null"]},
    "datetime": {"type": ["string", "null"], "format": "date-time"},
    "date": {"type": ["string", "null"], "format": "date"},
    "time": {"type": ["string", "null"], "format": "time"},
}


def json_schema(entity: EntityDescription) -> dict[str, Any]:
    """The JSON Schema of the flat rows `flatten_record` produces for this entity."""
    properties: dict[str, Any] = {}
    for spec in entity.fields:
        if spec.kind == "child_set":
            continue
        if spec.name == "id":
            properties["id"] = {"type": "integer"}
        elif spec.kind == "foreign_key":
            properties[spec.name] = {"type": ["integer", "null"]}
            properties[spec.name + KEY_SUFFIX] = {"type": ["string", "null"]}
        elif spec.kind == "string":
            schema: dict[str, Any] = {"type": ["string", "null"]}
            if spec.max_length:
                schema["maxLength"] = spec.max_length
            properties[spec.name] = schema
        else:
            properties[spec.name] = dict(_SCALAR_SCHEMAS[spec.kind])
    return {"type": "object", "properties": properties}


def decimal_fields(schema: Mapping[str, Any]) -> frozenset[str]:
    """Properties of a flat-row schema that hold decimals (JSON `number`)."""
    props = schema.get("properties", {})
    return frozenset(name for name, prop in props.items() if "number" in _types(prop.get("type")))


def _types(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


@dataclass(frozen=True)
class RowShape:
    """Which fields of an entity's records need converting, read once from its flat-row schema
    so that `flatten_record` touches only those instead of testing every value of every row."""

    foreign_keys: tuple[str, ...]
    decimals: tuple[str, ...]
    plain: frozenset[str]
    """Every other schema field: passed through as sent."""

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any]) -> RowShape:
        props = schema.get("properties", {})
        foreign_keys = tuple(
            name
            for name, prop in props.items()
            if name + KEY_SUFFIX in props and "integer" in _types(prop.get("type"))
        )
        decimals = tuple(sorted(decimal_fields(schema)))
        plain = frozenset(props) - set(foreign_keys) - set(decimals)
        return cls(foreign_keys, decimals, plain)

    @cached_property
    def known(self) -> frozenset[str]:
        return self.plain | set(self.foreign_keys) | set(self.decimals)


def flatten_record(record: Mapping[str, Any], shape: RowShape, entity: str) -> dict[str, Any]:
    """An lgfapi record as a flat row (see the module docstring).

    Fields outside the schema (a child link, or a field the WMS added since discovery) are
    converted by their value; the caller decides whether to keep them.

    Raises:
        ValueError: a decimal field holds something that is not a number, naming entity and field.
    """
    row = dict(record)
    for name in shape.foreign_keys:
        value = row.get(name)
        if isinstance(value, dict):
            row[name] = value.get("id")
            key = value.get("key")
            row[name + KEY_SUFFIX] = None if key is None else str(key)
        elif name in row:
            row[name + KEY_SUFFIX] = None
    for name in shape.decimals:
        value = row.get(name)
        if value is not None and value.__class__ is not Decimal:
            row[name] = None if value == "" else _decimal(value, entity, name)
    unknown = record.keys() - shape.known
    if unknown:
        _flatten_unknown(row, unknown)
    return row


def _flatten_unknown(row: dict[str, Any], names: set[str]) -> None:
    """Fields the schema does not know: drop child links, split foreign keys."""
    for name in names:
        value = row[name]
        if not isinstance(value, dict):
            continue
        if "result_count" in value and "id" not in value:
            del row[name]  # *_set child collection link
        else:
            row[name] = value.get("id")
            key = value.get("key")
            row[name + KEY_SUFFIX] = None if key is None else str(key)


def _decimal(value: object, entity: str, name: str) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(f"entity '{entity}' field '{name}': expected a decimal, got {value!r}")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(
            f"entity '{entity}' field '{name}': expected a decimal, got {value!r}"
        ) from exc


def utc_timestamp(value: str) -> str:
    """An ISO 8601 date-time with offset as the same instant in UTC, fixed format.

    `2026-11-20T08:15:02.5-05:00` -> `2026-11-20T13:15:02.500000+00:00`. Fixed width means
    string order is time order, which the Singer SDK relies on when it compares bookmarks.

    Raises:
        ValueError: the value has no offset (an instant cannot be known) or is not ISO 8601.
    """
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"date-time {value!r} has no UTC offset")
    return parsed.astimezone(UTC).isoformat(timespec="microseconds")
