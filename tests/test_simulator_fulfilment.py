"""Waves, pick confirm, ship and receive on the simulator over real HTTP (docs/api-contract.md
section L). Expected quantities are computed here from rows the test reads or creates, never by
the simulator's own code."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_simulator import assert_error

AUTH = ("demo", "demo")
ACTIVE = 1
PICKED, PACKED, SHIPPED = 50, 60, 80


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A simulator of its own per test: every test here moves stock. Waves complete at once
    unless a test says otherwise."""
    # mod_ts read back and filtered on at microseconds: a reading Oracle leaves open (D18)
    with Simulator(
        seed=11, scale=1, wave_seconds=0, pick_delay=0.05, whole_second_filters=False
    ) as running:
        yield running


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = AUTH
        yield session


def url(sim: Simulator, path: str) -> str:
    return f"{sim.api_url}{path}"


def rows(http: requests.Session, sim: Simulator, entity: str, **filters: Any) -> list[Any]:
    """Every matching record ([] for the empty-list 404), ordered by id."""
    params = {"page_size": 1250, "ordering": "id", **filters}
    found: list[Any] = []
    next_url: str | None = url(sim, f"entity/{entity}/")
    while next_url:
        response = http.get(next_url, params=params if not found else None)
        if response.status_code == 404:
            break
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend(page["results"])
        next_url = page["next_page"]
    return found


def one(http: requests.Session, sim: Simulator, entity: str, ident: int) -> Any:
    response = http.get(url(sim, f"entity/{entity}/{ident}/"))
    assert response.status_code == 200, response.text
    return response.json()


def qty(value: str) -> Decimal:
    return Decimal(value)


def stage_order(
    http: requests.Session, sim: Simulator, nbr: str, lines: list[tuple[str, str]]
) -> tuple[int, list[int]]:
    """Create an order in F1 through the stage interface (synchronously): (id, line ids)."""
    body = {
        "header": {
            "document_version": "25D",
            "origin_system": "tests",
            "entity": "order",
            "messageid": nbr,
            "facility_code": "F1",
            "company_code": "C1",
        },
        "stage_order_list": [
            {
                "action_code": "CREATE",
                "order_nbr": nbr,
                "ord_date": "2026-11-20",
                "order_type": "STD",
                "stage_order_dtl_list": [
                    {"seq_nbr": n + 1, "item_code": item, "ord_qty": ordered}
                    for n, (item, ordered) in enumerate(lines)
                ],
            }
        ],
        "async_flg": False,
    }
    assert http.post(url(sim, "stage/order/"), json=body).status_code == 200
    (order,) = rows(http, sim, "order_hdr", order_nbr=nbr)
    return order["id"], [line["id"] for line in rows(http, sim, "order_dtl", order_id=order["id"])]


def free_by_location(http: requests.Session, sim: Simulator, item_id: int) -> dict[str, Decimal]:
    """What each active F1 location can still give of the item, from the rows over HTTP: its
    unlocked, container-less on-hand less the open part of Created/In Picking allocations."""
    stock = rows(
        http, sim, "inventory", facility_id=1, item_id=item_id, container_id__isnull="true",
        lock_flg="false",
    )  # fmt: skip
    on_hand: dict[int, Decimal] = defaultdict(Decimal)
    for row in stock:
        if row["location_id"] is not None:
            on_hand[row["location_id"]["id"]] += qty(row["curr_qty"])
    if not on_hand:
        return {}
    active = {
        loc["id"]: loc["barcode"]
        for loc in rows(
            http, sim, "location", id__in=",".join(map(str, on_hand)), location_type_id=ACTIVE
        )
    }
    reserved: dict[int, Decimal] = defaultdict(Decimal)
    for alloc in rows(
        http, sim, "allocation", facility_id=1, item_id=item_id, status_id__in="0,10"
    ):
        reserved[alloc["from_location_id"]["id"]] += qty(alloc["alloc_qty"]) - qty(
            alloc["packed_qty"]
        )
    free = {}
    for location, held in on_hand.items():
        if location in active and held - reserved[location] > 0:
            free[active[location]] = held - reserved[location]
    return free


