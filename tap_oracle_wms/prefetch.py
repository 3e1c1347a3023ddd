"""Pages requested before the stream that reads them asks: the next page of a list, and the
first pages of the streams (and history partitions) still to come.

At hundreds of milliseconds per request, a run of every entity is mostly waiting: most
incremental lists are one page or a 404. Singer streams are written one after another (a
stream's SCHEMA, its records, its STATE), so the messages keep that order; only the requests go
ahead. `FirstPages` asks for the first page of each coming stream and partition, a window ahead
of the stream being written, on a pool as large as `max_concurrent_requests` (the session's
budget bounds every request in flight, these and the streams' own, `WmsSession`). A stream uses
a prefetched page only when its own first request is exactly the URL that was prefetched (same
filters, same bookmark); else the page is dropped and the stream asks again, so the records and
the STATE are those of a sequential run.
"""

from __future__ import annotations

import json
import re
import threading
import typing as t
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import ParseResult, urlparse

import requests

_local = threading.local()

SLOW_REQUEST = 0.05
"""Seconds to a response's headers from which requests go ahead: against a WMS that answers
faster, the run is bound by parsing, and pages held ahead would only cost memory (the first
page of each coming stream then goes one ahead, as a next page does)."""


def prefetching() -> bool:
    """True in a thread sending a first page for a stream that is not being written yet."""
    return bool(getattr(_local, "active", False))


Plan = tuple[str, str, t.Callable[[], requests.Response]]
"""(key of the stream and partition, URL of its first page, how to request it)."""


class FirstPages:
    """First pages of the streams to come, at most `ahead` requested or held at a time.

    `planner` lists them, in the order the streams will ask for them; it is called when the
    first stream asks for its first page (the SDK has settled each stream's replication method
    and the state by then, and a `--discover` run never calls it). Its iterable is read only as
    far as the window needs: a stream whose first pages take requests to plan (history's
    partitions) is planned in its own time, not before the first stream's page."""

    def __init__(self, workers: int, ahead: int, planner: t.Callable[[], t.Iterable[Plan]]) -> None:
        self._workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._ahead = ahead
        self._planner: t.Callable[[], t.Iterable[Plan]] | None = planner
        self._lock = threading.Lock()
        self._plan: t.Iterator[Plan] = iter(())
        self._planned = False
        """Whether every planned page has been requested."""
        self._pending: OrderedDict[str, tuple[str, Future[requests.Response]]] = OrderedDict()
        self._slow = True
        """Whether the last response came slowly (`SLOW_REQUEST`)."""

    def take(self, key: str, url: str) -> Future[requests.Response] | None:
        """The page requested for `key` if it was for `url`; earlier keys are dropped (their
        streams have passed)."""
        with self._lock:
            if self._planner is not None:
                planner, self._planner = self._planner, None
                self._plan = iter(planner())
                self._pool = ThreadPoolExecutor(
                    max_workers=self._workers, thread_name_prefix="first-page"
                )
                self._fill()
            entry = None
            if key in self._pending:
                while self._pending:
                    first, value = self._pending.popitem(last=False)
                    if first == key:
                        entry = value
                        break
            self._fill()
            if self._planned and not self._pending and self._pool is not None:
                self._pool.shutdown(wait=False)  # every planned page is taken
        if entry is None or entry[0] != url:
            return None
        return entry[1]

    def _fill(self) -> None:
        assert self._pool is not None
        ahead = self._ahead if self._slow else 1
        while not self._planned and len(self._pending) < ahead:
            planned = next(self._plan, None)
            if planned is None:
                self._planned = True
                break
            key, url, fetch = planned
            self._pending[key] = (url, self._pool.submit(self._run, fetch))

    def _run(self, fetch: t.Callable[[], requests.Response]) -> requests.Response:
        _local.active = True
        try:
            response = fetch()
        finally:
            _local.active = False
        self._slow = response.elapsed.total_seconds() >= SLOW_REQUEST
        return response


def page_key(stream: str, context: t.Mapping[str, t.Any] | None) -> str:
    return f"{stream}|{json.dumps(context or None, sort_keys=True, default=str)}"


_NEXT_PAGE = re.compile(rb'"next_page":\s*("(?:[^"\\]|\\.)*")')


class EarlyPages:
    """The next page of a sequenced list, requested as soon as a page's first bytes name it.

    The `next_page` link sits in the page's head, before `results` (docs/api-behaviour.md), so
    it can be read before the page is decoded and validated: requesting it then takes the
    decoding and the hand-over to the emitting thread off the path from one request to the next
    (at 300 ms per request, the tap reached 0.89 of page_size / latency without this). Nothing
    depends on the early read being right: a prefetched page is used only for the exact URL the
    paginator then takes from the decoded page, and at most one is in flight.
    """

    def __init__(
        self, pool: ThreadPoolExecutor, fetch: t.Callable[[ParseResult], requests.Response]
    ) -> None:
        self._pool = pool
        self._fetch = fetch
        self._lock = threading.Lock()
        self._pages: dict[str, Future[requests.Response]] = {}

    def fetch(self, content: bytes) -> None:
        end = content.find(b'"results"')
        found = _NEXT_PAGE.search(content, 0, end) if end > 0 else None
        if found is None:
            return
        link = urlparse(json.loads(found.group(1)))
        with self._lock:
            if not self._pages:
                self._pages[link.geturl()] = self._pool.submit(self._fetch, link)

    def take(self, url: str) -> Future[requests.Response] | None:
        """The page already requested for `url`, if any (any other is dropped)."""
        with self._lock:
            pages, self._pages = self._pages, {}
        return pages.get(url)
