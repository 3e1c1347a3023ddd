"""The JSON stage interface, `POST stage/{entity}/` and `GET stage/{entity}/?messageid=`.

docs/write-api.md, "Stage interface". A POST only checks the message's structure (its header and
that the record list is a list), stores it and answers; the records are validated and applied
later, one document per transaction, as Oracle's interface does. Messages and their per-record
results live in the simulator's SQLite file (`_sim_stage_message`, `_sim_stage_result`), so a
message queued when the simulator stops is processed when it starts again on the same file, and
a message id once taken is never processed twice, across restarts too.

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
from ..errors import ApiError, bad_param
from ..responses import Response, json_response
from ..write.validation import rejected
from .documents import apply_record, failure
from .messages import parse_message
from .specs import SPECS, DocumentSpec, Target

QUEUED, PROCESSED, FAILED = "QUEUED", "PROCESSED", "FAILED"

_TABLES = (
    "CREATE TABLE IF NOT EXISTS _sim_stage_message ("
    " seq INTEGER PRIMARY KEY, entity TEXT NOT NULL, messageid TEXT NOT NULL,"
    " facility_id INTEGER NOT NULL, company_id INTEGER NOT NULL, username TEXT NOT NULL,"
    " async_flg INTEGER NOT NULL, header TEXT NOT NULL, records TEXT NOT NULL,"
    " record_count INTEGER NOT NULL, status TEXT NOT NULL, received_ts TEXT NOT NULL,"
    " processed_ts TEXT, UNIQUE (entity, messageid))",
    "CREATE TABLE IF NOT EXISTS _sim_stage_result ("
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
                    "SELECT seq FROM _sim_stage_message WHERE status = ? ORDER BY seq", (QUEUED,)
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
        """`segments`: the path after `stage/`, e.g. `["order"]`."""
        spec = SPECS.get(segments[0]) if len(segments) == 1 else None
        if spec is None:
            name = "/".join(segments)
            raise ApiError(
                404,
                f"Stage interface '{name}' does not exist; supported: {', '.join(sorted(SPECS))}.",
            )
        if method not in ("GET", "HEAD", "POST"):
            raise ApiError(
                405,
                f"Method {method} is not allowed on this resource.",
                headers={"Allow": "GET, HEAD, POST"},
            )
        if method == "POST" and not user.writable:
            raise ApiError(
                403, f"User '{user.username}' has no create access (lgfapi_create_access)."
            )
        if not user.can_read(spec.header):
            raise ApiError(403, f"User '{user.username}' has no access to entity '{spec.header}'.")
        if method == "POST":
            return self.submit(spec, raw, user)
        return self.results(spec, params, user)

    def submit(self, spec: DocumentSpec, raw: bytes, user: User) -> Response:
        """Store the message (once per message id and entity), then queue or process it."""
        message = parse_message(self.store.reader(), spec, raw, user)
        with self.store.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO _sim_stage_message (entity, messageid, facility_id, company_id,"
                " username, async_flg, header, records, record_count, status, received_ts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (entity, messageid) DO NOTHING",
                (
                    spec.entity,
                    message.messageid,
                    message.facility_id,
                    message.company_id,
                    user.username,
                    int(message.async_flg),
                    json.dumps(message.header),
                    json.dumps(message.records),
                    len(message.records),
                    QUEUED,
                    to_store(datetime.now(UTC)),
                ),
            )
            duplicate = cursor.rowcount == 0
            seq = int(
                conn.execute(
                    "SELECT seq FROM _sim_stage_message WHERE entity = ? AND messageid = ?",
                    (spec.entity, message.messageid),
                ).fetchone()[0]
            )
        if duplicate:
            found = self._result(spec, message.messageid, user, duplicate=True)
            if found is None:  # the first message is outside this user's scope
                raise rejected(
                    "The message id is already taken.",
                    {"header.messageid": f"Message id '{message.messageid}' is already taken."},
                )
            return json_response(found)
        if not message.async_flg:
            self.process(seq)
            result = self._result(spec, message.messageid, user, duplicate=False)
            return json_response(result)
        with self._cond:
            self._queue.append((time.monotonic() + self.delay, seq))
            self._cond.notify_all()
        return json_response(
            {
                "messageid": message.messageid,
                "entity": spec.entity,
                "status": QUEUED,
                "record_count": len(message.records),
                "duplicate": False,
            }
        )

    def results(self, spec: DocumentSpec, params: dict[str, str], user: User) -> Response:
        for name in params:
            if name != "messageid":
                raise bad_param(name, "only 'messageid' (and 'format') apply to stage results")
        messageid = params.get("messageid")
        if not messageid:
            raise bad_param("messageid", "required: the message id whose results to read")
        found = self._result(spec, messageid, user, duplicate=False)
        if found is None:
            raise ApiError(404, f"No {spec.entity} stage message with messageid '{messageid}'.")
        return json_response(found)

    def _result(
        self, spec: DocumentSpec, messageid: str, user: User, *, duplicate: bool
    ) -> dict[str, Any] | None:
        """The message's current result (docs/write-api.md shape), or None when unknown or
        outside the user's eligible facilities and companies. The message row is read before
        its results: a PROCESSED status is committed after every result row."""
        conn = self.store.reader()
        row = conn.execute(
            "SELECT m.seq, m.status, m.received_ts, m.processed_ts, m.record_count,"
            " m.facility_id, m.company_id, f._tzm FROM _sim_stage_message m"
            " JOIN facility f ON f.id = m.facility_id WHERE m.entity = ? AND m.messageid = ?",
            (spec.entity, messageid),
        ).fetchone()
        if row is None:
            return None
        seq, status, received, processed, count, fac, co, tzm = row
        if (user.facility_ids is not None and fac not in user.facility_ids) or (
            user.company_ids is not None and co not in user.company_ids
        ):
            return None
        results: list[dict[str, Any]] = []
        if status == PROCESSED:
            for idx, action, key, outcome, header_id, errors in conn.execute(
                "SELECT idx, action_code, doc_key, status, header_id, errors"
                " FROM _sim_stage_result WHERE seq = ? ORDER BY idx",
                (seq,),
            ):
                results.append(
                    {
                        "index": idx,
                        "action_code": action,
                        "key": key,
                        "status": outcome,
                        "id": header_id,
                        "errors": json.loads(errors),
                    }
                )
        success = sum(1 for r in results if r["status"] == PROCESSED)
        return {
            "messageid": messageid,
            "entity": spec.entity,
            "status": status,
            "received_ts": render_at(received, tzm),
            "processed_ts": render_at(processed, tzm) if processed else None,
            "record_count": count,
            "success_count": success,
            "failure_count": len(results) - success,
            "duplicate": duplicate,
            "results": results,
        }

    # ---- processing --------------------------------------------------------------------
    def process(self, seq: int, stopping: threading.Event | None = None) -> None:
        """Apply the message's records not applied yet, in list order, each in its own
        transaction with its result row; then mark the message PROCESSED. With `stopping`
        set between two records, the rest waits for the next start."""
        row = (
            self.store.reader()
            .execute(
                "SELECT m.entity, m.records, m.username, m.facility_id, m.company_id, f.code,"
                " c.code, f._tzm FROM _sim_stage_message m"
                " JOIN facility f ON f.id = m.facility_id JOIN company c ON c.id = m.company_id"
                " WHERE m.seq = ? AND m.status = ?",
                (seq, QUEUED),
            )
            .fetchone()
        )
        if row is None:
            return
        entity, records_text, username, fac, co, fac_code, co_code, tzm = row
        spec = SPECS[entity]
        target = Target(int(fac), int(co), fac_code, co_code, int(tzm), username)
        for index, record in enumerate(json.loads(records_text)):
            if stopping is not None and stopping.is_set():
                return
            self._apply(spec, target, seq, index, record)
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE _sim_stage_message SET status = ?, processed_ts = ? WHERE seq = ?",
                (PROCESSED, to_store(datetime.now(UTC)), seq),
            )

    def _apply(self, spec: DocumentSpec, target: Target, seq: int, index: int, record: Any) -> None:
        """One record: its document and its result row commit together (or, on failure, the
        result alone: the savepoint drops whatever the document had written)."""
        with self.store.transaction() as conn:
            done = conn.execute(
                "SELECT 1 FROM _sim_stage_result WHERE seq = ? AND idx = ?", (seq, index)
            ).fetchone()
            if done is not None:
                return
            conn.execute("SAVEPOINT document")
            header_id: int | None = None
            errors: dict[str, str] = {}
            try:
                header_id = apply_record(self.store, conn, spec, target, record)
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
                "INSERT INTO _sim_stage_result VALUES (?, ?, ?, ?, ?, ?, ?)",
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
