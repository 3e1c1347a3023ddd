"""Time handling: how instants are stored, parsed from filters and rendered.

Date-times are stored as UTC text with exactly six fractional digits
(`2026-01-05T06:00:00.000000`), so that SQL text order *is* instant order and keyset
comparisons work on plain columns. Each record also stores its zone (a fixed offset, no DST),
which SQLite applies when rendering.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache

STORE_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
BASE_INSTANT = datetime(2026, 1, 5, tzinfo=UTC)
"""Generated history ends here; generated data never reads the wall clock."""

_SPACE_OFFSET = re.compile(r" (\d{2}(:?\d{2})?)$")


def to_store(instant: datetime) -> str:
    """Aware datetime -> stored UTC text."""
    return instant.astimezone(UTC).strftime(STORE_FORMAT)


def from_store(text: str) -> datetime:
    return datetime.strptime(text, STORE_FORMAT).replace(tzinfo=UTC)


def render_at(text: str, minutes: int) -> str:
    """Stored UTC text -> the read shape of a date-time in a zone `minutes` east of UTC
    (`2026-01-05T00:00:00.000000-06:00`): what `read.render.value_sql` builds in SQL, for values
    rendered in Python."""
    zone = timezone(timedelta(minutes=minutes))
    return from_store(text).astimezone(zone).isoformat(timespec="microseconds")


@cache
def offset_text(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


@cache
def offset_modifier(minutes: int) -> str:
    """The SQLite date modifier that shifts a UTC value into the zone."""
    return f"{minutes:+d} minutes"


def parse_filter_datetime(value: str, naive_offset: int = 0) -> str:
    """ISO 8601 filter value -> stored UTC text. A value without an offset is read at
    `naive_offset` minutes east of UTC (the user's default facility zone, as Oracle documents).

    A `+` that was not URL-encoded arrives as a space; it is restored rather than rejected.
    """
    value = _SPACE_OFFSET.sub(r"+\1", value.strip())
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone(timedelta(minutes=naive_offset)))
    return to_store(parsed)


def parse_filter_date(value: str) -> str:
    return date.fromisoformat(value.strip()).isoformat()


def parse_filter_time(value: str) -> str:
    return time.fromisoformat(value.strip()).strftime("%H:%M:%S")
