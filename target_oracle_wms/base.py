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

import abc
import datetime
import hashlib
import json
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from decimal import Decimal

from singer_sdk import Target
from singer_sdk.sinks import BatchSink

from oracle_wms.client import WmsClient
from oracle_wms.errors import WmsConflictError, WmsError, WmsNotFoundError, WmsValidationError
from oracle_wms.retry import is_retriable, wait_before_retry
from oracle_wms.schema import EntityDescription
from target_oracle_wms.actions import StreamAction
from target_oracle_wms.ledger import Ledger
from target_oracle_wms.lookups import Lookups
from target_oracle_wms.report import RunReport
from target_oracle_wms.validation import Reasons, RecordSchema, entity_schema

Call = tuple[str, str, dict[str, t.Any]]
"""(method, path, body) of a planned request; path relative to the lgfapi base URL."""


class WriteServices(abc.ABC):
    """What a write sink uses of the target that created it, for the whole run.

    `TargetOracleWMS` implements it (the client, ledger and lookups are made on first use, and
    shared by every stream's sink); a sink checks its target is one when it is created.
    """

    @property
    @abc.abstractmethod
    def wms(self) -> WmsClient:
        """The run's lgfapi client (its `settings` hold the retry policy)."""

    @property
    @abc.abstractmethod
    def lookups(self) -> Lookups:
        """Business keys to ids, cached for the run."""

    @property
    @abc.abstractmethod
    def ledger(self) -> Ledger:
        """Identities of records applied by this or earlier runs."""

    @property
    @abc.abstractmethod
    def report(self) -> RunReport:
        """Outcome counts per stream, and the rejects file."""

    @property
    @abc.abstractmethod
    def history_activity_ids(self) -> list[int]:
        """The `inventory_history` activity ids searched for applied references
        (`oracle_wms.scoping.history_ids`)."""

    @property
    @abc.abstractmethod
    def history_status_ids(self) -> list[int]:
        """The `inventory_history` status ids, for the status combination of that search."""

    @property
    @abc.abstractmethod
    def max_parallel_writes(self) -> int:
        """Single-record writes in flight at once (the `max_parallel_writes` setting, 1 to 8)."""

    @property
    @abc.abstractmethod
    def bulk_max_objects(self) -> int:
        """Objects per bulk request at most (the `bulk_max_objects` setting; Oracle caps a bulk
        request at the user's "Rows per Page", 10 to 125)."""

    @property
    @abc.abstractmethod
    def ship_location_barcode(self) -> str | None:
        """The final shipping location for LPNs whose record names none (Oracle's Ship OBLPN
        requires `locn_barcode`)."""

    @property
    @abc.abstractmethod
    def undocumented_patch_fields(self) -> bool:
        """Also PATCH fields no Oracle page lists as writable (each then verified by a re-read)."""

    @property
    @abc.abstractmethod
    def dry_run(self) -> bool:
        """Validate and log the planned calls; write nothing."""

    @abc.abstractmethod
    def description(self, entity: str) -> EntityDescription:
        """`describe` of an entity (`GET entity/{name}/describe/`), once per run."""

    @abc.abstractmethod
    def action_for(self, stream_name: str) -> StreamAction:
        """The write action of a stream (raises `WmsConfigError` when it has none)."""


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

    # What each action defines --------------------------------------------------------------

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

    def identity(self, record: dict[str, t.Any]) -> str:
        """Stream key properties when the SCHEMA names them, else a hash of the record."""
        keys = [k for k in self.key_properties if k in record]
        if keys and len(keys) == len(self.key_properties):
            return json.dumps([record[k] for k in keys], default=str)
        canonical = json.dumps(without_metadata(record), sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def process_batch(self, context: dict[str, t.Any]) -> None:
        records: list[dict[str, t.Any]] = context.get("records", [])
        if not records:
            return
        report = self.services.report
        ledger = self.services.ledger
        self.prefetch(records)
        checked = [(record, *self.validate(record)) for record in records]
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
                pending.append(Pending(record, self.identity(record), call))
        applied_before = ledger.applied(self.stream_name, [p.identity for p in pending])
        if self.services.dry_run:
            for item in pending:
                if item.identity in applied_before:
                    report.count(self.stream_name, "already_applied")
                    continue
                method, path, body = item.call
                self.logger.info("DRY RUN %s %s %s", method, path, json.dumps(body, default=str))
                report.count(self.stream_name, "planned")
            return
        # A record delivered twice in one batch is applied once (the last delivery wins).
        latest = {p.identity: p for p in pending if p.identity not in applied_before}
        todo = list(latest.values())
        report.count(self.stream_name, "already_applied", len(pending) - len(todo))
        proven = self.already_in_wms(todo)
        for item in todo:
            if item.identity in proven:
                ledger.mark_applied(self.stream_name, item.identity, "found in the WMS")
                report.count(self.stream_name, "already_applied")
        for item, outcome, answer in self.apply_all([p for p in todo if p.identity not in proven]):
            if outcome == "rejected":
                report.reject(self.stream_name, item.record, answer)
                continue
            ledger.mark_applied(self.stream_name, item.identity, answer)
            report.count(self.stream_name, outcome)

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
            yield item, outcome, answer

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
                return response.json() if response.content else None
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


# Helpers -------------------------------------------------------------------------------------


def checked_values(
    values: dict[str, t.Any],
    schema: RecordSchema,
    allowed: t.Container[str],
    refusal: str,
    reasons: Reasons,
) -> dict[str, t.Any]:
    """The values a write may send: those named in `allowed` that `schema` accepts, in their wire
    form (`wire_value`), in the record's order. Every other value gets its reason in `reasons`:
    `refusal` (a template with `{name}`) for a name not allowed, else the schema's reason."""
    problems = schema.check({name: v for name, v in values.items() if name in allowed})
    accepted: dict[str, t.Any] = {}
    for name, value in values.items():
        if name not in allowed:
            reasons[name] = refusal.format(name=name)
        elif name in problems:
            reasons[name] = problems[name]
        else:
            accepted[name] = wire_value(value)
    return accepted


def without_metadata(record: dict[str, t.Any]) -> dict[str, t.Any]:
    """The record without the SDK's `_sdc_*` metadata fields."""
    return {k: v for k, v in record.items() if not k.startswith("_sdc_")}


def wire_value(value: t.Any) -> t.Any:
    """A checked value as JSON sends it: decimals as exact text, dates and times in ISO 8601
    (the SDK hands schema `format: date` values over as `date` objects)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def wms_reasons(exc: WmsValidationError) -> Reasons:
    """The WMS's 400 answer as reasons: its per-field details, else its message under `_wms`."""
    details = exc.details
    if isinstance(details, dict) and details:
        return {str(k): str(v) for k, v in details.items()}
    return {"_wms": str(exc)}
