"""Schema drift: `add_field` / `POST /_sim/fields`, per simulator, over real HTTP."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from oracle_wms_sim import Simulator
from oracle_wms_sim.data.entities import ENTITIES
from tests.test_simulator import assert_error

AUTH = ("demo", "demo")


def get(http: requests.Session, sim: Simulator, path: str, **params: Any) -> Any:
    response = http.get(f"{sim.api_url}{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_added_field_shows_in_one_simulator_only(http: requests.Session) -> None:
    with Simulator(seed=3) as one, Simulator(seed=3) as other:
        one.add_field("item", "shelf_life_days", kind="integer")
        one.add_field("item", "colour", default="red", max_length=10)
        described = get(http, one, "entity/item/describe/")
        assert described["fields"]["colour"] == {
            "type": "string",
            "required": "N",
            "allow_blank": True,
            "max_length": 10,
            "default": "red",
        }
        assert described["fields"]["shelf_life_days"]["type"] == "integer"
        assert list(described["fields"])[-2:] == ["shelf_life_days", "colour"]
        assert {"colour", "shelf_life_days"} <= set(described["parameters"])
        page = get(http, one, "entity/item/", page_size=50, ordering="id")["results"]
        assert all(r["colour"] == "red" for r in page)
        assert [r["shelf_life_days"] for r in page] == [r["id"] for r in page]  # from the id
        single = get(http, one, "entity/item/7/", fields="id,colour")
        assert single == {"id": 7, "colour": "red"}
        # filters, ordering and values_list know the field
        assert get(http, one, "entity/item/", colour="red", page_size=1)["result_count"] == 200
        assert one.result_count("item", shelf_life_days__lte="10") == 10
        top = get(http, one, "entity/item/", ordering="-shelf_life_days", page_size=1)
        assert top["results"][0]["id"] == 200
        values = get(http, one, "entity/item/", values_list="id,colour:c", page_size=1)
        assert values["results"] == [{"id": 1, "c": "red"}]

        # the other simulator, running at the same time, never heard of it
        untouched = get(http, other, "entity/item/describe/")["fields"]
        assert "colour" not in untouched and "shelf_life_days" not in untouched
        assert "colour" not in get(http, other, "entity/item/1/")
        bad = http.get(f"{other.api_url}entity/item/", params={"colour": "red"})
        assert "colour" in assert_error(bad, 400, "VALIDATION_ERROR")["details"]
    assert "colour" not in ENTITIES["item"].by_name  # the shared catalogue is untouched
    with Simulator(seed=3) as later:
        assert "colour" not in get(http, later, "entity/item/describe/")["fields"]


def test_fields_over_http_kinds_relations_and_new_records(http: requests.Session) -> None:
    with Simulator(seed=4) as sim:
        for spec in (
            {"entity": "order_hdr", "name": "carbon_kg", "kind": "decimal", "default": "2.5"},
            {"entity": "order_hdr", "name": "gift_flg", "kind": "boolean"},
            {"entity": "order_hdr", "name": "promised_date", "kind": "date"},
            {"entity": "order_hdr", "name": "promised_ts", "kind": "datetime"},
            {"entity": "order_hdr", "name": "channel", "max_length": 6},
        ):
            added = http.post(sim.admin_url + "fields", json=spec)
            assert added.status_code == 200, added.text
        order = get(http, sim, "entity/order_hdr/2/")
        assert order["carbon_kg"] == "2.500" and order["gift_flg"] is False
        assert order["channel"] == "CHANNE"  # deterministic, cut to max_length
        datetime.fromisoformat(order["promised_ts"])
        assert order["promised_ts"] == order["create_ts"]
        assert len(order["promised_date"]) == 10
        assert get(http, sim, "entity/order_hdr/3/")["gift_flg"] is True
        # through a relation: order_dtl filtered on its header's new field
        gifts = get(http, sim, "entity/order_dtl/", order_id__gift_flg="true", page_size=1250)
        assert gifts["results"] and all(r["order_id"]["id"] % 2 for r in gifts["results"])
        assert gifts["result_count"] + sim.result_count(
            "order_dtl", order_id__gift_flg="false"
        ) == (sim.result_count("order_dtl"))
        with_lines = get(http, sim, "entity/order_hdr/", order_dtl__isnull="false", gift_flg="0")
        assert all(r["gift_flg"] is False for r in with_lines["results"])
        # records inserted later carry the field too
        (new_id,) = sim.insert_records("order_hdr", 1)
        assert get(http, sim, f"entity/order_hdr/{new_id}/")["carbon_kg"] == "2.500"


def test_bad_field_specs_and_repeats(http: requests.Session) -> None:
    with Simulator(seed=5) as sim:
        url = sim.admin_url + "fields"
        assert_error(http.post(url, json={"entity": "nope", "name": "x"}), 404, "NOT_FOUND")
        for spec, field in (
            ({"entity": "item", "name": "Bad Name"}, "name"),
            ({"entity": "item", "name": "code"}, "name"),  # already a field
            ({"entity": "item", "name": "x", "kind": "blob"}, "kind"),
            ({"entity": "order_status", "name": "x", "kind": "datetime"}, "kind"),
            ({"entity": "item", "name": "x", "kind": "integer", "default": "abc"}, "default"),
            ({"entity": "item", "name": "x", "max_length": 2, "default": "long"}, "default"),
        ):
            body = assert_error(http.post(url, json=spec), 400, "VALIDATION_ERROR")
            assert field in body["details"], (spec, body)
        assert_error(http.post(url, json={"name": "x"}), 400, "VALIDATION_ERROR")
        sim.add_field("item", "grade", default="A")
        sim.add_field("item", "grade", default="A")  # the same field again: nothing to do
        with pytest.raises(Exception, match="already has"):
            sim.add_field("item", "grade", default="B")
        assert get(http, sim, "entity/item/1/")["grade"] == "A"


def test_added_fields_survive_a_restart_and_custom_ones_are_writable(
    http: requests.Session, tmp_path: Path
) -> None:
    db = tmp_path / "wms.sqlite"
    with Simulator(seed=6, db_path=db) as first:
        first.add_field("order_hdr", "cust_field_9", default="init")
        first.add_field("order_hdr", "route_code")
        order_nbr, _ = first.order_with_lines("F1")
        open_order = get(http, first, "entity/order_hdr/", order_nbr=order_nbr)["results"][0]
        refused = http.patch(
            f"{first.api_url}entity/order_hdr/{open_order['id']}/",
            json={"fields": {"route_code": "R1"}},
        )
        assert "route_code" in assert_error(refused, 400, "VALIDATION_ERROR")["details"]
        changed = http.patch(
            f"{first.api_url}entity/order_hdr/{open_order['id']}/",
            json={"fields": {"cust_field_9": "x" * 51}},
        )
        assert "cust_field_9" in assert_error(changed, 400, "VALIDATION_ERROR")["details"]
        ok = http.patch(
            f"{first.api_url}entity/order_hdr/{open_order['id']}/",
            json={"fields": {"cust_field_9": "changed"}},
        )
        assert ok.status_code == 200 and ok.json()["cust_field_9"] == "changed"
    with Simulator(seed=6, db_path=db) as second:
        fields = get(http, second, "entity/order_hdr/describe/")["fields"]
        assert fields["cust_field_9"]["default"] == "init" and "route_code" in fields
        again = get(http, second, f"entity/order_hdr/{open_order['id']}/")
        assert again["cust_field_9"] == "changed"
        assert get(http, second, "entity/order_hdr/1/")["route_code"] == "ROUTE_CODE-1"
