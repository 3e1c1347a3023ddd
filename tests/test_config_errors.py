"""Every bad setting, state, catalog or page ends in one clear line naming what to fix: no
traceback, no secret's value (issue 13, item 8). The tap runs as a subprocess, as Meltano runs
it; each case says what a user could plausibly have written."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import BIN, run_tap, select_streams, tap_config
from tests.hostile import Hostile, Reply, Seen, catalog_for

SECRET_NUMBER = 987654321
SECRET_WORD = "Hunter2-Secret"


def _one_error(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr[-3000:]
    return [line for line in stderr.splitlines() if "| ERROR" in line or line.startswith("Error")]


@pytest.mark.parametrize(
    ("change", "setting", "says"),
    [
        ({"request_timeout": 1e308}, "request_timeout", "at most 86400"),
        ({"request_timeout": 0}, "request_timeout", "at least 1"),
        ({"request_timeout": "30"}, "request_timeout", "must be a whole number"),
        ({"request_timeout": 30.5}, "request_timeout", "must be a whole number"),
        ({"base_url": "http://127.0.0.1:99999/demo"}, "base_url", "port outside 1 to 65535"),
        ({"start_date": "yesterday"}, "start_date", "ISO 8601 date or date-time"),
        ({"start_date": "2026-02-30"}, "start_date", "not a valid date or date-time"),
        ({"entities": [1]}, "entities[0]", "must be text"),
        ({"entities": "company"}, "entities", "must be a list"),
        ({"page_size": 0}, "page_size", "at least 1"),
        ({"max_parallel_requests": 99}, "max_parallel_requests", "at most 8"),
        ({"auth_method": "kerberos"}, "auth_method", "one of basic, oauth2, oauth2_password"),
        ({"verify_ssl": "no"}, "verify_ssl", "true or false"),
        ({"lookback": -1}, "lookback", "at least 0"),
        ({"password": SECRET_NUMBER}, "password", "must be text"),
        ({"password": [SECRET_WORD]}, "password", "must be text"),
        (
            {"auth_method": "oauth2", "oauth2_client_secret": SECRET_NUMBER},
            "oauth2_client_secret",
            "must be text",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(
    sim: Simulator, tmp_path: Path, change: dict[str, Any], setting: str, says: str
) -> None:
    run = run_tap(tmp_path, {**tap_config(sim), **change}, "--discover", timeout=60)

    assert run.returncode == 1
    errors = _one_error(run.stderr)
    assert any(f"Invalid setting '{setting}': " in line and says in line for line in errors), errors
    assert str(SECRET_NUMBER) not in run.stderr and SECRET_WORD not in run.stderr


def test_every_bad_setting_is_reported_at_once(sim: Simulator, tmp_path: Path) -> None:
    config = {
        **tap_config(sim),
        "request_timeout": 1e308,
        "start_date": "yesterday",
        "entities": "company",
        "password": SECRET_NUMBER,
        "base_url": "http://127.0.0.1:99999/demo",
    }
    run = run_tap(tmp_path, config, "--discover", timeout=60)

    assert run.returncode == 1
    errors = "\n".join(_one_error(run.stderr))
    for setting in ("request_timeout", "start_date", "entities", "password", "base_url"):
        assert f"Invalid setting '{setting}'" in errors, setting
    assert str(SECRET_NUMBER) not in run.stderr


def test_a_bad_start_date_stops_a_sync_before_it_starts(
    sim: Simulator, sim_catalog: dict[str, Any], tmp_path: Path
) -> None:
    catalog = select_streams(sim_catalog, {"company"})

    run = run_tap(tmp_path, tap_config(sim, start_date="yesterday"), catalog=catalog, timeout=60)

    assert run.returncode == 1
    assert "Invalid setting 'start_date'" in "\n".join(_one_error(run.stderr))
    assert not run.records


@pytest.mark.parametrize(
    ("state", "says"),
    [
        ({"bookmarks": []}, "'bookmarks' must be an object of streams"),
        ({"bookmarks": {"company": ["x"]}}, "state of stream 'company' must be an object"),
        ([1, 2], "must hold a JSON object, not a list"),
    ],
)
def test_a_state_of_the_wrong_shape_is_named(
    sim: Simulator, sim_catalog: dict[str, Any], tmp_path: Path, state: Any, says: str
) -> None:
    catalog = select_streams(sim_catalog, {"company"})

    run = run_tap(tmp_path, tap_config(sim), catalog=catalog, state=state, timeout=60)

    assert run.returncode != 0
    assert says in "\n".join(_one_error(run.stderr))


@pytest.mark.parametrize("option", ["--state", "--catalog", "--config"])
def test_a_file_that_is_not_json_is_named(sim: Simulator, tmp_path: Path, option: str) -> None:
    broken = tmp_path / f"broken{option.strip('-')}.json"
    broken.write_text("{not json")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config(sim)))
    files = {"--config": config}
    files[option] = broken
    cmd = [str(BIN / "tap-oracle-wms")]
    for name, path in files.items():
        cmd += [name, str(path)]
    if option == "--state":
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps(catalog_for("company", {"id": {"type": "integer"}})))
        cmd += ["--catalog", str(catalog)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)

    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert str(broken) in proc.stderr and "JSON" in proc.stderr


def test_a_page_whose_body_is_a_list_is_named(tmp_path: Path) -> None:
    def handler(seen: Seen) -> Reply:
        return Reply(200, [{"id": 1}])

    with Hostile(handler) as server:
        config = {
            "base_url": server.base_url,
            "username": "u",
            "password": SECRET_WORD,
            "max_retries": 0,
            "max_parallel_requests": 1,
        }
        run = run_tap(tmp_path, config, catalog=catalog_for("thing", {"id": {"type": "integer"}}))

    assert run.returncode == 1
    errors = "\n".join(_one_error(run.stderr))
    assert "entity 'thing': list page has no 'results' array" in errors
    assert SECRET_WORD not in run.stderr
