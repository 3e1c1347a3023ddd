"""docs/api-contract.md sections B-F, one test per documented row, against the real simulator.

Plain `requests` on loopback, independent of the clients: expected values are Oracle's documented
shapes written out here, never computed by the code under test. The row id is in each test name.
"""

from __future__ import annotations

import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_simulator import api, assert_error

HISTORY = "entity/inventory_history/"
SCOPE = "company_id__code=C1&facility_id__code=F1"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=11, scale=1) as running:
        yield running


def _db(sim: Simulator, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Ground truth straight from the simulator's database, not through lgfapi."""
    with sqlite3.connect(sim.db_path) as conn:
        return list(conn.execute(sql, args))


# ---- B. base URL, formats --------------------------------------------------------------------
def test_b1_entity_module_lives_under_lgfapi_v10(sim: Simulator, http: requests.Session) -> None:
    assert http.get(f"{sim.base_url}/wms/lgfapi/v10/entity/").status_code == 200
    assert http.get(f"{sim.base_url}/wms/lgfapi/v9/entity/").status_code == 404


def test_b2_trailing_slash_is_optional(sim: Simulator, http: requests.Session) -> None:
    with_slash = http.get(api(sim, "entity/item/3/"))
    without = http.get(api(sim, "entity/item/3"))
    assert with_slash.status_code == without.status_code == 200
    assert with_slash.json() == without.json()


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("entity/item/3/?format=json", "json"),
        ("entity/item/3/?format=xml", "xml"),
        ("entity/item/3.xml", "xml"),
        ("entity/item/3.xml/", "xml"),
        ("entity/item/3/.xml", "xml"),
        ("entity/item/3/.json", "json"),
        ("entity/item/3.json", "json"),
        ("entity/item/.xml?page_size=2&ordering=id", "xml"),
        ("entity/item/.json?page_size=2&ordering=id", "json"),
    ],
)
def test_b4_response_format_by_parameter_or_dot_suffix(
    sim: Simulator, http: requests.Session, path: str, fmt: str
) -> None:
    response = http.get(api(sim, path))
    assert response.status_code == 200, response.text
    if fmt == "json":
        assert response.headers["Content-Type"].startswith("application/json")
        body = response.json()
        assert body["id"] == 3 if "results" not in body else len(body["results"]) == 2
    else:
        assert response.headers["Content-Type"].startswith("application/xml")
        ET.fromstring(response.content)  # well-formed


def test_b6_documented_status_codes(sim: Simulator, http: requests.Session) -> None:
    assert http.get(api(sim, "entity/item/1/")).status_code == 200
    assert requests.get(api(sim, "entity/item/1/"), timeout=30).status_code == 401
    assert http.get(api(sim, "entity/item/99999999/")).status_code == 404
    assert http.get(api(sim, "entity/item/?nosuchfield=1")).status_code == 400
    assert http.delete(api(sim, "entity/item/1/")).status_code == 405


# ---- C. entity index and describe ------------------------------------------------------------
def test_c1_index_is_a_sorted_list_with_base_urls(sim: Simulator, http: requests.Session) -> None:
    index = http.get(api(sim, "entity/")).json()
    names = list(index)
    assert names == sorted(names) and {"item", "order_hdr", "inventory_history"} <= set(names)
    assert index["item"] == api(sim, "entity/item/")


@pytest.mark.parametrize("layout", ["names", "objects"])
def test_c1_index_in_the_other_plausible_layouts(layout: str, http: requests.Session) -> None:
    with Simulator(seed=11, index_layout=layout) as other:
        body = http.get(api(other, "entity/")).json()
    assert isinstance(body, list)
    names = body if layout == "names" else [e["name"] for e in body]
    assert names == sorted(names) and "order_hdr" in names
    if layout == "objects":
        assert body[names.index("order_hdr")]["url"] == api(other, "entity/order_hdr/")


def test_c3_c4_c6_describe_keys(sim: Simulator, http: requests.Session) -> None:
    described = http.get(api(sim, "entity/order_hdr/describe/")).json()
    assert isinstance(described["parameters"], list) and "order_nbr" in described["parameters"]
    fields = described["fields"]
    assert fields
    for meta in fields.values():
        assert {"type", "required", "allow_blank", "max_length", "default"} <= set(meta)
        assert meta["required"] in {"X", "Y", "N", "C"}
    assert isinstance(fields["order_nbr"]["max_length"], int)


