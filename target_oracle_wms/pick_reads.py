"""The reads a batch of pick lines needs before anything is sent, as one round of parallel
requests (`picks.PickConfirmSink.prefetch`): each entity's keys in one `__in` lookup, the LPNs
of the Closes (fresh), and the allocations of every order named (`pick_chains.BatchScopes`).
Each read is independent of the others: they filter by the records' own keys (order numbers,
codes, barcodes), never by an id another of them returns.
"""

from __future__ import annotations

import typing as t
from functools import partial

from target_oracle_wms.lookups import Facility
from target_oracle_wms.pick_chains import BatchScopes
from target_oracle_wms.services import WriteServices


def reads_ahead(
    services: WriteServices,
    facility: Facility,
    group: list[dict[str, t.Any]],
    batch: BatchScopes,
    lpns_read: set[tuple[str, str]],
) -> list[t.Callable[[], t.Any]]:
    """The independent reads of one facility's pick lines; the LPNs of its Closes, once read,
    go into `lpns_read` (facility code, LPN)."""
    find = services.lookups.find

    def values(name: str, rows: list[dict[str, t.Any]] = group, **only: str) -> list[str]:
        chosen = [r for r in rows if all(r.get(k) == v for k, v in only.items())]
        return sorted({str(r[name]) for r in chosen if r.get(name) not in (None, "")})

    scope = {"facility_id__code": facility.code}
    wanted = [
        (
            "wave",
            "run_nbr",
            values("wave_nbr"),
            {"facility_id": str(facility.id)},
            "id,status_id",
        ),
        ("order_hdr", "order_nbr", values("order_nbr"), scope, "id"),
        ("location", "barcode", values("pick_location"), scope, "id"),
    ]
    companies: dict[str, list[dict[str, t.Any]]] = {}
    for record in group:
        company = str(record.get("company_code") or facility.company_code)
        companies.setdefault(company, []).append(record)
    wanted += [
        ("item", "code", values("item_code", rows), {"company_id__code": c}, "id,barcode")
        for c, rows in sorted(companies.items())
    ]
    reads: list[t.Callable[[], t.Any]] = [
        partial(find, entity, key, keys, filters, fields)
        for entity, key, keys, filters, fields in wanted
        if keys
    ]
    closes = values("to_container_nbr", action_code="Close")
    if closes:  # read fresh: only a Close packs an LPN (`already_in_wms`)

        def read_lpns(numbers: list[str] = closes) -> None:
            find("oblpn", "container_nbr", numbers, scope, "id,status_id", refresh=True)
            lpns_read.update((facility.code, n) for n in numbers)

        reads.append(read_lpns)
    numbers = [n for n in values("order_nbr") if "," not in n]  # a comma: not in an __in
    if numbers:
        wms = services.wms
        reads += [
            partial(batch.read_lines, wms, numbers),
            partial(batch.read_allocations, wms, numbers),
        ]
    return reads
