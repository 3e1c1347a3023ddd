"""Connection settings shared by the tap and the target.

The Singer layers validate their JSON-schema config first (types, required keys); this module
checks what a schema cannot (URL shape, ranges) and turns the config into one typed object, so
every error names the setting a user has to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from oracle_wms.errors import WmsConfigError

API_PATH = "wms/lgfapi/v10/"
MAX_PAGE_SIZE = 1250
"""Oracle's documented upper bound for `page_size`."""

DEFAULT_REQUEST_TIMEOUT = 300.0
"""Seconds to wait for one response. A 1250-record page of a busy WMS can take many seconds."""

CONNECT_TIMEOUT = 15.0
"""Seconds to wait for a TCP/TLS connection: an unreachable host fails fast."""


@dataclass(frozen=True)
class WmsSettings:
    """Where the WMS is and how to talk to it."""

    base_url: str
    """Up to and including the environment: `https://ta3.wms.ocs.oraclecloud.com/acme_test`."""
    username: str
    password: str = field(repr=False)
    page_size: int = MAX_PAGE_SIZE
    verify_ssl: bool = True
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    user_agent: str = "oracle-wms-singer"

    @property
    def api_url(self) -> str:
        """The lgfapi v10 root, ending with a slash."""
        return f"{self.base_url}/{API_PATH}"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in logs, errors or output."""
        return tuple(s for s in (self.password,) if s)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WmsSettings:
        """Validate a tap or target config and build the settings.

        Raises:
            WmsConfigError: naming the first setting that is missing or invalid.
        """
        base_url = _base_url(config.get("base_url"))
        username = _required_text(config, "username")
        password = _required_text(config, "password")
        page_size = _int_in_range(config, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        timeout = config.get("request_timeout", DEFAULT_REQUEST_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise WmsConfigError("request_timeout", "must be a positive number of seconds")
        verify_ssl = config.get("verify_ssl", True)
        if not isinstance(verify_ssl, bool):
            raise WmsConfigError("verify_ssl", "must be true or false")
        return cls(
            base_url=base_url,
            username=username,
            password=password,
            page_size=page_size,
            verify_ssl=verify_ssl,
            request_timeout=float(timeout),
            user_agent=str(config.get("user_agent") or cls.user_agent),
        )


def _base_url(value: object) -> str:
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
    if "/wms/" in f"{parts.path}/" or not parts.path.strip("/"):
        raise WmsConfigError(
            "base_url",
            f"'{url}' must end with the environment name and stop there, "
            "e.g. https://ta3.wms.ocs.oraclecloud.com/acme_test (the client adds /wms/lgfapi/v10)",
        )
    return url


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
