"""Run the benchmark suite and write benchmarks/RESULTS.md (what `make bench` does).

Each benchmark is its own script and runs as its own subprocess; each measured command inside it
(tap, plain loop, Meltano, target) is a further subprocess whose wall time and peak RSS are
taken when it is reaped. The simulators run in their own processes too, one per data size,
started here and shared by the benchmarks that use that size (their data is generated once).

    .venv/bin/python benchmarks/run.py [--quick] [--only parse,latency,...] [--workdir DIR]

`--quick` uses small sizes (under 2 minutes in all); the figures then say little about rates,
since process start-up weighs on every ratio. `--workdir` keeps the simulator databases for the
next run (the target benchmark writes into the one it shares with parse, latency and e2e).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import bench_cloud
import bench_deletes
import bench_e2e
import bench_latency
import bench_parse
import bench_peer
import bench_pipeline
import bench_scale
import bench_simulator
import bench_target
import bench_writes
from common import (
    BENCH,
    COLUMNS,
    ROOT,
    Row,
    Sim,
    load_rows,
    print_row,
    row_cells,
    start_sim,
)

RESULTS = BENCH / "RESULTS.md"


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: ModuleType
    prefix: str = ""
    """Put before the docstring's title (bench_simulator.py's has no number)."""

    @property
    def script(self) -> Path:
        return Path(str(self.module.__file__))

    @property
    def title(self) -> str:
        return self.prefix + (self.module.__doc__ or self.name).strip().splitlines()[0]

    @property
    def description(self) -> str:
        """The module docstring's first paragraph after the title, on one line."""
        paragraphs = (self.module.__doc__ or "").strip().split("\n\n")
        return " ".join(paragraphs[1].split()) if len(paragraphs) > 1 else ""

    def scales(self, quick: bool) -> list[int]:
        """The shared simulators it needs (bench_simulator starts its own)."""
        scales = getattr(self.module, "scales", None)
        return list(scales(quick)) if scales else []


BENCHMARKS = [
    Benchmark("simulator", bench_simulator, "0. Simulator: "),
    Benchmark("parse", bench_parse),
    Benchmark("latency", bench_latency),
    Benchmark("scale", bench_scale),
    Benchmark("e2e", bench_e2e),
    Benchmark("pipeline", bench_pipeline),
    Benchmark("target", bench_target),  # writes into the simulator's data: after the others
    Benchmark("writes", bench_writes),  # a simulator of its own
    Benchmark("cloud", bench_cloud),  # reads only; its backfill data may include target's writes
    Benchmark("deletes", bench_deletes),  # reads only
    Benchmark("peer", bench_peer),  # churns the shared data: last
]


PACKAGES = ("oracle_wms", "tap_oracle_wms", "target_oracle_wms", "oracle_wms_sim")
"""Byte-compiled before measuring: a deployed tap (pip, Meltano) has its .pyc files; the
editable install here has none, and with PYTHONDONTWRITEBYTECODE set every process would
compile these packages again (about 0.2 s of CPU per tap start)."""


def main() -> int:
    args = _parser().parse_args()
    chosen = _chosen(args.only)
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
    started = time.perf_counter()
    machine = machine_info()
    print("Benchmarks " + ("(--quick)" if args.quick else "(full sizes)"))
    print("; ".join(f"{k}: {v}" for k, v in machine.items()), flush=True)
    results: dict[str, list[Row]] = {}
    with _workdir(args.workdir) as work:
        sims: dict[int, Sim] = {}
        generation: dict[int, float] = {}
        try:
            for position, bench in enumerate(chosen):
                for scale in bench.scales(args.quick):
                    if scale not in sims:
                        began = time.perf_counter()
                        sims[scale] = start_sim(scale, work)
                        generation[scale] = time.perf_counter() - began
                results[bench.name] = _run(bench, args.quick, sims, work)
                _stop_unneeded(sims, chosen[position + 1 :], args.quick)
        finally:
            for sim in sims.values():
                sim.stop()
    elapsed = time.perf_counter() - started
    print(f"\nAll done in {elapsed:.0f} s", flush=True)
    args.output.write_text(
        markdown(results, chosen, machine, args.quick, elapsed, generation), encoding="utf-8"
    )
    print(f"Results written to {args.output}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes")
    parser.add_argument(
        "--only", default="", help="comma-separated: " + ",".join(b.name for b in BENCHMARKS)
    )
    parser.add_argument("--workdir", type=Path, help="keep simulator DBs here (default: temp)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the Markdown report")
    return parser


def _chosen(only: str) -> list[Benchmark]:
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = set(names) - {b.name for b in BENCHMARKS}
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    return [b for b in BENCHMARKS if not names or b.name in names]


@contextlib.contextmanager
def _workdir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="wms-bench-") as tmp:
        yield Path(tmp)


def _stop_unneeded(sims: dict[int, Sim], later: list[Benchmark], quick: bool) -> None:
    needed = {scale for bench in later for scale in bench.scales(quick)}
    for scale in sorted(set(sims) - needed):
        sims.pop(scale).stop()


