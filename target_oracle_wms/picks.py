"""Pick confirmations from a pick-to-light or robot log: Oracle's "Pick Confirm"
(`POST pick_pack/pick_confirm/`, REST 25C; action codes from owmol's "MHE Pick Confirmation
API"; contract L10-L14, shapes in docs/write-api.md).

One record is one log line: `facility_code`, `action_code` (`Pick`, `Close`, `Short`,
`Complete`; case as Oracle writes them), `wave_nbr` (the wave's run number), `order_nbr`,
`item_code`, `qty`, `pick_location` (the location's barcode) and `to_container_nbr` (the
outbound LPN), as each action needs them. Oracle names items by barcode: the target sends the
item's `barcode` as `item_barcode`.

What is sent for each line is `request_for`'s (contract L10-L14): a Pick or a Short (Pick with
`short_flg`, REST 21B) in a one-entry `pick_list` of `pick_pack/pick_confirm/`; a Close to
`pick_pack/close_lpn/` (REST 21D) and a Complete to `pick_pack/wave_complete/` (REST 24D), their
fields in the query string as those pages table them. Where the pages leave two forms, the other
is the tested fallback (`fallback_for`): a WMS without close_lpn or wave_complete (404) gets the
action code Close or Complete in pick_confirm, one that refuses `pick_list` (a 400 naming it)
gets the pick in the query string (the practitioner's OpenAPI's form).

One line per request, with `async_flg` false, so the answer (204, or 400 with the WMS's reason)
is the outcome. Oracle has no idempotency key for a pick, so exactly-once rests on the
allocations the WMS may touch for the line. The WMS spreads one pick over every open allocation
of the order's lines of the item from the location (of the wave, when named), oldest first
(contract L15): that set is the line's *scope*. Before a Pick (Short) is sent, the `packed_qty`
(`alloc_qty`) of every allocation in the scope is committed to the ledger as a pending marker;
after a lost answer, or on a rerun that finds the marker, the scope is read again and the pick
counts as applied when the scope's total moved by the record's `qty` (beyond what the batch's
earlier lines of the scope moved: the marker's `offset`), and is sent only when it did not.
Watching one allocation of the scope is not enough: a pick of 3 may put 1 on one allocation and
2 on the next. A Close is applied when its LPN is Packed (or further); a Complete changes
nothing the target can read and is sent again only when the ledger does not know it.

At one request a line (`pick_chains.py`): the batch's allocations are read once ahead of
sending (the markers are built from that read, not from a read per line), the lines go in
chains that share no scope and no LPN, chains in parallel (`max_parallel_writes`), each chain
in input order (a Close after every earlier pick into its LPN was answered; a Complete after
everything before it), and one read after the batch checks what moved.
"""

from __future__ import annotations

import dataclasses
import threading
import typing as t
from decimal import Decimal
from functools import partial

from oracle_wms.errors import WmsNotFoundError
from target_oracle_wms.base import Call, Pending, RecordRejectedError, WmsSink
from target_oracle_wms.lookups import Facility, fk_id, run_reads
from target_oracle_wms.pick_chains import (
    ALLOCATION_FIELDS,
    SCOPE_KEYS,
    BatchScopes,
    chains,
    moved,
    row_qty,
    scope_key,
    segments,
)
from target_oracle_wms.pick_forms import fallback_for, form_of, other_form, request_for
from target_oracle_wms.pick_reads import reads_ahead
from target_oracle_wms.validation import Reasons, RecordSchema, as_decimal, quantity_property
from target_oracle_wms.values import REFUSALS

