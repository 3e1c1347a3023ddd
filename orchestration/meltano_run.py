"""One entity group's load: `meltano run --state-id-suffix <environment> tap-oracle-wms--<group>
target-postgres` as a subprocess, and its failure as the connector's own line.

Why a subprocess of the `meltano` CLI and not Meltano's Python API: the CLI is Meltano's public
interface, it does the state bookkeeping (the state id, the backend in `MELTANO_DATABASE_URI`
or `MELTANO_STATE_BACKEND_URI`) exactly as a scheduled `meltano run` would, and a kill of the step
ends it like any other run.

Why each group its own extractor: Meltano writes an extractor's catalog to
`.meltano/run/<extractor>/tap.properties.json` (the selection applied) on every run, so two
runs of one extractor at once overwrite each other's catalog: one run extracts the other's
selection, or fails on "Invalid JSON" or a missing `--catalog` file (meltano/meltano#8763).
An inherited extractor per group has a directory of its own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestration.entity_groups import EntityGroup

LOADER = "target-postgres"

_LEVELS = ("error", "critical", "fatal")
_SUMMARIES = {"meltano Block run completed", "meltano Run completed"}


class LoadError(RuntimeError):
    """A group's `meltano run` exited non-zero; the message is the connector's own error line."""


@dataclass(frozen=True)
class LoadCommand:
    """How one group of one WMS environment is loaded.

    `environment` names the WMS environment (the state id suffix, so each environment's groups
    keep their own bookmarks); `raw_schema` is where target-postgres writes;
    `max_concurrent_requests` is this run's share of the environment's request budget.
    """

    project_root: Path
    meltano: str
    environment: str
    raw_schema: str
    max_concurrent_requests: int
    force: bool = False
    """`meltano run --force`: run although Meltano's system database records a run of this state
    id as still going (a killed run stays "running" until its heartbeat is 5 minutes old)."""

    def state_id(self, group: EntityGroup, meltano_environment: str) -> str:
        """Meltano's state id for the group: `<meltano env>:<extractor>-to-<loader>:<suffix>`
        (`meltano run --help`)."""
        return f"{meltano_environment}:{group.extractor}-to-{LOADER}:{self.environment}"

    def argv(self, group: EntityGroup) -> list[str]:
        return [
            self.meltano,
            "--log-format=json",
            "run",
            "--state-id-suffix",
            self.environment,
            *(["--force"] if self.force else []),
            group.extractor,
            LOADER,
        ]

    def env(self, group: EntityGroup, base: Mapping[str, str]) -> dict[str, str]:
        """`base` (the WMS's URL and credentials, the state backend, the loader's database come
        from there: never from code) plus this run's request share and schema.

        The share goes in the parent's variable, TAP_ORACLE_WMS_MAX_CONCURRENT_REQUESTS, which
        overrides one the environment had; the group's own (TAP_ORACLE_WMS__<GROUP>_...) is
        dropped: Meltano refuses a setting given by both."""
        own = re.sub(r"[^A-Z0-9]", "_", group.extractor.upper()) + "_MAX_CONCURRENT_REQUESTS"
        env = {key: value for key, value in base.items() if key != own}
        env["TAP_ORACLE_WMS_MAX_CONCURRENT_REQUESTS"] = str(self.max_concurrent_requests)
        env["TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA"] = self.raw_schema
        return env

    def run(
        self,
        group: EntityGroup,
        base_env: Mapping[str, str],
        log: Callable[[str, bool], None],
    ) -> None:
        """Run the group's load to its end, each log line of Meltano and the plugins passed to
        `log` with whether it is an error.

        A first load of several groups into a new raw schema races: target-postgres (the
        Singer SDK's `prepare_schema`) checks that the schema exists, then creates it, so when
        two groups start together one of them fails on PostgreSQL's `DuplicateSchema` before it
        wrote a row. That run is started again once, at once: the schema now exists and the
        failed run committed neither rows nor state.

        Raises:
            LoadError: the run exited non-zero, with the connector's error line (else Meltano's).
        """
        returncode, errors, lost_race = self._run_once(group, base_env, log)
        if returncode != 0 and lost_race:
            log(
                f"{group.extractor}: another load created schema {self.raw_schema} at the same "
                "moment (target-postgres checks, then creates it); running the load again",
                False,
            )
            returncode, errors, _ = self._run_once(group, base_env, log)
        if returncode != 0:
            raise LoadError(
                f"{group.extractor}: {_reason(errors) or f'meltano run exited {returncode}'}"
            )

    def _run_once(
        self,
        group: EntityGroup,
        base_env: Mapping[str, str],
        log: Callable[[str, bool], None],
    ) -> tuple[int, list[str], bool]:
        """One `meltano run`: its exit code, its error lines, and whether target-postgres said
        PostgreSQL's DuplicateSchema (in its traceback: Meltano passes those lines on at its
        `info` level, so they are not among the error lines)."""
        lost_race = False

        def watch(line: str, is_error: bool) -> None:
            nonlocal lost_race
            lost_race = lost_race or "DuplicateSchema" in line
            log(line, is_error)

        returncode, errors = _meltano_subprocess(
            self.argv(group), cwd=self.project_root, env=self.env(group, base_env), log=watch
        )
        return returncode, errors, lost_race


def _meltano_subprocess(
    argv: list[str], *, cwd: Path, env: Mapping[str, str], log: Callable[[str, bool], None]
) -> tuple[int, list[str]]:
    """Run `meltano --log-format=json ...` to its end: each line to `log` with whether it is
    an error; (exit code, the error lines). An interruption of the step (a Dagster termination)
    ends the subprocess with it."""
    errors: list[str] = []
    with subprocess.Popen(  # noqa: S603 (argv built from meltano.yml's plugin names)
        argv, cwd=cwd, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stderr is not None
        try:
            for raw in proc.stderr:
                line, is_error = _event(raw)
                if line:
                    log(line, is_error)
                if is_error:
                    errors.append(line)
            returncode = proc.wait()
        except BaseException:
            proc.terminate()
            proc.wait(timeout=30)
            raise
    return returncode, errors


def _event(raw: str) -> tuple[str, bool]:
    """One line of `meltano --log-format=json`: (`<plugin> <message>`, whether it is an error).

    A plugin's own stderr line arrives as the event text at Meltano's `info` level; the
    connectors log a known failure as `... ERROR ... <message>` (oracle_wms.cli)."""
    raw = raw.rstrip("\n")
    try:
        event = json.loads(raw)
    except ValueError:
        return raw, False
    if not isinstance(event, dict):
        return raw, False
    text = str(event.get("event", "")).rstrip()
    name = str(event.get("name") or event.get("logger") or "meltano")
    level = str(event.get("level", "")).lower()
    is_error = level in _LEVELS or " ERROR " in f" {text} " or text.startswith("Error:")
    return f"{name} {text}", is_error


def _reason(errors: list[str]) -> str:
    """The line that says why: the connector's first error line, else Meltano's first one that
    is not one of its summaries ("Block run completed" says only that something failed)."""
    plugin_lines = [line for line in errors if not line.startswith("meltano ")]
    if plugin_lines:
        return plugin_lines[0]
    causes = [line for line in errors if line not in _SUMMARIES]
    return (causes or errors or [""])[0]


def inherited_environment() -> dict[str, str]:
    """The process environment a load starts from (a copy: the runs never change ours)."""
    return dict(os.environ)


def run_meltano(
    name: str,
    argv: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: Callable[[str, bool], None],
) -> None:
    """Run a `meltano --log-format=json run ...` that is not a group's load (the write-back) to
    its end, as `LoadCommand.run` does: each line to `log` with whether it is an error, a step
    interruption ends the subprocess.

    Raises:
        LoadError: it exited non-zero: `<name>: ` and the plugin's error line (else Meltano's).
    """
    returncode, errors = _meltano_subprocess(argv, cwd=cwd, env=env, log=log)
    if returncode != 0:
        raise LoadError(f"{name}: {_reason(errors) or f'meltano run exited {returncode}'}")


def step_log(error: Callable[[str], None]) -> Callable[[str, bool], None]:
    """A `log` for a Dagster step: every line to the step's stderr (its compute log in the UI:
    hundreds a run, too many for the event log), errors also to `error` (the event log)."""

    def log(line: str, is_error: bool) -> None:
        print(line, file=sys.stderr, flush=True)
        if is_error:
            error(line)

    return log
