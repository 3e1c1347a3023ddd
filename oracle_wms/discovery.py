"""Which entities to extract and what they look like.

`GET entity/` lists every entity the WMS exposes; `entities` patterns (names or shell globs such
as `order_*`) narrow it; `describe` of each gives the fields from which `schema.json_schema` builds
the JSON Schema. A real WMS has about 180 entities: the answers are cached on disk for a while
(`DiscoveryCache`) so a scheduled run does not describe them all every time.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oracle_wms.cache_files import identity_key, read_cache, write_cache
from oracle_wms.client import WmsClient
from oracle_wms.errors import WmsConfigError, WmsError, WmsPermissionError
from oracle_wms.schema import EntityDescription
from oracle_wms.session import json_body

logger = logging.getLogger(__name__)

CACHE_FORMAT = 2
PROBE_WORKERS = 4
"""Entities described or probed at once (each takes a round trip), unless the caller gives its
own budget (the tap's `max_concurrent_requests`)."""


CORE_ENTITIES = (
    "company",
    "facility",
    "item",
    "location",
    "inventory",
    "order_hdr",
    "order_dtl",
    "container",
    "iblpn",
    "oblpn",
    "ib_shipment",
    "allocation",
    "wave",
    "task",
    "inventory_history",
    "vendor",
)
"""Entities of the warehouse's core, in Oracle's entity list ([ENT]; contract C1), described while
a cold discovery still waits for the index: at hundreds of milliseconds per request, the budget's
other slots would otherwise idle for that round trip. Only names the index then lists are kept."""


def likely_entities(patterns: Sequence[str] | None, count: int) -> list[str]:
    """Up to `count` of `CORE_ENTITIES` that the `entities` patterns select (all with none)."""
    return [
        name
        for name in CORE_ENTITIES
        if not patterns or any(fnmatch.filter([name], pattern) for pattern in patterns)
    ][: max(count, 0)]


def select_entities(available: Sequence[str], patterns: Sequence[str] | None) -> list[str]:
    """The available names matching any pattern (all when there are none), sorted.

    Raises:
        WmsConfigError: a pattern matches no entity (a typo would otherwise extract nothing).
    """
    if not patterns:
        return sorted(available)
    chosen: set[str] = set()
    for pattern in patterns:
        matched = fnmatch.filter(available, pattern)
        if not matched:
            raise WmsConfigError(
                "entities",
                f"'{pattern}' matches none of the {len(available)} entities the WMS lists",
            )
        chosen.update(matched)
    return sorted(chosen)


@dataclass(frozen=True)
class DiscoveryCache:
    """Entity index and `describe` answers of one WMS and user, kept `ttl` seconds on disk."""

    directory: Path
    ttl: float

    @classmethod
    def default_directory(cls) -> Path:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "oracle-wms-singer"

    def path_for(self, client: WmsClient) -> Path:
        """The file of this WMS and identity (`cache_files.identity_key`)."""
        return self.directory / f"discovery-{identity_key(client.settings, CACHE_FORMAT)}.json"

    def load(self, client: WmsClient) -> dict[str, Any] | None:
        path = self.path_for(client)
        cached = read_cache(path, CACHE_FORMAT)
        if cached is None or cached.get("format") != CACHE_FORMAT:
            return None  # none, unusable (warned), or written by another version
        age = time.time() - float(cached["saved_at"])
        if age > self.ttl:
            return None
        logger.info("Using the discovery cache %s (%.0f s old, ttl %.0f s)", path, age, self.ttl)
        return cached

    def save(self, client: WmsClient, content: dict[str, Any]) -> None:
        write_cache(
            self.path_for(client), {**content, "format": CACHE_FORMAT, "saved_at": time.time()}
        )


def can_read(client: WmsClient, name: str) -> bool:
    """False when the WMS answers 403 to a one-record list of the entity (no read access).

    Any other answer counts as readable: a 404 is an empty list, and an entity that demands
    filters (400) still lets the user read it with them.
    """
    try:
        client.get(
            f"entity/{name}/",
            {"page_mode": "paged", "page_size": 1, "fields": "id"},
            entity=name,
        )
    except WmsPermissionError:
        return False
    except WmsError:
        return True
    return True


def unreadable(client: WmsClient, names: Sequence[str], workers: int = PROBE_WORKERS) -> list[str]:
    """The entities among `names` the user may not read, probed a few at a time."""
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe") as pool:
        readable = list(pool.map(lambda name: can_read(client, name), names))
    return [name for name, ok in zip(names, readable, strict=True) if not ok]


def discover(
    client: WmsClient,
    patterns: Sequence[str] | None = None,
    cache: DiscoveryCache | None = None,
    workers: int = PROBE_WORKERS,
) -> list[EntityDescription]:
    """Describe every selected entity the user may read, from the cache when it is fresh.

    On a cold cache the selected `CORE_ENTITIES` (up to `workers` - 1) are described while the
    index is asked: one round trip less. Their answers count only for names the index lists;
    an early describe that failed is asked again as any other (its error then raised).

    An entity whose `describe` answers 403 is left out, and named once in a warning: an
    integration user granted only the entities it extracts can still discover and run. Its list
    is not asked as well: Oracle documents one read permission, `lgfapi_read_access`, for
    every GET ("Application Permissions"), so `describe` and the list stand or fall together
    (contract A6, C2). Where a WMS grants `describe` and refuses the list, the entity is
    offered, `--check-connection` names it (`unreadable`), and a sync of it fails with one line
    naming the entity and `lgfapi_read_access` (docs/api-behaviour.md, "Users and scope").
    """
    cached = cache.load(client) if cache and cache.ttl > 0 else None
    describes: dict[str, Any] = dict(cached["describe"]) if cached else {}
    denied: set[str] = set(cached.get("denied", ())) if cached else set()

    def describe(name: str) -> Any:
        try:
            return json_body(client.get(f"entity/{name}/describe/", entity=name))
        except WmsPermissionError:
            return None

    def describe_early(name: str) -> tuple[bool, Any]:
        """(answered, body): a failure is dropped here (the entity may not exist); a name the
        index lists is then described again the usual way, its errors raised."""
        try:
            body = json_body(client.get(f"entity/{name}/describe/", entity=name, fail_fast=True))
        except WmsPermissionError:
            return True, None
        except WmsError:
            return False, None
        return True, body

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="describe") as pool:
        # cold: the core entities are described while the index is asked
        likely = [] if cached else likely_entities(patterns, workers - 1)
        early = {name: pool.submit(describe_early, name) for name in likely}
        try:
            names: list[str] = cached["index"] if cached else client.entity_names(refresh=True)
            selected = select_entities(names, patterns)
        except BaseException:
            for future in early.values():
                future.cancel()
            raise
        missing = [name for name in selected if name not in describes and name not in denied]
        if missing:
            logger.info("Describing %d WMS entities", len(missing))
        bodies = {name: pool.submit(describe, name) for name in missing if name not in early}
        for name in missing:
            answered, body = early[name].result() if name in early else (False, None)
            if not answered:
                body = (bodies.get(name) or pool.submit(describe, name)).result()
            if body is None:
                denied.add(name)
            else:
                describes[name] = body
    skipped = [name for name in selected if name in denied]
    if skipped:
        logger.warning(
            "Skipping %d entities this user may not read (403; lgfapi_read_access): %s",
            len(skipped),
            ", ".join(skipped),
        )
    if cache and cache.ttl > 0 and (missing or not cached):
        cache.save(client, {"index": names, "describe": describes, "denied": sorted(denied)})
    return [client.describe_from(name, describes[name]) for name in selected if name in describes]
