"""Where the tap replaces parts of singer-sdk's private per-record path, and why.

singer-sdk's `Stream._sync_records` runs, for every record: `_process_record`,
`_write_record_message` (through `_generate_record_messages`), `_increment_stream_state`, and
every `STATE_MSG_FREQUENCY` records `_write_state_message`; each partition and the stream end
with `_finalize_state`. With the SDK's defaults that path costs several times parsing the pages
(../shared/reference/singer-sdk-performance.md), so `RecordPathOverrides` replaces the parts
that were measured to matter and keeps the SDK's own code for every case it does not cover
(stream maps, aliases, flattening, deselected fields, unsorted or full-table bookmarks).
Figures: benchmarks/RESULTS.md and the README's "Speed" paragraph.

These methods are private to the SDK and may change in any release: this module is the only
place the tap overrides SDK private methods or reads SDK private names (streams.py only calls
`RESTStream._request`, to send a request inside our retry policy). tests/test_sdk_overrides.py
pins the SDK signature of each, so an upgrade that changes one fails there first.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
import typing as t
from datetime import UTC, datetime
from functools import cached_property

from singer_sdk import Stream, Tap, metrics
from singer_sdk.batch import Batcher
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from singer_sdk.singerlib.encoding.simple import RecordMessage

from oracle_wms.cli import (
    apply_metrics_log_level,
    drop_unusable_settings,
    validate_plugin_config,
)
from oracle_wms.config_schema import environment_config
from oracle_wms.errors import WmsAssumptionError, WmsConfigError
from tap_oracle_wms.writer import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context


ROUTINE_SDK_LINES = ("Beginning sync of ", "Starting incremental sync of ", "Skipping deselected")
"""The SDK's INFO lines at each stream's (and partition's) start and for each deselected
stream: three lines a stream that say nothing the stream's own summary does not."""


def check_batch_encoding(batch_config: object) -> None:
    """`batch_config` as the SDK writes it: its JSON Lines batcher (singer-sdk 0.54,
    `contrib/batch_encoder_jsonl.py`) gzips every file whatever `encoding.compression` says,
    and the BATCH message repeats that setting, so a loader told `none` (or nothing) reads gzip
    bytes as text and stops (`UnicodeDecodeError`; pinned in tests/test_sdk_overrides.py).
    Checked before any request.

    Raises:
        WmsConfigError: a JSON Lines `batch_config` whose compression is not `gzip`.
    """
    if not isinstance(batch_config, dict):
        return  # no BATCH messages; a malformed one is the SDK's schema's to refuse
    encoding = batch_config.get("encoding")
    if not isinstance(encoding, dict) or encoding.get("format") != "jsonl":
        return
    compression = encoding.get("compression")
    if compression != "gzip":
        raise WmsConfigError(
            "batch_config",
            f"encoding.compression is {compression!r}, but the Singer SDK writes JSON Lines "
            "BATCH files gzipped whatever it says, so the loader could not read them: set "
            "encoding.compression to 'gzip'",
        )


class RoutineLinesAsDebug(logging.Filter):
    """On the tap's and each stream's logger: `ROUTINE_SDK_LINES` become DEBUG (shown when
    DEBUG is on), so a default run logs a summary per stream (`EntityStream._log_progress`),
    progress every 15 s of a long stream, warnings, and a summary per run."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.INFO and str(record.msg).startswith(ROUTINE_SDK_LINES):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


ROUTINE_LINES_AS_DEBUG = RoutineLinesAsDebug()


class TapOverrides(Tap):
    """The tap's overrides of private `PluginBase`/`Tap` methods (the tap class derives from
    this one, so `super()` is the SDK's)."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        self._run_started = time.monotonic()
        super().__init__(*args, **kwargs)
        apply_metrics_log_level(self)
        if ROUTINE_LINES_AS_DEBUG not in self.logger.filters:
            self.logger.addFilter(ROUTINE_LINES_AS_DEBUG)

    def stream_finished(self) -> None:
        """Called by each stream at the very end of `sync_all` (`log_sync_costs`, once per
        stream, selected or not): after the last one, the run's summary from the streams'
        `run_totals`. (`Tap.sync_all` itself is final.)"""
        self._streams_finished = getattr(self, "_streams_finished", 0) + 1
        if self._streams_finished != len(self.streams):
            return
        done = [
            stream.run_totals
            for stream in self.streams.values()
            if isinstance(stream, RecordPathOverrides) and stream.run_totals is not None
        ]
        self.logger.info(
            "Run done: %d entities, %d records (%d behind their bookmark), %d requests in %.1f s",
            len(done),
            sum(total[0] for total in done),
            sum(total[1] for total in done),
            sum(total[2] for total in done),
            time.monotonic() - self._run_started,
        )

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict[str, t.Any]) -> None:
        """SDK: adds its built-in settings; not `faker_config`, which needs Faker, which this
        package does not install (`oracle_wms.cli.drop_unusable_settings`)."""
        super().append_builtin_config(config_jsonschema)
        drop_unusable_settings(config_jsonschema)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """SDK: validates the config against its JSON Schema and reports `jsonschema`'s own
        messages, which print the value (a password given as a number would be shown); here
        each bad setting is one line naming it, with no secret's value, and the URL checks
        of `WmsSettings` run in the same pass, so every bad setting is reported at once."""
        return validate_plugin_config(self, raise_errors=raise_errors)

    @classproperty
    def _env_var_config(cls) -> dict[str, t.Any]:  # noqa: N805
        """SDK: settings from `TAP_ORACLE_WMS_*` variables, a `number` setting left a string
        that the schema refuses (meltano/sdk#82) and a bad integer a traceback; here each is
        typed as a config file gives it (`config_schema.environment_config`)."""
        schema = cls.config_jsonschema
        cls.append_builtin_config(schema)
        return environment_config(schema, cls._env_var_prefix)

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SDK: writes the state and exits 0, after the interpreter joins every thread (a page
        request in flight holds it for as long as the request takes); here the records already
        built and then the state go out, and the process ends at once with 128 + the signal
        number, so a scheduler sees that the run did not finish."""
        self.logger.warning("Stopped by signal %d; the last STATE message stands", signum)
        try:
            self.state_writer.write_state(self.state)  # flushes the buffered records first
            writer = self.message_writer
            if isinstance(writer, BufferedMsgSpecWriter):
                writer.flush()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(128 + signal.Signals(signum).value)


class RecordPathOverrides(Stream):
    """The SDK's per-record path, minus what our streams do not need.

    Placed before the SDK's stream class among a stream's bases
    (`class EntityStream(RecordPathOverrides, RESTStream[...])`), so `super()` here is the SDK's
    own implementation, and mypy checks each override against the SDK's signature.

    What the stream provides beyond `Stream`:
    - `_extracted_at`: when the page of the records being emitted arrived (their
      `time_extracted`);
    - `TYPE_CONFORMANCE_LEVEL = NONE`: `_generate_record_messages` does not conform values,
      the stream builds them with the schema's types already.
    `is_sorted`, `check_sorted`, `replication_key` and `replication_method` are the SDK's
    properties, as the stream overrides them.
    """

    _extracted_at: datetime
    """Set by the stream when a page arrives; the `time_extracted` of its records."""
    requests_sent: int = 0
    """HTTP requests of the stream this run, counted from the SDK's request metrics."""
    run_totals: tuple[int, int, int] | None = None
    """(records, re-reads, requests) of the stream when it is done, for the run's summary."""
    _bookmark: tuple[str, Context | None] | None = None
    """The latest replication key value of a sorted stream and its context, not yet in the
    state (see `_increment_stream_state`)."""
    _backfilling: bool = False
    """Set while an incremental stream's first run reads id ranges side by side, in no order:
    the stream then sets `_bookmark` itself when every range is read."""

    @property
    def buffered_writer(self) -> BufferedMsgSpecWriter | None:
        """The tap's message writer when it is the buffered one (the tap's default)."""
        writer = self._tap.message_writer
        return writer if isinstance(writer, BufferedMsgSpecWriter) else None

    @cached_property
    def _has_deselected_fields(self) -> bool:
        return any(breadcrumb and not selected for breadcrumb, selected in self.mask.items())

    @cached_property
    def _writes_plain_records(self) -> bool:
        """Records go out exactly as built: no stream map, alias or flattening, every field
        selected, and the buffered writer; then `_write_record_message` encodes them itself."""
        maps = self.stream_maps
        return (
            self.buffered_writer is not None
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
            and not self._has_deselected_fields
        )

    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        """SDK: builds a RecordMessage per stream map and hands it to the tap's writer; here the
        line goes straight from the record into the output buffer instead.

        The SDK's way builds a RecordMessage, a dict of it and a timestamp for every record
        (measured: a fifth of a full sync). `BufferedMsgSpecWriter.write_record` writes the same
        bytes from the record, with the time its page arrived as `time_extracted`. Any stream
        map, alias, flattening, deselected field or other writer takes the SDK's path.
        """
        if not self._writes_plain_records:
            super()._write_record_message(record)
            return
        writer = self._tap.message_writer
        assert isinstance(writer, BufferedMsgSpecWriter)
        writer.write_record(self.name, record, self._stream_version, self._extracted_at)
        self.state_manager.is_flushed = False

    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> t.Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """SDK: writes the records into the BATCH files as read, with no stream map, flattening
        or deselection, while its BATCH messages name the mapped stream (meltano/sdk#1117: with
        `md5(cust_name)` every name was in clear in the files); here each record is transformed
        exactly as for a RECORD message (`_generate_record_messages`). A BATCH message per stream
        map names the same files, so a stream mapped to more than one output is refused.

        Raises:
            WmsConfigError: `batch_config` with a stream that has more than one stream map.
        """
        maps = self.stream_maps
        if len(maps) != 1:
            raise WmsConfigError(
                "batch_config",
                f"stream '{self.name}' has {len(maps)} stream maps; BATCH files hold one shape "
                "per stream: drop batch_config or keep one map for it",
            )
        batcher = Batcher(tap_name=self.tap_name, stream_name=self.name, batch_config=batch_config)

        def records() -> t.Iterator[dict[str, t.Any]]:
            for record in self._sync_records(context, write_messages=False):
                if record is None:
                    continue
                for message in self._generate_record_messages(record):
                    yield message.record

        for manifest in batcher.get_batches(records=records()):
            yield batch_config.encoding, manifest

    def _generate_record_messages(
        self, record: dict[str, t.Any]
    ) -> t.Generator[RecordMessage, None, None]:
        """SDK: drops deselected fields, conforms types and applies the stream maps, per record;
        here the deselection walk runs only when a field is deselected, and nothing is conformed.

        The SDK walks every field of every record to drop deselected ones even when none is
        (measured: 11% of a full sync). Conformance is off for our streams
        (`TYPE_CONFORMANCE_LEVEL = NONE`: the values already have the schema's types), so the
        SDK's call would return the record unchanged.
        """
        if self._has_deselected_fields:
            pop_deselected_record_properties(record, self.schema, self.mask)
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=datetime.now(UTC),
                )

    def _process_record(
        self,
        record: dict[str, t.Any],
        child_context: Context | None = None,
        partition_context: Context | None = None,
    ) -> None:
        """SDK: copies the partition's keys into each record and syncs child streams for it;
        here that runs only when there is a partition or a child stream, and copies only the
        keys the stream's SCHEMA declares.

        Our streams have no child streams, and only the scoped history stream has partitions:
        for every other record the SDK's call would find nothing to do, once per record. A
        history partition's `company_code`/`facility_code` are the list's filters, not fields of
        inventory_history (its rows carry `company_id_key`/`facility_id_key`): copied, they made
        records hold fields their SCHEMA does not declare, which a strict target refuses.
        """
        if partition_context:
            declared = self.schema.get("properties", {})
            partition_context = {k: v for k, v in partition_context.items() if k in declared}
        if partition_context or self.child_streams:
            super()._process_record(record, child_context, partition_context)

    def log_sync_costs(self) -> None:
        """SDK: the stream's last call of the run; here also the tap's cue for the run's
        summary (`TapOverrides.stream_finished`)."""
        super().log_sync_costs()
        if isinstance(self._tap, TapOverrides):
            self._tap.stream_finished()

    def _log_metric(self, point: metrics.Point[t.Any]) -> None:
        """SDK: logs a metric as given; here a request answered 404 is tagged `succeeded`,
        and requests are counted (`requests_sent`) for the stream's summary line.

        The SDK tags every 4xx `failed`, but lgfapi answers 404 to a list that matches nothing
        (contract D7): an hourly run's empty lists (570 of its inventory_history lists against
        a WMS taking Oracle's documented combinations) were alarms for anyone alerting on
        failed requests. A 404 that is an error (an entity gone, a wrong environment) ends the
        run with its own error line (`not_found`).
        """
        tags = point.tags
        if point.metric is metrics.Metric.HTTP_REQUEST_DURATION:
            self.requests_sent += 1  # for the stream's summary line
            if tags.get(metrics.Tag.HTTP_STATUS_CODE) == 404:
                tags[metrics.Tag.STATUS] = metrics.Status.SUCCEEDED
        super()._log_metric(point)

    def _increment_stream_state(
        self, latest_record: dict[str, t.Any], *, context: Context | None = None
    ) -> None:
        """SDK: updates the bookmark in the state with every record; here sorted incremental
        streams only remember the last record's key, written into the state lazily.

        In a sorted stream the bookmark is the last record's key, so it is held here and put
        into the state (`_apply_bookmark`) only when a STATE message (`_write_state_message`)
        or the partition's end (`_finalize_state`) needs it: the SDK's per-record update was a
        tenth of a full sync. The order is still checked on every record, by a plain comparison
        (the keys are fixed-format UTC strings); the first record of a new context goes through
        the SDK's full check. A record out of order is a `WmsAssumptionError` naming the
        undocumented assumption (Oracle does not say sequenced pages keep `ordering`): one clear
        line instead of the SDK's sort exception. While a first run reads id ranges side by side
        (`_backfilling`), records come in no order: nothing is held, and the stream sets the
        bookmark when every range is read.
        """
        if self._backfilling:  # the bookmark is set when every range is read
            return
        key = self.replication_key
        if not self.is_sorted or key is None or self.replication_method != REPLICATION_INCREMENTAL:
            super()._increment_stream_state(latest_record, context=context)
            return
        value = latest_record.get(key)
        if value is None:
            return
        held = self._bookmark
        if held is None or held[1] is not context:
            self._apply_bookmark()
            super()._increment_stream_state(latest_record, context=context)  # full check
        elif value < held[0]:
            self._apply_bookmark()
            raise WmsAssumptionError(
                f"entity '{self.name}': the WMS sent {key} {value} after {held[0]}, out of the "
                f"'{key},id' ordering the tap asked for. The tap assumes lgfapi keeps `ordering` "
                "in sequenced paging, which Oracle does not document (docs/api-behaviour.md, "
                "'Order of sequenced pages'). The last STATE stays a safe restart point; to read "
                "this entity anyway, replicate it FULL_TABLE (catalog metadata "
                "forced-replication-method)."
            )
        self._bookmark = (value, context)

    def _apply_bookmark(self) -> None:
        """Put the held bookmark into the state, through the SDK's own update."""
        if self._bookmark is not None:
            value, context = self._bookmark
            self._bookmark = None
            assert self.replication_key is not None
            super()._increment_stream_state({self.replication_key: value}, context=context)

    def _write_state_message(self) -> None:
        """SDK: writes the state when it changed; here the held bookmark goes into the state
        first (bookmarks are written lazily, see `_increment_stream_state`)."""
        self._apply_bookmark()
        super()._write_state_message()

    def _finalize_state(self, state: dict[str, t.Any] | None = None) -> None:
        """SDK: promotes progress markers at a partition's or the stream's end; here the held
        bookmark goes into the state first (bookmarks are written lazily, see
        `_increment_stream_state`)."""
        self._apply_bookmark()
        super()._finalize_state(state)
