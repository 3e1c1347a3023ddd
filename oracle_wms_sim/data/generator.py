"""Deterministic bulk generation of a small coherent warehouse into SQLite.

Every entity draws from its own `random.Random(f"{seed}:{entity}")` and timestamps derive from
the fixed `BASE_INSTANT`, so the same seed and scale give the same data byte for byte whatever
the wall clock says. Rows stream to SQLite in chunks (executemany), so memory stays small; only
the ids and a few attributes of *referenced* entities are held, for coherent foreign keys.

Audit stamps imitate WMS batch jobs: rows are created in batches of 50-500 sharing one
`create_ts`, and about half of them were later touched by one of a few modification jobs that
stamp ~250 rows each with the same `mod_ts`.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from random import Random
from typing import Any

from .builder_base import Row
from .builders import KEPT_ATTRS, PARENTS, builder_for
from .coherence import settle
from .entities import ENTITIES
from .model import FOREIGN_KEY, Entity
from .reference import COMPANIES, FACILITIES, code_rows
from .schema import SCHEMA_VERSION, columns, create_indexes, create_tables
from .timefmt import BASE_INSTANT, offset_modifier, offset_text, to_store

CHUNK = 5000
_CREATE_USERS = ("INTEGRATION", "BATCH_JOB", "jsmith", "mgarcia", "WMS_SYSTEM")
_MOD_USERS = ("WAVE_JOB", "INTEGRATION", "akim", "RF_USER", "WMS_SYSTEM")


def row_count(entity: Entity, scale: int) -> int:
    if entity.name == "company":
        return len(COMPANIES)
    if entity.name == "facility":
        return len(FACILITIES)
    return entity.base_count * scale if entity.scales else entity.base_count


class MemoryPicker:
    """The `Picker` used while generating: ids and kept attributes of referenced entities."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str, int | None], list[int]] = defaultdict(list)
        self._attrs: dict[tuple[str, str], dict[int, Any]] = defaultdict(dict)
        self._seq: dict[tuple[str, int], int] = defaultdict(int)

    def add(self, entity: str, ident: int, row: Row) -> None:
        self._ids[(entity, "", None)].append(ident)
        self._ids[(entity, "fac", row["_fac"])].append(ident)
        self._ids[(entity, "co", row["_co"])].append(ident)
        for name in ("_fac", "_co", *KEPT_ATTRS.get(entity, ())):
            self._attrs[(entity, name)][ident] = row[name]

    def pick(
        self, entity: str, rng: Random, *, fac: int | None = None, co: int | None = None
    ) -> int | None:
        if fac is not None:
            ids = self._ids.get((entity, "fac", fac))
        elif co is not None:
            ids = self._ids.get((entity, "co", co))
        else:
            ids = self._ids.get((entity, "", None))
        return rng.choice(ids) if ids else None

    def attr(self, entity: str, ident: int, name: str) -> Any:
        return self._attrs[(entity, name)][ident]

    def next_seq(self, entity: str, parent: int) -> int:
        self._seq[(entity, parent)] += 1
        return self._seq[(entity, parent)]


def _referenced() -> set[str]:
    names = {f.related for e in ENTITIES.values() for f in e.fields if f.type == FOREIGN_KEY}
    names.update(parent for parent, _ in PARENTS.values())
    return {n for n in names if n is not None}


