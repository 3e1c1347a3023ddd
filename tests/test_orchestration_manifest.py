"""The Dagster definitions parse the dbt project again when it changed (orchestration/
definitions.py, `dbt_manifest`): a manifest kept from before an upgrade named models that were
gone and lacked new ones, and dagster-dbt failed the marts step on a KeyError of the model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("dagster_dbt")

from orchestration.definitions import dbt_project_digest
from tests.conftest import ROOT


def test_the_manifest_follows_the_dbt_projects_sources(tmp_path: Path) -> None:
    project = tmp_path / "transform"
    shutil.copytree(
        ROOT / "transform", project, ignore=shutil.ignore_patterns("target", "dbt_packages", "logs")
    )
    first = dbt_project_digest(project)
    # What dbt writes (its target directory, logs) is not the project.
    (project / "target" / "dagster").mkdir(parents=True)
    (project / "target" / "dagster" / "manifest.json").write_text("{}")
    (project / "logs").mkdir()
    (project / "logs" / "dbt.log").write_text("a run")
    assert dbt_project_digest(project) == first
    # A new model, a changed one, a changed macro and dbt_project.yml each are a new version.
    seen = {first}
    model = next((project / "models" / "marts").glob("*.sql"))
    macro = next((project / "macros").rglob("*.sql"))
    for change in (
        lambda: (project / "models" / "marts" / "mart_new.sql").write_text("select 1 as x"),
        lambda: model.write_text(model.read_text() + "\n-- changed\n"),
        lambda: macro.write_text("{% macro m() %}{% endmacro %}"),
        lambda: (project / "dbt_project.yml").write_text(
            (project / "dbt_project.yml").read_text() + "\n# changed\n"
        ),
    ):
        change()
        digest = dbt_project_digest(project)
        assert digest not in seen
        seen.add(digest)
