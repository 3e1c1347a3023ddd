"""Write-back (reverse ETL) of one WMS environment on Dagster, pinned to one place.

`meltano run --state-id-suffix <environment> tap-postgres target-oracle-wms` (the `postgres-to-wms`
job's pair) as the job `<environment>_write_back`. target-oracle-wms keeps exactly-once with a
ledger, a SQLite file held by one run at a time through a `flock` (target_oracle_wms.ledger): it
protects the runs of one machine that reach one file, not two workers with a file each. So the
rule is: every write-back of an environment runs where its ledger is, one at a time.

- The ledger is `<WMS_LEDGER_DIR>/<environment>/ledger.sqlite` (rejects beside it).
  `WMS_LEDGER_DIR` is the mount point of a persistent volume and is never created here: on a
  worker without the volume it does not exist and the run fails in one line instead of starting
  an empty ledger (which would apply again what the real one records).
- The step is in the pool `oracle_wms_<environment>_write_back`, which must allow 1 step (checked
  at run time: the shipped default limit is 2): a second run waits for the first, on any worker
  of the instance. The job carries the tag `oracle_wms/write_back: <environment>` for a run-queue
  limit of 1 (orchestration/dagster.yaml) and, with `WMS_LEDGER_VOLUME_CLAIM`, Dagster's
  `dagster-k8s/config` tag mounting that PersistentVolumeClaim at `WMS_LEDGER_DIR` in the run's
  pod (a ReadWriteOncePod claim, one pod at a time; or ReadWriteOnce, one node, where `flock`
  holds).
- If a run escapes both (another deployment, a hand-run `meltano run`), the ledger's lock refuses
  it before it writes, and the target's line is the step's failure.

Its writes count against the environment's request budget: `max_parallel_writes` is
`WMS_WRITE_BACK_REQUESTS`, which the loads' share leaves free (orchestration.definitions).

Not `from __future__ import annotations`: Dagster reads the `context` annotation at definition.
"""

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import (
    DagsterInstance,
    Failure,
    Field,
    JobDefinition,
    OpExecutionContext,
    job,
    op,
)

from orchestration.meltano_run import LoadError, inherited_environment, run_meltano, step_log

EXTRACTOR = "tap-postgres"
LOADER = "target-oracle-wms"
RUN_TAG = "oracle_wms/write_back"
LEDGER_DIR = "WMS_LEDGER_DIR"
VOLUME_CLAIM = "WMS_LEDGER_VOLUME_CLAIM"


class LedgerDirError(ValueError):
    """`WMS_LEDGER_DIR` is unset or names no directory on this worker (one line saying so)."""


def ledger_directory(environ: Mapping[str, str], environment: str) -> Path:
    """`WMS_LEDGER_DIR`, checked on the worker the step runs on.

    Raises:
        LedgerDirError: unset, relative, missing here (the volume is not mounted) or not a
            directory.
    """
    value = environ.get(LEDGER_DIR, "")
    if not value:
        raise LedgerDirError(
            f"{LEDGER_DIR} is not set: the write-back of WMS environment {environment} keeps "
            "target-oracle-wms's ledger (what makes each record applied once) there; set it to "
            'the mount point of the persistent volume where write-back runs (README, "When one '
            'job is not enough")'
        )
    directory = Path(value)
    if not directory.is_absolute():
        raise LedgerDirError(
            f"{LEDGER_DIR}={value!r}: give an absolute path (the mount point of the ledger's "
            "volume)"
        )
    if not directory.exists():
        raise LedgerDirError(
            f"{LEDGER_DIR} {value} does not exist on this worker ({socket.gethostname()}): "
            "write-back runs only where the ledger's volume is mounted, so nothing is created "
            "here; run it there (its pool and run queue), or mount the volume"
        )
    if not directory.is_dir():
        raise LedgerDirError(
            f"{LEDGER_DIR} {value} is not a directory: point it at the ledger volume's mount point"
        )
    return directory


def one_at_a_time(instance: DagsterInstance, pool: str) -> None:
    """Refuse to run unless the write-back pool allows exactly one step (on every worker:
    Dagster counts slots in the instance's database).

    Raises:
        Failure: the pool's limit is not 1.
    """
    limit = instance.event_log_storage.get_concurrency_info(pool).limit
    if limit != 1:
        allows = f"allows {limit} steps at once" if limit else "has no limit"
        raise Failure(
            description=(
                f"pool {pool} {allows}; write-back must run one at a time (two runs would "
                f"race on one ledger): `dagster instance concurrency set {pool} 1`"
            ),
            allow_retries=False,
        )