def audit_stamps(rng: Random, count: int) -> Iterator[tuple[str, str, str, str]]:
    """(create_ts, create_user, mod_ts, mod_user) per row, in id order, batch-shaped."""
    start = BASE_INSTANT - timedelta(days=120)
    span = timedelta(days=105)
    mod_start = BASE_INSTANT - timedelta(days=15)
    mod_span_s = int(timedelta(days=15, hours=-1).total_seconds())
    jobs = max(1, count // 250)
    mod_stamps = sorted(
        (
            to_store(
                mod_start
                + timedelta(seconds=rng.randrange(mod_span_s), microseconds=rng.randrange(1, 10**6))
            ),
            rng.choice(_MOD_USERS),
        )
        for _ in range(jobs)
    )
    produced = 0
    while produced < count:
        size = min(rng.randint(50, 500), count - produced)
        at = start + span * (produced / count)
        created = to_store(
            at + timedelta(seconds=rng.randrange(600), microseconds=rng.randrange(1, 10**6))
        )
        user = rng.choice(_CREATE_USERS)
        for _ in range(size):
            if rng.random() < 0.45:
                yield created, user, created, user
            else:
                mod_ts, mod_user = mod_stamps[rng.randrange(jobs)]
                yield created, user, max(mod_ts, created), mod_user
        produced += size


def zone_columns(row: Row, picker: Any) -> None:
    """Fill the hidden zone columns from the owning facility, or the company without one."""
    if "_tzm" not in row:
        if row["_fac"] is not None:
            row["_tzm"] = picker.attr("facility", row["_fac"], "_tzm")
        else:
            row["_tzm"] = picker.attr("company", row["_co"], "_tzm")
    row["_tzmod"] = offset_modifier(row["_tzm"])
    row["_tz"] = offset_text(row["_tzm"])


def _insert_sql(entity: Entity) -> str:
    cols = columns(entity)
    return f"INSERT INTO {entity.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def _generate_entity(
    conn: sqlite3.Connection,
    entity: Entity,
    *,
    seed: int,
    scale: int,
    picker: MemoryPicker,
    keep: bool,
) -> None:
    sql = _insert_sql(entity)
    if entity.is_code_table:
        conn.executemany(sql, code_rows(entity.name))
        return
    rng = Random(f"{seed}:{entity.name}")  # noqa: S311 - reproducible data, not secrets
    stamp_rng = Random(f"{seed}:{entity.name}:stamps")  # noqa: S311
    cols = columns(entity)
    count = row_count(entity, scale)
    parent = PARENTS.get(entity.name)
    parents = row_count(ENTITIES[parent[0]], scale) if parent else 0
    build = builder_for(entity.name)
    chunk: list[tuple[Any, ...]] = []
    for index, (created, cuser, modified, muser) in enumerate(audit_stamps(stamp_rng, count)):
        ident = index + 1
        parent_id = index * parents // count + 1 if parent else None
        row = build(picker, rng, ident, parent_id, modified)
        row.update(id=ident, create_ts=created, create_user=cuser, mod_ts=modified, mod_user=muser)
        zone_columns(row, picker)
        if keep:
            picker.add(entity.name, ident, row)
        chunk.append(tuple(row[c] for c in cols))
        if len(chunk) >= CHUNK:
            conn.executemany(sql, chunk)
            chunk.clear()
    if chunk:
        conn.executemany(sql, chunk)


def generate(conn: sqlite3.Connection, seed: int, scale: int) -> None:
    """Create the schema and fill it. The caller owns the connection (autocommit mode)."""
    picker = MemoryPicker()
    referenced = _referenced()
    conn.execute("BEGIN")
    create_tables(conn)
    for entity in ENTITIES.values():
        _generate_entity(
            conn,
            entity,
            seed=seed,
            scale=scale,
            picker=picker,
            keep=entity.name in referenced,
        )
    # Indexes before `settle`: its updates find an order's lines by `order_id` (without the
    # index, one scan of order_dtl per order: scale 40 took 205 s to generate, scale 4 3 s).
    create_indexes(conn)
    settle(conn)
    conn.executemany(
        "INSERT INTO _sim_meta (key, value) VALUES (?, ?)",
        [("seed", str(seed)), ("scale", str(scale)), ("schema_version", str(SCHEMA_VERSION))],
    )
    conn.execute("INSERT INTO _sim_meta (key, value) VALUES ('complete', '1')")
    conn.execute("COMMIT")
