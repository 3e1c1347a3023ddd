"""Inbound documents (sales orders, ASNs) through the JSON stage interface (docs/write-api.md).

One record is one document: the header's fields, its business key, an `action_code` (CREATE,
UPDATE or DELETE; CREATE when absent) and the lines as a `lines` array (a JSON array or its
text). Documents are validated here first, then sent up to `stage_batch_size` per message with
`async_flg` true; the WMS acknowledges at once and validates later, so the sink reads every
message's results back and reports each failed document as a reject.

Exactly-once: a message's `messageid` is a hash of the stream and the identities it carries, and
the WMS never processes a message id twice, so resending after a lost answer or a kill (the same
batch replayed) reads the first message's results instead of applying again. The ledger skips
documents applied by earlier runs; a CREATE the WMS refuses while its key exists in the
facility, or a DELETE refused while its key is gone, is counted as already applied.
"""

from __future__ import annotations

import hashlib
import json
import time
import typing as t
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from oracle_wms.errors import WmsError, WmsNotFoundError
from oracle_wms.settings import count_setting
from target_oracle_wms.base import (
    Call,
    Pending,
    RecordRejectedError,
    WmsSink,
    checked_values,
    wire_value,
    without_metadata,
)
from target_oracle_wms.lookups import Facility
from target_oracle_wms.validation import (
    Reasons,
    RecordSchema,
    as_decimal,
    quantity_property,
    whole_number_property,
)

ACTIONS = ("CREATE", "UPDATE", "DELETE")
MAX_MESSAGE = 1000
"""Records per stage message the WMS accepts."""
MAX_MESSAGE_BYTES = 512 * 1024
"""A message also closes at this much JSON: documents with many lines make large bodies, and
servers cap request bodies (the simulator at 1 MiB)."""


@dataclass(frozen=True)
class StageSpec:
    """What the stage interface of one entity takes (the table in docs/write-api.md)."""

    entity: str
    header_entity: str
    line_entity: str
    key_field: str
    header_fields: frozenset[str]
    """Header fields sent as given, checked against `describe` of `header_entity`."""
    line_fields: frozenset[str]
    qty_field: str
    code_field: str
    """The header's coded reference: order type (orders) or vendor (ASNs)."""
    code_entity: str
    code_key: str
    code_required: bool
    code_per_company: bool

    @property
    def list_name(self) -> str:
        return f"stage_{self.entity}_list"

    @property
    def line_list_name(self) -> str:
        return f"stage_{self.line_entity}_list"

    @property
    def record_fields(self) -> frozenset[str]:
        control = {"facility_code", "company_code", "action_code", "lines"}
        return self.header_fields | {self.key_field, self.code_field} | control


STAGE: dict[str, StageSpec] = {
    "order": StageSpec(
        entity="order",
        header_entity="order_hdr",
        line_entity="order_dtl",
        key_field="order_nbr",
        header_fields=frozenset(
            {
                "ord_date",
                "req_ship_date",
                "priority",
                "cust_name",
                "cust_city",
                "cust_country",
                "cust_field_1",
                "cust_field_2",
            }
        ),
        line_fields=frozenset({"unit_sale_price", "cust_field_1"}),
        qty_field="ord_qty",
        code_field="order_type",
        code_entity="order_type",
        code_key="code",
        code_required=True,
        code_per_company=False,
    ),
    "ib_shipment": StageSpec(
        entity="ib_shipment",
        header_entity="ib_shipment",
        line_entity="ib_shipment_dtl",
        key_field="shipment_nbr",
        header_fields=frozenset({"trailer_nbr", "ref_nbr", "exp_arrival_date", "cust_field_1"}),
        line_fields=frozenset({"lpn_nbr", "cust_field_1"}),
        qty_field="shipped_qty",
        code_field="vendor_code",
        code_entity="vendor",
        code_key="vendor_code",
        code_required=False,
        code_per_company=True,
    ),
}


