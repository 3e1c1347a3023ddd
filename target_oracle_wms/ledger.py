"""The local ledger of applied records: what makes a redelivered record a no-op.

Singer delivers at least once (a rerun after a failure replays records the target already
wrote). Each applied record's identity is committed here right after the WMS accepted it, in a
SQLite file (`ledger_path`), so a replay, a restart after a kill, or a retry skips it. Where the
WMS itself can prove a write happened (`transaction_ref_nbr` in inventory history) the sinks ask
it too, which covers a response lost after the write and a lost ledger.

Each row also keeps `content`, a hash of what was applied under the identity (the record without
its `_sdc_*` metadata), so a redelivery of the same record is "already applied" and a different
record under an applied identity is told apart (the sinks reject it). Ledgers written before
hashes were kept are migrated in place (a `content` column added, NULL): those rows read as
"applied, content unknown" and any record under their identity counts as already applied, as
before; a row gets its hash only when the target applies a record under it again (it never does),
so such ledgers keep that weaker check for the rows they already hold.

A second table, `pending`, holds a marker per identity committed BEFORE a write whose effect the
WMS cannot be asked about by a reference of ours (a wave run, a pick confirm): what the sink read
from the WMS just before sending (the highest wave id, the allocation's packed quantity). A rerun
after a kill or a lost answer finds the marker and compares the WMS with it instead of sending
again; `mark_applied` removes it in the same transaction that records the identity.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any


class Ledger:
    """Applied record identities per stream, durable after each `mark_applied`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS applied ("
            " stream TEXT NOT NULL, identity TEXT NOT NULL, applied_at REAL NOT NULL,"
            " result TEXT, content TEXT, PRIMARY KEY (stream, identity))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pending ("
            " stream TEXT NOT NULL, identity TEXT NOT NULL, marked_at REAL NOT NULL,"
            " marker TEXT NOT NULL, PRIMARY KEY (stream, identity))"
        )
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(applied)")}
        if "content" not in columns:  # a ledger from before content hashes
            self._db.execute("ALTER TABLE applied ADD COLUMN content TEXT")

    def applied(self, stream: str, identities: list[str]) -> dict[str, str | None]:
        """Which of these identities were applied before, each with the content hash applied
        under it (None: applied by a ledger that kept no hashes, content unknown)."""
        found: dict[str, str | None] = {}
        with self._lock:
            for start in range(0, len(identities), 500):
                chunk = identities[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = "SELECT identity, content FROM applied WHERE stream = ? AND identity IN "
                rows = self._db.execute(f"{query}({marks})", (stream, *chunk))
                found.update((row[0], row[1]) for row in rows)
        return found

    def mark_applied(
        self, stream: str, identity: str, result: Any = None, content: str | None = None
    ) -> None:
        """Commit an applied identity with the hash of the content applied under it (and drop
        its pending marker, in the same transaction)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO applied (stream, identity, applied_at, result, content)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (stream, identity, time.time(), json.dumps(result, default=str), content),
                )
                self._db.execute(
                    "DELETE FROM pending WHERE stream = ? AND identity = ?", (stream, identity)
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def mark_pending(self, stream: str, identity: str, marker: dict[str, Any]) -> None:
        """Commit what was read from the WMS just before a write of `identity` is sent (a JSON
        object), replacing an older marker of the identity. Durable when this returns."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO pending (stream, identity, marked_at, marker)"
                " VALUES (?, ?, ?, ?)",
                (stream, identity, time.time(), json.dumps(marker, default=str)),
            )

    def pending(self, stream: str, identity: str) -> dict[str, Any] | None:
        """The marker committed before `identity`'s write was sent, None when there is none (the
        write was never sent, or its outcome was settled)."""
        with self._lock:
            row = self._db.execute(
                "SELECT marker FROM pending WHERE stream = ? AND identity = ?", (stream, identity)
            ).fetchone()
        marker: dict[str, Any] | None = json.loads(row[0]) if row else None
        return marker

    def clear_pending(self, stream: str, identity: str) -> None:
        """Forget `identity`'s marker: the WMS refused the write, so nothing of it can be there."""
        with self._lock:
            self._db.execute(
                "DELETE FROM pending WHERE stream = ? AND identity = ?", (stream, identity)
            )

    def count(self, stream: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM applied WHERE stream = ?", (stream,))
            return int(row.fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
