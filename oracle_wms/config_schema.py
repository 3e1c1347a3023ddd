"""The connection settings tap and target share, as Singer SDK config schema properties.

`WmsSettings.from_config` (settings.py) reads and checks the same names; this is what
`--about` and Meltano show for them. Types, ranges and enums live here, so the SDK's config
validation finds every bad setting at once; `config_errors` words each as one line that names
the setting and never shows a secret's value.
"""

from __future__ import annotations

import math
import typing as t
from collections.abc import Iterable, Mapping
from datetime import datetime

from jsonschema import Draft7Validator, FormatChecker, ValidationError
from singer_sdk import typing as th
from singer_sdk.configuration._dict_config import parse_environment_config

from oracle_wms.errors import WmsConfigError
from oracle_wms.settings import (
    AUTH_METHODS,
    DEFAULT_REQUEST_TIMEOUT,
    MAX_SECONDS,
    WMS_SCOPE,
    RetryPolicy,
    WmsSettings,
)

METRICS_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
"""Levels of the SDK's metrics logger (`metrics_log_level`)."""

ISO_DATE_TIME = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})?)?$"
"""A date or an ISO 8601 date-time, with or without an offset (`start_date`)."""


def seconds(maximum: float = MAX_SECONDS, *, zero_ok: bool) -> th.IntegerType:
    """A whole number of seconds, positive (or zero), at most `maximum`.

    Whole, not a JSON number: Meltano's setting kind for a number, `decimal`, cannot reach a
    plugin from an environment variable or `meltano config set` (Meltano 4.4.1 casts the text to
    `Decimal` and fails to write the plugin's config), and its `integer` kind fails on a fraction;
    so every duration is whole seconds, `kind: integer` in the plugin definitions."""
    return th.IntegerType(minimum=0 if zero_ok else 1, maximum=int(maximum))


def config_errors(
    schema: Mapping[str, t.Any], config: Mapping[str, t.Any], secrets: Iterable[str] = ()
) -> list[str]:
    """Every way `config` breaks `schema`, one line each: the setting, then what it must be.

    Values are never quoted for a `secret` property (nor for names in `secrets`).
    """
    props: Mapping[str, t.Any] = schema.get("properties", {})
    hidden = set(secrets) | {name for name, prop in props.items() if prop.get("secret")}
    validator = Draft7Validator(schema, format_checker=FormatChecker())
    lines = []
    for error in sorted(validator.iter_errors(dict(config)), key=lambda e: list(e.path)):
        lines.append(_describe(error, hidden))
    return lines


def settings_errors(schema: Mapping[str, t.Any], config: Mapping[str, t.Any]) -> list[str]:
    """`config_errors`, plus what only `WmsSettings` checks (a URL's shape) for a setting the
    schema found nothing wrong with: every bad setting, one line each."""
    errors = config_errors(schema, config)
    start = config.get("start_date")
    if isinstance(start, str) and not any("'start_date'" in line for line in errors):
        try:
            datetime.fromisoformat(start.strip())
        except ValueError:
            errors.append(
                f"Invalid setting 'start_date': is not a valid date or date-time, got {start!r}"
            )
    try:
        WmsSettings.from_config(config)
    except WmsConfigError as exc:
        if not any(f"'{exc.setting}" in line for line in errors):
            errors.append(str(exc))
    return errors


def _describe(error: ValidationError, hidden: set[str]) -> str:
    path = [str(part) for part in error.path]
    setting = path[0] if path else ""
    where = "".join(f"[{part}]" for part in path[1:])
    name = f"'{setting}{where}'" if setting else "the config"
    value = error.instance
    shown = "" if setting in hidden else f", got {_short(value)}"
    rule = error.validator
    expected: t.Any = error.validator_value
    if rule == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        kinds = [k for k in kinds if k != "null"]
        what = f"must be {' or '.join(_KIND_WORDS.get(str(k), str(k)) for k in kinds)}{shown}"
    elif rule == "enum":
        what = f"must be one of {', '.join(map(str, expected))}{shown}"
    elif rule in {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"}:
        what = f"must be {_BOUND_WORDS[str(rule)]} {expected:g}{shown}"
    elif rule in {"pattern", "format"}:
        what = f"is not {_FORMAT_WORDS.get(setting, 'in the expected format')}{shown}"
    elif rule == "required":
        return f"Invalid setting '{error.message.split(chr(39))[1]}': is required"
    else:
        what = "is invalid" + shown
    return f"Invalid setting {name}: {what}"


_KIND_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
}
_BOUND_WORDS = {
    "minimum": "at least",
    "exclusiveMinimum": "more than",
    "maximum": "at most",
    "exclusiveMaximum": "less than",
}
_FORMAT_WORDS = {
    "start_date": "an ISO 8601 date or date-time such as 2026-01-31T00:00:00Z",
}


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
        allowed_values=list(AUTH_METHODS),
        description="basic (username/password), oauth2 (client credentials) or "
        "oauth2_password (IDCS password grant: username, password and the OAuth 2.0 client)",
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
        seconds(zero_ok=False),
        default=int(DEFAULT_REQUEST_TIMEOUT),
        description="Seconds one response may take, from the request to its last byte",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=100),
        default=RetryPolicy.max_retries,
        description="Retries of a request failing with 429, 5xx, a reset or a timeout",
    ),
    th.Property(
        "retry_initial_wait",
        seconds(zero_ok=True),
        default=int(RetryPolicy.initial_wait),
        description="Seconds before the first retry; doubles each time, with jitter (0 retries "
        "at once: for tests, not for a real WMS)",
    ),
    th.Property(
        "retry_max_wait",
        seconds(zero_ok=False),
        default=int(RetryPolicy.max_wait),
        description="Longest wait between retries, Retry-After included",
    ),
    th.Property(
        "metrics_log_level",
        th.StringType,
        default="WARNING",
        allowed_values=list(METRICS_LOG_LEVELS),
        description="Level of the Singer SDK's METRIC lines (one per HTTP request, one per "
        "stream's records and duration): WARNING leaves them out, the summaries per stream and "
        "per run say the same; INFO logs every one",
    ),
)


def environment_config(schema: Mapping[str, t.Any], prefix: str) -> dict[str, t.Any]:
    """Settings from `<PREFIX><SETTING>` environment variables (`--config ENV`, Meltano's
    injected variables), typed as a config file would give them.

    The SDK's reading (`parse_environment_config`) keeps a `number` setting a string, which the
    config schema then refuses (meltano/sdk#82: `lookback=300` from the environment failed),
    and ends in a traceback on an `integer` that is not one. Here every value the SDK reads is
    read again by its schema type: integers and numbers become `int`/`float` when they parse,
    and otherwise stay the text given, so the config check names the setting.
    """
    properties = dict(schema.get("properties", {}))
    numeric = {name for name, spec in properties.items() if _numeric(spec)}
    as_text = {
        "type": "object",
        "properties": {
            name: {"type": ["string", "null"]} if name in numeric else spec
            for name, spec in properties.items()
        },
    }
    config = parse_environment_config(as_text, prefix)
    for name in numeric & set(config):
        config[name] = _number(str(config[name]))
    return config


def _numeric(spec: Mapping[str, t.Any]) -> bool:
    kinds = spec.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    return bool({"integer", "number"} & set(kinds))


def _number(text: str) -> int | float | str:
    value = text.strip()
    try:
        return int(value)
    except ValueError:
        pass
    try:
        number = float(value)
    except ValueError:
        return text
    return number if math.isfinite(number) else text
