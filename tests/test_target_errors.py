"""The target's known failures end in one line naming the cause, no traceback, no secret's value
(issue 13 item 8 and issue 14, as the tap's in test_config_errors.py). The target runs as a
subprocess, as Meltano runs it."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import BIN
from tests.test_target import ADJUSTMENT_SCHEMA, adjustment, messages, run_target, target_config

SECRET_NUMBER = 987654321
SECRET_WORD = "Hunter2-Secret"


def _errors(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr[-3000:]
    return [line for line in stderr.splitlines() if "| ERROR" in line or line.startswith("Error")]


def _one_adjustment(sim: Simulator) -> list[dict[str, Any]]:
    barcode, item, _ = sim.active_location_with_inventory("F1", nth=0)
    record = adjustment(1, "F1", barcode, item, adjustment_qty=1)
    return messages("inventory_adjustment", ADJUSTMENT_SCHEMA, ["adj_id"], [record])


@pytest.mark.parametrize(
    ("change", "setting", "says"),
    [
        ({"password": SECRET_NUMBER}, "password", "must be text"),
        ({"password": [SECRET_WORD]}, "password", "must be text"),
        ({"request_timeout": 1e308}, "request_timeout", "at most 86400"),
        ({"base_url": "http://127.0.0.1:99999/demo"}, "base_url", "port outside 1 to 65535"),
        ({"auth_method": "kerberos"}, "auth_method", "one of basic, oauth2, oauth2_password"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_without_the_secret(
    sim: Simulator, tmp_path: Path, change: dict[str, Any], setting: str, says: str
) -> None:
    config = {**target_config(sim, tmp_path), **change}
    run = run_target(tmp_path, config, _one_adjustment(sim), timeout=60)

    assert run.returncode == 1
    errors = _errors(run.stderr)
    assert any(f"Invalid setting '{setting}': " in line and says in line for line in errors), errors
    assert str(SECRET_NUMBER) not in run.stderr and SECRET_WORD not in run.stderr


def test_a_wrong_password_is_one_line_and_nothing_is_written(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    barcode, item, before = fresh_sim.active_location_with_inventory("F1", nth=0)
    config = target_config(fresh_sim, tmp_path, password=SECRET_WORD)
    run = run_target(tmp_path, config, _one_adjustment(fresh_sim), timeout=60)

    assert run.returncode == 1
    errors = _errors(run.stderr)
    assert errors and any("401" in line or "credentials" in line.lower() for line in errors), errors
    assert SECRET_WORD not in run.stderr
    assert fresh_sim.inventory_qty("F1", barcode, item) == before


def test_a_config_file_that_is_not_json_is_named(sim: Simulator, tmp_path: Path) -> None:
    bad = tmp_path / "target.json"
    bad.write_text("{not json")
    run = subprocess.run(
        [str(BIN / "target-oracle-wms"), "--config", str(bad)],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    assert f"{bad} is not a readable JSON file" in run.stderr
