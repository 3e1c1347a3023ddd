"""Checks of the values a record would write, against JSON Schemas, with one reason per field.

Two kinds of schema:
- what an entity's `describe` (`GET entity/{name}/describe/`, read by `oracle_wms.schema`) says
  its fields hold: `entity_schema` starts from `oracle_wms.schema.json_schema`, the schema the
  tap's rows follow (text with `max_length`, whole numbers, decimals, booleans, ISO 8601 dates
  and date-times);
- the fixed inputs of operations and documents, which `describe` does not cover: quantities
  with their bounds (`quantity_property`), line numbers (`whole_number_property`) and codes
  with a maximum length (`text_property`).

Validation is `jsonschema` (Draft 2020-12) with a `FormatChecker` for `date` (jsonschema's:
YYYY-MM-DD, a real day) and `date-time` (ours: what `datetime.fromisoformat` reads, with or
without an offset, as the WMS reads it: a value without one is in the facility's zone,
docs/api-behaviour.md). jsonschema checks `date-time` itself only with `rfc3339-validator`
installed, which would also make every FormatChecker, the SDK's standard tap tests' included,
demand an offset in `time` values, and the WMS's times have none. Each property schema carries
two annotations jsonschema ignores: `x-kind`, how a value is read before the check and how a
failure reads, and optionally `x-reasons`, a reason per failed keyword that replaces the default
(templates with `{value!r}`, the value as the record gave it).

How a value is read before the check (the record keeps the value as given):
- decimals and quantities: a number or numeric text becomes a `Decimal` (exact: `0.1` stays
  `0.1`), so text such as `"-4"` meets the same bounds as `-4`; a quantity must be finite (a
  decimal field may be NaN: the WMS decides);
- dates and times the SDK parsed into `date`/`datetime`/`time` objects: their ISO 8601 text;
- operation codes (`text_property`): their text, as they are sent.
`time` values are checked for being text, not for their format (as before).
"""

from __future__ import annotations

import datetime
import typing as t
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from jsonschema import FormatChecker, ValidationError, validators
from jsonschema.protocols import Validator

from oracle_wms.schema import EntityDescription, json_schema

Reasons = dict[str, str]
"""Field name (`lines[2].ord_qty` inside a document) -> why its value cannot be written."""

FORMATS = FormatChecker(formats=("date",))
"""The formats written values are checked for: `date` and `date-time` (below); not `time`."""


@FORMATS.checks("date-time", raises=ValueError)
def is_date_time(value: object) -> bool:
    """Whether text is an ISO 8601 date-time `datetime.fromisoformat` reads (an offset is
    optional); other types pass (the schema's `type` judges them).

    Raises:
        ValueError: the text is not one (jsonschema reports it as a failed `format`).
    """
    if isinstance(value, str):
        datetime.datetime.fromisoformat(value)
    return True


def _is_whole_number(_checker: t.Any, value: object) -> bool:
    # Draft 2020-12 calls 3.0 an integer; the WMS's integer fields take whole numbers only.
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal_places(
    _validator: t.Any, places: int, instance: object, _schema: t.Any
) -> t.Iterator[ValidationError]:
    # `multipleOf` on a huge Decimal raises InvalidOperation instead of failing.
    if isinstance(instance, Decimal) and instance.is_finite():
        exponent = instance.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            yield ValidationError(f"{instance} has more than {places} decimal places")


_Draft: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]  # untyped in stubs
    validators.Draft202012Validator,
    validators={"x-decimalPlaces": _decimal_places},
    type_checker=validators.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_whole_number),
)

