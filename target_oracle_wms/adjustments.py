"""Inventory writes made exactly once through `transaction_ref_nbr` (docs/write-api.md):
adjustments (`POST entity/location/update_active_inventory/`, the location named by facility
code and barcode in `parameters`, as Oracle's "Update Active Inventory" allows) and new
inventory (`POST entity/inventory/`, in an active location only).

Each record's reference is its `transaction_ref_nbr` (or `singer`) plus a hash of the stream and
the record's identity; inventory history keeps it, so before a write and before each retry of a
write whose answer was lost the sink asks history whether the reference is already there.
"""

from __future__ import annotations

import hashlib
import json
import threading
import typing as t
from decimal import Decimal
from functools import partial

from target_oracle_wms.base import Call, Pending, RecordRejectedError, WmsSink
from target_oracle_wms.lookups import run_reads
from target_oracle_wms.validation import (
    Reasons,
    RecordSchema,
    as_decimal,
    quantity_property,
    text_property,
)

REFS_PER_REQUEST = 50
"""`transaction_ref_nbr__in` values per inventory_history look-up (the URL stays short)."""
MAX_REF = 250
"""`transaction_ref_nbr` is at most 250 characters in inventory history."""
REF_SUFFIX = 17
"""':' + 16 hex digits the target appends to make a record's reference unique."""

OPTIONS = RecordSchema(
    {
        "reason_code": text_property(25),
        "batch_nbr": text_property(50),
        "transaction_ref_nbr": text_property(MAX_REF - REF_SUFFIX),
        "adjustment_qty": quantity_property(
            {"not": {"const": 0}}, "a zero adjustment changes nothing"
        ),
        "actual_qty": quantity_property({"minimum": 0}, "an absolute quantity cannot be negative"),
        "curr_qty": quantity_property(
            {"exclusiveMinimum": 0}, "new inventory needs a quantity above zero"
        ),
    }
)
"""What the operations take besides keys (docs/write-api.md: `reason_code` at most 25 characters,
`transaction_ref_nbr` at most 250, less the suffix the target adds); each sink checks the fields
it sends."""


ADJUSTMENT_FIELDS = frozenset(
    {
        "facility_code",
        "location_barcode",
        "item_code",
        "reason_code",
        "batch_nbr",
        "transaction_ref_nbr",
        "adjustment_qty",
        "actual_qty",
    }
)
"""What an adjustment record may carry besides its key properties."""
CREATE_FIELDS = frozenset(
    {"facility_code", "location_barcode", "item_code", "curr_qty", "reason_code"}
    | {"transaction_ref_nbr"}
)
"""What an inventory create record may carry besides its key properties."""


