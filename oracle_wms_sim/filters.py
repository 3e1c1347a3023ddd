"""Query-string filters -> an SQL WHERE clause with bound parameters.

Supports what docs/api-behaviour.md lists: `field`, `field__lookup`, `fk_id__field[__lookup]`
(one level), the Oracle lookups, and Oracle's negation `field__lookup!=value`. Values are parsed
by the field's type, so a date-time compares on the instant whatever offset it carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from . import timefmt
from .entities import (
    BOOLEAN,
    DATE,
    DATETIME,
    DECIMAL,
    ENTITIES,
    FOREIGN_KEY,
    INTEGER,
    STRING,
    TIME,
    Entity,
    Field,
)
from .errors import ApiError, bad_param

TEXT_LOOKUPS = frozenset(
    ("iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith")
)
ORDER_LOOKUPS = frozenset(("gt", "gte", "lt", "lte", "range"))
LOOKUPS = TEXT_LOOKUPS | ORDER_LOOKUPS | {"exact", "in", "isnull"}


@dataclass
class Where:
    """Accumulates conditions and their named parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


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
    DATETIME: timefmt.parse_filter_datetime,
    DATE: timefmt.parse_filter_date,
    TIME: timefmt.parse_filter_time,
    STRING: str,
}


def parse_value(param: str, f: Field, value: str) -> Any:
    try:
        return PARSERS[f.type](value)
    except (ValueError, InvalidOperation, ArithmeticError) as exc:
        raise bad_param(param, f"'{value}' is not a valid {f.type} value for {f.name}") from exc


def _condition(where: Where, param: str, col: str, f: Field, *, lookup: str, value: str) -> str:
    if lookup == "isnull":
        flag = parse_value(param, Field("isnull", BOOLEAN), value)
        return f"{col} IS NULL" if flag else f"{col} IS NOT NULL"
    if lookup in TEXT_LOOKUPS and f.type != STRING:
        raise bad_param(param, f"lookup '{lookup}' applies to string fields only")
    if lookup in ORDER_LOOKUPS and f.type == BOOLEAN:
        raise bad_param(param, f"lookup '{lookup}' does not apply to boolean fields")
    if lookup == "in":
        items = [parse_value(param, f, v) for v in value.split(",")]
        return f"{col} IN ({', '.join(where.bind(v) for v in items)})"
    if lookup == "range":
        bounds = value.split(",")
        if len(bounds) != 2:
            raise bad_param(param, "range needs two comma-separated values")
        low, high = (where.bind(parse_value(param, f, v)) for v in bounds)
        return f"{col} BETWEEN {low} AND {high}"
    if lookup in ("exact", "gt", "gte", "lt", "lte"):
        op = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[lookup]
        return f"{col} {op} {where.bind(parse_value(param, f, value))}"
    text = where.bind(value)
    if lookup == "iexact":
        return f"lower({col}) = lower({text})"
    if lookup == "contains":
        return f"instr({col}, {text}) > 0"
    if lookup == "icontains":
        return f"instr(lower({col}), lower({text})) > 0"
    if lookup == "startswith":
        return f"substr({col}, 1, length({text})) = {text}"
    if lookup == "istartswith":
        return f"lower(substr({col}, 1, length({text}))) = lower({text})"
    if lookup == "endswith":
        return f"({text} = '' OR substr({col}, -length({text})) = {text})"
    # iendswith
    return f"({text} = '' OR lower(substr({col}, -length({text}))) = lower({text}))"


def _resolve(entity: Entity, param: str) -> tuple[Field, Field | None, str]:
    """`param` -> (own field, related field or None, lookup)."""
    parts = param.split("__")
    own = entity.by_name.get(parts[0])
    if own is None or not own.filterable:
        raise bad_param(param, f"unknown field '{parts[0]}' on {entity.name}")
    rest = parts[1:]
    related: Field | None = None
    if rest and rest[0] not in LOOKUPS:
        if own.type != FOREIGN_KEY or own.related is None:
            raise bad_param(param, f"unknown lookup '{rest[0]}'")
        target = ENTITIES[own.related]
        related = target.by_name.get(rest[0])
        if related is None or not related.filterable:
            raise bad_param(param, f"unknown field '{rest[0]}' on {target.name}")
        rest = rest[1:]
    if len(rest) > 1 or (rest and rest[0] not in LOOKUPS):
        bad = rest[-1] if rest and rest[-1] not in LOOKUPS else "__".join(rest)
        raise bad_param(param, f"unknown lookup '{bad}'")
    return own, related, rest[0] if rest else "exact"


def build_where(entity: Entity, filters: dict[str, str]) -> Where:
    """All filters of a request, AND-ed. Raises ApiError(400) naming the bad parameter."""
    where = Where()
    for param, value in filters.items():
        negate = param.endswith("!")
        name = param[:-1] if negate else param
        if not name:
            raise bad_param(param, "empty parameter name")
        own, related, lookup = _resolve(entity, name)
        if related is None:
            clause = _condition(where, param, f"t.{own.name}", own, lookup=lookup, value=value)
        else:
            target = ENTITIES[str(own.related)]
            inner = _condition(
                where, param, f"r.{related.name}", related, lookup=lookup, value=value
            )
            clause = f"t.{own.name} IN (SELECT r.id FROM {target.name} r WHERE {inner})"
        where.clauses.append(f"({clause}) IS NOT 1" if negate else f"({clause})")
    return where


def ensure_known(entity: Entity, names: list[str], param: str) -> None:
    for name in names:
        if name not in entity.by_name:
            raise bad_param(param, f"unknown field '{name}' on {entity.name}")


__all__ = ["ApiError", "Where", "build_where", "ensure_known", "parse_value"]