# ---- D. lists ---------------------------------------------------------------------------------
def test_d1_d2_paged_defaults_and_keys(sim: Simulator, http: requests.Session) -> None:
    page = http.get(api(sim, "entity/order_dtl/")).json()
    assert list(page) == [
        "result_count", "page_count", "page_nbr", "next_page", "previous_page", "results",
    ]  # fmt: skip
    assert len(page["results"]) <= 125 and page["page_nbr"] == 1
    big = http.get(api(sim, "entity/order_dtl/?page_size=1250&page=1")).json()
    assert len(big["results"]) == min(1250, big["result_count"])
    second = http.get(page["next_page"]).json()
    assert second["page_nbr"] == 2 and second["previous_page"]


def test_d3_sequenced_pages_have_no_counts_and_an_opaque_cursor(
    sim: Simulator, http: requests.Session
) -> None:
    page = http.get(api(sim, "entity/order_dtl/?page_mode=sequenced&page_size=10")).json()
    assert set(page) == {"next_page", "previous_page", "results"}
    assert "cursor=" in page["next_page"]


def test_d7_empty_list_answers_404_by_default(sim: Simulator, http: requests.Session) -> None:
    assert_error(http.get(api(sim, "entity/item/?code=NO-SUCH-ITEM")), 404, "NOT_FOUND")


@pytest.mark.parametrize("mode", ["paged", "sequenced"])
def test_d8_empty_response_http_code(sim: Simulator, http: requests.Session, mode: str) -> None:
    query = f"entity/item/?code=NO-SUCH-ITEM&page_mode={mode}&empty_response_http_code="
    ok = http.get(api(sim, query + "200"))
    assert ok.status_code == 200 and ok.json()["results"] == []
    assert ok.json()["next_page"] is None
    if mode == "paged":
        assert ok.json()["result_count"] == 0
    none = http.get(api(sim, query + "204"))
    assert none.status_code == 204 and none.content == b""
    assert_error(http.get(api(sim, query + "404")), 404, "NOT_FOUND")
    bad = http.get(api(sim, query + "500"))
    assert "empty_response_http_code" in assert_error(bad, 400, "VALIDATION_ERROR")["details"]
    found = http.get(api(sim, "entity/item/?page_size=1&empty_response_http_code=204"))
    assert found.status_code == 200 and len(found.json()["results"]) == 1
    past_last = http.get(api(sim, "entity/item/?page=999999&empty_response_http_code=200"))
    assert_error(past_last, 404, "NOT_FOUND")


def test_d9_ordering_by_priority_with_descending(sim: Simulator, http: requests.Session) -> None:
    rows = http.get(api(sim, "entity/order_dtl/?ordering=order_id,-id&page_size=300")).json()
    keys = [(r["order_id"]["id"], -r["id"]) for r in rows["results"]]
    assert keys == sorted(keys)


def test_d10_fields_on_lists_and_records(sim: Simulator, http: requests.Session) -> None:
    page = http.get(api(sim, "entity/item/?fields=id,code&page_size=3")).json()
    assert all(set(r) == {"id", "code"} for r in page["results"])
    assert set(http.get(api(sim, "entity/item/2/?fields=code")).json()) == {"code"}


def test_d11_lookups_and_negation(sim: Simulator, http: requests.Session) -> None:
    def ids(query: str) -> set[int]:
        page = http.get(api(sim, f"entity/item/?fields=id&page_size=1250&{query}")).json()
        return {r["id"] for r in page["results"]}

    assert ids("id__in=2,4,6") == {2, 4, 6}
    assert ids("id__range=3,5") == {3, 4, 5}
    assert ids("id__gte=3&id__lt=5") == {3, 4}
    assert 3 not in ids("id__in!=3")
    truth = {int(r[0]) for r in _db(sim, "SELECT id FROM item WHERE cust_field_2 IS NULL")}
    assert ids("cust_field_2__isnull=true") == truth


def test_d12_datetime_filter_without_offset_is_the_users_zone(
    sub_second_filters: Simulator, sim: Simulator, http: requests.Session
) -> None:
    (stored,) = _db(sim, "SELECT mod_ts FROM order_hdr WHERE id = 1")[0]
    utc = datetime.fromisoformat(f"{stored}+00:00")
    local = (utc - timedelta(hours=6)).replace(tzinfo=None).isoformat()  # user demo: F1, -06:00
    page = http.get(api(sim, f"entity/order_hdr/?id=1&mod_ts__gte={local}")).json()
    assert [r["id"] for r in page["results"]] == [1]
    later = (utc - timedelta(hours=6) + timedelta(seconds=1)).replace(tzinfo=None).isoformat()
    assert http.get(api(sim, f"entity/order_hdr/?id=1&mod_ts__gte={later}")).status_code == 404


