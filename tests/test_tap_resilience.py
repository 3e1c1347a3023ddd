"""No record lost or duplicated under faults, churn, OAuth token expiry and a killed run.

Every test compares what the tap delivered with what the simulator holds, by primary key, and
prints the lost and duplicated counts it measured.
"""

from __future__ import annotations

import json
import signal
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

from oracle_wms_sim import Simulator
from tests.conftest import (
    BIN,
    ROOT,
    all_records,
    discover_catalog,
    oauth_config,
    pg_rows,
    result_count,
    run_tap,
    select_streams,
    tap_config,
)

FAST_RETRIES = {"retry_initial_wait": 0, "retry_max_wait": 2, "max_retries": 12}


def _instant(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _lost_and_duplicated(
    emitted: list[dict[str, Any]], expected_ids: set[int], entity: str
) -> tuple[int, int]:
    ids = [r["id"] for r in emitted]
    lost = len(expected_ids - set(ids))
    duplicated = len(ids) - len(set(ids))
    print(
        f"{entity}: expected {len(expected_ids)}, lost {lost}, duplicated in one run {duplicated}"
    )
    return lost, duplicated


def test_faults_are_retried_without_losing_a_record(sim: Simulator, tmp_path: Path) -> None:
    config = tap_config(sim, page_size=40, **FAST_RETRIES)
    entities = {"order_hdr", "order_dtl", "item"}
    catalog = select_streams(discover_catalog(tmp_path, config), entities)
    sim.clear_request_log()
    sim.add_fault("503", next=2, path_contains="entity/order_hdr", retry_after=0.3)
    sim.add_fault("429", rate=0.05, path_contains="entity/", retry_after=0.05)
    for kind in ("500", "502", "reset", "truncate"):
        sim.add_fault(kind, rate=0.04, path_contains="entity/")
    try:
        run = run_tap(tmp_path, config, catalog=catalog)
    finally:
        sim.clear_faults()

    assert run.returncode == 0, run.stderr[-4000:]
    injected = [r for r in sim.request_log() if r.get("fault")]
    kinds = {r["fault"] for r in injected}
    assert {"503", "500", "502", "reset", "truncate"} <= kinds, kinds
    for entity in entities:
        expected = {r["id"] for r in all_records(sim, entity)}
        assert _lost_and_duplicated(run.records[entity], expected, entity) == (0, 0)
    assert "retry 1 of 12" in run.stderr


def test_a_stall_longer_than_the_timeout_is_retried(sim: Simulator, tmp_path: Path) -> None:
    config = tap_config(sim, request_timeout=1, **FAST_RETRIES)
    catalog = select_streams(discover_catalog(tmp_path, config), {"vendor"})
    sim.add_fault("stall", next=1, path_contains="entity/vendor", stall_s=3)
    try:
        run = run_tap(tmp_path, config, catalog=catalog)
    finally:
        sim.clear_faults()

    assert run.returncode == 0, run.stderr[-4000:]
    assert "timed out" in run.stderr
    assert len(run.records["vendor"]) == result_count(sim, "vendor")


def test_giving_up_names_the_entity_and_path_and_no_secret(sim: Simulator, tmp_path: Path) -> None:
    secret = "Giv3-Up-Pa55word"
    sim.add_user("etl_giveup", secret)
    config = tap_config(
        sim, username="etl_giveup", password=secret, max_retries=2, retry_initial_wait=0
    )
    catalog = select_streams(discover_catalog(tmp_path, config), {"item"})
    sim.add_fault("503", rate=1.0, path_contains="entity/item")
    try:
        run = run_tap(tmp_path, config, catalog=catalog)
    finally:
        sim.clear_faults()

    output = run.stdout + run.stderr
    assert run.returncode != 0
    path = "/demo/wms/lgfapi/v10/entity/item/"
    assert f"Gave up on entity 'item' (GET {path}) after 3 attempts" in output
    assert secret not in output


def test_oauth2_tokens_refresh_before_expiry_and_after_a_401(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = oauth_config(fresh_sim, page_size=100, **FAST_RETRIES)
    catalog = select_streams(discover_catalog(tmp_path, config), {"order_dtl", "inventory"})
    fresh_sim.set_token_lifetime(2)
    fresh_sim.clear_request_log()
    fresh_sim.add_fault("latency", rate=1.0, path_contains="entity/", latency_ms=40)
    fresh_sim.add_fault("token_expiry", next=1, path_contains="entity/inventory")
    try:
        run = run_tap(tmp_path, config, catalog=catalog)
    finally:
        fresh_sim.clear_faults()

    assert run.returncode == 0, run.stderr[-4000:]
    log = fresh_sim.request_log()
    api_calls = [r for r in log if "/wms/lgfapi/" in r["path"]]
    assert api_calls and all(r["auth"] == "bearer" for r in api_calls)
    token_requests = [r for r in log if r["path"].endswith("/oauth2/v1/token")]
    assert len(token_requests) >= 3, "expected refreshes: before expiry and after the forced 401"
    assert any(r["status"] == 401 for r in api_calls), "the token_expiry fault should cause a 401"
    for entity in ("order_dtl", "inventory"):
        expected = {r["id"] for r in all_records(fresh_sim, entity)}
        assert _lost_and_duplicated(run.records[entity], expected, entity) == (0, 0)
    output = run.stdout + run.stderr
    assert fresh_sim.oauth_client_secret not in output
    assert "Bearer" not in output and "access_token" not in output


def test_oauth2_wrong_secret_is_named_and_not_shown(sim: Simulator, tmp_path: Path) -> None:
    secret = "Wr0ng-Cl1ent-S3cret"
    run = run_tap(tmp_path, oauth_config(sim, oauth2_client_secret=secret), "--discover")

    output = run.stdout + run.stderr
    assert run.returncode != 0
    assert "oauth2_client_secret" in output and "invalid_client" in output
    assert secret not in output


def test_paging_under_churn_then_incremental_catches_up(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Records change while the tap pages; the next run picks up every change."""
    config = tap_config(fresh_sim, page_size=50, **FAST_RETRIES)
    catalog = select_streams(discover_catalog(tmp_path, config), {"inventory"})
    fresh_sim.add_fault("latency", rate=1.0, path_contains="entity/inventory", latency_ms=20)
    fresh_sim.start_churn("inventory", per_second=150, updates=True, inserts=True)
    try:
        first = run_tap(tmp_path, config, catalog=catalog)
    finally:
        churned = fresh_sim.stop_churn()
        fresh_sim.clear_faults()
    assert first.returncode == 0, first.stderr[-4000:]
    assert churned["updated"] and churned["inserted"]

    second = run_tap(tmp_path, config, catalog=catalog, state=first.last_state)
    assert second.returncode == 0, second.stderr[-4000:]

    merged: dict[int, dict[str, Any]] = {}
    for row in first.records["inventory"] + second.records["inventory"]:
        merged[row["id"]] = row  # what a target's primary-key merge keeps: the latest
    truth = {r["id"]: r for r in all_records(fresh_sim, "inventory")}
    lost = truth.keys() - merged.keys()
    stale = [
        i
        for i in truth
        if i in merged and _instant(merged[i]["mod_ts"]) != _instant(truth[i]["mod_ts"])
    ]
    print(f"inventory under churn: {len(truth)} rows, lost {len(lost)}, stale {len(stale)}")
    assert not lost
    assert not stale


def test_killed_run_resumes_from_its_last_state_into_postgres(
    tmp_path: Path, pg_schema: str
) -> None:
    """SIGKILL the tap mid-extraction; rerun from the target's last STATE; the table is exact."""
    with Simulator(seed=5, scale=8) as sim:
        config = tap_config(sim, page_size=200)
        catalog = select_streams(discover_catalog(tmp_path, config), {"inventory"})
        config_path = tmp_path / "tap.json"
        config_path.write_text(json.dumps(config))
        catalog_path = tmp_path / "catalog.json"
        catalog_path.write_text(json.dumps(catalog))
        target_config = tmp_path / "target.json"
        target_config.write_text(
            json.dumps(
                {
                    "sqlalchemy_url": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
                    "default_target_schema": pg_schema,
                }
            )
        )
        target_bin = ROOT / ".meltano/loaders/target-postgres/venv/bin/target-postgres"
        sim.add_fault("latency", rate=1.0, path_contains="entity/inventory", latency_ms=60)
        total = result_count(sim, "inventory")

        def run_pipeline(state: dict[str, Any] | None, kill_after: int | None) -> dict[str, Any]:
            args = [str(BIN / "tap-oracle-wms"), "--config", str(config_path)]
            args += ["--catalog", str(catalog_path)]
            if state is not None:
                state_path = tmp_path / "state.json"
                state_path.write_text(json.dumps(state))
                args += ["--state", str(state_path)]
            tap = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
            )
            target = subprocess.Popen(
                [str(target_bin), "--config", str(target_config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            assert tap.stdout is not None and target.stdin is not None
            records = 0
            for line in tap.stdout:
                target.stdin.write(line)
                if '"type":"RECORD"' in line.replace(" ", ""):
                    records += 1
                    if kill_after is not None and records >= kill_after:
                        tap.send_signal(signal.SIGKILL)
                        break
            tap.wait()
            out, _ = target.communicate(timeout=300)
            states = [json.loads(x) for x in out.splitlines() if x.strip()]  # targets echo state
            return {
                "state": states[-1] if states else None,
                "tap_rc": tap.returncode,
                "records": records,
            }

        first = run_pipeline(None, kill_after=total // 2)
        assert first["tap_rc"] == -signal.SIGKILL
        bookmark = (first["state"] or {}).get("bookmarks", {}).get("inventory", {})
        assert bookmark.get("replication_key_value"), "no bookmark was committed before the kill"
        second = run_pipeline(first["state"], kill_after=None)
        assert second["tap_rc"] == 0
        assert second["records"] < total, "the rerun should resume from the bookmark, not restart"

        truth = {r["id"]: _instant(r["mod_ts"]) for r in all_records(sim, "inventory")}
        rows = pg_rows(pg_schema, "select id, mod_ts from inventory")
        loaded = {row[0]: row[1] for row in rows}
        lost = truth.keys() - loaded.keys()
        print(
            f"kill/resume: {total} rows, first run {first['records']} records, "
            f"second run {second['records']}, lost {len(lost)}, "
            f"duplicated {len(rows) - len(loaded)}"
        )
        assert not lost
        assert len(rows) == len(loaded) == len(truth)
