"""The batch machinery every write sink shares (one module per write action builds on it:
`adjustments.py`, `updates.py`, `shipping.py`, `stage.py`; `actions.py` says which stream uses
which).

Every batch goes through the same steps (`WmsSink.process_batch`):
1. resolve business keys to ids in bulk (`Lookups`) and validate every record before anything is
   sent: required fields, types, max lengths, writable fields, known keys (`validation.py`);
2. reject whole documents (an order with its lines, the adjustments sharing a
   `transaction_ref_nbr`) when any of their records is invalid, so no document is half written;
3. skip records the ledger (or the WMS itself) knows were applied;
4. apply the rest, committing each identity to the ledger as soon as the WMS accepted it.

Sinks reach the target only through `WriteServices`, which the target implements: nothing here
imports `target.py`, so the target imports the sinks and no module imports it.
"""

from __future__ import annotations

import json
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial

from singer_sdk import Target
from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink

from oracle_wms.errors import WmsConflictError, WmsError, WmsNotFoundError, WmsValidationError
from oracle_wms.retry import is_retriable, wait_before_retry
from target_oracle_wms.intake import (
    CHANGED,
    CHANGED_IN_RUN,
    REASONS_FIELD,
    content_hash,
    key_reasons,
    schema_reasons,
    stream_validator,
    unknown_field_reasons,
)
from target_oracle_wms.services import WriteServices
from target_oracle_wms.validation import Reasons, RecordSchema, entity_schema
from target_oracle_wms.values import REFUSALS, answer_body, refusal_reasons, wms_reasons

LOG_IDENTITY = ("log_id", "log_ts")
"""A log line's own id (or sequence number) and the time the log wrote it: what tells two
identical presses apart in a stream without key properties (docs/write-api.md, "Identity")."""

Call = tuple[str, str, dict[str, t.Any]]
"""(method, path, body) of a planned request; path relative to the lgfapi base URL."""


class RecordRejectedError(Exception):
    """The WMS refused one record (400): reported with its reasons, the run goes on."""

    def __init__(self, reasons: Reasons) -> None:
        self.reasons = reasons
        super().__init__(json.dumps(reasons))


@dataclass
class Pending:
    """A valid record on its way to the WMS."""

    record: dict[str, t.Any]
    identity: str
    call: Call
    """(method, path, body) of the planned request."""
    extra: dict[str, t.Any] = field(default_factory=dict)
    content: str = ""
    """Hash of the record's content (`intake.content_hash`), kept by the ledger."""


