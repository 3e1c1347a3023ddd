"""Rows that disappear from the WMS, found and told to the loader the Singer way.

lgfapi has no delete feed (docs/api-contract.md section M): an order removed by a stage DELETE
(N1), history the maintenance window purges (N2) and, on some tenants, inventory that reaches
zero (N3) simply stop being listed, and an incremental read on `mod_ts` never learns of it. Per
entity class:

- **current-state entities read incrementally** (orders and their lines, inventory, LPNs,
  allocations, tasks, ...): an *id sweep* lists every id (`fields=id`, 1,250 a page, ordered by
  id, N4) at most once per `delete_sweep_interval` (a day by default). The ids the tap has sent
  are kept in the stream's STATE (`deletes.known`, runs of consecutive ids, compressed); an id
  known and no longer listed is sent again as a record with only `id` and `_sdc_deleted_at`
  (declared in the stream's schema), which a SQL loader soft- or hard-deletes by its own
  `hard_delete` setting. A first run takes the ids it read as the known set (no sweep); between
  sweeps each run adds the ids it read.
- **history Oracle purges by age** (`PURGED`, from Oracle's "Supported Tables in Purge
  Handling"): kept in the warehouse by default (`purged_history: keep`), since keeping what the
  WMS throws away is what a warehouse copy is for; `purged_history: delete` sweeps them like the
  others.
- **full-table entities** (code tables, without `mod_ts`): every run reads them whole, so
  ACTIVATE_VERSION (`emit_activate_version_messages`, on by default) lets a loader that reads it
  drop the rows the run did not send; and, since the run's ids are a complete listing at no extra
  request, the ids gone since the last run are also sent with `_sdc_deleted_at`, for loaders
  that ignore ACTIVATE_VERSION (target-duckdb, target-jsonl).

A sweep asks `ceil(rows / 1250)` pages per entity (history: per partition, at least one each),
`max_parallel_requests` lists at a time, within the session's `max_concurrent_requests`.
"""

from __future__ import annotations

import base64
import logging
import math
import typing as t
import zlib
from array import array
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from singer_sdk import RESTStream

from oracle_wms.client import WmsClient
from oracle_wms.errors import WmsConfigError, WmsNotFoundError, WmsStateError
from oracle_wms.session import json_body, page_results
from oracle_wms.settings import MAX_PAGE_SIZE, number_setting
from tap_oracle_wms.not_found import entity_index
from tap_oracle_wms.ranges import edge_value

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

DELETED_AT = "_sdc_deleted_at"
"""The Singer field a loader reads as "this row was deleted at"."""
DELETED_AT_SCHEMA: dict[str, t.Any] = {"type": ["string", "null"], "format": "date-time"}

PURGED: frozenset[str] = frozenset(
    {
        "wms_activity",
        "inventory_history",
        "audit_history",
        "lpn_audit_dtl",
        "pallet_audit_dtl",
        "output_interface",
        "output_interface_msg_log",
        "lgfapi_archive",
        "stage_replenishment_pick",
        "serial_nbr_history",
        "mhe_pick_confirmation",
        "keyed_log",
        "common_log",
    }
)
"""Entities whose rows Oracle purges by age (owmol "Supported Tables in Purge Handling", 25B to
26B; docs/api-contract.md N2), lower-cased as entity names."""

DEFAULT_SWEEP_INTERVAL = 86400
MAX_SWEEP_INTERVAL = 365 * 86400
KEEP, DELETE = "keep", "delete"
STATE_KEY = "deletes"
"""The stream's STATE entry: `{"known": <encoded ids>, "count": n, "swept_at": ISO 8601}`."""


