"""target-oracle-wms: settings, and which sink (write action) each stream goes to."""

from __future__ import annotations

import os
import typing as t
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property, partial
from pathlib import Path

import click
from singer_sdk import PluginBase, Target
from singer_sdk import typing as th
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities

from oracle_wms.cli import (
    apply_metrics_log_level,
    check_config_files,
    drop_unusable_settings,
    one_line_failures,
    validate_plugin_config,
)
from oracle_wms.client import WmsClient
from oracle_wms.config_schema import CONNECTION_PROPERTIES, environment_config, seconds
from oracle_wms.errors import WmsError
from oracle_wms.schema import EntityDescription
from oracle_wms.scoping import HISTORY_PROPERTIES, history_ids
from oracle_wms.settings import (
    WmsSettings,
    count_setting,
)
from target_oracle_wms.actions import StreamAction, action_for
from target_oracle_wms.adjustments import InventoryAdjustmentSink, InventoryCreateSink
from target_oracle_wms.base import WmsSink
from target_oracle_wms.ledger import Ledger, LocalFileError
from target_oracle_wms.lookups import Lookups
from target_oracle_wms.picks import PickConfirmSink
from target_oracle_wms.receipts import ReceiveSink
from target_oracle_wms.report import RunReport
from target_oracle_wms.services import WriteServices
from target_oracle_wms.shipping import OblpnShipSink
from target_oracle_wms.stage import StageSink
from target_oracle_wms.updates import UpdateSink
from target_oracle_wms.waves import DEFAULT_TIMEOUT, RunWaveSink

SINKS: dict[str, type[WmsSink]] = {
    "inventory_adjustment": InventoryAdjustmentSink,
    "update": UpdateSink,
    "oblpn_ship": OblpnShipSink,
    "inventory_create": InventoryCreateSink,
    "stage": StageSink,
    "run_wave": RunWaveSink,
    "pick_confirm": PickConfirmSink,
    "receive": ReceiveSink,
}
"""`StreamAction.sink_kind` -> the sink that performs it."""


DEFAULT_PARALLEL_WRITES = 4
MAX_PARALLEL_WRITES = 8
ROWS_PER_PAGE = (10, 125)
"""Oracle's "Rows per Page" user setting: the most objects one bulk request may act on."""


FILES_DIR = "target-oracle-wms"
"""The directory of the files the target keeps (ledger, rejects), inside Meltano's system
directory when Meltano runs the target."""
FORMER_DIR = ".target-oracle-wms"
"""Their default directory before (in the project itself, outside Meltano's `.meltano/`); still
the default outside Meltano, relative to the working directory."""


def local_file(value: object, file_name: str) -> Path:
    """Where a file the target keeps is, as an absolute path with `~`, `$VARS` and symlinks
    resolved, so every way of naming one file names it the same (and takes the same lock).

    A relative `value` is relative to the Meltano project (`MELTANO_PROJECT_ROOT`, which Meltano
    sets for the plugins it runs) or, outside Meltano, to the working directory. Without a value:
    `target-oracle-wms/<file_name>` in Meltano's system directory (`MELTANO_SYS_DIR_ROOT`,
    default `<project>/.meltano`, which Meltano's own `.gitignore` keeps out of git, beside
    Meltano's state); outside Meltano `.target-oracle-wms/<file_name>` in the working directory.
    Under Meltano a ledger left at the former default (`<project>/.target-oracle-wms/`) is still
    used while none is at the new one, so an upgrade never starts an empty ledger.
    """
    project = os.environ.get("MELTANO_PROJECT_ROOT")
    base = Path(project) if project else Path.cwd()
    if value:
        return (base / Path(os.path.expandvars(str(value))).expanduser()).resolve()
    if not project:
        return (base / FORMER_DIR / file_name).resolve()
    system = Path(os.environ.get("MELTANO_SYS_DIR_ROOT") or base / ".meltano")
    path = (base / system / FILES_DIR / file_name).resolve()
    former = (base / FORMER_DIR / file_name).resolve()
    return former if former.exists() and not path.exists() else path