def test_d13_d15_d17_value_shapes(sim: Simulator, http: requests.Session) -> None:
    dtl = http.get(api(sim, "entity/order_dtl/1/")).json()
    assert isinstance(dtl["ord_qty"], str) and "." in dtl["ord_qty"]  # decimals as strings
    assert set(dtl["order_id"]) == {"id", "key", "url"}
    assert dtl["order_id"]["url"].endswith(f"entity/order_hdr/{dtl['order_id']['id']}/")
    assert isinstance(dtl["status_id"], int)
    stamp = datetime.fromisoformat(dtl["mod_ts"])
    assert stamp.tzinfo is not None and len(dtl["mod_ts"].split(".")[1]) == len("000000-06:00")
    item = http.get(api(sim, "entity/item/1/")).json()
    assert isinstance(item["hazmat_flg"], bool)


def test_d14_values_list_and_distinct(sim: Simulator, http: requests.Session) -> None:
    listed = http.get(
        api(sim, "entity/order_dtl/?values_list=order_id__order_nbr:nbr&distinct=true"
                 "&ordering=order_id__order_nbr&page_size=5"),
    ).json()  # fmt: skip
    nbrs = [r["nbr"] for r in listed["results"]]
    assert nbrs == sorted(set(nbrs)) and all(set(r) == {"nbr"} for r in listed["results"])
    total = _db(sim, "SELECT count(DISTINCT order_id) FROM order_dtl")[0][0]
    assert listed["result_count"] == total
    plain = http.get(api(sim, "entity/order_dtl/?distinct=true&page_size=1")).json()
    assert plain["result_count"] == _db(sim, "SELECT count(*) FROM order_dtl")[0][0]


def test_d16_child_set_is_null_without_children(sim: Simulator, http: requests.Session) -> None:
    (lone,) = sim.insert_records("order_hdr", 1)
    assert not _db(sim, "SELECT id FROM order_dtl WHERE order_id = ?", lone)
    assert http.get(api(sim, f"entity/order_hdr/{lone}/")).json()["order_dtl_set"] is None
    (parent,) = _db(sim, "SELECT order_id, count(*) FROM order_dtl GROUP BY order_id LIMIT 1")
    child_set = http.get(api(sim, f"entity/order_hdr/{parent[0]}/")).json()["order_dtl_set"]
    assert child_set["result_count"] == parent[1]
    assert child_set["url"].endswith(f"entity/order_dtl/?order_id={parent[0]}")


# ---- E. single record, HEAD, conditional GET -------------------------------------------------
def test_e1_single_record_is_not_paginated(sim: Simulator, http: requests.Session) -> None:
    record = http.get(api(sim, "entity/order_hdr/4/")).json()
    assert record["id"] == 4 and "results" not in record
    assert_error(http.get(api(sim, "entity/order_hdr/99999999/")), 404, "NOT_FOUND")


def test_e1_values_list_on_a_single_record(sim: Simulator, http: requests.Session) -> None:
    """Oracle's values_list example reads a related code of one record by id."""
    (company,) = _db(
        sim,
        "SELECT c.code FROM order_hdr o JOIN company c ON c.id = o.company_id WHERE o.id = 1",
    )
    body = http.get(api(sim, "entity/order_hdr/1/?values_list=company_id__code")).json()
    assert body == {"company_id__code": company[0]}


def test_e2_head_on_list_and_retrieve(sim: Simulator, http: requests.Session) -> None:
    assert http.head(api(sim, "entity/order_hdr/?id=4")).status_code == 200
    assert http.head(api(sim, "entity/order_hdr/4/")).status_code == 200
    assert http.head(api(sim, "entity/order_hdr/99999999/")).status_code == 404
    assert http.head(api(sim, "entity/order_hdr/?nosuchfield=1")).status_code == 400


