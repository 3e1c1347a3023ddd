"""Inbound documents (sales orders, ASNs) through the JSON stage interface (docs/write-api.md).

One record is one document: the header's fields, its business key, an `action_code` (CREATE,
UPDATE or DELETE; CREATE when absent) and the lines as a `lines` array (a JSON array or its
text). Documents are validated here first, then sent up to `stage_batch_size` per message with
`async_flg` false: the WMS processes the message before it answers.

Oracle documents neither the answer's body nor any read-back of stage results, and a message id
sent again is a new file group (processed again), so nothing here reads the answer beyond its
HTTP status or relies on message ids: what each document did is read from the entity module
(`stage_state.py`). Exactly-once: before anything is sent, documents already in the WMS (a
CREATE whose key exists, a DELETE whose key is gone) count as applied and are not sent; after a
lost answer the sink waits for the documents instead of sending them again. The ledger skips
documents applied by earlier runs.
"""

from __future__ import annotations

import time
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cached_property, partial

from oracle_wms.errors import (
    WmsError,
    WmsNotFoundError,
    WmsResponseError,
    WmsValidationError,
)
from oracle_wms.retry import is_retriable, wait_before_retry
from oracle_wms.settings import count_setting
from target_oracle_wms.base import (
    Call,
    Pending,
    WmsSink,
)
from target_oracle_wms.intake import without_metadata
from target_oracle_wms.lookups import Facility, run_reads
from target_oracle_wms.stage_messages import MAX_MESSAGE, chunks, file_group, message, message_id
from target_oracle_wms.stage_specs import DOCUMENTED, STAGE, UNDOCUMENTED, StageSpec
from target_oracle_wms.stage_state import (
    Document,
    Row,
    Where,
    already_there,
    not_done,
    outcome,
    reached,
    read_states,
    record_documents,
)
from target_oracle_wms.validation import (
    Reasons,
    RecordSchema,
    as_decimal,
    quantity_property,
    whole_number_property,
)
from target_oracle_wms.values import checked_values, list_value, wire_value, wms_reasons

ACTIONS = ("CREATE", "UPDATE", "DELETE")


MESSAGES_PER_BATCH = 4


