"""A default run's log is for a person: per stream one summary line (records, re-reads,
requests, time) and at most one progress line per 15 s, one summary per run, warnings; no
METRIC line per request unless `metrics_log_level` asks; each rejected record's reasons in the
target's log, the first `LOGGED_REJECTS` of them."""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from oracle_wms_sim import Simulator
from target_oracle_wms.report import LOGGED_REJECTS
from tests.conftest import run_tap, tap_config
from tests.test_target import messages, run_target, target_config

SUMMARY = re.compile(r"\| (tap-oracle-wms\.\w+)\s*\| Entity '(\w+)' done: (\d+) records")
RUN = re.compile(r"Run done: (\d+) entities, (\d+) records \((\d+) behind their bookmark\)")


def _info_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "| INFO" in line]


def test_a_default_run_logs_summaries_not_requests(tmp_path: Path, sim: Simulator) -> None:
    config = tap_config(sim, discovery_cache_path=str(tmp_path / "cache"))
    started = time.monotonic()
    run = run_tap(tmp_path, config)
    wall = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-3000:]
    assert "METRIC" not in run.stderr
    assert "ResourceWarning" not in run.stderr

    streams = set(run.schemas)
    summaries = [SUMMARY.search(line) for line in run.stderr.splitlines()]
    summarized = Counter(m.group(2) for m in summaries if m)
    assert set(summarized) == streams and set(summarized.values()) == {1}
    # Beyond its summary, each stream may log a line per 15 s it ran (at most the run's).
    per_stream = Counter(
        line.split("|")[2].strip()
        for line in _info_lines(run.stderr)
        if "| tap-oracle-wms." in line and " done: " not in line
    )
    budget = math.ceil(wall / 15)
    assert all(n <= budget for n in per_stream.values()), per_stream.most_common(3)
    (total,) = [RUN.search(line) for line in run.stderr.splitlines() if RUN.search(line)]
    assert total is not None
    assert int(total.group(1)) == len(streams)
    assert int(total.group(2)) == sum(len(records) for records in run.records.values())
    # The rest of the tap's own lines: the header, the discovery and history notes.
    rest = [line for line in _info_lines(run.stderr) if "| tap-oracle-wms " in line]
    assert len(rest) <= 10, rest


def test_rereads_at_the_bookmark_are_said(tmp_path: Path, sim: Simulator) -> None:
    """The second run asks `mod_ts__gte` the bookmark less `lookback`, at whole seconds: the
    rows of that window come again, unchanged, so none is emitted (issue 23) and the log says
    how many were read again. The count is computed here from the first run's records."""
    lookback = 300
    config = tap_config(
        sim,
        entities=["order_hdr", "item"],
        lookback=lookback,
        discovery_cache_path=str(tmp_path / "cache"),
    )
    first = run_tap(tmp_path, config)
    assert first.returncode == 0, first.stderr[-3000:]
    state = first.states[-1]
    second = run_tap(tmp_path, config, state=state)
    assert second.returncode == 0, second.stderr[-3000:]
    for entity in ("order_hdr", "item"):
        mark = datetime.fromisoformat(state["bookmarks"][entity]["replication_key_value"])
        since = (mark - timedelta(seconds=lookback)).replace(microsecond=0)
        expected = sum(
            1 for r in first.records[entity] if datetime.fromisoformat(r["mod_ts"]) >= since
        )
        assert expected > 0
        assert second.records.get(entity, []) == [], "an unchanged WMS: nothing emitted again"
        said = [
            line
            for line in second.stderr.splitlines()
            if f"Entity '{entity}': {expected} rows read again" in line
        ]
        assert len(said) == 1, second.stderr[-3000:]


def test_per_request_metrics_are_one_setting_away(tmp_path: Path, sim: Simulator) -> None:
    config = tap_config(
        sim,
        entities=["item"],
        metrics_log_level="INFO",
        discovery_cache_path=str(tmp_path / "cache"),
    )
    run = run_tap(tmp_path, config)
    assert run.returncode == 0, run.stderr[-3000:]
    assert '"metric":"http_request_duration"' in run.stderr.replace(" ", "")


def test_reject_reasons_are_in_the_log_bounded(tmp_path: Path, sim: Simulator) -> None:
    count = LOGGED_REJECTS + 5
    schema = {
        "properties": {
            name: {"type": "number" if name == "adjustment_qty" else "string"}
            for name in (
                "facility_code",
                "location_barcode",
                "item_code",
                "adjustment_qty",
                "reason_code",
                "batch_number",  # not a field: Oracle's is batch_nbr
            )
        }
    }
    records = [
        {
            "facility_code": "F1",
            "location_barcode": f"NO-SUCH-{n}",
            "item_code": "ITM000035",
            "adjustment_qty": 1,
            "reason_code": "CC",
            "batch_number": "B1",
        }
        for n in range(count)
    ]
    lines = messages("inventory_adjustment", schema, ["location_barcode"], records)
    run = run_target(tmp_path, target_config(sim, tmp_path), lines, 120)
    assert run.returncode == 1, run.stderr[-3000:]
    assert len(run.rejects) == count
    logged = [line for line in run.stderr.splitlines() if "record rejected: " in line]
    assert len(logged) == LOGGED_REJECTS
    assert all("batch_number" in line for line in logged)
    assert f"{count - LOGGED_REJECTS} more there" in run.stderr
