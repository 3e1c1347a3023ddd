"""The SQLite store: opening/generating the DB, reads for the API, and WMS-like data changes.

Readers get one connection per thread (WAL mode, so reads never block on the writer). Writes go
through one lock-protected connection. Counts for paged mode are cached per entity *version*
(bumped after every committed change), so paging a large table does not count it once per page.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

from ..errors import ApiError
from . import drift
from .builders import PARENTS, builder_for
from .catalogue import Catalogue
from .generator import generate, zone_columns
from .model import BOOLEAN, DATE, DECIMAL, INTEGER, STRING, Entity, Field
from .schema import SCHEMA_VERSION, columns
from .timefmt import from_store, to_store

_COUNT_CACHE_SIZE = 512


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(
        path, isolation_level=None, check_same_thread=False, cached_statements=512
    )
    conn.execute("PRAGMA busy_timeout = 10000")
    return conn


def _meta(conn: sqlite3.Connection) -> dict[str, str] | None:
    try:
        rows = conn.execute("SELECT key, value FROM _sim_meta").fetchall()
    except sqlite3.OperationalError:
        return None
    return dict(rows)


def prepare(path: str, seed: int, scale: int) -> dict[str, str]:
    """Reuse the DB at `path` if it holds complete data of this schema, else generate into it.

    Refuses (RuntimeError) to touch a file that is some other SQLite database.
    """
    if os.path.exists(path) and os.path.getsize(path) > 0:
        conn = connect(path)
        try:
            meta = _meta(conn)
            current = meta is not None and meta.get("schema_version") == str(SCHEMA_VERSION)
            if meta is not None and meta.get("complete") == "1" and current:
                conn.execute("PRAGMA journal_mode = WAL")
                return meta
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).fetchone()[0]
        finally:
            conn.close()
        if meta is None and tables:
            raise RuntimeError(f"{path} is a database that the simulator did not create")
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        generate(conn, seed, scale)
        conn.execute("PRAGMA journal_mode = WAL")
        meta = _meta(conn) or {}
    finally:
        conn.close()
    return meta


class SqlPicker:
    """The `Picker` for live inserts: random but reproducible picks straight from SQL."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def pick(
        self, entity: str, rng: Random, *, fac: int | None = None, co: int | None = None
    ) -> int | None:
        top = self._conn.execute(f"SELECT max(id) FROM {entity}").fetchone()[0]
        if top is None:
            return None
        start = rng.randint(1, int(top))
        cond, args = "", [start]
        if fac is not None:
            cond, args = " AND _fac = ?", [start, fac]
        elif co is not None:
            cond, args = " AND _co = ?", [start, co]
        for op, direction in ((">=", ""), ("<", " DESC")):
            row = self._conn.execute(
                f"SELECT id FROM {entity} WHERE id {op} ?{cond} ORDER BY id{direction} LIMIT 1",
                args,
            ).fetchone()
            if row is not None:
                return int(row[0])
        return None

    def attr(self, entity: str, ident: int, name: str) -> Any:
        return self._conn.execute(f"SELECT {name} FROM {entity} WHERE id = ?", (ident,)).fetchone()[
            0
        ]

    def next_seq(self, entity: str, parent: int) -> int:
        fk = PARENTS[entity][1]
        row = self._conn.execute(
            f"SELECT coalesce(max(seq_nbr), 0) + 1 FROM {entity} WHERE {fk} = ?", (parent,)
        ).fetchone()
        return int(row[0])


def _new_value(f: Field, rng: Random, old: Any) -> Any:
    """A different ordinary value for the field `update_records` changes."""
    if f.type == DECIMAL:
        return float(rng.randint(0, 1000)) if old is None else float(old) + rng.randint(1, 25)
    if f.type in (INTEGER,):
        return rng.randint(1, 10**6)
    if f.type == BOOLEAN:
        return 0 if old else 1
    if f.type == DATE:
        return (datetime(2026, 1, 5) + timedelta(days=rng.randint(0, 400))).date().isoformat()
    if f.type == STRING:
        return f"UPD-{rng.randint(0, 10**6):06d}"[: f.max_length or 50]
    raise ValueError(f"cannot change field {f.name} of type {f.type}")


