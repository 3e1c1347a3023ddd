"""One `BatchSink` per write action (see `actions.py`).

Every batch goes through the same steps (`WmsSink.process_batch`):
1. resolve business keys to ids in bulk (`Lookups`) and validate every record before anything is
   sent: required fields, types, max lengths, writable fields, known keys;
2. reject whole documents (an order with its lines, the adjustments sharing a
   `transaction_ref_nbr`) when any of their records is invalid, so no document is half written;
3. skip records the ledger (or the WMS itself) knows were applied;
4. apply the rest, committing each identity to the ledger as soon as the WMS accepted it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
import typing as t
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from singer_sdk.sinks import BatchSink

from oracle_wms.errors import WmsConflictError, WmsError, WmsNotFoundError, WmsValidationError
from oracle_wms.retry import is_retriable, wait_before_retry
from oracle_wms.schema import EntityDescription

if t.TYPE_CHECKING:
    from target_oracle_wms.target import TargetOracleWMS

Reasons = dict[str, str]
MAX_REF = 250
"""`transaction_ref_nbr` is at most 250 characters in inventory history."""
_REF_SUFFIX = 17
"""':' + 16 hex digits the target appends to make a record's reference unique."""


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
    call: tuple[str, str, dict[str, t.Any]]
    """(method, path, body) of the planned request."""
    extra: dict[str, t.Any] = field(default_factory=dict)


class WmsSink(BatchSink):
    """Validation, documents, ledger and reporting shared by every write action."""

    MAX_SIZE_DEFAULT = 1000

    def __init__(
        self,
        target: TargetOracleWMS,
        stream_name: str,
        schema: dict[str, t.Any],
        key_properties: t.Sequence[str] | None,
    ) -> None:
        super().__init__(target, stream_name, schema, key_properties)
        self.wms_target = target
        self.action = target.action_for(stream_name)

    @property
    def max_size(self) -> int:
        return self.MAX_SIZE_DEFAULT

    # What each action defines --------------------------------------------------------------

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        """Resolve the batch's business keys in bulk before validation."""

    def validate(
        self, record: dict[str, t.Any]
    ) -> tuple[Reasons, tuple[str, str, dict[str, t.Any]] | None]:
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

    def identity(self, record: dict[str, t.Any]) -> str:
        """Stream key properties when the SCHEMA names them, else a hash of the record."""
        keys = [k for k in self.key_properties if k in record]
        if keys and len(keys) == len(self.key_properties):
            return json.dumps([record[k] for k in keys], default=str)
        canonical = json.dumps(_without_metadata(record), sort_keys=True, default=str)
        return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()

    def process_batch(self, context: dict[str, t.Any]) -> None:
        records: list[dict[str, t.Any]] = context.get("records", [])
        if not records:
            return
        report = self.wms_target.report
        ledger = self.wms_target.ledger
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
        if self.wms_target.dry_run:
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
        workers = self.wms_target.max_parallel_writes
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
        client = self.wms_target.wms
        policy = client.settings.retry
        retry_number = 0
        entity = self.action.entity
        while True:
            try:
                response = client.send(method, path, body=body, entity=entity)
                return response.json() if response.content else None
            except WmsValidationError as exc:
                raise RecordRejectedError(_reasons(exc)) from exc
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


# Inventory adjustments ----------------------------------------------------------------------

ADJUSTMENT_FIELDS = frozenset(
    {
        "facility_code",
        "location_barcode",
        "item_code",
        "adjustment_qty",
        "actual_qty",
        "reason_code",
        "batch_nbr",
        "transaction_ref_nbr",
    }
)


