"""Receiving inbound LPNs against an ASN or a purchase order: `POST entity/iblpn/receive`
(Oracle's "Receive", REST 26B; contract L9; shapes in docs/write-api.md).

One record is one IBLPN: `facility_code`, optional `company_code` (default: the facility's),
exactly one of `shipment_nbr` (the ASN) or `po_nbr`, `container_nbr` (the new IBLPN), optional
`dock` (Oracle's `recv_dock_nbr_or_location_barcode`), `trailer_nbr`, `pallet_nbr`, and `items`:
an array of `{"item_code", "qty"}` (or its JSON text). Oracle's `item_list` names items by
barcode: the target sends each item's `barcode` as `item_barcode`.

Oracle documents no answer body and no reference of ours that the WMS would keep, so the IBLPN
itself decides (its identity is facility + `container_nbr`, unique in a facility): before
sending, an IBLPN of that number holding exactly the record's items and quantities is already
applied (other contents: a reject naming the difference, nothing sent); after the answer, or
after a lost one, the IBLPN is read back and its contents compared the same way.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial

from target_oracle_wms.base import Call, Pending, WmsSink
from target_oracle_wms.lookups import Facility, fk_id, run_reads
from target_oracle_wms.pick_chains import chunks
from target_oracle_wms.validation import (
    Reasons,
    RecordSchema,
    as_decimal,
    quantity_property,
    text_property,
)
from target_oracle_wms.values import list_value

RECEIPT_FIELDS = frozenset(
    {
        "facility_code",
        "company_code",
        "shipment_nbr",
        "po_nbr",
        "container_nbr",
        "dock",
        "trailer_nbr",
        "pallet_nbr",
        "items",
    }
)
"""What a receipt record may carry besides its key properties."""
ITEM_FIELDS = frozenset({"item_code", "qty"})
LINE_CHECKS = RecordSchema(
    {"qty": quantity_property({"exclusiveMinimum": 0}, "a received quantity above zero")}
)
TEXT_CHECKS = RecordSchema(
    {
        name: text_property(50)
        for name in ("container_nbr", "shipment_nbr", "po_nbr", "trailer_nbr", "pallet_nbr", "dock")
    }
)
"""Text sent as is: at most 50 characters (the simulator's `iblpn.container_nbr` and
`ib_shipment.shipment_nbr` lengths; Oracle's Receive page gives no lengths)."""

DOCUMENT_KEYS = (
    ("ib_shipment", "shipment_nbr"),
    ("purchase_order_hdr", "po_nbr"),
    ("iblpn", "container_nbr"),
)
"""What `prefetch` reads by each record's keys."""
LINES = {
    "ib_shipment": ("ib_shipment_dtl", "shipment_id"),
    "purchase_order_hdr": ("purchase_order_dtl", "po_id"),
}
"""Document entity -> (its line entity, the lines' parent key)."""

Contents = dict[str, Decimal]
"""item code -> quantity in one LPN."""


def describe_contents(contents: Contents) -> str:
    """`ITEM-A 5, ITEM-B 2` (or `nothing`), items sorted."""
    if not contents:
        return "nothing"
    return ", ".join(f"{code} {qty.normalize():f}" for code, qty in sorted(contents.items()))


class ReceiveSink(WmsSink):
    """`entity/iblpn/receive`, one request per IBLPN; the IBLPN read back decides."""

    def known_fields(self) -> t.Collection[str] | None:
        return RECEIPT_FIELDS

    def document_key(self, record: dict[str, t.Any]) -> str:
        return f"{record.get('facility_code')}:{record.get('container_nbr')}"

    def write_key(self, item: Pending) -> str:
        return self.document_key(item.record)

    # Validation --------------------------------------------------------------------------

    def process_batch(self, context: dict[str, t.Any]) -> None:
        self.__dict__["_refused"] = {}  # keyed by id(record): one batch's records only
        self.__dict__["_ahead"] = {}  # (facility code, container_nbr) -> contents, `prefetch`
        super().process_batch(context)

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        """One round of parallel reads (`max_parallel_writes` at once), each filtered by the
        records' own keys: the ASNs and purchase orders, each followed by its lines as soon as
        it is found; the IBLPNs the batch names with what they hold (`already_in_wms` then
        reads nothing: only a receipt makes an IBLPN, and none of this batch's is sent before
        it judges them); and, once the facility list says each facility's company, the items.
        Only the items wait for the facility list."""
        keys: dict[tuple[str, str, str], set[str]] = {}
        for record in records:
            code = str(record.get("facility_code") or "")
            for entity, field in DOCUMENT_KEYS:
                if code and record.get(field) not in (None, ""):
                    keys.setdefault((code, entity, field), set()).add(str(record[field]))
        reads: list[t.Callable[[], t.Any]] = [partial(self._items_ahead, records)]
        for (facility_code, entity, field), values in keys.items():
            if entity == "iblpn":
                reads.append(partial(self.lpns, facility_code, sorted(values), keep=True))
            else:
                reads.append(partial(self._documents_ahead, facility_code, entity, field, values))
        run_reads(reads, self.services.max_parallel_writes)

    def _items_ahead(self, records: list[dict[str, t.Any]]) -> None:
        """The items of every company the batch names (its facility's, unless the record
        names one), one `__in` lookup per company."""
        lookups = self.services.lookups
        items: dict[str, set[str]] = {}
        for record in records:
            facility = lookups.facility(str(record.get("facility_code") or ""))
            if facility is None:
                continue
            company = str(record.get("company_code") or facility.company_code)
            for line in list_value(record.get("items")) or []:
                if isinstance(line, dict) and line.get("item_code") is not None:
                    items.setdefault(company, set()).add(str(line["item_code"]))
        run_reads(
            [
                partial(lookups.find, "item", "code", codes, {"company_id__code": c}, "id,barcode")
                for c, codes in items.items()
            ],
            self.services.max_parallel_writes,
        )

    def _documents_ahead(
        self, facility_code: str, entity: str, field: str, values: set[str]
    ) -> None:
        """ASNs (or purchase orders) of a facility by number, then the lines of those found."""
        scope = {"facility_id__code": facility_code}
        fields = "id,status_id" if entity == "ib_shipment" else "id"
        found = self.services.lookups.find(entity, field, sorted(values), scope, fields)
        documents = [(entity, row) for row in found.values() if row is not None]
        run_reads(
            [partial(self._document_items, d) for d in documents],
            self.services.max_parallel_writes,
        )

    def validate(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        reasons: Reasons = {}
        for name in ("facility_code", "container_nbr"):
            if record.get(name) in (None, ""):
                reasons[name] = "required"
        reasons.update(TEXT_CHECKS.check({n: record.get(n) for n in TEXT_CHECKS.properties}))
        asn, po = record.get("shipment_nbr"), record.get("po_nbr")
        if (asn in (None, "")) == (po in (None, "")):
            reasons["shipment_nbr"] = (
                "give exactly one of shipment_nbr (an ASN) or po_nbr (a purchase order)"
            )
        facility = self.services.lookups.record_facility(record, reasons)
        company = str(record.get("company_code") or (facility and facility.company_code) or "")
        document = self._document(record, facility, reasons) if facility else None
        lines = self._items(record, company, document, reasons)
        if reasons or facility is None:
            return reasons, None
        body: dict[str, t.Any] = {
            "facility_id__code": facility.code,
            "company_id__code": company,
            "container_nbr": str(record["container_nbr"]),
        }
        if asn not in (None, ""):
            body["shipment_nbr"] = str(asn)
        else:
            body["po_nbr"] = str(po)
        for field, name in (
            ("dock", "recv_dock_nbr_or_location_barcode"),
            ("trailer_nbr", "trailer_nbr"),
            ("pallet_nbr", "pallet_nbr"),
        ):
            if record.get(field) not in (None, ""):
                body[name] = str(record[field])
        body["item_list"] = lines
        return {}, ("POST", "entity/iblpn/receive", body)

    def _document(
        self, record: dict[str, t.Any], facility: Facility, reasons: Reasons
    ) -> tuple[str, dict[str, t.Any]] | None:
        """("ib_shipment" | "purchase_order_hdr", its row): the ASN or purchase order the record
        names, when it exists in the facility."""
        lookups = self.services.lookups
        scope = {"facility_id__code": facility.code}
        asn = record.get("shipment_nbr")
        if asn not in (None, ""):
            found = lookups.find("ib_shipment", "shipment_nbr", [str(asn)], scope, "id,status_id")
            if found[str(asn)] is None:
                reasons["shipment_nbr"] = f"no ASN '{asn}' in facility {facility.code}"
                return None
            return "ib_shipment", t.cast(dict[str, t.Any], found[str(asn)])
        po = record.get("po_nbr")
        if po not in (None, ""):
            found = lookups.find("purchase_order_hdr", "po_nbr", [str(po)], scope, "id")
            if found[str(po)] is None:
                reasons["po_nbr"] = f"no purchase order '{po}' in facility {facility.code}"
                return None
            return "purchase_order_hdr", t.cast(dict[str, t.Any], found[str(po)])
        return None

    def _document_items(self, document: tuple[str, dict[str, t.Any]]) -> set[str]:
        """Item codes on an ASN's lines (`ib_shipment_dtl`) or a purchase order's
        (`purchase_order_dtl`), read once per document per run."""
        entity, row = document
        lines, parent = LINES[entity]
        cache: dict[tuple[str, int], set[str]] = self.__dict__.setdefault("_line_item_cache", {})
        key = (entity, int(row["id"]))
        if key not in cache:
            rows = self.services.wms.iter_records(
                lines, {parent: str(row["id"]), "fields": "id,item_id"}
            )
            cache[key] = {
                str(r["item_id"]["key"])
                for r in rows
                if isinstance(r.get("item_id"), dict) and r["item_id"].get("key") is not None
            }
        return cache[key]

    def _items(
        self,
        record: dict[str, t.Any],
        company: str,
        document: tuple[str, dict[str, t.Any]] | None,
        reasons: Reasons,
    ) -> list[dict[str, t.Any]]:
        lines = list_value(record.get("items"))
        if lines is None:
            reasons["items"] = "must be an array of {item_code, qty} objects (or its JSON text)"
            return []
        if not lines:
            reasons["items"] = "an LPN is received with at least one item"
            return []
        on_document = self._document_items(document) if document else None
        seen: set[str] = set()
        sent: list[dict[str, t.Any]] = []
        for index, line in enumerate(lines):
            where = f"items[{index}]"
            if not isinstance(line, dict):
                reasons[where] = "must be an object"
                continue
            for name in sorted(set(line) - ITEM_FIELDS):
                reasons[f"{where}.{name}"] = "unknown field (an item line takes item_code, qty)"
            if line.get("qty") is None:
                reasons[f"{where}.qty"] = "required"
            else:
                reasons.update(LINE_CHECKS.check({"qty": line["qty"]}, f"{where}."))
            code = line.get("item_code")
            if code in (None, ""):
                reasons[f"{where}.item_code"] = "required"
                continue
            code = str(code)
            if code in seen:
                reasons[f"{where}.item_code"] = f"item {code} appears twice: give it once"
            seen.add(code)
            if not company:
                continue
            found = self.services.lookups.find(
                "item", "code", [code], {"company_id__code": company}, "id,barcode"
            )[code]
            if found is None:
                reasons[f"{where}.item_code"] = f"no item '{code}' in company {company}"
            elif not found.get("barcode"):
                reasons[f"{where}.item_code"] = (
                    f"item {code} has no barcode, and Oracle's Receive names items by barcode"
                )
            elif on_document is not None and code not in on_document:
                asn = record.get("shipment_nbr")
                what = f"ASN {asn}" if asn else f"purchase order {record.get('po_nbr')}"
                reasons[f"{where}.item_code"] = f"item {code} is not on {what}"
            elif f"{where}.qty" not in reasons:
                qty = as_decimal(line["qty"])
                sent.append({"item_barcode": str(found["barcode"]), "qty": f"{qty}"})
        return sent

    # What the WMS holds --------------------------------------------------------------------

    @staticmethod
    def expected(item: Pending) -> Contents:
        """The record's items and quantities."""
        contents: Contents = {}
        for line in list_value(item.record.get("items")) or []:
            code = str(line["item_code"])
            contents[code] = contents.get(code, Decimal(0)) + Decimal(str(as_decimal(line["qty"])))
        return contents

    def lpns(
        self, facility_code: str, numbers: list[str], *, keep: bool = False, fresh: bool = False
    ) -> dict[str, Contents | None]:
        """container_nbr -> the IBLPN's contents (item code -> quantity, from the inventory rows
        it holds), None where the facility has no IBLPN of that number: the IBLPNs and their
        inventory are read side by side (one round trip, 100 LPNs a request) and joined by the
        container's id. `keep`: remember them for this batch's `already_in_wms`; `fresh`: read
        now, whatever `prefetch` kept (after a receipt was sent)."""
        ahead: dict[tuple[str, str], Contents | None] = self.__dict__.setdefault("_ahead", {})
        if not keep and not fresh and all((facility_code, n) in ahead for n in numbers):
            return {n: ahead.pop((facility_code, n)) for n in numbers}
        with ThreadPoolExecutor(2, thread_name_prefix="iblpn-reads") as pool:
            lookup = pool.submit(
                self.services.lookups.find,
                "iblpn",
                "container_nbr",
                numbers,
                {"facility_id__code": facility_code},
                "id",
                refresh=True,
            )
            inventory = pool.submit(self._inventory_in, facility_code, numbers)
            found, rows = lookup.result(), inventory.result()
        ids = {str(row["id"]): n for n, row in found.items() if row is not None}
        held: dict[str, Contents] = {number: {} for number in ids.values()}
        for inv in rows:
            number = ids.get(str(fk_id(inv.get("container_id"))))
            if number is None:
                continue
            code = str((inv.get("item_id") or {}).get("key"))
            contents = held[number]
            contents[code] = contents.get(code, Decimal(0)) + Decimal(str(inv["curr_qty"]))
        result: dict[str, Contents | None] = {
            n: {c: q for c, q in held[n].items() if q} if n in held else None for n in numbers
        }
        if keep:
            ahead.update(((facility_code, n), c) for n, c in result.items())
        return result

    def _inventory_in(self, facility_code: str, numbers: list[str]) -> list[dict[str, t.Any]]:
        """The inventory rows of the facility's containers with these numbers (a relation
        filter with `__in`, contract M2 and D11; a number with a comma, which cannot travel in
        an `__in` list, alone by equality)."""
        wms, scope = self.services.wms, {"facility_id__code": facility_code}
        fields = {"fields": "id,container_id,item_id,curr_qty"}
        plain = sorted(n for n in set(numbers) if "," not in n)
        asks = [{"container_id__container_nbr__in": chunk} for chunk in chunks(plain)]
        asks += [{"container_id__container_nbr": n} for n in sorted(set(numbers) - set(plain))]
        return [
            row for ask in asks for row in wms.iter_records("inventory", {**scope, **ask, **fields})
        ]

    def _contents(self, item: Pending) -> Contents | None:
        number = str(item.record["container_nbr"])
        return self.lpns(str(item.record["facility_code"]), [number], fresh=True)[number]

    def already_in_wms(self, pending: list[Pending]) -> set[str]:
        """IBLPNs that exist with exactly the record's contents were received before (by an
        earlier run, or before a lost answer); one with other contents is a reject, unsent."""
        by_facility: dict[str, list[Pending]] = {}
        for item in pending:
            by_facility.setdefault(str(item.record["facility_code"]), []).append(item)
        proven: set[str] = set()
        refused: dict[int, Reasons] = self.__dict__.setdefault("_refused", {})
        for facility, items in by_facility.items():
            numbers = sorted({str(i.record["container_nbr"]) for i in items})
            held = self.lpns(facility, numbers)
            for item in items:
                contents = held[str(item.record["container_nbr"])]
                if contents is None:
                    continue
                if contents == self.expected(item):
                    self.logger.info(
                        "iblpn %s in facility %s already holds %s: counted as already applied",
                        item.record["container_nbr"],
                        facility,
                        describe_contents(contents),
                    )
                    proven.add(item.identity)
                else:
                    refused[id(item.record)] = {
                        "container_nbr": (
                            f"iblpn {item.record['container_nbr']} already exists in facility "
                            f"{facility} holding {describe_contents(contents)}, not "
                            f"{describe_contents(self.expected(item))}: not received again"
                        )
                    }
        return proven

    def would_refuse(self, pending: list[Pending]) -> dict[int, Reasons]:
        """IBLPNs found with other contents before sending (`already_in_wms`)."""
        refused: dict[int, Reasons] = self.__dict__.get("_refused", {})
        return {id(p.record): refused[id(p.record)] for p in pending if id(p.record) in refused}

    def was_applied(self, item: Pending) -> bool:
        return self._contents(item) is not None

    def apply(self, item: Pending) -> tuple[str, t.Any]:
        """Send the receipt (what it did is read back with the batch's others: `apply_all`)."""
        method, path, body = item.call
        self.send_with_retries(method, path, body, item)
        return "applied", None

    def apply_all(self, items: list[Pending]) -> t.Iterator[tuple[Pending, str, t.Any]]:
        """Every receipt sent (`max_parallel_writes` at once), then the IBLPNs read back
        together, two reads per facility and 100 LPNs (`lpns`), not one or two per receipt:
        there with the record's contents is applied; absent, or with other contents, a reject
        saying so. A receipt is in the ledger only once read back: a run ended between the
        two finds it before sending (`already_in_wms`)."""
        sent: dict[str, list[Pending]] = {}
        for item, outcome, answer in super().apply_all(items):
            if outcome == "rejected":
                yield item, outcome, answer
            else:
                sent.setdefault(str(item.record["facility_code"]), []).append(item)
        for facility, group in sent.items():
            held = self.lpns(
                facility, sorted({str(i.record["container_nbr"]) for i in group}), fresh=True
            )
            for item in group:
                yield self._settled(item, held[str(item.record["container_nbr"])])

    def _settled(self, item: Pending, contents: Contents | None) -> tuple[Pending, str, t.Any]:
        expected = self.expected(item)
        number = item.record["container_nbr"]
        if contents is None:
            reasons = {"container_nbr": f"the WMS answered, but it holds no iblpn {number}"}
            return item, "rejected", reasons
        if contents != expected:
            held, wanted = describe_contents(contents), describe_contents(expected)
            return item, "rejected", {"items": f"iblpn {number} holds {held}, not {wanted}"}
        return item, "applied", {"container_nbr": number, "contents": describe_contents(contents)}
