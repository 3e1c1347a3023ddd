"""The Dagster definitions of one WMS environment, built from the environment variables of a code
location (`orchestration.location`: `dagster dev -m orchestration.location`, or a code location of
the same module on Kubernetes). One code location serves one WMS environment, named by
`WMS_ENVIRONMENT`; a 3PL with several runs one code location per environment (workspace.yaml),
each with its own pool and state ids.

Per environment:
- one multi-asset per entity group of meltano.yml (`tap-oracle-wms--<group>`), one asset per
  entity (`<environment>/wms/<entity>`), loaded by that group's `meltano run`;
- every load in the pool `oracle_wms_<environment>`; each run gets `max_concurrent_requests` =
  the environment's request budget // the pool's limit, so the WMS never sees more than the
  budget in flight whatever runs at once (README "Settings": fewer than 10 simultaneous requests);
- the dbt project's models as dagster-dbt assets, their sources mapped onto the entity assets, so
  lineage runs WMS entity -> staging -> mart and a mart builds after the loads it reads;
- one job of it all and an hourly schedule of that job (stopped until turned on);
- the job `<environment>_write_back` (orchestration.write_back): tap-postgres -> target-oracle-wms
  one run at a time beside its ledger, in the pool `oracle_wms_<environment>_write_back`.

Nothing secret is in code: the WMS's URL and credentials (TAP_ORACLE_WMS_BASE_URL, _USERNAME,
_PASSWORD), the loader's database (TARGET_POSTGRES_SQLALCHEMY_URL), dbt's (DBT_POSTGRES_*) and
Meltano's state backend (MELTANO_DATABASE_URI) come from the code location's environment.

Not `from __future__ import annotations`: Dagster reads the `context` annotations at definition.
"""

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    AssetSpec,
    DagsterInstance,
    Definitions,
    Failure,
    Field,
    MaterializeResult,
    ScheduleDefinition,
    define_asset_job,
    multi_asset,
)
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.entity_groups import EntityGroup, entity_groups
from orchestration.meltano_run import LoadCommand, LoadError, inherited_environment, step_log
from orchestration.write_back import write_back_job

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "transform"
DBT_PROFILES_DIR = DBT_PROJECT_DIR / "profiles" / "postgres"

DEFAULT_REQUEST_BUDGET = 9
"""Requests in flight to one WMS environment, over every job: Oracle's fair-use guidance is
fewer than 10 simultaneous interface requests (README, `max_concurrent_requests`)."""

_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class SettingsError(ValueError):
    """A `WMS_*` variable of the code location is wrong (the message names it and the fix)."""


@dataclass(frozen=True)
class WmsEnvironment:
    """One WMS environment as this code location runs it (from `WMS_*` variables)."""

    name: str
    raw_schema: str
    marts_schema: str
    request_budget: int
    write_back_requests: int = 1

    @property
    def pool(self) -> str:
        return f"oracle_wms_{self.name}"

    @property
    def write_back_pool(self) -> str:
        return f"oracle_wms_{self.name}_write_back"

    @property
    def load_budget(self) -> int:
        """The requests the loads share: the budget less what write-back keeps for itself."""
        return self.request_budget - self.write_back_requests

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "WmsEnvironment":
        """`WMS_ENVIRONMENT` (default demo), `WMS_RAW_SCHEMA` (default oracle_wms_<name>),
        `WMS_MARTS_SCHEMA` (default analytics_<name>), `WMS_REQUEST_BUDGET` (default 9),
        `WMS_WRITE_BACK_REQUESTS` (default 1: write-back's writes in flight, out of the budget).

        Raises:
            SettingsError: naming the variable.
        """
        name = environ.get("WMS_ENVIRONMENT", "demo")
        if not _NAME.fullmatch(name):
            raise SettingsError(
                f"WMS_ENVIRONMENT={name!r}: use lower-case letters, digits and _ (it names "
                "assets, a pool, schemas and a state id suffix)"
            )
        budget = environ.get("WMS_REQUEST_BUDGET", str(DEFAULT_REQUEST_BUDGET))
        if not budget.isdigit() or int(budget) < 1:
            raise SettingsError(f"WMS_REQUEST_BUDGET={budget!r}: a whole number of requests, >= 1")
        writes = environ.get("WMS_WRITE_BACK_REQUESTS", "1")
        if not writes.isdigit() or not 1 <= int(writes) <= min(8, int(budget) - 1):
            raise SettingsError(
                f"WMS_WRITE_BACK_REQUESTS={writes!r}: a whole number from 1 to 8 "
                f"(target-oracle-wms's max_parallel_writes) and below WMS_REQUEST_BUDGET ({budget})"
            )
        return cls(
            name=name,
            raw_schema=environ.get("WMS_RAW_SCHEMA", f"oracle_wms_{name}"),
            marts_schema=environ.get("WMS_MARTS_SCHEMA", f"analytics_{name}"),
            request_budget=int(budget),
            write_back_requests=int(writes),
        )


