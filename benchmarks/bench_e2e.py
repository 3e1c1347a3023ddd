"""4. End to end: `meltano run tap-oracle-wms target-duckdb` and `... target-postgres`, inventory.

Meltano runs in the project with a system database of its own (so each run is a first, full
sync), the tap's selection narrowed to inventory and its base URL pointed at the simulator;
target-duckdb writes a temporary file, target-postgres a fresh schema of the local PostgreSQL
(127.0.0.1:5432, database `test`), dropped afterwards. The wall time includes Meltano's start,
the tap's discovery and the target's load; the loaded row count is checked against the WMS.
Peak RSS is the largest process of the pipeline; the notes give each program's peak.
The plain loop (parse ceiling) is measured in the same run for comparison (no goal).

    .venv/bin/python benchmarks/bench_e2e.py [--quick]
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import duckdb
from common import (
    AUTH,
    BIN,
    PG,
    ROOT,
    Measurement,
    Row,
    Sim,
    against,
    attempt,
    given_sims,
    header,
    measure,
    measured_row,
    parser,
    plain_loop,
    print_row,
    save_rows,
    sequenced_url,
    simulators,
    workdir,
)

NAME = "e2e"
ENTITY = "inventory"


def scales(quick: bool) -> list[int]:
    """Scale 67: 201,000 inventory rows (quick: 7, 21,000)."""
    return [7 if quick else 67]


def main() -> int:
    args = parser(__doc__).parse_args()
    (scale,) = scales(args.quick)
    header("4. end to end: meltano run tap-oracle-wms target-duckdb | target-postgres")
    with workdir(args) as work, simulators(given_sims(args), [scale], work) as sims:
        sim = sims[scale]
        tmp = work / NAME
        tmp.mkdir(exist_ok=True)
        rows = []
        for row in _runs(sim, tmp):
            rows.append(row)
            print_row(row)
        save_rows(args.json, rows)
    return 0


def _runs(sim: Sim, tmp: Path) -> Iterator[Row]:
    total = sim.result_count(ENTITY)
    records, loop = plain_loop([sequenced_url(sim, ENTITY, ordering="mod_ts,id")])
    assert records == total, f"plain loop read {records} of {total} records"
    ceiling = measured_row(NAME, "plain loop: GET + json.loads (parse ceiling)", total, loop)
    yield ceiling
    assert ceiling.rate is not None
    for target, load in (("target-duckdb", _duckdb), ("target-postgres", _postgres)):
        case = f"meltano run tap-oracle-wms {target}"
        row = attempt(NAME, case, partial(load, sim, tmp, case, total))
        yield against(row, ceiling.rate, "parse ceiling")


def _duckdb(sim: Sim, tmp: Path, case: str, total: int) -> Row:
    path = tmp / f"bench-{uuid.uuid4().hex[:8]}.duckdb"
    measured = _meltano_run(sim, tmp, "target-duckdb", {"TARGET_DUCKDB_FILEPATH": str(path)})
    with duckdb.connect(str(path), read_only=True) as db:
        found = db.execute(f"select count(*) from oracle_wms.{ENTITY}").fetchone()
    path.unlink()
    return _row(case, total, found, measured)


def _postgres(sim: Sim, tmp: Path, case: str, total: int) -> Row:
    try:
        import psycopg  # noqa: PLC0415 - only this case needs it

        conn = psycopg.connect(**PG, autocommit=True, connect_timeout=5)  # type: ignore[arg-type]
    except (ImportError, OSError) as exc:
        return Row(NAME, case, met="skipped", notes=f"no PostgreSQL at 127.0.0.1:5432: {exc}")
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with conn:
        try:
            env = {"TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema}
            measured = _meltano_run(sim, tmp, "target-postgres", env)
            found = conn.execute(f'select count(*) from "{schema}".{ENTITY}').fetchone()
        finally:
            conn.execute(f'drop schema if exists "{schema}" cascade')
    return _row(case, total, found, measured)


def _meltano_run(sim: Sim, tmp: Path, target: str, target_env: dict[str, str]) -> Measurement:
    env = {
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp / f'meltano-{uuid.uuid4().hex[:8]}.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_ORACLE_WMS_BASE_URL": sim.base_url,
        "TAP_ORACLE_WMS_USERNAME": AUTH[0],
        "TAP_ORACLE_WMS_PASSWORD": AUTH[1],
        "TAP_ORACLE_WMS__SELECT": json.dumps([f"{ENTITY}.*"]),
        "TAP_ORACLE_WMS_DISCOVERY_CACHE_TTL": "0",
        **target_env,
    }
    cmd = [str(BIN / "meltano"), "run", "tap-oracle-wms", target]
    measured = measure(cmd, env=env, cwd=ROOT, per_program=True)
    measured.check(f"meltano run tap-oracle-wms {target}")
    return measured


def _row(case: str, total: int, found: tuple[int, ...] | None, measured: Measurement) -> Row:
    loaded = int(found[0]) if found else 0
    peaks = ", ".join(f"{name} {mb:.0f}" for name, mb in sorted(measured.peaks_mb.items()))
    notes = f"peak RSS MB by program (sampled every 0.2 s): {peaks}" if peaks else ""
    row = measured_row(NAME, case, total, measured, notes=notes)
    if loaded != total:
        row.met = f"ERROR: loaded {loaded:,} rows of {total:,}"
    return row


if __name__ == "__main__":
    sys.exit(main())