class InventoryAdjustmentSink(WmsSink):
    """`location/{id}/update_active_inventory`, one request per record, made exactly-once by a
    deterministic `transaction_ref_nbr` looked up in inventory history (docs/write-api.md)."""

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        lookups = self.wms_target.lookups
        barcodes: dict[str, set[str]] = {}
        items: dict[str, set[str]] = {}
        for record in records:
            facility = lookups.facility(str(record.get("facility_code") or ""))
            if facility is None:
                continue
            barcodes.setdefault(facility.code, set()).add(str(record.get("location_barcode")))
            if facility.company_code:
                items.setdefault(facility.company_code, set()).add(str(record.get("item_code")))
        for code, values in barcodes.items():
            lookups.find(
                "location", "barcode", values, {"facility_id__code": code}, "id,location_type_id"
            )
        for company, values in items.items():
            lookups.find("item", "code", values, {"company_id__code": company})

    def write_key(self, item: Pending) -> str:
        """One inventory row: location (in the path, or the created row's), item and batch."""
        options = item.call[2].get("options") or {}
        fields = item.call[2].get("fields") or {}
        item_ref = options.get("item_code") or fields.get("item_id")
        row = [item.call[1], fields.get("location_id"), item_ref, options.get("batch_nbr")]
        return json.dumps(row)

    def reference(self, record: dict[str, t.Any]) -> str:
        digest = hashlib.sha256(f"{self.stream_name}\n{self.identity(record)}".encode())
        base = record.get("transaction_ref_nbr")
        return f"{base}:{digest.hexdigest()[:16]}" if base else f"singer:{digest.hexdigest()[:16]}"

    def document_key(self, record: dict[str, t.Any]) -> str:
        ref = record.get("transaction_ref_nbr")
        return f"ref:{ref}" if ref else self.identity(record)

    def validate(
        self, record: dict[str, t.Any]
    ) -> tuple[Reasons, tuple[str, str, dict[str, t.Any]] | None]:
        reasons: Reasons = {}
        for name in ("facility_code", "location_barcode", "item_code", "reason_code"):
            if record.get(name) in (None, ""):
                reasons[name] = "required"
        _max_length(record, "reason_code", 25, reasons)
        _max_length(record, "batch_nbr", 50, reasons)
        _max_length(record, "transaction_ref_nbr", MAX_REF - _REF_SUFFIX, reasons)
        delta, absolute = record.get("adjustment_qty"), record.get("actual_qty")
        if (delta is None) == (absolute is None):
            reasons["adjustment_qty"] = "give exactly one of adjustment_qty (a delta) or actual_qty"
        elif delta is not None:
            qty = _decimal(delta, "adjustment_qty", reasons)
            if qty == 0:
                reasons["adjustment_qty"] = "a zero adjustment changes nothing"
        else:
            qty = _decimal(absolute, "actual_qty", reasons)
            if qty is not None and qty < 0:
                reasons["actual_qty"] = "an absolute quantity cannot be negative"
        location_id = self._resolve(record, reasons)
        if reasons or location_id is None:
            return reasons, None
        options: dict[str, t.Any] = {
            "item_code": str(record["item_code"]),
            "reason_code": str(record["reason_code"]),
            "transaction_ref_nbr": self.reference(record),
        }
        if delta is not None:
            options["adjustment_qty"] = str(delta)
        else:
            options["actual_qty"] = str(absolute)
        if record.get("batch_nbr"):
            options["batch_nbr"] = str(record["batch_nbr"])
        path = f"entity/location/{location_id}/update_active_inventory/"
        return {}, ("POST", path, {"options": options})

    def _resolve(
        self, record: dict[str, t.Any], reasons: Reasons, *, active_only: bool = True
    ) -> int | None:
        lookups = self.wms_target.lookups
        facility = lookups.facility(str(record.get("facility_code") or ""))
        if facility is None:
            if "facility_code" not in reasons:
                reasons["facility_code"] = f"no facility '{record.get('facility_code')}' in the WMS"
            return None
        barcode = str(record.get("location_barcode"))
        scope = {"facility_id__code": facility.code}
        location = lookups.find("location", "barcode", [barcode], scope, "id,location_type_id")[
            barcode
        ]
        if location is None and "location_barcode" not in reasons:
            reasons["location_barcode"] = f"no location '{barcode}' in facility {facility.code}"
        elif (
            active_only
            and location is not None
            and (location.get("location_type_id") or {}).get("key") != "ACTIVE"
        ):
            reasons["location_barcode"] = f"location '{barcode}' is not an active location"
        item_code = str(record.get("item_code"))
        company_scope = {"company_id__code": facility.company_code}
        if lookups.find("item", "code", [item_code], company_scope)[item_code] is None and (
            "item_code" not in reasons
        ):
            reasons["item_code"] = f"no item '{item_code}' in company {facility.company_code}"
        return int(location["id"]) if location else None

    def _refs_in_history(self, facility_code: str, refs: list[str]) -> set[str]:
        lookups = self.wms_target.lookups
        facility = lookups.facility(facility_code)
        if facility is None or not refs:
            return set()
        scope = {
            "company_id__code": facility.company_code,
            "facility_id__code": facility.code,
            **self.wms_target.history_filters,
        }
        found: set[str] = set()
        client = self.wms_target.wms
        for start in range(0, len(refs), 50):
            params = {
                **scope,
                "transaction_ref_nbr__in": ",".join(refs[start : start + 50]),
                "fields": "id,transaction_ref_nbr",
            }
            found.update(
                str(r["transaction_ref_nbr"])
                for r in client.iter_records("inventory_history", params)
            )
        return found

    def already_in_wms(self, pending: list[Pending]) -> set[str]:
        by_facility: dict[str, dict[str, str]] = {}
        for item in pending:
            ref = item.call[2]["options"]["transaction_ref_nbr"]
            by_facility.setdefault(str(item.record["facility_code"]), {})[ref] = item.identity
        proven: set[str] = set()
        for facility_code, refs in by_facility.items():
            for ref in self._refs_in_history(facility_code, list(refs)):
                proven.add(refs[ref])
        return proven

    def was_applied(self, item: Pending) -> bool:
        ref = item.call[2]["options"]["transaction_ref_nbr"]
        return bool(self._refs_in_history(str(item.record["facility_code"]), [ref]))


