"""Rows read again are not emitted again; rows that arrive behind the cursor are.

An incremental list asks `{key}__gte=<start>`, `start` being the bookmark (or `start_date`)
less `lookback`, rounded down to its second (`bookmarks.utc_bound`; tenants refuse fractions,
docs/api-contract.md D18). Two kinds of rows come back that the last run already emitted:

- the rows of that second before `start` (the rounding): dropped, so a run emits exactly what
  `{key} >= start` holds;
- the rows from `start` up to the bookmark: the lookback window, and at least the rows sharing
  the bookmark's instant (a bulk job stamps hundreds at once, meltano/sdk#2154: `>=` would
  re-emit them every run, for ever, on an unchanged WMS).

So the state keeps, next to the bookmark, the `id` and `{key}` of every row emitted within the
window before it (`recent`, at most `MAX_RECENT`; beyond, the oldest are left out and those
rows are emitted again, never skipped). A row read again with the same `{key}` as recorded is
the same version: not emitted. A row that is not recorded, or has another `{key}`, is news: a
row committed late behind the cursor (a long transaction, a backdated create) within
`lookback` of the bookmark, or a row changed since. A run says in the log how many rows it read
again and did not emit. Runs that read in no order (a first run's id ranges, an entity refusing
its ordering) record the same window: the rows within `lookback` of the newest row they emitted.
"""

from __future__ import annotations

import logging
import typing as t
from collections import deque
from datetime import UTC, datetime, timedelta

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

RECENT = "recent"
"""State key next to the bookmark: {id: key value} of the rows emitted in the window."""
MAX_RECENT = 20_000
"""Rows kept in `recent` (about 1 MB of state); a longer window is partly emitted again."""
TRIM_EVERY = 4096
"""Rows emitted between two trims of the window to `lookback` before the newest: trimming is
a date parse and format, which per row cost a sixth of a full sync's time (`make bench`,
parse); `_record` cuts the window exactly at the end, so trimming late changes nothing."""


def moved(value: str, seconds: float) -> str:
    """An ISO 8601 instant `seconds` earlier, in the records' fixed UTC form."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return (parsed - timedelta(seconds=seconds)).astimezone(UTC).isoformat(timespec="microseconds")


class _Window:
    """One context's run: where it starts, what was recorded, what it emits in the window."""

    def __init__(self, start: str | None, bookmark: str | None, recorded: dict[str, str]):
        self.start = start
        self.bookmark = bookmark
        self.recorded = recorded
        self.emitted: deque[tuple[str, str]] = deque()
        self.trim_at = TRIM_EVERY
        self.unordered: dict[str, str] = {}
        self.newest = ""
        self.cutoff = ""
        self.kept: dict[str, str] = {}
        self.skipped = 0


class Rereads:
    """Mixin of `EntityStream`: `post_process` drops rows read again; `get_records` records
    the window in the state when a context is read to its end."""

    lookback: float
    replication_key: str | None
    _backfilling: bool
    _window: _Window | None = None
    _window_context: Context | None = None

    if t.TYPE_CHECKING:

        @property
        def name(self) -> str: ...

        @property
        def logger(self) -> logging.Logger: ...

        @property
        def is_full_table(self) -> bool: ...

        def get_starting_replication_key_value(self, context: Context | None) -> t.Any: ...

        def get_context_state(self, context: Context | None) -> dict[str, t.Any]: ...

    def _window_for(self, context: Context | None) -> _Window:
        window = self._window
        if window is None or self._window_context is not context:
            state = self.get_context_state(context)
            start = self.get_starting_replication_key_value(context)
            bookmark = state.get("replication_key_value")
            recorded = state.get(RECENT)
            if not isinstance(recorded, dict) or not bookmark:
                recorded = {}
            window = _Window(
                moved(str(start), self.lookback) if start else None,
                moved(str(bookmark), 0) if bookmark else None,
                {str(k): str(v) for k, v in recorded.items()},
            )
            self._window, self._window_context = window, context
        return window

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        key = self.replication_key
        if key is None or self.is_full_table:
            return row
        window = self._window_for(context)
        value = row.get(key)
        if value is None:
            return row
        if window.start is not None and value < window.start:
            return None  # the rounded filter's second, before the start
        ident = str(row.get("id"))
        if window.recorded.get(ident) == value:
            window.skipped += 1
            return None  # this very version was emitted by an earlier run
        if self._backfilling:
            self._note_unordered(window, ident, value)
            return row
        window.emitted.append((value, ident))
        if len(window.emitted) >= window.trim_at:  # the rows read in order: the newest last
            cutoff = moved(value, self.lookback)
            while window.emitted and window.emitted[0][0] < cutoff:
                window.emitted.popleft()
            window.trim_at = len(window.emitted) + TRIM_EVERY
        return row

    def _note_unordered(self, window: _Window, ident: str, value: str) -> None:
        """A row of a run in no order (a first run's id ranges, an entity refusing its ordering):
        kept while it may still lie within `lookback` of the newest row emitted, so the window
        is recorded as an ordered run records it. At most 2 x MAX_RECENT rows are held."""
        if value > window.newest:
            window.newest = value
            window.cutoff = moved(value, self.lookback)
        if value < window.cutoff:
            return
        window.unordered[ident] = value
        if len(window.unordered) > 2 * MAX_RECENT:
            kept = sorted(
                (item for item in window.unordered.items() if item[1] >= window.cutoff),
                key=lambda item: item[1],
            )
            window.unordered = dict(kept[-MAX_RECENT:])

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        yield from super().get_records(context)  # type: ignore[misc]
        key = self.replication_key
        window = self._window if self._window_context is context else None
        if key is None or self.is_full_table or window is None:
            return
        self._window = None
        self._record(context, window)

    def _record(self, context: Context | None, window: _Window) -> None:
        """The window before the new bookmark into the context's state (rows this run emitted,
        and those recorded before that are still in it and were not emitted again)."""
        state = self.get_context_state(context)
        newest = max(
            window.emitted[-1][0] if window.emitted else "", window.newest, window.bookmark or ""
        )
        if not newest:
            return
        cutoff = moved(newest, self.lookback)
        recent = {i: v for i, v in window.recorded.items() if v >= cutoff}
        recent.update((i, v) for v, i in window.emitted if v >= cutoff)
        recent.update((i, v) for i, v in window.unordered.items() if v >= cutoff)
        if len(recent) > MAX_RECENT:
            keep = sorted(recent.items(), key=lambda item: item[1])[-MAX_RECENT:]
            recent = dict(keep)
        state[RECENT] = recent
        if window.skipped:
            self.logger.info(
                "Entity '%s': %d rows read again (within lookback %g s of the bookmark, or at "
                "its instant) and not emitted: unchanged since the run that emitted them",
                self.name,
                window.skipped,
                self.lookback,
            )