def request_share(instance: DagsterInstance, environment: WmsEnvironment) -> int:
    """`max_concurrent_requests` for one load: the budget less write-back's requests, over the
    pool's limit (the most loads of this environment that run at once, on any worker: Dagster
    counts pool slots in the instance's database).

    Raises:
        Failure: the pool has no limit, or more slots than the budget has requests.
    """
    limit = instance.event_log_storage.get_concurrency_info(environment.pool).limit
    if not limit:
        raise Failure(
            description=(
                f"pool {environment.pool} has no limit, so the loads of WMS environment "
                f"{environment.name} could exceed its budget of {environment.request_budget} "
                f"requests: set one (`dagster instance concurrency set {environment.pool} 2`, "
                "or concurrency.pools.default_limit in dagster.yaml)"
            ),
            allow_retries=False,
        )
    share = environment.load_budget // limit
    if share < 1:
        raise Failure(
            description=(
                f"pool {environment.pool} allows {limit} loads at once, more than the "
                f"{environment.load_budget} requests the budget leaves them "
                "(WMS_REQUEST_BUDGET less WMS_WRITE_BACK_REQUESTS): lower the limit"
            ),
            allow_retries=False,
        )
    return share


def entity_key(environment: str, entity: str) -> AssetKey:
    return AssetKey([environment, "wms", entity])


def group_asset(group: EntityGroup, environment: WmsEnvironment, meltano: str) -> AssetsDefinition:
    """One group's load: an asset per entity, materialized together by one `meltano run`."""
    specs = [
        AssetSpec(
            entity_key(environment.name, entity),
            group_name=f"{environment.name}_wms",
            description=f"WMS entity {entity}, loaded by {group.extractor} into "
            f"{environment.raw_schema}.{entity}",
            kinds={"meltano", "postgres"},
        )
        for entity in group.entities
    ]

    @multi_asset(
        name=f"{environment.name}_{group.name}",
        specs=specs,
        pool=environment.pool,
        can_subset=False,
        description=f"meltano run {group.extractor} target-postgres ({', '.join(group.entities)})",
        config_schema={
            "force": Field(
                bool,
                default_value=False,
                description="Rerun at once after a killed run: Meltano refuses a state id it "
                "records as running until its heartbeat is 5 minutes old (meltano run --force); "
                "only when no other run of the group is alive",
            )
        },
    )
    def load(context: AssetExecutionContext) -> Iterator[MaterializeResult[Any]]:
        command = LoadCommand(
            project_root=PROJECT_ROOT,
            meltano=meltano,
            environment=environment.name,
            raw_schema=environment.raw_schema,
            max_concurrent_requests=request_share(context.instance, environment),
            force=bool(context.op_config["force"]),
        )
        meltano_environment = os.environ.get("MELTANO_ENVIRONMENT", "dev")
        state_id = command.state_id(group, meltano_environment)
        context.log.info(
            f"{group.extractor}: state id {state_id}, "
            f"max_concurrent_requests {command.max_concurrent_requests}"
        )

        try:
            command.run(group, inherited_environment(), step_log(context.log.error))
        except LoadError as exc:
            raise Failure(description=str(exc), allow_retries=False) from None
        for spec in specs:
            yield MaterializeResult(
                asset_key=spec.key,
                metadata={"state_id": state_id, "extractor": group.extractor},
            )

    return load


