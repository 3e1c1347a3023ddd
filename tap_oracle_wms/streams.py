"""One Singer stream per WMS entity, over the shared `oracle_wms` session, auth, retries, errors.

Paging follows lgfapi's `next_page` links in sequenced mode (a keyset cursor: no row skipped or
repeated while the WMS changes). Incremental streams ask for `{key}__gte=<bookmark - lookback>`
ordered by `{key},id`: inclusive, so rows sharing the bookmark's timestamp (batch jobs stamp
thousands at once) are read again, not lost; targets merge them on `id`.
"""

from __future__ import annotations

import sys
import time
import typing as t
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import ParseResult, urlsplit

import requests
from requests.auth import AuthBase
from singer_sdk import RESTStream
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib.catalog import REPLICATION_FULL_TABLE
from singer_sdk.streams.rest import HTTPRequest, PageContext

from oracle_wms.client import WmsClient, ensure_same_origin
from oracle_wms.filter_values import lower_bound, upper_bound
from oracle_wms.retry import with_retries
from oracle_wms.schema import Problem, RowShape, conform_page, flatten_record, utc_timestamp
from oracle_wms.session import json_body, page_results, raise_for_response
from tap_oracle_wms.bookmarks import reread_bound, state_bookmark, utc_bound
from tap_oracle_wms.breaks import SchemaBreaks
from tap_oracle_wms.deletes import DeletePolicy, DeleteSweeps
from tap_oracle_wms.not_found import check_empty_list, check_list_end
from tap_oracle_wms.prefetch import (
    SLOW_REQUEST,
    EarlyPages,
    FirstPages,
    Plan,
    page_key,
    prefetching,
)
from tap_oracle_wms.ranges import NextPageLinkPaginator, edge_value, id_ranges, pages_side_by_side
from tap_oracle_wms.sdk_overrides import ROUTINE_LINES_AS_DEBUG
from tap_oracle_wms.stream_parts import StreamParts

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

PageToken = ParseResult | None

PROGRESS_INTERVAL = 15.0  # seconds between progress lines during a long extraction
GIL_SWITCH_INTERVAL = 0.0002
"""Seconds a busy thread holds the GIL before another may take it, while syncing. Python's
default (5 ms) starves the page-fetching thread: each time it comes back from the socket it
waits up to 5 ms behind the thread emitting records, so fetching and emitting barely overlap.
Measured on 60,000 inventory rows: 36,000 records/s at 5 ms, 46,000 at 0.5 ms, 48,000-51,000 at
0.2 ms (benchmarks/bench_parse.py)."""


