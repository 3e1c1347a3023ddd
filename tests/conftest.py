"""Shared fixtures: the real simulator on loopback, the tap as a subprocess, PostgreSQL, Meltano."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from oracle_wms_sim import Simulator

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PLUGIN_DIRS = ("extractors", "loaders", "utilities", "transformers", "mappers", "orchestrators")
"""The kinds of Meltano plugin whose virtual environments live in `.meltano/<kind>/`."""
SYS_DIR = "MELTANO_SYS_DIR_ROOT"


# Parallel workers (`make test`: pytest-xdist, `-n 2 --dist loadgroup`) -----------------------


def pytest_configure(config: pytest.Config) -> None:
    """In an xdist worker, this project's Meltano runs get a system directory of the worker's
    own: `meltano run` writes each plugin's config and catalog to `.meltano/run/<plugin>/`, so
    two runs of one plugin at once read each other's files (meltano/meltano#8763). The plugins'
    virtual environments are shared (symlinks); the directory goes when the worker ends."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or SYS_DIR in os.environ:
        return
    sys_dir = Path(tempfile.mkdtemp(prefix=f"meltano-{worker}-"))
    for kind in PLUGIN_DIRS:
        if (ROOT / ".meltano" / kind).is_dir():
            (sys_dir / kind).symlink_to(ROOT / ".meltano" / kind)
    os.environ[SYS_DIR] = str(sys_dir)
    config.add_cleanup(lambda: shutil.rmtree(sys_dir, ignore_errors=True))


@pytest.hookimpl(wrapper=True)  # marks before any plugin (xdist) reads them
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Iterator[None]:
    """Tests that share something run on one worker (`--dist loadgroup`): those of the session's
    warehouse (built once per worker that uses it), the Dagster tests (their code location
    parses the dbt manifest into `transform/target/dagster/`), and the SDK's standard target
    tests (a module-level simulator and rejects file per worker, which the module's last test
    checks: split over two workers, it saw only its own worker's rejects)."""
    for item in items:
        if "warehouse" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("warehouse"))
        elif item.path.name.startswith(("test_orchestration", "test_dagster")):
            item.add_marker(pytest.mark.xdist_group("dagster"))
        elif item.path.name == "test_target_standard.py":
            item.add_marker(pytest.mark.xdist_group("target_standard"))
    yield
    if getattr(config.option, "loadgroup", False):  # set by xdist in a worker
        lost = [
            i.nodeid for i in items if i.get_closest_marker("xdist_group") and "@" not in i.nodeid
        ]
        if lost:  # pytest-xdist did not group them: each worker would build its own warehouse
            raise pytest.UsageError(f"--dist loadgroup ignored the groups of {lost[0]} (pytest 9?)")


def outside_this_project(env: Mapping[str, str], *also: str) -> dict[str, str]:
    """`env` for Meltano in another project (a copy, a new one): without the worker's system
    directory of this project, so that project's `.meltano/` is its own, nor the names `also`."""
    dropped = {SYS_DIR, *also}
    return {k: v for k, v in env.items() if k not in dropped}


IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def sim() -> Iterator[Simulator]:
    """One simulator for tests that only read."""
    with Simulator(seed=42, scale=1) as server:
        yield server


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    """A plain HTTP session with the simulators' default user, for the simulator's own tests."""
    with requests.Session() as session:
        session.auth = ("demo", "demo")
        yield session


@pytest.fixture
def sub_second_filters(sim: Simulator) -> Iterator[Simulator]:
    """The session simulator taking date-time filter values finer than a second, for one test
    of the simulator's instants (real tenants refuse them: docs/api-contract.md D18)."""
    sim.read_options.whole_second_filters = False
    try:
        yield sim
    finally:
        sim.read_options.whole_second_filters = True


@pytest.fixture
def fresh_sim() -> Iterator[Simulator]:
    """A simulator of its own, for tests that change the warehouse."""
    with Simulator(seed=7, scale=1) as server:
        yield server


def tap_config(server: Simulator, **overrides: Any) -> dict[str, Any]:
    """Basic-auth config for a simulator; no discovery cache (each test's simulator differs)."""
    return {
        "base_url": server.base_url,
        "username": server.username,
        "password": server.password,
        "discovery_cache_ttl": 0,
        **overrides,
    }


def oauth_config(server: Simulator, **overrides: Any) -> dict[str, Any]:
    """OAuth 2.0 client-credentials config for a simulator."""
    return {
        "base_url": server.base_url,
        "auth_method": "oauth2",
        "oauth2_token_url": server.token_url,
        "oauth2_client_id": server.oauth_client_id,
        "oauth2_client_secret": server.oauth_client_secret,
        "discovery_cache_ttl": 0,
        **overrides,
    }


def api_get(server: Simulator, path: str, **params: Any) -> requests.Response:
    """A plain request to the simulator, independent of the client under test."""
    return requests.get(
        f"{server.base_url}/wms/lgfapi/v10/{path}",
        params=params,
        auth=(server.username, server.password),
        timeout=30,
    )


def result_count(server: Simulator, entity: str, **filters: Any) -> int:
    response = api_get(server, f"entity/{entity}/", page_size=1, **filters)
    if response.status_code == 404:
        return 0
    response.raise_for_status()
    return int(response.json()["result_count"])