def _run(bench: Benchmark, quick: bool, sims: dict[int, Sim], work: Path) -> list[Row]:
    """The benchmark's script as a subprocess; its rows, or one row saying it failed."""
    if bench.name == "simulator":
        return _run_simulator_bench(quick)
    for sim in sims.values():
        sim.clear_faults()
    out = work / f"{bench.name}.rows.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(bench.script), "--workdir", str(work), "--json", str(out)]
    cmd += ["--quick"] if quick else []
    for scale in bench.scales(quick):
        cmd += ["--sim", f"{scale}={sims[scale].base_url}"]
    done = subprocess.run(cmd, check=False)
    if done.returncode != 0 or not out.exists():
        note = f"{bench.script.name} exited with {done.returncode}: see its output"
        return [Row(bench.name, "benchmark failed", met="ERROR", notes=note)]
    return load_rows(out)


# bench_simulator.py (kept as it is): its printed lines become rows -----------------------------

_WALK = re.compile(
    r"^(?P<case>\S.*?)\s+(?P<records>[\d,]+) records\s+[\d.]+ MB\s+(?P<wall>[\d.]+) s\s+"
    r"(?P<rate>[\d,]+) records/s$"
)
_BASELINE = re.compile(r"^(?P<case>baseline.*?)\s+(?P<rate>[\d,]+) records/s$")
_RSS = re.compile(r"^serving process peak RSS (?P<mb>[\d.]+) MB$")
_SIM_TARGET = 50_000


def _run_simulator_bench(quick: bool) -> list[Row]:
    print(f"\n== {BENCHMARKS[0].title}", flush=True)
    cmd = [sys.executable, str(bench_simulator.__file__)] + (["--quick"] if quick else [])
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    print(done.stdout, end="", flush=True)
    rows = simulator_rows(done.stdout)
    if not rows:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        rows = [Row("simulator", "bench_simulator.py", met="ERROR", notes=tail[0][:200])]
    return rows


def simulator_rows(output: str) -> list[Row]:
    """Rows from bench_simulator.py's lines: each walk, against the bytes-only baseline."""
    lines = [line.strip() for line in output.splitlines()]
    walks = [m for m in map(_WALK.match, lines) if m]
    baseline = next((m for m in map(_BASELINE.match, lines) if m), None)
    rss = next((float(m["mb"]) for m in map(_RSS.match, lines) if m), None)
    rows = []
    for walk in walks:
        rate = float(walk["rate"].replace(",", ""))
        row = Row(
            "simulator",
            walk["case"],
            records=int(walk["records"].replace(",", "")),
            wall_s=float(walk["wall"]),
            peak_rss_mb=rss,
            rate=rate,
            notes="peak RSS: the serving process",
        )
        if baseline:
            ceiling = float(baseline["rate"].replace(",", ""))
            row.ceiling, row.ratio = f"fixed-bytes server {ceiling:,.0f}/s", rate / ceiling
        if "bytes only" in walk["case"]:
            row.goal = f">= {_SIM_TARGET:,} records/s"
            row.met = f"{'met' if rate >= _SIM_TARGET else 'NOT met'} ({rate:,.0f}/s)"
        rows.append(row)
    if baseline:
        rate = float(baseline["rate"].replace(",", ""))
        rows.append(Row("simulator", baseline["case"], rate=rate, notes="the ceiling"))
    for row in rows:
        print_row(row)
    return rows


# RESULTS.md -----------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GB RAM"
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {cpu}, {os.cpu_count()} cores{memory}",
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "load average at start": load,
    }


def markdown(
    results: dict[str, list[Row]],
    chosen: list[Benchmark],
    machine: dict[str, str],
    quick: bool,
    elapsed: float,
    generation: dict[int, float],
) -> str:
    mode = "`--quick` (small sizes: start-up weighs on every ratio)" if quick else "full sizes"
    lines = ["# Benchmark results", ""]
    lines += [f"- {key}: {value}" for key, value in machine.items()]
    lines += [
        f"- run: `benchmarks/run.py`, {mode}; {len(chosen)} benchmark(s) in {elapsed:.0f} s",
        "- simulator data generated or opened in: "
        + ", ".join(f"scale {s} {t:.1f} s" for s, t in sorted(generation.items())),
        "",
        "How to read: records/s is records / wall time of the measured process, start-up",
        "included (records counted by the simulator, not from the output); peak RSS is the",
        "largest resident set of the measured command's process tree (`ru_maxrss` when reaped);",
        'ratio is records/s / the ceiling measured or computed in the same run; a "tap log"',
        "note is the tap's own streaming rate, which leaves out start-up and discovery.",
        "",
        "## Goals",
        "",
        "| benchmark | case | goal | result |",
        "| --- | --- | --- | --- |",
    ]
    for bench in chosen:
        for row in results.get(bench.name, []):
            if row.goal or row.met in {"ERROR", "skipped", "not offered"}:
                lines.append(f"| {bench.name} | {row.case} | {row.goal} | {row.met} |")
    for bench in chosen:
        lines += ["", f"## {bench.title}"]
        if bench.description:
            lines += ["", bench.description]
        lines += ["", "| " + " | ".join((*COLUMNS, "met?", "notes")) + " |"]
        lines.append("|" + " --- |" * (len(COLUMNS) + 2))
        for row in results.get(bench.name, []):
            lines.append("| " + " | ".join(c.replace("|", "/") for c in row_cells(row)) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