def test_e3_conditional_head_with_iso_8601(sim: Simulator, http: requests.Session) -> None:
    got = http.get(api(sim, "entity/order_hdr/6/"))
    modified = got.headers["Last-Modified"]
    stamp = datetime.fromisoformat(modified)  # ISO-8601, with the record's offset
    (stored,) = _db(sim, "SELECT mod_ts FROM order_hdr WHERE id = 6")[0]
    assert stamp == datetime.fromisoformat(f"{stored}+00:00")

    def head(since: str) -> int:
        response = http.head(api(sim, "entity/order_hdr/6/"), headers={"If-Modified-Since": since})
        return response.status_code

    assert head(modified) == 304
    assert head((stamp + timedelta(days=1)).isoformat()) == 304
    assert head((stamp - timedelta(seconds=1)).isoformat()) == 200
    assert head("Mon, 01 Jan 2024 00:00:00 GMT") == 400  # an HTTP date is not ISO-8601
    assert head("soon") == 400
    # a GET is not conditional (Oracle: HEAD retrieve requests only)
    conditional_get = http.get(
        api(sim, "entity/order_hdr/6/"), headers={"If-Modified-Since": modified}
    )
    assert conditional_get.status_code == 200
    # an entity without mod time tracking ignores the header: 200, it exists
    history_head = http.head(api(sim, f"{HISTORY}1/"), headers={"If-Modified-Since": modified})
    assert history_head.status_code == 200


# ---- F. inventory_history --------------------------------------------------------------------
def _history_row(sim: Simulator) -> dict[str, object]:
    cols = (
        "history_activity_id, status_id, item_code, item_alternate_code, container_nbr, group_nbr"
    )
    row = _db(
        sim,
        f"SELECT {cols} FROM inventory_history WHERE company_id = 1 AND facility_id = 1 "
        "AND container_nbr IS NOT NULL AND item_code IS NOT NULL ORDER BY id LIMIT 1",
    )[0]
    return dict(zip([c.strip() for c in cols.split(",")], row, strict=True))


@pytest.mark.parametrize(
    "combination",
    [
        ("group_nbr",),
        ("history_activity_id", "status_id"),
        ("history_activity_id", "item_code"),
        ("history_activity_id", "item_alternate_code"),
        ("history_activity_id", "container_nbr"),
    ],
)
def test_f1_each_documented_combination_is_accepted(
    sim: Simulator, http: requests.Session, combination: tuple[str, ...]
) -> None:
    row = _history_row(sim)
    query = "&".join(f"{name}={row[name]}" for name in combination)
    response = http.get(api(sim, f"{HISTORY}?{SCOPE}&{query}"))
    assert response.status_code == 200, response.text
    for record in response.json()["results"]:
        for name in combination:
            value = record[name]["id"] if name == "history_activity_id" else record[name]
            assert value == row[name]
    without_scope = http.get(api(sim, f"{HISTORY}?{query}"))
    assert set(assert_error(without_scope, 400, "VALIDATION_ERROR")["details"]) == {
        "company_id__code",
        "facility_id__code",
    }


@pytest.mark.parametrize(
    "query",
    [
        f"{SCOPE}&history_activity_id__in=1,2&status_id=10",
        f"{SCOPE}&history_activity_id=1&status_id__in=10,20",
        f"{SCOPE}&history_activity_id__code=RECEIPT&status_id=10",
        f"{SCOPE}&group_nbr__startswith=G",
    ],
)
def test_f2_a_lookup_does_not_make_a_combination(
    sim: Simulator, http: requests.Session, query: str
) -> None:
    assert_error(http.get(api(sim, f"{HISTORY}?{query}")), 400, "VALIDATION_ERROR")


def test_f1_single_history_record_needs_no_filter(sim: Simulator, http: requests.Session) -> None:
    assert http.get(api(sim, f"{HISTORY}1/")).json()["id"] == 1


def test_f4_f5_iso_dates_and_transaction_ref_in_history_filters(
    sub_second_filters: Simulator, sim: Simulator, http: requests.Session
) -> None:
    row = _history_row(sim)
    base = f"{SCOPE}&history_activity_id={row['history_activity_id']}&status_id={row['status_id']}"
    rows = _db(
        sim,
        "SELECT id, create_ts, transaction_ref_nbr FROM inventory_history WHERE company_id = 1 "
        "AND facility_id = 1 AND history_activity_id = ? AND status_id = ? ORDER BY create_ts",
        row["history_activity_id"],
        row["status_id"],
    )
    middle = rows[len(rows) // 2]
    since = datetime.fromisoformat(f"{middle[1]}+00:00").isoformat().replace("+", "%2B")
    page = http.get(api(sim, f"{HISTORY}?{base}&create_ts__gte={since}&page_size=1250")).json()
    assert {r["id"] for r in page["results"]} == {int(r[0]) for r in rows if r[1] >= middle[1]}
    ref = http.get(api(sim, f"{HISTORY}?{base}&transaction_ref_nbr={middle[2]}")).json()
    assert middle[0] in {r["id"] for r in ref["results"]}
