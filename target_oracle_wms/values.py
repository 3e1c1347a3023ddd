"""Values on their way to the WMS and back: which of a record's values a write may send, in
their wire form, a write's answer body, and the WMS's 400 answers as per-field reasons."""

from __future__ import annotations

import datetime
import json
import typing as t
from decimal import Decimal

import requests

from oracle_wms.errors import WmsValidationError
from target_oracle_wms.lookups import ValueRefusedError
from target_oracle_wms.validation import Reasons, RecordSchema


def checked_values(
    values: dict[str, t.Any],
    schema: RecordSchema,
    allowed: t.Container[str],
    refusal: str,
    reasons: Reasons,
) -> dict[str, t.Any]:
    """The values a write may send: those named in `allowed` that `schema` accepts, in their wire
    form (`wire_value`), in the record's order. Every other value gets its reason in `reasons`:
    `refusal` (a template with `{name}`) for a name not allowed, else the schema's reason."""
    problems = schema.check({name: v for name, v in values.items() if name in allowed})
    accepted: dict[str, t.Any] = {}
    for name, value in values.items():
        if name not in allowed:
            reasons[name] = refusal.format(name=name)
        elif name in problems:
            reasons[name] = problems[name]
        else:
            accepted[name] = wire_value(value)
    return accepted


def wire_value(value: t.Any) -> t.Any:
    """A checked value as JSON sends it: decimals as exact text, dates and times in ISO 8601
    (the SDK hands schema `format: date` values over as `date` objects)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def wms_reasons(exc: WmsValidationError) -> Reasons:
    """The WMS's 400 answer as reasons: its per-field details, else its message under `_wms`."""
    details = exc.details
    if isinstance(details, dict) and details:
        return {str(k): str(v) for k, v in details.items()}
    return {"_wms": str(exc)}


def list_value(value: t.Any) -> list[t.Any] | None:
    """A record's list field (document lines, receipt items, a manual wave's orders): an array,
    its JSON text (a source that flattens arrays to text, e.g. tap-postgres `jsonb`), or
    nothing (`[]`); None when it is neither."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return list(value) if isinstance(value, list) else None


REFUSALS = (ValueRefusedError, WmsValidationError)
"""The WMS refusing a read made from one record's values (400): that record's reject."""


def refusal_reasons(record: dict[str, t.Any], exc: Exception) -> Reasons:
    """A refused read as the record's reasons: under the field (or `list[i].field`) holding the
    refused value when one does, else under `_wms`."""
    if isinstance(exc, ValueRefusedError):
        fields = [path for path, value in _leaves(record) if str(value) == exc.value]
        if fields:
            return {path: str(exc) for path in fields}
    details = getattr(exc, "details", None)
    named = {str(key).split("__")[0] for key in details} if isinstance(details, dict) else set()
    reasons = {
        name: f"the WMS refused {record[name]!r} in a read made from this record: {exc}"
        for name in sorted(named)
        if record.get(name) is not None
    }
    return reasons or {"_wms": f"the WMS refused a read made from this record's values: {exc}"}


def _leaves(value: t.Any, path: str = "") -> t.Iterator[tuple[str, t.Any]]:
    """(path, value) of every scalar in a record: `orders[0].order_nbr`."""
    if isinstance(value, dict):
        for name, inner in value.items():
            yield from _leaves(inner, f"{path}.{name}" if path else str(name))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, f"{path}[{index}]")
    elif value is not None:
        yield path, value


def answer_body(response: requests.Response) -> t.Any:
    """A write's answer as JSON; None when it has no body, or one that is not JSON (a 202 or
    204 of an operation whose body Oracle does not document: the sinks read the WMS instead)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None
