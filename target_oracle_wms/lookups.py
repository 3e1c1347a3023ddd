"""Business keys to WMS ids, with caches: records name things as people do (facility code,
location barcode, item code, order number, LPN number); the API wants ids.

Keys are fetched in chunks with `__in` filters (one request per 100 keys, not per record) and
cached for the run, including misses, so a bad key costs one lookup. A key the WMS refuses as a
filter value (a 400: a run number that is not a number) is that key's alone: its chunk is asked
again one key at a time, and asking for the refused key raises `ValueRefusedError`, which the
sinks turn into the record's reject. lgfapi documents no escape
for a comma inside an `__in` value, so a key with a comma is asked with a plain equality filter,
one request each; either way only a row whose key equals the value exactly counts.

The Singer SDK drains several streams' sinks at once, in threads, and the target sends each
stream's record-independent reads ahead when the stream begins (`WmsSink.ahead`): one lock guards
the caches (a half-loaded facility list once made a second sink see none), and a run-wide read
(`once`: the facility list, a status list, a `describe`) is in flight at most once.
"""

from __future__ import annotations

import threading
import typing as t
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from oracle_wms.client import WmsClient
from oracle_wms.errors import WmsValidationError

CHUNK = 100
T = TypeVar("T")


class ValueRefusedError(Exception):
    """The WMS refused a record's value as a lookup filter (400): that record's reject."""

    def __init__(self, entity: str, key_field: str, value: str, message: str) -> None:
        self.entity, self.key_field, self.value = entity, key_field, value
        super().__init__(f"the WMS refused {value!r} as {entity} {key_field}: {message}")


@dataclass(frozen=True)
class Facility:
    id: int
    code: str
    company_id: int | None
    company_code: str | None


def status_word(row: dict[str, Any]) -> str:
    """A status row (container_status, wave_status, allocation_status) as one upper-case word:
    its `code`, else its description (`Partly Allocated` -> `PARTLY_ALLOCATED`). Statuses are
    read by word, never by id: Oracle documents the words, not the ids."""
    text = str(row.get("code") or row.get("description") or "")
    return text.strip().upper().replace(" ", "_")


def fk_id(value: Any) -> int | None:
    """A foreign key's id: lgfapi's `{"id": 3, "key": ..., "url": ...}` or a plain `3` / `"3"`;
    None for none (0 is an id: `container_status` has one)."""
    if isinstance(value, dict):
        value = value.get("id")
    return int(value) if value is not None and str(value).lstrip("-").isdigit() else None


def _fk_key(value: Any) -> str | None:
    return str(value["key"]) if isinstance(value, dict) and value.get("key") is not None else None


