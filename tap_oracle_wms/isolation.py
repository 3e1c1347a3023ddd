"""One entity never costs the others.

A WMS may refuse one request shape for one entity (a tenant's quirk, a permission changed under
a catalog, a list ending early). Before, the run stopped at that entity and every entity after
it got nothing. Now a stream whose WMS answer fails (`WmsResponseError` but 401, or a broken
assumption, `WmsAssumptionError`) is reported in one line naming it and the reason, its STATE is
written for what it read (a sorted stream's bookmark at its last record, so the next run goes on
from there and reads nothing twice it need not; an unsorted one keeps its bookmark), and the run
goes on with the next entity. At the end the run fails (exit 1) naming every failed entity, after
the other entities' records and STATE are out. The next run reads each entity from its own
bookmark: the failed ones from where they stopped.

Not isolated: failures that would fail every entity alike (credentials refused, 401; the WMS not
reachable, TLS), which end the run at once, as before.
"""

from __future__ import annotations

import logging
import typing as t

from oracle_wms.errors import (
    WmsAssumptionError,
    WmsAuthenticationError,
    WmsError,
    WmsResponseError,
)

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class EntitiesFailedError(WmsError):
    """Some entities failed this run (each named in the log); the others were read."""


def isolated(exc: BaseException) -> bool:
    """Whether a failure concerns one entity only (see the module's docstring)."""
    return isinstance(exc, WmsAssumptionError) or (
        isinstance(exc, WmsResponseError) and not isinstance(exc, WmsAuthenticationError)
    )


class IsolatedSync:
    """Mixin of `EntityStream`: `get_records` ends early, reporting the failure, instead of
    raising it (the SDK's `Stream.sync` is final): the SDK then finalizes the stream's state as
    at any end, so STATE holds what was read."""

    name: str
    if t.TYPE_CHECKING:

        @property
        def logger(self) -> logging.Logger: ...

    def get_records(self, context: Context | None) -> t.Iterable[dict[str, t.Any]]:
        try:
            yield from super().get_records(context)  # type: ignore[misc]
        except WmsError as exc:
            if not isolated(exc):
                raise
            FAILED.append(self.name)
            self.logger.error(
                "Entity '%s' failed and the run goes on with the others: %s", self.name, exc
            )


FAILED: list[str] = []
"""The entities that failed this run (one run per process; the tap empties it as it starts)."""


def raise_for_failures() -> None:
    """After every stream ran: one line naming each entity that failed.

    Raises:
        EntitiesFailedError: when at least one failed.
    """
    failed = sorted(set(FAILED))
    if failed:
        raise EntitiesFailedError(
            f"{len(failed)} entit{'y' if len(failed) == 1 else 'ies'} failed this run and "
            f"were read only up to the failure: {', '.join(failed)} (each named above with its "
            "reason); every other entity was read and its STATE written. The next run goes on "
            "from each entity's bookmark"
        )
