"""Rows that arrive behind a reader's cursor (docs/api-contract.md D20).

A long WMS transaction stamps `mod_ts` when it writes a row but commits later: rows with a
later `mod_ts` may be visible (and read) first, and the late row then appears with a `mod_ts`
before them. Rows are also created with a backdated `mod_ts`. A connector run against real
tenants re-checks the hours before its cursor by count each sync and runs a `create_ts` pass
for them (Fivetran's community `wms_oracle`, README "Pre-cursor drift check", "Features").

`commit_late` makes such rows appear now: `count` new records of `entity`, stamped
`behind_s` seconds before the entity's newest `mod_ts` (its `create_ts` too: a backdated
create carries the same stamp).
"""

from __future__ import annotations

from datetime import timedelta

from ..data.store import Store
from ..data.timefmt import from_store, to_store
from ..errors import ApiError


def commit_late(store: Store, entity_name: str, count: int, behind_s: float) -> list[int]:
    """The ids of `count` records inserted now with `mod_ts` (and `create_ts`) `behind_s`
    seconds before the entity's newest `mod_ts`, each a microsecond apart."""
    entity = store.entity(entity_name)
    if not entity.tracks_changes or "create_ts" not in entity.by_name:
        raise ApiError(400, f"{entity.name} has no mod_ts and create_ts to backdate.")
    ids = store.insert_records(entity.name, count, same_mod_ts=False)
    if not ids:
        return ids
    with store.transaction() as conn:
        newest = conn.execute(
            f"SELECT max(mod_ts) FROM {entity.name} WHERE id NOT IN ({','.join('?' * len(ids))})",
            ids,
        ).fetchone()[0]
        start = from_store(newest) - timedelta(seconds=behind_s)
        for offset, ident in enumerate(ids):
            stamp = to_store(start + timedelta(microseconds=offset))
            conn.execute(
                f"UPDATE {entity.name} SET mod_ts = ?, create_ts = ? WHERE id = ?",
                (stamp, stamp, ident),
            )
    return ids