@dataclass(frozen=True)
class DeletePolicy:
    """The settings that decide which streams are swept, and how often."""

    detect: bool = True
    interval: float = DEFAULT_SWEEP_INTERVAL
    purged_history: str = KEEP

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> DeletePolicy:
        """Raises:
        WmsConfigError: naming the setting and what it must be."""
        detect = config.get("detect_deletes", True)
        if not isinstance(detect, bool):
            raise WmsConfigError("detect_deletes", "must be true or false")
        interval = number_setting(
            config,
            "delete_sweep_interval",
            DEFAULT_SWEEP_INTERVAL,
            zero_ok=True,
            maximum=MAX_SWEEP_INTERVAL,
        )
        purged = config.get("purged_history", KEEP)
        if purged not in (KEEP, DELETE):
            raise WmsConfigError("purged_history", f"must be '{KEEP}' or '{DELETE}'")
        return cls(detect, interval, str(purged))

    def detection(self, entity: str, replication_key: str | None) -> Detection | None:
        """The entity's detection when it is swept, else None."""
        return Detection(entity, self) if self.sweeps(entity, replication_key) else None

    def sweeps(self, entity: str, replication_key: str | None) -> bool:
        """Whether the entity's deleted rows are looked for: by id sweeps, or, read full
        table, by comparing each run's ids with the last run's."""
        if not self.detect:
            return False
        return entity not in PURGED or self.purged_history == DELETE


# ---- the known ids, as they travel in the STATE ---------------------------------------------
def encode_ids(ids: Iterable[int]) -> str:
    """Sorted distinct ids as runs (gap since the last run's end, run length), as 64-bit
    integers, zlib-compressed, base64: ids in a WMS are mostly dense, so a million of them take
    a few kilobytes."""
    runs = array("q")
    end = 0
    start = previous = None
    for ident in sorted(set(ids)):
        if previous is not None and ident == previous + 1:
            previous = ident
            continue
        if start is not None and previous is not None:
            runs.extend((start - end, previous - start + 1))
            end = previous + 1
        start = previous = ident
    if start is not None and previous is not None:
        runs.extend((start - end, previous - start + 1))
    return base64.b64encode(zlib.compress(runs.tobytes(), 6)).decode("ascii")


def decode_ids(text: str) -> array[int]:
    """The ids `encode_ids` wrote, sorted.

    Raises:
        ValueError: text that `encode_ids` did not write.
    """
    try:
        runs = array("q", zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True)))
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"not a list of ids written by the tap ({exc})") from None
    ids = array("q")
    end = 0
    for index in range(0, len(runs) - 1, 2):
        start = end + runs[index]
        ids.extend(range(start, start + runs[index + 1]))
        end = start + runs[index + 1]
    return ids


# ---- listing every id ---------------------------------------------------------------------
def list_ids(
    wms: WmsClient,
    entity: str,
    lists: list[dict[str, t.Any]],
    workers: int,
) -> tuple[set[int], int]:
    """Every id of the entity's lists (each its filters), and the requests made.

    Each list is read ordered by id in sequenced pages of 1,250 ids (N4); a single list with
    more than one page is split into id ranges after its first page, read `workers` at a time
    (each range still a keyset cursor). A 404 counts as an empty list only where it is one: the
    entity is in the WMS's index, and no id follows the last one read; else the sweep fails
    (a sweep that missed ids would delete live rows).

    Raises:
        WmsNotFoundError: the entity is gone, or a list ended early; naming the entity.
    """
    ids: set[int] = set()
    made = 0
    if len(lists) == 1 and workers > 1:
        found, next_page, count = _read(wms, entity, lists[0], first_only=True)
        ids.update(found)
        made += count
        if not next_page:
            return ids, made
        low = found[-1] + 1
        high = int(edge_value(wms, entity, "-id", "id"))
        made += 1
        parts = max(1, min(workers * 4, math.ceil((high - low + 1) / MAX_PAGE_SIZE)))
        step = max(1, (high - low + parts) // parts)
        lists = [
            {**lists[0], "id__range": f"{lo},{min(lo + step - 1, high)}"}
            for lo in range(low, high + 1, step)
        ]
    prefix = f"{entity}-ids"
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=prefix) as pool:
        for found, _, count in pool.map(lambda filters: _read(wms, entity, filters), lists):
            ids.update(found)
            made += count
    return ids, made