def item_of(http: requests.Session, sim: Simulator, code: str) -> Any:
    (item,) = rows(http, sim, "item", code=code)
    return item


def wait_wave(http: requests.Session, sim: Simulator, run_nbr: int, status: int = 90) -> Any:
    """Poll the wave (Oracle: poll the wave entity by run number) until it has `status`."""
    deadline = time.monotonic() + 20
    while True:
        (wave,) = rows(http, sim, "wave", run_nbr=run_nbr, facility_id__code="F1")
        if wave["status_id"] == status:
            return wave
        assert time.monotonic() < deadline, f"wave {run_nbr} still {wave['status_id']}"
        time.sleep(0.05)


def manual_wave(http: requests.Session, sim: Simulator, line_ids: list[int]) -> Any:
    response = http.post(
        url(sim, "entity/wave_template/run_manual/"),
        json={
            "parameters": {"facility_id__code": "F1", "template_name": "TPL-F1-ALL"},
            "options": {"order_dtl_id_list": line_ids},
        },
    )
    assert response.status_code == 202, response.text
    return wait_wave(http, sim, response.json()["run_nbr"])


def pick(http: requests.Session, sim: Simulator, **fields: Any) -> requests.Response:
    body = {"facility_id__code": "F1", "company_id__code": "C1", **fields}
    return http.post(url(sim, "pick_pack/pick_confirm/"), json=body)


def history(
    http: requests.Session, sim: Simulator, activity: int, status: int, container: str
) -> list[Any]:
    return rows(
        http, sim, "inventory_history", company_id__code="C1", facility_id__code="F1",
        history_activity_id=activity, status_id=status, container_nbr=container,
    )  # fmt: skip


def allocated_order(
    http: requests.Session, sim: Simulator, nbr: str, ordered: str = "3"
) -> tuple[int, int, list[dict[str, Any]], str, str]:
    """An order of one line for an item stocked in an active F1 location, allocated by a
    manual wave: (order id, line id, the wave's allocations, item code, wave run number)."""
    _, code, _ = sim.active_location_with_inventory("F1")
    order, (line,) = stage_order(http, sim, nbr, [(code, ordered)])
    wave = manual_wave(http, sim, [line])
    allocs = rows(http, sim, "allocation", wave_id=wave["id"])
    assert allocs, "the wave allocated nothing"
    return order, line, allocs, code, str(wave["run_nbr"])


# ---- waves ----------------------------------------------------------------------------------
def test_a_wave_allocates_exactly_the_available_active_inventory(
    sim: Simulator, http: requests.Session
) -> None:
    _, code, _ = sim.active_location_with_inventory("F1")
    item = item_of(http, sim, code)
    free = free_by_location(http, sim, item["id"])
    total = sum(free.values(), Decimal(0))
    assert total > 0
    order, (line,) = stage_order(http, sim, "WAVE-ALL", [(code, str(total + 5))])
    before = one(http, sim, "order_hdr", order)["mod_ts"]

    wave = manual_wave(http, sim, [line])

    allocs = rows(http, sim, "allocation", wave_id=wave["id"])
    got = {a["from_location_id"]["key"]: qty(a["alloc_qty"]) for a in allocs}
    assert got == free
    assert {a["status_id"] for a in allocs} == {0}
    assert all(a["order_dtl_id"]["id"] == line and a["task_id"] is not None for a in allocs)
    assert qty(one(http, sim, "order_dtl", line)["alloc_qty"]) == total
    assert one(http, sim, "order_hdr", order)["status_id"] == 10  # Partly Allocated
    tasks = rows(http, sim, "task", wave_id=wave["id"])
    assert len(tasks) == len(allocs) and {t["status_id"] for t in tasks} == {10}
    # the change is visible to an incremental read on mod_ts
    seen = rows(http, sim, "order_hdr", mod_ts__gt=before, id=order)
    assert [o["id"] for o in seen] == [order]

    # the same units cannot be allocated twice
    second, (other,) = stage_order(http, sim, "WAVE-NONE", [(code, "3")])
    again = manual_wave(http, sim, [other])
    assert rows(http, sim, "allocation", wave_id=again["id"]) == []
    assert qty(one(http, sim, "order_dtl", other)["alloc_qty"]) == 0
    assert one(http, sim, "order_hdr", second)["status_id"] == 0


