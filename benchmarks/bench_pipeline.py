"""7. Pipeline: `meltano run tap-oracle-wms target-postgres` against the tap and the loader alone.

Same rows, same run: inventory (a first, full sync) read by the tap alone to /dev/null; loaded by
target-postgres alone from a file of the tap's own output (its RECORD messages, and its BATCH
messages with their jsonl.gz files); and through Meltano, with the project's shipped loader
configuration and with the variants the configuration was chosen from (each setting given as the
environment variable a user would set: only settings `meltano.yml` declares reach the loader). The
loader alone runs the executable Meltano installed, with the configuration `meltano config print`
gives, into a fresh schema. Then the DuckDB demo (`meltano run tap-oracle-wms target-duckdb`): its
loader's peak RSS. The Meltano runs are a scheduled run's: the tap's discovery cache (shipped
`discovery_cache_ttl`) is warm and Meltano's system database exists, though it holds no state (a
first, full sync each time); one more row is a first run ever (no discovery cache, a new system
database), and one loads the small `facility` list: Meltano's fixed cost of a run (its start,
discovery, state, both plugins' start), which no loader setting changes. Every case runs `--repeat`
times (default 1), interleaved (one round is every case once), and the table gives the median: the
machine may be shared. `--variants` adds the shipped configuration with one setting changed at a
time (validate_records, use_copy, batch_size_rows, MELTANO_ELT_BUFFER_SIZE): what each is worth.
Loaded rows are counted against the WMS. Goals: the shipped pipeline >= 0.9 x target-postgres alone
(from RECORD messages, shipped configuration) and >= 0.35 x the tap alone; the DuckDB demo's loader
under 300 MB.

    .venv/bin/python benchmarks/bench_pipeline.py [--quick] [--repeat N] [--variants]
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    given_sims,
    header,
    measure,
    parser,
    print_row,
    run_tap,
    save_rows,
    simulators,
    tap_catalog,
    verdict,
    workdir,
    write_json,
)

NAME = "pipeline"
ENTITY = "inventory"
SMALL_ENTITY = "facility"
"""A handful of rows: a run of it is Meltano's fixed cost of a run."""
LOADERS = ROOT / ".meltano" / "loaders"
DUCKDB_PEAK_GOAL_MB = 300
BATCH_ROWS = 10_000
"""Rows per BATCH file (the SDK's `batch_size`); target-postgres's own batch is 10,000 rows too."""


def scales(quick: bool) -> list[int]:
    """Scale 67: 201,000 inventory rows (quick: 7, 21,000)."""
    return [7 if quick else 67]


@dataclass
class Case:
    """One measured command, run once per round."""

    label: str
    run: Callable[[], tuple[Measurement, int]]
    """Runs it: (measurement, rows loaded; -1 where nothing is loaded)."""
    program: str = ""
    """The program whose sampled peak RSS the row reports (else the tree's largest)."""
    records: int = 0
    """Rows it moves, when not the benchmark's inventory."""
    measured: list[Measurement] = field(default_factory=list)
    loaded: list[int] = field(default_factory=list)
    failed: str = ""
    """The first line of its last failure."""


def main() -> int:
    cli = parser(__doc__)
    cli.add_argument("--repeat", type=int, default=1, help="rounds, interleaved (medians)")
    cli.add_argument(
        "--variants", action="store_true", help="also one setting changed at a time (4 cases)"
    )
    args = cli.parse_args()
    rounds = max(args.repeat, 1)
    (scale,) = scales(args.quick)
    header("7. pipeline: meltano run tap-oracle-wms target-postgres, against its parts")
    with workdir(args) as work, simulators(given_sims(args), [scale], work) as sims:
        tmp = work / NAME
        tmp.mkdir(exist_ok=True)
        rows = Bench(sims[scale], tmp, variants=args.variants).rows(rounds)
        for row in rows:
            print_row(row)
        save_rows(args.json, rows)
    return 0