@dataclass
class Store:
    """Owns the DB path, the per-thread read connections, the writer and this simulator's own
    entity catalogue (schema drift must not leak into other simulators in the process)."""

    path: str
    seed: int
    catalogue: Catalogue = field(default_factory=Catalogue)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _write_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _drift_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _version: int = 0
    _counts: OrderedDict[tuple[Any, ...], int] = field(default_factory=OrderedDict, repr=False)
    _counts_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _boundaries: OrderedDict[tuple[Any, ...], list[Any]] = field(
        default_factory=OrderedDict, repr=False
    )
    _mutations: int = 0
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    """What a writer remembers for the current write transaction only (cleared as each one
    begins; writers are serialised), e.g. one `mod_ts` per table for a wave's many rows."""
    _all_conns: list[tuple[int, sqlite3.Connection]] = field(default_factory=list, repr=False)
    """Every open read connection with the thread that owns it."""
    _serving: set[int] = field(default_factory=set, repr=False)
    """Threads answering a request now: `close` leaves their connections to them."""
    _closed: bool = False

    # ---- connections -------------------------------------------------------------------
    def reader(self) -> sqlite3.Connection:
        """This thread's connection (created on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._counts_lock:
                self._all_conns.append((threading.get_ident(), conn))
        return conn

    def release_reader(self) -> None:
        """Close this thread's connection (a server thread calls it when its socket closes)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            self._local.conn = None
            with self._counts_lock:
                self._all_conns = [(t, c) for t, c in self._all_conns if c is not conn]
            conn.close()

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """One request answered on this thread. Closing a SQLite connection while another thread
        executes on it crashes the whole process (a segmentation fault in `sqlite3`, seen when a
        test stopped the simulator under a client's last request), so `close` leaves the
        connection of a thread inside `serving` open, and the thread closes it itself on leaving
        once the store is closed."""
        ident = threading.get_ident()
        with self._counts_lock:
            self._serving.add(ident)
        try:
            yield
        finally:
            with self._counts_lock:
                self._serving.discard(ident)
                closed = self._closed
            if closed:
                self.release_reader()

    def close(self) -> None:
        """Close every read connection no request is using now (see `serving` for the rest)."""
        with self._counts_lock:
            self._closed = True
            idle = [c for t, c in self._all_conns if t not in self._serving]
            self._all_conns = [(t, c) for t, c in self._all_conns if t in self._serving]
        for conn in idle:
            with contextlib.suppress(sqlite3.ProgrammingError):
                conn.close()

    # ---- reads -------------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Bumped after every committed change (any entity: relation filters span tables)."""
        return self._version

    def cached_count(self, key: tuple[Any, ...]) -> int | None:
        with self._counts_lock:
            value = self._counts.get(key)
            if value is not None:
                self._counts.move_to_end(key)
            return value

    def remember_count(self, key: tuple[Any, ...], value: int) -> None:
        with self._counts_lock:
            self._counts[key] = value
            while len(self._counts) > _COUNT_CACHE_SIZE:
                self._counts.popitem(last=False)

    def recall_boundary(self, key: tuple[Any, ...]) -> list[Any] | None:
        """The last sort key of a page served at this data version (paged-mode seeks)."""
        with self._counts_lock:
            return self._boundaries.get(key)

    def remember_boundary(self, key: tuple[Any, ...], value: list[Any]) -> None:
        with self._counts_lock:
            self._boundaries[key] = value
            while len(self._boundaries) > _COUNT_CACHE_SIZE * 8:
                self._boundaries.popitem(last=False)

    def count(self, entity: str, where_sql: str = "1", params: dict[str, Any] | None = None) -> int:
        sql = f"SELECT count(*) FROM {entity} t WHERE {where_sql}"
        return int(self.reader().execute(sql, params or {}).fetchone()[0])

    # ---- changes -----------------------------------------------------------------------
    def _rng(self, entity: str, action: str) -> Random:
        self._mutations += 1
        return Random(f"{self.seed}:{action}:{entity}:{self._mutations}")  # noqa: S311

    def stamps(
        self, conn: sqlite3.Connection, entity: Entity, count: int = 1, same: bool = True
    ) -> list[str]:
        """New stamps: wall clock, but strictly after the entity's current newest stamp."""
        now = datetime.now(UTC)
        column = entity.stamp_column
        top = conn.execute(f"SELECT max({column}) FROM {entity.name}").fetchone()[0]
        if top is not None:
            now = max(now, from_store(top) + timedelta(microseconds=1))
        if same:
            return [to_store(now)] * count
        return [to_store(now + timedelta(microseconds=i)) for i in range(count)]

    def entity(self, name: str) -> Entity:
        """This store's definition of the entity (with added fields); 404 when unknown."""
        return self.catalogue.entity(name)

    def load_catalogue(self) -> None:
        """Fields added by an earlier run on this DB file (called once the DB is prepared)."""
        conn = connect(self.path)
        try:
            drift.load(conn, self.catalogue)
        finally:
            conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        Writers are serialised by the store's lock; readers see the change atomically, and
        cached counts and page boundaries are dropped after the commit.
        """
        with self._write_lock:
            conn = connect(self.path)
            try:
                conn.execute("BEGIN IMMEDIATE")
                self.memo.clear()
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                conn.close()
            self._bump("")

    def next_id(self, conn: sqlite3.Connection, table: str) -> int:
        """A fresh id: above every existing and every deleted one."""
        return max(self._top_id(conn, table), self._deleted_top(conn, table)) + 1

    def insert_row(self, conn: sqlite3.Connection, entity_name: str, row: dict[str, Any]) -> None:
        """Insert one record a write built (`id`, fields, `_fac`/`_co`): the hidden zone columns
        are derived and fields added at run time filled, as for every other record."""
        entity = self.entity(entity_name)
        zone_columns(row, SqlPicker(conn))
        cols = columns(entity)
        conn.execute(
            f"INSERT INTO {entity.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
            [row.get(c) for c in cols],
        )
        drift.fill_new_rows(conn, self.catalogue, entity.name, [int(row["id"])])

    def add_field(self, spec: drift.AddedField) -> None:
        """Schema drift: the entity gains a column, filled for every record (see drift.py).
        One at a time, so two callers adding the same field cannot both pass validation."""
        with self._drift_lock:
            if not drift.validate(spec, self.catalogue):
                return
            with self.transaction() as conn:
                drift.apply(conn, spec)
            self.catalogue.add(spec.entity, spec.field)

    def update_records(self, entity_name: str, count: int, same_mod_ts: bool = True) -> list[int]:
        """Touch `count` existing records like a WMS job: new mod_ts, one ordinary field changed."""
        entity = self.entity(entity_name)
        if entity.audited and not entity.tracks_changes:
            raise ApiError(
                400, f"{entity.name} records are never modified (history is append-only)."
            )
        target = entity.by_name[entity.mutable]
        with self._write_lock:
            conn = connect(self.path)
            try:
                conn.execute("BEGIN IMMEDIATE")
                self.memo.clear()
                lo, hi, total = conn.execute(
                    f"SELECT min(id), max(id), count(*) FROM {entity.name}"
                ).fetchone()
                if lo is None or count <= 0:
                    conn.execute("COMMIT")
                    return []
                rng = self._rng(entity.name, "update")
                if hi - lo + 1 == total:  # contiguous ids (no deletes): sample without a scan
                    population: range | list[int] = range(lo, hi + 1)
                else:
                    population = [r[0] for r in conn.execute(f"SELECT id FROM {entity.name}")]
                ids = sorted(rng.sample(population, min(count, total)))
                stamps = (
                    self.stamps(conn, entity, len(ids), same_mod_ts)
                    if entity.tracks_changes
                    else []
                )
                for i, ident in enumerate(ids):
                    row = conn.execute(
                        f"SELECT {target.name} FROM {entity.name} WHERE id = ?", (ident,)
                    ).fetchone()
                    if row is None:
                        continue
                    value = _new_value(target, rng, row[0])
                    if entity.tracks_changes:
                        conn.execute(
                            f"UPDATE {entity.name} SET {target.name} = ?, mod_ts = ?, "
                            "mod_user = 'SIM_UPDATE' WHERE id = ?",
                            (value, stamps[i], ident),
                        )
                    else:
                        conn.execute(
                            f"UPDATE {entity.name} SET {target.name} = ? WHERE id = ?",
                            (value, ident),
                        )
                conn.execute("COMMIT")
            finally:
                conn.close()
            self._bump(entity.name)
        return ids

    def insert_records(self, entity_name: str, count: int, same_mod_ts: bool = True) -> list[int]:
        """Create `count` coherent records (valid foreign keys) stamped now."""
        entity = self.entity(entity_name)
        cols = columns(entity)
        sql = f"INSERT INTO {entity.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        with self._write_lock:
            conn = connect(self.path)
            try:
                conn.execute("BEGIN IMMEDIATE")
                self.memo.clear()
                top = max(self._top_id(conn, entity.name), self._deleted_top(conn, entity.name))
                ids = list(range(top + 1, top + 1 + max(count, 0)))
                rng = self._rng(entity.name, "insert")
                if entity.is_code_table:
                    codes = [
                        {"id": i, "code": f"X{i}", "description": f"Added code {i}"} for i in ids
                    ]
                    rows: list[tuple[Any, ...]] = [tuple(r.get(c) for c in cols) for r in codes]
                else:
                    picker = SqlPicker(conn)
                    stamps = self.stamps(conn, entity, len(ids), same_mod_ts)
                    rows = []
                    build = builder_for(entity.name)
                    for ident, stamp in zip(ids, stamps, strict=True):
                        row = build(picker, rng, ident, None, stamp)
                        row.update(
                            id=ident,
                            create_ts=stamp,
                            create_user="SIM_INSERT",
                            mod_ts=stamp,
                            mod_user="SIM_INSERT",
                        )
                        zone_columns(row, picker)
                        rows.append(tuple(row.get(c) for c in cols))  # added fields: below
                        conn.execute(sql, rows[-1])  # visible to later picks in this batch
                    rows = []
                conn.executemany(sql, rows)
                drift.fill_new_rows(conn, self.catalogue, entity.name, ids)
                conn.execute("COMMIT")
            except LookupError as exc:
                conn.execute("ROLLBACK")
                raise ApiError(400, f"Cannot insert {entity.name}: {exc}") from exc
            finally:
                conn.close()
            self._bump(entity.name)
        return ids

    def delete_records(self, entity_name: str, count: int) -> list[int]:
        """Delete `count` random records, with the detail lines of a deleted header (a WMS
        purges an order with its lines). Other records that referred to them keep the id; their
        foreign key then renders with a null `key`. Deleted ids are never reused by inserts."""
        entity = self.entity(entity_name)
        with self._write_lock:
            conn = connect(self.path)
            try:
                conn.execute("BEGIN IMMEDIATE")
                self.memo.clear()
                existing = [r[0] for r in conn.execute(f"SELECT id FROM {entity.name}")]
                rng = self._rng(entity.name, "delete")
                ids = sorted(rng.sample(existing, min(max(count, 0), len(existing))))
                self.remove_rows(conn, entity.name, ids)
                conn.execute("COMMIT")
            finally:
                conn.close()
            self._bump(entity.name)
        return ids

    def remove_rows(self, conn: sqlite3.Connection, entity_name: str, ids: list[int]) -> None:
        """Delete records and the detail lines of deleted headers, in the caller's transaction.

        The high-water id of every table losing rows is kept in `_sim_meta` first, so `next_id`
        never hands out a deleted id again (a reader must never see an id come back as another
        record)."""
        if not ids:
            return
        children = [(child, fk) for child, (parent, fk) in PARENTS.items() if parent == entity_name]
        for table in (entity_name, *(child for child, _ in children)):
            top = max(self._top_id(conn, table), self._deleted_top(conn, table))
            conn.execute(
                "INSERT OR REPLACE INTO _sim_meta (key, value) VALUES (?, ?)",
                (f"deleted_top:{table}", str(top)),
            )
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join("?" * len(part))
            for child, fk in children:
                conn.execute(f"DELETE FROM {child} WHERE {fk} IN ({marks})", part)
            conn.execute(f"DELETE FROM {entity_name} WHERE id IN ({marks})", part)

    @staticmethod
    def _top_id(conn: sqlite3.Connection, table: str) -> int:
        return int(conn.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0])

    @staticmethod
    def _deleted_top(conn: sqlite3.Connection, table: str) -> int:
        row = conn.execute(
            "SELECT value FROM _sim_meta WHERE key = ?", (f"deleted_top:{table}",)
        ).fetchone()
        return int(row[0]) if row else 0

    def _bump(self, entity: str) -> None:
        with self._counts_lock:
            self._version += 1
            self._counts.clear()
            self._boundaries.clear()
