"""The one HTTP session both connectors use, and how lgfapi answers are read.

A pooled `requests.Session` with TLS verification on (unless the user turns it off), a connect
timeout that makes an unreachable host fail fast, and one mapping from lgfapi's status codes and
standard error body (`{"reference", "code", "message", "details"}`) to `oracle_wms.errors`.
"""

from __future__ import annotations

import json
import threading
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from oracle_wms.auth import build_auth
from oracle_wms.environment import pin
from oracle_wms.errors import (
    WmsAuthenticationError,
    WmsConflictError,
    WmsNotFoundError,
    WmsOriginError,
    WmsPermissionError,
    WmsResponseError,
    WmsServerError,
    WmsValidationError,
)
from oracle_wms.settings import CONNECT_TIMEOUT, WmsSettings, origin_of

_BODY_ATTR = "_oracle_wms_body"
MAX_CONNECTIONS = 16
"""Pooled connections kept open to the WMS (the tap's `max_concurrent_requests` maximum)."""


def _show(url: str) -> str:
    """A URL without user info or query string, for an error message."""
    scheme, host, port = origin_of(url)
    return f"{scheme}://{host}:{port}{urlsplit(url).path}"


class WmsSession(requests.Session):
    """A `requests.Session` that sends nothing outside the configured origin and bounds each
    response's total time.

    Every request, the first of a list, a `next_page` link or a redirect's next hop, passes
    through `send`: one to another scheme, host or port raises `WmsOriginError` before anything
    (credentials included) is sent; a redirect there raises naming its target. `requests`
    enforces its timeout per socket read, so a server trickling bytes could hold one response
    for ever: here the whole response must arrive within `total_timeout` seconds.
    """

    def __init__(self, base_url: str, total_timeout: float) -> None:
        super().__init__()
        self.origin = origin_of(base_url)
        self.total_timeout = total_timeout
        self._budget: threading.BoundedSemaphore | None = None
        self._holding = threading.local()

    def limit_concurrency(self, requests_at_once: int) -> None:
        """Never more than `requests_at_once` requests of this session in flight, whatever
        thread sends them: one budget for every stream, page and probe (Oracle's fair-use
        limits). A request waits for a slot before it is sent and frees it when its whole body
        has arrived; a redirect's next hop keeps its request's slot."""
        self._budget = threading.BoundedSemaphore(requests_at_once)

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is not None:
            absolute = requests.compat.urljoin(resp.url, target)
            if origin_of(absolute) != self.origin:
                raise WmsOriginError(
                    f"The WMS redirected {_path(resp)} ({resp.status_code}) to "
                    f"{_show(absolute)}, outside the configured base_url; refusing to follow "
                    "it (credentials go to the configured origin only)",
                    status=resp.status_code,
                    path=_path(resp),
                )
        return target

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        if origin_of(url) != self.origin:
            raise WmsOriginError(
                f"Refusing to send a request to {_show(url)}: it is not the configured "
                "base_url's origin (credentials go to the configured origin only)",
                status=0,
                path=urlsplit(url).path,
            )
        budget = self._budget
        if budget is None or getattr(self._holding, "slot", False):
            return self._send(request, **kwargs)
        with budget:
            self._holding.slot = True
            try:
                return self._send(request, **kwargs)
            finally:
                self._holding.slot = False

    def _send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("stream"):
            return super().send(request, **kwargs)
        deadline = time.monotonic() + self.total_timeout
        response = super().send(request, **{**kwargs, "stream": True})
        read_body_by(response, deadline, self.total_timeout)
        return response


