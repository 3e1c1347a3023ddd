"""The connection settings tap and target share, as Singer SDK config schema properties.

`WmsSettings.from_config` (settings.py) reads and checks the same names; this is what
`--about` and Meltano show for them.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

from oracle_wms.settings import DEFAULT_REQUEST_TIMEOUT, WMS_SCOPE, RetryPolicy

CONNECTION_PROPERTIES: tuple[th.Property[t.Any], ...] = (
    th.Property(
        "base_url",
        th.StringType,
        required=True,
        title="Base URL",
        description="WMS URL up to and including the environment, "
        "e.g. https://ta3.wms.ocs.oraclecloud.com/acme_test",
    ),
    th.Property(
        "auth_method",
        th.StringType,
        default="basic",
        allowed_values=["basic", "oauth2"],
        description="basic (username/password) or oauth2 (client credentials)",
    ),
    th.Property("username", th.StringType, description="lgfapi user (basic auth)"),
    th.Property("password", th.StringType, secret=True, description="lgfapi password"),
    th.Property(
        "oauth2_token_url",
        th.StringType,
        description="https://idcs-<tenant>.identity.oraclecloud.com/oauth2/v1/token",
    ),
    th.Property("oauth2_client_id", th.StringType, description="OAuth 2.0 client id"),
    th.Property("oauth2_client_secret", th.StringType, secret=True, description="OAuth 2.0 secret"),
    th.Property("oauth2_scope", th.StringType, default=WMS_SCOPE, description="OAuth 2.0 scope"),
    th.Property(
        "verify_ssl",
        th.BooleanType,
        default=True,
        description="Verify the WMS's TLS certificate; turn off only for a host you trust",
    ),
    th.Property(
        "allow_http",
        th.BooleanType,
        default=False,
        description="Allow plain http to a non-loopback host (credentials travel unencrypted)",
    ),
    th.Property(
        "request_timeout",
        th.NumberType,
        default=DEFAULT_REQUEST_TIMEOUT,
        description="Seconds to wait for one response",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=RetryPolicy.max_retries,
        description="Retries of a request failing with 429, 5xx, a reset or a timeout",
    ),
    th.Property(
        "retry_initial_wait",
        th.NumberType,
        default=RetryPolicy.initial_wait,
        description="Seconds before the first retry; doubles each time, with jitter",
    ),
    th.Property(
        "retry_max_wait",
        th.NumberType,
        default=RetryPolicy.max_wait,
        description="Longest wait between retries, Retry-After included",
    ),
)