PICK_FIELDS = frozenset(
    {
        "facility_code",
        "company_code",
        "action_code",
        "wave_nbr",
        "order_nbr",
        "item_code",
        "qty",
        "pick_location",
        "to_container_nbr",
    }
)
"""What a pick record may carry besides its key properties."""
REQUIRED = {
    "Pick": ("order_nbr", "item_code", "qty", "pick_location", "to_container_nbr"),
    "Short": ("order_nbr", "item_code", "qty", "pick_location"),
    "Close": ("to_container_nbr",),
    "Complete": ("wave_nbr",),
}
"""Oracle's action codes and what each needs ([PICK], owmol 24D table)."""
QTY = RecordSchema({"qty": quantity_property({"exclusiveMinimum": 0}, "a quantity above zero")})
CLOSED_WORDS = frozenset({"CANCELLED", "PICKED", "PACKED"})
"""allocation_status words (code, else description) of an allocation no pick may add to.
Oracle documents neither the allocation statuses' ids nor their names (contract L6), so they
are read by word from the `allocation_status` list; an allocation of any other status is open
by its quantities (`alloc_qty - packed_qty`)."""
PACKED_OR_LATER = ("PACKED", "LOADED", "SHIPPED")


MOVED_LOCK = threading.Lock()
"""Guards each batch's `_moved_by_us` (chains run in threads; each touches its own keys)."""


def scope_of(facility: Facility) -> dict[str, str]:
    return {"facility_id__code": facility.code}


def open_qty(allocation: dict[str, t.Any], closed_ids: t.Collection[int] = ()) -> Decimal:
    """`alloc_qty - packed_qty` of an allocation; 0 when its `status_id` is one of
    `closed_ids` (the ids of `CLOSED_WORDS` in the WMS's `allocation_status` list)."""
    status = fk_id(allocation.get("status_id"))
    if status is not None and status in closed_ids:
        return Decimal(0)
    return row_qty(allocation, "alloc_qty") - row_qty(allocation, "packed_qty")


