"""Several lists of one entity read side by side, their pages handed to one consumer.

A full-table entity is read over disjoint id ranges, and an incremental entity's first run
(`EntityStream._backfill_records`) over id ranges below the highest `mod_ts` seen when it began:
each list is still a sequenced keyset cursor, so paging stays correct while the WMS changes.
At most `workers` lists are read at once (and every request stays within the session's budget,
`max_concurrent_requests`); pages wait in a small queue, so memory stays bounded.
"""

from __future__ import annotations

import queue
import threading
import typing as t
from concurrent.futures import ThreadPoolExecutor

import requests
from singer_sdk.pagination import BaseHATEOASPaginator

from oracle_wms.client import WmsClient
from oracle_wms.session import json_body

ReadList = t.Callable[
    [dict[str, t.Any], t.Callable[[], bool], t.Callable[[requests.Response], None]], None
]
"""Reads one list (its extra filters), page after page, until done or told to stop, handing
each page on."""


def pages_side_by_side(
    lists: list[dict[str, t.Any]], workers: int, name: str, read: ReadList
) -> t.Iterator[requests.Response]:
    """The pages of every list, as they arrive; the first error of any list is raised."""
    size = workers * 2 if workers > 1 else 1
    pages: queue.Queue[requests.Response | BaseException | None] = queue.Queue(maxsize=size)
    stop = threading.Event()

    def run_all() -> None:
        try:
            prefix = f"{name}-range"
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=prefix) as pool:
                for future in [pool.submit(read, extra, stop.is_set, pages.put) for extra in lists]:
                    future.result()
        except BaseException as exc:  # handed to the consumer, which re-raises it
            stop.set()
            pages.put(exc)
        finally:
            pages.put(None)

    runner = threading.Thread(target=run_all, name=f"{name}-ranges", daemon=True)
    runner.start()
    try:
        while (item := pages.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while runner.is_alive():  # unblock producers waiting on a full queue
            try:
                pages.get(timeout=0.1)
            except queue.Empty:
                continue


class NextPageLinkPaginator(BaseHATEOASPaginator):
    """Follows the `next_page` URL of lgfapi list pages; an empty list (404) ends paging."""

    def get_next_url(self, response: requests.Response) -> str | None:
        if response.status_code == 404:
            return None
        link = json_body(response).get("next_page")
        return str(link) if link else None


def edge_value(wms: WmsClient, entity: str, ordering: str, field: str) -> t.Any:
    """`field` of the entity's first record in `ordering` (a one-record page)."""
    query = {"ordering": ordering, "page_size": 1, "fields": field, "page_mode": "paged"}
    body = json_body(wms.get(f"entity/{entity}/", query, entity=entity))
    return body["results"][0][field]


def id_ranges(wms: WmsClient, entity: str, low: int, workers: int) -> list[tuple[int, int]]:
    """Disjoint id ranges from `low` to the entity's highest id, four per worker (`workers`
    lists read at a time) so they finish together."""
    high = int(edge_value(wms, entity, "-id", "id"))
    parts = workers * 4
    step = max(1, (high - low + parts) // parts)
    return [(start, min(start + step - 1, high)) for start in range(low, high + 1, step)]
