"""What lets a batch of pick lines go out at one request a line: the allocations of every line
read ahead in one go, and the lines split into chains that touch no WMS row in common.

Reads ahead (`BatchScopes`): the allocations the WMS may touch for a Pick or Short are those
of the order's lines of the item from the location (contract L15). Instead of one
`GET entity/allocation/` per line, the batch's orders are read once: `order_dtl` by
`order_id__order_nbr__in` (which order each line belongs to: an allocation names its
`order_dtl_id`, not its order) and `allocation` by `order_dtl_id__order_id__order_nbr__in` (100
numbers a request, as `lookups.py` chunks keys; relation filters with a lookup, contract D11),
both at once and beside the batch's key lookups; each line's scope is then cut from those rows
here. The rows are what the WMS held
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
    """The allocations of a batch's orders in one facility, read before anything is sent:
    `read_lines` and `read_allocations` are independent (both filter by the orders' numbers),
    so they go out in parallel with the batch's key lookups; `file` then sorts the rows by
    order once the order numbers' ids are known."""

    def __init__(self, facility_id: int) -> None:
        self.facility_id = facility_id
        self.order_of_line: dict[int, int] = {}
        """order_dtl id -> order_hdr id."""
        self.rows: dict[int, list[dict[str, t.Any]]] = {}
        """order_hdr id -> its allocations (every status), by id."""
        self._unfiled: list[dict[str, t.Any]] = []
        self.numbers: list[str] = []
        """The order numbers whose lines and allocations were both read in full."""
        self._done: set[str] = set()

    def read_lines(self, wms: WmsClient, numbers: t.Sequence[str]) -> None:
        """Which order each line of these orders belongs to (an allocation names its
        `order_dtl_id`, not its order): `order_dtl` by `order_id__order_nbr__in`."""
        for chunk in chunks(numbers):
            params = {
                "order_id__facility_id": str(self.facility_id),
                "order_id__order_nbr__in": chunk,
                "fields": "id,order_id",
                "ordering": "id",
            }
            for row in wms.iter_records("order_dtl", params):
                order = fk_id(row.get("order_id"))
                if order is not None:
                    self.order_of_line[int(row["id"])] = order
        self._read("lines", numbers)

    def read_allocations(
        self, wms: WmsClient, numbers: t.Sequence[str], by: str = "order_nbr"
    ) -> None:
        """Every allocation of these orders (`numbers`: order numbers, or ids with `by` "id"),
        every status, in one read a chunk of 100."""
        for chunk in chunks(numbers):
            params = {
                "facility_id": str(self.facility_id),
                f"order_dtl_id__order_id__{by}__in": chunk,
                "fields": ALLOCATION_FIELDS,
                "ordering": "id",
            }
            self._unfiled.extend(wms.iter_records("allocation", params))
        self._read("allocations", numbers)

    def _read(self, what: str, numbers: t.Sequence[str]) -> None:
        """Both reads of `numbers` done (a read that raised never gets here): they count."""
        self._done.add(what)
        if self._done >= {"lines", "allocations"}:
            self.numbers = list(numbers)

    def file(self, order_ids: t.Iterable[int]) -> None:
        """Sort the rows read by order (`order_ids`: the ids of `numbers`, orders read in full,
        with or without allocations)."""
        for order_id in order_ids:
            self.rows.setdefault(order_id, [])
        for row in self._unfiled:
            order = self.order_of_line.get(fk_id(row.get("order_dtl_id")) or -1)
            if order in self.rows:
                self.rows[order].append(row)
        self._unfiled = []

    def shortfalls(
        self, wms: WmsClient, expected: dict[tuple[tuple[str, ...], str], Decimal]
    ) -> list[tuple[dict[str, str], Decimal]]:
        """Scopes of this facility that moved less than `expected` ((scope key, field) -> the
        qty its lines were answered to have moved) since this read: the orders' allocations
        read again in one go (which order each line belongs to is known already)."""
        touched = [k for k in expected if k[0][0] == str(self.facility_id)]
        if not touched:
            return []
        after = BatchScopes(self.facility_id)
        after.order_of_line = self.order_of_line
        orders = sorted({int(key[1]) for key, _ in touched})
        after.read_allocations(wms, [str(o) for o in orders], by="id")
        after.file(orders)
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
