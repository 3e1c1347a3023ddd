"""SQL expressions that render records as JSON inside SQLite.

SQLite's `json_object` builds each record's JSON text in C, so serving a page costs one query and
one string join in Python: no per-record or per-field Python work. Foreign-key keys come from
indexed primary-key lookups on the related table, so they are always current. The URL prefix
travels as the bound parameter `:api` because it depends on the request's `Host` header.
"""

from __future__ import annotations

import sqlite3
from functools import lru_cache

from ..data.entities import ENTITIES
from ..data.model import BOOLEAN, CHILD_SET, DATETIME, DECIMAL, FOREIGN_KEY, Entity, Field


def value_sql(entity: Entity, f: Field, alias: str = "t") -> str:
    """A field's rendered value. A foreign key's `key` uses the shared catalogue: keys and
    relations never change at run time, only plain fields are added."""
    col = f"{alias}.{f.name}"
    if f.type == FOREIGN_KEY and f.related is not None:
        related = ENTITIES[f.related]
        key = related.key_expression("r")
        obj = (
            f"json_object('id', {col}, "
            f"'key', (SELECT {key} FROM {related.name} r WHERE r.id = {col}), "
            f"'url', :api || 'entity/{related.name}/' || {col} || '/')"
        )
        return f"CASE WHEN {col} IS NULL THEN NULL ELSE {obj} END"
    if f.type == CHILD_SET and f.related is not None:
        child = f.related
        children = f"FROM {child} c WHERE c.{f.child_fk} = {alias}.id"
        obj = (
            f"json_object('result_count', (SELECT count(*) {children}), "
            f"'url', :api || 'entity/{child}/?{f.child_fk}=' || {alias}.id)"
        )
        # Oracle ("Related Data Sets"): the set is null when the record has no children.
        return f"CASE WHEN EXISTS (SELECT 1 {children}) THEN {obj} ELSE NULL END"
    if f.type == DECIMAL:
        text = f"printf('%.{f.scale}f', {col})"
        return text if f.required else f"CASE WHEN {col} IS NULL THEN NULL ELSE {text} END"
    if f.type == BOOLEAN:
        return (
            f"CASE WHEN {col} IS NULL THEN NULL WHEN {col} THEN json('true') ELSE json('false') END"
        )
    if f.type == DATETIME:
        return (
            # Shift the whole seconds only: strftime on the fraction rounds .9995+ up a second.
            f"strftime('%Y-%m-%dT%H:%M:%S', substr({col}, 1, 19), {alias}._tzmod) "
            f"|| substr({col}, 20) "
            f"|| {alias}._tz"
        )
    return col


@lru_cache(maxsize=512)
def record_sql(entity: Entity, names: tuple[str, ...]) -> str:
    """`json_object(...)` for the chosen fields, in the order given (the describe order).

    Keyed on the `Entity` itself (not its name): a simulator whose entity gained a field has
    its own definition, and the cache must not hand it another simulator's SQL.
    """
    parts = [f"'{n}', {value_sql(entity, entity.by_name[n])}" for n in names]
    return f"json_object({', '.join(parts)})"


def record_by_id(conn: sqlite3.Connection, entity: Entity, ident: int, api_root: str) -> str | None:
    """One record's JSON with every field (what a write answers), or None when it is gone."""
    names = tuple(f.name for f in entity.fields)
    row = conn.execute(
        f"SELECT {record_sql(entity, names)} FROM {entity.name} t WHERE t.id = :id",
        {"id": ident, "api": api_root},
    ).fetchone()
    return None if row is None else str(row[0])
