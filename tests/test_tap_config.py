"""Bad configuration fails fast, names the setting or the cause, and never shows a secret."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import (
    api_get,
    discover_catalog,
    run_tap,
    select_streams,
    tap_config,
)

SECRET = "Sup3r-S3cret-Passw0rd!"


def _output(run_stdout: str, run_stderr: str) -> str:
    return run_stdout + run_stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"base_url": None}, "base_url"),
        ({"base_url": "ftp://wms.example.com/env"}, "base_url"),
        ({"base_url": "https://wms.example.com/env/wms/lgfapi/v10/"}, "base_url"),
        ({"base_url": "https://user:pw@wms.example.com/env"}, "base_url"),
        ({"username": None}, "username"),
        ({"page_size": 5000}, "page_size"),
        ({"entities": ["no_such_entity*"], "password": "demo"}, "entities"),  # a real check
        ({"base_url": "http://wms.example.com/env"}, "allow_http"),
        ({"auth_method": "kerberos"}, "auth_method"),
        ({"auth_method": "oauth2"}, "oauth2_token_url"),
        ({"max_retries": -1}, "max_retries"),
        ({"lookback": -5}, "lookback"),
    ],
)
def test_invalid_setting_is_named(
    sim: Simulator, tmp_path: Path, change: dict[str, object], setting: str
) -> None:
    config = {k: v for k, v in {**tap_config(sim, password=SECRET), **change}.items() if v}

    run = run_tap(tmp_path, config, "--discover", timeout=60)

    output = _output(run.stdout, run.stderr)
    assert run.returncode != 0
    assert setting in output
    assert SECRET not in output


def test_wrong_password_is_an_authentication_error(sim: Simulator, tmp_path: Path) -> None:
    config = tap_config(sim, password=SECRET)

    run = run_tap(tmp_path, config, "--discover", timeout=60)

    output = _output(run.stdout, run.stderr)
    assert run.returncode != 0
    assert "401" in output and "username and password" in output
    assert SECRET not in output


def test_wrong_password_during_sync_stops_the_run(
    sim: Simulator, sim_catalog: dict[str, Any], tmp_path: Path
) -> None:
    """With a catalog the tap makes no discovery call: the first list request must fail clearly."""
    catalog = select_streams(sim_catalog, {"item"})

    run = run_tap(tmp_path, tap_config(sim, password=SECRET), catalog=catalog, timeout=120)

    output = _output(run.stdout, run.stderr)
    assert run.returncode != 0
    assert "401" in output and "item" in output
    assert SECRET not in output
    assert not run.records


def test_unreachable_host_fails_fast_and_names_it(tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}/demo"
    config = {"base_url": base_url, "username": "demo", "password": SECRET}

    run = run_tap(tmp_path, config, "--discover", timeout=60)

    output = _output(run.stdout, run.stderr)
    assert run.returncode != 0
    assert f"Cannot connect to the WMS at {base_url}" in output
    assert SECRET not in output


def test_no_secret_in_the_output_of_a_passing_run(sim: Simulator, tmp_path: Path) -> None:
    sim.add_user("etl_reader", SECRET)
    config = tap_config(sim, username="etl_reader", password=SECRET)
    catalog = select_streams(discover_catalog(tmp_path, config), {"company", "order_status"})

    run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records["company"]
    assert SECRET not in run.stdout + run.stderr
    assert "Authorization" not in run.stderr


def test_check_connection_reports_entities_and_read_access(sim: Simulator, tmp_path: Path) -> None:
    run = run_tap(tmp_path, tap_config(sim), "--check-connection", timeout=60)

    assert run.returncode == 0, run.stderr
    entity_count = len(api_get(sim, "entity/").json())
    assert f"as user 'demo': {entity_count} entities" in run.stdout
    assert f"read access checked on {entity_count} entities, {entity_count} readable" in run.stdout


def test_check_connection_names_the_problem(sim: Simulator, tmp_path: Path) -> None:
    run = run_tap(tmp_path, tap_config(sim, password=SECRET), "--check-connection", timeout=60)

    assert run.returncode != 0
    assert "401" in run.stderr and "username and password" in run.stderr
    assert SECRET not in run.stdout + run.stderr


def test_discovery_is_cached_for_its_ttl(sim: Simulator, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    config = tap_config(sim, discovery_cache_ttl=3600, discovery_cache_path=str(cache))

    def describes() -> int:
        return sum(1 for r in sim.request_log() if r["path"].endswith("/describe/"))

    sim.clear_request_log()
    first = discover_catalog(tmp_path, config)
    described = describes()
    assert described == len(first["streams"])
    assert list(cache.glob("discovery-*.json"))

    second = discover_catalog(tmp_path, config)
    assert describes() == described, "a fresh cache must not describe again"
    assert second == first

    discover_catalog(tmp_path, {**config, "discovery_cache_ttl": 0})
    assert describes() == 2 * described
