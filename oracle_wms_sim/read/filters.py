"""Query-string filters -> an SQL WHERE clause with bound parameters.

Supports what docs/api-behaviour.md lists: `field`, `field__lookup`, relation paths of any depth
(`order_id__facility_id__code`, reverse `order_dtl__isnull`), the Oracle lookups, and Oracle's
negation `field__lookup!=value`. Values are parsed by the field's type, so a date-time compares
on the instant whatever offset it carries; a value without an offset is read in the zone of the
requesting user's default facility.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..data.entities import ENTITIES
from ..data.model import BOOLEAN, DATETIME, INTEGER, STRING, Entity, Field
from ..data.parsing import parse_value
from ..errors import ApiError, bad_param
from .paths import ORDER_LOOKUPS, TEXT_LOOKUPS, FieldPath, resolve


@dataclass
class Where:
    """Accumulates conditions and their named parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    aliases: int = 0

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def alias(self) -> str:
        self.aliases += 1
        return f"j{self.aliases}"

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "1"


@dataclass(frozen=True)
class _Filter:
    param: str
    value: str
    naive_offset: int
    check: Callable[[str, str, bool], None] | None = None
    """Called with (parameter, value, is a date-time) before each value is parsed
    (`options.ReadOptions.check_filter_value`)."""


def _condition(where: Where, flt: _Filter, col: str, f: Field, lookup: str) -> str:
    param, value = flt.param, flt.value
    if lookup == "isnull":
        flag = parse_value(param, Field("isnull", BOOLEAN), value)
        return f"{col} IS NULL" if flag else f"{col} IS NOT NULL"
    if lookup in TEXT_LOOKUPS and f.type != STRING:
        raise bad_param(param, f"lookup '{lookup}' applies to string fields only")
    if lookup in ORDER_LOOKUPS and f.type == BOOLEAN:
        raise bad_param(param, f"lookup '{lookup}' does not apply to boolean fields")

    def parse(text: str) -> Any:
        if flt.check is not None:
            flt.check(param, text, f.type == DATETIME)
        return parse_value(param, f, text, flt.naive_offset)

    if lookup == "in":
        items = [parse(v) for v in value.split(",")]
        return f"{col} IN ({', '.join(where.bind(v) for v in items)})"
    if lookup == "range":
        bounds = value.split(",")
        if len(bounds) != 2:
            raise bad_param(param, "range needs two comma-separated values")
        low, high = (where.bind(parse(v)) for v in bounds)
        return f"{col} BETWEEN {low} AND {high}"
    if lookup in ("exact", "gt", "gte", "lt", "lte"):
        op = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[lookup]
        return f"{col} {op} {where.bind(parse(value))}"
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


def _path_sql(where: Where, flt: _Filter, alias: str, path: FieldPath, depth: int = 0) -> str:
    """The condition for `path` evaluated on the row `alias`, nesting one subquery per hop."""
    if depth == len(path.hops):
        assert path.field is not None
        if path.transform is not None:
            part = _date_part(alias, path.field, path.transform)
            return _condition(where, flt, part, Field(path.transform, INTEGER), path.lookup)
        return _condition(where, flt, f"{alias}.{path.field.name}", path.field, path.lookup)
    hop = path.hops[depth]
    inner_alias = where.alias()
    table = f"{hop.entity.name} {inner_alias}"
    if hop.forward:
        inner = _path_sql(where, flt, inner_alias, path, depth + 1)
        return f"{alias}.{hop.column} IN (SELECT {inner_alias}.id FROM {table} WHERE {inner})"
    link = f"{inner_alias}.{hop.column} = {alias}.id"
    if path.field is None and depth == len(path.hops) - 1:  # reverse existence: `__isnull`
        missing = parse_value(flt.param, Field("isnull", BOOLEAN), flt.value)
        exists = f"EXISTS (SELECT 1 FROM {table} WHERE {link})"
        return f"NOT {exists}" if missing else exists
    inner = _path_sql(where, flt, inner_alias, path, depth + 1)
    return f"EXISTS (SELECT 1 FROM {table} WHERE {link} AND {inner})"


_PART_FORMATS = {
    "year": "%Y",
    "month": "%m",
    "day": "%d",
    "week_day": "%w",
    "hour": "%H",
    "minute": "%M",
}


def _date_part(alias: str, f: Field, part: str) -> str:
    """The date part as an integer; a date-time's in the record's own zone (as it renders).
    `week_day` counts 1 (Sunday) to 7 (Saturday), as Oracle's Django-style API does."""
    column = f"{alias}.{f.name}"
    if f.type == DATETIME:  # whole seconds only: strftime rounds a .9995+ fraction up
        column = f"substr({column}, 1, 19), {alias}._tzmod"
    value = f"CAST(strftime('{_PART_FORMATS[part]}', {column}) AS INTEGER)"
    return f"({value} + 1)" if part == "week_day" else value


def build_where(
    entity: Entity,
    filters: dict[str, str],
    naive_offset: int = 0,
    catalogue: Mapping[str, Entity] = ENTITIES,
    check: Callable[[str, str, bool], None] | None = None,
) -> Where:
    """All filters of a request, AND-ed. Raises ApiError(400) naming the bad parameter.
    `check`: called with each value before it is parsed (see `_Filter.check`)."""
    where = Where()
    for param, value in filters.items():
        negate = param.endswith("!")
        name = param[:-1] if negate else param
        if not name:
            raise bad_param(param, "empty parameter name")
        path = resolve(entity, name, catalogue=catalogue)
        clause = _path_sql(where, _Filter(param, value, naive_offset, check), "t", path)
        where.clauses.append(f"({clause}) IS NOT 1" if negate else f"({clause})")
    return where


__all__ = ["ApiError", "Where", "build_where", "parse_value"]