class InventoryCreateSink(InventoryAdjustmentSink):
    """`POST entity/inventory/`: new inventory in any location, with the same deterministic
    `transaction_ref_nbr` (carried into inventory history) as adjustments, so a replay or a lost
    response never creates it twice."""

    def validate(
        self, record: dict[str, t.Any]
    ) -> tuple[Reasons, tuple[str, str, dict[str, t.Any]] | None]:
        reasons: Reasons = {}
        for name in ("facility_code", "location_barcode", "item_code", "curr_qty", "reason_code"):
            if record.get(name) in (None, ""):
                reasons[name] = "required"
        _max_length(record, "reason_code", 25, reasons)
        _max_length(record, "transaction_ref_nbr", MAX_REF - _REF_SUFFIX, reasons)
        quantity = None
        if "curr_qty" not in reasons:
            quantity = _decimal(record["curr_qty"], "curr_qty", reasons)
            if quantity is not None and quantity <= 0:
                reasons["curr_qty"] = "new inventory needs a quantity above zero"
        location_id = self._resolve(record, reasons, active_only=False)
        if reasons or location_id is None:
            return reasons, None
        facility = self.wms_target.lookups.facility(str(record["facility_code"]))
        assert facility is not None
        item_code = str(record["item_code"])
        item = self.wms_target.lookups.find(
            "item", "code", [item_code], {"company_id__code": facility.company_code}
        )[item_code]
        assert item is not None
        body = {
            "fields": {
                "location_id": location_id,
                "item_id": item["id"],
                "curr_qty": str(quantity),
            },
            "options": {
                "reason_code": str(record["reason_code"]),
                "transaction_ref_nbr": self.reference(record),
            },
        }
        return {}, ("POST", "entity/inventory/", body)


