"""Rows that leave the WMS without a write through the API: the scheduled purge, and (as an
undocumented reading) inventory removed when it reaches zero.

Oracle's online help, "Supported Tables in Purge Handling" (owmol 25B-26B; docs/api-contract.md
N2), lists the tables the WMS purges in its maintenance window, each with an age: WMS_ACTIVITY
after 3 months, INVENTORY_HISTORY after 5 years, and so on; since 26A an ADMIN user may set the
retention between 1 and 5 years. Nothing is written to a change feed: the rows are simply gone
from `GET entity/{name}/`. The simulator runs the purge when asked (`Simulator.purge`,
`POST /_sim/purge`), at a given instant, for the tables of that list it serves.

Whether an inventory row is deleted when its quantity reaches zero is not documented (N3). With
`Undocumented.zero_inventory_removed` on, an SQLite trigger deletes such a row in the same
transaction as the change that emptied it (adjustment, pick, churn), whichever write path made
it; off (the default), it stays with `curr_qty` 0.
"""

from __future__ import annotations

from datetime import datetime

from .store import Store
from .timefmt import to_store

PURGE_MONTHS: dict[str, int] = {
    "wms_activity": 3,
    "inventory_history": 60,
    "audit_history": 60,
    "lpn_audit_dtl": 60,
    "pallet_audit_dtl": 60,
    "output_interface": 3,
    "output_interface_msg_log": 3,
    "lgfapi_archive": 3,
    "stage_replenishment_pick": 3,
    "serial_nbr_history": 36,
    "mhe_pick_confirmation": 3,
    "keyed_log": 3,
    "common_log": 3,
}
"""Oracle's purge list (lower-cased table names) and the age in months past which a row goes;
only the names the simulator serves are purged (today `inventory_history`)."""

_ZERO_TRIGGER = "sim_zero_inventory_removed"


def _months_before(instant: datetime, months: int) -> datetime:
    """`instant` less whole calendar months (the day clamped to 28 so every month has it)."""
    total = instant.year * 12 + instant.month - 1 - months
    return instant.replace(year=total // 12, month=total % 12 + 1, day=min(instant.day, 28))


def purge(
    store: Store,
    as_of: datetime,
    retention_years: int | None = None,
) -> dict[str, list[int]]:
    """Delete, as the maintenance-window purge would at `as_of`, every row of a purged table
    whose creation (`create_ts`) is older than the table's age; `retention_years` (1 to 5, the
    ADMIN's "Purge Retention Period") replaces the ages of the 5-year tables. The ids deleted,
    per table served.

    Raises:
        ValueError: a retention outside 1 to 5 years.
    """
    if retention_years is not None and not 1 <= retention_years <= 5:
        raise ValueError("retention_years must be 1 to 5 (Oracle's Purge Retention Period)")
    served = {name for name in PURGE_MONTHS if store.catalogue.get(name) is not None}
    purged: dict[str, list[int]] = {}
    with store.transaction() as conn:
        for name in sorted(served):
            months = PURGE_MONTHS[name]
            if retention_years is not None and months == 60:
                months = 12 * retention_years
            cutoff = to_store(_months_before(as_of, months))
            ids = [
                int(row[0])
                for row in conn.execute(
                    f"SELECT id FROM {name} WHERE create_ts < ? ORDER BY id", (cutoff,)
                )
            ]
            store.remove_rows(conn, name, ids)
            purged[name] = ids
    return purged


def remove_zero_inventory(store: Store, on: bool) -> None:
    """Switch the undocumented reading that deletes an inventory row when a change sets its
    `curr_qty` to zero or below (the id's high-water mark is kept, as `Store.remove_rows`
    keeps it, so the id is never handed out again)."""
    with store.transaction() as conn:
        conn.execute(f"DROP TRIGGER IF EXISTS {_ZERO_TRIGGER}")
        if on:
            conn.execute(
                f"CREATE TRIGGER {_ZERO_TRIGGER} AFTER UPDATE OF curr_qty ON inventory "
                "WHEN NEW.curr_qty <= 0 BEGIN "
                "INSERT OR REPLACE INTO _sim_meta (key, value) VALUES ('deleted_top:inventory', "
                "CAST(max(NEW.id, coalesce((SELECT CAST(value AS INTEGER) FROM _sim_meta "
                "WHERE key = 'deleted_top:inventory'), 0)) AS TEXT)); "
                "DELETE FROM inventory WHERE id = NEW.id; END"
            )
