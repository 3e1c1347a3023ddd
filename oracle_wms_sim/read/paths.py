"""Field paths across relations: `order_id__facility_id__code`, `order_dtl__item_id__code`.

One resolver serves filters, `ordering` and `values_list`, so the three accept the same names.
A path walks forward foreign keys (`*_id` to the related entity) and reverse relations (a parent
to the records that point at it, named by the child entity: `order_dtl`, Django's `orderdtl`, or
the parent's `order_dtl_set`), and ends on a field, optionally followed by one lookup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from ..data.entities import ENTITIES
from ..data.model import CHILD_SET, DATE, DATETIME, FOREIGN_KEY, Entity, Field
from ..errors import bad_param

TEXT_LOOKUPS = frozenset(
    ("iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith")
)
ORDER_LOOKUPS = frozenset(("gt", "gte", "lt", "lte", "range"))
LOOKUPS = TEXT_LOOKUPS | ORDER_LOOKUPS | {"exact", "in", "isnull"}
TRANSFORMS = frozenset(("year", "month", "day", "week_day", "hour", "minute"))
"""Date parts of a date or date-time, optionally followed by a lookup: `mod_ts__year__gte=2025`."""


RenderField = Callable[[Entity, Field, str], str]
"""(entity, field, row alias) -> the SQL of the field's value."""


@dataclass(frozen=True)
class Hop:
    """One step: `forward` follows `column` of the current entity to `entity`; a reverse step
    goes to the `entity` rows whose `column` holds the current record's id."""

    forward: bool
    entity: Entity
    column: str


@dataclass(frozen=True)
class FieldPath:
    hops: tuple[Hop, ...]
    field: Field | None  # None: a reverse relation tested for existence (`__isnull`)
    lookup: str
    transform: str | None = None  # a date part of the field (TRANSFORMS)

    @property
    def forward_only(self) -> bool:
        return all(h.forward for h in self.hops)


@cache
def reverse_relations(target: str) -> dict[str, tuple[Entity, str]]:
    """Reverse names of `target` -> (child entity, child column pointing at `target`)."""
    names: dict[str, tuple[Entity, str]] = {}
    parent = ENTITIES[target]
    for f in parent.fields:  # declared child sets first: they name the canonical link
        if f.type == CHILD_SET and f.related is not None and f.child_fk is not None:
            child = ENTITIES[f.related]
            for name in (f.name, child.name, child.name.replace("_", "")):
                names.setdefault(name, (child, f.child_fk))
    for child in ENTITIES.values():
        for f in child.fields:
            if f.type == FOREIGN_KEY and f.related == target:
                for name in (child.name, child.name.replace("_", "")):
                    names.setdefault(name, (child, f.name))
    return names


def resolve(
    entity: Entity,
    param: str,
    *,
    allow_lookup: bool = True,
    catalogue: Mapping[str, Entity] = ENTITIES,
) -> FieldPath:
    """Parse `param` (without any `!`) against `entity`; 400 naming `param` when it is wrong.

    `catalogue` is the simulator's own entity definitions, so a hop reaches fields added at run
    time; relations themselves never change, so `reverse_relations` may use the shared one.
    """
    parts = param.split("__")
    current = entity
    hops: list[Hop] = []
    i = 0
    while i < len(parts):
        name, rest = parts[i], parts[i + 1 :]
        own = current.by_name.get(name)
        if own is not None and own.type != CHILD_SET:
            if not rest:
                return FieldPath(tuple(hops), own, "exact")
            if rest[0] in TRANSFORMS and allow_lookup and own.type in (DATE, DATETIME):
                if len(rest) > 2 or (len(rest) == 2 and rest[1] not in LOOKUPS):
                    raise bad_param(param, f"unknown lookup '{'__'.join(rest[1:])}'")
                if rest[0] in ("hour", "minute") and own.type == DATE:
                    raise bad_param(param, f"'{rest[0]}' does not apply to a date")
                lookup = rest[1] if len(rest) == 2 else "exact"
                return FieldPath(tuple(hops), own, lookup, rest[0])
            if rest[0] in LOOKUPS and allow_lookup:
                if len(rest) > 1:
                    raise bad_param(param, f"unknown lookup '{'__'.join(rest)}'")
                return FieldPath(tuple(hops), own, rest[0])
            if own.type != FOREIGN_KEY or own.related is None:
                raise bad_param(param, f"unknown lookup '{rest[0]}'")
            current = catalogue[own.related]
            hops.append(Hop(True, current, own.name))
            i += 1
            continue
        reverse = reverse_relations(current.name).get(name)
        if reverse is None:
            raise bad_param(param, f"unknown field '{name}' on {current.name}")
        child = catalogue[reverse[0].name]
        hops.append(Hop(False, child, reverse[1]))
        if rest == ["isnull"] and allow_lookup:
            return FieldPath(tuple(hops), None, "isnull")
        if not rest:
            raise bad_param(param, f"'{name}' is a relation: name one of its fields")
        current = child
        i += 1
    raise bad_param(param, "incomplete field path")  # pragma: no cover - loop always returns


def value_sql(base: Entity, path: FieldPath, render: RenderField, alias: str = "t") -> str:
    """A scalar SQL expression for a forward path, evaluated on row `alias` of `base`:
    one correlated subquery per hop, `render` turning the final column into its value."""
    assert path.field is not None and path.forward_only

    def walk(entity: Entity, current: str, depth: int) -> str:
        if depth == len(path.hops):
            assert path.field is not None
            return render(entity, path.field, current)
        hop = path.hops[depth]
        inner = f"{alias}_{depth}"
        return (
            f"(SELECT {walk(hop.entity, inner, depth + 1)} FROM {hop.entity.name} {inner} "
            f"WHERE {inner}.id = {current}.{hop.column})"
        )

    return walk(base, alias, 0)


def raw_column(entity: Entity, f: Field, alias: str) -> str:
    return f"{alias}.{f.name}"