class StageSink(WmsSink):
    """`POST stage/{entity}/` (orders, ASNs): documents batched into messages, results read back."""

    @property
    def spec(self) -> StageSpec:
        return STAGE[self.action.entity]

    @cached_property
    def line_checks(self) -> RecordSchema:
        """A line's `seq_nbr` (a whole number above zero) and quantity (above zero)."""
        seq = whole_number_property(0, "a whole number above zero, got {value!r}")
        qty = quantity_property({"exclusiveMinimum": 0}, "a quantity above zero")
        return RecordSchema({"seq_nbr": seq, self.spec.qty_field: qty})

    @property
    def batch_size(self) -> int:
        return count_setting(self.config, "stage_batch_size", MAX_MESSAGE, 1, MAX_MESSAGE)

    # Validation --------------------------------------------------------------------------

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        spec, lookups = self.spec, self.services.lookups
        items: dict[str, set[str]] = {}
        codes: dict[str, set[str]] = {}
        for record in records:
            facility = lookups.facility(str(record.get("facility_code") or ""))
            if facility is None or not facility.company_code:
                continue
            for line in _parse_lines(record.get("lines")) or []:
                if isinstance(line, dict) and line.get("item_code") is not None:
                    items.setdefault(facility.company_code, set()).add(str(line["item_code"]))
            if record.get(spec.code_field) is not None:
                scope = facility.company_code if spec.code_per_company else ""
                codes.setdefault(scope, set()).add(str(record[spec.code_field]))
        for company, values in items.items():
            lookups.find("item", "code", values, {"company_id__code": company})
        for company, values in codes.items():
            lookups.find(spec.code_entity, spec.code_key, values, self._code_scope(company))

    @staticmethod
    def _code_scope(company: str) -> dict[str, str]:
        return {"company_id__code": company} if company else {}

    def validate(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        spec = self.spec
        reasons: Reasons = {}
        data = without_metadata(record)
        for name in sorted(set(data) - spec.record_fields):
            reasons[name] = f"not a field of the {spec.entity} stage interface"
        action = str(data.get("action_code") or "CREATE").upper()
        if action not in ACTIONS:
            reasons["action_code"] = f"one of {', '.join(ACTIONS)}, got {data['action_code']!r}"
        facility = self._facility(data, reasons)
        header = self.entity_schema(spec.header_entity)
        given = {n: data.get(n) for n in sorted(spec.header_fields | {spec.key_field})}
        given = {name: value for name, value in given.items() if value is not None}
        refusal = f"{spec.header_entity} has no field {{name}} in this WMS"
        stage_record: dict[str, t.Any] = {
            "action_code": action,
            **checked_values(given, header, header, refusal, reasons),
        }
        if data.get(spec.key_field) in (None, ""):
            reasons[spec.key_field] = "required (business key)"
        if facility is not None:
            code = self._check_code(data, facility, action, reasons)
            if code is not None:
                stage_record[spec.code_field] = code
        lines = self._lines(data, facility, action, reasons)
        if reasons or facility is None:
            return reasons, None
        if lines:
            stage_record[spec.line_list_name] = lines
        return {}, ("POST", f"stage/{spec.entity}/", stage_record)

    def _facility(self, data: dict[str, t.Any], reasons: Reasons) -> Facility | None:
        code = data.get("facility_code")
        if code in (None, ""):
            reasons["facility_code"] = "required"
            return None
        facility = self.services.lookups.facility(str(code))
        if facility is None:
            reasons["facility_code"] = f"no facility '{code}' in the WMS"
            return None
        company = data.get("company_code")
        if company not in (None, "") and str(company) != facility.company_code:
            reasons["company_code"] = (
                f"facility {facility.code} belongs to company {facility.company_code}, "
                f"not {company}"
            )
        return facility

    def _check_code(
        self,
        data: dict[str, t.Any],
        facility: Facility,
        action: str,
        reasons: Reasons,
    ) -> str | None:
        """The header's order type / vendor code, when given and known."""
        spec = self.spec
        value = data.get(spec.code_field)
        if value in (None, ""):
            if spec.code_required and action == "CREATE":
                reasons[spec.code_field] = f"required to create a {spec.entity}"
            return None
        scope = self._code_scope(str(facility.company_code) if spec.code_per_company else "")
        found = self.services.lookups.find(spec.code_entity, spec.code_key, [str(value)], scope)
        if found[str(value)] is None:
            where = f" in company {facility.company_code}" if spec.code_per_company else ""
            reasons[spec.code_field] = f"no {spec.code_entity} '{value}'{where}"
            return None
        return str(value)

    def _lines(
        self, data: dict[str, t.Any], facility: Facility | None, action: str, reasons: Reasons
    ) -> list[dict[str, t.Any]]:
        spec = self.spec
        lines = _parse_lines(data.get("lines"))
        if lines is None:
            reasons["lines"] = "must be an array of line objects (or its JSON text)"
            return []
        if action == "CREATE" and not lines:
            reasons["lines"] = f"a {spec.entity} is created with at least one line"
        if action == "DELETE" and lines:
            reasons["lines"] = "a DELETE takes no lines"
        described = self.entity_schema(spec.line_entity)
        allowed = spec.line_fields | {"seq_nbr", "item_code", spec.qty_field}
        seen: set[object] = set()
        staged: list[dict[str, t.Any]] = []
        for index, line in enumerate(lines):
            where = f"lines[{index}]"
            if not isinstance(line, dict):
                reasons[where] = "must be an object"
                continue
            for name in sorted(set(line) - allowed):
                reasons[f"{where}.{name}"] = f"not a field of a {spec.line_entity} line"
            seq, qty = line.get("seq_nbr"), line.get(spec.qty_field)
            given = {"seq_nbr": seq} if qty is None else {"seq_nbr": seq, spec.qty_field: qty}
            problems = self.line_checks.check(given, f"{where}.")
            if f"{where}.seq_nbr" not in problems:  # a whole number
                if seq in seen:
                    problems[f"{where}.seq_nbr"] = f"line {seq} appears twice"
                seen.add(seq)
            if qty is None and action == "CREATE":
                problems[f"{where}.{spec.qty_field}"] = "required"
            reasons.update(problems)
            staged_line: dict[str, t.Any] = {"seq_nbr": seq}
            if qty is not None:
                staged_line[spec.qty_field] = str(as_decimal(qty))
            item_code = self._line_item(line, where, facility, action, reasons)
            if item_code is not None:
                staged_line["item_code"] = item_code
            extra = {name: line[name] for name in sorted(spec.line_fields & set(line))}
            problems = described.check(extra, f"{where}.")
            for name, value in extra.items():
                key = f"{where}.{name}"
                if name not in described:
                    reasons[key] = f"{spec.line_entity} has no field {name} in this WMS"
                elif key in problems:
                    reasons[key] = problems[key]
                elif value is not None:
                    staged_line[name] = wire_value(value)
            staged.append(staged_line)
        return staged

    def _line_item(
        self,
        line: dict[str, t.Any],
        where: str,
        facility: Facility | None,
        action: str,
        reasons: Reasons,
    ) -> str | None:
        """The line's item code, when given and an item of the facility's company."""
        code = line.get("item_code")
        if code in (None, ""):
            if action == "CREATE":
                reasons[f"{where}.item_code"] = "required"
            return None
        if facility is None:
            return None
        scope = {"company_id__code": facility.company_code}
        if self.services.lookups.find("item", "code", [str(code)], scope)[str(code)] is None:
            reasons[f"{where}.item_code"] = f"no item '{code}' in company {facility.company_code}"
            return None
        return str(code)

    # What the WMS already holds ------------------------------------------------------------

    def _settled(self, failed: list[Pending]) -> set[str]:
        """Of documents the WMS refused, the CREATEs whose key exists in the facility and the
        DELETEs whose key is gone: their effect is already there (a replay without the ledger,
        or a document an earlier run's lost message created), so they count as applied. Asked
        only after a refusal, so an ordinary run costs no lookups."""
        spec = self.spec
        by_facility: dict[str, list[Pending]] = {}
        for item in failed:
            if item.call[2]["action_code"] in ("CREATE", "DELETE"):
                by_facility.setdefault(str(item.record["facility_code"]), []).append(item)
        proven: set[str] = set()
        for facility, items in by_facility.items():
            keys = {str(item.call[2][spec.key_field]) for item in items}
            found = self.services.lookups.find(
                spec.header_entity,
                spec.key_field,
                keys,
                {"facility_id__code": facility},
                refresh=True,
            )
            for item in items:
                exists = found[str(item.call[2][spec.key_field])] is not None
                if exists == (item.call[2]["action_code"] == "CREATE"):
                    self.logger.info(
                        "%s %s in facility %s %s: counted as already applied",
                        spec.entity,
                        item.call[2][spec.key_field],
                        facility,
                        "exists" if exists else "is already gone",
                    )
                    proven.add(item.identity)
        return proven

    # Sending and reading back --------------------------------------------------------------

    def apply_all(self, items: list[Pending]) -> t.Iterator[tuple[Pending, str, t.Any]]:
        """Send every message of the batch first, then read their results: the WMS validates
        them while the next ones travel."""
        sent: list[tuple[str, list[Pending], dict[str, t.Any], bool]] = []
        for messageid, chunk in self._messages(items):
            body = self._message(messageid, chunk)
            chunk[0].extra["messageid"] = messageid
            try:
                ack = self.send_with_retries("POST", f"stage/{self.spec.entity}/", body, chunk[0])
            except RecordRejectedError as exc:
                for item in chunk:
                    yield item, "rejected", exc.reasons
                continue
            earlier_run = bool(ack.get("duplicate")) and not ack.get("already_applied")
            sent.append((messageid, chunk, ack, earlier_run))
            self.logger.info(
                "%s: message %s with %d %s document(s) %s",
                self.stream_name,
                messageid,
                len(chunk),
                self.spec.entity,
                "was received before" if ack.get("duplicate") else "received",
            )
        for messageid, chunk, ack, earlier_run in sent:
            result = ack if ack.get("status") == "PROCESSED" else self._wait(messageid)
            yield from self._outcomes(messageid, chunk, result, earlier_run)

    def _messages(self, items: list[Pending]) -> t.Iterator[tuple[str, list[Pending]]]:
        """(messageid, documents): up to `batch_size` documents and `MAX_MESSAGE_BYTES` of JSON,
        all of one facility."""
        size = self.batch_size
        by_facility: dict[str, list[Pending]] = {}
        for item in items:
            by_facility.setdefault(str(item.record["facility_code"]), []).append(item)
        for group in by_facility.values():
            chunk: list[Pending] = []
            used = 0
            for item in group:
                length = len(json.dumps(item.call[2]))
                if chunk and (len(chunk) >= size or used + length > MAX_MESSAGE_BYTES):
                    yield self._messageid(chunk), chunk
                    chunk, used = [], 0
                chunk.append(item)
                used += length
            if chunk:
                yield self._messageid(chunk), chunk

    def _messageid(self, chunk: list[Pending]) -> str:
        digest = hashlib.sha256(
            "\n".join([self.stream_name, *(i.identity for i in chunk)]).encode()
        )
        return f"singer-{digest.hexdigest()[:40]}"

    def _message(self, messageid: str, chunk: list[Pending]) -> dict[str, t.Any]:
        facility = self.services.lookups.facility(str(chunk[0].record["facility_code"]))
        assert facility is not None  # validated
        return {
            "async_flg": True,
            "header": {
                "origin_system": "target-oracle-wms",
                "parent_company_code": facility.company_code,
                "entity": self.spec.entity,
                "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "messageid": messageid,
                "facility_code": facility.code,
                "company_code": facility.company_code,
            },
            self.spec.list_name: [item.call[2] for item in chunk],
        }

    def was_applied(self, item: Pending) -> bool:
        """After a lost answer: did the message arrive? (Its results say what it did.)"""
        try:
            self._result(str(item.extra["messageid"]))
        except WmsNotFoundError:
            return False
        return True

    def _result(self, messageid: str) -> dict[str, t.Any]:
        path = f"stage/{self.spec.entity}/"
        response = self.services.wms.get(path, {"messageid": messageid}, self.spec.entity)
        result: dict[str, t.Any] = response.json()
        return result

    def _wait(self, messageid: str) -> dict[str, t.Any]:
        """Poll the results until the message is processed (at most `stage_timeout` s)."""
        timeout = float(self.config.get("stage_timeout") or 600)
        deadline = time.monotonic() + timeout
        pause = 0.25
        while True:
            result = self._result(messageid)
            if result.get("status") == "PROCESSED":
                return result
            if time.monotonic() + pause > deadline:
                raise WmsError(
                    f"stage message {messageid} ({self.spec.entity}) was still "
                    f"{result.get('status')} after {timeout:g} s; rerun to read its results "
                    "(the WMS will not process it twice)"
                )
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def _outcomes(
        self, messageid: str, chunk: list[Pending], result: dict[str, t.Any], earlier_run: bool
    ) -> t.Iterator[tuple[Pending, str, t.Any]]:
        by_index = {int(r["index"]): r for r in result.get("results") or []}
        applied = "already_applied" if earlier_run else "applied"
        refused = [
            item
            for index, item in enumerate(chunk)
            if (by_index.get(index) or {}).get("status", "FAILED") != "PROCESSED"
        ]
        settled = self._settled(refused) if refused else set()
        for index, item in enumerate(chunk):
            entry = by_index.get(index)
            if item.identity in settled:
                yield item, "already_applied", {"messageid": messageid, "found_in_wms": True}
            elif entry is None:
                yield item, "rejected", {"_wms": f"message {messageid} has no result for it"}
            elif entry.get("status") == "PROCESSED":
                yield item, applied, {"messageid": messageid, "id": entry.get("id")}
            else:
                errors = entry.get("errors") or {"_wms": "failed without a reason"}
                yield item, "rejected", {_record_field(k): str(v) for k, v in errors.items()}


def _parse_lines(value: t.Any) -> list[t.Any] | None:
    """The record's lines: an array, its JSON text, or nothing (None when neither)."""
    if value is None:
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return list(value) if isinstance(value, list) else None


def _record_field(name: str) -> str:
    """The WMS names lines `stage_order_dtl_list[i]`; records call them `lines[i]`."""
    if name.startswith("stage_") and "_list[" in name:
        return "lines[" + name.split("_list[", 1)[1]
    return name
