"""README's "Use in your own Meltano project", run as a new user would: a clone, a wheel built
from it, `meltano init` in a directory outside the repository, the plugins added from their
definitions with `meltano add --plugin-type ... --from-ref`, the tap into PostgreSQL twice
(the second run incremental), then write-back rows through tap-postgres into target-oracle-wms,
all against the simulator.

The commands are the README's lines marked `# (new project)`, run in order in one shell (a `cd`
holds for the lines after it). What the test changes around them, never in them: the clone is a
copy of this checkout's files (`~/oracle-wms-singer` becomes its path), the simulator's port
and the PostgreSQL database are this run's own.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from oracle_wms_sim import Simulator
from tests.conftest import (
    BIN,
    PG,
    ROOT,
    copy_working_tree,
    outside_this_project,
    result_count,
)
from tests.test_readme import SIM_ADDRESS, readme_commands

README = ROOT / "README.md"
MARKER = "new project"
CLONE = "~/oracle-wms-singer"


def _clone(tmp_path: Path) -> Path:
    """The repository's files, as `git clone` would give them (tracked and new, not ignored)."""
    clone = tmp_path / "oracle-wms-singer"
    copy_working_tree(clone)
    return clone


def _records(output: str, entity: str) -> int:
    """Records the tap says it emitted for `entity` in one run."""
    found = re.findall(rf"Entity '{entity}' done: (\d+) records", output)
    assert len(found) == 1, f"no single summary of {entity}:\n{output[-4000:]}"
    return int(found[0])


def test_readme_new_project_commands(tmp_path: Path, pg_database: str) -> None:
    lines = [c.line for c in readme_commands(README.read_text()) if c.marker == MARKER]
    assert any(line.startswith("meltano init ") for line in lines)
    assert sum(line.startswith("meltano run ") for line in lines) >= 3
    clone = _clone(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    # `make sim`'s simulator, of its own: the write-back changes it.
    with Simulator(seed=42, scale=1) as sim:
        script = "\n".join(
            line.replace(CLONE, str(clone))
            .replace(SIM_ADDRESS, sim.base_url.removeprefix("http://").removesuffix("/demo"))
            .replace("127.0.0.1:5432/test", f"127.0.0.1:5432/{pg_database}")
            for line in lines
        )
        env = {
            **outside_this_project(os.environ, "VIRTUAL_ENV", "MAKEFLAGS"),
            # meltano and psql from this machine; the connectors only from the built wheel.
            "PATH": f"{BIN}:{os.environ['PATH']}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "XDG_CACHE_HOME": str(tmp_path / "cache"),
        }
        started = time.monotonic()
        proc = subprocess.run(
            ["bash", "-euxo", "pipefail", "-c", script],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        print(f"README new project: {len(lines)} commands, {time.monotonic() - started:.0f} s")
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, output[-8000:]
        assert "Traceback" not in output, output[-8000:]
        printed = "\n".join(line for line in output.splitlines() if not line.startswith("+ "))
        assert ":trust@" not in printed, "the database URL's password was printed"

        project = work / "my-project"
        assert (project / "meltano.yml").is_file()
        assert not (clone / "my-project").exists()
        # Each run's tap output is between two `+ meltano run tap-oracle-wms` trace lines.
        runs = output.split("+ meltano run tap-oracle-wms target-postgres")[1:]
        assert len(runs) == 2, "expected the README to load twice"
        total = result_count(sim, "order_hdr")
        first, second = _records(runs[0], "order_hdr"), _records(runs[1], "order_hdr")
        assert first == total
        assert second < total, "the second run read every order again: not incremental"
        psycopg = pytest.importorskip("psycopg")
        with psycopg.connect(**{**PG, "dbname": pg_database}) as conn:
            loaded = conn.execute("select count(*) from oracle_wms.order_hdr").fetchone()
        assert loaded is not None and loaded[0] == total
        # Reverse ETL: every sample row applied, none rejected (writeback/wms_writeback.sql).
        applied = re.findall(r"Stream '(wms_writeback-\w+)': (\d+) applied, (\d+) already", output)
        assert {stream for stream, _, _ in applied} == {
            "wms_writeback-inventory_adjustment",
            "wms_writeback-order_hdr",
            "wms_writeback-oblpn_shipment",
        }, output[-6000:]
        assert all(int(n) == 2 for _, n, _ in applied), applied
        assert "rejected:" not in output