_DATE_KINDS = frozenset({"date", "datetime", "time"})
_TYPE_REASONS = {
    "string": "expected text, got {type}",
    "integer": "expected a whole number, got {value!r}",
    "decimal": "expected a number, got {value!r}",
    "boolean": "expected true or false, got {value!r}",
    "date": "expected an ISO 8601 date, got {value!r}",
    "datetime": "expected an ISO 8601 datetime, got {value!r}",
    "time": "expected an ISO 8601 time, got {value!r}",
}
_MAX_LENGTH_REASON = "at most {limit} characters, got {length}"
_PRIORITY = (
    "type",
    "format",
    "maxLength",
    "minimum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "not",
    "x-decimalPlaces",
)
"""When one value fails several keywords, the first of these gives the reason."""


def as_decimal(value: t.Any) -> Decimal | None:
    """A number or numeric text as an exact `Decimal` (`"12.50"` -> `Decimal("12.50")`), None
    when it is neither (booleans included). NaN and infinities parse: check `is_finite()`."""
    if isinstance(value, bool):
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


INTEGER_DIGITS = 12
DECIMAL_PLACES = 5
"""Bounds of a written decimal or quantity. `describe` gives no precision (only `max_length` of
text), and Oracle documents none for quantities; these are the target's default: at most 12
digits before the decimal point and 5 after (Oracle WMS shows quantities with up to 5
decimals). A value outside them is rejected before any request (docs/api-behaviour.md)."""
MAGNITUDE = Decimal(10) ** INTEGER_DIGITS
_BOUNDS_REASONS = {
    "exclusiveMaximum": f"out of bounds: at most {INTEGER_DIGITS} digits before the decimal point",
    "x-decimalPlaces": f"at most {DECIMAL_PLACES} decimal places",
}


def _bounded(schema: dict[str, t.Any]) -> dict[str, t.Any]:
    """`schema` with the magnitude and decimal places every written decimal keeps."""
    bounds: dict[str, t.Any] = {"exclusiveMaximum": MAGNITUDE, "x-decimalPlaces": DECIMAL_PLACES}
    reasons = dict(_BOUNDS_REASONS)
    if "minimum" not in schema and "exclusiveMinimum" not in schema:
        bounds["exclusiveMinimum"] = -MAGNITUDE
        reasons["exclusiveMinimum"] = _BOUNDS_REASONS["exclusiveMaximum"]
    return {**schema, **bounds, "x-reasons": {**reasons, **schema.get("x-reasons", {})}}


def quantity_property(
    bound: Mapping[str, t.Any] | None = None, reason: str = ""
) -> dict[str, t.Any]:
    """A finite number (or numeric text) with optional JSON Schema `bound` keywords (`minimum`,
    `exclusiveMinimum`, `not`), each failure of which reads `reason`; otherwise "not a number"
    or "not a finite number"; within the target's bounds (`INTEGER_DIGITS`, `DECIMAL_PLACES`)."""
    schema: dict[str, t.Any] = {"type": "number", "x-kind": "quantity", **(bound or {})}
    if bound:
        schema["x-reasons"] = dict.fromkeys(bound, reason)
    return _bounded(schema)


def whole_number_property(above: int, reason: str) -> dict[str, t.Any]:
    """A whole number (not a boolean) greater than `above`; any failure reads `reason`."""
    schema = {"type": "integer", "exclusiveMinimum": above, "x-kind": "integer"}
    return {**schema, "x-reasons": dict.fromkeys(("type", "exclusiveMinimum"), reason)}


def text_property(max_length: int) -> dict[str, t.Any]:
    """A code sent as text, at most `max_length` characters of its text (any JSON value)."""
    return {"type": ["string", "null"], "maxLength": max_length, "x-kind": "text"}