class WmsSink(BatchSink):
    """Validation, documents, ledger and reporting shared by every write action."""

    MAX_SIZE_DEFAULT = 1000

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict[str, t.Any],
        key_properties: t.Sequence[str] | None,
    ) -> None:
        """The SDK creates sinks with the target as `target`.

        Raises:
            TypeError: the target does not implement `WriteServices`.
        """
        super().__init__(target, stream_name, schema, key_properties)
        if not isinstance(target, WriteServices):
            raise TypeError(f"{type(self).__name__} needs a target that implements WriteServices")
        self.services: WriteServices = target
        self.action = target.action_for(stream_name)
        self._schemas: dict[str, RecordSchema] = {}

    @property
    def max_size(self) -> int:
        return self.MAX_SIZE_DEFAULT

    def setup(self) -> None:
        """SDK: called as the stream's SCHEMA arrives: `ahead` starts, while records come."""
        self.services.send_ahead(self.ahead())

    # What each action defines --------------------------------------------------------------

    def ahead(self) -> list[t.Callable[[], t.Any]]:
        """Reads no record decides, once a run (`Lookups.once`): the facility list here, the
        sinks add their statuses and `describe`s; at hundreds of ms a request, they would
        otherwise open the first batch."""
        return [partial(self.services.lookups.facility, "")]

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        """Resolve the batch's business keys in bulk before validation."""

    def validate(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        """(reasons it is invalid, or the planned (method, path, body) when valid)."""
        raise NotImplementedError

    def document_key(self, record: dict[str, t.Any]) -> str:
        """Records sharing this key are written all or none."""
        return self.identity(record)

    def already_in_wms(self, pending: list[Pending]) -> set[str]:
        """Identities the WMS can prove were applied (beyond the ledger)."""
        return set()

    def apply(self, item: Pending) -> tuple[str, t.Any]:
        """Send one record; ("applied" | "already_applied", what the WMS answered)."""
        method, path, body = item.call
        return "applied", self.send_with_retries(method, path, body, item)

    # Shared machinery ------------------------------------------------------------------------

    def entity_schema(self, entity: str) -> RecordSchema:
        """The checks `describe` of `entity` implies for written values, built once per sink."""
        if entity not in self._schemas:
            self._schemas[entity] = entity_schema(self.services.description(entity))
        return self._schemas[entity]

    def adds(self, record: dict[str, t.Any]) -> bool:
        """Whether applying the record twice adds twice (a pick, a wave run, a delta): its
        identity must then come from its source, never from its content, since two identical
        presses are two picks (`intake_reasons`)."""
        return False

    def identity(self, record: dict[str, t.Any]) -> str:
        """Stream key properties when the SCHEMA names them; else, for a record that `adds`, its
        `LOG_IDENTITY` values; else a hash of the record (a record with a null or missing key
        property, or an adding one without log identity, never gets this far)."""
        if self.key_properties:
            return json.dumps([record.get(k) for k in self.key_properties], default=str)
        if self.adds(record):
            own = {n: record[n] for n in LOG_IDENTITY if record.get(n) not in (None, "")}
            return json.dumps(own, sort_keys=True, default=str)
        return "sha256:" + content_hash(record)

    def known_fields(self) -> t.Collection[str] | None:
        """The fields a record of this action may carry (None: the action judges each field
        itself, as updates do); any other field is a reject naming it."""
        return None

    # SDK hooks: a record that fails its SCHEMA is one reject, not the end of the run ---------

    def _validate_and_parse(self, record: dict) -> dict:  # type: ignore[type-arg]  # SDK's
        """SDK: validates the record against the stream's SCHEMA and raises on the first bad
        record (the run ends, nothing of the batch written). Ours checks first and marks a bad
        record with its reasons (`intake.REASONS_FIELD`); `process_batch` rejects it."""
        if self.__dict__.get("_stream_validator") is None:
            self.__dict__["_stream_validator"] = stream_validator(self.schema)
        reasons = schema_reasons(self.__dict__["_stream_validator"], record)
        if not reasons:
            try:
                return super()._validate_and_parse(record)
            except (InvalidRecord, ValueError) as exc:
                reasons = {"_schema": f"does not match the stream's SCHEMA: {exc}"}
        record[REASONS_FIELD] = reasons
        return record

    def _singer_validate_message(self, record: dict) -> None:  # type: ignore[type-arg]  # SDK's
        """SDK: ends the run when a record lacks a key property. Ours lets it through to be
        rejected by name (`intake.key_reasons`)."""

    def intake_reasons(self, record: dict[str, t.Any]) -> Reasons:
        """Why a record cannot be considered at all: its SCHEMA, its key, unknown fields."""
        reasons: Reasons = dict(record.pop(REASONS_FIELD, None) or {})
        reasons.update(key_reasons(record, self.key_properties))
        anonymous = all(record.get(name) in (None, "") for name in LOG_IDENTITY)
        if not self.key_properties and self.adds(record) and anonymous:
            reasons["key_properties"] = (
                f"stream {self.stream_name} declares no key properties and the record has no "
                "log_id or log_ts: two identical records are two writes here, not a redelivery, "
                "and could not be told apart; give the stream its log's key (the table's "
                "primary key) or a log_id / log_ts column"
            )
        known = self.known_fields()
        if known is not None:
            allowed = {*known, *self.key_properties, *LOG_IDENTITY}
            reasons.update(unknown_field_reasons(record, allowed, self.action.sink_kind))
        return reasons

    def process_batch(self, context: dict[str, t.Any]) -> None:
        records: list[dict[str, t.Any]] = context.get("records", [])
        if not records:
            return
        report = self.services.report
        before = report.snapshot(self.stream_name)
        first = [self.intake_reasons(record) for record in records]
        try:
            self.prefetch([r for r, reasons in zip(records, first, strict=True) if not reasons])
        except REFUSALS:  # a refused value: its record's validation says so, from the cache
            self.logger.debug("prefetch of %s stopped at a refused value", self.stream_name)
        checked = [
            (record, *((reasons, None) if reasons else self.checked(record)))
            for record, reasons in zip(records, first, strict=True)
        ]
        bad_documents = {self.document_key(r) for r, reasons, _ in checked if reasons}
        pending: list[Pending] = []
        for record, reasons, call in checked:
            if reasons:
                report.reject(self.stream_name, record, reasons)
            elif self.document_key(record) in bad_documents:
                report.reject(
                    self.stream_name,
                    record,
                    {
                        "_document": f"another record of document {self.document_key(record)} "
                        "is invalid; none of the document is written"
                    },
                )
            else:
                assert call is not None
                pending.append(
                    Pending(record, self.identity(record), call, content=content_hash(record))
                )
        self.apply_pending(pending)
        self.logger.info("%s", report.batch_line(self.stream_name, before))  # one line a batch

    def checked(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        """`validate`, with a read the WMS refused for the record's values as its reasons."""
        try:
            return self.validate(record)
        except REFUSALS as exc:
            return refusal_reasons(record, exc), None

    def per_record(
        self,
        check: t.Callable[[list[Pending]], t.Any],
        items: list[Pending],
        refused: dict[int, Reasons],
    ) -> list[t.Any]:
        """`check(items)`; when the WMS refuses one of its reads (400), `check([item])` for each
        item instead, the refused ones' reasons going into `refused` (`id(record)` -> reasons).
        Returns the answers of the calls that succeeded."""
        try:
            return [check(items)]
        except REFUSALS:
            if len(items) == 1:
                raise
        answers = []
        for item in items:
            try:
                answers.append(check([item]))
            except REFUSALS as exc:
                refused[id(item.record)] = refusal_reasons(item.record, exc)
        return answers

    def would_refuse(self, pending: list[Pending]) -> dict[int, Reasons]:
        """Valid records the WMS is known to refuse in its current state (`id(record)` ->
        reasons), checked before anything of their documents is sent."""
        return {}

    def apply_pending(self, pending: list[Pending]) -> None:
        """Skip what the ledger (or the WMS) knows was applied, reject a different record under
        an applied identity, apply the rest; report documents the WMS wrote only in part."""
        report, ledger = self.services.report, self.services.ledger
        applied_before = ledger.applied(self.stream_name, [p.identity for p in pending])
        first: dict[str, Pending] = {}
        todo: list[Pending] = []
        for item in pending:
            earlier = first.get(item.identity)
            stored = applied_before.get(item.identity, item.content)
            if item.identity in applied_before and stored in (None, item.content):
                report.count(self.stream_name, "already_applied")
            elif item.identity in applied_before:
                report.reject(self.stream_name, item.record, {"_ledger": CHANGED})
            elif earlier is not None and earlier.content == item.content:
                report.count(self.stream_name, "already_applied")  # redelivered in this input
            elif earlier is not None:
                report.reject(self.stream_name, item.record, {"_ledger": CHANGED_IN_RUN})
            else:
                first[item.identity] = item
                todo.append(item)
        if self.services.dry_run:
            for item in self.refuse_documents(todo):
                method, path, body = item.call
                self.logger.info("DRY RUN %s %s %s", method, path, json.dumps(body, default=str))
                report.count(self.stream_name, "planned")
            return
        unreadable: dict[int, Reasons] = {}
        proven = set().union(*self.per_record(self.already_in_wms, todo, unreadable))
        for item in todo:
            if id(item.record) in unreadable:
                report.reject(self.stream_name, item.record, unreadable[id(item.record)])
        todo = [p for p in todo if id(p.record) not in unreadable]
        for item in todo:
            if item.identity in proven:
                ledger.mark_applied(
                    self.stream_name, item.identity, "found in the WMS", item.content
                )
                report.count(self.stream_name, "already_applied")
        sendable = self.refuse_documents([p for p in todo if p.identity not in proven])
        outcomes: list[tuple[Pending, str, t.Any]] = []
        for item, outcome, answer in self.apply_all(sendable):
            if outcome != "rejected":
                ledger.mark_applied(self.stream_name, item.identity, answer, item.content)
                report.count(self.stream_name, outcome)
            outcomes.append((item, outcome, answer))
        self.report_refused(outcomes)

    def refuse_documents(self, unsent: list[Pending]) -> list[Pending]:
        """The records to send: without those `would_refuse` names and the rest of their
        documents, which are rejected here, unsent."""
        report = self.services.report
        refused: dict[int, Reasons] = {}
        for found in self.per_record(self.would_refuse, unsent, refused):
            refused.update(found)
        refused_documents = {self.document_key(p.record) for p in unsent if id(p.record) in refused}
        for item in unsent:
            document = self.document_key(item.record)
            if id(item.record) in refused:
                report.reject(self.stream_name, item.record, refused[id(item.record)])
            elif document in refused_documents:
                reason = f"another record of document {document} would be refused by the WMS"
                report.reject(
                    self.stream_name, item.record, {"_document": f"{reason}; none of it is sent"}
                )
        return [p for p in unsent if self.document_key(p.record) not in refused_documents]

    def report_refused(self, outcomes: list[tuple[Pending, str, t.Any]]) -> None:
        """Reject each record the WMS refused; when others of its document were applied, its
        reasons name which records of the document were applied and which not, and the
        document is logged as written in part (the run then exits non-zero, as with any
        reject)."""
        by_document: dict[str, list[tuple[Pending, str, t.Any]]] = {}
        for entry in outcomes:
            by_document.setdefault(self.document_key(entry[0].record), []).append(entry)
        for document, entries in by_document.items():
            applied = [i.identity for i, outcome, _ in entries if outcome != "rejected"]
            refused = [i.identity for i, outcome, _ in entries if outcome == "rejected"]
            if refused and applied:
                self.services.report.count(self.stream_name, "partial_documents")
                self.logger.error(
                    "document %s written in part: applied %s; refused by the WMS %s",
                    document,
                    ", ".join(applied),
                    ", ".join(refused),
                )
            for item, outcome, answer in entries:
                if outcome != "rejected":
                    continue
                reasons = dict(answer)
                if applied:
                    reasons["_document"] = (
                        f"document {document} written in part: applied {', '.join(applied)}; "
                        f"not applied {', '.join(refused)}"
                    )
                self.services.report.reject(self.stream_name, item.record, reasons)

    def write_key(self, item: Pending) -> str:
        """Records with the same key are written one after the other, in input order (the
        same WMS row: an absolute count after a delta must stay after it)."""
        return item.call[1]

    def apply_all(self, items: list[Pending]) -> t.Iterator[tuple[Pending, str, t.Any]]:
        """(item, "applied" | "already_applied" | "rejected", answer or reasons), one request
        per record, up to `max_parallel_writes` rows written at once (each row's records in
        order); actions with a bulk endpoint send many records per request instead.

        A failure that ends the run (retries exhausted) is raised only after every write
        already under way has reported, so each applied record reaches the ledger."""
        groups: dict[str, list[Pending]] = {}
        for item in items:
            groups.setdefault(self.write_key(item), []).append(item)
        workers = self.services.max_parallel_writes
        if workers == 1 or len(groups) == 1:
            for group in groups.values():
                yield from self._apply_in_order(group)
            return
        failure: Exception | None = None
        with ThreadPoolExecutor(workers, thread_name_prefix=f"{self.stream_name}-write") as pool:
            futures = [pool.submit(self._apply_group, group) for group in groups.values()]
            for future in as_completed(futures):
                done, error = future.result()
                yield from done
                failure = failure or error
        if failure is not None:
            raise failure

    def _apply_group(
        self, group: list[Pending]
    ) -> tuple[list[tuple[Pending, str, t.Any]], Exception | None]:
        """What one row's records did, and the error that stopped them, if any."""
        done: list[tuple[Pending, str, t.Any]] = []
        try:
            done.extend(self._apply_in_order(group))
        except Exception as exc:
            return done, exc
        return done, None

    def _apply_in_order(self, group: list[Pending]) -> t.Iterator[tuple[Pending, str, t.Any]]:
        for item in group:
            try:
                outcome, answer = self.apply(item)
            except RecordRejectedError as exc:
                yield item, "rejected", exc.reasons
                continue
            except REFUSALS as exc:  # a read made from the record's values (a write's 400 is
                yield item, "rejected", refusal_reasons(item.record, exc)  # RecordRejected)
                continue
            yield item, outcome, answer

    def send_marked(self, item: Pending, marker: dict[str, t.Any] | None) -> t.Any:
        """Send `item.call` (`send_with_retries`) after committing `marker`, what the sink reads
        later to tell whether the write happened, as the record's pending marker in the ledger
        (None: no marker). For writes Oracle gives no reference of ours to find them by (a wave
        run, a pick), so a lost answer or a killed run is decided by the marker, not by sending
        again. A rejected record clears it (the WMS did nothing). Returns the answer body.
        """
        ledger = self.services.ledger
        if marker is not None:
            ledger.mark_pending(self.stream_name, item.identity, marker)
        method, path, body = item.call
        try:
            return self.send_with_retries(method, path, body, item)
        except RecordRejectedError:
            ledger.clear_pending(self.stream_name, item.identity)
            raise

    def send_with_retries(
        self,
        method: str,
        path: str,
        body: dict[str, t.Any],
        item: Pending,
        on_conflict: t.Callable[[], None] | None = None,
    ) -> t.Any:
        """Send a write; retry transient failures, re-read on 409; reject on other 4xx.

        Before each retry of a write whose response was lost, `was_applied` asks the WMS whether
        the first attempt took effect, so a retry never applies a record twice.
        """
        client = self.services.wms
        policy = client.settings.retry
        retry_number = 0
        entity = self.action.entity
        while True:
            try:
                response = client.send(method, path, body=body, entity=entity)
                return answer_body(response)
            except WmsValidationError as exc:
                raise RecordRejectedError(wms_reasons(exc)) from exc
            except WmsNotFoundError as exc:  # deleted (or out of the user's scope) meanwhile
                raise RecordRejectedError({"_wms": str(exc)}) from exc
            except WmsConflictError as exc:
                retry_number += 1
                if retry_number > policy.max_retries:
                    raise RecordRejectedError({"_conflict": str(exc)}) from exc
                self.logger.info("409 record changed on %s: re-reading, then retrying", path)
                if on_conflict:
                    on_conflict()
            except (WmsError, OSError) as exc:
                if not is_retriable(exc):  # the tap's policy: never a failed TLS check
                    raise
                retry_number += 1
                if retry_number > policy.max_retries:
                    raise
                wait = wait_before_retry(policy, retry_number, exc)
                self.logger.warning(
                    "%s %s failed (%s); checking whether it was applied, retry %d of %d in %.2f s",
                    method,
                    path,
                    exc,
                    retry_number,
                    policy.max_retries,
                    wait,
                )
                if self.was_applied(item):
                    return {"already_applied": True}
                time.sleep(wait)

    def was_applied(self, item: Pending) -> bool:
        """Whether a write whose answer was lost took effect (idempotent writes: False)."""
        return False
