"""How both connectors' command lines end: a known failure is one line, not a traceback.

singer-sdk lets every exception out of `click`'s `main`, so a wrong password or a bad setting
prints Python's traceback (tens of lines) before the one line that matters. The tap and the target
wrap their command's `main` with `main_without_traceback`: a failure this project raises on
purpose (`WmsError`: connection, TLS, credentials, permission, settings, state, rejects), a
config that breaks its JSON Schema, or the SDK's `FatalSyncError` around one of them is logged
as its message (each bad setting on its own line) and the process exits 1. Anything else still
shows its traceback: that is a bug to report.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import typing as t
from collections.abc import Iterable
from pathlib import Path

import click
from singer_sdk.exceptions import ConfigValidationError, FatalSyncError
from singer_sdk.plugin_base import PluginBase

from oracle_wms.config_schema import settings_errors
from oracle_wms.errors import WmsError

KNOWN_FAILURES = (WmsError, ConfigValidationError, FatalSyncError)


def main_without_traceback(
    main: t.Callable[..., t.Any], logger_name: str, *args: t.Any, **kwargs: t.Any
) -> t.Any:
    """Run a click command's `main`; a known failure is logged as its message alone.

    Raises:
        SystemExit: 1 after a known failure (anything else propagates unchanged).
    """
    try:
        return main(*args, **kwargs)
    except KNOWN_FAILURES as exc:
        log = logging.getLogger(logger_name)
        if isinstance(exc, ConfigValidationError):
            for error in exc.errors:
                log.error("%s", error)
        log.error("%s", exc.__cause__ if isinstance(exc, FatalSyncError) and exc.__cause__ else exc)
        sys.exit(1)


def one_line_failures(command: click.Command, logger_name: str) -> click.Command:
    """`command`, its `main` wrapped by `main_without_traceback`."""
    command.main = functools.partial(main_without_traceback, command.main, logger_name)  # type: ignore[method-assign]
    return command


def validate_plugin_config(plugin: PluginBase, *, raise_errors: bool) -> list[str]:
    """What `PluginBase._validate_config` does, worded by `settings_errors`: one line per bad
    setting, naming it, never a secret's value, with `WmsSettings`' URL checks in the same pass.

    Raises:
        ConfigValidationError: with every line, when there is one and `raise_errors`.
    """
    schema = plugin.config_jsonschema
    plugin.append_builtin_config(schema)
    errors = settings_errors(schema, plugin.config)
    if errors and raise_errors:
        raise ConfigValidationError("Config validation failed", errors=errors, schema=schema)
    for error in errors:
        plugin.logger.warning("%s", error)
    return errors


def check_config_files(paths: Iterable[str]) -> None:
    """Each `--config` path (but `ENV`) is a readable JSON file.

    Raises:
        click.BadParameter: naming the file and why (the SDK would end in a traceback).
    """
    for path in paths:
        if path == "ENV":
            continue
        try:
            json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise click.BadParameter(
                f"{path} is not a readable JSON file ({exc})", param_hint="--config"
            ) from None


def drop_unusable_settings(config_jsonschema: dict[str, t.Any]) -> None:
    """Leave out of a plugin's settings (`--about`, the plugin definitions) the SDK's
    `faker_config`: it configures the `fake` object of stream maps only when Faker is installed,
    and this package does not install it, so the setting would do nothing."""
    config_jsonschema.get("properties", {}).pop("faker_config", None)


def apply_metrics_log_level(plugin: PluginBase) -> None:
    """The SDK logs a METRIC line per HTTP request at INFO (63 % of a run's lines); its
    metrics logger takes `metrics_log_level` (default WARNING: the per-stream and per-run
    summaries instead). Called once the SDK has set the logger's level from LOGLEVEL."""
    level = plugin.config.get("metrics_log_level") or "WARNING"
    plugin.metrics_logger.setLevel(str(level).upper())
