"""Outbound LPN shipping: `POST entity/oblpn/bulk_ship/`, as Oracle documents it ("Bulk
Operations", "Bulk Ship OBLPN", "Ship OBLPN"; docs/write-api.md):

- `parameters.id__in` and `options` (`locn_barcode`, required: the record's, else the
  `ship_location_barcode` setting; `commit_frequency` 1: each LPN commits on its own);
- at most the user's "Rows per Page" LPNs per request (`bulk_max_objects`, lowered to the page
  size the WMS actually serves this user);
- only Packed or Loaded LPNs ship: the status is checked before sending.

Oracle documents neither the bulk answer body nor the "already shipped" message, so the sink
reads neither: each LPN's outcome is its status, re-read through the entity GET before the
request (Shipped: already applied) and after it (Shipped: applied; else rejected).
"""

from __future__ import annotations

import contextlib
import json
import typing as t
from functools import partial

from oracle_wms.errors import WmsConfigError, WmsNotFoundError
from target_oracle_wms.base import Call, Pending, RecordRejectedError, WmsSink
from target_oracle_wms.lookups import run_reads
from target_oracle_wms.validation import Reasons

SHIPPABLE = ("PACKED", "LOADED")
SHIPPED = "SHIPPED"
LOOKUP_CHUNK = 100