def test_run_template_answers_202_and_refuses_a_second_run_while_one_runs(
    sim: Simulator, http: requests.Session
) -> None:
    template = {"facility_id__code": "F1", "template_name": "TPL-F1-RUSH"}
    (tpl,) = rows(http, sim, "wave_template", template_name="TPL-F1-RUSH")
    orders = rows(http, sim, "order_hdr", facility_id=1, order_type_id=2, status_id__in="0,10")
    lines = rows(http, sim, "order_dtl", order_id__in=",".join(str(o["id"]) for o in orders))
    demand: dict[int, Decimal] = defaultdict(Decimal)
    for line in lines:
        demand[line["item_id"]["id"]] += qty(line["ord_qty"]) - qty(line["alloc_qty"])
    supply = {item: sum(free_by_location(http, sim, item).values()) for item in demand}
    expected = {i: min(d, supply[i]) for i, d in demand.items() if min(d, supply[i]) > 0}
    assert expected
    sim.flow.wave_seconds = 3600

    first = http.post(url(sim, "entity/wave_template/run_template/"), json={"parameters": template})
    assert first.status_code == 202, first.text
    run_nbr = first.json()["run_nbr"]
    wave = wait_wave(http, sim, run_nbr, status=10)  # In Progress when the answer came
    assert wave["wave_template_id"]["id"] == tpl["id"]
    by_name = http.post(
        url(sim, "entity/wave_template/run_template/"), json={"parameters": template}
    )
    assert "template_name" in assert_error(by_name, 400, "VALIDATION_ERROR")["details"]
    by_id = http.post(url(sim, f"entity/wave_template/{tpl['id']}/run_template/"), json={})
    assert_error(by_id, 400, "VALIDATION_ERROR")

    sim.flow.wave_seconds = 0
    done = wait_wave(http, sim, run_nbr)
    got: dict[int, Decimal] = defaultdict(Decimal)
    for alloc in rows(http, sim, "allocation", wave_id=done["id"]):
        got[alloc["item_id"]["id"]] += qty(alloc["alloc_qty"])
    assert dict(got) == expected
    again = http.post(url(sim, f"entity/wave_template/{tpl['id']}/run_template/"), json={})
    assert again.status_code == 202  # the template runs again once the first wave is done


@pytest.mark.parametrize(
    ("variant", "body"), [("empty", None), ("wave_nbr", "text"), ("run_nbr", "number")]
)
def test_the_undocumented_run_answer_varies(
    sim: Simulator, http: requests.Session, variant: str, body: str | None
) -> None:
    sim.set_undocumented(run_template_answer=variant)
    response = http.post(
        url(sim, "entity/wave_template/run_template/"),
        json={"parameters": {"facility_id": 2, "template_name": "TPL-F2-ALL"}},
    )
    assert response.status_code == 202
    newest = max(w["run_nbr"] for w in rows(http, sim, "wave", facility_id=2))
    if body is None:
        assert response.content == b""
    elif body == "text":
        assert response.json() == {"wave_nbr": str(newest)}
    else:
        assert response.json() == {"run_nbr": newest}


