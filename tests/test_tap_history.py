"""Issue 16: inventory_history in fewer requests where the WMS takes `__in` lookups for the
required combination (Oracle does not say, docs/api-contract.md F2), and Oracle's documented
combinations where it does not; each layout starts from the other's bookmarks.

Two simulators serve one database: the default one refuses lookups (as Oracle may), the other
(`lenient_required_filters`) takes them. No test here times anything."""

from __future__ import annotations

import json
import sqlite3
import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest

from oracle_wms.scoping import HistoryPlan, Scope
from oracle_wms_sim import Simulator
from tap_oracle_wms.history import seed
from tests.conftest import discover_catalog, run_tap, select_streams, tap_config

ACTIVITY_IDS = list(range(1, 11))
STATUS_IDS = [0, 10, 20, 30, 40, 50, 60, 70, 80, 95, 99]
HISTORY = {"history_activity_ids": ACTIVITY_IDS, "history_status_ids": STATUS_IDS}
PAIRS = 2 * 3
"""The simulator's companies x facilities at scale 1."""


@pytest.fixture
def lenient(fresh_sim: Simulator) -> Iterator[Simulator]:
    """The same warehouse (one database) behind a WMS that takes lookups."""
    with Simulator(
        seed=7, scale=1, db_path=fresh_sim.db_path, lenient_required_filters=True
    ) as server:
        yield server


def _history_ids(server: Simulator) -> set[int]:
    with sqlite3.connect(server.db_path) as conn:
        return {int(r[0]) for r in conn.execute("SELECT id FROM inventory_history")}


def _lists(server: Simulator) -> list[dict[str, str]]:
    return [r["query"] for r in server.request_log() if r["path"].endswith("/inventory_history/")]


def _contexts(state: dict[str, t.Any]) -> list[dict[str, str]]:
    return [p["context"] for p in state["bookmarks"]["inventory_history"]["partitions"]]


def _records(stdout: str) -> list[str]:
    return sorted(
        json.dumps(m["record"], sort_keys=True)
        for m in map(json.loads, stdout.splitlines())
        if m["type"] == "RECORD"
    )


def test_lookup_lists_read_every_row_and_each_layout_starts_from_the_others_bookmarks(
    fresh_sim: Simulator, lenient: Simulator, tmp_path: Path
) -> None:
    documented = tap_config(fresh_sim, **HISTORY)
    lookups = tap_config(lenient, **HISTORY)
    catalog = select_streams(discover_catalog(tmp_path, documented), {"inventory_history"})
    everything = _history_ids(fresh_sim)

    lenient.clear_request_log()
    by_lookups = run_tap(tmp_path, lookups, catalog=catalog)
    assert by_lookups.returncode == 0, by_lookups.stderr[-3000:]
    assert {r["id"] for r in by_lookups.records["inventory_history"]} == everything
    lists = _lists(lenient)
    assert len(lists) == 1 + PAIRS, "one question, then one list per company and facility"
    assert all(q["history_activity_id__in"] == ",".join(map(str, ACTIVITY_IDS)) for q in lists)
    assert all(q["status_id__in"] == ",".join(map(str, STATUS_IDS)) for q in lists)
    assert all(
        set(c) == {"company_code", "facility_code"} for c in _contexts(by_lookups.last_state)
    )

    by_combination = run_tap(tmp_path, documented, catalog=catalog)
    assert by_combination.returncode == 0, by_combination.stderr[-3000:]
    assert _records(by_combination.stdout) == _records(by_lookups.stdout)
    assert len(_contexts(by_combination.last_state)) == PAIRS * len(ACTIVITY_IDS) * len(STATUS_IDS)

    inserted = set(fresh_sim.insert_records("inventory_history", 30, same_mod_ts=True))
    # lookups after combinations, combinations after lookups: each from the other's bookmarks
    after_combination = run_tap(tmp_path, lookups, catalog=catalog, state=by_combination.last_state)
    after_lookups = run_tap(tmp_path, documented, catalog=catalog, state=by_lookups.last_state)
    for run in (after_combination, after_lookups):
        assert run.returncode == 0, run.stderr[-3000:]
        again = {r["id"] for r in run.records["inventory_history"]}
        assert inserted <= again
        assert len(again) < len(everything) // 2, "started from the other layout's bookmarks"


def test_lookup_lists_within_the_budget_read_what_a_sequential_run_reads(
    fresh_sim: Simulator, lenient: Simulator, tmp_path: Path
) -> None:
    ahead = tap_config(lenient, max_concurrent_requests=3, **HISTORY)
    alone = tap_config(lenient, max_concurrent_requests=1, **HISTORY)
    catalog = select_streams(
        discover_catalog(tmp_path, ahead), {"company", "facility", "inventory_history", "item"}
    )
    first = run_tap(tmp_path, alone, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    fresh_sim.insert_records("inventory_history", 20, same_mod_ts=True)
    lenient.add_fault("latency", rate=1, latency_ms=20)  # so requests overlap
    lenient.clear_request_log()

    concurrent = run_tap(tmp_path, ahead, catalog=catalog, state=first.last_state)
    peak = lenient.peak_in_flight()
    sequential = run_tap(tmp_path, alone, catalog=catalog, state=first.last_state)

    assert concurrent.returncode == 0, concurrent.stderr[-3000:]
    assert sequential.returncode == 0, sequential.stderr[-3000:]
    assert 2 <= peak <= 3, f"{peak} requests in flight with max_concurrent_requests 3"
    assert _records(concurrent.stdout) == _records(sequential.stdout)
    assert concurrent.last_state == sequential.last_state


def _state(*partitions: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"bookmarks": {"inventory_history": {"partitions": list(partitions)}}}


def _combination(activity: int, status: int, **state: str) -> dict[str, t.Any]:
    context = {
        "company_code": "C1",
        "facility_code": "F1",
        "history_activity_id": str(activity),
        "status_id": str(status),
    }
    return {"context": context, **state}


PAIR = {"company_code": "C1", "facility_code": "F1"}
PLAN = HistoryPlan((Scope("C1", "F1"),), (1, 2), (10,), lookups=True)
EARLY, LATE = "2026-01-02T00:00:00+00:00", "2026-03-04T00:00:00+00:00"


@pytest.mark.parametrize(
    ("partitions", "expected"),
    [
        # every combination read up to the last run: the earliest of their bookmarks
        ((_combination(1, 10, replication_key_value=LATE), _combination(2, 10)), LATE),
        (
            (
                _combination(1, 10, replication_key_value=LATE),
                _combination(2, 10, replication_key_value=EARLY),
            ),
            EARLY,
        ),
        # a combination the state lacks may hold rows never read
        ((_combination(1, 10, replication_key_value=LATE),), None),
        # one skipped as recently empty: when its rows came only the tap's clock says
        (
            (_combination(1, 10, replication_key_value=LATE), _combination(2, 10, empty_at=LATE)),
            None,
        ),
        # nothing ever read
        ((_combination(1, 10), _combination(2, 10)), None),
    ],
)
def test_a_company_facility_list_starts_where_every_combination_was_read(
    partitions: tuple[dict[str, t.Any], ...], expected: str | None
) -> None:
    assert seed(_state(*partitions), "inventory_history", PAIR, PLAN) == expected


def test_a_combination_starts_from_its_company_facility_bookmark() -> None:
    state = _state({"context": PAIR, "replication_key_value": LATE})
    combination = _combination(2, 10)["context"]

    assert seed(state, "inventory_history", combination, PLAN) == LATE
    assert seed(_state(), "inventory_history", combination, PLAN) is None
