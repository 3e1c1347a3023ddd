"""The local ledger of applied records: what makes a redelivered record a no-op.

Singer delivers at least once (a rerun after a failure replays records the target already
wrote). Each applied record's identity is committed here right after the WMS accepted it, in a
SQLite file (`ledger_path`), so a replay, a restart after a kill, or a retry skips it. Where the
WMS itself can prove a write happened (`transaction_ref_nbr` in inventory history) the sinks ask
it too, which covers a response lost after the write and a lost ledger.
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
            " result TEXT, PRIMARY KEY (stream, identity))"
        )

    def applied(self, stream: str, identities: list[str]) -> set[str]:
        """Which of these identities were applied before."""
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(identities), 500):
                chunk = identities[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    f"SELECT identity FROM applied WHERE stream = ? AND identity IN ({marks})",  # noqa: S608
                    (stream, *chunk),
                )
                found.update(row[0] for row in rows)
        return found

    def mark_applied(self, stream: str, identity: str, result: Any = None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO applied VALUES (?, ?, ?, ?)",
                (stream, identity, time.time(), json.dumps(result, default=str)),
            )

    def count(self, stream: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM applied WHERE stream = ?", (stream,))
            return int(row.fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
