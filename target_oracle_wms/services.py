"""What a write sink uses of the target that created it (`WriteServices`).

`TargetOracleWMS` implements it; sinks see the target only through it, so nothing the sinks import
imports `target.py`.
"""

from __future__ import annotations

import abc
import typing as t

from oracle_wms.client import WmsClient
from oracle_wms.schema import EntityDescription
from target_oracle_wms.actions import StreamAction
from target_oracle_wms.ledger import Ledger
from target_oracle_wms.lookups import Lookups
from target_oracle_wms.report import RunReport


class WriteServices(abc.ABC):
    """What a write sink uses of the target that created it, for the whole run.

    `TargetOracleWMS` implements it (the client, ledger and lookups are made on first use, and
    shared by every stream's sink); a sink checks its target is one when it is created.
    """

    @property
    @abc.abstractmethod
    def wms(self) -> WmsClient:
        """The run's lgfapi client (its `settings` hold the retry policy)."""

    @property
    @abc.abstractmethod
    def lookups(self) -> Lookups:
        """Business keys to ids, cached for the run."""

    @property
    @abc.abstractmethod
    def ledger(self) -> Ledger:
        """Identities of records applied by this or earlier runs."""

    @property
    @abc.abstractmethod
    def report(self) -> RunReport:
        """Outcome counts per stream, and the rejects file."""

    @property
    @abc.abstractmethod
    def history_activity_ids(self) -> list[int]:
        """The `inventory_history` activity ids searched for applied references
        (`oracle_wms.scoping.history_ids`)."""

    @property
    @abc.abstractmethod
    def history_status_ids(self) -> list[int]:
        """The `inventory_history` status ids, for the status combination of that search."""

    @property
    @abc.abstractmethod
    def max_parallel_writes(self) -> int:
        """Single-record writes in flight at once (the `max_parallel_writes` setting, 1 to 8)."""

    @property
    @abc.abstractmethod
    def bulk_max_objects(self) -> int:
        """Objects per bulk request at most (the `bulk_max_objects` setting; Oracle caps a bulk
        request at the user's "Rows per Page", 10 to 125)."""

    @property
    @abc.abstractmethod
    def ship_location_barcode(self) -> str | None:
        """The final shipping location for LPNs whose record names none (Oracle's Ship OBLPN
        requires `locn_barcode`)."""

    @property
    @abc.abstractmethod
    def undocumented_patch_fields(self) -> bool:
        """Also PATCH fields no Oracle page lists as writable (each then verified by a re-read)."""

    @property
    @abc.abstractmethod
    def dry_run(self) -> bool:
        """Validate and log the planned calls; write nothing."""

    @abc.abstractmethod
    def description(self, entity: str) -> EntityDescription:
        """`describe` of an entity (`GET entity/{name}/describe/`), once per run."""

    @abc.abstractmethod
    def send_ahead(self, reads: list[t.Callable[[], t.Any]]) -> None:
        """Start `reads` (record-independent, run-wide: `WmsSink.ahead`) in the background."""

    @abc.abstractmethod
    def action_for(self, stream_name: str) -> StreamAction:
        """The write action of a stream (raises `WmsConfigError` when it has none)."""