class PickConfirmSink(WmsSink):
    """`pick_pack/pick_confirm/`, one line per request, never confirmed twice."""

    def known_fields(self) -> t.Collection[str] | None:
        return PICK_FIELDS

    def adds(self, record: dict[str, t.Any]) -> bool:
        """A Pick or a Short moves quantities each time; a Close or a Complete does not."""
        return record.get("action_code") in ("Pick", "Short")

    def process_batch(self, context: dict[str, t.Any]) -> None:
        self.__dict__["_scope"] = {}  # keyed by id(record): one batch's records only
        self.__dict__["_scope_rows"] = {}  # id(record) -> the scope's rows read at validation
        self.__dict__["_batch"] = {}  # facility id -> BatchScopes, read ahead in `prefetch`
        self.__dict__["_chain"] = {}  # id(record) -> its chain (`pick_chains.chains`)
        self.__dict__["_moved_by_us"] = {}  # (scope key, field) -> qty answered applied
        self.__dict__["_lpns_read"] = set()  # (facility code, LPN) read fresh for the batch
        super().process_batch(context)

    def document_key(self, record: dict[str, t.Any]) -> str:
        return self.identity(record)

    def write_key(self, item: Pending) -> str:
        """Lines of one chain (a scope or an LPN in common) go one after another, in input
        order; chains go in parallel (`pick_chains`)."""
        chain = self.__dict__.get("_chain", {}).get(id(item.record))
        return str(item.record.get("facility_code")) if chain is None else f"chain {chain}"

    def ahead(self) -> list[t.Callable[[], t.Any]]:
        """The facility list and the allocation statuses."""
        statuses = partial(self.services.lookups.status_words, "allocation_status")
        return [*super().ahead(), statuses]

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        """Everything the batch's validation and markers read, in one round of parallel reads
        after the facility list (`max_parallel_writes` at once): each entity's keys in one
        `__in` lookup (waves, orders, items, locations), the Closes' LPNs, the allocation
        statuses, and the allocations of every order named (`BatchScopes`). Validation then
        cuts each line's scope from them, with no read of its own. A lookup the WMS refuses for
        a value leaves its records to validation, which reports it."""
        lookups = self.services.lookups
        by_facility: dict[Facility, list[dict[str, t.Any]]] = {}
        for record in records:
            facility = lookups.record_facility(record, {})
            if facility is not None:
                by_facility.setdefault(facility, []).append(record)
        reads: list[t.Callable[[], t.Any]] = [self.closed_allocation_ids]
        for facility, group in by_facility.items():
            batch = self.__dict__["_batch"].setdefault(facility.id, BatchScopes(facility.id))
            reads += reads_ahead(self.services, facility, group, batch, self.__dict__["_lpns_read"])
        run_reads(reads, self.services.max_parallel_writes)
        for facility in by_facility:
            ahead: BatchScopes = self.__dict__["_batch"][facility.id]
            try:
                orders = lookups.find("order_hdr", "order_nbr", ahead.numbers, scope_of(facility))
            except REFUSALS:
                continue
            ahead.file(int(row["id"]) for row in orders.values() if row is not None)

    # Validation --------------------------------------------------------------------------

    def validate(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        reasons: Reasons = {}
        action = record.get("action_code")
        needed = REQUIRED.get(str(action))
        if needed is None:
            reasons["action_code"] = f"one of {', '.join(REQUIRED)}, got {action!r}"
            needed = ()
        if record.get("facility_code") in (None, ""):
            reasons["facility_code"] = "required"
        for name in needed:
            if record.get(name) in (None, ""):
                reasons[name] = f"required for action {action}"
        if record.get("qty") is not None:
            reasons.update(QTY.check({"qty": record["qty"]}))
        facility = self.services.lookups.record_facility(record, reasons)
        if reasons or facility is None:
            return reasons, None
        body: dict[str, t.Any] = {
            "facility_id__code": facility.code,
            "company_id__code": str(record.get("company_code") or facility.company_code),
            "action_code": str(action),
        }
        if record.get("wave_nbr") not in (None, ""):
            body["wave_nbr"] = str(record["wave_nbr"])
            if self._wave(facility, str(record["wave_nbr"])) is None:
                reasons["wave_nbr"] = (
                    f"no wave run_nbr {record['wave_nbr']} in facility {facility.code}"
                )
        if action in ("Pick", "Short"):
            scope = self._find_scope(record, facility, reasons)
            if scope is not None:
                self.__dict__["_scope"][id(record)] = scope
                barcode = self._item(record, facility)
                body.update(
                    order_nbr=str(record["order_nbr"]),
                    item_barcode=str((barcode or {}).get("barcode")),
                    qty=str(as_decimal(record["qty"])),
                    pick_location=str(record["pick_location"]),
                )
        if record.get("to_container_nbr") not in (None, "") and action != "Short":
            body["to_container_nbr"] = str(record["to_container_nbr"])
        if reasons:
            return reasons, None
        return {}, request_for(body)

    def _wave(self, facility: Facility, run_nbr: str) -> dict[str, t.Any] | None:
        scope = {"facility_id": str(facility.id)}
        return self.services.lookups.find("wave", "run_nbr", [run_nbr], scope, "id,status_id")[
            run_nbr
        ]

    def _item(self, record: dict[str, t.Any], facility: Facility) -> dict[str, t.Any] | None:
        code = str(record["item_code"])
        scope = {"company_id__code": str(record.get("company_code") or facility.company_code)}
        return self.services.lookups.find("item", "code", [code], scope, "id,barcode")[code]

    def _find_scope(
        self, record: dict[str, t.Any], facility: Facility, reasons: Reasons
    ) -> dict[str, str] | None:
        """The filters of the allocations the WMS may touch for a Pick or Short line: the
        order's lines of the item from the pick location (and of the wave, when given), every
        status (`GET entity/allocation/`); None with reasons when there is none."""
        lookups = self.services.lookups
        scope = {"facility_id__code": facility.code}
        order_nbr, barcode = str(record["order_nbr"]), str(record["pick_location"])
        order = lookups.find("order_hdr", "order_nbr", [order_nbr], scope)[order_nbr]
        item = self._item(record, facility)
        location = lookups.find("location", "barcode", [barcode], scope)[barcode]
        if order is None:
            reasons["order_nbr"] = f"no order '{order_nbr}' in facility {facility.code}"
        if item is None:
            reasons["item_code"] = (
                f"no item '{record['item_code']}' in company {facility.company_code}"
            )
        elif not item.get("barcode"):
            reasons["item_code"] = (
                f"item {record['item_code']} has no barcode, and Oracle's Pick Confirm names "
                "items by barcode or alternate code"
            )
        if location is None:
            reasons["pick_location"] = f"no location '{barcode}' in facility {facility.code}"
        if order is None or item is None or location is None:
            return None
        params = {
            "facility_id": str(facility.id),
            "order_dtl_id__order_id": str(order["id"]),
            "item_id": str(item["id"]),
            "from_location_id": str(location["id"]),
        }
        wave = self._wave(facility, str(record["wave_nbr"])) if record.get("wave_nbr") else None
        if wave is not None:
            params["wave_id"] = str(wave["id"])
        batch = self.__dict__.get("_batch", {}).get(facility.id)
        rows = batch.cut(params) if batch and batch.known(params) else self.scope_rows(params)
        if not rows:
            reasons["order_nbr"] = (
                f"no allocation of order {order_nbr} for item {record['item_code']} from "
                f"location {barcode}"
                + (f" in wave {record['wave_nbr']}" if record.get("wave_nbr") else "")
            )
            return None
        self.__dict__["_scope_rows"][id(record)] = rows
        return params

    def scope_rows(self, scope: dict[str, str]) -> list[dict[str, t.Any]]:
        """The allocations of a line's scope as the WMS holds them now, by id."""
        params = {**scope, "ordering": "id", "fields": ALLOCATION_FIELDS}
        return list(self.services.wms.iter_records("allocation", params))

    # What the WMS holds ------------------------------------------------------------------

    def _moved(self, item: Pending, marker: dict[str, t.Any]) -> bool:
        """Whether the line's scope moved by the record's qty since the marker was taken: a
        Pick raised the scope's total `packed_qty` (allocations new since the marker count
        from 0), a Short lowered the total `alloc_qty` of the allocations the marker saw (one
        gone counts as lowered to 0)."""
        qty = Decimal(str(as_decimal(item.record["qty"])))
        field = str(marker["field"])
        if "scope" not in marker:  # a marker of one allocation, from before the scope
            marker = {
                "field": field,
                "scope": {"id": str(marker["allocation_id"])},
                "before": {str(marker["allocation_id"]): marker["before"]},
            }
        before = {str(k): Decimal(str(v)) for k, v in marker["before"].items()}
        now = {str(r["id"]): row_qty(r, field) for r in self.scope_rows(marker["scope"])}
        offset = Decimal(str(marker.get("offset", 0)))  # earlier lines of the batch, answered
        return moved(before, now, field) - offset >= qty

    def _lpn_word(self, item: Pending, *, refresh: bool = True) -> str | None:
        """The status of the record's outbound LPN (None: no such LPN); `refresh` False: as
        `already_in_wms` read it for the whole batch."""
        number = str(item.record["to_container_nbr"])
        scope = {"facility_id__code": str(item.record["facility_code"])}
        row = self.services.lookups.find(
            "oblpn", "container_nbr", [number], scope, "id,status_id", refresh=refresh
        )[number]
        if row is None:
            return None
        return self.services.lookups.status_of("container_status", row.get("status_id"))

    def closed_allocation_ids(self) -> frozenset[int]:
        """Ids of the allocation statuses in `CLOSED_WORDS`, read once per sink. A WMS that
        lists no `allocation_status` entity leaves every allocation open by its quantities,
        with one warning naming the assumption."""
        if "_closed_ids" not in self.__dict__:
            try:
                words = self.services.lookups.status_words("allocation_status")
            except WmsNotFoundError:
                self.logger.warning(
                    "%s: the WMS lists no allocation_status; an allocation counts as open by its "
                    "quantities alone (alloc_qty - packed_qty)",
                    self.stream_name,
                )
                words = {}
            self.__dict__["_closed_ids"] = frozenset(
                status_id for status_id, word in words.items() if word in CLOSED_WORDS
            )
        closed: frozenset[int] = self.__dict__["_closed_ids"]
        return closed

    def _done(self, item: Pending, *, refresh: bool = True) -> bool:
        """Whether the WMS shows this line applied (a marker's allocation moved; a Close's LPN
        Packed or further). False for what cannot be told (no marker; Complete)."""
        action = item.record["action_code"]
        if action == "Close":
            return self._lpn_word(item, refresh=refresh) in PACKED_OR_LATER
        marker = self.services.ledger.pending(self.stream_name, item.identity)
        return action in ("Pick", "Short") and marker is not None and self._moved(item, marker)

    def already_in_wms(self, pending: list[Pending]) -> set[str]:
        """Lines the WMS shows applied before this batch sends anything: a Pick or Short with
        a pending marker (a lost answer or a killed run) whose scope moved, read per marker;
        a Close whose LPN is Packed, every Close's LPN in one `container_nbr__in` read per
        facility ahead of the batch, in `prefetch` (only a Close packs an LPN, so a Close found
        Packed there was applied, by an earlier run or by hand, and none of this batch's picks
        can change that before it is sent); LPNs `prefetch` did not read are read here."""
        closes: dict[str, set[str]] = {}
        read = self.__dict__.setdefault("_lpns_read", set())
        for item in pending:
            if item.record.get("action_code") == "Close":
                facility = str(item.record["facility_code"])
                if (facility, str(item.record["to_container_nbr"])) not in read:
                    closes.setdefault(facility, set()).add(str(item.record["to_container_nbr"]))
        for facility, numbers in closes.items():
            scope = {"facility_id__code": facility}
            self.services.lookups.find(
                "oblpn", "container_nbr", sorted(numbers), scope, "id,status_id", refresh=True
            )
        return {item.identity for item in pending if self._done(item, refresh=False)}

    def would_refuse(self, pending: list[Pending]) -> dict[int, Reasons]:
        """A Pick or Short over the open quantity of its scope as read at validation (the sum
        the WMS checks, contract L15; each line on its own: lines that only together exceed it
        are left to the WMS, whose reason is reported)."""
        refused: dict[int, Reasons] = {}
        closed = self.closed_allocation_ids()
        for item in pending:
            rows = self.__dict__.get("_scope_rows", {}).get(id(item.record))
            if rows is None:
                continue
            open_now = sum((open_qty(r, closed) for r in rows), Decimal(0))
            qty = as_decimal(item.record["qty"]) or Decimal(0)
            if qty > open_now:
                ids = ", ".join(str(r["id"]) for r in rows)
                refused[id(item.record)] = {
                    "qty": f"{qty} is over the open allocated quantity {open_now} of order "
                    f"{item.record['order_nbr']}, item {item.record['item_code']}, location "
                    f"{item.record['pick_location']} (allocations {ids})"
                }
        return refused

    def was_applied(self, item: Pending) -> bool:
        return self._done(item)

    def send_documented(self, item: Pending, marker: dict[str, t.Any] | None) -> t.Any:
        """`send_marked`, falling back to `fallback_for`'s other documented form when the WMS
        says it lacks one; a form refused so is not sent again for the rest of the run."""
        fallen: dict[str, bool] = self.__dict__.setdefault("_fallen", {})
        call = self._known_form(item.call, fallen)
        while True:
            try:
                return self.send_marked(dataclasses.replace(item, call=call), marker)
            except RecordRejectedError as refusal:
                other = fallback_for(call, refusal)
                if other is None:
                    raise
                form = form_of(call)
                fallen[form] = True
                self.logger.warning(
                    "%s: the WMS refused %s (%s); sending the other documented form, %s, for "
                    'this and later lines (docs/api-behaviour.md, "Pick pack forms")',
                    self.stream_name,
                    form,
                    refusal,
                    form_of(other),
                )
                call = self._known_form(other, fallen)

    @staticmethod
    def _known_form(call: Call, fallen: dict[str, bool]) -> Call:
        while fallen.get(form_of(call)):
            other = other_form(call)
            if other is None:
                break
            call = other
        return call

    def apply_all(self, items: list[Pending]) -> t.Iterator[tuple[Pending, str, t.Any]]:
        """The batch's lines in chains (`pick_chains.chains`: a scope or an LPN in common),
        chains in parallel, each chain in input order; a Complete alone between the lines
        before and after it (`pick_chains.segments`). Then one read of the batch's
        allocations checks that what was answered applied moved them (`_check_moved`)."""
        scopes = [self.__dict__.get("_scope", {}).get(id(p.record)) for p in items]
        labels = chains([p.record for p in items], scopes)
        self.__dict__["_chain"] = {id(p.record): c for p, c in zip(items, labels, strict=True)}
        for start, end in segments([p.record for p in items]):
            yield from super().apply_all(items[start:end])
        self._check_moved()

    def _marker(self, item: Pending, scope: dict[str, str]) -> tuple[dict[str, t.Any], bool]:
        """What is committed before a Pick or Short is sent: the line's scope without its wave
        (`SCOPE_KEYS`: the wave's allocations are among them), its rows as read ahead of the
        batch (`before`), and what the batch's earlier lines of that scope were answered to
        have moved since (`offset`: they are of this line's chain, so all answered before this
        line is sent). `_moved` then needs no read taken just before the send. The flag: the
        rows were read ahead (False: read now, the scope not being among the batch's)."""
        field = "packed_qty" if item.record["action_code"] == "Pick" else "alloc_qty"
        wide = {k: scope[k] for k in SCOPE_KEYS if k in scope}
        batch = self.__dict__.get("_batch", {}).get(int(scope["facility_id"]))
        if batch is not None and batch.known(wide):
            rows = batch.cut(wide)
            with MOVED_LOCK:
                offset = self.__dict__["_moved_by_us"].get((scope_key(scope), field), Decimal(0))
        else:  # not read ahead: read now, after whatever the batch already moved
            rows, offset = self.scope_rows(wide), Decimal(0)
        before = {str(r["id"]): str(row_qty(r, field)) for r in rows}
        marker = {"scope": wide, "field": field, "before": before, "offset": str(offset)}
        return marker, batch is not None and batch.known(wide)

    def _check_moved(self) -> None:
        """One read of the batch's allocations after its lines were answered: a scope that
        moved less than its lines answered applied is warned about, not resent (204 with
        `async_flg` false is the WMS saying it processed the line, L12; docs/api-behaviour.md).
        """
        expected = self.__dict__.get("_moved_by_us", {})
        for batch in self.__dict__.get("_batch", {}).values():
            for scope, qty in batch.shortfalls(self.services.wms, expected):
                self.logger.warning(
                    "%s: lines of order id %s, item id %s, location id %s answered 204 by the "
                    "WMS, but their allocations did not move by %s: counted as applied, not resent",
                    self.stream_name,
                    scope["order_dtl_id__order_id"],
                    scope["item_id"],
                    scope["from_location_id"],
                    qty,
                )

    def apply(self, item: Pending) -> tuple[str, t.Any]:
        """A Pick or Short commits its scope's quantities as a pending marker first (built
        from the batch's read ahead, `_marker`); what the answer moved is added to the
        chain's offset. No read after the answer: `_check_moved` reads the batch once."""
        action = item.record["action_code"]
        scope = self.__dict__.get("_scope", {}).get(id(item.record))
        marker, ahead = self._marker(item, scope) if scope is not None else (None, False)
        answer = self.send_documented(item, marker)
        after_lost = isinstance(answer, dict) and bool(answer.get("already_applied"))
        if marker is not None and scope is not None and ahead:
            key = (scope_key(scope), str(marker["field"]))
            qty = Decimal(str(as_decimal(item.record["qty"])))
            with MOVED_LOCK:
                done = self.__dict__["_moved_by_us"]
                done[key] = done.get(key, Decimal(0)) + qty
        return "applied", {
            "action_code": action,
            "allocations": sorted(marker["before"]) if marker else None,
            "after_lost_answer": after_lost,
        }
