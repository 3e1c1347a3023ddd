"""The files the target keeps: one run at a time per ledger (however its path is written), one
clear line for a file that cannot be used and nothing sent to the WMS then.

Counts are the simulator's own (quantities read before and after), never the target's.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import BIN, PG, ROOT, meltano_env, outside_this_project
from tests.test_target import (
    ADJUSTMENT_SCHEMA,
    active_stock,
    adjustment,
    messages,
    qty,
    run_target,
    target_config,
)
from tests.test_target_fulfilment import posts, stage_order, stock, wave_lines, waves

STREAM = "inventory_adjustment"


def target_process(
    work: Path,
    config: dict[str, Any],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: IO[str] | None = None,
) -> subprocess.Popen[str]:
    """`target-oracle-wms` started with its input still open (the caller writes it), or reading
    `stdin`."""
    work.mkdir(parents=True, exist_ok=True)
    config_path = work / "target.json"
    config_path.write_text(json.dumps(config))
    return subprocess.Popen(
        [str(BIN / "target-oracle-wms"), "--config", str(config_path)],
        stdin=stdin or subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def feed(process: subprocess.Popen[str], lines: list[dict[str, Any]]) -> tuple[int, str]:
    """Write the rest of the input (none when the process reads a file), close it; (exit code,
    stderr)."""
    text = "".join(json.dumps(m) + "\n" for m in lines) if process.stdin else None
    _, stderr = process.communicate(text, timeout=300)
    return process.returncode, stderr


def wait_for_line(process: subprocess.Popen[str], text: str) -> str:
    """Read the process's stderr until a line holds `text` (the process keeps running)."""
    assert process.stderr is not None
    seen = ""
    for line in process.stderr:
        seen += line
        if text in line:
            return seen
    raise AssertionError(f"the target ended before logging {text!r}:\n{seen[-3000:]}")


def writes(sim: Simulator) -> list[str]:
    return [
        f"{r['method']} {r['path']}"
        for r in sim.request_log()
        if r["method"] in {"POST", "PATCH", "PUT", "DELETE"} and "/admin/" not in r["path"]
    ]


def error_lines(stderr: str, setting: str) -> list[str]:
    return [line for line in stderr.splitlines() if f"{setting} '" in line]


def outcome(stderr: str) -> str:
    """The stream's summary line (applied / already applied / rejected), '' when none."""
    return next(
        (
            line
            for line in stderr.splitlines()
            if f"Stream '{STREAM}':" in line and " applied" in line
        ),
        "",
    )


# 1. Exactly once across processes --------------------------------------------------------------