class OblpnShipSink(WmsSink):
    """Ships LPNs found by facility code and `container_nbr`, many per `bulk_ship` request."""

    def ahead(self) -> list[t.Callable[[], t.Any]]:
        """The container statuses and the user's page size (LPNs are found by facility code:
        no facility list)."""
        return [partial(self.services.lookups.status_words, "container_status"), self.bulk_limit]

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        """One round of parallel reads (`max_parallel_writes` at once): the batch's LPNs with
        their status, fresh (validation and `already_in_wms` judge by it), the container
        statuses and the user's page size (`bulk_limit`), each once per run."""
        by_facility: dict[str, set[str]] = {}
        for record in records:
            by_facility.setdefault(str(record.get("facility_code")), set()).add(
                str(record.get("container_nbr"))
            )
        lookups = self.services.lookups
        reads: list[t.Callable[[], t.Any]] = [
            partial(
                lookups.find,
                "oblpn",
                "container_nbr",
                sorted(values),
                {"facility_id__code": facility},
                "id,status_id",
                refresh=True,
            )
            for facility, values in by_facility.items()
        ]
        self.__dict__["_read_ahead"] = set()

        def statuses() -> None:
            with contextlib.suppress(WmsNotFoundError):  # validation says it, in one line
                lookups.status_words("container_status")

        run_reads([*reads, statuses, self.bulk_limit], self.services.max_parallel_writes)
        self.__dict__["_read_ahead"] = set(by_facility)  # facilities whose LPNs were read

    def statuses(self) -> dict[int, str]:
        """container_status id -> word (`PACKED`, `SHIPPED`, ...), read once per run.

        Raises:
            WmsConfigError: the WMS serves no Packed, Loaded and Shipped statuses, without
                which the sink cannot tell a shippable or shipped LPN.
        """
        found = self.services.lookups.status_words("container_status")
        missing = {*SHIPPABLE, SHIPPED} - set(found.values())
        if missing:
            raise WmsConfigError(
                "stream_actions",
                "oblpn shipping decides each LPN's outcome by its status, but the WMS's "
                f"container_status list has no {', '.join(sorted(missing))} (by code or "
                "description)",
            )
        return found

    def document_key(self, record: dict[str, t.Any]) -> str:
        return f"{record.get('facility_code')}:{record.get('container_nbr')}"

    def known_fields(self) -> t.Collection[str] | None:
        return ("facility_code", "container_nbr", "locn_barcode")

    def validate(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        reasons: Reasons = {}
        for name in ("facility_code", "container_nbr"):
            if record.get(name) in (None, ""):
                reasons[name] = "required"
        barcode = record.get("locn_barcode") or self.services.ship_location_barcode
        if not barcode:
            reasons["locn_barcode"] = (
                "required: Oracle's Ship OBLPN needs the final shipping location's barcode "
                "(give locn_barcode in the record or set ship_location_barcode)"
            )
        if reasons:
            return reasons, None
        facility, lpn = str(record["facility_code"]), str(record["container_nbr"])
        row = self.services.lookups.find(
            "oblpn", "container_nbr", [lpn], {"facility_id__code": facility}, "id,status_id"
        )[lpn]
        if row is None:
            return {"container_nbr": f"no oblpn '{lpn}' in facility {facility}"}, None
        self.statuses()  # raises when the WMS lacks a status word this sink needs
        word = self.services.lookups.status_of("container_status", row.get("status_id"))
        if word not in (*SHIPPABLE, SHIPPED):
            reason = f"LPN {lpn} is {word}: only Packed or Loaded LPNs can be shipped"
            return {"status_id": reason}, None
        options = {"locn_barcode": str(barcode)}
        return {}, ("POST", f"entity/oblpn/{row['id']}/ship/", {"options": options})

    def _shipped(self, ids: list[int]) -> dict[int, bool]:
        """LPN id -> whether its status is Shipped now (through `GET entity/oblpn/`)."""
        self.statuses()  # raises when the WMS lacks a status word this sink needs
        found: dict[int, bool] = {}
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            params = {"id__in": ",".join(map(str, chunk)), "fields": "id,status_id"}
            for row in self.services.wms.iter_records("oblpn", params):
                word = self.services.lookups.status_of("container_status", row.get("status_id"))
                found[int(row["id"])] = word == SHIPPED
        return found

    @staticmethod
    def _lpn_id(item: Pending) -> int:
        return int(item.call[1].split("/")[2])

    def already_in_wms(self, pending: list[Pending]) -> set[str]:
        """LPNs already Shipped (by an earlier run, or by hand) are not sent again: judged by
        the status `prefetch` read for this batch (only a ship makes an LPN Shipped, and none
        of this batch's is sent before this), else read here."""
        ahead = self.__dict__.get("_read_ahead", set())
        lookups = self.services.lookups
        shipped: set[str] = set()
        unread: list[Pending] = []
        for item in pending:
            facility, lpn = str(item.record["facility_code"]), str(item.record["container_nbr"])
            if facility not in ahead:
                unread.append(item)
                continue
            row = lookups.find(
                "oblpn", "container_nbr", [lpn], {"facility_id__code": facility}, "id,status_id"
            )[lpn]
            word = lookups.status_of("container_status", (row or {}).get("status_id"))
            if row is not None and int(row["id"]) == self._lpn_id(item) and word == SHIPPED:
                shipped.add(item.identity)
        if unread:
            found = self._shipped([self._lpn_id(item) for item in unread])
            shipped.update(item.identity for item in unread if found.get(self._lpn_id(item)))
        return shipped

    def was_applied(self, item: Pending) -> bool:
        return bool(self._shipped([self._lpn_id(item)]).get(self._lpn_id(item)))

    def bulk_limit(self) -> int:
        """LPNs per request: `bulk_max_objects`, lowered to the user's Rows per Page, which
        Oracle documents as the default page size of a list (read once from one list page)."""
        return self.services.lookups.once(("bulk_limit",), self._read_bulk_limit)

    def _read_bulk_limit(self) -> int:
        limit = self.services.bulk_max_objects
        try:
            response = self.services.wms.get(
                "entity/oblpn/", {"fields": "id", "page_mode": "paged"}, entity="oblpn"
            )
            page = response.json() if response.content else {}
        except WmsNotFoundError:  # no LPN visible: nothing to ship, keep the setting
            page = {}
        served = len(page.get("results") or []) if isinstance(page, dict) else 0
        return min(limit, served) if served else limit

    def apply_all(self, items: list[Pending]) -> t.Iterator[tuple[Pending, str, t.Any]]:
        """One `bulk_ship` request per `bulk_limit()` LPNs sharing the same options; then each
        LPN's outcome from its status (Shipped: applied; else rejected, with the WMS's message
        for it when the answer names one)."""
        groups: dict[str, list[Pending]] = {}
        for item in items:
            groups.setdefault(json.dumps(item.call[2]["options"], sort_keys=True), []).append(item)
        limit = self.bulk_limit() if items else 0
        for options, group in groups.items():
            for start in range(0, len(group), limit):
                chunk = group[start : start + limit]
                yield from self._ship(chunk, json.loads(options))

    def _ship(
        self, chunk: list[Pending], options: dict[str, t.Any]
    ) -> t.Iterator[tuple[Pending, str, t.Any]]:
        by_id = {self._lpn_id(item): item for item in chunk}
        body = {
            "parameters": {"id__in": sorted(by_id)},
            "options": {**options, "commit_frequency": 1},
        }
        hints: dict[str, str] = {}
        refused = False
        try:
            answer = self.send_with_retries("POST", "entity/oblpn/bulk_ship/", body, chunk[0])
            details = answer.get("details") if isinstance(answer, dict) else None
            if isinstance(details, dict):  # undocumented: used only to word a reject
                hints = {str(k): str(v) for k, v in details.items()}
        except RecordRejectedError as exc:
            hints = {str(ident): json.dumps(exc.reasons) for ident in by_id}
            refused = True
        shipped = self._shipped(sorted(by_id))
        if refused and len(chunk) > 1:
            # A 400 for the whole request may be one LPN's: each unshipped one goes alone, so
            # only the refused LPN is rejected (its status, re-read first, keeps it exactly once).
            self.logger.warning(
                "bulk_ship of %d LPNs refused (%s); sending the unshipped ones one by one",
                len(chunk),
                next(iter(hints.values()), ""),
            )
            for ident, item in by_id.items():
                if shipped.get(ident):
                    yield item, "applied", {"bulk_ship": "shipped"}
                else:
                    yield from self._ship([item], options)
            return
        for ident, item in by_id.items():
            if shipped.get(ident):
                yield item, "applied", {"bulk_ship": "shipped"}
                continue
            why = hints.get(str(ident), "the WMS answered, but the LPN's status is not Shipped")
            yield item, "rejected", {"container_nbr": f"not shipped: {why}"}