def read_body_by(response: requests.Response, deadline: float, timeout: float) -> None:
    """Read a streamed response's body, failing with `ReadTimeout` once `deadline` passes.

    `read1` returns what has arrived (up to 64 KiB) instead of waiting for a full chunk, so
    a body trickling in is noticed; urllib3's errors become the `requests` ones that
    `Response.content` would raise (and `oracle_wms.retry` knows).
    """
    raw = response.raw
    chunks = []
    try:
        while True:
            try:
                chunk = raw.read1(65536, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError as exc:
                raise requests.exceptions.ReadTimeout(str(exc)) from exc
            except urllib3.exceptions.SSLError as exc:
                raise requests.exceptions.SSLError(str(exc)) from exc
            except urllib3.exceptions.DecodeError as exc:
                raise requests.exceptions.ContentDecodingError(str(exc)) from exc
            except (urllib3.exceptions.ProtocolError, OSError) as exc:
                raise requests.exceptions.ChunkedEncodingError(str(exc)) from exc
            if not chunk:
                break
            chunks.append(chunk)
            if time.monotonic() > deadline:
                raise requests.exceptions.ReadTimeout(
                    f"the response to {_path(response)} did not finish within {timeout:g} s"
                )
    except BaseException:
        response.close()
        raise
    response._content = b"".join(chunks)  # what `Response.content` would have read
    response._content_consumed = True  # type: ignore[attr-defined]


def build_session(settings: WmsSettings) -> requests.Session:
    """A session with connection pooling, auth, TLS verification and JSON headers."""
    session = WmsSession(settings.base_url, settings.request_timeout)
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=MAX_CONNECTIONS)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    pin(session, settings.verify_ssl)  # the environment never overrides a setting
    session.auth = build_auth(settings)
    session.headers.update({"Accept": "application/json", "User-Agent": settings.user_agent})
    return session


def request_timeout(settings: WmsSettings) -> tuple[float, float]:
    """(connect, read) timeouts for `requests`."""
    return (min(CONNECT_TIMEOUT, settings.request_timeout), settings.request_timeout)


def json_body(response: requests.Response) -> Any:
    """The decoded JSON body, decoded once per response (pagination and parsing share it).

    Raises:
        WmsServerError: the body is not JSON (a truncated or non-API answer).
    """
    cached = response.__dict__.get(_BODY_ATTR)
    if cached is not None:
        return cached
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise WmsServerError(
            f"The WMS sent a body that is not valid JSON ({len(response.content)} bytes) "
            f"for {_path(response)}: {exc}",
            status=response.status_code,
            path=_path(response),
        ) from exc
    response.__dict__[_BODY_ATTR] = body
    return body


def page_results(response: requests.Response, entity: str) -> list[dict[str, Any]]:
    """The `results` of a list page.

    Raises:
        WmsServerError: the page is not the documented `{"results": [...], ...}` object.
    """
    body = json_body(response)
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list):
        raise WmsServerError(
            f"entity '{entity}': list page has no 'results' array",
            status=response.status_code,
            path=_path(response),
        )
    return results


PERMISSIONS = {
    "GET": "lgfapi_read_access",
    "HEAD": "lgfapi_read_access",
    "POST": "lgfapi_create_access",
    "PATCH": "lgfapi_update_access",
    "DELETE": "lgfapi_delete_access",
}
"""The lgfapi permission each HTTP method needs (Oracle, "Application Permissions"; A6)."""


def raise_for_response(response: requests.Response, entity: str | None = None) -> None:
    """Raise the `oracle_wms.errors` class that matches an error status; do nothing on 2xx/3xx."""
    status = response.status_code
    if status < 400:
        return
    path = _path(response)
    error = _error_body(response)
    code = error.get("code") if isinstance(error.get("code"), str) else None
    server_message = error.get("message") if isinstance(error.get("message"), str) else None
    subject = f"entity '{entity}'" if entity else path
    what = f"{status} {code or response.reason}"
    said = f": {server_message}" if server_message else ""
    kwargs: dict[str, Any] = {
        "status": status,
        "path": path,
        "code": code,
        "details": error.get("details"),
        "reference": error.get("reference"),
    }
    cls: type[WmsResponseError]
    if status == 401:
        cls = WmsAuthenticationError
        hint = " (check the username and password settings)"
    elif status == 403:
        cls = WmsPermissionError
        method = response.request.method if response.request is not None else None
        needed = PERMISSIONS.get(method or "", "lgfapi access")
        hint = f" (the user needs {needed} and eligibility for the facility and company)"
    elif status == 404:
        cls = WmsNotFoundError
        hint = ""
    elif status == 409:
        cls = WmsConflictError
        hint = ""
    elif status == 429 or status >= 500:
        cls = WmsServerError
        hint = ""
        kwargs["retry_after"] = retry_after_seconds(response)
    else:
        cls = WmsValidationError
        details = error.get("details")
        hint = f"; details: {json.dumps(details, default=str)}" if details else ""
    raise cls(f"WMS answered {what} for {subject} at {path}{said}{hint}", **kwargs)


def retry_after_seconds(response: requests.Response) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _error_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _path(response: requests.Response) -> str:
    """The request's URL path: no host credentials, no query string."""
    return urlsplit(response.url).path if response.url else "?"
