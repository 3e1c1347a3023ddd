"""docs/api-contract.md rows re-read for issue 24, on the simulator over plain HTTP: pick
confirm's documented forms (L10), its documented fields and `short_flg` (L11), Close LPN and
Wave Complete (L14), Receive's expiry flags (L16), Run Manual Wave's company (L8), batch_number
and inventory creates (G2, G3), PATCH on the listed entities only (H1) and `distinct` without
`ordering` (D14). Expected values come from Oracle's pages (cited in the contract) and from
reads before the write, never from the code under test.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_contract_reads import _db
from tests.test_simulator import assert_error
from tests.test_simulator_fulfilment import (
    PACKED,
    allocated_order,
    one,
    rows,
    stage_order,
    url,
    wait_wave,
)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A simulator of its own per test (as test_simulator_fulfilment's: waves complete at once)."""
    with Simulator(seed=11, scale=1, wave_seconds=0, pick_delay=0.05) as running:
        yield running


@pytest.fixture
def http(sim: Simulator) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = (sim.username, sim.password)
        yield session


def details(response: requests.Response) -> dict[str, str]:
    return assert_error(response, 400, "VALIDATION_ERROR")["details"]  # type: ignore[no-any-return]


def pick_of(alloc: dict[str, Any], order_nbr: str, code: str, **extra: Any) -> dict[str, Any]:
    return {
        "facility_id__code": "F1",
        "company_id__code": "C1",
        "action_code": "Pick",
        "order_nbr": order_nbr,
        "item_barcode": code,
        "pick_location": alloc["from_location_id"]["key"],
        **extra,
    }


def packed(http: requests.Session, sim: Simulator, alloc: dict[str, Any]) -> Decimal:
    return Decimal(one(http, sim, "allocation", alloc["id"])["packed_qty"])


def test_l10_a_pick_list_confirms_several_allocations_and_a_first_refusal_stops_it(
    sim: Simulator, http: requests.Session
) -> None:
    *_, (a, *_), code_a, _ = allocated_order(http, sim, "LIST-A")
    *_, (b, *_), code_b, _ = allocated_order(http, sim, "LIST-B")
    endpoint = url(sim, "pick_pack/pick_confirm/")
    both = {
        "pick_list": [
            pick_of(a, "LIST-A", code_a, qty="1", to_container_nbr="OB-LIST-A"),
            pick_of(b, "LIST-B", code_b, qty="1", to_container_nbr="OB-LIST-B"),
        ],
        "mhe_mode_flg": False,
        "async_flg": False,
    }
    done = http.post(endpoint, json=both)
    assert (done.status_code, done.content) == (204, b""), done.text
    assert (packed(http, sim, a), packed(http, sim, b)) == (1, 1)

    too_much = str(Decimal(a["alloc_qty"]) + 5)
    good_a, good_b = both["pick_list"]
    first_bad = {**both, "pick_list": [{**good_a, "qty": too_much}, good_b]}
    assert "qty" in details(http.post(endpoint, json=first_bad))
    assert packed(http, sim, b) == 1, "a refused first pick stops the rest (REST 25C)"

    later_bad = {**both, "pick_list": [good_b, {**good_a, "qty": too_much}]}
    assert "qty" in details(http.post(endpoint, json=later_bad))
    assert packed(http, sim, b) == 2, "the picks before a later refusal stay applied"
    assert packed(http, sim, a) == 1

    unknown = {**both, "pick_list": [{**good_a, "colour": "red"}], "extra": 1}
    assert set(details(http.post(endpoint, json=unknown))) == {"pick_list[0].colour", "extra"}
    assert "pick_list" in details(http.post(endpoint, json={"pick_list": [], "async_flg": False}))


def test_l10_one_pick_in_the_query_string(sim: Simulator, http: requests.Session) -> None:
    """The practitioner's OpenAPI (2020) declares every pick_confirm field `in: query`."""
    *_, (alloc, *_), code, _ = allocated_order(http, sim, "QUERY-1")
    params = {
        **pick_of(alloc, "QUERY-1", code, qty="1", to_container_nbr="OB-QUERY-1"),
        "async_flg": "false",
    }
    done = http.post(url(sim, "pick_pack/pick_confirm/"), params=params)
    assert done.status_code == 204, done.text
    assert packed(http, sim, alloc) == 1
    twice = http.post(url(sim, "pick_pack/pick_confirm/"), params=params, json={"qty": "1"})
    assert set(details(twice)) == {"qty"}
    assert packed(http, sim, alloc) == 1