F1_ALL = {"facility_id": 1, "template_name": "TPL-F1-ALL"}
BY_NUMBER = {"order_seq_nbr_list": [{"order_nbr": "NOPE", "seq_nbr_list": [1]}]}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("run_template/", {"parameters": {"template_name": "TPL-F1-ALL"}},
         "parameters.facility_id__code"),
        ("run_template/", {"parameters": {**F1_ALL, "template_name": "NOPE"}},
         "parameters.template_name"),
        ("run_template/", {"parameters": F1_ALL, "extra": 1}, "extra"),
        ("run_template/", {"parameters": F1_ALL, "options": {"company_code": "C2"}},
         "options.company_code"),
        ("run_manual/", {"parameters": F1_ALL, "options": {}}, "options.order_dtl_id_list"),
        ("run_manual/", {"parameters": F1_ALL, "options": {"order_dtl_id_list": []}},
         "options.order_dtl_id_list"),
        ("run_manual/", {"parameters": F1_ALL, "options": BY_NUMBER}, "options.order_seq_nbr_list"),
    ],
)  # fmt: skip
def test_bad_wave_requests_are_refused_naming_the_field(
    sim: Simulator, http: requests.Session, path: str, body: Any, field: str
) -> None:
    before = len(rows(http, sim, "wave"))
    response = http.post(url(sim, f"entity/wave_template/{path}"), json=body)
    assert field in assert_error(response, 400, "VALIDATION_ERROR")["details"]
    assert len(rows(http, sim, "wave")) == before


def test_undo_gives_the_units_back_and_is_refused_after_a_pick(
    sim: Simulator, http: requests.Session
) -> None:
    order, line, (alloc, *_), _, run_nbr = allocated_order(http, sim, "UNDO-1")
    free_before = free_by_location(http, sim, alloc["item_id"]["id"])
    response = http.post(
        url(sim, "entity/wave/undo/"),
        json={"parameters": {"facility_id__code": "F1", "run_nbr": run_nbr}},
    )
    assert response.status_code == 200, response.text
    wave_id = alloc["wave_id"]["id"]
    assert one(http, sim, "wave", wave_id)["status_id"] == 99
    assert {a["status_id"] for a in rows(http, sim, "allocation", wave_id=wave_id)} == {99}
    assert {t["status_id"] for t in rows(http, sim, "task", wave_id=wave_id)} == {99}
    assert qty(one(http, sim, "order_dtl", line)["alloc_qty"]) == 0
    assert one(http, sim, "order_hdr", order)["status_id"] == 0
    location = alloc["from_location_id"]["key"]
    after = free_by_location(http, sim, alloc["item_id"]["id"])
    assert after[location] == free_before.get(location, Decimal(0)) + qty(alloc["alloc_qty"])
    again = http.post(url(sim, f"entity/wave/{wave_id}/undo"), json={})
    assert_error(again, 400, "VALIDATION_ERROR")

    # a wave where a pick happened cannot be undone (UNDO_WAVE_EVEN_AFTER_PICKING = No)...
    _, line2, (alloc2, *_), code2, run2 = allocated_order(http, sim, "UNDO-2")
    done = pick(
        http, sim, action_code="Pick", order_nbr="UNDO-2", item_barcode=code2, qty="1",
        pick_location=alloc2["from_location_id"]["key"], to_container_nbr="OB-UNDO-2",
        async_flg=False,
    )  # fmt: skip
    assert done.status_code == 204, done.text
    undo = {"parameters": {"facility_id": 1, "run_nbr": int(run2)}}
    refused = http.post(url(sim, "entity/wave/undo/"), json=undo)
    assert "run_nbr" in assert_error(refused, 400, "VALIDATION_ERROR")["details"]
    # ... unless the company parameter says Yes: then only the unpicked rest goes back
    sim.flow.undo_wave_even_after_picking = True
    assert http.post(url(sim, "entity/wave/undo/"), json=undo).status_code == 200
    kept = one(http, sim, "allocation", alloc2["id"])
    assert (qty(kept["alloc_qty"]), kept["status_id"]) == (Decimal(1), 90)
    assert qty(one(http, sim, "order_dtl", line2)["alloc_qty"]) == 1