class Bench:
    def __init__(self, sim: Sim, tmp: Path, *, variants: bool = False) -> None:
        self.sim = sim
        self.variants = variants
        self.tmp = tmp
        self.total = sim.result_count(ENTITY)
        self.small = sim.result_count(SMALL_ENTITY)
        self.system_db = tmp / "meltano-system.db"
        """Migrated once and copied for each run: a scheduled run's system database."""
        self.discovery_cache = tmp / "discovery"
        self.small_records = tmp / "small.jsonl"
        self.config, self.catalog = tap_catalog(sim, tmp, ENTITY)
        self.batches = tmp / "batches"
        self.batch_config = {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": self.batches.as_uri()},
            "batch_size": BATCH_ROWS,
        }

    def rows(self, rounds: int) -> list[Row]:
        try:
            pg = _pg()
        except Exception as exc:  # any reason: the PostgreSQL rows are skipped
            pg = None
            print(f"[{NAME}] no PostgreSQL at 127.0.0.1:5432 ({exc}): its cases skipped")
        self._warm_up()
        records = self._tap_output("records.jsonl")
        batch_messages = self._tap_output("batch.jsonl", batch_config=self.batch_config)
        self._tap_output(self.small_records.name, SMALL_ENTITY)
        cases = [Case("tap-oracle-wms alone -> /dev/null", self._tap_alone)]
        if pg is not None:
            cases += self._postgres_cases(records, batch_messages)
        cases.append(
            Case(
                "meltano run ... target-duckdb, as before (batch_size_rows 100,000)",
                lambda: self._duckdb({"TARGET_DUCKDB_BATCH_SIZE_ROWS": "100000"}),
                program="target-duckdb",
            )
        )
        cases.append(Case(_DUCKDB, self._duckdb, program="target-duckdb"))
        for number in range(rounds):
            print(f"[{NAME}] round {number + 1} of {rounds}", flush=True)
            for case in cases:
                try:
                    measured, loaded = case.run()
                except Exception as exc:  # one broken case hides no other
                    print(f"[{NAME}] {case.label} failed:\n{exc}", file=sys.stderr, flush=True)
                    case.failed = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    continue
                case.measured.append(measured)
                case.loaded.append(loaded)
                print(f"  {case.label[:70]:70s} {measured.wall_s:7.1f} s", flush=True)
        return self._table(cases, rounds)

    def _postgres_cases(self, records: Path, batch_messages: Path) -> list[Case]:
        shipped: dict[str, str] = {}
        as_before = {
            "TARGET_POSTGRES_VALIDATE_RECORDS": "true",
            "TARGET_POSTGRES_USE_COPY": "false",
        }
        batch = {"TAP_ORACLE_WMS_BATCH_CONFIG": json.dumps(self.batch_config)}

        def meltano(env: dict[str, str]) -> Callable[[], tuple[Measurement, int]]:
            return lambda: self._meltano_postgres(env)

        def alone(messages: Path, env: dict[str, str]) -> Callable[[], tuple[Measurement, int]]:
            return lambda: self._target_alone(messages, env)

        cases = [
            Case(_LOADER_ALONE, alone(records, shipped), program=_PG),
            Case(
                _LOADER_FIXED,
                lambda: self._target_alone(self.small_records, shipped, SMALL_ENTITY),
                program=_PG,
                records=self.small,
            ),
            Case(
                "target-postgres alone <- file of BATCH messages (jsonl.gz), shipped config",
                alone(batch_messages, shipped),
                program=_PG,
            ),
            Case(_SHIPPED, meltano(shipped), program="meltano"),
            Case(
                "meltano run ... target-postgres, shipped config, first run ever (no discovery "
                "cache, new system database)",
                lambda: self._meltano_postgres({}, first_run=True),
                program="meltano",
            ),
            Case(
                _FIXED,
                lambda: self._meltano_postgres({}, entity=SMALL_ENTITY),
                program="meltano",
                records=self.small,
            ),
            Case(
                "meltano run ... target-postgres, as before (validate_records, INSERT)",
                meltano(as_before),
                program="meltano",
            ),
            Case(
                "meltano run ... target-postgres, shipped + tap BATCH jsonl.gz",
                meltano(batch),
                program="meltano",
            ),
        ]
        if not self.variants:
            return cases
        variants = {
            "shipped + validate_records true": {"TARGET_POSTGRES_VALIDATE_RECORDS": "true"},
            "shipped + use_copy false": {"TARGET_POSTGRES_USE_COPY": "false"},
            "shipped + batch_size_rows 50,000": {"TARGET_POSTGRES_BATCH_SIZE_ROWS": "50000"},
            "shipped + MELTANO_ELT_BUFFER_SIZE 8 MiB": {
                "MELTANO_ELT_BUFFER_SIZE": str(8 * 1024 * 1024)
            },
        }
        cases += [
            Case(f"meltano run ... target-postgres, {label}", meltano(env), program="meltano")
            for label, env in variants.items()
        ]
        return cases

    # The measured commands ------------------------------------------------------------------

    def _warm_up(self) -> None:
        """A migrated system database, and the tap's discovery cache as a scheduled run finds it.

        Not measured: `meltano state list` migrates the database; `meltano invoke --dump=catalog`
        discovers as `meltano run` does, which fills the cache for this WMS and identity.
        """
        for args in (["state", "list"], ["invoke", "--dump=catalog", "tap-oracle-wms"]):
            subprocess.run(
                [str(BIN / "meltano"), "--environment", "dev", *args],
                env=self._meltano_env({"MELTANO_DATABASE_URI": f"sqlite:///{self.system_db}"}),
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
            )

    def _tap_output(self, name: str, entity: str = ENTITY, **settings: Any) -> Path:
        """The tap's Singer output in a file (not measured): the loader's input when alone."""
        config, catalog = (self.config, self.catalog)
        if entity != ENTITY:
            config, catalog = tap_catalog(self.sim, self.tmp, entity)
        if settings:
            config = write_json(
                self.tmp / f"tap-{name}.config.json", {**json.loads(config.read_text()), **settings}
            )
        out = self.tmp / name
        with out.open("w") as stdout:
            cmd = [str(BIN / "tap-oracle-wms"), "--config", str(config)]
            measured = measure([*cmd, "--catalog", str(catalog)], stdout=stdout)
        measured.check("tap-oracle-wms")
        return out

    def _tap_alone(self) -> tuple[Measurement, int]:
        return run_tap(self.config, self.catalog), -1

    def _target_alone(
        self, messages: Path, env: dict[str, str], entity: str = ENTITY
    ) -> tuple[Measurement, int]:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        config = self._loader_config(schema, env)
        target = LOADERS / "target-postgres" / "venv" / "bin" / "target-postgres"
        try:
            with messages.open() as stdin:
                measured = measure(
                    [str(target), "--config", str(config)],
                    env={"PGTZ": "UTC"},
                    stdin=stdin,
                    per_program=True,
                )
            measured.check("target-postgres")
            return measured, _pg_count(schema, entity)
        finally:
            _pg_drop(schema)

    def _loader_config(self, schema: str, env: dict[str, str]) -> Path:
        """target-postgres's configuration as Meltano would pass it (`meltano config print`)."""
        done = subprocess.run(
            [str(BIN / "meltano"), "--environment", "dev", "config", "--unsafe", "print", _PG],
            env=self._meltano_env({"TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema, **env}),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        config = json.loads(done.stdout)
        return write_json(self.tmp / f"target-postgres-{schema}.json", config)

    def _meltano_postgres(
        self, env: dict[str, str], *, entity: str = ENTITY, first_run: bool = False
    ) -> tuple[Measurement, int]:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        env = {"TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema, **env}
        if entity != ENTITY:
            env["TAP_ORACLE_WMS__SELECT"] = json.dumps([f"{entity}.*"])
        if first_run:
            env["TAP_ORACLE_WMS_DISCOVERY_CACHE_TTL"] = "0"
        try:
            measured = self._meltano("target-postgres", env, first_run=first_run)
            return measured, _pg_count(schema, entity)
        finally:
            _pg_drop(schema)

    def _duckdb(self, env: dict[str, str] | None = None) -> tuple[Measurement, int]:
        path = self.tmp / f"bench-{uuid.uuid4().hex[:8]}.duckdb"
        try:
            env = {"TARGET_DUCKDB_FILEPATH": str(path), **(env or {})}
            measured = self._meltano("target-duckdb", env)
            with duckdb.connect(str(path), read_only=True) as db:
                found = db.execute(f"select count(*) from oracle_wms.{ENTITY}").fetchone()
            return measured, int(found[0]) if found else 0
        finally:
            path.unlink(missing_ok=True)

    def _meltano(self, target: str, env: dict[str, str], *, first_run: bool = False) -> Measurement:
        cmd = [str(BIN / "meltano"), "--environment", "dev", "run", "tap-oracle-wms", target]
        system_db = self.tmp / f"meltano-{uuid.uuid4().hex[:8]}.db"
        if not first_run:
            shutil.copyfile(self.system_db, system_db)
        env = {"MELTANO_DATABASE_URI": f"sqlite:///{system_db}", **env}
        measured = measure(cmd, env=self._meltano_env(env), cwd=ROOT, per_program=True)
        measured.check(f"meltano run tap-oracle-wms {target}")
        return measured

    def _meltano_env(self, env: dict[str, str]) -> dict[str, str]:
        return {
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "MELTANO_DATABASE_URI": f"sqlite:///{self.tmp / f'meltano-{uuid.uuid4().hex[:8]}.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_ORACLE_WMS_BASE_URL": self.sim.base_url,
            "TAP_ORACLE_WMS_USERNAME": AUTH[0],
            "TAP_ORACLE_WMS_PASSWORD": AUTH[1],
            "TAP_ORACLE_WMS__SELECT": json.dumps([f"{ENTITY}.*"]),
            "TAP_ORACLE_WMS_DISCOVERY_CACHE_PATH": str(self.discovery_cache),
            **env,
        }

    # The table ------------------------------------------------------------------------------

    def _table(self, cases: list[Case], rounds: int) -> list[Row]:
        rows = {case.label: self._row(case, rounds) for case in cases}
        tap, loader = rows[cases[0].label], rows.get(_LOADER_ALONE)
        if tap.rate and loader and loader.rate:
            against(loader, tap.rate, "tap alone")
        for label, row in rows.items():
            streams = label.startswith("meltano run") and "duckdb" not in label
            if streams and label != _FIXED and tap.rate:
                against(row, tap.rate, "tap alone")
        shipped = rows.get(_SHIPPED)
        if shipped and shipped.rate and tap.rate and loader and loader.rate:
            of_loader, of_tap = shipped.rate / loader.rate, shipped.rate / tap.rate
            shipped.goal = ">= 0.9 x target-postgres alone, >= 0.35 x tap alone"
            shipped.met = verdict(
                of_loader >= 0.9 and of_tap >= 0.35,  # the goals
                f"{of_loader:.2f} x loader alone, {of_tap:.2f} x tap alone",
            )
            fixed, loader_fixed = rows.get(_FIXED), rows.get(_LOADER_FIXED)
            if fixed and fixed.wall_s and loader_fixed and loader_fixed.wall_s:
                # Not a goal: each less its fixed cost (a run of a handful of rows), which
                # leaves the time the rows take, Meltano's relay and the two processes sharing
                # the machine included.
                rest = (shipped.wall_s or 0) - fixed.wall_s
                loader_rest = (loader.wall_s or 0) - loader_fixed.wall_s
                shipped.notes += (
                    f"; each less its fixed cost (the {SMALL_ENTITY} rows: {fixed.wall_s:.1f} s, "
                    f"loader alone {loader_fixed.wall_s:.1f} s): {rest:.1f} s against "
                    f"{loader_rest:.1f} s, {loader_rest / rest:.2f} x loader alone"
                )
        duck = rows[_DUCKDB]
        duck.goal = f"target-duckdb peak RSS < {DUCKDB_PEAK_GOAL_MB} MB"
        if not duck.met.startswith("ERROR"):
            peak = _peak(cases[-1], "target-duckdb")
            duck.met = verdict(peak < DUCKDB_PEAK_GOAL_MB, f"{peak:.0f} MB")
        return list(rows.values())

    def _row(self, case: Case, rounds: int) -> Row:
        if not case.measured:
            return Row(NAME, case.label, met="ERROR", notes=case.failed.replace("|", "/")[:200])
        wall = statistics.median(m.wall_s for m in case.measured)
        peaks = {
            name: statistics.median(m.peaks_mb.get(name, 0.0) for m in case.measured)
            for name in sorted({n for m in case.measured for n in m.peaks_mb})
        }
        shown = {n: mb for n, mb in peaks.items() if n in _PROGRAMS}
        notes = f"median of {rounds}; walls {', '.join(f'{m.wall_s:.1f}' for m in case.measured)} s"
        if shown:
            notes += "; peak RSS MB " + ", ".join(f"{n} {mb:.0f}" for n, mb in shown.items())
        rss = peaks.get(case.program) if case.program else None
        expected = case.records or self.total
        row = Row(
            NAME,
            case.label,
            expected,
            wall,
            rss or statistics.median(m.peak_rss_mb for m in case.measured),
            notes=notes,
        )
        wrong = [n for n in case.loaded if n not in {-1, expected}]
        if case.failed:
            row.met = f"ERROR in {rounds - len(case.measured)} of {rounds} rounds: {case.failed}"
        elif wrong:
            row.met = f"ERROR: loaded {wrong[0]:,} rows of {expected:,}"
        return row


_LOADER_ALONE = "target-postgres alone <- file of RECORD messages, shipped config"
_SHIPPED = "meltano run tap-oracle-wms target-postgres, shipped config"
_LOADER_FIXED = f"target-postgres alone <- file of {SMALL_ENTITY} RECORD messages (its fixed cost)"
_FIXED = f"meltano run ... target-postgres, shipped, {SMALL_ENTITY} only (a run's fixed cost)"
_DUCKDB = "meltano run tap-oracle-wms target-duckdb (the demo's load), shipped config"
_PG = "target-postgres"
_PROGRAMS = ("meltano", "tap-oracle-wms", "target-postgres", "target-duckdb")


def _peak(case: Case, program: str) -> float:
    return statistics.median(m.peaks_mb.get(program, 0.0) for m in case.measured)


def _pg() -> Any:
    import psycopg  # noqa: PLC0415 - only the PostgreSQL cases need it

    return psycopg.connect(**PG, autocommit=True, connect_timeout=5)


def _pg_count(schema: str, entity: str = ENTITY) -> int:
    with _pg() as conn:
        found = conn.execute(f'select count(*) from "{schema}".{entity}').fetchone()
    return int(found[0]) if found else 0


def _pg_drop(schema: str) -> None:
    with _pg() as conn:
        conn.execute(f'drop schema if exists "{schema}" cascade')


if __name__ == "__main__":
    sys.exit(main())
