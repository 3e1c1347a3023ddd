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

One run at a time: the ledger is held for the whole run by an exclusive `flock` on
`<ledger>.lock` beside it (released by the kernel when the process ends, however it ends, so a
killed run leaves no stale lock). Two runs that reach one ledger, by any path to it, would each
find a record unapplied and both send it; the second is refused before it writes anything, in
one line naming the run that holds the ledger (the lock file's text: pid, host, start time). A
ledger on a network volume needs one whose locks work across hosts (NFSv4, SMB); the plainer
choice is write-back pinned to one worker.

A ledger belongs to one WMS: table `wms` holds the WMS it records writes to, as host and
environment (`base_url` less its scheme and port: `ta3.wms.ocs.oraclecloud.com/acme_prod`; a
local simulator keeps its identity when it starts on another port), written by the first run (or
by the first run that opens a ledger from before the table). A run
against another WMS is refused before it sends anything: its records were not applied there,
and a ledger saying they were would skip them in silence (one Meltano project, one default
ledger, `dev` and `prod` environments pointing at two WMSs). The same WMS at a new address is the
user's call to make, in the file (the error says how).

The file carries its format version in SQLite's `user_version` (`LEDGER_VERSION`): 0 is a ledger
from before versions (migrated in place), a higher one than this code knows is refused rather
than misread. A file that is not a SQLite database, a SQLite database of something else, a
directory, or one the run cannot write is one line naming `ledger_path` and the fix
(`LocalFileError`), raised before anything is sent to the WMS.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from oracle_wms.errors import WmsError

LEDGER_VERSION = 2
"""The ledger format this code writes (SQLite `user_version`): 1 = tables `applied` (with
`content`) and `pending`; 2 = and `wms`, the WMS it belongs to (a target that reads only 1 would
not check it, so it refuses a 2)."""

LEDGER_SETTING = "ledger_path"
LOST_LEDGER = (
    "restore it from a backup, or move it aside to start a new ledger (a new ledger re-checks "
    "records in the WMS where the WMS can prove them: adjustments, shipments, stage documents, "
    "receipts; waves and picks it cannot, so do that only once they are confirmed in the WMS)"
)


class LocalFileError(WmsError):
    """A file the target keeps (`ledger_path`, `rejects_path`) cannot be used: one line naming
    the setting, the file, what is wrong and the fix."""

    def __init__(self, setting: str, path: Path, problem: str, fix: str) -> None:
        self.setting = setting
        super().__init__(f"{setting} '{path}': {problem}; {fix}")


def prepare_directory(setting: str, path: Path) -> None:
    """Make the file's directory (and its parents); `path` itself must not be a directory.

    Raises:
        LocalFileError: `path` is a directory, or its directory cannot be made.
    """
    if path.is_dir():
        raise LocalFileError(
            setting, path, "is a directory", f"set {setting} to a file's path inside it"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        problem = "Not a directory" if isinstance(exc, FileExistsError) else exc.strerror
        raise LocalFileError(
            setting,
            path,
            f"its directory cannot be created ({problem})",
            f"point {setting} at a writable place, or create the directory for the user that "
            "runs the target",
        ) from exc


def hold_run_lock(path: Path) -> IO[str]:
    """Take the run's exclusive lock on `<path>.lock` and write who holds it; the returned file
    holds the lock until it is closed (or the process ends).

    Raises:
        LocalFileError: another run holds it (named), or the lock file cannot be made.
    """
    lock_path = path.with_name(path.name + ".lock")
    try:
        lock = lock_path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise LocalFileError(
            LEDGER_SETTING,
            path,
            f"its lock file {lock_path.name} cannot be opened ({exc.strerror})",
            f"the user that runs the target must be able to create or write {lock_path.name} "
            "beside the ledger (a writable directory; the lock file itself a plain file)",
        ) from exc
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "a run that has not written its name yet"
        lock.close()
        raise LocalFileError(
            LEDGER_SETTING,
            path,
            f"in use by another run ({holder})",
            "two runs writing with one ledger could apply a record twice, so this one writes "
            "nothing: let that run finish first (schedule write-back runs so they do not overlap)",
        ) from None
    started = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    lock.seek(0)
    lock.truncate()
    lock.write(f"pid {os.getpid()} on host {socket.gethostname()}, started {started}\n")
    lock.flush()
    return lock


def wms_identity(base_url: str) -> str:
    """The WMS a ledger belongs to: `base_url`'s host (lower case) and path (the environment),
    without scheme and port."""
    parts = urlsplit(base_url)
    return f"{(parts.hostname or '').lower()}{parts.path.rstrip('/')}"


def sqlite_problem(exc: sqlite3.Error) -> tuple[str, str]:
    """(what is wrong, the fix) for a SQLite error on the ledger file."""
    message = str(exc)
    if isinstance(exc, sqlite3.DatabaseError) and (
        "not a database" in message or "malformed" in message
    ):
        return f"is not a readable SQLite ledger ({message})", LOST_LEDGER
    if "readonly" in message or "unable to open" in message:
        return (
            f"cannot be written ({message})",
            "make the file and its directory writable by the user that runs the target",
        )
    if "full" in message:
        return f"cannot be written ({message})", "free space on its volume and rerun"
    return f"cannot be used ({message})", LOST_LEDGER


class Ledger:
    """Applied record identities per stream, durable after each `mark_applied`; held by this
    run alone from construction to `close`."""

    def __init__(self, path: Path, wms: str) -> None:
        """Open (or create) the ledger at `path`, an absolute path with symlinks resolved (so
        every way of naming one file takes the same lock), for the WMS at `wms` (its
        `base_url`).

        Raises:
            LocalFileError: another run holds the ledger, the file cannot be used as one, or it
                records the writes to another WMS.
        """
        prepare_directory(LEDGER_SETTING, path)
        self.path = path
        self.wms = wms_identity(wms)
        self.adopted = False
        """This run wrote its WMS into a ledger that named none (new, or from before `wms`)."""
        self._lock = threading.Lock()
        self._run_lock = hold_run_lock(path)
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            with self._sqlite():
                self._open()
        except BaseException:
            self._run_lock.close()
            raise

    @contextlib.contextmanager
    def _sqlite(self) -> Iterator[None]:
        """SQLite's errors on the file as one line naming `ledger_path` (`LocalFileError`)."""
        try:
            yield
        except sqlite3.Error as exc:
            problem, fix = sqlite_problem(exc)
            raise LocalFileError(LEDGER_SETTING, self.path, problem, fix) from exc

    def _open(self) -> None:
        """Check the file is a ledger this code can read, create or migrate its tables, and
        prove it writable (the version is written on every open), before anything is sent."""
        db = self._db
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > LEDGER_VERSION:
            raise LocalFileError(
                LEDGER_SETTING,
                self.path,
                f"written by a newer target-oracle-wms (ledger version {version}; this one "
                f"reads up to {LEDGER_VERSION})",
                "upgrade target-oracle-wms to the version that wrote it",
            )
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and not tables & {"applied", "pending"}:
            raise LocalFileError(
                LEDGER_SETTING,
                self.path,
                f"is a SQLite database of something else (tables {', '.join(sorted(tables))})",
                f"point {LEDGER_SETTING} at the ledger's own file, or at a new one",
            )
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS applied ("
                " stream TEXT NOT NULL, identity TEXT NOT NULL, applied_at REAL NOT NULL,"
                " result TEXT, content TEXT, PRIMARY KEY (stream, identity))"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS pending ("
                " stream TEXT NOT NULL, identity TEXT NOT NULL, marked_at REAL NOT NULL,"
                " marker TEXT NOT NULL, PRIMARY KEY (stream, identity))"
            )
            columns = {row[1] for row in db.execute("PRAGMA table_info(applied)")}
            if "content" not in columns:  # a ledger from before content hashes
                db.execute("ALTER TABLE applied ADD COLUMN content TEXT")
            self._check_wms()
            db.execute(f"PRAGMA user_version = {LEDGER_VERSION}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _check_wms(self) -> None:
        """Record the run's WMS in a ledger that names none; refuse one that names another."""
        db = self._db
        db.execute("CREATE TABLE IF NOT EXISTS wms (identity TEXT NOT NULL)")
        row = db.execute("SELECT identity FROM wms").fetchone()
        if row is None:
            db.execute("INSERT INTO wms (identity) VALUES (?)", (self.wms,))
            self.adopted = True
            return
        if row[0] != self.wms:
            update = f"UPDATE wms SET identity = '{self.wms}'"  # noqa: S608 (shown, never run)
            raise LocalFileError(
                LEDGER_SETTING,
                self.path,
                f"records the writes to the WMS {row[0]}, not to {self.wms} (base_url): its "
                "records would be skipped here as applied although this WMS never had them",
                "give each WMS its own ledger_path (for example one per Meltano environment: "
                ".meltano/target-oracle-wms/ledger-${MELTANO_ENVIRONMENT}.sqlite); if it is the "
                "same WMS at a new address, record that in the ledger: "
                f'sqlite3 {self.path} "{update}"',
            )

    def applied(self, stream: str, identities: list[str]) -> dict[str, str | None]:
        """Which of these identities were applied before, each with the content hash applied
        under it (None: applied by a ledger that kept no hashes, content unknown)."""
        found: dict[str, str | None] = {}
        with self._lock, self._sqlite():
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
        with self._lock, self._sqlite():
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
        with self._lock, self._sqlite():
            self._db.execute(
                "INSERT OR REPLACE INTO pending (stream, identity, marked_at, marker)"
                " VALUES (?, ?, ?, ?)",
                (stream, identity, time.time(), json.dumps(marker, default=str)),
            )

    def pending(self, stream: str, identity: str) -> dict[str, Any] | None:
        """The marker committed before `identity`'s write was sent, None when there is none (the
        write was never sent, or its outcome was settled)."""
        with self._lock, self._sqlite():
            row = self._db.execute(
                "SELECT marker FROM pending WHERE stream = ? AND identity = ?", (stream, identity)
            ).fetchone()
        marker: dict[str, Any] | None = json.loads(row[0]) if row else None
        return marker

    def clear_pending(self, stream: str, identity: str) -> None:
        """Forget `identity`'s marker: the WMS refused the write, so nothing of it can be there."""
        with self._lock, self._sqlite():
            self._db.execute(
                "DELETE FROM pending WHERE stream = ? AND identity = ?", (stream, identity)
            )

    def count(self, stream: str) -> int:
        with self._lock, self._sqlite():
            row = self._db.execute("SELECT count(*) FROM applied WHERE stream = ?", (stream,))
            return int(row.fetchone()[0])

    def close(self) -> None:
        """Close the file and release the run's lock."""
        with self._lock:
            self._db.close()
            self._run_lock.close()
