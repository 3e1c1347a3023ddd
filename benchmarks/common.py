"""Shared helpers of the benchmark suite: the simulator process, measured commands, tap
configs and catalogs, result rows.

Every measured command runs as a child process reaped with `os.wait4`, whose `ru_maxrss` is the
peak RSS of the child and of the descendants it waited for (Meltano's tap and target included).
On request, a sampler reads the high-water mark (`VmHWM`) of each process of the tree while it
runs, so a pipeline's peaks can be reported per program too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
BIN = Path(sys.executable).parent
AUTH = ("demo", "demo")
PAGE_SIZE = 1250
"""The tap's default page size (Oracle's maximum)."""
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}
"""The local PostgreSQL (trust auth) the loader benchmarks write fresh schemas into."""


# The simulator --------------------------------------------------------------------------------


class Sim:
    """A running `oracle-wms-sim serve` (ours when `proc` is set), and its API as a client."""

    def __init__(self, base_url: str, proc: subprocess.Popen[str] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        root = self.base_url.rsplit("/", 1)[0]
        self.api_url = f"{self.base_url}/wms/lgfapi/v10/"
        self.admin_url = f"{root}/_sim/"
        self.proc = proc
        self.session = requests.Session()
        self.session.auth = AUTH

    def get(self, entity: str, **params: Any) -> dict[str, Any] | None:
        """One list page as JSON; None for lgfapi's 404 "no records"."""
        response = self.session.get(f"{self.api_url}entity/{entity}/", params=params, timeout=300)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def result_count(self, entity: str, **filters: Any) -> int:
        page = self.get(entity, page_mode="paged", page_size=1, fields="id", **filters)
        return int(page["result_count"]) if page else 0

    def all_records(self, entity: str, **params: Any) -> list[dict[str, Any]]:
        """Every record of a (small) list, following next_page."""
        page = self.get(entity, page_mode="sequenced", page_size=PAGE_SIZE, **params)
        records: list[dict[str, Any]] = []
        while page:
            records += page["results"]
            link = page.get("next_page")
            page = self.session.get(link, timeout=300).json() if link else None
        return records

    def admin(self, method: str, name: str, body: Any = None) -> Any:
        response = self.session.request(method, self.admin_url + name, json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    def set_latency(self, latency_ms: float) -> None:
        """Every API request waits `latency_ms` before it is handled (a cloud API)."""
        self.clear_faults()
        self.admin("POST", "faults", {"kind": "latency", "rate": 1, "latency_ms": latency_ms})

    def clear_faults(self) -> None:
        self.admin("DELETE", "faults")

    def clear_request_log(self) -> None:
        self.admin("DELETE", "requests")

    def request_log(self) -> list[dict[str, Any]]:
        log: list[dict[str, Any]] = self.admin("GET", "requests")
        return log

    def stop(self) -> None:
        self.session.close()
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def sim_db(workdir: Path, scale: int) -> Path:
    return workdir / f"sim-scale{scale}.sqlite"


def start_sim(scale: int, workdir: Path, *options: str) -> Sim:
    """Start `oracle-wms-sim serve` on a free port; its SQLite file is kept in `workdir`, so a
    later start at the same scale reuses the data instead of generating it again. `options`:
    further `serve` flags (the history baseline's `--lenient-required-filters`)."""
    started = time.perf_counter()
    log = (workdir / f"sim-scale{scale}.log").open("a")
    cmd = [str(BIN / "oracle-wms-sim"), "serve", "--port", "0", "--quiet", *options]
    cmd += ["--scale", str(scale), "--db", str(sim_db(workdir, scale))]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
    log.close()
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http"):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"oracle-wms-sim did not start: {line!r} (see {log.name})")
    print(
        f"[sim] scale {scale} serving {line} (ready in {time.perf_counter() - started:.1f} s)",
        file=sys.stderr,
        flush=True,
    )
    return Sim(line, proc)


@contextlib.contextmanager
def simulators(
    given: dict[int, str], scales: Sequence[int], workdir: Path
) -> Iterator[dict[int, Sim]]:
    """The simulators at `scales`: the ones run.py passed (`--sim SCALE=URL`), else our own."""
    sims: dict[int, Sim] = {}
    try:
        for scale in scales:
            sims[scale] = Sim(given[scale]) if scale in given else start_sim(scale, workdir)
        yield sims
    finally:
        for sim in sims.values():
            with contextlib.suppress(requests.RequestException):
                sim.clear_faults()
            sim.stop()


# Measured commands ----------------------------------------------------------------------------


@dataclass
class Measurement:
    wall_s: float
    peak_rss_mb: float
    """Largest RSS of the process and the descendants it waited for (`ru_maxrss`)."""
    returncode: int
    stderr: str
    peaks_mb: dict[str, float] = field(default_factory=dict)
    """Sampled high-water RSS per program name in the process tree."""

    def check(self, what: str) -> None:
        """Raise when the command failed: first line a summary, then the end of its stderr."""
        if self.returncode != 0:
            lines = self.stderr.strip().splitlines()
            tail = "\n".join(lines[-15:])
            raise RuntimeError(f"{what} exited with {self.returncode}: {_cause(lines)}\n{tail}")


def _cause(lines: list[str]) -> str:
    """The last line of a log that names an error, without its timestamp and level."""
    for pattern in (r"\w(Error|Exception)\b", r"\[error"):
        for line in reversed(lines):
            if re.search(pattern, line):
                return " ".join(re.sub(r"^\S+\s+\[\w+\s*\]\s+", "", line).split())
    return lines[-1].strip() if lines else "no output"


def measure(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdin: IO[Any] | int | None = subprocess.DEVNULL,
    stdout: IO[Any] | int | None = subprocess.DEVNULL,
    timeout: float = 1800,
    per_program: bool = False,
) -> Measurement:
    """Run `cmd` to the end: wall time, peak RSS (the tree's largest process), stderr; with
    `per_program`, also each program's peak, sampled from `/proc` (costs a little CPU)."""
    with tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(cmd),
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdin=stdin,
            stdout=stdout,
            stderr=err,
            start_new_session=True,  # so a timeout can stop the whole tree
        )
        sampler = _TreeSampler(proc.pid)
        if per_program:
            sampler.start()
        timer = threading.Timer(timeout, _kill_group, (proc.pid,))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            sampler.stop()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read()
    return Measurement(wall, usage.ru_maxrss / 1024, proc.returncode, text, sampler.peaks)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