# ---- pick, close, ship ------------------------------------------------------------------------
def test_pick_close_ship_move_quantities_and_statuses(
    sim: Simulator, http: requests.Session
) -> None:
    order, line, allocs, code, run_nbr = allocated_order(http, sim, "FLOW-1", ordered="6")
    alloc = allocs[0]
    location = alloc["from_location_id"]["key"]
    allocated = qty(alloc["alloc_qty"])
    total = sum((qty(a["alloc_qty"]) for a in allocs), Decimal(0))
    on_hand = sim.inventory_qty("F1", location, code)
    assert on_hand is not None
    common = {"order_nbr": "FLOW-1", "item_barcode": code, "pick_location": location}

    over = pick(
        http, sim, action_code="Pick", qty=str(allocated + 1), to_container_nbr="OB-FLOW-1",
        async_flg=False, **common,
    )  # fmt: skip
    assert "qty" in assert_error(over, 400, "VALIDATION_ERROR")["details"]
    assert sim.inventory_qty("F1", location, code) == on_hand
    assert rows(http, sim, "oblpn", container_nbr="OB-FLOW-1") == []

    stamp = one(http, sim, "allocation", alloc["id"])["mod_ts"]
    first = pick(
        http, sim, action_code="Pick", qty="1", to_container_nbr="OB-FLOW-1", wave_nbr=run_nbr,
        async_flg=False, **common,
    )  # fmt: skip
    assert (first.status_code, first.content) == (204, b"")
    assert sim.inventory_qty("F1", location, code) == on_hand - 1
    now = one(http, sim, "allocation", alloc["id"])
    assert qty(now["packed_qty"]) == 1
    assert now["status_id"] == (10 if allocated > 1 else 90)
    assert [a["id"] for a in rows(http, sim, "allocation", mod_ts__gt=stamp)] == [alloc["id"]]
    (lpn,) = rows(http, sim, "oblpn", container_nbr="OB-FLOW-1")
    assert (lpn["status_id"], lpn["order_id"]["id"]) == (PICKED, order)
    if total > 1:
        assert one(http, sim, "order_hdr", order)["status_id"] == 25  # In Picking
    (picked,) = history(http, sim, 6, PICKED, "OB-FLOW-1")
    assert (qty(picked["adj_qty"]), picked["item_code"]) == (Decimal(-1), code)

    for each in allocs:  # pick the rest of every allocation of the wave into the same LPN
        left = qty(each["alloc_qty"]) - (1 if each["id"] == alloc["id"] else 0)
        if left > 0:
            rest = pick(
                http, sim, action_code="Pick", qty=str(left), to_container_nbr="OB-FLOW-1",
                async_flg=False, order_nbr="FLOW-1", item_barcode=code,
                pick_location=each["from_location_id"]["key"],
            )  # fmt: skip
            assert rest.status_code == 204, rest.text
    assert {one(http, sim, "allocation", a["id"])["status_id"] for a in allocs} == {90}
    assert one(http, sim, "order_hdr", order)["status_id"] == 30  # Picked
    assert sim.inventory_qty("F1", location, code) == on_hand - allocated

    close = pick(http, sim, action_code="Close", to_container_nbr="OB-FLOW-1", async_flg=False)
    assert close.status_code == 204, close.text
    assert one(http, sim, "oblpn", lpn["id"])["status_id"] == PACKED
    assert {one(http, sim, "allocation", a["id"])["status_id"] for a in allocs} == {91}
    assert one(http, sim, "order_hdr", order)["status_id"] == 40  # Packed

    ship = http.post(
        url(sim, "entity/oblpn/bulk_ship/"),
        json={
            "parameters": {
                "container_nbr__in": ["OB-FLOW-1"],
                "facility_id__code": "F1",
                "company_id__code": "C1",
            },
            "options": {"locn_barcode": location},
        },
    )
    assert ship.status_code == 200, ship.text
    assert one(http, sim, "oblpn", lpn["id"])["status_id"] == SHIPPED
    dtl = one(http, sim, "order_dtl", line)
    assert qty(dtl["shipped_qty"]) == qty(dtl["alloc_qty"]) == total
    assert one(http, sim, "order_hdr", order)["status_id"] == 90  # everything allocated shipped
    shipped = history(http, sim, 8, SHIPPED, "OB-FLOW-1")
    assert sum((qty(h["adj_qty"]) for h in shipped), Decimal(0)) == -total


