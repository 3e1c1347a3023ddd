"""Text as a request writes it -> the value as the store keeps it, by field type.

Filter values are parsed here (`filters`), and so is the default of a field added at run time
(`drift`), so both accept exactly the same spellings. A date-time without an offset is read
`naive_offset` minutes east of UTC; the store keeps it as UTC text (`timefmt`).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import bad_param
from . import timefmt
from .model import BOOLEAN, DATE, DATETIME, DECIMAL, FOREIGN_KEY, INTEGER, STRING, TIME, Field


def _parse_int(value: str) -> int:
    return int(value.strip())


def _parse_decimal(value: str) -> float:
    number = Decimal(value.strip())
    if not number.is_finite():
        raise ValueError(value)
    return float(number)


def _parse_bool(value: str) -> int:
    text = value.strip().lower()
    if text in ("true", "1", "y", "yes"):
        return 1
    if text in ("false", "0", "n", "no"):
        return 0
    raise ValueError(value)


PARSERS: dict[str, Callable[[str], Any]] = {
    INTEGER: _parse_int,
    FOREIGN_KEY: _parse_int,
    DECIMAL: _parse_decimal,
    BOOLEAN: _parse_bool,
    DATE: timefmt.parse_filter_date,
    TIME: timefmt.parse_filter_time,
    STRING: str,
}


def parse_value(param: str, f: Field, value: str, naive_offset: int = 0) -> Any:
    """`naive_offset`: minutes east of UTC applied to a date-time written without an offset."""
    try:
        if f.type == DATETIME:
            return timefmt.parse_filter_datetime(value, naive_offset)
        return PARSERS[f.type](value)
    except (ValueError, InvalidOperation, ArithmeticError) as exc:
        raise bad_param(param, f"'{value}' is not a valid {f.type} value for {f.name}") from exc
