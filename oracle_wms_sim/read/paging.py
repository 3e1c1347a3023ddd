"""Ordering, the sequenced-mode cursor and the keyset condition it turns into.

The cursor is URL-safe base64 (no padding) of the JSON list of the last record's sort-key values
(ordering fields as stored, then `id`). The next page starts strictly after that key, so a record
that does not change while a client pages is returned exactly once, even if others move.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..data.entities import ENTITIES
from ..data.model import CHILD_SET, Entity
from ..errors import ApiError, bad_param
from .filters import Where
from .paths import raw_column, resolve, value_sql


@dataclass(frozen=True)
class SortKey:
    column: str  # the name as requested (`mod_ts`, `order_id__order_nbr`)
    descending: bool
    nullable: bool
    expr: str  # its SQL on row `t`: the column, or a subquery for a relation path


def parse_ordering(
    entity: Entity, value: str | None, catalogue: Mapping[str, Entity] = ENTITIES
) -> list[SortKey]:
    """`ordering=a,-b` -> sort keys, always ending with `id` as the tie-break.

    `id` follows the direction of the ordering when every field is descending (so a single
    row-value comparison serves the keyset), ascending otherwise.
    """
    keys: list[SortKey] = []
    for raw in (value or "").split(","):
        name = raw.strip()
        if not name:
            continue
        descending = name.startswith("-")
        name = name.lstrip("-")
        f = entity.by_name.get(name)
        if f is not None and f.type != CHILD_SET:
            key = SortKey(name, descending, f.nullable, f"t.{name}")
        elif "__" in name:  # a relation path: `order_id__order_nbr`
            try:
                path = resolve(entity, name, allow_lookup=False, catalogue=catalogue)
            except ApiError:
                raise bad_param("ordering", f"unknown field '{name}' on {entity.name}") from None
            if not path.forward_only:
                raise bad_param("ordering", f"'{name}' crosses a reverse relation")
            key = SortKey(name, descending, True, value_sql(entity, path, raw_column))
        else:
            raise bad_param("ordering", f"unknown field '{name}' on {entity.name}")
        if any(k.column == name for k in keys):
            continue
        keys.append(key)
        if name == "id":
            return keys
    all_desc = bool(keys) and all(k.descending for k in keys)
    keys.append(SortKey("id", all_desc, False, "t.id"))
    return keys


def order_by(keys: list[SortKey]) -> str:
    return ", ".join(f"{k.expr}{' DESC' if k.descending else ''}" for k in keys)


def encode_cursor(values: tuple[Any, ...]) -> str:
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, keys: list[SortKey]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise bad_param("cursor", "not a cursor issued by this server") from exc
    if (
        not isinstance(values, list)
        or len(values) != len(keys)
        or not all(v is None or isinstance(v, int | float | str) for v in values)
    ):
        raise bad_param("cursor", "cursor does not match the ordering of the request")
    return values


def keyset_condition(where: Where, keys: list[SortKey], values: list[Any]) -> str:
    """SQL that selects rows strictly after `values` in the order of `keys`.

    Uses a row-value comparison when it is exact (it lets SQLite seek an index such as
    (mod_ts, id)); otherwise an expanded, NULL-aware OR chain (SQLite sorts NULL first ascending,
    last descending).
    """
    same_direction = len({k.descending for k in keys}) == 1
    no_nulls = all(v is not None for v in values)
    if (
        same_direction
        and no_nulls
        and (not keys[0].descending or not any(k.nullable for k in keys))
    ):
        cols = ", ".join(k.expr for k in keys)
        binds = ", ".join(where.bind(v) for v in values)
        op = "<" if keys[0].descending else ">"
        return f"({cols}) {op} ({binds})"
    branches = []
    for i, key in enumerate(keys):
        parts = [f"{k.expr} IS {where.bind(v)}" for k, v in zip(keys[:i], values[:i], strict=True)]
        value = values[i]
        col = key.expr
        if not key.descending:
            parts.append(f"{col} IS NOT NULL" if value is None else f"{col} > {where.bind(value)}")
        elif value is None:
            continue
        else:
            after = f"{col} < {where.bind(value)}"
            parts.append(f"({after} OR {col} IS NULL)" if key.nullable else after)
        branches.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(branches) + ")" if branches else "0"
