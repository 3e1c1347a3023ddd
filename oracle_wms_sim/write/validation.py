"""Checking what a client writes, field by field, against the entity catalogue.

Every check raises `FieldError` with the message for one field; callers collect them into the
`details` object of a 400 (`{"field": "message"}`) and write nothing when there is any.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from ..data.model import BOOLEAN, DATE, DATETIME, DECIMAL, INTEGER, STRING, TIME, Field
from ..data.timefmt import parse_filter_datetime, parse_filter_time
from ..errors import ApiError

Problems = dict[str, str]
_INTEGER = re.compile(r"^-?\d+$")


class FieldError(ValueError):
    """One field's problem; `str(exc)` is the message for `details`."""


def rejected(message: str, problems: Problems) -> ApiError:
    """The 400 VALIDATION_ERROR naming every offending field."""
    return ApiError(400, message, dict(problems))


def checked(problems: Problems, name: str, check: Any, *args: Any, **kwargs: Any) -> Any:
    """`check(*args, **kwargs)`, or None with its `FieldError` recorded under `name` in
    `problems`: every field of a body is checked, and all its problems answered in one 400."""
    try:
        return check(*args, **kwargs)
    except FieldError as exc:
        problems[name] = str(exc)
        return None


def decimal_value(value: Any, scale: int = 3) -> Decimal:
    """A quantity: a JSON number or a decimal string, finite, at most `scale` decimal places."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError(f"must be a decimal number (got {value!r})")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise FieldError(f"must be a decimal number (got {value!r})") from None
    if not number.is_finite():
        raise FieldError(f"must be a finite decimal number (got {value!r})")
    exponent = number.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and exponent < -scale
        and number != number.quantize(Decimal(1).scaleb(-scale))
    ):
        raise FieldError(f"at most {scale} decimal places (got {value!r})")
    return number


def text_value(value: Any, max_length: int | None, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise FieldError("is required")
        return None if value is None else ""
    if not isinstance(value, str):
        raise FieldError(f"must be text (got {value!r})")
    if max_length is not None and len(value) > max_length:
        raise FieldError(f"at most {max_length} characters (got {len(value)})")
    return value


def integer_value(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value)
    raise FieldError(f"must be an integer (got {value!r})")


def stored_value(f: Field, value: Any, naive_offset: int = 0) -> Any:
    """`value` for field `f` as the store keeps it, or `FieldError` (type, max_length, null)."""
    if value is None:
        if f.required:
            raise FieldError("may not be null")
        return None
    if f.type == STRING:
        return text_value(value, f.max_length, required=f.required)
    if f.type == INTEGER:
        return integer_value(value)
    if f.type == DECIMAL:
        return float(decimal_value(value, f.scale))
    if f.type == BOOLEAN:
        if not isinstance(value, bool):
            raise FieldError(f"must be true or false (got {value!r})")
        return int(value)
    if not isinstance(value, str):
        raise FieldError(f"must be an ISO 8601 {f.type} string (got {value!r})")
    try:
        if f.type == DATE:
            return date.fromisoformat(value.strip()).isoformat()
        if f.type == DATETIME:
            return parse_filter_datetime(value, naive_offset)
        if f.type == TIME:
            return parse_filter_time(value)
    except ValueError:
        raise FieldError(f"must be an ISO 8601 {f.type} (got {value!r})") from None
    raise FieldError(f"a {f.type} field cannot be written")
