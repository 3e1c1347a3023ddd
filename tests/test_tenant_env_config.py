"""Settings from the environment (`--config ENV`) are typed as from a file (issue 23 item 7;
meltano/sdk#82: number settings were refused)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from oracle_wms_sim import Simulator
from tests.conftest import BIN, run_tap, select_streams, tap_config

NUMBERS = {"lookback": "120", "request_timeout": "60", "page_size": "50", "max_retries": "2"}


def _env_run(
    sim: Simulator, tmp_path: Path, catalog: Path, **settings: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_ORACLE_WMS_")}
    env.update(
        TAP_ORACLE_WMS_BASE_URL=sim.base_url,
        TAP_ORACLE_WMS_USERNAME=sim.username,
        TAP_ORACLE_WMS_PASSWORD=sim.password,
        TAP_ORACLE_WMS_DISCOVERY_CACHE_TTL="0",
        **{f"TAP_ORACLE_WMS_{k.upper()}": v for k, v in settings.items()},
    )
    return subprocess.run(
        [str(BIN / "tap-oracle-wms"), "--config", "ENV", "--catalog", str(catalog)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )


def test_number_settings_from_the_environment_work_as_from_a_file(
    sim: Simulator, sim_catalog: dict[str, object], tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(select_streams(sim_catalog, {"item"})))
    from_env = _env_run(sim, tmp_path, catalog, **NUMBERS)
    assert from_env.returncode == 0, from_env.stderr[-3000:]
    typed = {"lookback": 120, "request_timeout": 60, "page_size": 50, "max_retries": 2}
    from_file = run_tap(tmp_path, tap_config(sim, **typed), catalog=json.loads(catalog.read_text()))
    assert from_file.returncode == 0, from_file.stderr[-3000:]
    records = [json.loads(line) for line in from_env.stdout.splitlines()]
    ids = [m["record"]["id"] for m in records if m["type"] == "RECORD"]
    assert sorted(ids) == sorted(r["id"] for r in from_file.records["item"])
    assert len(ids) == len(set(ids)) > 50


def test_a_bad_number_from_the_environment_is_one_line_naming_it(
    sim: Simulator, sim_catalog: dict[str, object], tmp_path: Path
) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(select_streams(sim_catalog, {"item"})))
    for name, value in (("lookback", "five minutes"), ("page_size", "12x")):
        run = _env_run(sim, tmp_path, catalog, **{name: value})
        assert run.returncode == 1
        assert "Traceback" not in run.stderr
        named = [line for line in run.stderr.splitlines() if f"Invalid setting '{name}'" in line]
        assert len(named) == 1, run.stderr[-2000:]


def _target_env_run(
    sim: Simulator, work: Path, **settings: str
) -> subprocess.CompletedProcess[str]:
    """target-oracle-wms --config ENV on an input of no records (a SCHEMA of the default
    adjustment stream: the settings are checked before its sink is made)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARGET_ORACLE_WMS_")}
    env.update(
        TARGET_ORACLE_WMS_BASE_URL=sim.base_url,
        TARGET_ORACLE_WMS_USERNAME=sim.username,
        TARGET_ORACLE_WMS_PASSWORD=sim.password,
        TARGET_ORACLE_WMS_LEDGER_PATH=str(work / "ledger.sqlite"),
        TARGET_ORACLE_WMS_REJECTS_PATH=str(work / "rejects.jsonl"),
        **{f"TARGET_ORACLE_WMS_{k.upper()}": v for k, v in settings.items()},
    )
    schema = {"type": "SCHEMA", "stream": "inventory_adjustment", "key_properties": ["adj_id"]}
    schema["schema"] = {"type": "object", "properties": {"adj_id": {"type": "integer"}}}
    return subprocess.run(
        [str(BIN / "target-oracle-wms"), "--config", "ENV"],
        input=json.dumps(schema) + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=work,
    )


def test_the_targets_settings_from_the_environment_are_typed_and_a_bad_one_named(
    sim: Simulator, tmp_path: Path
) -> None:
    """The target's sibling: its integer settings from `TARGET_ORACLE_WMS_*` as from a file,
    and a value that is not one a single line naming it (the SDK's reading ended in a
    traceback)."""
    good = _target_env_run(sim, tmp_path, wave_timeout="60", max_parallel_writes="2")
    assert good.returncode == 0, good.stderr[-3000:]
    for name, value in (("wave_timeout", "a minute"), ("max_parallel_writes", "2x")):
        run = _target_env_run(sim, tmp_path, **{name: value})
        assert run.returncode == 1
        assert "Traceback" not in run.stderr, run.stderr[-3000:]
        named = [line for line in run.stderr.splitlines() if f"Invalid setting '{name}'" in line]
        assert len(named) == 1, run.stderr[-2000:]
