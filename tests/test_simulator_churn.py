"""Live churn: deletes, background updates/inserts/deletes while a client pages."""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from datetime import datetime

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.conftest import iter_pages
from tests.test_simulator import api, assert_error


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=19, scale=1) as running:
        yield running


def test_delete_records_removes_them_and_their_lines(
    sim: Simulator, http: requests.Session
) -> None:
    lines_before = sim.result_count("order_dtl")
    counts = {
        i: http.get(api(sim, f"entity/order_hdr/{i}/")).json()["order_dtl_set"]["result_count"]
        for i in range(1, 601)
    }
    deleted = sim.delete_records("order_hdr", 7)
    assert len(set(deleted)) == 7
    for ident in deleted:
        assert_error(http.get(api(sim, f"entity/order_hdr/{ident}/")), 404, "NOT_FOUND")
        assert sim.result_count("order_dtl", order_id=str(ident)) == 0
    assert sim.result_count("order_hdr") == 593
    assert sim.result_count("order_dtl") == lines_before - sum(counts[i] for i in deleted)
    top = max([*deleted, 600])
    new = sim.insert_records("order_hdr", 1)
    assert new[0] > top  # a deleted id is never reused
    over_http = http.post(sim.admin_url + "delete", json={"entity": "item", "count": 3})
    assert over_http.status_code == 200 and len(over_http.json()["ids"]) == 3
    assert sim.result_count("item") == 197
    assert_error(
        http.post(sim.admin_url + "delete", json={"entity": "nope", "count": 1}), 404, "NOT_FOUND"
    )


def test_updates_can_share_one_timestamp(sim: Simulator, http: requests.Session) -> None:
    ids = sim.update_records("inventory", 25, same_mod_ts=True)
    query = ",".join(map(str, ids))
    page = http.get(api(sim, f"entity/inventory/?id__in={query}&page_size=100")).json()
    assert len({datetime.fromisoformat(r["mod_ts"]) for r in page["results"]}) == 1
    assert {r["mod_user"] for r in page["results"]} == {"SIM_UPDATE"}


@pytest.mark.parametrize("ordering", ["mod_ts", "id"])
def test_sequenced_paging_under_background_churn(
    sim: Simulator, http: requests.Session, ordering: str
) -> None:
    """Like a database cursor: a record that did not change is returned exactly once."""
    sim.start_churn("inventory", 400, updates=True, inserts=True, deletes=True, same_mod_ts=True)
    url: str | None = api(
        sim, f"entity/inventory/?page_mode=sequenced&ordering={ordering}&page_size=100&fields=id"
    )
    seen: collections.Counter[int] = collections.Counter()
    touched: dict[str, list[int]] = {}
    for pages, page in enumerate(iter_pages(http, url), start=1):
        seen.update(r["id"] for r in page["results"])
        if pages == 20:  # stop before the end, so every change happened ahead of the cursor
            touched = sim.stop_churn()
        time.sleep(0.03)  # give the churn time to act between pages
    updated, inserted, deleted = (set(touched[k]) for k in ("updated", "inserted", "deleted"))
    assert len(updated) > 50 and len(inserted) > 20 and len(deleted) > 20
    unchanged = set(range(1, 3001)) - updated - deleted
    assert all(seen[i] == 1 for i in unchanged), [i for i in unchanged if seen[i] != 1][:5]
    assert all(seen[i] <= 1 for i in deleted - updated)
    if ordering == "mod_ts":  # a change moves the record behind the cursor: it comes (again)
        assert all(seen[i] >= 1 for i in (updated | inserted) - deleted)
    for ident in list(deleted)[:20]:
        assert http.get(api(sim, f"entity/inventory/{ident}/")).status_code == 404


def test_churn_over_http(sim: Simulator, http: requests.Session) -> None:
    started = http.post(
        sim.admin_url + "churn",
        json={"entity": "order_hdr", "per_second": 200, "inserts": False, "same_mod_ts": False},
    )
    assert started.status_code == 200
    time.sleep(0.5)
    touched = http.delete(sim.admin_url + "churn").json()
    assert set(touched) == {"updated", "inserted", "deleted"}
    assert len(touched["updated"]) >= 30 and touched["inserted"] == touched["deleted"] == []
    time.sleep(0.2)
    assert sim.stop_churn() == {"updated": [], "inserted": [], "deleted": []}  # it has stopped
    bad = http.post(sim.admin_url + "churn", json={"entity": "order_hdr", "per_second": -1})
    assert_error(bad, 400, "VALIDATION_ERROR")
