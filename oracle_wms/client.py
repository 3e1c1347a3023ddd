"""A small lgfapi v10 client: entity index, describe, lists in both paging modes, one record.

The tap streams records through the Singer SDK's request loop but shares this module's session,
auth and error mapping; discovery, connection checks and the target use this client directly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import requests

from oracle_wms.errors import WmsConnectionError, WmsNotFoundError, WmsServerError, WmsTlsError
from oracle_wms.retry import is_retriable, with_retries
from oracle_wms.schema import EntityDescription
from oracle_wms.session import (
    build_session,
    json_body,
    page_results,
    raise_for_response,
    request_timeout,
)
from oracle_wms.settings import WmsSettings

logger = logging.getLogger(__name__)

PageMode = Literal["paged", "sequenced"]


class WmsClient:
    """Reads lgfapi v10 for one WMS environment with one pooled session."""

    def __init__(self, settings: WmsSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session or build_session(settings)
        self.timeout = request_timeout(settings)
        self._index: tuple[str, ...] | None = None
        self._index_lock = threading.Lock()

    def get(
        self,
        path_or_url: str,
        params: Mapping[str, Any] | None = None,
        entity: str | None = None,
        *,
        fail_fast: bool = False,
    ) -> requests.Response:
        """GET a path under the API root (or a `next_page` URL), retrying transient failures.

        `fail_fast` does not retry a connection that cannot be established: the first contact
        of discovery or a connection check should report a wrong base_url at once.
        """
        url = self.url(path_or_url)
        path = urlsplit(url).path
        what = f"entity '{entity}' (GET {path})" if entity else f"GET {path}"
        retriable = _not_connection_errors if fail_fast else is_retriable
        return with_retries(
            lambda: self.send("GET", url, params=params, entity=entity),
            self.settings.retry,
            what,
            logger,
            retriable,
        )

    def send(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        entity: str | None = None,
    ) -> requests.Response:
        """One request, no retry: failures raise `oracle_wms.errors` (writes decide themselves
        whether a retry is safe: a lost response may mean the write was applied)."""
        url = self.url(path_or_url)
        try:
            response = self.session.request(
                method, url, params=params, json=body, timeout=self.timeout
            )
        except requests.exceptions.SSLError as exc:
            reason = _reason(exc)
            raise WmsTlsError(
                f"TLS failed for {self.settings.base_url}: {reason} ({tls_hint(reason)})"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise WmsConnectionError(
                f"The WMS at {self.settings.base_url} did not answer within "
                f"{self.settings.request_timeout:g} s ({urlsplit(url).path})"
            ) from exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            reason = _reason(exc)
            hint = connection_hint(reason)
            raise WmsConnectionError(
                f"Cannot connect to the WMS at {self.settings.base_url}: {reason}"
                + (f" ({hint})" if hint else "")
            ) from exc
        raise_for_response(response, entity)
        if response.status_code in {200, 201} and response.content:
            json_body(response)  # a truncated body is retried like a failed request
        return response

    def url(self, path_or_url: str) -> str:
        """An absolute URL; absolute ones must point at the configured WMS (never leak auth)."""
        if "://" not in path_or_url:
            return self.settings.api_url + path_or_url.lstrip("/")
        ensure_same_origin(path_or_url, self.settings.base_url)
        return path_or_url

    def entity_names(self, *, refresh: bool = False) -> list[str]:
        """The names in `GET entity/`, sorted (`index_names` says which layouts are read).

        Asked once per client, whoever asks first (the history id fallbacks, a 404's check that
        the entity exists): one index answers the whole run; `refresh` asks again (discovery,
        whose own cache has expired). The lock makes callers in other threads wait for that one
        request rather than send their own.
        """
        with self._index_lock:
            if self._index is None or refresh:
                try:
                    index = self.get("entity/", fail_fast=True)
                except WmsNotFoundError as exc:
                    # Every lgfapi environment lists its entities: a 404 here is a base_url
                    # that names no environment (a typo, or the host's name for another one).
                    raise WmsNotFoundError(
                        f"The WMS has no entity index at {exc.path} (404): check base_url, "
                        "which must end with an existing environment name "
                        f"({self.settings.base_url})",
                        status=404,
                        path=exc.path,
                    ) from None
                self._index = tuple(index_names(json_body(index)))
            return list(self._index)

    def describe(self, entity: str) -> EntityDescription:
        """`GET entity/{name}/describe/` read into an `EntityDescription`.

        Raises:
            WmsNotFoundError: a 404, worded by its cause: `base_url` names no environment
                (the index answers 404 too, `entity_names`) or the WMS has no such entity.
        """
        try:
            answer = self.get(f"entity/{entity}/describe/", entity=entity)
        except WmsNotFoundError as exc:
            if entity in self.entity_names():  # raises the environment's error first
                raise
            raise WmsNotFoundError(
                f"entity '{entity}' does not exist in the WMS at {self.settings.base_url} "
                f"(404 for {exc.path}; it is not in GET entity/): check the entity's name",
                status=404,
                path=exc.path,
            ) from None
        return self.describe_from(entity, json_body(answer))

    @staticmethod
    def describe_from(entity: str, body: Any) -> EntityDescription:
        """A `describe` answer (fresh or cached) read into an `EntityDescription`."""
        try:
            return EntityDescription.from_describe(
                entity, body if isinstance(body, Mapping) else {}
            )
        except ValueError as exc:
            raise WmsServerError(str(exc), status=200, path=f"entity/{entity}/describe/") from exc

    def get_record(self, entity: str, record_id: int) -> dict[str, Any]:
        """One record by id."""
        body = json_body(self.get(f"entity/{entity}/{record_id}/", entity=entity))
        if not isinstance(body, dict):
            raise WmsServerError(
                f"entity '{entity}' record {record_id} is not a JSON object",
                status=200,
                path=f"entity/{entity}/{record_id}/",
            )
        return body

    def iter_pages(
        self,
        entity: str,
        params: Mapping[str, Any] | None = None,
        page_mode: PageMode = "sequenced",
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, following `next_page`; a 404 (no match) ends the list."""
        query = {"page_size": self.settings.page_size, **(params or {}), "page_mode": page_mode}
        url: str | None = f"entity/{entity}/"
        first = True
        while url:
            try:
                response = self.get(url, params=query if first else None, entity=entity)
            except WmsNotFoundError:
                return
            first = False
            yield page_results(response, entity)
            url = json_body(response).get("next_page") or None

    def iter_records(
        self,
        entity: str,
        params: Mapping[str, Any] | None = None,
        page_mode: PageMode = "sequenced",
    ) -> Iterator[dict[str, Any]]:
        """Every record of a list, page after page."""
        for page in self.iter_pages(entity, params, page_mode):
            yield from page

    def result_count(self, entity: str, params: Mapping[str, Any] | None = None) -> int:
        """`result_count` of a paged list (0 when nothing matches)."""
        query = {**(params or {}), "page_mode": "paged", "page_size": 1, "fields": "id"}
        try:
            body = json_body(self.get(f"entity/{entity}/", params=query, entity=entity))
        except WmsNotFoundError:
            return 0
        return int(body["result_count"])