class StageSink(WmsSink):
    """`POST stage/{entity}/` (orders, ASNs): documents batched into messages, each document's
    outcome read from the entity module."""

    _before: dict[Where, Row]
    """The documents' headers read before the batch was sent (`already_in_wms`)."""
    _read_ahead: tuple[frozenset[str], dict[Where, Row]] | None = None
    """(fields read, the headers) read in `prefetch`'s round, for `already_in_wms`."""

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
    def max_size(self) -> int:
        """Four messages a batch: one message's read-back goes beside the next one's POST
        (`apply_all`), so a batch of one message would wait for every read-back."""
        return MESSAGES_PER_BATCH * self.batch_size

    @property
    def batch_size(self) -> int:
        return count_setting(self.config, "stage_batch_size", MAX_MESSAGE, 1, MAX_MESSAGE)

    # Validation --------------------------------------------------------------------------

    def ahead(self) -> list[t.Callable[[], t.Any]]:
        """The facility list and `describe` of the header and line entities."""
        spec = self.spec
        described = [
            partial(self.services.description, e) for e in (spec.header_entity, spec.line_entity)
        ]
        return [*super().ahead(), *described]

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        spec, lookups = self.spec, self.services.lookups
        items: dict[str, set[str]] = {}
        codes: dict[str, set[str]] = {}
        for record in records:
            facility = lookups.facility(str(record.get("facility_code") or ""))
            if facility is None or not facility.company_code:
                continue
            for line in list_value(record.get("lines")) or []:
                if isinstance(line, dict) and line.get("item_code") is not None:
                    items.setdefault(facility.company_code, set()).add(str(line["item_code"]))
            if record.get(spec.code_field) is not None:
                scope = facility.company_code if spec.code_per_company else ""
                codes.setdefault(scope, set()).add(str(record[spec.code_field]))
        reads: list[t.Callable[[], t.Any]] = [
            partial(lookups.find, "item", "code", values, {"company_id__code": company})
            for company, values in items.items()
        ]
        reads += [
            partial(lookups.find, spec.code_entity, spec.code_key, values, self._code_scope(c))
            for c, values in codes.items()
        ]
        reads.append(partial(self._states_ahead, records))  # the `describe`s: `ahead`
        run_reads(reads, self.services.max_parallel_writes)  # one round, all independent

    def _states_ahead(self, records: list[dict[str, t.Any]]) -> None:
        """The headers `already_in_wms` judges by, read in the lookups' round instead of one
        round of their own before the message (the records' own keys and actions; a record
        validation then changes or rejects is read again or not at all)."""
        spec = self.spec
        docs, fields = record_documents(records, spec.key_field, spec.header_fields)
        if docs:
            budget = self.services.max_parallel_writes
            wms = self.services.wms
            states = read_states(wms, spec.header_entity, spec.key_field, docs, fields, budget)
            self._read_ahead = (frozenset(fields), states)

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
        facility = self.services.lookups.record_facility(data, reasons, required=True)
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
        lines = list_value(data.get("lines"))
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

    def _document(self, item: Pending) -> Document:
        body = item.call[2]
        return Document(
            str(item.record["facility_code"]), str(body[self.spec.key_field]), body["action_code"]
        )

    def _states(self, items: list[Pending], *, ahead: bool = False) -> dict[Where, Row]:
        """The documents' headers, read now; `ahead`: as `prefetch` read them, when that read
        holds every document and field."""
        spec = self.spec
        docs = [self._document(item) for item in items]
        sent = {name for item in items for name in self._sent(item)}
        if ahead and self._read_ahead is not None:
            fields, states = self._read_ahead
            if sent <= fields and all(doc.where in states for doc in docs):
                return {doc.where: states[doc.where] for doc in docs}
        budget = self.services.max_parallel_writes
        return read_states(
            self.services.wms, spec.header_entity, spec.key_field, docs, sent, budget
        )

    def _sent(self, item: Pending) -> dict[str, t.Any]:
        """The header values an UPDATE sends (what proves it applied, with `mod_ts`)."""
        body = item.call[2]
        if body.get("action_code") != "UPDATE":
            return {}
        return {name: value for name, value in body.items() if name in self.spec.header_fields}

    def already_in_wms(self, pending: list[Pending]) -> set[str]:
        """Before anything is sent (a rerun without the ledger, a batch replayed after a kill
        or a lost answer): a CREATE whose key exists in the facility and a DELETE whose key is
        gone are already applied, and are not sent again. The headers read are kept: an UPDATE
        counts as applied once its header's `mod_ts` moves."""
        before = self._states(pending, ahead=True) if pending else {}
        self._before.update(before)  # the batch's, also when asked one document at a time
        proven: set[str] = set()
        for item in pending:
            doc = self._document(item)
            if already_there(doc, before[doc.where]):
                self.logger.info(
                    "%s %s in facility %s %s: counted as already applied, not sent",
                    self.spec.entity,
                    doc.key,
                    doc.facility,
                    "exists" if doc.action == "CREATE" else "is already gone",
                )
                proven.add(item.identity)
        return proven

    def process_batch(self, context: dict[str, t.Any]) -> None:
        self._before, self._read_ahead = {}, None
        super().process_batch(context)

    # Sending and settling ------------------------------------------------------------------

    def apply_all(self, items: list[Pending]) -> t.Iterator[tuple[Pending, str, t.Any]]:
        """One message per chunk, processed by the WMS before it answers (`async_flg` false);
        each document's outcome is then read from the entity module, not from the answer.
        That read of a message goes in the background while the next message is sent, unless
        the next one holds a document of the same key (an UPDATE read back while another
        changes it could look undone): at cloud latency, one round trip a message, not three."""
        if items and self.spec.entity not in DOCUMENTED:
            self.logger.warning("%s", UNDOCUMENTED.format(entity=self.spec.entity))
        settling: Future[list[tuple[Pending, str, t.Any]]] | None = None
        reading: set[Where] = set()  # the documents of the message read back in the background
        with ThreadPoolExecutor(1, thread_name_prefix=f"{self.stream_name}-settle") as pool:
            try:
                for chunk in chunks(items, self.batch_size):
                    wheres = {self._document(item).where for item in chunk}
                    if settling is not None and wheres & reading:
                        yield from settling.result()
                        settling = None
                    now, later = self._send(chunk)
                    yield from now
                    if settling is not None:
                        yield from settling.result()
                    settling = pool.submit(self._settled, *later) if later else None
                    reading = wheres
            except GeneratorExit:
                raise
            except BaseException:  # a run that stops here still reports its last message
                if settling is not None:
                    yield from settling.result()
                raise
            if settling is not None:
                yield from settling.result()

    def _stage_now(self, chunk: list[Pending]) -> list[tuple[Pending, str, t.Any]]:
        now, later = self._send(chunk)
        return now + (self._settled(*later) if later else [])

    def _send(
        self, chunk: list[Pending]
    ) -> tuple[list[tuple[Pending, str, t.Any]], tuple[str, str, list[Pending]] | None]:
        """Send one message: (what is settled already, and (message id, file group, the
        documents) to read once it was answered, or None). An error answer (5xx) is followed by
        a read of the documents and a new message with those not yet in their target state; a
        lost answer (no answer at all: the WMS may still be processing) by a wait of at most
        `stage_timeout` for them, and a named reject for the rest (the next run checks them
        again before sending anything), so no document is ever sent twice while it may still
        be on its way."""
        client, spec = self.services.wms, self.spec
        policy = client.settings.retry
        path = f"stage/{spec.entity}/"
        facility = self.services.lookups.facility(str(chunk[0].record["facility_code"]))
        assert facility is not None  # validated
        attempt, todo, now = 0, chunk, []
        while todo:
            attempt += 1
            messageid, sent = message_id(self.stream_name, todo, attempt), datetime.now(UTC)
            group = file_group(messageid, sent)
            body = message(spec, facility, messageid, sent, todo)
            try:
                client.send("POST", path, body=body, entity=spec.entity)
            except WmsValidationError as exc:
                # Oracle does not say whether a 400 may follow a partly processed message:
                # what is in the WMS counts as applied. One document's value refuses the whole
                # message: the rest are sent again one per message, so only that one is rejected.
                done, todo = self._settle(messageid, todo, 0)
                now += done
                if len(todo) > 1:
                    self.logger.warning(
                        "%s: message %s refused (%s); sending its %d other document(s) one per "
                        "message to find the refused one",
                        self.stream_name,
                        messageid,
                        exc,
                        len(todo),
                    )
                    for item in todo:
                        now += self._stage_now([item])
                    return now, None
                now += [(item, "rejected", wms_reasons(exc)) for item in todo]
                return now, None
            except WmsNotFoundError as exc:
                reason = f"the WMS has no stage interface {path}: {exc}"
                if spec.entity not in DOCUMENTED:
                    reason += "; " + UNDOCUMENTED.format(entity=spec.entity)
                return now + [(item, "rejected", {"_wms": reason}) for item in todo], None
            except (WmsError, OSError) as exc:
                if not is_retriable(exc) or attempt > policy.max_retries:
                    raise
                wait = wait_before_retry(policy, attempt, exc)
                answered = isinstance(exc, WmsResponseError)
                self.logger.warning(
                    "%s: message %s failed (%s); reading its %d document(s) from the WMS %s",
                    self.stream_name,
                    messageid,
                    exc,
                    len(todo),
                    f"in {wait:.2f} s" if answered else f"for up to {self._timeout:g} s",
                )
                time.sleep(wait)
                done, todo = self._settle(messageid, todo, 0 if answered else self._timeout)
                now += done
                if not answered:
                    for item in todo:
                        reason = not_done(self._document(item), spec.noun, group, self._timeout)
                        now.append((item, "rejected", {"_wms": reason}))
                    return now, None
                continue
            return now, (messageid, group, todo)
        return now, None

    def _settled(
        self, messageid: str, group: str, todo: list[Pending]
    ) -> list[tuple[Pending, str, t.Any]]:
        """What an answered message did: its documents in their target state are applied,
        the others rejects naming the file group."""
        done, todo = self._settle(messageid, todo, 0)
        self.logger.info(
            "%s: message %s (file group %s): %d of %d %s document(s) in the WMS",
            self.stream_name,
            messageid,
            group,
            len(done),
            len(done) + len(todo),
            self.spec.entity,
        )
        reasons = [{"_wms": not_done(self._document(item), self.spec.noun, group)} for item in todo]
        return done + [(item, "rejected", r) for item, r in zip(todo, reasons, strict=True)]

    @property
    def _timeout(self) -> float:
        return float(self.config.get("stage_timeout") or 600)

    def _settle(
        self, messageid: str, todo: list[Pending], wait: float
    ) -> tuple[list[tuple[Pending, str, t.Any]], list[Pending]]:
        """(the documents in their target state, as applied; the others), read from the entity
        module until all are there or `wait` seconds have passed."""
        deadline = time.monotonic() + wait
        pause = 0.25
        while True:
            states = self._states(todo)
            done: list[tuple[Pending, str, t.Any]] = []
            rest: list[Pending] = []
            for item in todo:
                doc = self._document(item)
                row = states[doc.where]
                if reached(doc, row, self._before.get(doc.where), self._sent(item)):
                    done.append((item, "applied", {"messageid": messageid, **outcome(doc, row)}))
                else:
                    rest.append(item)
            if not rest or time.monotonic() + pause > deadline:
                return done, rest
            self.logger.info(
                "%s: %d of %d document(s) of message %s in the WMS; waiting up to %.0f s more",
                self.stream_name,
                len(done),
                len(todo),
                messageid,
                deadline - time.monotonic(),
            )
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
