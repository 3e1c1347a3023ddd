"""One Singer stream per WMS entity, over the shared `oracle_wms` session, auth and errors.

Paging follows lgfapi's own `next_page` links in sequenced mode (Oracle's advice for
system-to-system integration: a keyset cursor, so rows are neither skipped nor repeated while
the WMS keeps changing). Incremental streams ask for `{key}__gte=<bookmark>` ordered by
`{key},id`: the lower bound is inclusive, so rows sharing the bookmark's timestamp (WMS batch
jobs stamp thousands at once) are read again rather than lost; targets merge them on `id`.
"""

from __future__ import annotations

import typing as t
from datetime import UTC, datetime
from urllib.parse import ParseResult

import requests
from requests.auth import AuthBase
from singer_sdk import RESTStream
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseHATEOASPaginator
from singer_sdk.streams.rest import HTTPRequest, PageContext

from oracle_wms.client import WmsClient, ensure_same_origin
from oracle_wms.errors import WmsServerError
from oracle_wms.schema import decimal_fields, flatten_record, utc_timestamp
from oracle_wms.session import json_body, raise_for_response

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

_PageToken = ParseResult | None


class NextPageLinkPaginator(BaseHATEOASPaginator):
    """Follows the `next_page` URL of lgfapi list pages; an empty list (404) ends paging."""

    def get_next_url(self, response: requests.Response) -> str | None:
        if response.status_code == 404:
            return None
        link = json_body(response).get("next_page")
        return str(link) if link else None


class EntityStream(RESTStream[_PageToken]):
    """All records of one WMS entity, as flat rows (see `oracle_wms.schema`)."""

    primary_keys: t.ClassVar[tuple[str, ...]] = ("id",)
    # Rows are built with the schema's types by `flatten_record`; only the top level is checked.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.ROOT_ONLY

    def __init__(
        self,
        tap: Tap,
        wms: WmsClient,
        entity: str,
        schema: dict[str, t.Any],
        replication_key: str | None,
    ) -> None:
        self.wms = wms
        super().__init__(tap=tap, name=entity, schema=schema, path=f"entity/{entity}/")
        self._requests_session = wms.session
        self.replication_key = replication_key
        self._decimals = decimal_fields(schema)

    @property
    def url_base(self) -> str:
        return self.wms.settings.api_url

    @property
    def authenticator(self) -> AuthBase:
        auth = self.wms.session.auth
        assert isinstance(auth, AuthBase)
        return auth

    @property
    def timeout(self) -> tuple[float, float]:  # type: ignore[override]
        return self.wms.timeout

    @property
    def is_sorted(self) -> bool:
        """Incremental lists are ordered by `{replication_key},id`: bookmarks advance as we go."""
        return self.replication_key is not None

    def get_new_paginator(self) -> NextPageLinkPaginator:
        return NextPageLinkPaginator()

    def get_http_request(self, *, page: PageContext[_PageToken]) -> HTTPRequest:
        request = super().get_http_request(page=page)
        if page.next_page_token is not None:
            link = page.next_page_token.geturl()
            ensure_same_origin(link, self.wms.settings.base_url)
            request.url = link
            request.params = {}
        return request

    def get_url_params(
        self, context: Context | None, next_page_token: _PageToken
    ) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {
            "page_mode": "sequenced",
            "page_size": self.wms.settings.page_size,
        }
        key = self.replication_key
        if not key:
            params["ordering"] = "id"
            return params
        params["ordering"] = f"{key},id"
        start = self.get_starting_replication_key_value(context)
        if start:
            params[f"{key}__gte"] = _utc_bound(str(start))
        return params

    def validate_response(self, response: requests.Response) -> None:
        """lgfapi's rules: 404 on a list is an empty result; 429/5xx and broken bodies retry."""
        if response.status_code == 404:
            self.logger.info("Entity '%s': no records match (404 on the list).", self.name)
            return
        try:
            raise_for_response(response, self.name)
            json_body(response)
        except WmsServerError as exc:
            raise RetriableAPIError(str(exc), response) from exc

    def parse_response(self, response: requests.Response) -> t.Iterable[dict[str, t.Any]]:
        if response.status_code == 404:
            return
        body = json_body(response)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list):
            raise WmsServerError(
                f"entity '{self.name}': list page has no 'results' array",
                status=response.status_code,
                path=self.path or "",
            )
        key = self.replication_key
        for record in results:
            row = flatten_record(record, self._decimals, self.name)
            if key and row.get(key):
                row[key] = utc_timestamp(row[key])
            yield row


def _utc_bound(value: str) -> str:
    """A bookmark or `start_date` as an lgfapi filter value: UTC with offset, microseconds.

    `start_date` may be a bare date or a naive date-time: read as UTC.
    """
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="microseconds")