def test_refused_picks_name_the_field_and_change_nothing(
    sim: Simulator, http: requests.Session
) -> None:
    *_, (alloc, *_), code, _ = allocated_order(http, sim, "BAD-1")
    location = alloc["from_location_id"]["key"]
    other = sim.reserve_location("F1")
    cases = [
        ({"order_nbr": "NOPE", "pick_location": location}, "order_nbr"),
        ({"order_nbr": "BAD-1", "pick_location": other}, "order_nbr"),  # no allocation there
        ({"order_nbr": "BAD-1", "pick_location": "ZZ-NONE"}, "pick_location"),
        ({"order_nbr": "BAD-1", "pick_location": location, "wave_nbr": "999"}, "wave_nbr"),
        ({"order_nbr": "BAD-1", "pick_location": location, "to_container_nbr": None},
         "to_container_nbr"),
        ({"order_nbr": "BAD-1", "pick_location": location, "colour": "red"}, "colour"),
    ]  # fmt: skip
    for fields, name in cases:
        body = {
            "action_code": "Pick", "item_barcode": code, "qty": "1", "to_container_nbr": "OB-BAD",
            "async_flg": False, **fields,
        }  # fmt: skip
        response = pick(http, sim, **{k: v for k, v in body.items() if v is not None})
        assert name in assert_error(response, 400, "VALIDATION_ERROR")["details"], fields
    assert qty(one(http, sim, "allocation", alloc["id"])["packed_qty"]) == 0
    unknown = pick(http, sim, action_code="Close", to_container_nbr="OB-NOPE", async_flg=False)
    assert "to_container_nbr" in assert_error(unknown, 400, "VALIDATION_ERROR")["details"]
    assert http.get(url(sim, "pick_pack/pick_confirm/")).status_code == 405


def test_async_pick_answers_202_then_applies_and_sync_answers_204(
    sim: Simulator, http: requests.Session
) -> None:
    *_, (alloc, *_), code, _ = allocated_order(http, sim, "ASYNC-1", ordered="2")
    common = {
        "action_code": "Pick", "order_nbr": "ASYNC-1", "item_barcode": code,
        "pick_location": alloc["from_location_id"]["key"], "to_container_nbr": "OB-ASYNC",
    }  # fmt: skip
    accepted = pick(http, sim, qty="1", **common)  # async_flg defaults to true
    assert (accepted.status_code, accepted.content) == (202, b"")
    deadline = time.monotonic() + 20
    while qty(one(http, sim, "allocation", alloc["id"])["packed_qty"]) != 1:
        assert time.monotonic() < deadline, "the accepted pick was never applied"
        time.sleep(0.05)
    # an accepted pick the WMS then refuses is not reported to the caller
    refused = pick(http, sim, qty="999", **common)
    assert refused.status_code == 202
    while not sim.jobs.failures:
        assert time.monotonic() < deadline, "the refused pick left no trace"
        time.sleep(0.05)
    assert qty(one(http, sim, "allocation", alloc["id"])["packed_qty"]) == 1
    sync = pick(http, sim, qty="1", async_flg=False, **common)
    assert (sync.status_code, sync.content) == (204, b"")
    assert qty(one(http, sim, "allocation", alloc["id"])["packed_qty"]) == 2