class Lookups:
    def __init__(self, client: WmsClient) -> None:
        self.client = client
        self._cache: dict[tuple[Any, ...], dict[str, dict[str, Any] | None]] = {}
        self._refused: dict[tuple[Any, ...], str] = {}
        """(entity, key_field, value) -> the WMS's 400 for that value as a filter."""
        self._lock = threading.RLock()
        self._once: dict[tuple[Any, ...], Any] = {}
        self._gates: dict[tuple[Any, ...], threading.Lock] = {}

    def once(self, key: tuple[Any, ...], read: t.Callable[[], T]) -> T:
        """`read()`, asked of the WMS once per run for `key`: a caller asking while the read is
        in flight (a sink, and the reads its target sent ahead when the stream began) waits for
        it instead of sending it again. A failure is not kept: the next caller reads again, and
        reports it."""
        with self._lock:
            if key in self._once:
                return t.cast(T, self._once[key])
            gate = self._gates.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._once:
                    return t.cast(T, self._once[key])
            value = read()
            with self._lock:
                self._once[key] = value
            return value

    def facility(self, code: str) -> Facility | None:
        return self.once(("facility",), self._read_facilities).get(code)

    def _read_facilities(self) -> dict[str, Facility]:
        params = {"fields": "id,code,company_id", "ordering": "id"}
        return {
            str(row["code"]): Facility(
                id=int(row["id"]),
                code=str(row["code"]),
                company_id=fk_id(row.get("company_id")),
                company_code=_fk_key(row.get("company_id")),
            )
            for row in self.client.iter_records("facility", params)
        }

    def status_words(self, entity: str) -> dict[int, str]:
        """id -> `status_word` of every row of a status entity (`container_status`,
        `wave_status`, `allocation_status`), read once per run.

        Raises:
            WmsNotFoundError: the WMS lists no such entity (the caller decides what that means).
        """
        return self.once(("status", entity), partial(self._read_statuses, entity))

    def _read_statuses(self, entity: str) -> dict[int, str]:
        rows = self.client.iter_records(entity, {"ordering": "id"})
        return {int(r["id"]): status_word(r) for r in rows if r.get("id") is not None}

    def status_of(self, entity: str, value: Any) -> str:
        """The `status_word` a row's `status_id` (any `fk_id` form) names in a status entity,
        `UNKNOWN` for an id the entity does not list or none."""
        status_id = fk_id(value)
        if status_id is None:
            return "UNKNOWN"
        return self.status_words(entity).get(status_id, "UNKNOWN")

    def record_facility(
        self, record: dict[str, Any], reasons: dict[str, str], *, required: bool = False
    ) -> Facility | None:
        """The facility a record's `facility_code` names, checked against its `company_code`.

        Problems go into `reasons` by field name (`facility_code`: unknown, or missing when
        `required`; `company_code`: not the facility's company). Returns None without a usable
        facility code; a facility whose company differs is still returned (the reason says so).
        """
        code = record.get("facility_code")
        if code in (None, ""):
            if required:
                reasons["facility_code"] = "required"
            return None
        facility = self.facility(str(code))
        if facility is None:
            reasons["facility_code"] = f"no facility '{code}' in the WMS"
            return None
        company = record.get("company_code")
        if company not in (None, "") and str(company) != facility.company_code:
            reasons["company_code"] = (
                f"facility {facility.code} belongs to company {facility.company_code}, "
                f"not {company}"
            )
        return facility

    def find(
        self,
        entity: str,
        key_field: str,
        values: Iterable[str],
        scope: dict[str, Any],
        fields: str = "id",
        *,
        refresh: bool = False,
    ) -> dict[str, dict[str, Any] | None]:
        """Records of `entity` whose `key_field` is one of `values`, within `scope` filters.

        Returns a mapping for every requested value (None where no record matched). `refresh`
        asks the WMS again instead of trusting the cache (for rows this run may have created).
        The lock guards the caches only, not the requests: sinks that read ahead in parallel
        (`pick_reads.py`) have their lookups in flight at once.

        Raises:
            ValueRefusedError: the WMS refused one of `values` as a filter (400), after every
                other value was looked up (and cached).
        """
        values = [str(v) for v in values]
        key = (entity, key_field, *sorted(scope.items()), fields)
        with self._lock:
            cache = self._cache.setdefault(key, {})
            requested = set(values)
            for value in requested - cache.keys():
                if not value.strip():  # an empty key names nothing: never an unfiltered read
                    cache[value] = None
            wanted = sorted(
                v for v in (requested if refresh else requested - cache.keys()) if v.strip()
            )
        found: dict[str, dict[str, Any] | None] = {}
        refused: dict[tuple[Any, ...], str] = {}
        plain = [v for v in wanted if "," not in v]
        for start in range(0, len(plain), CHUNK):
            chunk = plain[start : start + CHUNK]
            self._fetch(
                entity, key_field, chunk, scope=scope, fields=fields, cache=found, refused=refused
            )
        for value in wanted:
            if "," in value:  # cannot travel in an `__in` list
                self._fetch(
                    entity,
                    key_field,
                    [value],
                    scope=scope,
                    fields=fields,
                    cache=found,
                    refused=refused,
                )
        with self._lock:
            cache.update(found)
            self._refused.update(refused)
            for value in values:
                message = self._refused.get((entity, key_field, value))
                if message is not None:
                    raise ValueRefusedError(entity, key_field, value, message)
            return {value: cache[value] for value in values}

    def _fetch(
        self,
        entity: str,
        key_field: str,
        chunk: list[str],
        *,
        scope: dict[str, Any],
        fields: str,
        cache: dict[str, dict[str, Any] | None],
        refused: dict[tuple[Any, ...], str],
    ) -> None:
        """Look `chunk` up (one value: an equality filter when it has a comma); a 400 for
        several values asks each alone, a 400 for one value is that value's (`_refused`)."""
        if len(chunk) == 1 and "," in chunk[0]:
            params = {**scope, key_field: chunk[0], "fields": f"{key_field},{fields}"}
        else:
            params = {**scope, f"{key_field}__in": ",".join(chunk)}
            params["fields"] = f"{key_field},{fields}"
        try:
            rows = list(self.client.iter_records(entity, params))
        except WmsValidationError as exc:
            if len(chunk) > 1:
                for value in chunk:
                    self._fetch(
                        entity,
                        key_field,
                        [value],
                        scope=scope,
                        fields=fields,
                        cache=cache,
                        refused=refused,
                    )
                return
            refused[(entity, key_field, chunk[0])] = str(exc)
            cache[chunk[0]] = None
            return
        for row in rows:
            if str(row[key_field]) in chunk:  # exact matches only
                cache[str(row[key_field])] = row
        for value in chunk:
            cache.setdefault(value, None)


def run_reads(reads: list[t.Callable[[], t.Any]], budget: int) -> None:
    """Every read, `budget` at once (the write concurrency setting). A read the WMS refuses
    for a value (400) is left to the records' validation, which reads again and reports it."""
    if not reads:
        return
    with ThreadPoolExecutor(min(budget, len(reads)), thread_name_prefix="reads-ahead") as pool:
        for future in [pool.submit(read) for read in reads]:
            try:
                future.result()
            except (ValueRefusedError, WmsValidationError):
                continue