def all_records(server: Simulator, entity: str, **filters: Any) -> list[dict[str, Any]]:
    """Every record of an entity straight from the simulator (paged mode, by page number)."""
    records: list[dict[str, Any]] = []
    page = 1
    while True:
        response = api_get(
            server, f"entity/{entity}/", page_size=1250, page=page, ordering="id", **filters
        )
        if response.status_code == 404:
            return records
        response.raise_for_status()
        body = response.json()
        records.extend(body["results"])
        if page >= body["page_count"]:
            return records
        page += 1


def iter_pages(http: requests.Session, url: str | None) -> Iterator[dict[str, Any]]:
    """Each page of a list, following `next_page` until it is null or the list answers 404
    (lgfapi's empty list)."""
    while url:
        response = http.get(url)
        if response.status_code == 404:
            return
        response.raise_for_status()
        page = response.json()
        yield page
        url = page["next_page"]


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)
    states: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last_state(self) -> dict[str, Any]:
        assert self.states, "the tap emitted no STATE message"
        return self.states[-1]


def run_tap(
    tmp_path: Path,
    config: dict[str, Any],
    *args: str,
    catalog: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
    timeout: float = 300,
) -> TapRun:
    """Run `tap-oracle-wms` as a user would and parse the Singer messages it prints."""
    run_dir = tmp_path / f"tap-{uuid.uuid4().hex[:8]}"
    run_dir.mkdir()
    cmd = [str(BIN / "tap-oracle-wms"), "--config", str(_write(run_dir / "config.json", config))]
    if catalog is not None:
        cmd += ["--catalog", str(_write(run_dir / "catalog.json", catalog))]
    if state is not None:
        cmd += ["--state", str(_write(run_dir / "state.json", state))]
    proc = subprocess.run(
        [*cmd, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    run = TapRun(proc.returncode, proc.stdout, proc.stderr)
    if {"--discover", "--about", "--check-connection"} & set(args):
        return run
    for line in proc.stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            run.records.setdefault(message["stream"], []).append(message["record"])
        elif message["type"] == "SCHEMA":
            run.schemas[message["stream"]] = message["schema"]
        elif message["type"] == "STATE":
            run.states.append(message["value"])
    return run


def discover_catalog(tmp_path: Path, config: dict[str, Any]) -> dict[str, Any]:
    run = run_tap(tmp_path, config, "--discover")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def _sim_catalog(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return discover_catalog(tmp_path_factory.mktemp("sim-catalog"), tap_config(sim))


@pytest.fixture
def sim_catalog(_sim_catalog: dict[str, Any]) -> dict[str, Any]:
    """The session simulator's catalog, `tap-oracle-wms --discover` run once per session; a
    copy per test (tests select streams in it). For tests whose subject is not discovery."""
    return copy.deepcopy(_sim_catalog)


def select_streams(catalog: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """The catalog with exactly `names` selected."""
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in names
    return catalog


def _write(path: Path, content: dict[str, Any]) -> Path:
    path.write_text(json.dumps(content))
    return path


# PostgreSQL ---------------------------------------------------------------------------------

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}


@contextmanager
def new_pg_schema() -> Iterator[str]:
    """A fresh schema name in the local PostgreSQL; it and dbt's `<name>_staging` dropped
    afterwards. Skips only when no server answers, and never in CI, where PostgreSQL is part of
    the machine."""
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(**PG, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {exc}")
    schema = f"wms_test_{uuid.uuid4().hex[:10]}"
    try:
        yield schema
    finally:
        for name in (schema, f"{schema}_staging"):
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        conn.close()


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema in the local PostgreSQL, dropped afterwards."""
    with new_pg_schema() as schema:
        yield schema


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A database of its own (for SQL that names its own schemas)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(**PG, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {exc}")
    name = f"readme_{uuid.uuid4().hex[:10]}"
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


def pg_rows(schema: str, sql: str) -> list[tuple[Any, ...]]:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(**PG) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        return conn.execute(sql).fetchall()


# Meltano ------------------------------------------------------------------------------------


def meltano_env(tmp_path: Path, env: dict[str, str]) -> dict[str, str]:
    """The environment of a `meltano` run in the project: this venv first on PATH, its own
    system database (state) under tmp_path, no usage stats, no discovery cache; then `env`."""
    return {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_ORACLE_WMS_DISCOVERY_CACHE_TTL": "0",
        **env,
    }


def meltano(tmp_path: Path, *args: str, env: dict[str, str], timeout: float = 600) -> str:
    """Run `meltano` in the project with its own system database (state) under tmp_path."""
    proc = subprocess.run(
        [str(BIN / "meltano"), *args],
        cwd=ROOT,
        env=meltano_env(tmp_path, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"meltano {' '.join(args)} failed:\n{output[-6000:]}"
    return output


def copy_working_tree(into: Path, *pathspec: str) -> None:
    """The repository's files (or those under `pathspec`) into `into`, as `git clone` of a
    commit of the working tree would give them: tracked and new, not ignored."""
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", *pathspec],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, names):
        if (ROOT / name).is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, into / name)


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The suite's one loaded warehouse (tests/warehouse.py): a simulator of its own, loaded by
    Meltano into DuckDB and a fresh PostgreSQL schema, dbt built in both; phases on demand."""
    from tests.warehouse import Warehouse  # noqa: PLC0415 (it imports this module)

    with new_pg_schema() as schema, Simulator(seed=7, scale=1) as server:
        yield Warehouse(server, tmp_path_factory.mktemp("warehouse"), schema)