# ---- receive ----------------------------------------------------------------------------------
def test_receive_creates_the_iblpn_once_and_raises_received_qty(
    sim: Simulator, http: requests.Session
) -> None:
    asn = rows(http, sim, "ib_shipment", facility_id=1, status_id=0)[0]
    lines = rows(http, sim, "ib_shipment_dtl", shipment_id=asn["id"])
    first = lines[0]
    item = first["item_id"]["key"]
    same_item = [ln for ln in lines if ln["item_id"]["key"] == item]
    before = sum((qty(ln["received_qty"]) for ln in same_item), Decimal(0))
    body = {
        "facility_id__code": "F1",
        "company_id__code": "C1",
        "shipment_nbr": asn["shipment_nbr"],
        "container_nbr": "IB-RECV-1",
        "item_list": [{"item_barcode": item, "qty": "4", "batch_nbr": "LOT-9"}],
    }
    response = http.post(url(sim, "entity/iblpn/receive"), json=body)
    assert response.status_code == 200, response.text
    lpn = response.json()
    assert (lpn["container_nbr"], lpn["status_id"], lpn["shipment_id"]["id"]) == (
        "IB-RECV-1", 10, asn["id"],
    )  # fmt: skip
    (stock,) = rows(http, sim, "inventory", container_id=lpn["id"])
    assert (qty(stock["curr_qty"]), stock["item_id"]["key"], stock["batch_nbr"]) == (
        Decimal(4), item, "LOT-9",
    )  # fmt: skip
    after = rows(
        http, sim, "ib_shipment_dtl", shipment_id=asn["id"], item_id=first["item_id"]["id"]
    )
    assert sum((qty(ln["received_qty"]) for ln in after), Decimal(0)) == before + 4
    assert one(http, sim, "ib_shipment", asn["id"])["status_id"] in (10, 30)
    (receipt,) = history(http, sim, 1, 10, "IB-RECV-1")
    assert qty(receipt["adj_qty"]) == 4

    again = http.post(url(sim, "entity/iblpn/receive/"), json=body)
    assert "container_nbr" in assert_error(again, 400, "VALIDATION_ERROR")["details"]
    again_lines = rows(
        http, sim, "ib_shipment_dtl", shipment_id=asn["id"], item_id=first["item_id"]["id"]
    )
    assert again_lines == after
    assert len(rows(http, sim, "inventory", container_id=lpn["id"])) == 1

    on_asn = {ln["item_id"]["id"] for ln in lines}
    stranger = next(i for i in rows(http, sim, "item", company_id=1) if i["id"] not in on_asn)
    wrong = {
        **body,
        "container_nbr": "IB-RECV-2",
        "item_list": [{"item_barcode": stranger["code"], "qty": "1"}],
    }
    refused = http.post(url(sim, "entity/iblpn/receive"), json=wrong)
    assert "item_list[0].item_barcode" in assert_error(refused, 400, "VALIDATION_ERROR")["details"]
    typo = {**body, "container_nbr": "IB-RECV-3", "facility_id_code": "F1"}
    assert (
        "facility_id_code"
        in assert_error(
            http.post(url(sim, "entity/iblpn/receive"), json=typo), 400, "VALIDATION_ERROR"
        )["details"]
    )
    assert rows(http, sim, "iblpn", container_nbr__in="IB-RECV-2,IB-RECV-3") == []


# ---- faults: applied, answer lost -------------------------------------------------------------
def test_lost_answers_and_409_on_the_flow_posts(sim: Simulator, http: requests.Session) -> None:
    *_, (alloc, *_), code, _ = allocated_order(http, sim, "LOST-1")
    body = {
        "action_code": "Pick", "order_nbr": "LOST-1", "item_barcode": code, "qty": "1",
        "pick_location": alloc["from_location_id"]["key"], "to_container_nbr": "OB-LOST",
        "async_flg": False,
    }  # fmt: skip
    sim.add_fault("409", next=1, path_contains="pick_confirm")
    assert_error(pick(http, sim, **body), 409, "RECORD_CHANGED")
    assert qty(one(http, sim, "allocation", alloc["id"])["packed_qty"]) == 0  # not applied
    sim.add_fault("lost_response", next=1, path_contains="pick_confirm")
    with pytest.raises(requests.ConnectionError):
        pick(http, sim, **body)
    assert qty(one(http, sim, "allocation", alloc["id"])["packed_qty"]) == 1  # applied

    waves_before = len(rows(http, sim, "wave", facility_id=1))
    sim.add_fault("lost_response", next=1, path_contains="run_template")
    with pytest.raises(requests.ConnectionError):
        http.post(
            url(sim, "entity/wave_template/run_template/"),
            json={"parameters": {"facility_id": 1, "template_name": "TPL-F1-ECOM"}},
        )
    assert len(rows(http, sim, "wave", facility_id=1)) == waves_before + 1

    asn = rows(http, sim, "ib_shipment", facility_id=1, status_id=0)[0]
    (first, *_) = rows(http, sim, "ib_shipment_dtl", shipment_id=asn["id"])
    receipt = {
        "facility_id": 1, "company_id": 1, "shipment_nbr": asn["shipment_nbr"],
        "container_nbr": "IB-LOST",
        "item_list": [{"item_barcode": first["item_id"]["key"], "qty": 2}],
    }  # fmt: skip
    sim.add_fault("lost_response", next=1, path_contains="iblpn/receive")
    with pytest.raises(requests.ConnectionError):
        http.post(url(sim, "entity/iblpn/receive"), json=receipt)
    assert len(rows(http, sim, "iblpn", container_nbr="IB-LOST")) == 1
    resent = http.post(url(sim, "entity/iblpn/receive"), json=receipt)
    assert "container_nbr" in assert_error(resent, 400, "VALIDATION_ERROR")["details"]


