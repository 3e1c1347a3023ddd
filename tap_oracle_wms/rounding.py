"""Rows the whole-second filter adds are not emitted.

The list of an incremental stream asks `{key}__gte=<start>` rounded down to its second
(`bookmarks.utc_bound`; tenants refuse fractions, docs/api-contract.md D18), where `start` is
the bookmark (or `start_date`) less `lookback`. The rows of that second before `start` are
therefore read again, but they are not news: they were emitted by the run that set the
bookmark (or lie before `start_date`). They are dropped here, so what a run emits is exactly
what `{key} >= start` holds, as before the rounding: the rounding costs a few rows read, not
rows written downstream.
"""

from __future__ import annotations

import typing as t
from datetime import UTC, datetime, timedelta

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


def exact_start(start: str, lookback: float) -> str:
    """`start` less `lookback`, in the records' fixed UTC form (string order is time order)."""
    parsed = datetime.fromisoformat(start)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    moved = parsed - timedelta(seconds=lookback)
    return moved.astimezone(UTC).isoformat(timespec="microseconds")


class ExactStart:
    """Mixin of `EntityStream`: `post_process` drops rows before the run's exact start."""

    lookback: float
    replication_key: str | None
    _start_of: tuple[Context | None, str | None] | None = None

    if t.TYPE_CHECKING:

        @property
        def is_full_table(self) -> bool: ...

        def get_starting_replication_key_value(self, context: Context | None) -> t.Any: ...

    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        key = self.replication_key
        if key is None or self.is_full_table:
            return row
        cached = self._start_of
        if cached is None or cached[0] is not context:
            start = self.get_starting_replication_key_value(context)
            cached = (context, exact_start(str(start), self.lookback) if start else None)
            self._start_of = cached
        bound = cached[1]
        value = row.get(key)
        if bound is not None and value is not None and value < bound:
            return None
        return row
