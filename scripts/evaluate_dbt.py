"""dbt-labs' dbt-project-evaluator over transform/ (`make evaluate`), from local checkouts.

The evaluator is a dbt package (not on PyPI) that needs dbt_utils; CI has no network, so both
are given as local directories (checkouts of github.com/dbt-labs/dbt-project-evaluator and
github.com/dbt-labs/dbt-utils) and the project is evaluated from a temporary copy: the
repository's transform/ never depends on them. The copy gets the two packages in dbt_packages/,
our exceptions (transform/evaluator/dbt_project_evaluator_exceptions.csv, each with its reason)
as the evaluator's exceptions seed, and is built into a throwaway DuckDB file. Prints each rule
that finds something, with what it found; exits 1 when any does.

    python scripts/evaluate_dbt.py <dbt-project-evaluator dir> <dbt-utils dir>
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
TRANSFORM = ROOT / "transform"
DBT = ROOT / ".meltano" / "utilities" / "dbt-duckdb" / "venv" / "bin" / "dbt"
EXCEPTIONS = TRANSFORM / "evaluator" / "dbt_project_evaluator_exceptions.csv"
# The exceptions seed replaces the package's empty one (the evaluator's documented way).
SEED_CONFIG = """
seeds:
  dbt_project_evaluator:
    dbt_project_evaluator_exceptions:
      +enabled: false
"""
FINDING = re.compile(r"\b(WARN|ERROR|FAIL) (\d+) is_empty_(fct_\w+?)_? ")


def package(path: str, project_name: str) -> Path:
    """A checkout of a dbt package: its dbt_project.yml names it `project_name`."""
    directory = Path(path).expanduser().resolve()
    project = directory / "dbt_project.yml"
    if not project.is_file() or f"name: '{project_name}'" not in project.read_text():
        sys.exit(f"evaluate_dbt: {directory} is not a checkout of {project_name} (no such project)")
    return directory


def copy_project(evaluator: Path, dbt_utils: Path, into: Path) -> Path:
    project = into / "transform"
    shutil.copytree(
        TRANSFORM, project, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs")
    )
    (project / "dbt_packages").mkdir()
    (project / "dbt_packages" / "dbt_project_evaluator").symlink_to(evaluator)
    (project / "dbt_packages" / "dbt_utils").symlink_to(dbt_utils)
    (project / "seeds").mkdir()
    shutil.copy(EXCEPTIONS, project / "seeds")
    with (project / "dbt_project.yml").open("a") as file:
        file.write(SEED_CONFIG)
    return project


def findings(database: Path, rule: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(database), read_only=True) as db:
        (schema,) = db.execute(
            "select table_schema from information_schema.tables where table_name = ?", [rule]
        ).fetchone() or ("",)
        return db.execute(f'select * from "{schema}"."{rule}"').fetchall() if schema else []


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1].strip() if __doc__ else "usage")
    evaluator = package(argv[0], "dbt_project_evaluator")
    dbt_utils = package(argv[1], "dbt_utils")
    with tempfile.TemporaryDirectory(prefix="wms-evaluate-") as tmp:
        project = copy_project(evaluator, dbt_utils, Path(tmp))
        database = Path(tmp) / "evaluator.duckdb"
        env = {
            **os.environ,
            "DBT_DUCKDB_PATH": str(database),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        proc = subprocess.run(
            [
                str(DBT),
                "build",
                "--profiles-dir",
                str(project / "profiles" / "duckdb"),
                "--select",
                "package:dbt_project_evaluator",
                "dbt_project_evaluator_exceptions",
            ],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        found = {m.group(3): int(m.group(2)) for m in FINDING.finditer(proc.stdout)}
        if proc.returncode != 0 and not found:
            print(proc.stdout[-4000:] + proc.stderr[-2000:])
            return proc.returncode
        for rule, count in sorted(found.items()):
            print(f"{rule}: {count}")
            for row in findings(database, rule):
                print("   ", ", ".join(str(value) for value in row))
        summary = re.search(r"Done\. PASS=.*", proc.stdout)
        print(summary.group(0) if summary else proc.stdout[-2000:])
        return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