class InventoryAdjustmentSink(WmsSink):
    """`location/{id}/update_active_inventory`, one request per record, made exactly-once by a
    deterministic `transaction_ref_nbr` looked up in inventory history (docs/write-api.md)."""

    def known_fields(self) -> t.Collection[str] | None:
        return ADJUSTMENT_FIELDS

    def adds(self, record: dict[str, t.Any]) -> bool:
        """A delta (`adjustment_qty`) adds each time; an absolute count (`actual_qty`) does not."""
        return record.get("adjustment_qty") is not None

    def would_refuse(self, pending: list[Pending]) -> dict[int, Reasons]:
        """Adjustments that would take on-hand below zero, which the WMS refuses: each row's
        current quantity is read before anything is sent and the batch's records of the row are
        played on it in input order (absolute counts set it). The WMS may still refuse one
        whose row changed meanwhile; `report_refused` names such a document's records."""
        rows: dict[str, Decimal] = {}
        refused: dict[int, Reasons] = {}
        negative = {
            self.write_key(item)
            for item in pending
            if Decimal(item.call[2]["options"].get("adjustment_qty", 0)) < 0
        }
        for item in pending:
            options = item.call[2]["options"]
            key = self.write_key(item)
            if key not in negative:  # nothing of the row can go below zero
                continue
            if key not in rows:
                rows[key] = self._on_hand(item)
            if "actual_qty" in options:
                rows[key] = Decimal(options["actual_qty"])
                continue
            after = rows[key] + Decimal(options["adjustment_qty"])
            if after < 0:
                refused[id(item.record)] = {
                    "adjustment_qty": f"would take the quantity below zero (on hand {rows[key]})"
                }
            else:
                rows[key] = after
        return refused

    def _on_hand(self, item: Pending) -> Decimal:
        """`curr_qty` of the inventory row an adjustment changes: the location's loose row of the
        item and batch (an LPN's only when there is no loose one), lowest id; 0 when none."""
        location_id = self._location_id(item.record)
        if location_id is None:
            return Decimal(0)
        params = {
            "location_id": str(location_id),
            "item_id__code": str(item.record["item_code"]),
            "fields": "id,curr_qty,container_id,batch_nbr",
            "ordering": "id",
        }
        batch = item.call[2]["options"].get("batch_nbr")
        rows = [
            r
            for r in self.services.wms.iter_records("inventory", params)
            if (r.get("batch_nbr") or None) == batch
        ]
        rows.sort(key=lambda r: (r.get("container_id") is not None, int(r["id"])))
        return Decimal(str(rows[0]["curr_qty"])) if rows else Decimal(0)

    def _location_id(self, record: dict[str, t.Any]) -> int | None:
        facility = self.services.lookups.facility(str(record.get("facility_code") or ""))
        if facility is None:
            return None
        barcode = str(record.get("location_barcode"))
        scope = {"facility_id__code": facility.code}
        found = self.services.lookups.find(
            "location", "barcode", [barcode], scope, "id,location_type_id"
        )
        row = found[barcode]
        return int(row["id"]) if row else None

    def ahead(self) -> list[t.Callable[[], t.Any]]:
        """The facility list and the history ids applied references are looked up under."""
        return [*super().ahead(), self._history_ids]

    def _history_ids(self) -> None:
        _ = self.services.history_activity_ids, self.services.history_status_ids

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        """The batch's locations and items: one `__in` lookup per facility and per company,
        all in one round (`max_parallel_writes` at once)."""
        lookups = self.services.lookups
        barcodes: dict[str, set[str]] = {}
        items: dict[str, set[str]] = {}
        for record in records:
            facility = lookups.facility(str(record.get("facility_code") or ""))
            if facility is None:
                continue
            barcodes.setdefault(facility.code, set()).add(str(record.get("location_barcode")))
            if facility.company_code:
                items.setdefault(facility.company_code, set()).add(str(record.get("item_code")))
        reads: list[t.Callable[[], t.Any]] = [
            partial(
                lookups.find,
                "location",
                "barcode",
                values,
                {"facility_id__code": code},
                "id,location_type_id",
            )
            for code, values in barcodes.items()
        ]
        reads += [
            partial(lookups.find, "item", "code", values, {"company_id__code": company})
            for company, values in items.items()
        ]
        run_reads(reads, self.services.max_parallel_writes)

    def write_key(self, item: Pending) -> str:
        """One inventory row: location (the filters, or the created row's), item and batch."""
        body = item.call[2]
        options = body.get("options") or {}
        fields = body.get("fields") or {}
        item_ref = options.get("item_code") or fields.get("item_id")
        where = body.get("parameters") or fields.get("location_id")
        row = [item.call[1], where, item_ref, options.get("batch_nbr")]
        return json.dumps(row, sort_keys=True)

    def reference(self, record: dict[str, t.Any]) -> str:
        digest = hashlib.sha256(f"{self.stream_name}\n{self.identity(record)}".encode())
        base = record.get("transaction_ref_nbr")
        return f"{base}:{digest.hexdigest()[:16]}" if base else f"singer:{digest.hexdigest()[:16]}"

    def document_key(self, record: dict[str, t.Any]) -> str:
        ref = record.get("transaction_ref_nbr")
        return f"ref:{ref}" if ref else self.identity(record)

    def validate(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        reasons: Reasons = {}
        for name in ("facility_code", "location_barcode", "item_code", "reason_code"):
            if record.get(name) in (None, ""):
                reasons[name] = "required"
        sent = {name: record.get(name) for name in ("reason_code", "batch_nbr")}
        sent["transaction_ref_nbr"] = record.get("transaction_ref_nbr")
        delta, absolute = record.get("adjustment_qty"), record.get("actual_qty")
        one_quantity = (delta is None) != (absolute is None)
        if one_quantity and delta is not None:
            sent["adjustment_qty"] = delta
        elif one_quantity:
            sent["actual_qty"] = absolute
        reasons.update(OPTIONS.check(sent))
        if not one_quantity:
            reasons["adjustment_qty"] = "give exactly one of adjustment_qty (a delta) or actual_qty"
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
        location = {
            "facility_id__code": str(record["facility_code"]),
            "barcode": str(record["location_barcode"]),
        }
        body = {"parameters": location, "options": options}
        return {}, ("POST", "entity/location/update_active_inventory/", body)

    def _resolve(self, record: dict[str, t.Any], reasons: Reasons) -> int | None:
        lookups = self.services.lookups
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
            location is not None and (location.get("location_type_id") or {}).get("key") != "ACTIVE"
        ):
            reasons["location_barcode"] = f"location '{barcode}' is not an active location"
        item_code = str(record.get("item_code"))
        company_scope = {"company_id__code": facility.company_code}
        if lookups.find("item", "code", [item_code], company_scope)[item_code] is None and (
            "item_code" not in reasons
        ):
            reasons["item_code"] = f"no item '{item_code}' in company {facility.company_code}"
        return int(location["id"]) if location else None

    def _refs_in_history(self, facility_code: str, refs: dict[str, str]) -> set[str]:
        """The references (ref -> item code) inventory history holds.

        Asked with one of Oracle's documented combinations, plain values only: company +
        facility + `history_activity_id` + either `item_code` (one list per activity and item)
        or `status_id` (one list per activity and status), whichever takes fewer requests;
        50 references a request."""
        lookups = self.services.lookups
        facility = lookups.facility(facility_code)
        if facility is None or not refs:
            return set()
        by_item: dict[str, list[str]] = {}
        for ref, item_code in refs.items():
            by_item.setdefault(item_code, []).append(ref)
        groups = [({"item_code": code}, item_refs) for code, item_refs in by_item.items()]
        item_lists = sum(-(-len(r) // REFS_PER_REQUEST) for r in by_item.values())
        if item_lists > 1:  # a single item list is as cheap as it gets
            statuses = self.services.history_status_ids
            if -(-len(refs) // REFS_PER_REQUEST) * len(statuses) < item_lists:
                groups = [({"status_id": str(s)}, list(refs)) for s in statuses]
        found: set[str] = set()
        client = self.services.wms
        listable = [(extra, [r for r in group if "," not in r]) for extra, group in groups]
        for activity in self.services.history_activity_ids:
            for ref in (r for r in refs if "," in r):  # cannot travel in an `__in` list
                params = {
                    "company_id__code": facility.company_code,
                    "facility_id__code": facility.code,
                    "history_activity_id": str(activity),
                    "item_code": refs[ref],
                    "transaction_ref_nbr": ref,
                    "fields": "id,transaction_ref_nbr",
                }
                rows = client.iter_records("inventory_history", params)
                found.update(str(r["transaction_ref_nbr"]) for r in rows)
            for extra, group_refs in listable:
                for start in range(0, len(group_refs), REFS_PER_REQUEST):
                    params = {
                        "company_id__code": facility.company_code,
                        "facility_id__code": facility.code,
                        "history_activity_id": str(activity),
                        **extra,
                        "transaction_ref_nbr__in": ",".join(
                            group_refs[start : start + REFS_PER_REQUEST]
                        ),
                        "fields": "id,transaction_ref_nbr",
                    }
                    found.update(
                        str(r["transaction_ref_nbr"])
                        for r in client.iter_records("inventory_history", params)
                    )
        return found & refs.keys()  # exact matches only

    @staticmethod
    def _ref_and_item(item: Pending) -> tuple[str, str]:
        options = item.call[2]["options"]
        return options["transaction_ref_nbr"], str(item.record["item_code"])

    def already_in_wms(self, pending: list[Pending]) -> set[str]:
        by_facility: dict[str, dict[str, tuple[str, str]]] = {}
        for item in pending:
            ref, item_code = self._ref_and_item(item)
            facility = by_facility.setdefault(str(item.record["facility_code"]), {})
            facility[ref] = (item.identity, item_code)
        proven: set[str] = set()
        for facility_code, refs in by_facility.items():
            items = {ref: code for ref, (_, code) in refs.items()}
            for ref in self._refs_in_history(facility_code, items):
                proven.add(refs[ref][0])
        return proven

    def was_applied(self, item: Pending) -> bool:
        ref, item_code = self._ref_and_item(item)
        facility_code = str(item.record["facility_code"])
        return bool(self._refs_in_history(facility_code, {ref: item_code}))


class InventoryCreateSink(InventoryAdjustmentSink):
    _ref_recorded: bool | None = None
    """Whether the WMS carries a create's reference into history (None: not known yet)."""

    """`POST entity/inventory/`: new inventory in an active location (Oracle creates inventory
    only in an IBLPN or an active location), with the same deterministic
    `transaction_ref_nbr` (carried into inventory history) as adjustments, so a replay or a lost
    response never creates it twice."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._ref_lock = threading.Lock()

    def known_fields(self) -> t.Collection[str] | None:
        return CREATE_FIELDS

    def adds(self, record: dict[str, t.Any]) -> bool:
        """Each create is new inventory."""
        return True

    def would_refuse(self, pending: list[Pending]) -> dict[int, Reasons]:
        return {}  # a create adds a quantity above zero

    def validate(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        reasons: Reasons = {}
        for name in ("facility_code", "location_barcode", "item_code", "curr_qty", "reason_code"):
            if record.get(name) in (None, ""):
                reasons[name] = "required"
        sent = {name: record.get(name) for name in ("reason_code", "transaction_ref_nbr")}
        if "curr_qty" not in reasons:
            sent["curr_qty"] = record["curr_qty"]
        reasons.update(OPTIONS.check(sent))
        location_id = self._resolve(record, reasons)
        if reasons or location_id is None:
            return reasons, None
        quantity = as_decimal(record["curr_qty"])
        facility = self.services.lookups.facility(str(record["facility_code"]))
        assert facility is not None
        item_code = str(record["item_code"])
        item = self.services.lookups.find(
            "item", "code", [item_code], {"company_id__code": facility.company_code}
        )[item_code]
        assert item is not None
        owner = {"facility_id": facility.id}  # required in inventory's describe (contract G3)
        if facility.company_id is not None:
            owner["company_id"] = facility.company_id
        body = {
            "fields": {
                **owner,
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

    REF_DROPPED = (
        "not sent: the WMS did not record transaction_ref_nbr in inventory history for this "
        "run's first inventory create (Oracle documents the reference only for "
        "update_active_inventory), so a replay or a lost answer could create this inventory twice"
    )

    def apply(self, item: Pending) -> tuple[str, t.Any]:
        """Send the create; the run's first create also proves that the WMS records its
        `transaction_ref_nbr` (undocumented for create, contract row G4), on which exactly-once
        rests. When it does not, every later create of the run is rejected unsent."""
        if self._ref_recorded is None:
            with self._ref_lock:  # the first create alone; the others wait for its verdict
                if self._ref_recorded is None:
                    outcome, answer = super().apply(item)
                    self._ref_recorded = self._ref_kept(item)
                    return outcome, answer
        if self._ref_recorded is False:
            raise RecordRejectedError({"transaction_ref_nbr": self.REF_DROPPED})
        return super().apply(item)

    def _ref_kept(self, item: Pending) -> bool:
        ref, item_code = self._ref_and_item(item)
        if self._refs_in_history(str(item.record["facility_code"]), {ref: item_code}):
            return True
        self.logger.error(
            "inventory create: transaction_ref_nbr %s is not in inventory history; later "
            "creates of this run are rejected (%s)",
            ref,
            self.REF_DROPPED,
        )
        return False
