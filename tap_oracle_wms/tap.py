"""tap-oracle-wms: settings and the stream list (one stream per WMS entity)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import click
from singer_sdk import Tap
from singer_sdk import typing as th

from oracle_wms.check import check_connection
from oracle_wms.client import WmsClient
from oracle_wms.config_schema import CONNECTION_PROPERTIES
from oracle_wms.discovery import DiscoveryCache, discover
from oracle_wms.schema import json_schema
from oracle_wms.scoping import SCOPED_ENTITIES
from oracle_wms.settings import (
    MAX_PAGE_SIZE,
    WmsSettings,
    count_setting,
    number_setting,
)
from tap_oracle_wms.streams import EntityStream, ScopedHistoryStream
from tap_oracle_wms.writer import BufferedMsgSpecWriter

DEFAULT_DISCOVERY_CACHE_TTL = 86400
DEFAULT_PARALLEL_REQUESTS = 2
MAX_PARALLEL_REQUESTS = 8


class TapOracleWMS(Tap):
    """Extracts every Oracle WMS Cloud entity through lgfapi v10, incrementally on `mod_ts`."""

    name = "tap-oracle-wms"
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
            th.ArrayType(th.StringType),
            description="Entity names or glob patterns (order_*) to extract; default: all",
        ),
        th.Property(
            "page_size",
            th.IntegerType,
            default=MAX_PAGE_SIZE,
            description=f"Records per request, 1 to {MAX_PAGE_SIZE} (Oracle's maximum)",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Earliest mod_ts/create_ts to extract on a first run (UTC if no offset)",
        ),
        th.Property(
            "lookback",
            th.NumberType,
            default=0,
            description="Seconds before the bookmark to read again, for rows committed late",
        ),
        th.Property(
            "max_parallel_requests",
            th.IntegerType,
            default=DEFAULT_PARALLEL_REQUESTS,
            description="Concurrent page requests for full-table entities (1 to 8); Oracle warns "
            "that many concurrent large pages degrade the WMS, so the default is polite",
        ),
        th.Property(
            "discovery_cache_ttl",
            th.NumberType,
            default=DEFAULT_DISCOVERY_CACHE_TTL,
            description="Seconds a discovery (entity list and describe) is reused; 0 disables",
        ),
        th.Property(
            "discovery_cache_path",
            th.StringType,
            description="Directory of the discovery cache (default ~/.cache/oracle-wms-singer)",
        ),
    ).to_dict()

    @cached_property
    def settings(self) -> WmsSettings:
        """The validated settings; a bad one raises naming it, before any request is made."""
        settings = WmsSettings.from_config(self.config)
        _ = self.lookback, self.discovery_cache, self.max_parallel_requests
        return settings

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
        """The one client (and pooled session) every stream shares."""
        return WmsClient(self.settings)

    @cached_property
    def lookback(self) -> float:
        return number_setting(self.config, "lookback", 0, zero_ok=True)

    @cached_property
    def discovery_cache(self) -> DiscoveryCache:
        ttl = number_setting(
            self.config, "discovery_cache_ttl", DEFAULT_DISCOVERY_CACHE_TTL, zero_ok=True
        )
        path = self.config.get("discovery_cache_path")
        directory = Path(path).expanduser() if path else DiscoveryCache.default_directory()
        return DiscoveryCache(directory=directory, ttl=ttl)

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command plus `--check-connection`."""
        command = super().get_singer_command()
        command.params.append(
            click.Option(
                ["--check-connection"],
                is_flag=True,
                help="Check settings, credentials and read access, then exit.",
                callback=cls.cb_check_connection,
                expose_value=False,
            )
        )
        return command

    @classmethod
    def cb_check_connection(
        cls,
        ctx: click.Context,
        param: click.Option,
        value: bool,
    ) -> None:
        """CLI callback: one line saying what works, or the error saying what does not."""
        if not value:
            return
        config = ctx.params.get("config")
        tap = cls(
            config=getattr(config, "config", None),
            parse_env_config=bool(getattr(config, "parse_env", False)),
            validate_config=True,
            setup_mapper=False,
        )
        click.echo(str(check_connection(tap.settings)))
        ctx.exit(0)

    def discover_streams(self) -> list[EntityStream]:
        """Streams from the input catalog when given (no API calls), else from `describe`."""
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
                )
                for entry in catalog.streams
            ]
        entities = discover(self.wms, self.config.get("entities"), self.discovery_cache)
        return [
            _stream_class(desc.name)(
                self,
                self.wms,
                desc.name,
                json_schema(desc),
                desc.replication_key,
                lookback=self.lookback,
                max_parallel_requests=self.max_parallel_requests,
            )
            for desc in entities
        ]


def _stream_class(entity: str) -> type[EntityStream]:
    return ScopedHistoryStream if entity in SCOPED_ENTITIES else EntityStream


if __name__ == "__main__":
    TapOracleWMS.cli()
