"""tap-oracle-wms: settings and the stream list (one stream per WMS entity)."""

from __future__ import annotations

import io
import json
import typing as t
from functools import cached_property
from pathlib import Path

import click
from singer_sdk import typing as th

from oracle_wms import check
from oracle_wms.cli import check_config_files, one_line_failures
from oracle_wms.client import WmsClient
from oracle_wms.config_schema import CONNECTION_PROPERTIES, ISO_DATE_TIME, seconds
from oracle_wms.discovery import DiscoveryCache, discover
from oracle_wms.schema import json_schema
from oracle_wms.scoping import HISTORY_PROPERTIES, SCOPED_ENTITIES
from oracle_wms.session import MAX_CONNECTIONS, WmsSession
from oracle_wms.settings import (
    MAX_PAGE_SIZE,
    WmsSettings,
    count_setting,
    number_setting,
)
from tap_oracle_wms.bookmarks import normalise_state
from tap_oracle_wms.deletes import DEFAULT_SWEEP_INTERVAL, MAX_SWEEP_INTERVAL, DeletePolicy
from tap_oracle_wms.history import ScopedHistoryStream
from tap_oracle_wms.isolation import FAILED, raise_for_failures
from tap_oracle_wms.prefetch import FirstPages, Plan
from tap_oracle_wms.sdk_overrides import TapOverrides, check_batch_encoding
from tap_oracle_wms.streams import EntityStream
from tap_oracle_wms.writer import BufferedMsgSpecWriter

MAX_CACHE_TTL = 365 * 86400

DEFAULT_DISCOVERY_CACHE_TTL = 86400
DEFAULT_PARALLEL_REQUESTS = 2
MAX_PARALLEL_REQUESTS = 8
DEFAULT_CONCURRENT_REQUESTS = 8
DEFAULT_EMPTY_RECHECK = 0
MAX_CONCURRENT_REQUESTS = MAX_CONNECTIONS


DEFAULT_LOOKBACK = 300
"""Seconds before the bookmark read again each run: a row committed up to this long behind the
cursor (a long transaction, a backdated create) is read; the rows read again unchanged are not
emitted (`rereads.py`). Measured in benchmarks/bench_cloud.py (issue 23)."""