# Updates by business key ---------------------------------------------------------------------


@dataclass(frozen=True)
class KeySpec:
    """How records name a row of an entity: facility code plus the entity's own key, and for
    detail lines the parent's key and the line's `seq_nbr`."""

    key_field: str
    parent: str | None = None
    parent_fk: str | None = None
    parent_key: str | None = None

    @property
    def record_keys(self) -> tuple[str, ...]:
        if self.parent_key:
            return ("facility_code", self.parent_key, self.key_field)
        return ("facility_code", self.key_field)


KEYS: dict[str, KeySpec] = {
    "order_hdr": KeySpec("order_nbr"),
    "order_dtl": KeySpec(
        "seq_nbr", parent="order_hdr", parent_fk="order_id", parent_key="order_nbr"
    ),
    "ib_shipment": KeySpec("shipment_nbr"),
    "ib_shipment_dtl": KeySpec(
        "seq_nbr", parent="ib_shipment", parent_fk="shipment_id", parent_key="shipment_nbr"
    ),
    "oblpn": KeySpec("container_nbr"),
}

CUSTOM_FIELD = (
    "cust_field_",
    "cust_date_",
    "cust_number_",
    "cust_decimal_",
    "cust_short_text_",
    "cust_long_text_",
)
WRITABLE: dict[str, frozenset[str]] = {
    "order_hdr": frozenset({"priority", "req_ship_date"}),
    "order_dtl": frozenset({"ord_qty"}),
    "ib_shipment": frozenset({"exp_arrival_date", "ref_nbr"}),
    "ib_shipment_dtl": frozenset({"shipped_qty"}),
    "oblpn": frozenset({"weight", "volume"}),
}
"""Fields lgfapi lets PATCH change, besides custom fields (docs/write-api.md)."""


def is_writable(entity: str, name: str) -> bool:
    return name in WRITABLE.get(entity, frozenset()) or (
        name.startswith(CUSTOM_FIELD) and name.rsplit("_", 1)[-1].isdigit()
    )


