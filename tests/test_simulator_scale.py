"""The million-row scale: generation time and flat memory while serving page after page.

Slow (about a minute, 1 GB of disk): runs only with SIM_SLOW_TESTS=1.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_simulator import AUTH, api

pytestmark = pytest.mark.skipif(
    os.environ.get("SIM_SLOW_TESTS") != "1", reason="set SIM_SLOW_TESTS=1 for the scale test"
)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_scale_334_generates_a_million_history_rows_and_serves_them_flat(
    tmp_path: Path,
) -> None:
    started = time.perf_counter()
    sim = Simulator(seed=42, scale=334, db_path=tmp_path / "wms.sqlite").start()
    generation = time.perf_counter() - started
    print(f"\nscale 334 generated in {generation:.1f} s")
    try:
        assert generation < 120
        assert sim.result_count("inventory_history") >= 1_000_000
        assert sim.result_count("inventory") >= 200_000
        assert sim.result_count("order_dtl") >= 200_000
        with requests.Session() as http:
            http.auth = AUTH
            url: str | None = api(
                sim,
                "entity/inventory_history/?company_id__code=C1&facility_id__code=F1"
                "&group_nbr__startswith=G&page_mode=sequenced&ordering=create_ts"
                "&page_size=1250&fields=id,create_ts",
            )
            seen = pages = 0
            baseline = 0.0
            started = time.perf_counter()
            while url and pages < 160:
                page = http.get(url).json()
                seen += len(page["results"])
                url = page["next_page"]
                pages += 1
                if pages == 10:
                    baseline = rss_mb()
            elapsed = time.perf_counter() - started
            growth = rss_mb() - baseline
            print(f"{seen} history rows in {elapsed:.1f} s; RSS growth {growth:.1f} MB")
            assert seen == pages * 1250
            assert growth < 40  # 150 more pages (187,500 rows) do not grow memory
    finally:
        sim.stop()