class RecordsRejectedError(WmsError):
    """The run ended with rejected records and `allow_failures` is off."""


class TargetOracleWMS(Target, WriteServices):
    """Writes into Oracle WMS Cloud: inventory adjustments and new inventory, order, ASN and LPN updates, new orders and ASNs through the stage interface, wave runs, pick confirmations, LPN shipping and receipts, each record validated first and applied once."""  # noqa: E501

    # The docstring above is the `--about` description (one line: the SDK's markdown indents a
    # second one into a code block). As `WriteServices` the target gives its sinks the run's
    # client, lookups, ledger and report, each made on first use.

    name = "target-oracle-wms"
    # Not the SDK's `validate-records`: every record is checked against its SCHEMA whatever
    # `validate_records` says (a failure is a reject, `base.WmsSink._validate_and_parse`).
    capabilities: t.ClassVar[list[CapabilitiesEnum]] = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]
    # The distribution whose metadata gives `--version`, `--about` and the log header their
    # version (pyproject.toml, the one place it is written).
    package_name = "oracle-wms-singer"

    config_jsonschema = th.PropertiesList(
        *CONNECTION_PROPERTIES,
        th.Property(
            "stream_actions",
            th.ObjectType(),
            description='Stream name -> {"entity", "action" (update|create|operation|stage), '
            '"operation"}; defaults cover inventory_adjustment, order_hdr, order_dtl, '
            "ib_shipment, ib_shipment_dtl, oblpn_shipment, wave_run, pick_confirm and "
            "iblpn_receipt",
        ),
        th.Property(
            "max_parallel_writes",
            th.IntegerType,
            default=DEFAULT_PARALLEL_WRITES,
            description="Write requests in flight at once (1 to 8), each to a different WMS row; "
            "records of one row are written in input order",
        ),
        th.Property(
            "bulk_max_objects",
            th.IntegerType,
            default=ROWS_PER_PAGE[1],
            description="Objects per bulk request (10 to 125): Oracle caps a bulk operation at "
            "the API user's 'Rows per Page'; the target also lowers it to the page size the WMS "
            "serves the user",
        ),
        th.Property(
            "ship_location_barcode",
            th.StringType,
            description="Barcode of the final shipping location for LPNs whose record has no "
            "locn_barcode (Oracle's Ship OBLPN requires one)",
        ),
        th.Property(
            "undocumented_patch_fields",
            th.BooleanType,
            default=False,
            description="Also update fields Oracle does not document as writable "
            "(order_dtl.ord_qty, ib_shipment.exp_arrival_date/ref_nbr, "
            "ib_shipment_dtl.shipped_qty); each write is verified by re-reading the record",
        ),
        th.Property(
            "stage_batch_size",
            th.IntegerType,
            default=1000,
            description="Documents (orders, ASNs) per stage message, 1 to 1000 (a message also "
            "closes at 512 KiB of JSON)",
        ),
        th.Property(
            "stage_timeout",
            seconds(zero_ok=False),
            default=600,
            description="Seconds to wait for a stage message's documents to appear in the WMS "
            "when its answer was lost (then the missing ones are rejected, not resent)",
        ),
        th.Property(
            "wave_timeout",
            seconds(zero_ok=False),
            default=DEFAULT_TIMEOUT,
            description="Seconds to wait for each wave a wave_run record starts to reach "
            "Completed (polled with progress in the log); a wave still running then is a reject "
            "naming its run number, and a rerun waits for it instead of running another",
        ),
        th.Property(
            "ledger_path",
            th.StringType,
            description="SQLite file of applied records: what makes a replay a no-op; one run "
            "at a time holds it. Default: .meltano/target-oracle-wms/ledger.sqlite under Meltano, "
            "else .target-oracle-wms/ledger.sqlite; a relative path is relative to the Meltano "
            "project (else the working directory). Keep it on persistent storage",
        ),
        th.Property(
            "rejects_path",
            th.StringType,
            description="JSON lines of rejected records with a reason per field, appended to. "
            "Default: rejects.jsonl beside the default ledger; relative as ledger_path",
        ),
        th.Property(
            "allow_failures",
            th.BooleanType,
            default=False,
            description="Exit 0 even when records were rejected, and pass the source's STATE "
            "on past them (without it, a run with a reject passes on no STATE after it, so the "
            "next run reads the rejected records again)",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            description="Validate and log the planned calls; write nothing (and pass no STATE on)",
        ),
        *HISTORY_PROPERTIES,  # where applied references are looked up in inventory history
    ).to_dict()

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        apply_metrics_log_level(self)

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict[str, t.Any]) -> None:
        """SDK: adds the settings of a loader into a database (`load_method`, `batch_size_rows`,
        `add_record_metadata`, `validate_records`), which this target does not read (a batch
        is `WmsSink.max_size` records; `_sdc_*` fields would be unknown fields, each a
        reject): only the stream map and flattening settings, which it honours."""
        PluginBase.append_builtin_config(config_jsonschema)
        drop_unusable_settings(config_jsonschema)

    def get_sink_class(self, stream_name: str) -> type[WmsSink]:
        return SINKS[self.action_for(stream_name).sink_kind]

    def action_for(self, stream_name: str) -> StreamAction:
        return action_for(stream_name, self.config)

    @cached_property
    def settings(self) -> WmsSettings:
        return WmsSettings.from_config(self.config)

    @cached_property
    def wms(self) -> WmsClient:
        return WmsClient(self.settings)

    @cached_property
    def lookups(self) -> Lookups:
        return Lookups(self.wms)

    @cached_property
    def ledger(self) -> Ledger:
        """The run's ledger, held by this run until `process_endofpipe` (`ledger.py`)."""
        path = local_file(self.config.get("ledger_path"), "ledger.sqlite")
        if path == self.report.rejects_path:  # a reject appended would corrupt the ledger
            raise LocalFileError(
                "rejects_path", path, "is the ledger's file", "give the rejects a file of their own"
            )
        ledger = Ledger(path, self.settings.base_url)
        self.logger.info("Ledger %s (held by this run)", ledger.path)
        if ledger.adopted:
            self.logger.info("Ledger %s records the writes to the WMS %s", ledger.path, ledger.wms)
        former = ledger.path.parent.name == FORMER_DIR and not self.config.get("ledger_path")
        if former and os.environ.get("MELTANO_PROJECT_ROOT"):  # the default outside Meltano
            self.logger.warning(
                "The ledger is at the former default %s: move the directory to "
                ".meltano/%s in the project, or set ledger_path to it",
                ledger.path.parent,
                FILES_DIR,
            )
        return ledger

    @cached_property
    def report(self) -> RunReport:
        return RunReport(local_file(self.config.get("rejects_path"), "rejects.jsonl"), self.logger)

    @cached_property
    def history_activity_ids(self) -> list[int]:
        return history_ids(self.wms, self.config, "history_activity_ids")

    @cached_property
    def history_status_ids(self) -> list[int]:
        return history_ids(self.wms, self.config, "history_status_ids")

    @cached_property
    def max_parallel_writes(self) -> int:
        return count_setting(
            self.config, "max_parallel_writes", DEFAULT_PARALLEL_WRITES, 1, MAX_PARALLEL_WRITES
        )

    @cached_property
    def bulk_max_objects(self) -> int:
        return count_setting(self.config, "bulk_max_objects", ROWS_PER_PAGE[1], *ROWS_PER_PAGE)

    @property
    def ship_location_barcode(self) -> str | None:
        value = self.config.get("ship_location_barcode")
        return str(value) if value else None

    @property
    def undocumented_patch_fields(self) -> bool:
        return bool(self.config.get("undocumented_patch_fields"))

    @property
    def dry_run(self) -> bool:
        return bool(self.config.get("dry_run"))

    def description(self, entity: str) -> EntityDescription:
        """`describe` of an entity, once per run."""
        return self.lookups.once(("describe", entity), partial(self.wms.describe, entity))

    def send_ahead(self, reads: list[t.Callable[[], t.Any]]) -> None:
        """Start `reads` in the background, `max_parallel_writes` at once, and return: a
        stream's sink names them when the stream's SCHEMA arrives (`WmsSink.ahead`), so they
        run while the records are still on their way. A failed read is only logged here: the
        batch asks again (`Lookups.once`) and reports it."""
        pool: ThreadPoolExecutor | None = self.__dict__.get("_ahead")
        if pool is None:
            pool = ThreadPoolExecutor(self.max_parallel_writes, thread_name_prefix="ahead")
            self.__dict__["_ahead"] = pool
        for read in reads:
            pool.submit(self._read_ahead, read)

    def _read_ahead(self, read: t.Callable[[], t.Any]) -> None:
        try:
            read()
        except Exception as exc:  # the batch reads again and reports it
            self.logger.debug("a read sent ahead failed (%s); the batch asks again", exc)

    def process_endofpipe(self) -> None:
        try:
            super().process_endofpipe()
        finally:
            pool = self.__dict__.pop("_ahead", None)
            if pool is not None:  # nothing of the run is left in flight
                pool.shutdown(wait=True, cancel_futures=True)
            if "ledger" in self.__dict__:  # the next run, even in this process, may take it
                self.__dict__.pop("ledger").close()
        self.report.log_summary(self.logger)
        if self.report.rejected and not self.config.get("allow_failures"):
            raise RecordsRejectedError(
                f"{self.report.rejected} record(s) rejected (see {self.report.rejects_path}); "
                "set allow_failures to accept a run with rejects"
            )

    def _write_state_message(self, state: dict) -> None:  # type: ignore[type-arg]  # SDK's
        """SDK: writes the source's latest STATE after each drain of the sinks. Ours passes it
        on only while every record before it was applied or already applied: once a record of
        this run was rejected (`allow_failures` off) no STATE follows, so the orchestrator keeps
        the bookmark before it and the next run reads the rejected record again; and a dry run,
        which writes nothing, passes none on at all."""
        if self.dry_run:
            reason = "dry_run wrote nothing"
        elif self.report.rejected and not self.config.get("allow_failures"):
            reason = f"{self.report.rejected} record(s) rejected and allow_failures is off"
        else:
            super()._write_state_message(state)
            return
        if not self.__dict__.get("_state_held"):
            self.__dict__["_state_held"] = True
            self.logger.warning(
                "STATE held back from here on (%s): the next run reads these records again",
                reason,
            )

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command; a known failure (settings, credentials, connection, rejects) ends
        in one line each and exit 1, not a traceback (`oracle_wms.cli`)."""
        return one_line_failures(super().get_singer_command(), cls.name)

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> t.Any:
        """The SDK's config reading, with a file that is missing or not JSON named."""
        check_config_files(value)
        return super().cb_config(ctx, param, value)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """SDK: reports `jsonschema`'s own messages, which print the value (a password given as
        a number would be shown); here one line per bad setting, naming it, never a secret's
        value (`oracle_wms.cli.validate_plugin_config`, as the tap)."""
        return validate_plugin_config(self, raise_errors=raise_errors)

    @classproperty
    def _env_var_config(cls) -> dict[str, t.Any]:  # noqa: N805
        """SDK: settings from `TARGET_ORACLE_WMS_*` variables, a bad integer a traceback and a
        `number` a string the schema refuses (meltano/sdk#82); here typed as a config file gives
        them (`config_schema.environment_config`, as the tap)."""
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return environment_config(schema, cls._env_var_prefix)

    def _process_schema_message(self, message_dict: dict[str, t.Any]) -> None:
        """SDK: registers the stream, makes its sink. Ours first fails fast on a bad setting."""
        _ = self.settings, self.max_parallel_writes, self.bulk_max_objects  # fail fast
        _ = self.report, self.ledger  # their files usable, the ledger this run's alone
        _ = self.action_for(str(message_dict.get("stream")))
        super()._process_schema_message(message_dict)


if __name__ == "__main__":
    TargetOracleWMS.cli()
