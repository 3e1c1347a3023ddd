"""Connection settings shared by the tap and the target.

The Singer layers validate their JSON-schema config first (types, required keys); this module
checks what a schema cannot (URL shape, ranges) and turns the config into one typed object, so
every error names the setting a user has to fix.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlsplit

from oracle_wms.errors import WmsConfigError

API_PATH = "wms/lgfapi/v10/"
MAX_SECONDS = 86400.0
"""Upper bound of every setting in seconds (timeouts, waits): a day."""
MAX_PAGE_SIZE = 1250
"""Oracle's documented upper bound for `page_size`."""

DEFAULT_REQUEST_TIMEOUT = 300.0
"""Seconds to wait for one response. A 1250-record page of a busy WMS can take many seconds."""

CONNECT_TIMEOUT = 15.0
"""Seconds to wait for a TCP/TLS connection: an unreachable host fails fast."""

WMS_SCOPE = "urn:resource:fusion:scm:logistics:wms:lgfapi/"
"""The OAuth 2.0 scope Oracle documents for lgfapi."""

AuthMethod = Literal["basic", "oauth2", "oauth2_password"]
AUTH_METHODS: tuple[AuthMethod, ...] = ("basic", "oauth2", "oauth2_password")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on a request (429, 5xx, connection errors, timeouts)."""

    max_retries: int = 6
    initial_wait: float = 1.0
    max_wait: float = 120.0


@dataclass(frozen=True)
class OAuth2Settings:
    """OAuth 2.0 client credentials against the tenant's identity domain (IDCS)."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = WMS_SCOPE
    grant: Literal["client_credentials", "password"] = "client_credentials"
    """`password`: the resource-owner password grant Oracle documents for lgfapi."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class WmsSettings:
    """Where the WMS is and how to talk to it."""

    base_url: str
    """Up to and including the environment: `https://ta3.wms.ocs.oraclecloud.com/acme_test`."""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    auth_method: AuthMethod = "basic"
    oauth2: OAuth2Settings | None = None
    page_size: int = MAX_PAGE_SIZE
    verify_ssl: bool = True
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    user_agent: str = "oracle-wms-singer"

    @property
    def api_url(self) -> str:
        """The lgfapi v10 root, ending with a slash."""
        return f"{self.base_url}/{API_PATH}"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in logs, errors or output."""
        client_secret = self.oauth2.client_secret if self.oauth2 else None
        return tuple(s for s in (self.password, client_secret) if s)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WmsSettings:
        """Validate a tap or target config and build the settings.

        Raises:
            WmsConfigError: naming the first setting that is missing or invalid.
        """
        allow_http = config.get("allow_http") is True
        base_url = _base_url(config.get("base_url"), allow_http=allow_http)
        auth_method: AuthMethod
        match config.get("auth_method") or "basic":
            case "basic":
                auth_method = "basic"
            case "oauth2":
                auth_method = "oauth2"
            case "oauth2_password":
                auth_method = "oauth2_password"
            case _:
                raise WmsConfigError("auth_method", f"must be one of {', '.join(AUTH_METHODS)}")
        oauth2 = None
        username: str | None
        password: str | None
        if auth_method == "oauth2_password":
            username = _required_text(config, "username")
            password = _required_text(config, "password")
        else:
            username = config.get("username") or None
            password = config.get("password") or None
        if auth_method != "basic":
            oauth2 = OAuth2Settings(
                token_url=_token_url(
                    config.get("oauth2_token_url"), config.get("allow_http") is True
                ),
                client_id=_required_text(config, "oauth2_client_id"),
                client_secret=_required_text(config, "oauth2_client_secret"),
                scope=str(config.get("oauth2_scope") or WMS_SCOPE),
                grant="password" if auth_method == "oauth2_password" else "client_credentials",
                username=username,
                password=password,
            )
            if auth_method == "oauth2":
                username = password = None
        else:
            username = _required_text(config, "username")
            password = _required_text(config, "password")
        retry = RetryPolicy(
            max_retries=_int_in_range(config, "max_retries", RetryPolicy.max_retries, 0, 100),
            initial_wait=number_setting(
                config, "retry_initial_wait", RetryPolicy.initial_wait, zero_ok=True
            ),
            max_wait=_positive(config, "retry_max_wait", RetryPolicy.max_wait),
        )
        page_size = _int_in_range(config, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        timeout = _positive(config, "request_timeout", DEFAULT_REQUEST_TIMEOUT)
        verify_ssl = config.get("verify_ssl", True)
        if not isinstance(verify_ssl, bool):
            raise WmsConfigError("verify_ssl", "must be true or false")
        return cls(
            base_url=base_url,
            username=username,
            password=password,
            auth_method=auth_method,
            oauth2=oauth2,
            page_size=page_size,
            verify_ssl=verify_ssl,
            request_timeout=timeout,
            retry=retry,
            user_agent=str(config.get("user_agent") or cls.user_agent),
        )


def origin_of(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port made explicit: what "the same origin" compares."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def is_loopback(host: str | None) -> bool:
    """True for localhost and 127.0.0.0/8 or ::1: the only hosts plain http may reach by default."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url(value: object, *, allow_http: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WmsConfigError(
            "base_url",
            "is required: the WMS URL up to the environment, "
            "e.g. https://ta3.wms.ocs.oraclecloud.com/acme_test",
        )
    url = value.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise WmsConfigError("base_url", f"'{url}' is not an http(s) URL with a host name")
    if parts.username or parts.password:
        raise WmsConfigError(
            "base_url", "must not contain credentials; use the username and password settings"
        )
    if parts.query or parts.fragment:
        raise WmsConfigError("base_url", "must not contain a query string or fragment")
    _valid_port("base_url", url)
    _refuse_plain_http("base_url", parts.scheme, parts.hostname, allow_http)
    if "/wms/" in f"{parts.path}/" or not parts.path.strip("/"):
        raise WmsConfigError(
            "base_url",
            f"'{url}' must end with the environment name and stop there, "
            "e.g. https://ta3.wms.ocs.oraclecloud.com/acme_test (the client adds /wms/lgfapi/v10)",
        )
    return url


def _token_url(value: object, allow_http: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise WmsConfigError(
            "oauth2_token_url",
            "is required with auth_method oauth2, "
            "e.g. https://idcs-<tenant>.identity.oraclecloud.com/oauth2/v1/token",
        )
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise WmsConfigError("oauth2_token_url", f"'{value}' is not an http(s) URL")
    _valid_port("oauth2_token_url", value.strip())
    _refuse_plain_http("oauth2_token_url", parts.scheme, parts.hostname, allow_http)
    return value.strip()


def _valid_port(setting: str, url: str) -> None:
    try:
        _ = urlsplit(url).port
    except ValueError:
        raise WmsConfigError(setting, f"'{url}' has a port outside 1 to 65535") from None


def _refuse_plain_http(setting: str, scheme: str, host: str | None, allow_http: bool) -> None:
    """Credentials over plain http are readable on the network: loopback or explicit opt-in only."""
    if scheme == "http" and not allow_http and not is_loopback(host):
        raise WmsConfigError(
            setting,
            f"plain http to {host} would send credentials unencrypted; use https "
            "(or set allow_http to true for a host you trust)",
        )


def number_setting(
    config: Mapping[str, Any],
    name: str,
    default: float,
    *,
    zero_ok: bool,
    maximum: float = MAX_SECONDS,
) -> float:
    """A numeric setting (JSON configs may arrive with Decimal numbers) as a float."""
    value = config.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise WmsConfigError(name, "must be a number of seconds")
    if value < 0 or (value == 0 and not zero_ok):
        raise WmsConfigError(name, "must be zero or more" if zero_ok else "must be more than zero")
    if value > maximum:
        raise WmsConfigError(name, f"must be at most {maximum:g}")
    return float(value)


def count_setting(config: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    """A whole-number setting within [low, high] (a count of requests, records, ...)."""
    value = config.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WmsConfigError(name, f"must be a whole number from {low} to {high}, got {value!r}")
    return value


def _positive(config: Mapping[str, Any], name: str, default: float) -> float:
    return number_setting(config, name, default, zero_ok=False)


def _required_text(config: Mapping[str, Any], name: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value:
        raise WmsConfigError(name, "is required")
    return value


def _int_in_range(config: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = config.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise WmsConfigError(name, f"must be a whole number from {low} to {high}")
    return value
