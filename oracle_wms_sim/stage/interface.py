"""The JSON stage interface, `POST stage/{entity}/`.

docs/write-api.md, "Stage interface". A POST only checks the message's structure (its header,
`parameters` and that the record list is a list), stores it and answers; the records are
validated and applied at once (`async_flg` false, the default) or later by a background worker
(`async_flg` true), one document per transaction, as Oracle's interface does.

Every POST is a new file group, as Oracle documents for the sales order interface: its number is
the message id followed by the time received (`YYYYMMDDHHMMSS`, UTC here), or the bare message
id with `parameters.file_group_num_without_timestamp_flg`. A message id sent again is processed
again: nothing de-duplicates messages (a CREATE of a document that exists fails, as it would in
any message). With `parameters.prevent_stage_hdr_record_creation_flg`, a CREATE of a document
created earlier in the same file group appends its lines to it instead.

Oracle documents no answer body and no read-back of the results: the answer here is a small
JSON object (message id, file group, record count) that no client may rely on, and the results
are readable only in Python (`Stage.file_groups`, for tests); a client learns what happened
from the documents themselves (`GET entity/order_hdr/...`). Messages and their per-record
results live in the simulator's SQLite file (`_sim_stage_file_group`, `_sim_stage_outcome`), so
a message queued when the simulator stops is processed when it starts again on the same file.

Each record's effect and its result row commit in the same transaction, so processing that is
interrupted (the simulator stopping between two records) resumes after the last committed record
instead of applying a document twice.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..data.store import Store
from ..data.timefmt import render_at, to_store
from ..data.users import User
from ..errors import ApiError
from ..responses import Response, json_response
from .documents import apply_record, failure
from .messages import MAX_RECORDS, Message, parse_message
from .specs import SPECS, DocumentSpec, Target

QUEUED, PROCESSED, FAILED = "QUEUED", "PROCESSED", "FAILED"

_MESSAGES = "_sim_stage_file_group"
_OUTCOMES = "_sim_stage_outcome"
_TABLES = (
    f"CREATE TABLE IF NOT EXISTS {_MESSAGES} ("
    " seq INTEGER PRIMARY KEY, entity TEXT NOT NULL, messageid TEXT NOT NULL,"
    " file_group TEXT NOT NULL, facility_id INTEGER NOT NULL, company_id INTEGER NOT NULL,"
    " username TEXT NOT NULL, async_flg INTEGER NOT NULL, parameters TEXT NOT NULL,"
    " header TEXT NOT NULL, records TEXT NOT NULL, record_count INTEGER NOT NULL,"
    " status TEXT NOT NULL, received_ts TEXT NOT NULL, processed_ts TEXT)",
    f"CREATE INDEX IF NOT EXISTS {_MESSAGES}_id ON {_MESSAGES} (entity, messageid)",
    f"CREATE TABLE IF NOT EXISTS {_OUTCOMES} ("
    " seq INTEGER NOT NULL, idx INTEGER NOT NULL, action_code TEXT, doc_key TEXT,"
    " status TEXT NOT NULL, header_id INTEGER, errors TEXT NOT NULL, PRIMARY KEY (seq, idx))",
)


@dataclass
class Stage:
    """The stage interface of one simulator: routes, storage and the background worker.

    One worker thread processes asynchronous messages in the order received, each no earlier
    than `delay` seconds after it was queued; `start()` also queues what an earlier run left
    QUEUED in the file. The worker reads with its own per-thread connection and writes through
    `Store.transaction()` like every writer."""

    store: Store
    delay: float = 0.2
    max_records: int = MAX_RECORDS
    """Records per message (the simulator's own cap: Oracle only advises payloads < 10 MB)."""
    entities: frozenset[str] = frozenset(SPECS)
    """The stage interfaces served (tests drop `ib_shipment`, which Oracle does not document,
    to play a WMS without it)."""
    _queue: deque[tuple[float, int]] = field(default_factory=deque, repr=False)
    _cond: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError("stage_delay must be at least 0")

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Create the tables when missing (a file from before the stage interface has none),
        queue the messages still QUEUED in order, start the worker."""
        with self.store.transaction() as conn:
            for sql in _TABLES:
                conn.execute(sql)
            left = [
                int(r[0])
                for r in conn.execute(
                    f"SELECT seq FROM {_MESSAGES} WHERE status = ? ORDER BY seq", (QUEUED,)
                )
            ]
        self._stopping.clear()
        with self._cond:
            for seq in left:
                self._queue.append((time.monotonic() + self.delay, seq))
        self._thread = threading.Thread(target=self._run, name="sim-stage", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker after the record it is applying; what is left stays QUEUED."""
        self._stopping.set()
        with self._cond:
            self._queue.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    # ---- routes ------------------------------------------------------------------------
    def handle(
        self, method: str, segments: list[str], params: dict[str, str], raw: bytes, user: User
    ) -> Response:
        """`segments`: the path after `stage/`, e.g. `["order"]`. Only POST: Oracle documents
        no read-back of stage results."""
        served = len(segments) == 1 and segments[0] in self.entities
        spec = SPECS.get(segments[0]) if served else None
        if spec is None:
            name = "/".join(segments)
            supported = ", ".join(sorted(self.entities))
            raise ApiError(404, f"Stage interface '{name}' does not exist; supported: {supported}.")
        if method != "POST":
            raise ApiError(
                405, f"Method {method} is not allowed on this resource.", headers={"Allow": "POST"}
            )
        if not user.writable:
            raise ApiError(
                403, f"User '{user.username}' has no create access (lgfapi_create_access)."
            )
        if not user.can_read(spec.header):
            raise ApiError(403, f"User '{user.username}' has no access to entity '{spec.header}'.")
        return self.submit(spec, raw, user)

    def submit(self, spec: DocumentSpec, raw: bytes, user: User) -> Response:
        """Store the message as a new file group, then process it (synchronous) or queue it."""
        message = parse_message(self.store.reader(), spec, raw, user, self.max_records)
        received = datetime.now(UTC)
        file_group = message.messageid
        if not message.parameters["file_group_num_without_timestamp_flg"]:
            file_group += received.strftime("%Y%m%d%H%M%S")
        with self.store.transaction() as conn:
            seq = _store(conn, message, user, file_group, to_store(received))
        if message.async_flg:
            with self._cond:
                self._queue.append((time.monotonic() + self.delay, seq))
                self._cond.notify_all()
        else:
            self.process(seq)
        return json_response(
            {
                "messageid": message.messageid,
                "file_group_nbr": file_group,
                "entity": spec.entity,
                "record_count": len(message.records),
            }
        )

    def file_groups(self, entity: str, messageid: str) -> list[dict[str, Any]]:
        """What became of every message sent with `messageid`, oldest first (for tests and
        people: no HTTP route serves it, since Oracle documents none)."""
        conn = self.store.reader()
        rows = conn.execute(
            "SELECT m.seq, m.file_group, m.status, m.received_ts, m.processed_ts,"
            f" m.record_count, f._tzm FROM {_MESSAGES} m JOIN facility f ON f.id = m.facility_id"
            " WHERE m.entity = ? AND m.messageid = ? ORDER BY m.seq",
            (entity, messageid),
        ).fetchall()
        found: list[dict[str, Any]] = []
        for seq, file_group, status, received, processed, count, tzm in rows:
            results = [
                {
                    "index": idx,
                    "action_code": action,
                    "key": key,
                    "status": outcome,
                    "id": header_id,
                    "errors": json.loads(errors),
                }
                for idx, action, key, outcome, header_id, errors in conn.execute(
                    "SELECT idx, action_code, doc_key, status, header_id, errors"
                    f" FROM {_OUTCOMES} WHERE seq = ? ORDER BY idx",
                    (seq,),
                )
            ]
            success = sum(1 for r in results if r["status"] == PROCESSED)
            found.append(
                {
                    "messageid": messageid,
                    "file_group_nbr": file_group,
                    "entity": entity,
                    "status": status,
                    "received_ts": render_at(received, tzm),
                    "processed_ts": render_at(processed, tzm) if processed else None,
                    "record_count": count,
                    "success_count": success,
                    "failure_count": len(results) - success,
                    "results": results,
                }
            )
        return found

    # ---- processing --------------------------------------------------------------------
    def process(self, seq: int, stopping: threading.Event | None = None) -> None:
        """Apply the message's records not applied yet, in list order, each in its own
        transaction with its result row; then mark the message PROCESSED. With `stopping`
        set between two records, the rest waits for the next start."""
        row = (
            self.store.reader()
            .execute(
                "SELECT m.entity, m.records, m.username, m.facility_id, m.company_id, f.code,"
                f" c.code, f._tzm, m.file_group, m.parameters FROM {_MESSAGES} m"
                " JOIN facility f ON f.id = m.facility_id JOIN company c ON c.id = m.company_id"
                " WHERE m.seq = ? AND m.status = ?",
                (seq, QUEUED),
            )
            .fetchone()
        )
        if row is None:
            return
        entity, records_text, username, fac, co, fac_code, co_code, tzm, group, params = row
        spec = SPECS[entity]
        target = Target(int(fac), int(co), fac_code, co_code, int(tzm), username)
        append = bool(json.loads(params).get("prevent_stage_hdr_record_creation_flg"))
        for index, record in enumerate(json.loads(records_text)):
            if stopping is not None and stopping.is_set():
                return
            self._apply(spec, target, seq, index, record, append_group=group if append else None)
        with self.store.transaction() as conn:
            conn.execute(
                f"UPDATE {_MESSAGES} SET status = ?, processed_ts = ? WHERE seq = ?",
                (PROCESSED, to_store(datetime.now(UTC)), seq),
            )

    def _apply(
        self,
        spec: DocumentSpec,
        target: Target,
        seq: int,
        index: int,
        record: Any,
        *,
        append_group: str | None,
    ) -> None:
        """One record: its document and its result row commit together (or, on failure, the
        result alone: the savepoint drops whatever the document had written). `append_group`:
        the file group whose documents a CREATE appends to (the prevent flag), else None."""
        with self.store.transaction() as conn:
            done = conn.execute(
                f"SELECT 1 FROM {_OUTCOMES} WHERE seq = ? AND idx = ?", (seq, index)
            ).fetchone()
            if done is not None:
                return
            appendable: frozenset[int] = frozenset()
            if append_group is not None:
                appendable = frozenset(
                    int(r[0])
                    for r in conn.execute(
                        f"SELECT o.header_id FROM {_OUTCOMES} o JOIN {_MESSAGES} m"
                        " ON m.seq = o.seq WHERE m.entity = ? AND m.file_group = ?"
                        " AND o.action_code = 'CREATE' AND o.status = ?",
                        (spec.entity, append_group, PROCESSED),
                    )
                )
            conn.execute("SAVEPOINT document")
            header_id: int | None = None
            errors: dict[str, str] = {}
            try:
                header_id = apply_record(
                    self.store, conn, spec, target, record, appendable=appendable
                )
            except ApiError as exc:
                errors = failure(exc)
            except Exception as exc:  # a bug must not stop the queue: the record fails
                sys.stderr.write(f"stage error: {type(exc).__name__}: {exc}\n")
                errors = {"record": "Unhandled server error."}
            if errors:
                conn.execute("ROLLBACK TO document")
            conn.execute("RELEASE document")
            action = record.get("action_code") if isinstance(record, dict) else None
            key = record.get(spec.key) if isinstance(record, dict) else None
            conn.execute(
                f"INSERT INTO {_OUTCOMES} VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    seq,
                    index,
                    action if isinstance(action, str) else None,
                    key if isinstance(key, str) else None,
                    FAILED if errors else PROCESSED,
                    header_id if not errors else None,
                    json.dumps(errors),
                ),
            )

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    if self._stopping.is_set():
                        return
                    if not self._queue:
                        self._cond.wait()
                        continue
                    due, seq = self._queue[0]
                    wait = due - time.monotonic()
                    if wait > 0:
                        self._cond.wait(wait)
                        continue
                    self._queue.popleft()
                try:
                    self.process(seq, self._stopping)
                except Exception as exc:  # keep serving the queue; the message stays QUEUED
                    sys.stderr.write(f"stage error: {type(exc).__name__}: {exc}\n")
        finally:
            self.store.release_reader()


def _store(conn: Any, message: Message, user: User, file_group: str, received: str) -> int:
    """Insert the message as a new file group (QUEUED); its sequence number."""
    cursor = conn.execute(
        f"INSERT INTO {_MESSAGES} (entity, messageid, file_group, facility_id, company_id,"
        " username, async_flg, parameters, header, records, record_count, status, received_ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message.spec.entity,
            message.messageid,
            file_group,
            message.facility_id,
            message.company_id,
            user.username,
            int(message.async_flg),
            json.dumps(message.parameters),
            json.dumps(message.header),
            json.dumps(message.records),
            len(message.records),
            QUEUED,
            received,
        ),
    )
    return int(cursor.lastrowid)
