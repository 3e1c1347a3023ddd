"""tap-oracle-wms: settings and the stream list (one stream per WMS entity)."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import Tap
from singer_sdk import typing as th

from oracle_wms.client import WmsClient
from oracle_wms.discovery import discover
from oracle_wms.schema import json_schema
from oracle_wms.settings import DEFAULT_REQUEST_TIMEOUT, MAX_PAGE_SIZE, WmsSettings
from tap_oracle_wms.streams import EntityStream


class TapOracleWMS(Tap):
    """Extracts every Oracle WMS Cloud entity through lgfapi v10, incrementally on `mod_ts`."""

    name = "tap-oracle-wms"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "base_url",
            th.StringType,
            required=True,
            title="Base URL",
            description="WMS URL up to and including the environment, "
            "e.g. https://ta3.wms.ocs.oraclecloud.com/acme_test",
        ),
        th.Property("username", th.StringType, required=True, description="lgfapi user"),
        th.Property(
            "password", th.StringType, required=True, secret=True, description="lgfapi password"
        ),
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
            "verify_ssl",
            th.BooleanType,
            default=True,
            description="Verify the WMS's TLS certificate; turn off only for a host you trust",
        ),
        th.Property(
            "request_timeout",
            th.NumberType,
            default=DEFAULT_REQUEST_TIMEOUT,
            description="Seconds to wait for one response",
        ),
    ).to_dict()

    @cached_property
    def settings(self) -> WmsSettings:
        """The validated connection settings; a bad one raises naming the setting."""
        return WmsSettings.from_config(self.config)

    @cached_property
    def wms(self) -> WmsClient:
        """The one client (and pooled session) every stream shares."""
        return WmsClient(self.settings)

    def discover_streams(self) -> list[EntityStream]:
        """Streams from the input catalog when given (no API calls), else from `describe`."""
        catalog = self.input_catalog
        if catalog is not None:
            return [
                EntityStream(
                    self,
                    self.wms,
                    entry.tap_stream_id,
                    entry.schema.to_dict(),
                    entry.replication_key or entry.metadata.root.replication_key,
                )
                for entry in catalog.streams
            ]
        return [
            EntityStream(self, self.wms, desc.name, json_schema(desc), desc.replication_key)
            for desc in discover(self.wms, self.config.get("entities"))
        ]


if __name__ == "__main__":
    TapOracleWMS.cli()
