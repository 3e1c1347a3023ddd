"""What lets a batch of pick lines go out at one request a line: the allocations of every line
read ahead in one go, and the lines split into chains that touch no WMS row in common.

Reads ahead (`BatchScopes.read`): the allocations the WMS may touch for a Pick or Short are
those of the order's lines of the item from the location (contract L15). Instead of one
`GET entity/allocation/` per line, the batch's orders are read once: `order_dtl` by
`order_id__in` (which order each line belongs to: an allocation names its `order_dtl_id`, not
its order) and `allocation` by `order_dtl_id__in` (100 ids a request, as `lookups.py` chunks
keys); each line's scope is then cut from those rows here. The rows are what the WMS held
before this batch sent anything: the pending marker of each line is built from them (`before`)
plus what the batch's own earlier lines of the same scope were answered to have moved
(`offset`), so no line needs a read of its own before it is sent.

Chains (`chains`): lines that share a scope key (facility, order, item, location: every
allocation belongs to exactly one) or an outbound LPN (`to_container_nbr`, which a Pick fills and
a Close packs) are one chain, written one after another in input order; different chains
touch different allocations and LPNs and go in parallel (`max_parallel_writes`). A Close is in
its LPN's chain, so it is sent only after every earlier pick into that LPN was answered. A
Complete ends the wave's picking, so it is a barrier (`segments`): everything before it is
answered before it is sent, and nothing after it starts before it is answered.
"""

from __future__ import annotations

import typing as t
from decimal import Decimal

from oracle_wms.client import WmsClient
from target_oracle_wms.lookups import CHUNK, fk_id

ALLOCATION_FIELDS = (
    "id,order_dtl_id,item_id,from_location_id,wave_id,alloc_qty,packed_qty,status_id"
)
SCOPE_KEYS = ("facility_id", "order_dtl_id__order_id", "item_id", "from_location_id")
"""The filters of a line's scope without its wave: every allocation has one value of each, so
two lines whose values differ can touch no allocation in common."""


def chunks(values: t.Sequence[str]) -> t.Iterator[str]:
    for start in range(0, len(values), CHUNK):
        yield ",".join(values[start : start + CHUNK])


