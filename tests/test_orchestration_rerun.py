"""A group's load that lost the race to create the raw schema runs once more (orchestration/
meltano_run.py): the first load of several groups into a new schema has target-postgres in two
processes check, then create it, and one fails on PostgreSQL's DuplicateSchema (seen in CI).

The race needs two loaders within milliseconds of each other, so the test stands a small
`meltano` executable in for Meltano: a real subprocess that prints what Meltano printed in that
CI run (`--log-format=json` lines) and exits as it did, counting its invocations in a file."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from orchestration.entity_groups import EntityGroup
from orchestration.meltano_run import LoadCommand, LoadError

GROUP = EntityGroup(name="inbound", extractor="tap-oracle-wms--inbound", entities=("iblpn",))
RACE = [  # what `meltano --log-format=json run` printed when target-postgres lost the race
    {"event": '(psycopg.errors.DuplicateSchema) schema "oracle_wms_x" already exists',
     "name": "target-postgres", "level": "info"},
    {"event": 'psycopg.errors.DuplicateSchema: schema "oracle_wms_x" already exists',
     "name": "target-postgres", "level": "info"},
    {"event": "Loader failed", "level": "error"},
    {"event": "Block run completed", "level": "error"},
]  # fmt: skip
OTHER = [
    {"event": "2026-12-06 ERROR tap-oracle-wms: password refused for user x (check password)",
     "name": "tap-oracle-wms--inbound", "level": "info"},
    {"event": "Block run completed", "level": "error"},
]  # fmt: skip


def fake_meltano(tmp_path: Path, answers: list[list[dict[str, str]] | None]) -> Path:
    """An executable that, on its n-th start, prints answers[n]'s events and exits 1, or exits
    0 when answers[n] is None."""
    script = tmp_path / "meltano"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        f"count = pathlib.Path({str(tmp_path / 'starts')!r})\n"
        "n = int(count.read_text()) if count.exists() else 0\n"
        "count.write_text(str(n + 1))\n"
        f"answer = json.loads({json.dumps(json.dumps(answers))})[n]\n"
        "if answer is None:\n"
        "    sys.exit(0)\n"
        "for event in answer:\n"
        "    print(json.dumps(event), file=sys.stderr)\n"
        "sys.exit(1)\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def command(tmp_path: Path, meltano: Path) -> LoadCommand:
    return LoadCommand(
        project_root=tmp_path,
        meltano=str(meltano),
        environment="x",
        raw_schema="oracle_wms_x",
        max_concurrent_requests=4,
    )


def starts(tmp_path: Path) -> int:
    return int((tmp_path / "starts").read_text())


def test_a_load_that_lost_the_schema_race_runs_again_and_succeeds(tmp_path: Path) -> None:
    lines: list[tuple[str, bool]] = []
    command(tmp_path, fake_meltano(tmp_path, [RACE, None])).run(
        GROUP, {}, lambda line, is_error: lines.append((line, is_error))
    )
    assert starts(tmp_path) == 2
    said = [line for line, _ in lines if "running the load again" in line]
    assert said == [
        "tap-oracle-wms--inbound: another load created schema oracle_wms_x at the same moment "
        "(target-postgres checks, then creates it); running the load again"
    ]


def test_a_second_lost_race_fails_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="Loader failed"):
        command(tmp_path, fake_meltano(tmp_path, [RACE, RACE, None])).run(
            GROUP, {}, lambda line, is_error: None
        )
    assert starts(tmp_path) == 2


def test_any_other_failure_runs_once_and_names_the_connectors_line(tmp_path: Path) -> None:
    with pytest.raises(LoadError) as raised:
        command(tmp_path, fake_meltano(tmp_path, [OTHER, None])).run(
            GROUP, {}, lambda line, is_error: None
        )
    assert starts(tmp_path) == 1
    assert str(raised.value) == (
        "tap-oracle-wms--inbound: tap-oracle-wms--inbound 2026-12-06 ERROR tap-oracle-wms: "
        "password refused for user x (check password)"
    )
