"""transform/ as a dbt package of someone else's project (issue 26 item 4): a dbt project outside
the repository installs it the way transform/README.md says (`git` + `subdirectory: transform` +
a pinned `revision`, here a file:// URL, CI being offline), points it at its own raw schema with
the `wms_source_schema` var, and builds it (`dbt deps`, `dbt build`) over a Meltano load of
exactly the entities the README lists; the marts then match what Oracle's definitions give on
the simulator's records. The list is also checked against the sources the models actually
read, so the documentation cannot drift from the models."""

from __future__ import annotations

import json
import os
import re
import subprocess
from datetime import date
from pathlib import Path

import duckdb
import yaml

from oracle_wms_sim import Simulator
from tests import wms_truth
from tests.conftest import ROOT, copy_working_tree, meltano
from tests.warehouse import mart_differences

DBT = ROOT / ".meltano" / "utilities" / "dbt-duckdb" / "venv" / "bin" / "dbt"
AS_OF = "2026-01-05"
RAW_SCHEMA = "raw_wms"  # not the package's default (oracle_wms): only the var can point there
USER_PROJECT = """\
name: wms_user_project
version: "1.0.0"
config-version: 2
profile: wms_user
vars:
  oracle_wms_analytics:
    wms_source_schema: {raw}
    as_of_date: "{as_of}"
"""
USER_PROFILE = """\
wms_user:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{path}"
      schema: reporting
      threads: 2
"""


def documented_selection() -> list[str]:
    """The `select:` of transform/README.md's required-entities snippet."""
    readme = (ROOT / "transform" / "README.md").read_text()
    block = re.search(
        r"<!-- required-entities[^>]*-->\s*```yaml\n(.*?)```\s*<!-- /required-entities -->",
        readme,
        re.S,
    )
    assert block, "transform/README.md has no required-entities snippet"
    (extractor,) = yaml.safe_load(block.group(1))["plugins"]["extractors"]
    assert extractor["name"] == "tap-oracle-wms"
    return list(extractor["select"])


def package_repository(into: Path) -> str:
    """A git repository holding transform/ as the working tree has it (what `git add` would
    take: ignored files left out), committed and tagged; its file:// URL."""
    copy_working_tree(into, "transform")
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@localhost", "-C", str(into)]
    subprocess.run([*git, "init", "--quiet"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "package"], check=True)
    subprocess.run([*git, "tag", "v1.0.0"], check=True)
    return into.as_uri()


def dbt(project: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "WMS_"))}
    proc = subprocess.run(
        [str(DBT), *args, "--profiles-dir", str(project)],
        cwd=project,
        env={**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"dbt {' '.join(args)} failed:\n{output[-6000:]}"
    return output


def test_another_project_installs_the_package_from_git_and_builds_it(
    sim: Simulator, tmp_path: Path
) -> None:
    selection = documented_selection()
    db_path = tmp_path / "warehouse.duckdb"
    meltano(
        tmp_path,
        "run",
        "tap-oracle-wms",
        "target-duckdb",
        env={
            "TAP_ORACLE_WMS_BASE_URL": sim.base_url,
            "TAP_ORACLE_WMS_USERNAME": sim.username,
            "TAP_ORACLE_WMS_PASSWORD": sim.password,
            "TAP_ORACLE_WMS__SELECT": json.dumps(selection),
            "TARGET_DUCKDB_FILEPATH": str(db_path),
            "TARGET_DUCKDB_DEFAULT_TARGET_SCHEMA": RAW_SCHEMA,
        },
    )
    with duckdb.connect(str(db_path), read_only=True) as db:
        loaded = {
            row[0]
            for row in db.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [RAW_SCHEMA],
            ).fetchall()
        }
    assert loaded == {entry.removesuffix(".*") for entry in selection}

    (tmp_path / "repo").mkdir()
    url = package_repository(tmp_path / "repo")
    project = tmp_path / "user_project"
    project.mkdir()
    (project / "dbt_project.yml").write_text(USER_PROJECT.format(raw=RAW_SCHEMA, as_of=AS_OF))
    (project / "profiles.yml").write_text(USER_PROFILE.format(path=db_path))
    (project / "packages.yml").write_text(
        yaml.safe_dump(
            {"packages": [{"git": url, "subdirectory": "transform", "revision": "v1.0.0"}]}
        )
    )
    dbt(project, "deps")
    # `build`: the package's data tests too (measured: 2-3 s more than `run`).
    output = dbt(project, "build")
    assert "ERROR=0" in output and "WARN=0" in output, output[-3000:]

    # The documented list is exactly what the models read (sources of the package's models).
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    read = {
        parent.rsplit(".", 1)[1]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "oracle_wms_analytics"
        for parent in node["depends_on"]["nodes"]
        if parent.startswith("source.oracle_wms_analytics.wms.")
    }
    assert sorted(f"{table}.*" for table in read) == sorted(selection)

    # Every mart, every row and column, as the simulator's records give it (tests/wms_truth.py).
    problems: list[str] = []
    with duckdb.connect(str(db_path), read_only=True) as db:
        for mart, (key, truth) in wms_truth.marts(sim, date.fromisoformat(AS_OF)).items():
            cursor = db.execute(f"select * from reporting.{mart}")
            columns = [column[0] for column in cursor.description or []]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            problems += mart_differences(f"package {mart}", key, truth, rows, "duckdb")
    assert not problems, "\n".join(problems)


def test_each_profile_has_a_target_per_meltano_environment() -> None:
    """Meltano runs dbt with MELTANO_ENVIRONMENT, which picks the profile's target: every
    environment of meltano.yml, and the `staging` a new Meltano project has, needs one."""
    environments = {
        environment["name"]
        for environment in yaml.safe_load((ROOT / "meltano.yml").read_text())["environments"]
    }
    for adapter in ("duckdb", "postgres"):
        profiles = yaml.safe_load(
            (ROOT / "transform" / "profiles" / adapter / "profiles.yml").read_text()
        )
        outputs = profiles["meltano"]["outputs"]
        assert environments | {"dev", "staging", "prod"} <= set(outputs), adapter
        assert outputs["staging"] == outputs["dev"], adapter