class UpdateSink(WmsSink):
    """`PATCH entity/{name}/{id}/` with the record's writable fields, found by business key."""

    @property
    def spec(self) -> KeySpec:
        return KEYS[self.action.entity]

    @property
    def description(self) -> EntityDescription:
        return self.wms_target.description(self.action.entity)

    def document_key(self, record: dict[str, t.Any]) -> str:
        spec = self.spec
        head = spec.parent_key or spec.key_field
        return f"{record.get('facility_code')}:{record.get(head)}"

    def _parents(
        self, records: list[dict[str, t.Any]]
    ) -> dict[tuple[str, str], dict[str, t.Any] | None]:
        """(facility_code, header key) -> the header record (or the record itself for headers)."""
        spec = self.spec
        entity = spec.parent or self.action.entity
        key_field = spec.parent_key or spec.key_field
        by_facility: dict[str, set[str]] = {}
        for record in records:
            by_facility.setdefault(str(record.get("facility_code")), set()).add(
                str(record.get(key_field))
            )
        found: dict[tuple[str, str], dict[str, t.Any] | None] = {}
        for facility, values in by_facility.items():
            rows = self.wms_target.lookups.find(
                entity, key_field, values, {"facility_id__code": facility}, "id,status_id"
            )
            found.update({(facility, v): row for v, row in rows.items()})
        return found

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        self._parent_rows = self._parents(records)
        spec = self.spec
        if spec.parent_fk is None or spec.parent_key is None:
            return
        lines: dict[int, set[str]] = {}
        for record in records:
            head = self._parent_rows.get(
                (str(record.get("facility_code")), str(record.get(spec.parent_key)))
            )
            if head is not None:
                lines.setdefault(int(head["id"]), set()).add(str(record.get(spec.key_field)))
        for head_id, seqs in lines.items():  # one request per document, not per line
            self.wms_target.lookups.find(
                self.action.entity, spec.key_field, seqs, {spec.parent_fk: head_id}
            )

    def _target_id(self, record: dict[str, t.Any], reasons: Reasons) -> int | None:
        spec = self.spec
        facility = str(record.get("facility_code"))
        head_key = spec.parent_key or spec.key_field
        head = self._parent_rows.get((facility, str(record.get(head_key))))
        if head is None:
            entity = spec.parent or self.action.entity
            reasons[head_key] = f"no {entity} '{record.get(head_key)}' in facility {facility}"
            return None
        if spec.parent is None:
            return int(head["id"])
        assert spec.parent_fk is not None
        seq = str(record.get(spec.key_field))
        row = self.wms_target.lookups.find(
            self.action.entity, spec.key_field, [seq], {spec.parent_fk: head["id"]}
        )[seq]
        if row is None:
            reasons[spec.key_field] = f"no line {seq} in {spec.parent} '{record.get(head_key)}'"
            return None
        return int(row["id"])

    def validate(
        self, record: dict[str, t.Any]
    ) -> tuple[Reasons, tuple[str, str, dict[str, t.Any]] | None]:
        reasons: Reasons = {}
        spec = self.spec
        for name in spec.record_keys:
            if record.get(name) in (None, ""):
                reasons[name] = "required (business key)"
        fields_by_name = self.description.by_name
        changes: dict[str, t.Any] = {}
        for name, value in _without_metadata(record).items():
            if name in spec.record_keys:
                continue
            if not is_writable(self.action.entity, name) or name not in fields_by_name:
                reasons[name] = f"not a writable field of {self.action.entity}"
                continue
            problem = _type_problem(
                fields_by_name[name].kind, fields_by_name[name].max_length, value
            )
            if problem:
                reasons[name] = problem
            else:
                changes[name] = wire_value(value)
        if not changes and not reasons:
            reasons["_fields"] = "nothing to update: no writable field in the record"
        if reasons:
            return reasons, None
        record_id = self._target_id(record, reasons)
        if record_id is None:
            return reasons, None
        return {}, ("PATCH", f"entity/{self.action.entity}/{record_id}/", {"fields": changes})

    def apply(self, item: Pending) -> tuple[str, t.Any]:
        method, path, body = item.call
        entity = self.action.entity

        def reread() -> None:
            self.wms_target.wms.get(path, entity=entity)

        return "applied", self.send_with_retries(method, path, body, item, on_conflict=reread)


# Outbound LPN shipping ----------------------------------------------------------------------


