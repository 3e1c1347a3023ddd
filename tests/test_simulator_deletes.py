"""Rows that disappear from the simulator as from a WMS (docs/api-contract.md section M): the
scheduled purge by age of the tables Oracle lists, and inventory removed at zero (an
undocumented reading, off by default). The stage DELETE of an order is in
test_simulator_stage.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_simulator import api
from tests.test_simulator_writes import adjust, location_id, one


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(seed=23, scale=1) as running:
        yield running


def _history_created(sim: Simulator) -> list[tuple[int, datetime]]:
    """(id, create_ts) of every history row, read from the store's table (never from the purge
    code; the API lists history only through required filter combinations)."""
    rows = sim.store.reader().execute("SELECT id, create_ts FROM inventory_history").fetchall()
    return [(int(i), datetime.fromisoformat(c).replace(tzinfo=UTC)) for i, c in rows]


def test_purge_deletes_history_older_than_five_years_at_the_given_instant(
    sim: Simulator, http: requests.Session
) -> None:
    before = _history_created(sim)
    assert len(before) == sim.result_count("inventory_history")  # the combinations cover all
    as_of = max(created for _, created in before) + timedelta(days=5 * 366 - 40)
    cutoff = as_of.replace(year=as_of.year - 5, day=min(as_of.day, 28))
    older = {ident for ident, created in before if created < cutoff}
    assert 0 < len(older) < len(before)

    response = http.post(sim.admin_url + "purge", json={"as_of": as_of.isoformat()})
    assert response.status_code == 200, response.text
    assert set(response.json()["purged"]["inventory_history"]) == older
    after = {ident for ident, _ in _history_created(sim)}
    assert after == {ident for ident, _ in before} - older
    gone = min(older)
    assert http.get(api(sim, f"entity/inventory_history/{gone}/")).status_code == 404
    # nothing else is purged: the other tables are not in Oracle's list
    assert sim.result_count("order_hdr") == 600


def test_purge_now_keeps_recent_history_and_a_shorter_retention_purges_more(
    sim: Simulator, http: requests.Session
) -> None:
    total = sim.result_count("inventory_history")
    assert sim.purge() == {"inventory_history": []}  # generated history is months old
    assert sim.result_count("inventory_history") == total
    one_year_on = datetime.now(UTC) + timedelta(days=300)
    purged = sim.purge(one_year_on, retention_years=1)["inventory_history"]
    assert purged and sim.result_count("inventory_history") == total - len(purged)
    bad = http.post(sim.admin_url + "purge", json={"retention_years": 9})
    assert bad.status_code == 400 and "retention_years" in bad.json()["message"]


@pytest.mark.parametrize("removed", [False, True])
def test_inventory_at_zero_stays_by_default_and_goes_with_the_reading(
    sim: Simulator, http: requests.Session, removed: bool
) -> None:
    if removed:
        sim.set_undocumented(zero_inventory_removed=True)
    barcode, item, qty = sim.active_location_with_inventory("F1")
    loc = location_id(http, sim, barcode, "F1")
    row = one(http, sim, "inventory", location_id=loc, item_id__code=item)
    emptied = adjust(http, sim, loc, item_code=item, adjustment_qty=f"-{qty}", reason_code="CC")
    assert emptied.status_code == 200, emptied.text
    answer = http.get(api(sim, f"entity/inventory/{row['id']}/"))
    if removed:
        assert answer.status_code == 404
        # the id is never handed out again: new inventory gets a higher one
        again = adjust(http, sim, loc, item_code=item, adjustment_qty="3", reason_code="CC")
        assert again.json()["inventory_id"] > row["id"]
    else:
        assert answer.status_code == 200 and answer.json()["curr_qty"] == "0.000"
