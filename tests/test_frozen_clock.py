"""Time-dependent behaviour on a clock the test drives (freezegun), never by sleeping.

Each test runs the code under test in this process, with the simulator's server thread in the
same process: freezegun's clock is the one both sides read (`time.time`, `time.monotonic`,
`datetime.now`), so token lifetimes, cache ages and `mod_ts` stamps are exact. Tests that run the
tap or target as a subprocess (tests/test_tap_resilience.py's OAuth refresh, the kill/rerun
tests) cannot be frozen and keep short real lifetimes.
"""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
from freezegun import freeze_time

from oracle_wms.auth import OAuth2ClientCredentials
from oracle_wms.client import WmsClient
from oracle_wms.discovery import DiscoveryCache, discover
from oracle_wms.settings import WmsSettings
from oracle_wms_sim import Simulator
from tap_oracle_wms.tap import TapOracleWMS
from target_oracle_wms import stage
from target_oracle_wms.target import TargetOracleWMS
from tests.conftest import oauth_config, tap_config

T0 = "2031-03-04T05:06:07Z"


def _token_requests(sim: Simulator) -> int:
    return sum(1 for r in sim.request_log() if r["path"].endswith("/oauth2/v1/token"))


def test_oauth_token_is_refreshed_before_it_expires(fresh_sim: Simulator) -> None:
    fresh_sim.set_token_lifetime(600)
    settings = WmsSettings.from_config(oauth_config(fresh_sim))
    assert settings.oauth2 is not None
    with freeze_time(T0) as clock:
        auth = OAuth2ClientCredentials(settings.oauth2, verify=True, timeout=30)
        fresh_sim.clear_request_log()
        first = auth.access_token()
        clock.tick(300)
        assert auth.access_token() == first, "half-way through its lifetime: kept"
        assert _token_requests(fresh_sim) == 1
        clock.tick(299)
        second = auth.access_token()
        assert second != first, "one second before the WMS expires it: replaced"
        assert _token_requests(fresh_sim) == 2
        clock.tick(2)
        url = f"{fresh_sim.base_url}/wms/lgfapi/v10/entity/facility/"
        headers = {"Authorization": f"Bearer {first}"}
        assert requests.get(url, headers=headers, timeout=30).status_code == 401, "first expired"
        assert requests.get(url, auth=auth, timeout=30).status_code == 200
        assert _token_requests(fresh_sim) == 2


def _entity_index_requests(sim: Simulator) -> int:
    return sum(1 for r in sim.request_log() if r["path"].endswith("/lgfapi/v10/entity/"))


def test_discovery_cache_is_reused_for_its_ttl_then_refreshed(
    sim: Simulator, tmp_path: Path
) -> None:
    cache = DiscoveryCache(directory=tmp_path, ttl=100)
    client = WmsClient(WmsSettings.from_config(tap_config(sim)))
    with freeze_time(T0) as clock:
        sim.clear_request_log()
        discover(client, ["item"], cache)
        clock.tick(100)
        discover(client, ["item"], cache)
        assert _entity_index_requests(sim) == 1, "100 s old with a ttl of 100: reused"
        clock.tick(1)
        discover(client, ["item"], cache)
        assert _entity_index_requests(sim) == 2, "101 s old: discovered again"


def _incremental_ids(sim: Simulator, capfd: pytest.CaptureFixture[str], **config: Any) -> set[int]:
    """The ids of the item records a first run (no state) of the tap, in this process, emits."""
    capfd.readouterr()
    TapOracleWMS(
        config=tap_config(sim, entities=["item"], **config), parse_env_config=False
    ).sync_all()
    messages = [json.loads(line) for line in capfd.readouterr().out.splitlines()]
    return {int(m["record"]["id"]) for m in messages if m["type"] == "RECORD"}


def test_start_date_and_lookback_bound_what_is_read(
    fresh_sim: Simulator, capfd: pytest.CaptureFixture[str]
) -> None:
    """Rows stamped at known instants (the simulator stamps `mod_ts` with the frozen clock)."""
    with freeze_time(T0) as clock:
        early = set(fresh_sim.insert_records("item", 2, same_mod_ts=True))
        clock.tick(60)
        late = set(fresh_sim.insert_records("item", 3, same_mod_ts=True))
        at_late = datetime.fromisoformat(T0).timestamp() + 60
        start = datetime.fromtimestamp(at_late, UTC).isoformat()

        assert _incremental_ids(fresh_sim, capfd, start_date=start, lookback=0) == late
        assert _incremental_ids(fresh_sim, capfd, start_date=start, lookback=59) == late
        assert _incremental_ids(fresh_sim, capfd, start_date=start, lookback=60) == (early | late)


ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "facility_code": {"type": "string"},
        "order_nbr": {"type": "string"},
        "order_type": {"type": "string"},
        "action_code": {"type": "string"},
        "lines": {"type": "array"},
    },
}


def test_stage_timeout_gives_up_after_the_configured_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer to a stage message is lost and the WMS refuses its document (a DELETE of a
    shipped order), so the document never reaches its target state: the target reads it again
    until `stage_timeout`, then rejects it naming the wait. Its sleeps advance the frozen clock
    instead of waiting."""
    with Simulator(seed=7, scale=1) as sim, freeze_time(T0) as clock:
        slept: list[float] = []

        def fake_sleep(seconds: float) -> None:
            slept.append(seconds)
            clock.tick(seconds)

        # Only the stage sink's sleeps (its module's `time`); monotonic is already the frozen one.
        clock_view = SimpleNamespace(monotonic=time.monotonic, sleep=fake_sleep)
        monkeypatch.setattr(stage, "time", clock_view)
        shipped, _ = sim.order_with_lines("F1", status="shipped")
        record = {"facility_code": "F1", "order_nbr": shipped, "action_code": "DELETE"}
        lines = [
            {"type": "SCHEMA", "stream": "orders", "schema": ORDER_SCHEMA, "key_properties": []},
            {"type": "RECORD", "stream": "orders", "record": record},
        ]
        sim.add_fault("lost_response", next=1, path_contains="stage/order")
        rejects = tmp_path / "rejects.jsonl"
        target = TargetOracleWMS(
            config={
                "base_url": sim.base_url,
                "username": sim.username,
                "password": sim.password,
                "stream_actions": {"orders": {"entity": "order", "action": "stage"}},
                "stage_timeout": 30,
                "allow_failures": True,
                "ledger_path": str(tmp_path / "ledger.sqlite"),
                "rejects_path": str(rejects),
            },
            parse_env_config=False,
        )
        target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in lines)))
    (reject,) = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert f"Order {shipped} was not deleted by the WMS within 30 s" in reject["reasons"]["_wms"]
    assert 28 <= sum(slept) <= 31, slept  # the wait, plus the first backoff after the lost answer
