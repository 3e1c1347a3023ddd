"""Incoming state: every bookmark read as a UTC instant in the one form records carry.

Records carry `mod_ts`/`create_ts` as `2026-11-20T06:24:00.000000+00:00` (`schema.utc_timestamp`),
and the SDK compares bookmarks as strings: a bookmark for the same instant written
`2026-11-20T06:24:00Z` or `...07:24:00+01:00` (another tool, a hand-edited state) would compare
as later than the records and stop the run. So each bookmark is rewritten to that form when the
state is loaded; a naive one is read as UTC, and one that is not a date-time is an error naming
the stream and the value.
"""

from __future__ import annotations

import typing as t
from datetime import UTC, datetime, timedelta

from oracle_wms.errors import WmsStateError
from oracle_wms.filter_values import lower_bound

BOOKMARK = "replication_key_value"


def utc_instant(value: str) -> str:
    """An ISO 8601 date or date-time (naive: UTC) as the fixed-form UTC string records carry.

    Raises:
        ValueError: not an ISO 8601 date or date-time.
    """
    parsed = datetime.fromisoformat(value.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="microseconds")


def state_bookmark(
    state: t.Mapping[str, t.Any], stream: str, context: t.Mapping[str, t.Any] | None
) -> t.Any:
    """The bookmark a run starts from: the stream's, or its partition's (`context`), if any."""
    node = state.get("bookmarks", {}).get(stream, {})
    if context is not None:
        node = next((p for p in node.get("partitions", []) if p.get("context") == context), {})
    return node.get(BOOKMARK)


def reread_bound(bookmark: object) -> str | None:
    """A bookmark in the records' own form (`utc_instant`): records at or before it were read
    by an earlier run (`__gte` asks for them again on purpose). None without one."""
    try:
        return utc_instant(str(bookmark)) if bookmark else None
    except ValueError:
        return None


def normalise_state(state: object) -> dict[str, t.Any]:
    """A copy of a Singer state with every bookmark in the records' UTC form.

    Raises:
        WmsStateError: the state is not `{"bookmarks": {stream: {...}}}`, or a bookmark is
            not a date-time; naming the stream and the value.
    """
    if not isinstance(state, dict):
        raise WmsStateError(f"The state must be a JSON object, not {type(state).__name__}")
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        raise WmsStateError(
            f"The state's 'bookmarks' must be an object of streams, not {type(bookmarks).__name__}"
        )
    fixed: dict[str, t.Any] = {}
    for stream, stream_state in bookmarks.items():
        if not isinstance(stream_state, dict):
            raise WmsStateError(
                f"The state of stream '{stream}' must be an object, not {_short(stream_state)}"
            )
        copy = dict(stream_state)
        _fix(stream, copy)
        partitions = copy.get("partitions")
        if partitions is not None:
            if not isinstance(partitions, list) or not all(isinstance(p, dict) for p in partitions):
                raise WmsStateError(
                    f"The state of stream '{stream}' has 'partitions' that are not a list of "
                    "objects"
                )
            copy["partitions"] = [_fix(stream, dict(p)) for p in partitions]
        fixed[stream] = copy
    return {**state, "bookmarks": fixed}


def _fix(stream: str, node: dict[str, t.Any]) -> dict[str, t.Any]:
    if BOOKMARK not in node or node[BOOKMARK] is None:
        return node
    value = node[BOOKMARK]
    try:
        if not isinstance(value, str):
            raise ValueError
        node[BOOKMARK] = utc_instant(value)
    except ValueError:
        raise WmsStateError(
            f"The state's bookmark for stream '{stream}' is not an ISO 8601 date-time: "
            f"{_short(value)} (fix or remove it in the state)"
        ) from None
    return node


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def utc_bound(value: str, lookback: float = 0.0) -> str:
    """A bookmark or `start_date`, minus the lookback, as an lgfapi `__gte` value in UTC, rounded
    down to its second (`oracle_wms.filter_values.lower_bound`: tenants refuse fractions; the
    rows of that second before the bookmark are read again, none skipped).

    `start_date` may be a bare date or a naive date-time: read as UTC.
    """
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return lower_bound(parsed - timedelta(seconds=lookback))
