"""Authentication for lgfapi requests: HTTP Basic or OAuth 2.0 bearer tokens.

Both the tap and the target get their `requests` auth object from `build_auth`, so every request
either connector makes authenticates the same way.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from oracle_wms.environment import pin
from oracle_wms.errors import WmsAuthenticationError, WmsConnectionError, WmsServerError
from oracle_wms.retry import with_retries
from oracle_wms.settings import (
    CONNECT_TIMEOUT,
    OAuth2Settings,
    RetryPolicy,
    WmsSettings,
    origin_of,
)

# requests-oauthlib logs token responses at DEBUG: never let a token reach a log handler.
for _name in ("requests_oauthlib", "oauthlib"):
    logging.getLogger(_name).setLevel(logging.WARNING)

logger = logging.getLogger(__name__)

_REFRESH_MARGIN = 60.0
"""Refresh a token this many seconds before it expires (or at 90% of a shorter lifetime)."""


def build_auth(settings: WmsSettings) -> AuthBase:
    """The auth object to attach to every lgfapi request."""
    if settings.oauth2 is not None:
        return OAuth2ClientCredentials(
            settings.oauth2,
            verify=settings.verify_ssl,
            timeout=settings.request_timeout,
            retry=settings.retry,
            origin=settings.base_url,
        )
    assert settings.username is not None and settings.password is not None
    return HTTPBasicAuth(settings.username, settings.password)


class OAuth2ClientCredentials(AuthBase):
    """Bearer tokens from the tenant's identity domain (IDCS), through requests-oauthlib: the
    client-credentials grant, or the resource-owner password grant Oracle documents for lgfapi
    (`oauth2.grant == "password"`: the integration user's username and password, sent to the
    token endpoint only). The scope goes in every token request; a token endpoint answering
    429/5xx or not at all is retried like any request (`oracle_wms.retry`).

    A token is fetched on first use, refreshed shortly before it expires, and refreshed once more
    when the WMS answers 401 anyway (revoked, or clocks disagree); that request is then re-sent
    once. Thread-safe: pages may be fetched from several threads.
    """

    def __init__(
        self,
        oauth: OAuth2Settings,
        *,
        verify: bool,
        timeout: float,
        retry: RetryPolicy | None = None,
        origin: str | None = None,
    ) -> None:
        self.oauth = oauth
        self.verify = verify
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.origin = origin_of(origin) if origin else None
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self._retried: weakref.WeakSet[requests.PreparedRequest] = weakref.WeakSet()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        request.register_hook("response", self._refresh_on_401)  # type: ignore[no-untyped-call]
        return request

    def access_token(self, *, force: bool = False, stale: str | None = None) -> str:
        """A valid token; `force` fetches a new one unless another thread replaced `stale`."""
        with self._lock:
            replaced = stale is not None and self._token != stale
            if (
                self._token is None
                or time.monotonic() >= self._refresh_at
                or (force and not replaced)
            ):
                self._fetch()
            assert self._token is not None
            return self._token

    def _fetch(self) -> None:
        where = _where(self.oauth.token_url)
        token = with_retries(
            self._fetch_once, self.retry, f"the OAuth 2.0 token request to {where}", logger
        )
        lifetime = float(token.get("expires_in") or 3600)
        self._token = str(token["access_token"])
        self._refresh_at = time.monotonic() + lifetime - min(_REFRESH_MARGIN, lifetime * 0.1)
        logger.info("Obtained an OAuth 2.0 access token from %s (valid %.0f s)", where, lifetime)

    def _fetch_once(self) -> dict[str, Any]:
        # imported here: (requests-)oauthlib costs a tenth of a second at start-up, which a run
        # with Basic auth (the common case) does not need
        from oauthlib.oauth2 import (  # noqa: PLC0415
            BackendApplicationClient,
            LegacyApplicationClient,
            OAuth2Error,
        )
        from requests_oauthlib import OAuth2Session  # noqa: PLC0415

        oauth = self.oauth
        client = (
            LegacyApplicationClient(client_id=oauth.client_id)
            if oauth.grant == "password"
            else BackendApplicationClient(client_id=oauth.client_id)
        )
        session = OAuth2Session(client=client, scope=[oauth.scope])
        pin(session, self.verify)  # no proxy, netrc or CA bundle from the environment
        session.register_compliance_hook("access_token_response", _raise_for_server_error)
        where = _where(oauth.token_url)
        grant: dict[str, Any] = (
            {"username": oauth.username, "password": oauth.password}
            if oauth.grant == "password"
            else {}
        )
        try:
            with _plain_http_allowed(oauth.token_url):
                token: dict[str, Any] = session.fetch_token(
                    token_url=oauth.token_url,
                    client_id=oauth.client_id,
                    client_secret=oauth.client_secret,
                    scope=oauth.scope,
                    verify=None,  # the session's own (`pin`), never the environment's
                    timeout=(min(CONNECT_TIMEOUT, self.timeout), self.timeout),
                    **grant,
                )
        except OAuth2Error as exc:
            settings = "oauth2_client_id, oauth2_client_secret and oauth2_scope"
            if oauth.grant == "password":
                settings += ", username and password"
            raise WmsAuthenticationError(
                f"OAuth 2.0 token request to {where} was refused ({exc.error}): check {settings}",
                status=exc.status_code or 401,
                path=urlsplit(oauth.token_url).path,
                code=exc.error,
            ) from None
        except requests.exceptions.RequestException as exc:
            raise WmsConnectionError(
                f"Cannot reach the OAuth 2.0 token endpoint {where}: {type(exc).__name__}"
            ) from None
        return token

    def _refresh_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        request = response.request
        if response.status_code != 401 or request in self._retried:
            return response
        if self.origin is not None and origin_of(request.url or "") != self.origin:
            return response  # a token goes to the configured WMS only
        stale = str(request.headers.get("Authorization", "")).removeprefix("Bearer ")
        logger.info("The WMS refused the access token (401): fetching a new one and retrying once")
        token = self.access_token(force=True, stale=stale)
        retry = request.copy()
        retry.headers["Authorization"] = f"Bearer {token}"
        self._retried.add(retry)
        response.content  # noqa: B018 - read the body so the connection returns to the pool
        response.close()
        connection = response.connection
        new_response: requests.Response = connection.send(retry, **kwargs)
        new_response.history.append(response)
        new_response.request = retry
        return new_response


def _raise_for_server_error(response: requests.Response) -> requests.Response:
    """A busy token endpoint (429, 5xx) is worth retrying, not a refusal of the credentials."""
    if response.status_code == 429 or response.status_code >= 500:
        raise WmsServerError(
            f"The OAuth 2.0 token endpoint {_where(response.url)} answered "
            f"{response.status_code} {response.reason}",
            status=response.status_code,
            path=urlsplit(response.url).path,
        )
    return response


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


_env_lock = threading.Lock()


@contextmanager
def _plain_http_allowed(token_url: str) -> Iterator[None]:
    """oauthlib refuses http token URLs; settings already limit http to loopback or opt-in."""
    if not token_url.startswith("http://"):
        yield
        return
    with _env_lock:
        previous = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
        os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
            else:
                os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = previous