def test_two_runs_started_together_apply_each_adjustment_once(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """A scheduler starting a run while the last one still runs: the same input, the same
    ledger. The writes are slow (0.3 s each), so the runs overlap; without the run lock both
    find every record unapplied and each quantity moves twice."""
    stock = active_stock(fresh_sim, "F1", 10)
    before = [qty(fresh_sim, "F1", loc, item) for loc, item, _ in stock]
    records = [
        adjustment(n, "F1", loc, item, adjustment_qty=1) for n, (loc, item, _) in enumerate(stock)
    ]
    lines = messages(STREAM, ADJUSTMENT_SCHEMA, ["adj_id"], records)
    fresh_sim.add_fault("latency", rate=1, latency_ms=300, path_contains="update_active_inventory")
    config = target_config(fresh_sim, tmp_path, max_parallel_writes=1)
    source = tmp_path / "input.jsonl"
    source.write_text("".join(json.dumps(m) + "\n" for m in lines))
    runs = []
    for name in ("a", "b"):  # both started before either reads a line
        with source.open() as stdin:
            own = {**config, "rejects_path": str(tmp_path / name / "r.jsonl")}
            runs.append(target_process(tmp_path / name, own, stdin=stdin))
    results = [feed(run, lines) for run in runs]

    after = [qty(fresh_sim, "F1", loc, item) for loc, item, _ in stock]
    moved = [a - b for a, b in zip(after, before, strict=True)]
    assert moved == [Decimal(1)] * 10, results
    assert len(fresh_sim.history_with_ref("singer:")) == 10
    codes = sorted(code for code, _ in results)
    ran = [stderr for code, stderr in results if code == 0]
    refused = [stderr for code, stderr in results if code != 0]
    assert codes == [0, 1], results  # the slow writes make them overlap: one is refused
    for stderr in refused:
        (line,) = error_lines(stderr, "ledger_path")
        assert "in use by another run (pid " in line and f"on host {socket.gethostname()}" in line
        assert "Traceback" not in stderr
    print(
        f"two runs at once: sent 10+10, applied {sum(m for m in moved)}, "
        f"summaries {[outcome(s) for s in ran]}, refused {len(refused)}, "
        f"double-applied {sum(m - 1 for m in moved)}"
    )


@contextmanager
def holding_run(
    work: Path, config: dict[str, Any], records: list[dict[str, Any]]
) -> Iterator[subprocess.Popen[str]]:
    """A run that holds the ledger (its SCHEMA read, its records not yet given) until the block
    ends, then gets its records and ends."""
    lines = messages(STREAM, ADJUSTMENT_SCHEMA, ["adj_id"], records)
    holder = target_process(work, config)
    assert holder.stdin is not None
    holder.stdin.write(json.dumps(lines[0]) + "\n")
    holder.stdin.flush()
    wait_for_line(holder, "(held by this run)")
    try:
        yield holder
    finally:
        code, stderr = feed(holder, lines[1:])
        assert code == 0, stderr[-3000:]


def test_every_name_of_one_ledger_is_one_ledger(fresh_sim: Simulator, tmp_path: Path) -> None:
    """Absolute, relative to the working directory, through a symlinked directory, with `~`,
    with `$VAR`, relative to the Meltano project from another directory: while one run holds the
    ledger each of them is refused before anything is sent; afterwards each replays the records
    as already applied (the same file)."""
    ((loc, item, _),) = active_stock(fresh_sim, "F1", 1)
    before = qty(fresh_sim, "F1", loc, item)
    records = [adjustment(1, "F1", loc, item, adjustment_qty=2)]
    home = tmp_path / "home"
    real = home / "wms" / "ledger.sqlite"
    real.parent.mkdir(parents=True)
    (tmp_path / "alias").symlink_to(real.parent, target_is_directory=True)
    (tmp_path / "link.sqlite").symlink_to(real)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    aliases: dict[str, tuple[str, Path, dict[str, str]]] = {
        "relative": ("wms/ledger.sqlite", home, {}),
        "symlink": (str(tmp_path / "alias" / "ledger.sqlite"), elsewhere, {}),
        "file symlink": (str(tmp_path / "link.sqlite"), elsewhere, {}),
        "tilde": ("~/wms/ledger.sqlite", elsewhere, {"HOME": str(home)}),
        "variable": ("$LEDGER_DIR/ledger.sqlite", elsewhere, {"LEDGER_DIR": str(real.parent)}),
        "meltano project": ("wms/ledger.sqlite", elsewhere, {"MELTANO_PROJECT_ROOT": str(home)}),
        "dotted": (str(home / "wms" / ".." / "wms" / "ledger.sqlite"), elsewhere, {}),
    }
    base = target_config(fresh_sim, tmp_path, ledger_path=str(real))
    fresh_sim.clear_request_log()
    refused: dict[str, str] = {}
    with holding_run(tmp_path / "holder", base, records):
        for name, (path, cwd, env) in aliases.items():
            work = tmp_path / name.replace(" ", "-")
            config = {**base, "ledger_path": path, "rejects_path": str(work / "r.jsonl")}
            code, stderr = feed(
                target_process(work, config, cwd=cwd, env=env),
                messages(STREAM, ADJUSTMENT_SCHEMA, ["adj_id"], records),
            )
            lines = error_lines(stderr, "ledger_path")
            assert code == 1 and len(lines) == 1, f"{name}: {stderr[-3000:]}"
            assert f"'{real}'" in lines[0] and "in use by another run (pid " in lines[0], name
            refused[name] = lines[0]
        assert writes(fresh_sim) == []  # none of the refused runs sent anything

    assert qty(fresh_sim, "F1", loc, item) == before + 2
    for name, (path, cwd, env) in aliases.items():
        work = tmp_path / f"replay-{name.replace(' ', '-')}"
        config = {**base, "ledger_path": path, "rejects_path": str(work / "r.jsonl")}
        code, stderr = feed(
            target_process(work, config, cwd=cwd, env=env),
            messages(STREAM, ADJUSTMENT_SCHEMA, ["adj_id"], records),
        )
        assert code == 0, f"{name}: {stderr[-3000:]}"
        assert f"Ledger {real} (held by this run)" in stderr, name
        assert "0 applied, 1 already applied (skipped), 0 rejected" in outcome(stderr), name
    assert qty(fresh_sim, "F1", loc, item) == before + 2
    print(
        f"ledger aliases: {len(aliases)} refused while held, {len(aliases)} replays all "
        "already applied, double-applied 0"
    )


# 3. Damaged local files -------------------------------------------------------------------------


@contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """`path` (a file or a directory) cannot be written, even by root (the immutable flag; a
    plain read-only mode for anyone else)."""
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
        if done.returncode != 0:  # root without CAP_LINUX_IMMUTABLE: nothing stops its writes
            pytest.skip(f"cannot make {path.name} unwritable for root here: {done.stderr!r}")
    else:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o755 if path.is_dir() else 0o644)