class EntityStream(StreamParts, DeleteSweeps, RESTStream[PageToken]):
    """All records of one WMS entity, as flat rows (see `oracle_wms.schema`); the SDK's
    per-record path trimmed by `RecordPathOverrides` (`stream_parts.StreamParts`)."""

    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)
    # `flatten_record` already builds values of the schema's types (integers, Decimal, bool,
    # ISO strings): the SDK's per-record conformance pass would only cost time.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(
        self,
        tap: Tap,
        wms: WmsClient,
        entity: str,
        schema: dict[str, t.Any],
        replication_key: str | None,
        *,
        lookback: float = 0.0,
        max_parallel_requests: int = 1,
        deletes: DeletePolicy | None = None,
    ) -> None:
        self.wms = wms
        self.lookback = lookback
        self.max_parallel_requests = max_parallel_requests
        self.detection = deletes.detection(entity, replication_key) if deletes else None
        schema = self.detection.declare(schema) if self.detection else schema
        super().__init__(tap=tap, name=entity, schema=schema, path=f"entity/{entity}/")
        self.replication_key = replication_key
        self._shape = RowShape.from_schema(schema)
        self._extracted_at = datetime.now(UTC)
        self._early: EarlyPages | None = None
        self.first_pages: FirstPages | None = None
        """Set by the tap: the first pages requested ahead of this stream (`prefetch`)."""
        self._planned: tuple[t.Any] | None = None
        self._breaks = SchemaBreaks(entity, self.logger)
        self.logger.addFilter(ROUTINE_LINES_AS_DEBUG)  # the SDK's start lines as DEBUG

    @property
    def url_base(self) -> str:
        return self.wms.settings.api_url

    @property
    def requests_session(self) -> requests.Session:
        """The client's pooled session, shared by every stream."""
        return self.wms.session

    @property
    def authenticator(self) -> AuthBase:
        auth = self.wms.session.auth
        assert isinstance(auth, AuthBase)
        return auth

    @property
    def timeout(self) -> tuple[float, float]:  # type: ignore[override]
        return self.wms.timeout

    @property
    def is_sorted(self) -> bool:
        """Incremental lists are ordered by `{replication_key},id`: bookmarks advance as we go."""
        return self.replication_key is not None

    @property
    def check_sorted(self) -> bool:  # older rows are re-read on purpose; see sdk_overrides
        return False

    def get_new_paginator(self) -> NextPageLinkPaginator:
        return NextPageLinkPaginator()

    def request_decorator(
        self, func: t.Callable[..., requests.Response]
    ) -> t.Callable[..., requests.Response]:
        """The shared retry policy (`oracle_wms.retry`) instead of the SDK's default backoff."""

        def send(prepared: requests.PreparedRequest, context: Context | None) -> requests.Response:
            what = f"entity '{self.name}' (GET {urlsplit(prepared.url or '').path})"
            return with_retries(
                lambda: func(prepared, context), self.wms.settings.retry, what, self.logger
            )

        return send

    def get_http_request(self, *, page: PageContext[PageToken]) -> HTTPRequest:
        request = super().get_http_request(page=page)
        if page.next_page_token is not None:
            link = page.next_page_token.geturl()
            ensure_same_origin(link, self.wms.settings.base_url)
            request.url = link
            request.params = {}
        return request

    def get_url_params(
        self, context: Context | None, next_page_token: PageToken
    ) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {
            "page_mode": "sequenced",
            "page_size": self.wms.settings.page_size,
        }
        key = self.replication_key
        if not key or self.is_full_table:
            params["ordering"] = "id"
            return self.apply(params)
        params["ordering"] = f"{key},id"
        planned = self._planned
        start = planned[0] if planned else self.get_starting_replication_key_value(context)
        if start:
            params[f"{key}__gte"] = utc_bound(str(start), self.lookback)
        return self.apply(params)

    def first_page_plan(self) -> list[Plan]:
        """The first page of each partition (or of the stream), from the bookmarks in the state
        before the run: what `request_records` will ask for first, unless the state says
        otherwise by then (the URL is compared)."""
        send = self.request_decorator(self._request)
        plan: list[Plan] = []
        contexts: list[Context | None] = list(self.partitions or []) or [None]
        for context in contexts:
            start = None if self.is_full_table else self.bookmark_before(context)
            url = self._first_url(context, (start,))

            def fetch(context: Context | None = context, url: str = url) -> requests.Response:
                return self._fetch_url(send, context, url)

            plan.append((page_key(self.name, context), url, fetch))
        return plan

    def bookmark_before(self, context: Context | None) -> t.Any:
        """The starting value the SDK will take: the bookmark, else `start_date` (the later
        of the two when both)."""
        value = state_bookmark(self.tap_state, self.name, context)
        start_date = self.config.get("start_date")
        if value and start_date:
            return self.compare_start_date(value, start_date)
        return value or start_date

    def _first_url(self, context: Context | None, planned: tuple[t.Any] | None = None) -> str:
        self._planned = planned
        try:
            request = self.get_http_request(
                page=PageContext(stream_context=context, next_page_token=None)
            )
        finally:
            self._planned = None
        prepared = requests.Request("GET", request.url, params=request.encode_params()).prepare()
        return prepared.url or ""

    def _first_page(self, context: Context | None) -> Future[requests.Response] | None:
        """The first page, if it was requested ahead for exactly this request."""
        if self.first_pages is None:
            return None
        return self.first_pages.take(page_key(self.name, context), self._first_url(context))

    def _fetch_url(
        self, send: t.Callable[..., requests.Response], context: Context | None, url: str
    ) -> requests.Response:
        prepared = self.build_prepared_request(
            method="GET", url=url, params={}, headers=self.http_headers
        )
        response = send(prepared, context)
        if response.status_code == 404:
            check_empty_list(self.name, self.wms, response)
        return response

    @property
    def is_full_table(self) -> bool:
        return self.replication_key is None or self.replication_method == REPLICATION_FULL_TABLE

    def request_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Pages in sequenced mode, the next one fetched while this one is emitted.

        Full-table streams with `max_parallel_requests` > 1 instead read disjoint id ranges
        side by side (`_parallel_records`): each range is still a keyset cursor, so paging
        stays correct while the WMS changes.
        """
        if self.ordering_fallback is None and self.is_full_table and self.max_parallel_requests > 1:
            yield from self._parallel_records(context)
            return
        if (  # an incremental entity's first run (no bookmark, no start_date)
            context is None
            and self.ordering_fallback is None
            and self.max_parallel_requests > 1
            and not self.get_starting_replication_key_value(context)
        ):
            yield from self._backfill_records(context)
            return
        paginator = self.get_new_paginator()
        send = self.request_decorator(self._request)
        with (
            ThreadPoolExecutor(max_workers=2, thread_name_prefix=f"{self.name}-page") as pool,
            self.get_http_request_counter() as counter,
        ):
            counter.with_context(context)
            self._early = EarlyPages(pool, lambda link: self._fetch(send, context, link, {}))
            pending: Future[requests.Response] | None = self._first_page(context) or pool.submit(
                self._fetch, send, context, paginator.current_value, {}
            )
            try:
                previous = None
                while pending is not None:
                    response = self._check_end(pending.result(), previous, context, {})
                    previous = response
                    counter.increment()
                    paginator.advance(response)
                    link = paginator.current_value
                    pending = (
                        None
                        if paginator.finished or link is None
                        else self._early.take(link.geturl())
                        or pool.submit(self._fetch, send, context, link, {})
                    )
                    yield from self.parse_response(response)
            finally:
                self._early = None

    def _fetch(
        self,
        send: t.Callable[..., requests.Response],
        context: Context | None,
        token: PageToken,
        extra_params: dict[str, t.Any],
    ) -> requests.Response:
        request = self.get_http_request(
            page=PageContext(stream_context=context, next_page_token=token)
        )
        if token is None:
            request.params = {**request.params, **extra_params}
        prepared = self.build_prepared_request(
            method=request.method,
            url=request.url,
            params=request.encode_params(),
            headers=request.headers,
        )
        response = send(prepared, context)
        if response.status_code == 404 and token is None:
            check_empty_list(self.name, self.wms, response)
        return response

    def _check_end(
        self,
        response: requests.Response,
        previous: requests.Response | None,
        context: Context | None,
        extra: dict[str, t.Any],
    ) -> requests.Response:
        """A 404 after a page of records ends the list only if no record follows that page's
        last one, and a 404 to an id range only if the range is empty
        (`not_found.check_list_end`)."""
        if response.status_code == 404 and (previous is not None or extra):
            params = {**self.get_url_params(context, None), **extra}
            ordered = not self.is_full_table and self.ordering_fallback is None
            key = self.replication_key if ordered else None
            check_list_end(self.name, self.wms, response, previous, params=params, key=key)
        return response

    def _parallel_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The first page as usual (ordered by id); only an entity with more pages is read in
        parallel, over the ids after that page: a small code table costs one request."""
        send = self.request_decorator(self._request)
        ahead = self._first_page(context)
        first = ahead.result() if ahead else self._fetch(send, context, None, {})
        if first.status_code == 404:
            return
        rows = list(self.parse_response(first))
        yield from rows
        if not rows or not json_body(first).get("next_page"):
            return
        ranges = id_ranges(self.wms, self.name, int(rows[-1]["id"]) + 1, self.max_parallel_requests)
        self.logger.info(
            "Entity '%s': full table in %d id ranges after the first page, %d requests at a time",
            self.name,
            len(ranges),
            self.max_parallel_requests,
        )
        yield from self._read_lists(context, [{"id__range": f"{lo},{hi}"} for lo, hi in ranges])

    def _read_lists(
        self,
        context: Context | None,
        lists: list[dict[str, t.Any]],
        after: requests.Response | None = None,
    ) -> t.Iterable[dict[str, t.Any]]:
        """The records of several lists (their extra filters), `max_parallel_requests` at once;
        or of one list after its first page (`after`), one page ahead."""
        send = self.request_decorator(self._request)

        def read(
            extra: dict[str, t.Any],
            stopped: t.Callable[[], bool],
            put: t.Callable[[requests.Response], None],
        ) -> None:
            paginator = self.get_new_paginator()
            previous = after
            if after is not None:
                paginator.advance(after)
            while not paginator.finished and not stopped():
                response = self._fetch(send, context, paginator.current_value, extra)
                previous = self._check_end(response, previous, context, extra)
                paginator.advance(response)
                put(response)

        workers = 1 if after is not None else self.max_parallel_requests
        for page in pages_side_by_side(lists, workers, self.name, read):
            yield from self.parse_response(page)

    def _backfill_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The first page as usual (ordered by `{key},id`); with more pages, the rest over id
        ranges side by side, from the first page's last second (filters in whole seconds, D18;
        rows up to its last `({key}, id)` dropped here: each row is in one range, read once) up
        to the highest `{key}` when they began (`top`): rows changed later are the next run's.
        Records come in no order: the bookmark is held until every range is read, then set to
        the highest value read (never above `top`)."""
        send = self.request_decorator(self._request)
        ahead = self._first_page(context)
        first = ahead.result() if ahead else self._fetch(send, context, None, {})
        if first.status_code == 404:
            return
        self._check_end(first, None, context, {})
        rows = list(self.parse_response(first))
        yield from rows
        if not rows or not json_body(first).get("next_page"):
            return
        if first.elapsed.total_seconds() < SLOW_REQUEST:  # parsing bounds the run: in order
            yield from self._read_lists(context, [{}], after=first)
            return
        key = self.replication_key
        assert key is not None
        last = page_results(first, self.name)[-1]
        top = edge_value(self.wms, self.name, f"-{key},-id", key)
        low_id = int(edge_value(self.wms, self.name, "id", "id"))
        ranges = id_ranges(self.wms, self.name, low_id, self.max_parallel_requests)
        low, high = lower_bound(last[key]), upper_bound(top)
        lists = [
            {"id__range": f"{a},{b}", f"{key}__gte": low, f"{key}__lte": high} for a, b in ranges
        ]
        mark = (utc_timestamp(str(last[key])), int(last["id"]))
        self.logger.info(
            "Entity '%s': first run in %d id ranges up to %s %s, %d requests at a time",
            self.name,
            len(ranges),
            key,
            utc_timestamp(str(top)) if top else top,
            self.max_parallel_requests,
        )
        self._backfilling = True
        try:
            highest = str(rows[-1][key])
            ceiling = utc_timestamp(str(top))  # rows above it may have been read before they moved
            for row in self._read_lists(context, lists):
                value = row.get(key)
                if value and (value, row["id"]) <= mark:
                    continue
                if value and highest < value <= ceiling:
                    highest = value
                yield row
            self._bookmark = (highest, context)
        finally:
            self._backfilling = False

    def validate_response(self, response: requests.Response) -> None:
        """lgfapi's rules: 404 on a list is an empty result; 429/5xx and broken bodies retry."""
        if response.status_code == 404:
            self.logger.info("Entity '%s': no records match (404 on the list).", self.name)
            return
        raise_for_response(response, self.name)
        if self._early is not None and not prefetching():
            # before decoding: the next request leaves a page sooner
            self._early.fetch(response.content)
        page_results(response, self.name)  # decoded once; a body of another shape is retried

    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        if response.status_code == 404:
            return
        self._extracted_at = datetime.now(UTC)
        shape, breaks = self._shape, self._breaks
        rows = []
        bad: list[Problem] = []
        for index, record in enumerate(page_results(response, self.name)):
            if record.__class__ is not dict:
                breaks.row(record)
                continue
            row = flatten_record(record, shape, self.name, bad)
            if index == 0:
                breaks.unknown_fields(row, shape.known)
            for name in breaks.unknown:  # reported once; not in the SCHEMA message
                row.pop(name, None)
            if bad:
                for name, value in bad:
                    breaks.value(row.get("id"), name, value)
                bad.clear()
            rows.append(row)
        for index, name, value in conform_page(rows, shape):
            breaks.value(rows[index].get("id") if name != "id" else value, name, value)
        for row in rows:
            if row.get("id") is None:
                breaks.row(row)
                continue
            shape.to_utc(row)  # every date-time in UTC, the same instant
            yield row

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        """The records, with progress in the log every `PROGRESS_INTERVAL` seconds."""
        started = last_report = time.monotonic()
        count = rereads = 0
        # Rows at or before the bookmark come again on purpose (`__gte`): counted as re-reads.
        key = None if self.is_full_table else self.replication_key
        bookmark = reread_bound(state_bookmark(self.tap_state, self.name, context)) if key else None
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(GIL_SWITCH_INTERVAL)
        try:
            for count, row in enumerate(super().get_records(context), start=1):
                if bookmark is not None and str(row.get(key or "") or "") <= bookmark:
                    rereads += 1
                yield row
                if count % 1000 == 0 and time.monotonic() - last_report >= PROGRESS_INTERVAL:
                    last_report = time.monotonic()
                    self._log_progress("progress", count, last_report - started)
        finally:
            sys.setswitchinterval(switch_interval)
        self._log_progress("done", count, time.monotonic() - started, rereads)
        self._breaks.summary()
        writer = self.buffered_writer
        if writer is not None:  # every record of the stream is out
            writer.flush()

    def _log_progress(self, stage: str, count: int, elapsed: float, rereads: int = 0) -> None:
        """A long stream's progress, or (`done`) its summary; the run's adds up `run_totals`."""
        rate = count / elapsed if elapsed > 0 else 0.0
        if stage == "done":
            self.run_totals = (count, rereads, self.requests_sent)
        self.logger.info(
            "Entity '%s' %s: %d records%s, %d requests in %.1f s (%.0f records/s)",
            self.name,
            stage,
            count,
            f" ({rereads} behind the bookmark)" if rereads else "",
            self.requests_sent,
            elapsed,
            rate,
        )