class TapOracleWMS(TapOverrides):
    """Extracts every Oracle WMS Cloud entity through lgfapi v10, incrementally on `mod_ts`."""

    name = "tap-oracle-wms"
    # The catalog comes from the WMS: `--discover` validates the settings first, like a sync.
    dynamic_catalog = True
    # The distribution whose metadata gives `--version`, `--about` and the log header their
    # version (pyproject.toml, the one place it is written).
    package_name = "oracle-wms-singer"
    # msgspec writes RECORD messages several times faster than the default JSON writer
    # (../shared/reference/singer-sdk-performance.md); decimals stay exact numbers.
    message_writer_class = BufferedMsgSpecWriter

    config_jsonschema = th.PropertiesList(
        *CONNECTION_PROPERTIES,
        th.Property(
            "entities",
            th.ArrayType(th.StringType(min_length=1)),
            description="Entity names or glob patterns (order_*) to extract; default: all",
        ),
        th.Property(
            "page_size",
            th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
            default=MAX_PAGE_SIZE,
            description=f"Records per request, 1 to {MAX_PAGE_SIZE} (Oracle's maximum)",
        ),
        th.Property(
            "start_date",
            th.StringType(pattern=ISO_DATE_TIME),
            description="Earliest mod_ts/create_ts to extract on a first run (UTC if no offset)",
        ),
        th.Property(
            "lookback",
            seconds(zero_ok=True),
            default=DEFAULT_LOOKBACK,
            description="Seconds before the bookmark to read again, for rows committed late",
        ),
        th.Property(
            "max_parallel_requests",
            th.IntegerType(minimum=1, maximum=MAX_PARALLEL_REQUESTS),
            default=DEFAULT_PARALLEL_REQUESTS,
            description="Concurrent page requests for full-table entities (1 to 8); Oracle warns "
            "that many concurrent large pages degrade the WMS, so the default is polite",
        ),
        th.Property(
            "max_concurrent_requests",
            th.IntegerType(minimum=1, maximum=MAX_CONCURRENT_REQUESTS),
            default=DEFAULT_CONCURRENT_REQUESTS,
            description="Requests in flight to the WMS at once, over every stream, page and "
            f"discovery call (1 to {MAX_CONCURRENT_REQUESTS}); Oracle's fair-use guidance is "
            "fewer than 10 simultaneous interface requests, so the default is 8; 1 reads one "
            "request at a time",
        ),
        th.Property(
            "discovery_cache_ttl",
            seconds(MAX_CACHE_TTL, zero_ok=True),
            default=DEFAULT_DISCOVERY_CACHE_TTL,
            description="Seconds a discovery (entity list and describe) is reused; 0 disables",
        ),
        th.Property(
            "discovery_cache_path",
            th.StringType,
            description="Directory of the discovery cache (default ~/.cache/oracle-wms-singer)",
        ),
        *HISTORY_PROPERTIES,
        th.Property(
            "history_empty_recheck",
            seconds(MAX_CACHE_TTL, zero_ok=True),
            default=DEFAULT_EMPTY_RECHECK,
            description="0 (default): every inventory_history combination (company, facility, "
            "activity, status) is asked every run. N: one that has never had a row and was "
            "answered empty is asked again only after N seconds (far fewer requests; rows of a "
            "combination new to the WMS then come up to N seconds late)",
        ),
        th.Property(
            "detect_deletes",
            th.BooleanType,
            default=True,
            description="Find rows deleted in the WMS (no delete feed exists) with id sweeps "
            "of incrementally read entities, sent with _sdc_deleted_at",
        ),
        th.Property(
            "delete_sweep_interval",
            seconds(MAX_SWEEP_INTERVAL, zero_ok=True),
            default=DEFAULT_SWEEP_INTERVAL,
            description="Seconds between two id sweeps of an entity (a listing of every id, "
            "1,250 a request); 0 sweeps every run. Deletes reach the warehouse within this",
        ),
        th.Property(
            "purged_history",
            th.StringType(allowed_values=["keep", "delete"]),
            default="keep",
            description="keep (default): rows Oracle's scheduled purge removes by age "
            "(inventory_history after 5 years, ...) stay in the warehouse; delete: they are "
            "swept and deleted like other rows",
        ),
        th.Property(
            "emit_activate_version_messages",
            th.BooleanType,
            default=True,
            description="Full-table entities (code tables) send ACTIVATE_VERSION, so the loader "
            "drops rows a run no longer read",
        ),
    ).to_dict()

    @cached_property
    def settings(self) -> WmsSettings:
        """The validated settings; a bad one raises naming it, before any request is made."""
        settings = WmsSettings.from_config(self.config)
        check_batch_encoding(self.config.get("batch_config"))
        _ = self.lookback, self.discovery_cache, self.max_parallel_requests
        _ = self.max_concurrent_requests, self.history_empty_recheck, self.delete_policy
        return settings

    @cached_property
    def delete_policy(self) -> DeletePolicy:
        return DeletePolicy.from_config(self.config)

    @cached_property
    def history_empty_recheck(self) -> float:
        return number_setting(
            self.config,
            "history_empty_recheck",
            DEFAULT_EMPTY_RECHECK,
            zero_ok=True,
            maximum=MAX_CACHE_TTL,
        )

    @cached_property
    def max_concurrent_requests(self) -> int:
        return count_setting(
            self.config,
            "max_concurrent_requests",
            DEFAULT_CONCURRENT_REQUESTS,
            1,
            MAX_CONCURRENT_REQUESTS,
        )

    @cached_property
    def max_parallel_requests(self) -> int:
        return count_setting(
            self.config,
            "max_parallel_requests",
            DEFAULT_PARALLEL_REQUESTS,
            1,
            MAX_PARALLEL_REQUESTS,
        )

    @cached_property
    def wms(self) -> WmsClient:
        """The one client (and pooled session) every stream shares, within one budget of
        concurrent requests (`max_concurrent_requests`)."""
        client = WmsClient(self.settings)
        session = client.session
        if isinstance(session, WmsSession):
            session.limit_concurrency(self.max_concurrent_requests)
        return client

    @cached_property
    def lookback(self) -> float:
        return number_setting(self.config, "lookback", DEFAULT_LOOKBACK, zero_ok=True)

    @cached_property
    def discovery_cache(self) -> DiscoveryCache:
        ttl = number_setting(
            self.config,
            "discovery_cache_ttl",
            DEFAULT_DISCOVERY_CACHE_TTL,
            zero_ok=True,
            maximum=MAX_CACHE_TTL,
        )
        path = self.config.get("discovery_cache_path")
        directory = Path(path).expanduser() if path else DiscoveryCache.default_directory()
        return DiscoveryCache(directory=directory, ttl=ttl)

    def load_state(self, state: dict[str, t.Any]) -> None:
        """The SDK's state loading, after every bookmark is read as a UTC instant in the form
        records carry (`tap_oracle_wms.bookmarks`): `Z`, offsets and naive values all work."""
        super().load_state(normalise_state(state))

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command plus `--check-connection`; known failures end in one line each."""
        command = super().get_singer_command()
        command.params.append(
            click.Option(
                ["--check-connection"],
                is_flag=True,
                help="Check settings, credentials and read access on the selected entities "
                "(--catalog, else the entities setting), then exit.",
            )
        )
        return one_line_failures(command, cls.name)

    @classmethod
    def cb_config(
        cls,
        ctx: click.Context,
        param: click.Option,
        value: tuple[str, ...],
    ) -> t.Any:
        """The SDK's config reading, with a file that is missing or not JSON named."""
        check_config_files(value)
        return super().cb_config(ctx, param, value)

    @classmethod
    def invoke(
        cls,
        *,
        check_connection: bool = False,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
        **kwargs: t.Any,
    ) -> None:
        """The SDK's run, with state and catalog files checked to be JSON (naming the file),
        or the connection check."""
        state = _json_file(state, "--state")
        catalog = _json_file(catalog, "--catalog")
        if not check_connection:
            FAILED.clear()
            super().invoke(state=state, catalog=catalog, **kwargs)
            raise_for_failures()  # entities that failed alone, the run having gone on (isolation)
            return
        config = kwargs.get("config")
        tap = cls(
            config=getattr(config, "config", None),
            catalog=None if catalog is None else json.loads(catalog.read()),
            parse_env_config=bool(getattr(config, "parse_env", False)),
            validate_config=True,
            setup_mapper=False,
        )
        selected = None
        if tap.input_catalog is not None:
            selected = [
                entry.tap_stream_id
                for entry in tap.input_catalog.streams
                if (
                    entry.metadata.root.selected
                    if entry.metadata.root.selected is not None
                    else entry.metadata.root.selected_by_default
                )
            ]
        click.echo(str(check.check_connection(tap.settings, selected, tap.config.get("entities"))))

    def discover_streams(self) -> list[EntityStream]:
        """Streams from the input catalog when given (no API calls), else from `describe`."""
        streams = self._entity_streams()
        for stream in streams:
            if isinstance(stream, ScopedHistoryStream):
                stream.recheck_after = self.history_empty_recheck
        budget = self.max_concurrent_requests
        if budget > 1:  # the first pages of the streams to come, requested ahead
            # twice the budget held or in flight: pages answered while the stream being written
            # still takes time keep the budget's slots busy (the session bounds what is in flight)
            first_pages = FirstPages(
                budget,
                ahead=2 * budget,
                planner=self._first_page_plan,
            )
            for stream in streams:
                stream.first_pages = first_pages
        return streams

    def _first_page_plan(self) -> t.Iterator[Plan]:
        """The first page of every selected stream and partition, in the SDK's sync order, as
        far as it is read; the history plan's requests start at once, in a thread."""
        selected = [
            stream
            for stream in self.streams.values()
            if isinstance(stream, EntityStream) and stream.selected
        ]
        for stream in selected:
            if isinstance(stream, ScopedHistoryStream):
                stream.start_plan()
        return (page for stream in selected for page in stream.first_page_plan())

    def _entity_streams(self) -> list[EntityStream]:
        catalog = self.input_catalog
        if catalog is not None:
            return [
                _stream_class(entry.tap_stream_id)(
                    self,
                    self.wms,
                    entry.tap_stream_id,
                    entry.schema.to_dict(),
                    entry.replication_key or entry.metadata.root.replication_key,
                    lookback=self.lookback,
                    max_parallel_requests=self.max_parallel_requests,
                    deletes=self.delete_policy,
                )
                for entry in catalog.streams
            ]
        entities = discover(
            self.wms,
            self.config.get("entities"),
            self.discovery_cache,
            workers=self.max_concurrent_requests,
        )
        return [
            _stream_class(desc.name)(
                self,
                self.wms,
                desc.name,
                json_schema(desc, max_lengths=False),
                desc.replication_key,
                lookback=self.lookback,
                max_parallel_requests=self.max_parallel_requests,
                deletes=self.delete_policy,
            )
            for desc in entities
        ]


def _json_file(file: t.IO[str] | None, option: str) -> t.IO[str] | None:
    """The file's text as a fresh stream, after checking it is JSON.

    Raises:
        click.BadParameter: naming the option, the file and where the JSON breaks.
    """
    if file is None:
        return None
    text = file.read()
    name = getattr(file, "name", "?")
    try:
        content = json.loads(text)
    except ValueError as exc:
        raise click.BadParameter(f"{name} is not a JSON file ({exc})", param_hint=option) from None
    if not isinstance(content, dict):
        raise click.BadParameter(
            f"{name} must hold a JSON object, not a {type(content).__name__}", param_hint=option
        )
    return io.StringIO(text)


def _stream_class(entity: str) -> type[EntityStream]:
    return ScopedHistoryStream if entity in SCOPED_ENTITIES else EntityStream


if __name__ == "__main__":
    TapOracleWMS.cli()