class RecordSchema:
    """Per-field checks of a record's values against one JSON Schema object."""

    def __init__(self, properties: Mapping[str, Mapping[str, t.Any]]) -> None:
        """`properties`: field name -> property schema with `x-kind` (see the module docstring)."""
        self.properties = {name: dict(prop) for name, prop in properties.items()}
        self.schema = {"type": "object", "properties": self.properties}
        self._validator: Validator = _Draft(self.schema, format_checker=FORMATS)

    def __contains__(self, name: object) -> bool:
        return name in self.properties

    def check(self, values: Mapping[str, t.Any], where: str = "") -> Reasons:
        """Why each value cannot be written, keyed `where + name`, in the order of `values`.

        Names without a property are not checked (the caller decides what an unknown field
        means); None passes where the property allows null (describe's fields all do).
        """
        checked = {name: value for name, value in values.items() if name in self.properties}
        readings = {name: _reading(self.properties[name], v) for name, v in checked.items()}
        first: dict[str, ValidationError] = {}
        for error in self._validator.iter_errors(readings):
            if not error.relative_path:
                continue
            name = str(error.relative_path[0])
            if name not in first or _rank(error) < _rank(first[name]):
                first[name] = error
        return {
            where + name: _reason(self.properties[name], checked[name], first[name])
            for name in checked
            if name in first
        }


def entity_schema(description: EntityDescription) -> RecordSchema:
    """The checks `describe` implies for values written to an entity's fields: the tap's flat-row
    schema (`oracle_wms.schema.json_schema`), except that foreign keys and child links (objects
    on the wire) are not checked here."""
    flat = json_schema(description)["properties"]
    properties: dict[str, dict[str, t.Any]] = {}
    for spec in description.fields:
        if spec.kind in ("foreign_key", "child_set"):
            properties[spec.name] = {"x-kind": spec.kind}
        elif spec.kind == "decimal" and spec.name.endswith("_qty"):  # no negative quantities
            negative = {"minimum": 0, "x-reasons": {"minimum": "a quantity cannot be negative"}}
            properties[spec.name] = _bounded({**flat[spec.name], "x-kind": "decimal", **negative})
        elif spec.kind == "decimal":
            properties[spec.name] = _bounded({**flat[spec.name], "x-kind": spec.kind})
        else:
            properties[spec.name] = {**flat[spec.name], "x-kind": spec.kind}
    return RecordSchema(properties)


def _reading(prop: Mapping[str, t.Any], value: t.Any) -> t.Any:
    """The value as its property's schema checks it (see the module docstring)."""
    kind = prop.get("x-kind")
    if kind in ("decimal", "quantity"):
        number = as_decimal(value)
        if number is not None and (kind == "decimal" or number.is_finite()):
            return number
        if number is not None:  # NaN or an infinity: no quantity, and NaN cannot be compared
            return str(number)
    elif kind in _DATE_KINDS and isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    elif kind == "text" and value is not None:
        return str(value)
    return value


def _rank(error: ValidationError) -> int:
    keyword = str(error.validator)
    return _PRIORITY.index(keyword) if keyword in _PRIORITY else len(_PRIORITY)


def _reason(prop: Mapping[str, t.Any], value: t.Any, error: ValidationError) -> str:
    """A jsonschema failure as the reason the rejects file shows for the field: the property's
    `x-reasons` for the keyword, else the default for its kind and keyword, else jsonschema's
    own message."""
    keyword, kind = str(error.validator), str(prop.get("x-kind"))
    template = (prop.get("x-reasons") or {}).get(keyword)
    if template is None:
        if keyword == "maxLength":
            template = _MAX_LENGTH_REASON
        elif kind == "quantity" and keyword == "type":
            parsed = as_decimal(value)
            finite = "not a finite number: {value!r}"
            template = finite if parsed is not None else "not a number: {value!r}"
        elif keyword == "type" or (keyword == "format" and kind in _DATE_KINDS):
            template = _TYPE_REASONS.get(kind)
    if template is None:
        return str(error.message)
    length = len(error.instance) if isinstance(error.instance, str) else 0
    return template.format(
        value=value, type=type(value).__name__, limit=error.validator_value, length=length
    )


def stream_validator(schema: Mapping[str, t.Any]) -> Validator:
    """A validator of records against a stream's SCHEMA message, with the same formats (a real
    `date`, a `date-time` the WMS reads) as written values."""
    return _Draft(dict(schema), format_checker=FORMATS)