class BatchScopes:
    """The allocations of a batch's orders, read once before anything is sent."""

    def __init__(self) -> None:
        self.order_of_line: dict[int, int] = {}
        """order_dtl id -> order_hdr id."""
        self.rows: dict[int, list[dict[str, t.Any]]] = {}
        """order_hdr id -> its allocations (every status), by id."""

    def read(self, wms: WmsClient, facility_id: int, order_ids: t.Collection[int]) -> None:
        """`order_dtl` of the orders, then their allocations: two reads (a chunk of 100 each)
        for the whole batch."""
        wanted = sorted({str(i) for i in order_ids} - {str(i) for i in self.rows})
        if not wanted:
            return
        lines: list[str] = []
        for chunk in chunks(wanted):
            params = {"order_id__in": chunk, "fields": "id,order_id", "ordering": "id"}
            for row in wms.iter_records("order_dtl", params):
                order = fk_id(row.get("order_id"))
                if order is not None:
                    self.order_of_line[int(row["id"])] = order
                    lines.append(str(row["id"]))
        self.read_allocations(wms, facility_id, lines, [int(w) for w in wanted])

    def read_allocations(
        self, wms: WmsClient, facility_id: int, lines: list[str], orders: t.Iterable[int]
    ) -> None:
        """The allocations of these order lines (`order_dtl_id__in`), filed by order."""
        for order_id in orders:
            self.rows.setdefault(order_id, [])
        for chunk in chunks(lines):
            params = {
                "facility_id": str(facility_id),
                "order_dtl_id__in": chunk,
                "fields": ALLOCATION_FIELDS,
                "ordering": "id",
            }
            for row in wms.iter_records("allocation", params):
                order = self.order_of_line.get(fk_id(row.get("order_dtl_id")) or -1)
                if order is not None:
                    self.rows[order].append(row)

    def shortfalls(
        self,
        wms: WmsClient,
        facility_id: int,
        expected: dict[tuple[tuple[str, ...], str], Decimal],
    ) -> list[tuple[dict[str, str], Decimal]]:
        """Scopes of this facility that moved less than `expected` ((scope key, field) -> the
        qty its lines were answered to have moved) since this read: the allocations read again
        in one go (the lines' orders already known)."""
        touched = [k for k in expected if k[0][0] == str(facility_id)]
        if not touched:
            return []
        after = BatchScopes()
        after.order_of_line = self.order_of_line
        orders = {int(key[1]) for key, _ in touched}
        lines = [str(line) for line, order in self.order_of_line.items() if order in orders]
        after.read_allocations(wms, facility_id, lines, orders)
        short = []
        for key, field in touched:
            wide = dict(zip(SCOPE_KEYS, key, strict=True))
            was = {str(r["id"]): row_qty(r, field) for r in self.cut(wide)}
            now = {str(r["id"]): row_qty(r, field) for r in after.cut(wide)}
            if moved(was, now, field) < expected[(key, field)]:
                short.append((wide, expected[(key, field)]))
        return short

    def known(self, scope: dict[str, str]) -> bool:
        return int(scope["order_dtl_id__order_id"]) in self.rows

    def cut(self, scope: dict[str, str]) -> list[dict[str, t.Any]]:
        """The rows of one line's scope (its filters, as `GET entity/allocation/` takes them)."""
        rows = self.rows.get(int(scope["order_dtl_id__order_id"]), [])
        wanted = {
            name: int(value)
            for name, value in scope.items()
            if name in ("item_id", "from_location_id", "wave_id")
        }
        return [r for r in rows if all(fk_id(r.get(n)) == v for n, v in wanted.items())]


def row_qty(row: dict[str, t.Any], name: str) -> Decimal:
    return Decimal(str(row.get(name) or 0))


def scope_key(scope: dict[str, str]) -> tuple[str, ...]:
    return tuple(str(scope.get(name)) for name in SCOPE_KEYS)


def chains(records: list[dict[str, t.Any]], scopes: list[dict[str, str] | None]) -> list[int]:
    """A chain number for each record: records sharing a scope key or an LPN are one chain
    (union-find), each chain numbered by its first record."""
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[str, ...], int] = {}
    for index, (record, scope) in enumerate(zip(records, scopes, strict=True)):
        keys: list[tuple[str, ...]] = [] if scope is None else [("scope", *scope_key(scope))]
        lpn = record.get("to_container_nbr")
        if lpn not in (None, "") and record.get("action_code") in ("Pick", "Close"):
            keys.append(("lpn", str(record.get("facility_code")), str(lpn)))
        if not keys:  # nothing known to tell its rows apart: in its facility's chain
            keys.append(("facility", str(record.get("facility_code"))))
        for key in keys:
            if key in first:
                parent[root(index)] = root(first[key])
            else:
                first[key] = index
    return [root(i) for i in range(len(records))]


def segments(records: list[dict[str, t.Any]]) -> list[tuple[int, int]]:
    """(start, end) index ranges: each Complete alone, the lines between them together."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for index, record in enumerate(records):
        if record.get("action_code") == "Complete":
            if start < index:
                bounds.append((start, index))
            bounds.append((index, index + 1))
            start = index + 1
    if start < len(records):
        bounds.append((start, len(records)))
    return bounds


def moved(before: dict[str, Decimal], now: dict[str, Decimal], field: str) -> Decimal:
    """How far a scope moved from `before` to `now`: a Pick raises `packed_qty` (an allocation
    new since `before` counts from 0), a Short lowers `alloc_qty` (one gone counts as 0)."""
    if field == "packed_qty":
        return sum((q - before.get(k, Decimal(0)) for k, q in now.items()), Decimal(0))
    return sum((q - now.get(k, Decimal(0)) for k, q in before.items()), Decimal(0))
