"""From an entity's `describe` to a JSON Schema, and from an lgfapi record to a flat row.

Both live here because they must agree: the schema promises what the converted records hold.

The row shape is what a SQL user wants to join on:
- a foreign key `{"id": 12, "key": "F1", "url": ...}` becomes `facility_id` (integer) and
  `facility_id_key` (text); the URL is dropped (it is derived from the id and may be blank);
- a child collection `*_set` (`{"result_count", "url"}`) is a link, not data, and is left out;
- decimals, sent as strings for precision, become `Decimal` (JSON number) values;
- date-times keep their offset; `utc_timestamp` gives the instant in one fixed format
  for bookmark comparisons.

The tap's schema states only what the WMS guarantees of what it sends: types and formats, not
`describe`'s `max_length` (a limit on writes; rows longer than it exist, and a loader that
trusted it would refuse them). `conform_page` holds every row to that schema: a value of another
type (an object where text goes, text in a whole-number field) becomes null and is reported,
so no record breaks the schema its stream announced.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from operator import itemgetter, methodcaller
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


def json_schema(entity: EntityDescription, *, max_lengths: bool = True) -> dict[str, Any]:
    """The JSON Schema of the flat rows `flatten_record` produces for this entity.

    `max_lengths=False` (the tap) leaves out `describe`'s text lengths: the WMS checks them on
    writes but sends longer values, so a loader must not be told they hold.
    """
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
            if spec.max_length and max_lengths:
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
    checks: tuple[tuple[str, frozenset[type]], ...] = ()
    """(field, the classes its flat value may have besides None), for `conform_page`."""
    formats: tuple[tuple[str, re.Pattern[str]], ...] = ()
    """(field, the text form its format requires), for `conform_page`."""

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
        checks: list[tuple[str, frozenset[type]]] = []
        formats: list[tuple[str, re.Pattern[str]]] = []
        for name, prop in props.items():
            types = _types(prop.get("type"))
            if name in decimals or (
                name.endswith(KEY_SUFFIX) and name.removesuffix(KEY_SUFFIX) in foreign_keys
            ):
                continue  # decimals are checked as they are built; keys are built as text
            allowed = frozenset(_CLASSES[t] for t in types if t in _CLASSES)
            if allowed:
                checks.append((name, allowed))
            pattern = _FORMATS.get(str(prop.get("format")))
            if pattern is not None:
                formats.append((name, pattern))
        return cls(foreign_keys, decimals, plain, tuple(checks), tuple(formats))

    @cached_property
    def check_getter(self) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
        """A row's values of the `checks` fields, as a tuple, in one call."""
        names = [name for name, _ in self.checks]
        if len(names) == 1:
            return lambda row: (row[names[0]],)
        return itemgetter(*names)

    @cached_property
    def known(self) -> frozenset[str]:
        return self.plain | set(self.foreign_keys) | set(self.decimals)

    @cached_property
    def date_times(self) -> tuple[str, ...]:
        """The `date-time` fields."""
        return tuple(name for name, pattern in self.formats if pattern is _FORMATS["date-time"])

    def to_utc(self, row: dict[str, Any]) -> None:
        """Rewrite the row's date-times in UTC, in place: the same instant (`utc_timestamp`). A
        loader that stores the text in a `timestamp without time zone` (target-postgres's COPY,
        BATCH files) drops the offset, so a facility's local offset would shift every value by
        hours (issue 29)."""
        for name in self.date_times:
            value = row.get(name)
            if value:
                row[name] = utc_timestamp(value)


_CLASSES: dict[str, type] = {"integer": int, "string": str, "boolean": bool, "number": Decimal}
_DATE_TIME = r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)"
_DATE = r"\d{4}-\d\d-\d\d"
_FORMATS: dict[str, re.Pattern[str]] = {
    name: re.compile(f"(?:{one})(?:\n(?:{one}))*")
    for name, one in (("date-time", _DATE_TIME), ("date", _DATE))
}
"""RFC 3339 forms, as a JSON Schema format checker (and so a Singer SDK target) reads them; each
matches one value or several joined by newlines (a page's column in one call)."""

Problem = tuple[str, Any]
"""(field, the value sent) of a value that broke the entity's schema."""


def conform_page(rows: list[dict[str, Any]], shape: RowShape) -> list[tuple[int, str, Any]]:
    """Null every value in `rows` that its schema does not allow; (row index, field, value) of
    each. A row whose `id` is then null breaks the schema beyond repair: callers drop it.

    Checked a column at a time (the classes of a page's column in one C-level pass, a format
    by one regular expression over the column joined by newlines); rows are looked at one by
    one only in a column that has a bad value. Exact classes are compared (`bool` is not an
    integer here, as in JSON Schema).
    """
    found: list[tuple[int, str, Any]] = []
    if not rows or not shape.checks:
        return found
    names = [name for name, _ in shape.checks]
    try:
        columns: list[tuple[Any, ...]] = list(zip(*map(shape.check_getter, rows), strict=True))
    except KeyError:  # a row without one of the fields: read it as null
        columns = [tuple(map(methodcaller("get", name), rows)) for name in names]
    none = type(None)
    by_name = dict(zip(names, columns, strict=True))
    for (name, allowed), column in zip(shape.checks, columns, strict=True):
        classes = set(map(type, column))
        classes.discard(none)
        if not classes <= allowed:
            for index, value in enumerate(column):
                if value is not None and value.__class__ not in allowed:
                    found.append((index, name, value))
                    rows[index][name] = None
    for name, pattern in shape.formats:
        values = by_name.get(name)
        if values is None:
            values = tuple(map(methodcaller("get", name), rows))
        texts = [v for v in values if v is not None and v.__class__ is str]
        if not texts or pattern.fullmatch("\n".join(texts)) is not None:
            continue
        for index, row in enumerate(rows):
            value = row.get(name)
            if value is not None and ("\n" in value or pattern.fullmatch(value) is None):
                found.append((index, name, value))
                row[name] = None
    return found


def flatten_record(
    record: Mapping[str, Any],
    shape: RowShape,
    entity: str,
    problems: list[Problem] | None = None,
) -> dict[str, Any]:
    """An lgfapi record as a flat row (see the module docstring).

    Fields outside the schema (a child link, or a field the WMS added since discovery) are
    converted by their value; the caller decides whether to keep them.

    Raises:
        ValueError: a decimal field holds something that is not a number, naming entity and field
            (unless `problems` is given: the field is then null and (field, value) appended).
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
            try:
                row[name] = None if value == "" else _decimal(value, entity, name)
            except ValueError:
                if problems is None:
                    raise
                problems.append((name, value))
                row[name] = None
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