class WmsDbtTranslator(DagsterDbtTranslator):
    """dbt's source `wms.<table>` is the entity asset `<environment>/wms/<table>`; models are
    `<environment>/<model>`, in the group `<environment>_marts`."""

    def __init__(self, environment: str) -> None:
        super().__init__()
        self.environment = environment

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        name = str(dbt_resource_props["name"])
        if dbt_resource_props["resource_type"] == "source":
            return entity_key(self.environment, name)
        return AssetKey([self.environment, name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return f"{self.environment}_marts"


DBT_SOURCES = ("dbt_project.yml", "packages.yml", "models", "macros", "tests", "seeds")
"""What dbt parses in transform/: a change to any of it changes the manifest."""


def dbt_project_digest(project_dir: Path) -> str:
    """A digest of the dbt project's sources (`DBT_SOURCES`): names and contents."""
    digest = hashlib.sha256()
    for source in DBT_SOURCES:
        root = project_dir / source
        files = sorted(root.rglob("*")) if root.is_dir() else [root] if root.exists() else []
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def dbt_manifest(dbt: DbtCliResource, target_root: Path, project_dir: Path) -> Path:
    """The dbt project's manifest, parsed (dbt parse needs no database) once per version of the
    project: into `target_root/<digest of its sources>/`, so a checkout that changed a model
    (an upgrade) parses again instead of naming models that are gone or missing new ones
    (dagster-dbt fails the marts step with a KeyError on the model). Older versions' manifests
    are removed."""
    target_path = target_root / dbt_project_digest(project_dir)
    manifest = target_path / "manifest.json"
    if not manifest.exists():
        dbt.cli(["parse", "--quiet"], target_path=target_path).wait()
        for other in target_root.iterdir():
            if other.is_dir() and other != target_path:
                shutil.rmtree(other, ignore_errors=True)
    return manifest


def marts_asset(environment: WmsEnvironment, dbt: DbtCliResource) -> AssetsDefinition:
    """`dbt build` of transform/ over this environment's loaded tables (its raw schema) into
    its marts schema."""
    manifest = dbt_manifest(dbt, DBT_PROJECT_DIR / "target" / "dagster", DBT_PROJECT_DIR)

    @dbt_assets(
        manifest=manifest,
        dagster_dbt_translator=WmsDbtTranslator(environment.name),
        name=f"{environment.name}_marts",
    )
    def marts(context: AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        # dbt reads both schemas from the environment (transform/profiles, _sources.yml); this
        # step's process is this environment's alone.
        os.environ["DBT_SOURCE_SCHEMA"] = environment.raw_schema
        os.environ["DBT_POSTGRES_SCHEMA"] = environment.marts_schema
        yield from dbt.cli(["build"], context=context).stream()

    return marts


def executable(name: str, environ: Mapping[str, str]) -> str:
    """`name` beside this Python (the project's virtual environment: `pip install -e
    '.[dagster]'` installs meltano and dbt there), else on PATH."""
    beside = Path(sys.executable).parent / name
    return (
        os.fspath(beside)
        if beside.exists()
        else shutil.which(name, path=environ.get("PATH")) or name
    )


def dbt_executable(environ: Mapping[str, str]) -> str:
    """`DBT_EXECUTABLE`, else the dbt of the dbt-postgres utility (`meltano install` puts it in
    .meltano/utilities/; the same dbt-core and adapter as `meltano run ... dbt-postgres:build`).
    Not dbt-core in Dagster's environment: dbt-core pins pathspec below the version mypy needs."""
    utility = PROJECT_ROOT / ".meltano" / "utilities" / "dbt-postgres" / "venv" / "bin" / "dbt"
    return environ.get("DBT_EXECUTABLE") or os.fspath(utility)


def build_definitions(environ: Mapping[str, str]) -> Definitions:
    """The definitions of the WMS environment `environ` names (see the module's docstring)."""
    environment = WmsEnvironment.from_environ(environ)
    dbt = DbtCliResource(
        project_dir=os.fspath(DBT_PROJECT_DIR),
        profiles_dir=os.fspath(DBT_PROFILES_DIR),
        dbt_executable=dbt_executable(environ),
    )
    loads = [
        group_asset(group, environment, executable("meltano", environ))
        for group in entity_groups(PROJECT_ROOT / "meltano.yml")
    ]
    marts = marts_asset(environment, dbt)
    write_back = write_back_job(
        environment.name,
        pool=environment.write_back_pool,
        max_parallel_writes=environment.write_back_requests,
        meltano=executable("meltano", environ),
        project_root=PROJECT_ROOT,
        environ=environ,
    )
    job = define_asset_job(
        f"{environment.name}_wms_to_marts",
        selection=AssetSelection.assets(*loads, marts),
        description=f"Every entity group of WMS environment {environment.name}, then the marts",
    )
    return Definitions(
        assets=[*loads, marts],
        jobs=[job, write_back],
        schedules=[
            ScheduleDefinition(
                name=f"{environment.name}_hourly", cron_schedule="0 * * * *", job=job
            )
        ],
        resources={"dbt": dbt},
    )