def sqlite_file(path: Path, *statements: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        db.execute(statement)
    db.close()


LEDGER_V0 = (
    "CREATE TABLE applied (stream TEXT NOT NULL, identity TEXT NOT NULL, applied_at REAL NOT NULL,"
    " result TEXT, PRIMARY KEY (stream, identity))",
)


def _corrupt(path: Path) -> None:
    sqlite_file(path, *LEDGER_V0, "INSERT INTO applied VALUES ('x', 'y', 0, null)")
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)  # the header intact, every page after it garbage
    path.write_bytes(bytes(data))


CASES: dict[str, tuple[str, str, Callable[[Path], Any], str]] = {
    # name: (setting, the file (relative to the work dir), how it is damaged, what the line says)
    "ledger not a database": (
        "ledger_path",
        "ledger.sqlite",
        lambda p: p.write_text("id,qty\n1,5\n" * 50),
        "is not a readable SQLite ledger (file is not a database); restore it from a backup",
    ),
    "ledger malformed": (
        "ledger_path",
        "ledger.sqlite",
        _corrupt,
        "is not a readable SQLite ledger",
    ),
    "ledger a directory": (
        "ledger_path",
        "ledger.sqlite",
        lambda p: p.mkdir(),
        "is a directory; set ledger_path to a file's path inside it",
    ),
    "ledger under a file": (
        "ledger_path",
        "plain-file/ledger.sqlite",
        lambda p: p.parent.write_text("not a directory"),
        "its directory cannot be created (Not a directory)",
    ),
    "ledger of something else": (
        "ledger_path",
        "ledger.sqlite",
        lambda p: sqlite_file(p, "CREATE TABLE orders (id INTEGER)"),
        "is a SQLite database of something else (tables orders)",
    ),
    "ledger from a newer version": (
        "ledger_path",
        "ledger.sqlite",
        lambda p: sqlite_file(p, *LEDGER_V0, "PRAGMA user_version = 7"),
        "written by a newer target-oracle-wms (ledger version 7; this one reads up to 2); "
        "upgrade target-oracle-wms",
    ),
    "ledger read-only": (
        "ledger_path",
        "ledger.sqlite",
        lambda p: sqlite_file(p, *LEDGER_V0),
        "cannot be written (attempt to write a readonly database)",
    ),
    "ledger directory unwritable": (
        "ledger_path",
        "locked-dir/ledger.sqlite",
        lambda p: p.parent.mkdir(),
        "its lock file ledger.sqlite.lock cannot be opened",
    ),
    "rejects a directory": (
        "rejects_path",
        "rejects.jsonl",
        lambda p: p.mkdir(),
        "is a directory; set rejects_path to a file's path inside it",
    ),
    "rejects read-only": (
        "rejects_path",
        "rejects.jsonl",
        lambda p: p.write_text(""),
        "cannot be appended to",
    ),
    "rejects directory unwritable": (
        "rejects_path",
        "locked-dir/rejects.jsonl",
        lambda p: p.parent.mkdir(),
        "cannot be appended to",
    ),
}
UNWRITABLE = {
    "ledger read-only": "file",
    "ledger directory unwritable": "directory",
    "rejects read-only": "file",
    "rejects directory unwritable": "directory",
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_file_the_target_keeps_that_cannot_be_used_is_one_line_and_no_write(
    fresh_sim: Simulator, tmp_path: Path, case: str
) -> None:
    setting, name, damage, says = CASES[case]
    ((loc, item, _),) = active_stock(fresh_sim, "F1", 1)
    before = qty(fresh_sim, "F1", loc, item)
    path = tmp_path / "files" / name
    (tmp_path / "files").mkdir()
    damage(path)
    config = target_config(fresh_sim, tmp_path, **{setting: str(path)})
    if setting == "rejects_path":
        config["ledger_path"] = str(tmp_path / "ok" / "ledger.sqlite")
    else:
        config["rejects_path"] = str(tmp_path / "ok" / "rejects.jsonl")
    lines = messages(
        STREAM, ADJUSTMENT_SCHEMA, ["adj_id"], [adjustment(1, "F1", loc, item, adjustment_qty=3)]
    )
    fresh_sim.clear_request_log()
    target = {"file": path, "directory": path.parent}.get(UNWRITABLE.get(case, ""))
    with unwritable(target) if target is not None else nullcontext():
        process = target_process(tmp_path / "run", config)
        stdout, stderr = process.communicate("".join(json.dumps(m) + "\n" for m in lines))

    assert process.returncode == 1, stderr[-3000:]
    found = error_lines(stderr, setting)
    assert len(found) == 1, stderr[-3000:]
    assert f"{setting} '{path}': {says}" in found[0]
    assert "Traceback" not in stderr
    assert writes(fresh_sim) == []
    assert qty(fresh_sim, "F1", loc, item) == before
    assert stdout == ""  # no STATE
    print(f"{case}: sent 1, applied 0, rejected 0, refused at start: {found[0].split('| ')[-1]}")


def test_a_ledger_from_before_versions_is_migrated_and_still_skips_its_records(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Version 0 (no `content`, no `user_version`): read as applied, content unknown."""
    ((loc, item, _),) = active_stock(fresh_sim, "F1", 1)
    before = qty(fresh_sim, "F1", loc, item)
    ledger = tmp_path / "old.sqlite"
    sqlite_file(ledger, *LEDGER_V0, f"INSERT INTO applied VALUES ('{STREAM}', '[1]', 0, null)")
    records = [
        adjustment(1, "F1", loc, item, adjustment_qty=3),
        adjustment(2, "F1", loc, item, adjustment_qty=1),
    ]
    lines = messages(STREAM, ADJUSTMENT_SCHEMA, ["adj_id"], records)

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path, ledger_path=str(ledger)), lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert "1 applied, 1 already applied (skipped), 0 rejected" in outcome(run.stderr)
    assert qty(fresh_sim, "F1", loc, item) == before + 1
    db = sqlite3.connect(ledger)
    assert db.execute("PRAGMA user_version").fetchone() == (2,)
    # it now belongs to the WMS that opened it: host and environment, no scheme, no port
    assert db.execute("SELECT identity FROM wms").fetchall() == [("127.0.0.1/demo",)]
    db.close()


def test_a_ledger_of_another_wms_is_one_line_and_no_write(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """One Meltano project, one default ledger, `dev` and `prod` pointing at two WMSs: the
    records applied in one are not applied in the other, so the ledger must not skip them."""
    ledger = tmp_path / "ledger.sqlite"
    (tmp_path / "dev").mkdir()
    (tmp_path / "prod").mkdir()
    ((loc, item, _),) = active_stock(fresh_sim, "F1", 1)
    lines = messages(
        STREAM, ADJUSTMENT_SCHEMA, ["adj_id"], [adjustment(1, "F1", loc, item, adjustment_qty=2)]
    )
    first = run_target(
        tmp_path / "dev", target_config(fresh_sim, tmp_path, ledger_path=str(ledger)), lines
    )
    assert first.returncode == 0, first.stderr[-3000:]
    assert "1 applied, 0 already applied" in outcome(first.stderr)

    with Simulator(seed=7, scale=1, environment="acme_prod") as prod:
        ((loc, item, _),) = active_stock(prod, "F1", 1)
        before = qty(prod, "F1", loc, item)
        lines = messages(
            STREAM,
            ADJUSTMENT_SCHEMA,
            ["adj_id"],
            [adjustment(1, "F1", loc, item, adjustment_qty=2)],
        )
        refused = run_target(
            tmp_path / "prod", target_config(prod, tmp_path, ledger_path=str(ledger)), lines
        )
        assert refused.returncode != 0
        (line,) = error_lines(refused.stderr, "ledger_path")
        assert "records the writes to the WMS 127.0.0.1/demo, not to 127.0.0.1/acme_prod" in line
        assert "give each WMS its own ledger_path" in line
        assert "Traceback" not in refused.stderr
        assert writes(prod) == []

        own = run_target(
            tmp_path / "prod",
            target_config(prod, tmp_path, ledger_path=str(tmp_path / "prod.sqlite")),
            lines,
        )
        assert own.returncode == 0, own.stderr[-3000:]
        assert "1 applied, 0 already applied" in outcome(own.stderr)
        assert qty(prod, "F1", loc, item) == before + 2


# 2. No STATE past a rejected record -------------------------------------------------------------


def test_no_state_is_passed_on_past_a_rejected_record_unless_failures_are_allowed(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Record 1 is refused (a location the WMS does not have), record 2 applied: the source's
    STATE (bookmark 2) must not reach the orchestrator, or the next run starts after record 1.
    With `allow_failures` the user accepts the loss and the STATE is passed on; a dry run writes
    nothing and passes nothing on."""
    ((loc, item, _),) = active_stock(fresh_sim, "F1", 1)
    before = qty(fresh_sim, "F1", loc, item)
    records = [
        adjustment(1, "F1", "NO-SUCH-LOCATION", item, adjustment_qty=4),
        adjustment(2, "F1", loc, item, adjustment_qty=1),
    ]
    lines = messages(STREAM, ADJUSTMENT_SCHEMA, ["adj_id"], records)
    bookmark = lines[-1]["value"]

    runs = {
        "dry run": run_target(tmp_path, target_config(fresh_sim, tmp_path, dry_run=True), lines),
        "default": run_target(tmp_path, target_config(fresh_sim, tmp_path), lines),
        "allow_failures": run_target(
            tmp_path, target_config(fresh_sim, tmp_path, allow_failures=True), lines
        ),
    }

    dry, default, allowed = runs.values()
    assert default.returncode == 1 and default.states == [], default.stderr[-3000:]
    assert "1 applied, 0 already applied (skipped), 1 rejected" in outcome(default.stderr)
    assert "STATE held back from here on (1 record(s) rejected" in default.stderr
    assert [r["record"]["adj_id"] for r in default.rejects] == [1]
    assert dry.returncode == 1 and dry.states == [], dry.stderr[-3000:]
    assert "STATE held back from here on (dry_run wrote nothing)" in dry.stderr
    assert allowed.returncode == 0 and allowed.states == [bookmark], allowed.stderr[-3000:]
    assert "0 applied, 1 already applied (skipped), 1 rejected" in outcome(allowed.stderr)
    assert qty(fresh_sim, "F1", loc, item) == before + 1
    for name, run in runs.items():
        print(f"{name}: sent 2, {outcome(run.stderr).split(': ')[-1]}, STATE out {run.states}")


# 2 and 4 through Meltano: the bookmark stays before a rejected row; the files' default place ----


def meltano_project(project: Path, sim: Simulator, schema: str) -> Path:
    """A Meltano project of a user's own, outside the repository: tap-postgres (the installed
    one) reading `schema`.inventory_adjustment incrementally by `id`, target-oracle-wms with
    no `ledger_path` or `rejects_path` (their defaults)."""
    project.mkdir()
    stream = f"{schema}-inventory_adjustment"
    tap = ROOT / ".meltano" / "extractors" / "tap-postgres" / "venv" / "bin" / "tap-postgres"
    definition = {
        "version": 1,
        "default_environment": "dev",
        "environments": [{"name": "dev"}],
        "project_id": "ledger-defaults",
        "plugins": {
            "extractors": [
                {
                    "name": "tap-postgres",
                    "namespace": "tap_postgres",
                    "executable": str(tap),
                    "capabilities": ["catalog", "discover", "state", "about", "stream-maps"],
                    "settings": [
                        {"name": "sqlalchemy_url", "kind": "string", "sensitive": True},
                        {"name": "filter_schemas", "kind": "array"},
                    ],
                    "config": {
                        "sqlalchemy_url": "postgresql+psycopg2://postgres:trust@127.0.0.1:5432/test",
                        "filter_schemas": [schema],
                    },
                    "select": [f"{stream}.*"],
                    "metadata": {
                        stream: {"replication-method": "INCREMENTAL", "replication-key": "id"}
                    },
                }
            ],
            "loaders": [
                {
                    "name": "target-oracle-wms",
                    "namespace": "target_oracle_wms",
                    "executable": str(BIN / "target-oracle-wms"),
                    "config": {
                        "base_url": sim.base_url,
                        "username": sim.username,
                        "password": sim.password,
                        "stream_actions": {
                            stream: {
                                "entity": "location",
                                "action": "operation",
                                "operation": "update_active_inventory",
                            }
                        },
                    },
                }
            ],
        },
    }
    (project / "meltano.yml").write_text(json.dumps(definition, indent=2))  # JSON is YAML
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    return project


def meltano_run(project: Path, tmp_path: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [str(BIN / "meltano"), "run", "tap-postgres", "target-oracle-wms"],
        cwd=project,
        env=outside_this_project(meltano_env(tmp_path, {})),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def saved_states(tmp_path: Path) -> list[tuple[str, str | None, str | None]]:
    """Meltano's saved state rows (its system database, `meltano_env`'s)."""
    db = sqlite3.connect(tmp_path / "meltano.db")
    try:
        return db.execute("SELECT state_id, partial_state, completed_state FROM state").fetchall()
    finally:
        db.close()


def test_meltano_rereads_a_rejected_row_until_it_is_fixed_and_keeps_the_files_in_meltano_dir(
    fresh_sim: Simulator, tmp_path: Path, pg_schema: str
) -> None:
    """`meltano run tap-postgres target-oracle-wms`: row 1 names a location the WMS does not
    have, row 2 is good. Each run rejects row 1 and exits non-zero, Meltano saves no bookmark,
    so the next run reads row 1 again; once the row is fixed it is applied and the bookmark
    saved. Row 2 moves its quantity once over the three runs. The ledger and rejects are in the
    project's `.meltano/target-oracle-wms/`, which git ignores."""
    psycopg = pytest.importorskip("psycopg")
    (loc_a, item_a, _), (loc_b, item_b, _) = active_stock(fresh_sim, "F2", 2)
    before_a, before_b = qty(fresh_sim, "F2", loc_a, item_a), qty(fresh_sim, "F2", loc_b, item_b)
    table = f'"{pg_schema}".inventory_adjustment'
    with psycopg.connect(**PG, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{pg_schema}"')
        conn.execute(
            f"CREATE TABLE {table} (id integer primary key, facility_code text, "
            "location_barcode text, item_code text, adjustment_qty numeric, reason_code text)"
        )
        conn.execute(
            f"INSERT INTO {table} VALUES (1, 'F2', 'NO-SUCH-LOCATION', %s, 2, 'CC'), "
            "(2, 'F2', %s, %s, 3, 'CC')",
            (item_a, loc_b, item_b),
        )
    project = meltano_project(tmp_path / "project", fresh_sim, pg_schema)
    files = project / ".meltano" / "target-oracle-wms"

    first = meltano_run(project, tmp_path)
    again = meltano_run(project, tmp_path)
    states_before_fix = saved_states(tmp_path)
    with psycopg.connect(**PG, autocommit=True) as conn:
        conn.execute(f"UPDATE {table} SET location_barcode = %s WHERE id = 1", (loc_a,))
    fixed = meltano_run(project, tmp_path)

    summary = f"Stream '{pg_schema}-inventory_adjustment'"
    assert (
        first[0] != 0
        and f"{summary}: 1 applied, 0 already applied (skipped), 1 rejected" in first[1]
    )
    assert (
        again[0] != 0
        and f"{summary}: 0 applied, 1 already applied (skipped), 1 rejected" in again[1]
    )
    assert states_before_fix == [] or all(
        "replication_key_value" not in (p or "") + (c or "") for _, p, c in states_before_fix
    ), states_before_fix
    assert fixed[0] == 0, fixed[1][-4000:]
    assert f"{summary}: 1 applied, 1 already applied (skipped), 0 rejected" in fixed[1]
    assert qty(fresh_sim, "F2", loc_a, item_a) == before_a + 2
    assert qty(fresh_sim, "F2", loc_b, item_b) == before_b + 3
    ((_, partial, completed),) = saved_states(tmp_path)
    assert '"replication_key_value": 2' in (completed or "") + (partial or "")
    rejects = [json.loads(line) for line in (files / "rejects.jsonl").read_text().splitlines()]
    assert [r["record"]["id"] for r in rejects] == [1, 1]  # once per run that read it
    assert f"Ledger {files.resolve() / 'ledger.sqlite'} (held by this run)" in first[1]
    for name in ("ledger.sqlite", "rejects.jsonl"):
        ignored = subprocess.run(
            ["git", "-C", str(project), "check-ignore", "-q", str(files / name)], check=False
        )
        assert ignored.returncode == 0, f"{name} would be committed"
    assert not (project / ".target-oracle-wms").exists()
    print(
        "meltano, three runs: sent 2+2+2; applied 1, 0, 1; already applied 0, 1, 1; "
        "rejected 1, 1, 0; double-applied 0"
    )


def test_default_files_follow_meltano_and_a_ledger_at_the_former_default_is_kept(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """No ledger_path: outside Meltano `.target-oracle-wms/` in the working directory; under
    Meltano `.meltano/target-oracle-wms/` (or `$MELTANO_SYS_DIR_ROOT/target-oracle-wms/`); a
    project whose ledger is still at the former default keeps using it (an upgrade must not
    start an empty ledger and apply everything again)."""
    ((loc, item, _),) = active_stock(fresh_sim, "F1", 1)
    before = qty(fresh_sim, "F1", loc, item)
    lines = messages(
        STREAM, ADJUSTMENT_SCHEMA, ["adj_id"], [adjustment(1, "F1", loc, item, adjustment_qty=1)]
    )
    config = {
        k: v for k, v in target_config(fresh_sim, tmp_path).items() if not k.endswith("_path")
    }
    project, sys_dir, plain = tmp_path / "project", tmp_path / "sys", tmp_path / "plain"
    for directory in (project, sys_dir, plain):
        directory.mkdir()
    unset = {"MELTANO_PROJECT_ROOT": "", "MELTANO_SYS_DIR_ROOT": ""}
    # the former default, written by an explicit path as an earlier release would have
    legacy = project / ".target-oracle-wms" / "ledger.sqlite"
    runs = {
        "former default, explicit": ({**config, "ledger_path": str(legacy)}, plain, unset),
        "meltano, former ledger kept": (
            config,
            plain,
            {**unset, "MELTANO_PROJECT_ROOT": str(project)},
        ),
        "outside meltano": (config, plain, unset),
        "meltano sys dir": (
            config,
            plain,
            {"MELTANO_PROJECT_ROOT": str(project / "sub"), "MELTANO_SYS_DIR_ROOT": str(sys_dir)},
        ),
    }
    seen: dict[str, str] = {}
    for name, (settings, cwd, env) in runs.items():
        work = tmp_path / name.replace(" ", "-").replace(",", "")
        code, stderr = feed(target_process(work, settings, cwd=cwd, env=env), lines)
        assert code == 0, f"{name}: {stderr[-3000:]}"
        seen[name] = stderr

    assert "1 applied" in outcome(seen["former default, explicit"])
    kept = seen["meltano, former ledger kept"]
    assert f"Ledger {legacy} (held by this run)" in kept
    assert "The ledger is at the former default" in kept and "0 applied, 1 already applied" in kept
    assert (
        f"Ledger {plain / '.target-oracle-wms' / 'ledger.sqlite'} (held" in seen["outside meltano"]
    )
    assert "former default" not in seen["outside meltano"]
    assert (plain / ".target-oracle-wms" / "rejects.jsonl").exists()
    assert (
        f"Ledger {sys_dir / 'target-oracle-wms' / 'ledger.sqlite'} (held" in seen["meltano sys dir"]
    )
    assert (sys_dir / "target-oracle-wms" / "rejects.jsonl").exists()
    # the two default ledgers that had never seen the record are other ledgers: the WMS's own
    # history (the adjustment's transaction_ref_nbr) proves it applied, so nothing moves twice
    assert qty(fresh_sim, "F1", loc, item) == before + 1


# 1, every sink: the lock is the run's, whatever it writes ----------------------------------------


def test_two_runs_of_one_wave_run_record_run_one_wave(fresh_sim: Simulator, tmp_path: Path) -> None:
    """Waves are the write the WMS cannot be asked about by a reference of ours (the pending
    marker lives only in the ledger): two runs at once of one `wave_run` record, the Run Template
    answer slowed to 2 s so they overlap. One wave, not two."""
    (_, item, _), *_ = stock(fresh_sim, 1)
    stage_order(fresh_sim, "LOCK-W-1", [(item, 2)])
    before = {w["id"] for w in waves(fresh_sim)}
    fresh_sim.add_fault("latency", rate=1, latency_ms=2000, path_contains="run_template")
    fresh_sim.clear_request_log()
    source = tmp_path / "input.jsonl"
    source.write_text("".join(json.dumps(m) + "\n" for m in wave_lines("lock-run-1")))
    config = target_config(fresh_sim, tmp_path, wave_timeout=60)
    runs = []
    for name in ("a", "b"):
        with source.open() as stdin:
            own = {**config, "rejects_path": str(tmp_path / name / "r.jsonl")}
            runs.append(target_process(tmp_path / name, own, stdin=stdin))
    results = [feed(run, []) for run in runs]

    new = [w for w in waves(fresh_sim) if w["id"] not in before]
    assert len(new) == 1, (new, results)
    assert len(posts(fresh_sim, "run_template")) == 1
    assert sorted(code for code, _ in results) == [0, 1], results
    print(f"waves, two runs at once: sent 1+1, waves run {len(new)}, double-applied {len(new) - 1}")


SINK_STREAMS = {  # a stream per sink, each with its default action (stage: configured)
    "adjustments": ("inventory_adjustment", {}),
    "updates": ("order_hdr", {}),
    "shipping": ("oblpn_shipment", {}),
    "stage": ("new_orders", {"new_orders": {"entity": "order", "action": "stage"}}),
    "waves": ("wave_run", {}),
    "picks": ("pick_confirm", {}),
    "receipts": ("iblpn_receipt", {}),
}


def test_while_a_run_holds_the_ledger_no_sink_of_another_run_sends_anything(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    ((loc, item, _),) = active_stock(fresh_sim, "F1", 1)
    base = target_config(fresh_sim, tmp_path)
    fresh_sim.clear_request_log()
    refused: list[str] = []
    with holding_run(tmp_path / "holder", base, [adjustment(1, "F1", loc, item, adjustment_qty=1)]):
        for sink, (stream, actions) in SINK_STREAMS.items():
            work = tmp_path / sink
            config = {**base, "rejects_path": str(work / "r.jsonl"), "stream_actions": actions}
            schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
            code, stderr = feed(
                target_process(work, config),
                messages(stream, schema, ["id"], [{"id": 1, "facility_code": "F1"}]),
            )
            assert code == 1 and len(error_lines(stderr, "ledger_path")) == 1, f"{sink}: {stderr}"
            assert "in use by another run" in stderr, sink
            refused.append(sink)
        assert writes(fresh_sim) == []
    assert refused == list(SINK_STREAMS)


def test_rejects_and_ledger_in_one_file_is_one_line_and_no_write(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """A reject appended to the ledger's file would corrupt the ledger."""
    ((loc, item, _),) = active_stock(fresh_sim, "F1", 1)
    (tmp_path / "files").mkdir()
    (tmp_path / "same").symlink_to(tmp_path / "files")
    config = target_config(
        fresh_sim,
        tmp_path,
        ledger_path=str(tmp_path / "files" / "both"),
        rejects_path=str(tmp_path / "same" / "both"),
    )
    bad = adjustment(1, "F1", "NO-SUCH-LOCATION", item, adjustment_qty=1)
    good = adjustment(2, "F1", loc, item, adjustment_qty=1)
    fresh_sim.clear_request_log()
    process = target_process(tmp_path / "run", config)
    _, stderr = process.communicate(
        "".join(
            json.dumps(m) + "\n"
            for m in messages(STREAM, ADJUSTMENT_SCHEMA, ["adj_id"], [bad, good])
        )
    )

    assert process.returncode == 1
    (line,) = error_lines(stderr, "rejects_path")
    assert f"'{tmp_path / 'files' / 'both'}': is the ledger's file" in line
    assert writes(fresh_sim) == [] and "Traceback" not in stderr