def test_l11_documented_pick_fields_are_taken_and_short_flg_shorts(
    sim: Simulator, http: requests.Session
) -> None:
    *_, (alloc, *_), code, _ = allocated_order(http, sim, "FIELDS-1", ordered="4")
    allocated = Decimal(alloc["alloc_qty"])
    assert allocated >= 2
    endpoint = url(sim, "pick_pack/pick_confirm/")
    documented = pick_of(
        alloc, "FIELDS-1", code, qty="1", to_container_nbr="OB-FIELDS-1", async_flg=False,
        allocation_uom="UNITS", uom_qty="1", batch_nbr="LOT-1", short_on_close_flg=False,
        update_inventory_on_short_flg=False, short_flg=False,
    )  # fmt: skip
    done = http.post(endpoint, json=documented)
    assert done.status_code == 204, done.text
    assert packed(http, sim, alloc) == 1
    cases = details(http.post(endpoint, json={**documented, "allocation_uom": "CASES"}))
    assert "unknown" not in cases["allocation_uom"]

    short = pick_of(alloc, "FIELDS-1", code, qty="1", short_flg=True, async_flg=False)
    assert http.post(endpoint, json=short).status_code == 204  # no to_container_nbr for a short
    after = one(http, sim, "allocation", alloc["id"])
    assert Decimal(after["alloc_qty"]) == allocated - 1
    assert Decimal(after["packed_qty"]) == 1


def test_l14_close_lpn_and_wave_complete_have_their_own_endpoints(
    sim: Simulator, http: requests.Session
) -> None:
    *_, (alloc, *_), code, run_nbr = allocated_order(http, sim, "CLOSE-1", ordered="4")
    allocated = Decimal(alloc["alloc_qty"])
    assert allocated >= 2
    body = pick_of(alloc, "CLOSE-1", code, qty="1", to_container_nbr="OB-CLOSE-1", async_flg=False)
    assert http.post(url(sim, "pick_pack/pick_confirm/"), json=body).status_code == 204
    close_lpn = url(sim, "pick_pack/close_lpn/")
    assert set(
        details(http.post(close_lpn, json={"facility_id__code": "F1", "action_code": "Close"}))
    ) == {
        "action_code",
        "to_container_nbr",
    }
    close = {"facility_id__code": "F1", "to_container_nbr": "OB-CLOSE-1", "async_flg": "false"}
    closed = http.post(close_lpn, params={**close, "short_on_close_flg": "true"})
    assert (closed.status_code, closed.content) == (204, b""), closed.text
    (lpn,) = rows(http, sim, "oblpn", container_nbr="OB-CLOSE-1")
    assert lpn["status_id"] == PACKED
    after = one(http, sim, "allocation", alloc["id"])
    assert Decimal(after["alloc_qty"]) == Decimal(after["packed_qty"]) == 1, "the rest shorted"
    assert after["status_id"] == 91

    complete = url(sim, "pick_pack/wave_complete/")
    done = http.post(
        complete, json={"facility_id__code": "F1", "wave_nbr": run_nbr, "async_flg": False}
    )
    assert done.status_code == 204, done.text
    assert "wave_nbr" in details(
        http.post(complete, json={"facility_id__code": "F1", "wave_nbr": "999", "async_flg": False})
    )
    assert (
        http.post(complete, params={"facility_id__code": "F1", "wave_nbr": run_nbr}).status_code
        == 202
    )  # async default

    sim.set_undocumented(legacy_action_codes=False)
    legacy = {"facility_id__code": "F1", "action_code": "Complete", "wave_nbr": run_nbr}
    refused = details(http.post(url(sim, "pick_pack/pick_confirm/"), json=legacy))
    assert "wave_complete" in refused["action_code"]


def test_l16_receive_takes_the_expiry_override_flags(
    sim: Simulator, http: requests.Session
) -> None:
    asn = rows(http, sim, "ib_shipment", facility_id=1, status_id=0)[0]
    item = rows(http, sim, "ib_shipment_dtl", shipment_id=asn["id"])[0]["item_id"]["key"]
    body = {
        "facility_id__code": "F1",
        "company_id__code": "C1",
        "shipment_nbr": asn["shipment_nbr"],
        "container_nbr": "IB-FLAGS-1",
        "allow_inv_exp_override_flg": True,
        "allow_rem_exp_override_flg": False,
        "item_list": [{"item_barcode": item, "qty": "1"}],
    }
    bad = {**body, "allow_inv_exp_override_flg": "y"}
    assert set(details(http.post(url(sim, "entity/iblpn/receive"), json=bad))) == {
        "allow_inv_exp_override_flg"
    }
    done = http.post(url(sim, "entity/iblpn/receive"), json=body)
    assert done.status_code == 200, done.text
    assert rows(http, sim, "iblpn", container_nbr="IB-FLAGS-1")


