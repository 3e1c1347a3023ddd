"""`make dagster`'s UI in a real headless browser (Debian's Chromium): `scripts/dagster_demo.py`
starts the simulator and `dagster dev` on the demo definitions; the asset graph page, rendered
with its JavaScript, shows our entity and mart assets."""

from __future__ import annotations

import contextlib
import html
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import requests

from tests.conftest import BIN, IN_CI, ROOT
from tests.test_orchestration import GROUPS

pytest.importorskip("dagster")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if IN_CI:
        pytest.fail("chromium is required in CI (.ci/run installs Debian's package)")
    pytest.skip("no chromium (apt-get install chromium)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def dagster_ui(pg_database: str) -> Iterator[str]:
    """`make dagster`'s script on free ports, its state in pg_database; the UI's URL."""
    port = free_port()
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_database}"
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DAGSTER_PORT": str(port),
        "MELTANO_DATABASE_URI": url,
        "TARGET_POSTGRES_SQLALCHEMY_URL": url,
        "DBT_POSTGRES_DBNAME": pg_database,
    }
    proc = subprocess.Popen(
        [str(BIN / "python"), "scripts/dagster_demo.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if requests.get(f"{base}/server_info", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None, "make dagster's script ended before the UI answered"
            time.sleep(0.5)
        yield base
    finally:
        # Ctrl-C, as a user stops it; then whatever of the process group is left.
        os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=90)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def rendered(browser: str, url: str) -> str:
    """The page's text after its scripts ran (headless Chromium, 30 s of virtual time, a window
    tall enough that the graph draws every node: it draws only those in view)."""
    dom = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=30000",
            "--window-size=3000,9000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    ).stdout
    dom = re.sub(r"<(style|script)\b.*?</\1>", " ", dom, flags=re.DOTALL)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", dom)))


ENTITIES = [entity for group in GROUPS.values() for entity in group]


def test_the_ui_shows_the_asset_graph_with_our_assets(dagster_ui: str) -> None:
    browser = chromium()
    group = f"{dagster_ui}/locations/orchestration.location/asset-groups"
    # The demo's entity group, drawn as a lineage graph down to the staging models that read it.
    page = ""
    for _ in range(5):
        page = rendered(browser, f"{group}/demo_wms")
        if "Lineage" in page and "order_hdr" in page:
            break
        time.sleep(2)
    assert "demo_wms Asset Group in orchestration.location" in page, page[:2000]
    nodes = set(page.split())
    missing = [entity for entity in ENTITIES if entity not in nodes]
    assert not missing, f"not on the asset graph: {missing}"
    assert {"stg_wms__order_hdr", "stg_wms__inventory_history"} <= nodes
    marts = set(rendered(browser, f"{group}/demo_marts").split())
    assert {"mart_open_orders", "mart_inventory_on_hand", "stg_wms__order_hdr"} <= marts
