"""Outbound LPN shipping: `POST entity/oblpn/bulk_ship/` for many LPNs at once, found by
facility code and `container_nbr`; an LPN already shipped is a no-op (docs/write-api.md)."""

from __future__ import annotations

import json
import typing as t

from target_oracle_wms.base import Call, Pending, RecordRejectedError, WmsSink
from target_oracle_wms.validation import Reasons


class OblpnShipSink(WmsSink):
    """`POST entity/oblpn/{id}/ship/`; an LPN the WMS reports as already shipped is a no-op."""

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        by_facility: dict[str, set[str]] = {}
        for record in records:
            by_facility.setdefault(str(record.get("facility_code")), set()).add(
                str(record.get("container_nbr"))
            )
        for facility, values in by_facility.items():
            self.services.lookups.find(
                "oblpn", "container_nbr", values, {"facility_id__code": facility}
            )

    def document_key(self, record: dict[str, t.Any]) -> str:
        return f"{record.get('facility_code')}:{record.get('container_nbr')}"

    def validate(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        reasons: Reasons = {}
        for name in ("facility_code", "container_nbr"):
            if record.get(name) in (None, ""):
                reasons[name] = "required"
        if reasons:
            return reasons, None
        facility, lpn = str(record["facility_code"]), str(record["container_nbr"])
        row = self.services.lookups.find(
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