def test_receive_against_a_po_creates_its_shipment_and_raises_the_po_line(
    sim: Simulator, http: requests.Session
) -> None:
    po = rows(http, sim, "purchase_order_hdr", facility_id=1, status_id=0)[0]
    first = rows(http, sim, "purchase_order_dtl", po_id=po["id"])[0]
    item = first["item_id"]["key"]
    before = sum(
        (qty(ln["received_qty"]) for ln in rows(http, sim, "purchase_order_dtl", po_id=po["id"])
         if ln["item_id"]["key"] == item),
        Decimal(0),
    )  # fmt: skip
    assert rows(http, sim, "ib_shipment", shipment_nbr=po["po_nbr"]) == []
    body = {
        "facility_id": 1, "company_id__code": "C1", "po_nbr": po["po_nbr"],
        "container_nbr": "IB-PO-1", "item_list": [{"item_barcode": item, "qty": "3"}],
    }  # fmt: skip
    response = http.post(url(sim, "entity/iblpn/receive"), json=body)
    assert response.status_code == 200, response.text
    (asn,) = rows(http, sim, "ib_shipment", shipment_nbr=po["po_nbr"])
    assert response.json()["shipment_id"]["id"] == asn["id"]
    after = [
        ln for ln in rows(http, sim, "purchase_order_dtl", po_id=po["id"])
        if ln["item_id"]["key"] == item
    ]  # fmt: skip
    assert sum((qty(ln["received_qty"]) for ln in after), Decimal(0)) == before + 3
    assert one(http, sim, "purchase_order_hdr", po["id"])["status_id"] in (10, 30)
    sim.set_undocumented(receive_answer="empty")
    second = http.post(url(sim, "entity/iblpn/receive"), json={**body, "container_nbr": "IB-PO-2"})
    assert (second.status_code, second.content) == (204, b"")
    assert len(rows(http, sim, "iblpn", shipment_id=asn["id"])) == 2


def test_manual_wave_by_order_and_line_numbers_and_a_short(
    sim: Simulator, http: requests.Session
) -> None:
    _, code, _ = sim.active_location_with_inventory("F1")
    order, (line,) = stage_order(http, sim, "SEQ-1", [(code, "2")])
    response = http.post(
        url(sim, "entity/wave_template/1/run_manual/"),
        json={"options": {"order_seq_nbr_list": [{"order_nbr": "SEQ-1", "seq_nbr_list": [1]}]}},
    )
    assert response.status_code == 202, response.text
    wave = wait_wave(http, sim, response.json()["run_nbr"])
    (alloc, *_) = rows(http, sim, "allocation", wave_id=wave["id"])
    assert alloc["order_dtl_id"]["id"] == line
    allocated = qty(one(http, sim, "order_dtl", line)["alloc_qty"])
    short = pick(
        http, sim, action_code="Pick", short_flg=True, order_nbr="SEQ-1", item_barcode=code,
        qty="1", pick_location=alloc["from_location_id"]["key"], async_flg=False,
    )  # fmt: skip
    assert short.status_code == 204, short.text
    assert (
        qty(one(http, sim, "allocation", alloc["id"])["alloc_qty"]) == qty(alloc["alloc_qty"]) - 1
    )
    assert qty(one(http, sim, "order_dtl", line)["alloc_qty"]) == allocated - 1
    assert qty(one(http, sim, "allocation", alloc["id"])["packed_qty"]) == 0
    assert one(http, sim, "order_hdr", order)["status_id"] in (0, 10)