class OblpnShipSink(WmsSink):
    """`POST entity/oblpn/{id}/ship/`; an LPN the WMS reports as already shipped is a no-op."""

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        by_facility: dict[str, set[str]] = {}
        for record in records:
            by_facility.setdefault(str(record.get("facility_code")), set()).add(
                str(record.get("container_nbr"))
            )
        for facility, values in by_facility.items():
            self.wms_target.lookups.find(
                "oblpn", "container_nbr", values, {"facility_id__code": facility}
            )

    def document_key(self, record: dict[str, t.Any]) -> str:
        return f"{record.get('facility_code')}:{record.get('container_nbr')}"

    def validate(
        self, record: dict[str, t.Any]
    ) -> tuple[Reasons, tuple[str, str, dict[str, t.Any]] | None]:
        reasons: Reasons = {}
        for name in ("facility_code", "container_nbr"):
            if record.get(name) in (None, ""):
                reasons[name] = "required"
        if reasons:
            return reasons, None
        facility, lpn = str(record["facility_code"]), str(record["container_nbr"])
        row = self.wms_target.lookups.find(
            "oblpn", "container_nbr", [lpn], {"facility_id__code": facility}
        )[lpn]
        if row is None:
            return {"container_nbr": f"no oblpn '{lpn}' in facility {facility}"}, None
        options = (
            {"locn_barcode": str(record["locn_barcode"])} if record.get("locn_barcode") else {}
        )
        return {}, ("POST", f"entity/oblpn/{row['id']}/ship/", {"options": options})

    BULK = 500
    """LPNs per `bulk_ship` request. Oracle documents no cap; each LPN commits on its own, so a
    large request only takes longer to answer (half an SDK batch keeps it well under the
    request timeout)."""

    def apply_all(self, items: list[Pending]) -> t.Iterator[tuple[Pending, str, t.Any]]:
        """`POST entity/oblpn/bulk_ship/` for up to `BULK` LPNs sharing the same options,
        committing each LPN on its own (`commit_frequency` 1); an LPN already shipped (by an
        earlier run, or by this request before its answer was lost) is a no-op."""
        groups: dict[str, list[Pending]] = {}
        for item in items:
            groups.setdefault(json.dumps(item.call[2]["options"], sort_keys=True), []).append(item)
        for options, group in groups.items():
            for start in range(0, len(group), self.BULK):
                chunk = group[start : start + self.BULK]
                by_id = {int(item.call[1].split("/")[2]): item for item in chunk}
                body = {
                    "parameters": {"id__in": sorted(by_id)},
                    "options": json.loads(options),
                    "commit_frequency": 1,
                }
                try:
                    summary = self.send_with_retries(
                        "POST", "entity/oblpn/bulk_ship/", body, chunk[0]
                    )
                except RecordRejectedError as exc:
                    for item in chunk:
                        yield item, "rejected", exc.reasons
                    continue
                failed = {str(k): str(v) for k, v in (summary.get("details") or {}).items()}
                for ident, item in by_id.items():
                    message = failed.get(str(ident))
                    if message is None:
                        yield item, "applied", {"bulk_ship": "shipped"}
                    elif "already shipped" in message.lower():
                        yield item, "already_applied", message
                    else:
                        yield item, "rejected", {"container_nbr": message}


# Helpers -------------------------------------------------------------------------------------


def _without_metadata(record: dict[str, t.Any]) -> dict[str, t.Any]:
    return {k: v for k, v in record.items() if not k.startswith("_sdc_")}


def _max_length(record: dict[str, t.Any], name: str, limit: int, reasons: Reasons) -> None:
    value = record.get(name)
    if value is not None and len(str(value)) > limit:
        reasons[name] = f"at most {limit} characters, got {len(str(value))}"


def _decimal(value: t.Any, name: str, reasons: Reasons) -> Decimal | None:
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(str(value))
    except InvalidOperation:
        reasons[name] = f"not a number: {value!r}"
        return None
    if not number.is_finite():
        reasons[name] = f"not a finite number: {value!r}"
        return None
    return number


def _type_problem(kind: str, max_length: int | None, value: t.Any) -> str | None:
    """Why `value` cannot go into a field of this kind, or None."""
    if value is None:
        return None
    if kind == "string":
        if not isinstance(value, str):
            return f"expected text, got {type(value).__name__}"
        if max_length and len(value) > max_length:
            return f"at most {max_length} characters, got {len(value)}"
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected a whole number, got {value!r}"
    elif kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            return f"expected a number, got {value!r}"
        try:
            Decimal(str(value))
        except InvalidOperation:
            return f"expected a number, got {value!r}"
    elif kind == "boolean" and not isinstance(value, bool):
        return f"expected true or false, got {value!r}"
    elif kind in {"date", "datetime", "time"} and not isinstance(
        value, str | datetime.date | datetime.time
    ):
        return f"expected an ISO 8601 {kind}, got {value!r}"
    return None


def wire_value(value: t.Any) -> t.Any:
    """A checked value as JSON sends it: decimals as exact text, dates and times in ISO 8601
    (the SDK hands schema `format: date` values over as `date` objects)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def _reasons(exc: WmsValidationError) -> Reasons:
    details = exc.details
    if isinstance(details, dict) and details:
        return {str(k): str(v) for k, v in details.items()}
    return {"_wms": str(exc)}
