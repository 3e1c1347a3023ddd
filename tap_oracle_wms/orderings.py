"""Entities that refuse the ordering keyset paging needs (docs/api-contract.md D19).

Some tenants answer 400 to `ordering=mod_ts,id` (or to any ordering) on some entities; a
connector run against real tenants falls back to an unordered scan there (Fivetran's community
`wms_oracle`, README "Error handling"). Such an entity is still read completely here:

- its first request answers 400 before any record is read; the WMS is asked whether the same
  list is taken ordered by `id` alone, then with no ordering, and the first it takes is used
  (else the 400 stands: it was not the ordering);
- the list is then read in that order with the same filters (`mod_ts__gte=<bookmark>`), one
  sequenced cursor: under churn a row only moves to a later `mod_ts`, still inside the filter,
  and keeps its `id`, so none is skipped (with no ordering at all, that rests on the WMS's cursor);
- records then come in no `mod_ts` order, so the bookmark is held (as in a first run's id
  ranges) and set at the end to the highest `mod_ts` read, never above the second before the
  WMS's own clock (`Date` of the probe, sent before the read began): a row changed while the
  list was read, behind the cursor, has a later `mod_ts` and is read by the next run. Without a
  `Date`, the bookmark stays where it was (the next run reads the same rows again).

One warning per entity and run names the refused ordering and the one used.
"""

from __future__ import annotations

import typing as t
from datetime import timedelta
from email.utils import parsedate_to_datetime

from oracle_wms.errors import WmsNotFoundError, WmsValidationError
from oracle_wms.schema import utc_timestamp

if t.TYPE_CHECKING:
    import logging

    from singer_sdk.helpers.types import Context

    from oracle_wms.client import WmsClient

NO_ORDERING = ""
"""The fallback that sends no `ordering` at all."""


class OrderingFallback:
    """Mixin of `EntityStream`: `get_records` reads again in a fallback order when the first
    request is refused for its ordering. The stream's `get_url_params` applies
    `ordering_fallback` (`apply`)."""

    name: str
    wms: WmsClient
    replication_key: str | None
    _backfilling: bool
    _bookmark: tuple[str, Context | None] | None
    if t.TYPE_CHECKING:

        @property
        def logger(self) -> logging.Logger: ...

        @property
        def is_full_table(self) -> bool: ...

        def get_url_params(
            self, context: Context | None, next_page_token: t.Any
        ) -> dict[str, t.Any]: ...

    ordering_fallback: str | None = None
    """None: the ordering the stream plans; else the ordering used instead ("" for none)."""

    def apply(self, params: dict[str, t.Any]) -> dict[str, t.Any]:
        """The request's parameters with the fallback ordering, if one is in use."""
        if self.ordering_fallback is None:
            return params
        if self.ordering_fallback == NO_ORDERING:
            params.pop("ordering", None)
        else:
            params["ordering"] = self.ordering_fallback
        return params

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        started = False
        try:
            for row in super().get_records(context):  # type: ignore[misc]
                started = True
                yield row
            return
        except WmsValidationError as exc:
            if started or exc.status != 400 or self.ordering_fallback is not None:
                raise
            refused = self.get_url_params(context, None).get("ordering")
            if not refused:
                raise
            cap = self._choose_fallback(context, exc)
        key = self.replication_key
        self.logger.warning(
            "Entity '%s': the WMS refuses ordering=%s (400); read ordered %s instead%s",
            self.name,
            refused,
            f"by {self.ordering_fallback}" if self.ordering_fallback else "as the WMS lists it",
            f", bookmark held to the WMS's clock ({cap})" if key and cap else "",
        )
        if key is None or self.is_full_table:
            yield from super().get_records(context)  # type: ignore[misc]
            return
        yield from self._unsorted(context, key, cap)

    def _unsorted(
        self, context: Context | None, key: str, cap: str | None
    ) -> t.Iterable[dict[str, t.Any]]:
        highest: str | None = None
        self._backfilling = True  # nothing held while records come in no order
        try:
            for row in super().get_records(context):  # type: ignore[misc]
                value = row.get(key)
                if value and (highest is None or value > highest):
                    highest = value
                yield row
        finally:
            self._backfilling = False
        if highest is not None and cap is not None:
            self._bookmark = (min(highest, cap), context)

    def _choose_fallback(self, context: Context | None, refused: WmsValidationError) -> str | None:
        """Set `ordering_fallback` to the first ordering the WMS takes for this list, and return
        the bookmark's cap from its `Date` (UTC records' form), None without one.

        Raises:
            WmsValidationError: `refused`, when no ordering (nor none) is taken.
        """
        params = self.get_url_params(context, None)
        for candidate in ("id", NO_ORDERING):
            if params.get("ordering") == candidate:
                continue
            probe = {**params, "page_mode": "paged", "page_size": 1, "fields": "id"}
            probe.pop("ordering", None)
            if candidate:
                probe["ordering"] = candidate
            try:
                response = self.wms.get(f"entity/{self.name}/", probe, entity=self.name)
            except WmsValidationError:
                continue
            except WmsNotFoundError:
                self.ordering_fallback = candidate
                return None
            self.ordering_fallback = candidate
            return _clock_cap(response.headers.get("Date"))
        raise refused


def _clock_cap(date: str | None) -> str | None:
    """A second before the WMS's `Date`, as records carry `mod_ts`; None if absent or bad."""
    if not date:
        return None
    try:
        return utc_timestamp((parsedate_to_datetime(date) - timedelta(seconds=1)).isoformat())
    except (TypeError, ValueError):
        return None
