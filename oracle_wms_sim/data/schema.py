"""SQLite schema derived from the entity catalogue, and the metadata table marking a complete DB.

Besides the public fields every change-tracking table has hidden columns (never exposed):
`_fac`/`_co` (owning facility/company, for coherent picks), `_tzm` (zone offset in minutes) and
`_tzmod`/`_tz` (the same offset as an SQLite date modifier and as `+HH:MM`, so rendering needs no
per-row Python work).
"""

from __future__ import annotations

import sqlite3

from .entities import ENTITIES
from .model import SQL_TYPES, Entity

HIDDEN = ("_fac", "_co", "_tzm", "_tzmod", "_tz")
HIDDEN_TYPES = ("INTEGER", "INTEGER", "INTEGER", "TEXT", "TEXT")
SCHEMA_VERSION = 5


def columns(entity: Entity) -> list[str]:
    """Stored column names in insert order."""
    names = [f.name for f in entity.stored_fields]
    if entity.audited:
        names.extend(HIDDEN)
    return names


def create_tables(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS _sim_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for entity in ENTITIES.values():
        cols = []
        for f in entity.stored_fields:
            if f.name == "id":
                cols.append("id INTEGER PRIMARY KEY")
            else:
                null = " NOT NULL" if f.required else ""
                cols.append(f"{f.name} {SQL_TYPES[f.type]}{null}")
        if entity.audited:
            cols.extend(f"{n} {t}" for n, t in zip(HIDDEN, HIDDEN_TYPES, strict=True))
        conn.execute(f"CREATE TABLE {entity.name} ({', '.join(cols)})")


def create_indexes(conn: sqlite3.Connection) -> None:
    """Indexes for keyset paging on audit stamps, child-set counts and natural-key lookups."""
    for entity in ENTITIES.values():
        name = entity.name
        if entity.tracks_changes:
            conn.execute(f"CREATE INDEX ix_{name}_mod_ts ON {name} (mod_ts, id)")
        if entity.audited:
            conn.execute(f"CREATE INDEX ix_{name}_create_ts ON {name} (create_ts, id)")
        for columns_text in entity.indexes:
            suffix = "_".join(c.strip() for c in columns_text.split(","))
            conn.execute(f"CREATE INDEX ix_{name}_{suffix} ON {name} ({columns_text})")
        if entity.key != "id" and entity.key_sql is None:
            conn.execute(f"CREATE INDEX ix_{name}_key ON {name} ({entity.key})")
        for f in entity.fields:
            if f.child_fk is not None and f.related is not None:
                child = f.related
                conn.execute(f"CREATE INDEX ix_{child}_{f.child_fk} ON {child} ({f.child_fk})")