def _read(
    wms: WmsClient, entity: str, filters: dict[str, t.Any], *, first_only: bool = False
) -> tuple[list[int], bool, int]:
    """(ids, whether a next page follows, requests made) of one list, or of its first page."""
    params = {
        **filters,
        "fields": "id",
        "ordering": "id",
        "page_size": MAX_PAGE_SIZE,
        "page_mode": "sequenced",
    }
    url: str | None = f"entity/{entity}/"
    found: list[int] = []
    made = 0
    while url:
        try:
            response = wms.get(url, params if not made else None, entity=entity)
        except WmsNotFoundError as exc:
            made += 1
            _check_end(wms, entity, filters, found, exc)
            return found, False, made
        made += 1
        found += [int(row["id"]) for row in page_results(response, entity) if "id" in row]
        url = json_body(response).get("next_page") or None
        if first_only:
            return found, bool(url and found), made
    return found, False, made


def _check_end(
    wms: WmsClient, entity: str, filters: dict[str, t.Any], found: list[int], exc: Exception
) -> None:
    """Return when a 404 is the list's empty end (contract D6, D7), else raise."""
    if not found:
        if entity not in entity_index(wms):
            raise WmsNotFoundError(
                f"entity '{entity}': the id sweep got 404 and the entity is not in GET "
                "entity/; no row is marked deleted (rediscover the catalog)",
                status=404,
                path=f"entity/{entity}/",
            ) from exc
        return
    base = {k: v for k, v in filters.items() if k != "id__range"}
    if "id__range" in filters:
        base["id__lte"] = str(filters["id__range"]).split(",")[1]
    if wms.result_count(entity, {**base, "id__gt": found[-1]}):
        raise WmsNotFoundError(
            f"entity '{entity}': a page of the id sweep answered 404, but ids follow {found[-1]}: "
            "the sweep is abandoned and no row is marked deleted this run",
            status=404,
            path=f"entity/{entity}/",
        ) from exc


# ---- one stream's detection ------------------------------------------------------------------
class Detection:
    """What one swept stream knows during a run: the ids it sent, and its STATE entry."""

    def __init__(self, entity: str, policy: DeletePolicy) -> None:
        self.entity = entity
        self.policy = policy
        self.sent = array("q")
        """Ids of the records sent this run."""

    @staticmethod
    def declare(schema: dict[str, t.Any]) -> dict[str, t.Any]:
        """The stream's schema with `_sdc_deleted_at` declared."""
        properties = {**schema.get("properties", {}), DELETED_AT: DELETED_AT_SCHEMA}
        return {**schema, "properties": properties}

    def due(self, state: t.Mapping[str, t.Any], now: datetime) -> bool:
        """Whether this run sweeps: never before with a known set, or the interval is over."""
        entry = state.get(STATE_KEY)
        if not isinstance(entry, dict) or not isinstance(entry.get("known"), str):
            return False  # a first run: the ids it read are the known set
        try:
            swept = datetime.fromisoformat(str(entry.get("swept_at")))
        except ValueError:
            return True
        return (now - swept).total_seconds() >= self.policy.interval

    def known(self, state: t.Mapping[str, t.Any]) -> array[int]:
        """The ids the STATE says were sent; an entry the tap cannot read is a clear error.

        Raises:
            WmsStateError: naming the stream's STATE entry and the fix.
        """
        entry = state.get(STATE_KEY)
        if not isinstance(entry, dict) or not isinstance(entry.get("known"), str):
            return array("q")
        try:
            return decode_ids(entry["known"])
        except ValueError as exc:
            raise WmsStateError(
                f"The state's bookmarks.{self.entity}.{STATE_KEY}.known is {exc}: remove that "
                "entry to start the entity's known ids afresh"
            ) from None

    def finish(
        self,
        state: dict[str, t.Any],
        sweep: t.Callable[[], tuple[set[int], int]],
        logger: logging.Logger,
        *,
        full_read: bool = False,
    ) -> list[int]:
        """At the stream's end: sweep if due (`sweep` lists every id, and counts its
        requests; after a `full_read` every run is a sweep of no extra request), update the
        STATE entry; the ids deleted since the last sweep."""
        now = datetime.now(UTC)
        stamp = now.isoformat(timespec="seconds")
        entry = state.get(STATE_KEY) if isinstance(state.get(STATE_KEY), dict) else None
        if entry is None or not isinstance(entry.get("known"), str):
            state[STATE_KEY] = {
                "known": encode_ids(self.sent),
                "count": len(set(self.sent)),
                "swept_at": stamp,
            }
            return []
        known = self.known(state)
        if not full_read and not self.due(state, now):
            merged = set(known)
            merged.update(self.sent)
            entry.update({"known": encode_ids(merged), "count": len(merged)})
            return []
        listed, made = sweep()
        gone = sorted(set(known).union(self.sent) - listed)
        state[STATE_KEY] = {"known": encode_ids(listed), "count": len(listed), "swept_at": stamp}
        logger.info(
            "Entity '%s': %s, %d ids in %d requests, %d deleted since the last one",
            self.entity,
            "ids of the full read compared" if full_read else "id sweep",
            len(listed),
            made,
            len(gone),
        )
        return gone