_NAME_KEYS = ("name", "entity", "entity_name")


def index_names(body: Any) -> list[str]:
    """Entity names of a `GET entity/` answer, sorted.

    Oracle documents the index only as a sorted list of the supported entities with a base URL,
    not its JSON layout, so every plausible form is read: an object of name -> URL, a list of
    names, a list of objects naming the entity (`name`, `entity` or `entity_name`), or any of
    these under `results`. Anything else is a `WmsServerError` saying what was assumed.
    """
    if isinstance(body, Mapping) and isinstance(body.get("results"), list):
        body = body["results"]
    names: list[str] = []
    if isinstance(body, Mapping):
        names = [str(name) for name in body]
    elif isinstance(body, list):
        for entry in body:
            if isinstance(entry, str):
                names.append(entry)
                continue
            key = next((k for k in _NAME_KEYS if isinstance(entry, Mapping) and k in entry), None)
            if key is None:
                names = []
                break
            names.append(str(entry[key]))
    if not names:
        raise WmsServerError(
            "The entity index (GET entity/) is none of the layouts this client assumes for "
            "Oracle's undocumented index: a JSON object of entity names to URLs, a list of "
            "names, or a list of objects with a 'name'",
            status=200,
            path="entity/",
        )
    return sorted(names)


def _not_connection_errors(exc: BaseException) -> bool:
    return is_retriable(exc) and not isinstance(exc, WmsConnectionError)


def ensure_same_origin(url: str, base_url: str) -> None:
    """Refuse to follow a link to another scheme/host/port than the configured WMS.

    `next_page` links come from the server; following one elsewhere would send credentials there.
    """
    link, base = urlsplit(url), urlsplit(base_url)
    if (link.scheme, link.netloc) != (base.scheme, base.netloc):
        raise WmsServerError(
            f"The WMS returned a link to {link.scheme}://{link.hostname}, which is not the "
            f"configured base_url host; refusing to follow it",
            status=200,
            path=link.path,
        )


TLS_HINTS = (
    # (words of OpenSSL's reason, the fix): the first that matches.
    (
        ("WRONG_VERSION_NUMBER", "record layer failure", "http request"),
        "the server there speaks plain HTTP, not HTTPS: check base_url's scheme and port "
        "(verify_ssl does not matter)",
    ),
    (
        ("Hostname mismatch", "doesn't match", "IP address mismatch"),
        "the certificate names another host: write base_url with a host name it names",
    ),
    (
        ("certificate has expired",),
        "the server's certificate has expired: its owner must renew it",
    ),
    (
        ("self-signed", "self signed", "unable to get local issuer", "unknown ca"),
        "the certificate is not signed by an authority this machine trusts: give the "
        "authority's certificate in REQUESTS_CA_BUNDLE; set verify_ssl to false only for a "
        "host you trust",
    ),
)


def tls_hint(reason: str) -> str:
    """The fix for a TLS failure, from OpenSSL's reason."""
    lowered = reason.lower()
    for words, hint in TLS_HINTS:
        if any(word.lower() in lowered for word in words):
            return hint
    return "check base_url's host and port; set verify_ssl to false only for a host you trust"


CONNECTION_HINTS = (
    (
        ("Connection refused",),
        "nothing accepts connections at that host and port: check base_url (is the WMS, or "
        "the simulator, running there?)",
    ),
    (
        ("Name or service not known", "nodename nor servname", "getaddrinfo failed", "resolve"),
        "base_url's host name does not resolve: check its spelling, and this machine's DNS "
        "or proxy",
    ),
    (
        ("No route to host", "Network is unreachable"),
        "this machine has no route to the WMS: check the network, VPN or proxy",
    ),
)


def connection_hint(reason: str) -> str | None:
    """The fix for a failed connection, from its reason; None when the reason says no more."""
    lowered = reason.lower()
    for words, hint in CONNECTION_HINTS:
        if any(word.lower() in lowered for word in words):
            return hint
    return None


def _reason(exc: Exception) -> str:
    """The innermost cause of a requests error, short and without URLs' query strings."""
    inner: BaseException = exc
    while inner.__cause__ is not None or inner.__context__ is not None:
        nxt = inner.__cause__ or inner.__context__
        assert nxt is not None
        inner = nxt
    text = str(inner) or type(inner).__name__
    return text.split("?")[0][:300]
