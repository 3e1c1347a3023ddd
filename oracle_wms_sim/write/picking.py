"""The `pick_pack` module: `pick_confirm/` (Pick, Short, and the older codes Close and
Complete), `close_lpn/` and `wave_complete/` (docs/api-contract.md L10-L14).

What each request takes is `pick_requests.py`'s. `async_flg` (default true): the request's
structure is checked, 202 with no body, and its picks are applied `FlowSettings.pick_delay`
seconds later on the `Jobs` worker (a refusal then lands in `Jobs.failures`, unreported); false:
applied before answering, 204 with no body, or 400. Several picks in one payload (REST 25C):
a first pick refused stops the rest; a later one refused leaves the others applied, and the 400
names the first refusal only.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from ..data.records import quantity
from ..data.store import Store
from ..data.users import User
from ..responses import Response
from . import fulfilment as ff
from .jobs import FlowSettings, Jobs
from .pick_requests import (
    PickPayload,
    PickRequest,
    merged,
    parse_close,
    parse_complete,
    parse_confirm,
)
from .validation import rejected
from .variant import Undocumented

LPN_PICKED = 50
LPN_PACKED = 60


class Picking:
    """The pick_confirm route of one simulator."""

    def __init__(
        self, store: Store, jobs: Jobs, settings: FlowSettings, undocumented: Undocumented
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.settings = settings
        self.undocumented = undocumented

    def handle(
        self, operation: str, body: dict[str, Any], query: dict[str, str], user: User
    ) -> Response:
        """`operation`: `pick_confirm`, `close_lpn` or `wave_complete`."""
        source = merged(body, query)
        with self.store.transaction() as conn:
            if operation == "close_lpn":
                payload = parse_close(conn, source, user)
            elif operation == "wave_complete":
                payload = parse_complete(conn, source, user)
            else:
                legacy = self.undocumented.legacy_action_codes
                payload = parse_confirm(conn, source, user, legacy)
            refusal = None if payload.asynchronous else self.apply_all(conn, payload, user)
        if refusal is not None:
            raise refusal  # after the commit of the picks before it
        if not payload.asynchronous:
            return Response(204)

        def later() -> None:
            with self.store.transaction() as conn:
                failed = self.apply_all(conn, payload, user)
            if failed is not None:
                raise failed

        first = payload.picks[0]
        label = f"{operation} {first.action} {first.fields.get('order_nbr') or ''}".strip()
        self.jobs.submit(lambda: self.settings.pick_delay, later, label)
        return Response(202)

    def apply_all(
        self, conn: sqlite3.Connection, payload: PickPayload, user: User
    ) -> Exception | None:
        """Each pick in its own savepoint: the first refused stops the payload (raised); a
        later one refused is skipped, and the first such refusal is returned for the caller to
        raise once the others are committed."""
        refusal: Exception | None = None
        for n, request in enumerate(payload.picks):
            conn.execute("SAVEPOINT pick")
            try:
                self.apply(conn, request, user)
            except Exception as exc:
                conn.execute("ROLLBACK TO pick")
                conn.execute("RELEASE pick")
                if n == 0:
                    raise
                refusal = refusal or exc
                continue
            conn.execute("RELEASE pick")
        return refusal

    def apply(self, conn: sqlite3.Connection, request: PickRequest, user: User) -> None:
        """Apply one checked request in the caller's transaction (400 on a refusal)."""
        if request.action == "Close":
            self._close(conn, request, user)
        elif request.action == "Complete":
            self._complete(conn, request)
        else:
            self._pick(conn, request, user)

    # ---- Pick and Short --------------------------------------------------------------------
    def _pick(self, conn: sqlite3.Connection, request: PickRequest, user: User) -> None:
        fields, fac = request.fields, request.facility
        qty = request.qty
        assert qty is not None
        order = conn.execute(
            "SELECT id, company_id, order_nbr FROM order_hdr "
            "WHERE order_nbr = ? AND facility_id = ?",
            (fields["order_nbr"], fac),
        ).fetchone()
        if order is None:
            raise _refused("order_nbr", f"No order '{fields['order_nbr']}' in the facility.")
        if request.company is not None and request.company != int(order[1]):
            raise _refused("company_id", "is not the order's company")
        item = self._item(conn, fields, int(order[1]))
        location = conn.execute(
            "SELECT id FROM location WHERE barcode = ? AND facility_id = ?",
            (fields["pick_location"], fac),
        ).fetchone()
        if location is None:
            raise _refused(
                "pick_location", f"No location '{fields['pick_location']}' in the facility."
            )
        allocs = self._open_allocations(
            conn, fields, int(order[0]), item=item, location=int(location[0]), fac=fac
        )
        open_total = sum((quantity(a) - quantity(p) for _, a, p, _, _ in allocs), Decimal(0))
        if qty > open_total:
            raise _refused(
                "qty",
                f"{qty:.3f} is more than the open allocated quantity ({open_total:.3f}) of the "
                "order, item and location",
            )
        if request.action == "Short":
            self._short(conn, allocs, qty, int(order[0]), user)
            return
        lpn_nbr = fields["to_container_nbr"]
        lpn = self._outbound_lpn(
            conn, lpn_nbr, order=int(order[0]), company=int(order[1]), fac=fac, user=user
        )
        on_hand = self._take_inventory(conn, int(location[0]), item, qty, user)
        left = qty
        for ident, allocated, packed, task, _ in allocs:
            if left <= 0:
                break
            take = min(left, quantity(allocated) - quantity(packed))
            done = quantity(packed) + take
            full = done >= quantity(allocated)
            ff.touch(
                self.store,
                conn,
                "allocation",
                ident,
                user,
                packed_qty=float(done),
                status_id=ff.ALLOC_PICKED if full else ff.ALLOC_IN_PICKING,
                to_container_id=lpn,
            )
            if full and task is not None:
                ff.touch(self.store, conn, "task", int(task), user, status_id=ff.TASK_COMPLETED)
            left -= take
        ff.history(
            self.store,
            conn,
            user,
            facility=fac,
            activity=ff.PICK,
            item_id=item,
            container_nbr=lpn_nbr,
            adj_qty=-qty,
            orig_qty=on_hand,
            ref=str(order[2]),
        )
        ff.refresh_order(self.store, conn, int(order[0]), user)

    def _item(self, conn: sqlite3.Connection, fields: dict[str, Any], company: int) -> int:
        if fields.get("item_barcode"):
            value = fields["item_barcode"]
            columns = (
                ("barcode", "code") if self.undocumented.item_code_as_barcode else ("barcode",)
            )
            for column in columns:
                row = conn.execute(
                    f"SELECT id FROM item WHERE {column} = ? AND company_id = ? ORDER BY id",
                    (value, company),
                ).fetchone()
                if row is not None:
                    return int(row[0])
            raise _refused("item_barcode", f"No item '{value}' in the order's company.")
        value = fields["item_alternate_code"]
        if value.startswith("ALT") and value[3:].isdigit():
            row = conn.execute(
                "SELECT id FROM item WHERE id = ? AND company_id = ?", (int(value[3:]), company)
            ).fetchone()
            if row is not None:
                return int(row[0])
        raise _refused("item_alternate_code", f"No item '{value}' in the order's company.")

    def _open_allocations(
        self,
        conn: sqlite3.Connection,
        fields: dict[str, Any],
        order: int,
        *,
        item: int,
        location: int,
        fac: int,
    ) -> list[tuple[int, float, float, int | None, int]]:
        """(id, alloc_qty, packed_qty, task_id, order_dtl_id) of the open allocations of the
        order's lines for the item from the location (of `wave_nbr`'s wave when given)."""
        wave_sql, args = "", [order, item, location, *ff.ALLOC_OPEN]
        if fields.get("wave_nbr"):
            wave = conn.execute(
                "SELECT id FROM wave WHERE run_nbr = ? AND facility_id = ?",
                (fields["wave_nbr"], fac),
            ).fetchone()
            if wave is None:
                raise _refused("wave_nbr", f"No wave '{fields['wave_nbr']}' in the facility.")
            wave_sql = " AND a.wave_id = ?"
            args.append(int(wave[0]))
        rows = conn.execute(
            "SELECT a.id, a.alloc_qty, a.packed_qty, a.task_id, a.order_dtl_id FROM allocation a "
            "JOIN order_dtl d ON d.id = a.order_dtl_id WHERE d.order_id = ? AND a.item_id = ? "
            f"AND a.from_location_id = ? AND a.status_id IN (?, ?){wave_sql} ORDER BY a.id",
            args,
        ).fetchall()
        if not rows:
            raise _refused(
                "order_nbr",
                f"No open allocation of order '{fields['order_nbr']}' for this item and location.",
            )
        return [(int(r[0]), r[1], r[2], r[3], int(r[4])) for r in rows]

    def _outbound_lpn(
        self, conn: sqlite3.Connection, nbr: str, *, order: int, company: int, fac: int, user: User
    ) -> int:
        """The OBLPN picked into: created Picked when new; an existing one must be an open
        (Picked) LPN of the same order."""
        if conn.execute(
            "SELECT 1 FROM iblpn WHERE container_nbr = ? AND facility_id = ?", (nbr, fac)
        ).fetchone():
            raise _refused("to_container_nbr", f"'{nbr}' is an inbound LPN.")
        row = conn.execute(
            "SELECT id, order_id, status_id FROM oblpn WHERE container_nbr = ? AND facility_id = ?",
            (nbr, fac),
        ).fetchone()
        if row is not None:
            if int(row[1]) != order or int(row[2]) != LPN_PICKED:
                raise _refused("to_container_nbr", f"LPN '{nbr}' is not an open LPN of this order.")
            return int(row[0])
        return ff.insert(
            self.store,
            conn,
            "oblpn",
            user,
            {
                "company_id": company,
                "facility_id": fac,
                "container_nbr": nbr,
                "status_id": LPN_PICKED,
                "order_id": order,
                "location_id": None,
                "weight": 0.0,
                "volume": 0.0,
                "tracking_nbr": None,
                "cust_field_1": None,
                "_fac": fac,
                "_co": company,
            },
        )

    def _take_inventory(
        self, conn: sqlite3.Connection, location: int, item: int, qty: Decimal, user: User
    ) -> Decimal:
        """Lower the location's container-less inventory of the item by `qty` (rows by id);
        the quantity on hand before."""
        rows = conn.execute(
            "SELECT id, curr_qty FROM inventory WHERE location_id = ? AND item_id = ? "
            "AND container_id IS NULL ORDER BY id",
            (location, item),
        ).fetchall()
        on_hand = sum((quantity(q) for _, q in rows), Decimal(0))
        if on_hand < qty:
            raise _refused("qty", f"only {on_hand:.3f} on hand in the location")
        left = qty
        for ident, current in rows:
            if left <= 0:
                break
            take = min(left, quantity(current))
            if take > 0:
                ff.touch(
                    self.store, conn, "inventory", int(ident), user,
                    curr_qty=float(quantity(current) - take),
                )  # fmt: skip
                left -= take
        return on_hand

    def _short(
        self,
        conn: sqlite3.Connection,
        allocs: list[tuple[int, float, float, int | None, int]],
        qty: Decimal,
        order: int,
        user: User,
    ) -> None:
        left = qty
        for ident, allocated, packed, task, line in allocs:
            if left <= 0:
                break
            cut = min(left, quantity(allocated) - quantity(packed))
            remaining = quantity(allocated) - cut
            done = remaining <= quantity(packed)
            status = ff.ALLOC_IN_PICKING if not done else ff.ALLOC_CANCELLED
            if done and quantity(packed) > 0:
                status = ff.ALLOC_PICKED
            ff.touch(
                self.store, conn, "allocation", ident, user,
                alloc_qty=float(remaining), status_id=status,
            )  # fmt: skip
            if done and task is not None:
                task_status = ff.TASK_COMPLETED if quantity(packed) > 0 else ff.TASK_CANCELLED
                ff.touch(self.store, conn, "task", int(task), user, status_id=task_status)
            line_qty = conn.execute(
                "SELECT alloc_qty FROM order_dtl WHERE id = ?", (line,)
            ).fetchone()[0]
            ff.touch(
                self.store, conn, "order_dtl", line, user,
                alloc_qty=float(max(Decimal(0), quantity(line_qty) - cut)),
            )  # fmt: skip
            left -= cut
        ff.refresh_order(self.store, conn, order, user)

    # ---- Close and Complete ------------------------------------------------------------------
    def _close(self, conn: sqlite3.Connection, request: PickRequest, user: User) -> None:
        nbr = request.fields["to_container_nbr"]
        row = conn.execute(
            "SELECT id, status_id, order_id FROM oblpn WHERE container_nbr = ? AND facility_id = ?",
            (nbr, request.facility),
        ).fetchone()
        if row is None:
            raise _refused("to_container_nbr", f"No outbound LPN '{nbr}' in the facility.")
        if int(row[1]) != LPN_PICKED:
            raise _refused("to_container_nbr", f"LPN '{nbr}' is not Picked.")
        lpn = int(row[0])
        if request.flags.get("short_on_close_flg"):
            self._short_rest(conn, lpn, int(row[2]), user)
        wanted = (request.fields.get("close_container_status") or "packed").lower()
        if wanted == "picked":
            return
        ff.touch(self.store, conn, "oblpn", lpn, user, status_id=LPN_PACKED)
        for ident, item, packed in conn.execute(
            "SELECT id, item_id, packed_qty FROM allocation WHERE to_container_id = ? "
            "AND status_id = ? ORDER BY id",
            (lpn, ff.ALLOC_PICKED),
        ).fetchall():
            ff.touch(self.store, conn, "allocation", int(ident), user, status_id=ff.ALLOC_PACKED)
            ff.history(
                self.store,
                conn,
                user,
                facility=request.facility,
                activity=ff.PACK,
                item_id=int(item),
                container_nbr=nbr,
                adj_qty=quantity(packed),
                orig_qty=quantity(packed),
                ref=None,
            )
        ff.refresh_order(self.store, conn, int(row[2]), user)

    def _short_rest(self, conn: sqlite3.Connection, lpn: int, order: int, user: User) -> None:
        """`short_on_close_flg`: the unpicked rest of the allocations being picked into the LPN
        is shorted (REST 21D "Close LPN": "Should any remaining unpacked quantity shorted?")."""
        rows = conn.execute(
            "SELECT id, alloc_qty, packed_qty, task_id, order_dtl_id FROM allocation "
            "WHERE to_container_id = ? AND status_id = ? ORDER BY id",
            (lpn, ff.ALLOC_IN_PICKING),
        ).fetchall()
        allocs = [(int(r[0]), r[1], r[2], r[3], int(r[4])) for r in rows]
        rest = sum((quantity(a) - quantity(p) for _, a, p, _, _ in allocs), Decimal(0))
        if rest > 0:
            self._short(conn, allocs, rest, order, user)

    @staticmethod
    def _complete(conn: sqlite3.Connection, request: PickRequest) -> None:
        row = conn.execute(
            "SELECT status_id FROM wave WHERE run_nbr = ? AND facility_id = ?",
            (request.fields["wave_nbr"], request.facility),
        ).fetchone()
        if row is None:
            raise _refused("wave_nbr", f"No wave '{request.fields['wave_nbr']}' in the facility.")
        if int(row[0]) != ff.WAVE_COMPLETED:
            raise _refused("wave_nbr", "the wave is not Completed")


def _refused(name: str, message: str) -> Exception:
    return rejected(f"The pick confirmation was refused: {message}", {name: message})