class DeleteSweeps(RESTStream[t.Any]):
    """What an entity stream adds for deletes: the ids it sends are remembered, its end sends
    the ids deleted since the last sweep, and full-table streams send ACTIVATE_VERSION by
    default. After `stream_parts.StreamParts` among `EntityStream`'s bases, so it wraps the
    SDK's own read and `IsolatedSync` wraps it (a failed sweep is its entity's failure)."""

    wms: WmsClient
    max_parallel_requests: int
    detection: Detection | None
    """Set by the stream from `DeletePolicy.detection`: None when the entity is not swept."""

    @property
    def emit_activate_version_messages(self) -> bool:
        """On by default (the SDK's default is off): ACTIVATE_VERSION lets the loader drop the
        rows of a full-table stream that a run no longer read."""
        return bool(self.config.get("emit_activate_version_messages", True))

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The SDK's records, each id remembered when the stream is swept; after the stream's
        last partition, the rows deleted since the last id sweep, as records with only `id`
        and `_sdc_deleted_at` (they go through the SDK's record path like any other)."""
        records = super().get_records(context)
        detection = self.detection
        if detection is None:
            yield from records
            return
        sent = detection.sent
        for record in records:
            sent.append(record["id"])
            yield record
        partitions = self.partitions
        if partitions and context != partitions[-1]:
            return
        if self.replication_key is None or self.replication_method == "FULL_TABLE":
            # the run read every row: the ids it sent are the listing
            gone = detection.finish(
                self.stream_state, lambda: (set(sent), 0), self.logger, full_read=True
            )
        else:
            gone = detection.finish(self.stream_state, self._sweep, self.logger)
        stamp = datetime.now(UTC).isoformat()
        # a partition's keys left null: the SDK would copy its filter values (text) into them
        declared = self.schema.get("properties", {})
        blank = dict.fromkeys(k for k in context or {} if k in declared)
        for ident in gone:
            yield {**blank, "id": ident, DELETED_AT: stamp}

    def _sweep(self) -> tuple[set[int], int]:
        """Every id the WMS lists for the stream, per partition where it has partitions (the
        stream's own filters, less its bookmark, paging and ordering)."""
        drop = {"page_mode", "page_size", "ordering", "fields", f"{self.replication_key}__gte"}
        lists = []
        contexts: list[Context | None] = list(self.partitions or []) or [None]
        for context in contexts:
            params = self.get_url_params(context, None)
            assert isinstance(params, dict)
            lists.append({k: v for k, v in params.items() if k not in drop})
        return list_ids(self.wms, self.name, lists, self.max_parallel_requests)