@dataclass(frozen=True)
class WriteBackCommand:
    """How one WMS environment's write-back runs: `max_parallel_writes` is its share of the
    request budget; the ledger and rejects live in `ledger_dir/<environment>/`."""

    project_root: Path
    meltano: str
    environment: str
    ledger_dir: Path
    max_parallel_writes: int
    force: bool = False

    @property
    def ledger_path(self) -> Path:
        return self.ledger_dir / self.environment / "ledger.sqlite"

    def state_id(self, meltano_environment: str) -> str:
        return f"{meltano_environment}:{EXTRACTOR}-to-{LOADER}:{self.environment}"

    def argv(self) -> list[str]:
        force = ["--force"] if self.force else []
        base = [self.meltano, "--log-format=json", "run", "--state-id-suffix", self.environment]
        return [*base, *force, EXTRACTOR, LOADER]

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` (the WMS's URL and credentials as TARGET_ORACLE_WMS_*, the source database as
        TAP_POSTGRES_*, the state backend) with the ledger, rejects and write share set here."""
        rejects = self.ledger_path.with_name("rejects.jsonl")
        return {
            **base,
            "TARGET_ORACLE_WMS_LEDGER_PATH": os.fspath(self.ledger_path),
            "TARGET_ORACLE_WMS_REJECTS_PATH": os.fspath(rejects),
            "TARGET_ORACLE_WMS_MAX_PARALLEL_WRITES": str(self.max_parallel_writes),
        }


def k8s_tags(environ: Mapping[str, str]) -> dict[str, Any]:
    """With `WMS_LEDGER_VOLUME_CLAIM`: dagster-k8s's run-pod config mounting that claim at
    `WMS_LEDGER_DIR` (K8sRunLauncher reads the tag `dagster-k8s/config`)."""
    claim = environ.get(VOLUME_CLAIM)
    if not claim:
        return {}
    mount = environ.get(LEDGER_DIR, "")
    if not Path(mount).is_absolute():
        raise LedgerDirError(
            f"{VOLUME_CLAIM} is set but {LEDGER_DIR}={mount!r} is not an absolute path: set it "
            "to where the claim is mounted in the run's pod"
        )
    volume = {"name": "wms-ledger", "persistent_volume_claim": {"claim_name": claim}}
    return {
        "dagster-k8s/config": {
            "container_config": {"volume_mounts": [{"name": "wms-ledger", "mount_path": mount}]},
            "pod_spec_config": {"volumes": [volume]},
        }
    }


def write_back_job(
    environment: str,
    *,
    pool: str,
    max_parallel_writes: int,
    meltano: str,
    project_root: Path,
    environ: Mapping[str, str],
) -> JobDefinition:
    """The job `<environment>_write_back`: one step in `pool` (see the module's docstring)."""

    @op(
        # not the job's name: Dagster refuses a repository where an op and a job share one
        name=f"{environment}_postgres_to_wms",
        pool=pool,
        description=f"meltano run {EXTRACTOR} {LOADER}, one at a time, beside its ledger",
        config_schema={
            "force": Field(
                bool,
                default_value=False,
                description="meltano run --force after a killed run (see the loads' force)",
            )
        },
    )
    def write_back(context: OpExecutionContext) -> None:
        one_at_a_time(context.instance, pool)
        try:
            directory = ledger_directory(os.environ, environment)
        except LedgerDirError as exc:
            raise Failure(description=str(exc), allow_retries=False) from None
        command = WriteBackCommand(
            project_root=project_root,
            meltano=meltano,
            environment=environment,
            ledger_dir=directory,
            max_parallel_writes=max_parallel_writes,
            force=bool(context.op_config["force"]),
        )
        state_id = command.state_id(os.environ.get("MELTANO_ENVIRONMENT", "dev"))
        context.log.info(
            f"write-back: state id {state_id}, ledger {command.ledger_path}, "
            f"max_parallel_writes {max_parallel_writes}"
        )
        try:
            run_meltano(
                "write-back",
                command.argv(),
                cwd=project_root,
                env=command.env(inherited_environment()),
                log=step_log(context.log.error),
            )
        except LoadError as exc:
            raise Failure(description=str(exc), allow_retries=False) from None

    @job(
        name=f"{environment}_write_back",
        description=f"Write-back into WMS environment {environment} ({EXTRACTOR} -> {LOADER}), "
        "one run at a time where its ledger is",
        tags={RUN_TAG: environment, **k8s_tags(environ)},
    )
    def write_back_runs() -> None:
        write_back()

    return write_back_runs