def test_l8_run_manual_takes_the_company_in_its_parameters(
    sim: Simulator, http: requests.Session
) -> None:
    _, code, _ = sim.active_location_with_inventory("F1")
    _, (line,) = stage_order(http, sim, "MANUAL-CO", [(code, "1")])
    endpoint = url(sim, "entity/wave_template/run_manual/")
    body = {
        "parameters": {
            "facility_id__code": "F1",
            "company_id__code": "C9",
            "template_name": "TPL-F1-ALL",
        },
        "options": {"order_dtl_id_list": [line]},
    }
    assert "parameters.company_id__code" in details(http.post(endpoint, json=body))
    body["parameters"]["company_id__code"] = "C1"
    ran = http.post(endpoint, json=body)
    assert ran.status_code == 202, ran.text
    wave = wait_wave(http, sim, ran.json()["run_nbr"])
    assert rows(http, sim, "allocation", order_dtl_id=line, wave_id=wave["id"])


def test_g2_batch_number_is_created_by_its_documented_fields(
    sim: Simulator, http: requests.Session
) -> None:
    (facility,) = rows(http, sim, "facility", code="F1")
    (item, *_) = rows(http, sim, "item", company_id=facility["company_id"]["id"], page_size=1)
    fields = {
        "facility_id": facility["id"],
        "company_id": facility["company_id"]["id"],
        "batch_nbr": "BATCH123",
        "item_id": item["id"],
        "expiry_date": "2027-01-01",
    }
    made = http.post(url(sim, "entity/batch_number/"), json={"fields": fields})
    assert made.status_code == 201, made.text
    again = http.post(url(sim, "entity/batch_number/"), json={"fields": fields})
    assert (again.status_code, again.json()["id"]) == (200, made.json()["id"])
    bad = {**fields, "item_id": 99999999, "expiry_date": "soon"}
    assert set(details(http.post(url(sim, "entity/batch_number/"), json={"fields": bad}))) == {
        "item_id",
        "expiry_date",
    }


def test_g3_inventory_create_takes_its_facility_and_company(
    sim: Simulator, http: requests.Session
) -> None:
    barcode, code, _ = sim.active_location_with_inventory("F1")
    (location,) = rows(http, sim, "location", barcode=barcode, facility_id__code="F1")
    (item,) = rows(http, sim, "item", code=code)
    (facility,) = rows(http, sim, "facility", code="F1")
    (other,) = rows(http, sim, "facility", code="F2")
    fields = {
        "facility_id": facility["id"],
        "company_id": facility["company_id"]["id"],
        "location_id": location["id"],
        "item_id": item["id"],
        "curr_qty": "2",
    }
    body = {"fields": fields, "options": {"reason_code": "FOUND"}}
    made = http.post(url(sim, "entity/inventory/"), json=body)
    assert made.status_code == 201, made.text
    elsewhere = {**body, "fields": {**fields, "facility_id": other["id"]}}
    assert set(details(http.post(url(sim, "entity/inventory/"), json=elsewhere))) == {"facility_id"}


def test_h1_patch_works_only_on_the_entities_oracle_lists(
    sim: Simulator, http: requests.Session
) -> None:
    """REST 23C: PATCH on "a limited number of entity resources"; [OAS2020] lists 20, not item."""
    refused = http.patch(url(sim, "entity/item/1/"), json={"fields": {"cust_field_1": "x"}})
    assert_error(refused, 405, "METHOD_NOT_ALLOWED")
    assert refused.headers["Allow"] == "GET, HEAD"
    (order, *_) = rows(http, sim, "order_hdr", status_id=0, page_size=1)
    done = http.patch(
        url(sim, f"entity/order_hdr/{order['id']}/"), json={"fields": {"cust_field_1": "x"}}
    )
    assert done.status_code == 200, done.text


def test_d14_distinct_without_ordering_is_ignored(sim: Simulator, http: requests.Session) -> None:
    """REST 25D: distinct works only with values_list and ordering, else it is ignored."""
    unordered = http.get(
        url(sim, "entity/order_dtl/"),
        params={"values_list": "order_id__order_nbr:nbr", "distinct": "true", "page_size": 5},
    ).json()
    assert unordered["result_count"] == _db(sim, "SELECT count(*) FROM order_dtl")[0][0]
