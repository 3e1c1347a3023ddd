"""Date-time filter values in the form every tenant takes: whole seconds, in UTC.

Oracle's pages show filter values with microseconds ([TYPES]), but a connector run against real
tenants sends them at second precision "as the API rejects sub-second values" (Fivetran's
community `wms_oracle`, docs/api-contract.md D18). Rounding changes which rows a bound admits,
so each bound is rounded in the direction that can only admit more rows (a re-read, merged on
`id` downstream), never fewer (a skipped row):

- a lower bound (`__gte`, `__gt`) is rounded down: `mod_ts__gte=06:00:12.7` -> `06:00:12`;
- an upper bound (`__lte`, `__lt`) is rounded up: `mod_ts__lte=06:00:12.2` -> `06:00:13`;
- an equality is widened to the second that holds it (`__gte` floor, `__lte` ceiling).

Every value is `YYYY-MM-DDTHH:MM:SS+00:00`; a value without an offset is read as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _instant(value: str | datetime) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _text(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds")


def lower_bound(value: str | datetime) -> str:
    """A `__gte`/`__gt` value: the instant rounded down to its second.

    Raises:
        ValueError: not an ISO 8601 date or date-time.
    """
    return _text(_instant(value).replace(microsecond=0))


def upper_bound(value: str | datetime) -> str:
    """A `__lte`/`__lt` value: the instant rounded up to the next whole second (unchanged when
    it is one).

    Raises:
        ValueError: not an ISO 8601 date or date-time.
    """
    instant = _instant(value)
    if instant.microsecond:
        instant = instant.replace(microsecond=0) + timedelta(seconds=1)
    return _text(instant)


def is_whole_second(value: str | datetime) -> bool:
    """Whether the instant has no fractional second (an exact filter value can be sent)."""
    return _instant(value).microsecond == 0


def second_of(key: str, value: str | datetime) -> dict[str, str]:
    """The filters of the whole second that holds `value` (`{key}__gte` its floor, `{key}__lt`
    the next second): what an equality on a fractional instant becomes.

    Raises:
        ValueError: not an ISO 8601 date or date-time.
    """
    floor = _instant(value).replace(microsecond=0)
    return {f"{key}__gte": _text(floor), f"{key}__lt": _text(floor + timedelta(seconds=1))}