class _TreeSampler(threading.Thread):
    """Polls `/proc` for the tree under `pid` and keeps each program's largest `VmHWM`."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peaks: dict[str, float] = {}
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            for pid in _tree(self.pid):
                name, hwm = _program(pid), _hwm_mb(pid)
                if name and hwm:
                    self.peaks[name] = max(self.peaks.get(name, 0.0), hwm)

    def stop(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join()


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _program(pid: int) -> str | None:
    """The program a process runs: the script for `python script`, else the executable."""
    with contextlib.suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        names = [os.path.basename(a.decode(errors="replace")) for a in argv if a]
        for name in names:
            if not name.startswith("python") and not name.startswith("-"):
                return name
        return names[0] if names else None
    return None


def _hwm_mb(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return None


# The tap --------------------------------------------------------------------------------------


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=1))
    return path


def tap_config(sim: Sim, workdir: Path, name: str, **extra: Any) -> Path:
    config = {
        "base_url": sim.base_url,
        "username": AUTH[0],
        "password": AUTH[1],
        "discovery_cache_ttl": 0,
        **extra,
    }
    return write_json(workdir / f"{name}.config.json", config)


def tap_catalog(
    sim: Sim, workdir: Path, entity: str, *, full_table: bool = False, **extra: Any
) -> tuple[Path, Path]:
    """(config, catalog) for a tap run of one entity: discovered, only that stream selected;
    `full_table` forces FULL_TABLE replication (the tap's parallel mode applies only there);
    `extra`: further settings."""
    config = tap_config(sim, workdir, f"discover-{entity}", entities=[entity], **extra)
    found = subprocess.run(
        [str(BIN / "tap-oracle-wms"), "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise RuntimeError(f"tap-oracle-wms --discover failed:\n{found.stderr[-3000:]}")
    catalog = json.loads(found.stdout)
    catalog["streams"] = [s for s in catalog["streams"] if s["tap_stream_id"] == entity]
    if not catalog["streams"]:
        raise RuntimeError(f"discovery found no stream '{entity}'")
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if not entry["breadcrumb"]:
                entry["metadata"]["selected"] = True
                if full_table:
                    entry["metadata"]["forced-replication-method"] = "FULL_TABLE"
        if full_table:
            stream["replication_method"] = "FULL_TABLE"
    suffix = "-full" if full_table else ""
    return config, write_json(workdir / f"{entity}{suffix}.catalog.json", catalog)


def target_config(sim: Sim, tmp: Path, ledger: str, **settings: Any) -> Path:
    """target-oracle-wms's config for `sim`: its ledger file `ledger` and a rejects file in
    `tmp`, then `settings`."""
    config = {
        "base_url": sim.base_url,
        "username": AUTH[0],
        "password": AUTH[1],
        "ledger_path": str(tmp / ledger),
        "rejects_path": str(tmp / "rejects.jsonl"),
        **settings,
    }
    return write_json(tmp / "target.config.json", config)


def run_tap(config: Path, catalog: Path) -> Measurement:
    """The tap as a real subprocess, its Singer output to /dev/null."""
    cmd = [str(BIN / "tap-oracle-wms"), "--config", str(config), "--catalog", str(catalog)]
    measured = measure(cmd)
    measured.check("tap-oracle-wms")
    return measured


def tap_logged_rate(stderr: str, entity: str, expected: int, ceiling: float | None = None) -> str:
    """The tap's own "done" log lines for the entity, as a note: its streaming rate, which
    leaves out process start-up (and its ratio to `ceiling`); flags a record count that is not
    the simulator's."""
    found = re.findall(
        rf"Entity '{re.escape(entity)}' done: (\d+) records(?: \(\d+ behind the bookmark\))?"
        rf", \d+ requests in ([\d.]+) s \(([\d.]+) records/s",
        stderr,
    )
    if not found:
        return ""
    records = sum(int(n) for n, _, _ in found)
    # the logged seconds have one decimal: a short partition's come from its logged rate
    seconds = sum(int(n) / float(r) if float(r) else float(s) for n, s, r in found)
    rate = records / seconds if seconds else 0.0
    note = f"tap log: streaming {rate:,.0f}/s"
    if ceiling:
        note += f" ({rate / ceiling:.2f} of ceiling)"
    if records != expected:
        note += f"; WARNING: the tap logged {records:,} records, the simulator has {expected:,}"
    return note


def tap_parallel_setting() -> tuple[bool, int, int]:
    """(offered, default, maximum) of the tap's `max_parallel_requests` setting."""
    from tap_oracle_wms import tap  # noqa: PLC0415 - the SDK import is slow; only when needed

    spec = tap.TapOracleWMS.config_jsonschema["properties"].get("max_parallel_requests")
    if spec is None:
        return False, 1, 1
    default = int(spec.get("default") or 1)
    maximum = int(getattr(tap, "MAX_PARALLEL_REQUESTS", 0) or spec.get("maximum") or 8)
    return True, default, maximum


# The plain-loop ceiling ------------------------------------------------------------------------


def plain_loop(urls: Sequence[str]) -> tuple[int, Measurement]:
    """(records, measurement) of `plain_loop.py` walking each URL's sequenced pages."""
    records, _, measured = plain_loop_requests(urls)
    return records, measured


def plain_loop_requests(urls: Sequence[str]) -> tuple[int, int, Measurement]:
    """(records, requests, measurement) of `plain_loop.py` (URLs on its stdin: there may be
    thousands)."""
    with (
        tempfile.TemporaryFile("w+") as given,
        tempfile.NamedTemporaryFile("w+", suffix=".json") as out,
    ):
        given.write("\n".join(urls))
        given.seek(0)
        measured = measure(
            [sys.executable, str(BENCH / "plain_loop.py"), "-"], stdout=out, stdin=given
        )
        measured.check("plain_loop.py")
        out.seek(0)
        result = json.load(out)
        return int(result["records"]), int(result["requests"]), measured


def sequenced_url(sim: Sim, entity: str, **params: Any) -> str:
    """The first page the tap asks for: sequenced, `page_size`, ordered as the tap orders."""
    query = {"page_mode": "sequenced", "page_size": PAGE_SIZE, **params}
    return (
        requests.Request("GET", f"{sim.api_url}entity/{entity}/", params=query).prepare().url or ""
    )


def history_settings(sim: Sim) -> dict[str, list[int]]:
    """The tap's `history_activity_ids` and `history_status_ids`, as a user who knows the
    warehouse would give them (the harness reads them from the simulator's code tables)."""
    return {
        "history_activity_ids": sorted(
            int(r["id"]) for r in sim.all_records("history_activity", ordering="id")
        ),
        "history_status_ids": sorted(
            int(r["id"]) for r in sim.all_records("container_status", ordering="id")
        ),
    }


def _company_facility_pairs(sim: Sim) -> list[tuple[str, str]]:
    companies = sorted(str(r["code"]) for r in sim.all_records("company", ordering="id"))
    facilities = sorted(str(r["code"]) for r in sim.all_records("facility", ordering="id"))
    return [(company, facility) for company in companies for facility in facilities]


def history_scopes(sim: Sim) -> list[dict[str, str]]:
    """The filters of each inventory_history list the tap reads (`oracle_wms.scoping`): Oracle's
    combination company + facility + history_activity_id + status_id, one list per value."""
    ids = history_settings(sim)
    return [
        {
            "company_id__code": company,
            "facility_id__code": facility,
            "history_activity_id": str(activity),
            "status_id": str(status),
        }
        for company, facility in _company_facility_pairs(sim)
        for activity in ids["history_activity_ids"]
        for status in ids["history_status_ids"]
    ]


def history_scopes_before(sim: Sim) -> list[dict[str, str]]:
    """The old client's filters (before issue 11): one list per company and facility with
    `__in` lookups over every activity and status, which Oracle does not document (a simulator
    started with `--lenient-required-filters` accepts them)."""
    ids = history_settings(sim)
    return [
        {
            "company_id__code": company,
            "facility_id__code": facility,
            "history_activity_id__in": ",".join(map(str, ids["history_activity_ids"])),
            "status_id__in": ",".join(map(str, ids["history_status_ids"])),
        }
        for company, facility in _company_facility_pairs(sim)
    ]


# Results --------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of a benchmark's table."""

    bench: str
    case: str
    records: int | None = None
    wall_s: float | None = None
    peak_rss_mb: float | None = None
    rate: float | None = None
    """records/s; computed from records and wall when not given."""
    ceiling: str = ""
    ratio: float | None = None
    goal: str = ""
    met: str = ""
    notes: str = ""

    def __post_init__(self) -> None:
        if self.rate is None and self.records is not None and self.wall_s:
            self.rate = self.records / self.wall_s


def measured_row(bench: str, case: str, records: int, measured: Measurement, **kw: Any) -> Row:
    return Row(bench, case, records, measured.wall_s, measured.peak_rss_mb, **kw)


def against(row: Row, ceiling: float, label: str, goal: float | None = None) -> Row:
    """Fill the ratio of `row` to a ceiling (records/s) and, with a goal ratio, met or not."""
    if row.rate is not None and ceiling > 0:
        row.ceiling = f"{label} {ceiling:,.0f}/s"
        row.ratio = row.rate / ceiling
        if goal is not None:
            row.goal = f">= {goal:g} x {label}"
            row.met = verdict(row.ratio >= goal, f"{row.ratio:.2f}")
    return row


def attempt(bench: str, case: str, run: Callable[[], Row]) -> Row:
    """`run()`, or a row saying how it failed: one broken case does not hide the others."""
    try:
        return run()
    except Exception as exc:
        summary = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        print(f"[{bench}] {case} failed:\n{exc}", file=sys.stderr, flush=True)
        return Row(bench, case, met="ERROR", notes=_one_line(summary))


def _one_line(text: str) -> str:
    return text.replace("|", "/")[:200]


def verdict(ok: bool, measured: str) -> str:
    return f"{'met' if ok else 'NOT met'} ({measured})"


def fmt(value: float | None, spec: str = ",.0f") -> str:
    return "" if value is None else format(value, spec)


COLUMNS = ("case", "records", "records/s", "wall s", "peak RSS MB", "ceiling", "ratio", "goal")


def row_cells(row: Row) -> list[str]:
    return [
        row.case,
        fmt(row.records),
        fmt(row.rate),
        fmt(row.wall_s, ".1f"),
        fmt(row.peak_rss_mb),
        row.ceiling,
        fmt(row.ratio, ".2f"),
        row.goal,
        row.met,
        row.notes,
    ]


def print_row(row: Row) -> None:
    cells = row_cells(row)
    print(
        f"{cells[0][:58]:58s} {cells[1]:>9s} {cells[2]:>9s} {cells[3]:>7s} {cells[4]:>6s} "
        f"{cells[6]:>5s}  {cells[8]}  {cells[9]}",
        flush=True,
    )


def save_rows(path: Path | None, rows: Sequence[Row]) -> None:
    if path is not None:
        write_json(path, [asdict(r) for r in rows])


def load_rows(path: Path) -> list[Row]:
    return [Row(**r) for r in json.loads(path.read_text())]


# Command line ---------------------------------------------------------------------------------


def parser(doc: str | None) -> argparse.ArgumentParser:
    """Options every benchmark script takes (run.py passes them; alone, defaults work)."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds, not minutes)")
    parser.add_argument(
        "--sim",
        action="append",
        default=[],
        metavar="SCALE=URL",
        help="a running simulator to use for that scale (else one is started)",
    )
    parser.add_argument("--workdir", type=Path, help="simulator DBs and temporary files")
    parser.add_argument("--json", type=Path, help="write the result rows here")
    return parser


def given_sims(args: argparse.Namespace) -> dict[int, str]:
    return {int(s.split("=", 1)[0]): s.split("=", 1)[1] for s in args.sim}


@contextlib.contextmanager
def workdir(args: argparse.Namespace) -> Iterator[Path]:
    """`--workdir` if given (kept), else a temporary directory (removed)."""
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
        yield args.workdir
        return
    with tempfile.TemporaryDirectory(prefix="wms-bench-") as tmp:
        yield Path(tmp)


def header(title: str) -> None:
    print(f"\n== {title}", flush=True)
