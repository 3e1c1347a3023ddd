"""Every entity name, inventory_history, relation filters, values_list, XML, HEAD: over HTTP."""

from __future__ import annotations

import collections
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_simulator import AUTH, api, assert_error, walk

TSV = Path(__file__).resolve().parents[2] / "shared" / "reference" / "entities.tsv"
"""The route table beside the repository (CI lays `shared/` there too); a clone without it
checks the names below."""
ROUTE_NAMES = [
    "action_code", "active_location", "allocation", "batch_number", "company", "container",
    "facility", "ib_shipment", "iblpn", "inventory", "item", "load", "location", "ob_stop",
    "oblpn", "order_dtl", "order_hdr", "task", "user", "vendor", "wave", "work_order_type",
]  # fmt: skip


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=23, scale=1) as running:
        yield running


def count(http: requests.Session, sim: Simulator, entity: str, query: str) -> int:
    response = http.get(api(sim, f"entity/{entity}/?page_size=1&{query}"))
    if response.status_code == 404:
        return 0
    assert response.status_code == 200, response.text
    return int(response.json()["result_count"])


# ---- every entity -------------------------------------------------------------------------
def test_every_route_table_entity_answers_describe_list_and_single(
    sim: Simulator, http: requests.Session
) -> None:
    names = (
        [line.split("\t")[0] for line in TSV.read_text().splitlines()[1:]]
        if TSV.exists()
        else ROUTE_NAMES
    )
    index = http.get(api(sim, "entity/")).json()
    assert set(names) | {"inventory_history", "history_activity"} <= set(index)
    if TSV.exists():
        assert len(names) == 177 and len(index) == 179
    for name in index:
        described = http.get(api(sim, f"entity/{name}/describe/")).json()
        query = "" if name != "inventory_history" else "&company_id__code=C1" \
            "&facility_id__code=F1&history_activity_id=1&status_id=10"  # fmt: skip
        page = http.get(api(sim, f"entity/{name}/?page_size=3{query}"))
        assert page.status_code == 200, name
        first = page.json()["results"][0]
        assert list(first) == list(described["fields"]), name
        single = http.get(api(sim, f"entity/{name}/{first['id']}/"))
        assert single.json() == first, name
        assert ("Last-Modified" in single.headers) == ("mod_ts" in described["fields"]), name


def test_code_tables_are_small_and_core_entities_coherent(
    sim: Simulator, http: requests.Session
) -> None:
    assert 4 <= count(http, sim, "dock_status", "") <= 11
    assert count(http, sim, "history_activity", "") == 10
    waves = walk(http, api(sim, "entity/wave/"))
    assert {w["facility_id"]["key"] for w in waves} == {"F1", "F2", "F3"}
    for record in walk(http, api(sim, "entity/allocation/?page_size=1250"))[:200]:
        line = http.get(record["order_dtl_id"]["url"]).json()
        order = http.get(line["order_id"]["url"]).json()
        assert order["facility_id"]["id"] == record["facility_id"]["id"]


# ---- inventory_history ----------------------------------------------------------------------
HISTORY = "entity/inventory_history/"
SCOPE = "company_id__code=C1&facility_id__code=F1"


@pytest.mark.parametrize(
    ("query", "missing"),
    [
        ("", {"company_id__code", "facility_id__code", "group_nbr"}),
        ("company_id__code=C1&group_nbr=G000000001", {"facility_id__code"}),
        (SCOPE, {"group_nbr"}),
        (
            f"{SCOPE}&history_activity_id=1",
            {"status_id", "item_code", "item_alternate_code", "container_nbr"},
        ),
        (f"{SCOPE}&group_nbr!=G1", {"group_nbr"}),
        # Oracle lists plain fields: a lookup or a related field does not make a combination
        (f"{SCOPE}&group_nbr__startswith=G", {"group_nbr"}),
        (f"{SCOPE}&history_activity_id__in=1,2&status_id=10", {"history_activity_id"}),
        (
            f"{SCOPE}&history_activity_id=1&status_id__in=10,20",
            {"status_id", "item_code", "item_alternate_code", "container_nbr"},
        ),
        (f"{SCOPE}&history_activity_id__code=RECEIPT&status_id=10", {"history_activity_id"}),
        ("company_id__code__in=C1&facility_id__code=F1&group_nbr=G1", {"company_id__code"}),
    ],
)
def test_inventory_history_requires_the_documented_filters(
    sim: Simulator, http: requests.Session, query: str, missing: set[str]
) -> None:
    body = assert_error(http.get(api(sim, f"{HISTORY}?{query}")), 400, "VALIDATION_ERROR")
    assert set(body["details"]) == missing
    assert all(name in body["message"] for name in missing)


def test_inventory_history_rows_and_accepted_filter_sets(
    sim: Simulator, http: requests.Session
) -> None:
    described = http.get(api(sim, f"{HISTORY}describe/")).json()["fields"]
    assert "mod_ts" not in described and described["create_ts"]["type"] == "datetime"
    assert described["status_id"]["type"] == "integer"
    assert described["history_activity_id"]["related_entity"] == "history_activity"
    assert described["transaction_ref_nbr"]["max_length"] == 250
    assert described["adj_qty"]["type"] == described["orig_qty"]["type"] == "decimal"
    statuses = {r["id"] for r in walk(http, api(sim, "entity/container_status/"))}
    rows = walk(http, api(sim, f"{HISTORY}?{SCOPE}&history_activity_id=1&status_id=10"))
    assert rows
    for row in rows:
        assert row["facility_id"]["key"] == "F1" and row["company_id"]["key"] == "C1"
        assert row["history_activity_id"]["key"] == "RECEIPT" and row["status_id"] == 10
        assert row["status_id"] in statuses and row["create_ts"].endswith("-06:00")
    sample = rows[0]
    for extra in (
        f"group_nbr={sample['group_nbr']}",
        f"history_activity_id=1&item_code={sample['item_code']}",
        f"history_activity_id=1&item_alternate_code={sample['item_alternate_code']}",
        f"history_activity_id=1&container_nbr={sample['container_nbr']}",
        "history_activity_id=1&status_id=10&item_code__startswith=ITM",
    ):
        assert count(http, sim, "inventory_history", f"{SCOPE}&{extra}") >= 1, extra
    group = walk(http, api(sim, f"{HISTORY}?{SCOPE}&group_nbr={sample['group_nbr']}"))
    assert len({r["history_activity_id"]["id"] for r in group}) == 1  # one transaction
    seq = walk(
        http,
        api(sim, f"{HISTORY}?{SCOPE}&history_activity_id=1&status_id=10&page_mode=sequenced"
                 "&ordering=create_ts&page_size=5"),
    )  # fmt: skip
    assert len({r["id"] for r in seq}) == len(seq) == len(rows)
    new = sim.insert_records("inventory_history", 2)
    added = http.get(api(sim, f"{HISTORY}{new[0]}/")).json()
    assert added["create_user"] == "SIM_INSERT" and "mod_ts" not in added
    with pytest.raises(Exception, match="append-only"):
        sim.update_records("inventory_history", 1)


# ---- filters ------------------------------------------------------------------------------
def test_two_level_relation_traversal(sim: Simulator, http: requests.Session) -> None:
    f1_orders = walk(http, api(sim, "entity/order_hdr/?facility_id__code=F1&page_size=1250"))
    expected = sum(o["order_dtl_set"]["result_count"] for o in f1_orders)
    assert count(http, sim, "order_dtl", "order_id__facility_id__code=F1") == expected > 0
    nbr = f1_orders[0]["order_nbr"]
    allocs = walk(http, api(sim, f"entity/allocation/?order_dtl_id__order_id__order_nbr={nbr}"))
    assert all(http.get(a["order_dtl_id"]["url"]).json()["order_id"]["key"] == nbr for a in allocs)
    body = assert_error(
        http.get(api(sim, "entity/order_dtl/?order_id__facility_id__nope=1")),
        400,
        "VALIDATION_ERROR",
    )
    assert "order_id__facility_id__nope" in body["details"]


def test_negation_and_last_value_wins(sim: Simulator, http: requests.Session) -> None:
    total = count(http, sim, "inventory", "")
    f1 = count(http, sim, "inventory", "facility_id__code=F1")
    assert count(http, sim, "inventory", "facility_id__code!=F1") == total - f1
    assert count(http, sim, "inventory", "facility_id__code__in!=F1,F2") == count(
        http, sim, "inventory", "facility_id__code=F3"
    )
    with_batch = count(http, sim, "inventory", "batch_nbr__startswith=B")
    assert count(http, sim, "inventory", "batch_nbr__startswith!=B") == total - with_batch
    assert count(http, sim, "inventory", "facility_id__code=F1&facility_id__code=F2") == count(
        http, sim, "inventory", "facility_id__code=F2"
    )


def test_reverse_relation_isnull_and_fields() -> None:
    with Simulator(seed=29) as sim, requests.Session() as http:
        http.auth = AUTH
        bare = sim.insert_records("order_hdr", 3)  # headers without lines
        empty = walk(http, api(sim, "entity/order_hdr/?order_dtl__isnull=true"))
        assert sorted(o["id"] for o in empty) == bare
        assert count(http, sim, "order_hdr", "orderdtl__isnull=false") == 600
        assert count(http, sim, "order_hdr", "order_dtl_set__isnull=true") == 3
        line = http.get(api(sim, "entity/order_dtl/1/")).json()
        item = line["item_id"]["key"]
        having = walk(http, api(sim, f"entity/order_hdr/?order_dtl__item_id__code={item}"))
        assert line["order_id"]["id"] in {o["id"] for o in having}
        for order in having[:10]:
            lines = walk(http, order["order_dtl_set"]["url"])
            assert item in {x["item_id"]["key"] for x in lines}


def test_child_sets_are_count_and_url(sim: Simulator, http: requests.Session) -> None:
    for entity, field in (
        ("order_hdr", "order_dtl_set"),
        ("ib_shipment", "ib_shipment_dtl_set"),
        ("purchase_order_hdr", "purchase_order_dtl_set"),
    ):
        record = http.get(api(sim, f"entity/{entity}/2/")).json()
        child = record[field]
        assert set(child) == {"result_count", "url"}
        listed = http.get(child["url"]).json()
        assert listed["result_count"] == child["result_count"] > 0
    assert isinstance(http.get(api(sim, "entity/iblpn/1/")).json()["status_id"], int)


def test_values_list_with_aliases_and_distinct(sim: Simulator, http: requests.Session) -> None:
    url = "entity/order_dtl/?order_id=5&values_list=order_id,order_id__order_nbr:order_nbr"
    page = http.get(api(sim, url)).json()
    lines = count(http, sim, "order_dtl", "order_id=5")
    assert page["result_count"] == lines > 1
    assert page["results"][0] == {"order_id": 5, "order_nbr": "ORD0000005"}  # bare FK int
    unique = http.get(api(sim, url + "&ordering=order_id__order_nbr&distinct=1")).json()
    assert unique["result_count"] == 1 and unique["results"] == [page["results"][0]]
    facs = http.get(
        api(sim, "entity/inventory/?values_list=facility_id__code:fac&distinct=true"
                 "&ordering=-facility_id__code")
    ).json()  # fmt: skip
    assert facs["results"] == [{"fac": "F3"}, {"fac": "F2"}, {"fac": "F1"}]
    seq = http.get(
        api(
            sim,
            "entity/inventory/?values_list=id,curr_qty,mod_ts&page_mode=sequenced"
            "&distinct=true&page_size=5",
        )
    ).json()  # fmt: skip  (distinct ignored in sequenced mode, as Oracle ignores it)
    assert len(seq["results"]) == 5 and set(seq["results"][0]) == {"id", "curr_qty", "mod_ts"}
    assert isinstance(seq["results"][0]["curr_qty"], str)
    bad = http.get(api(sim, "entity/inventory/?values_list=nope"))
    assert "values_list" in assert_error(bad, 400, "VALIDATION_ERROR")["details"]


def test_ordering_by_a_relation_in_sequenced_mode(sim: Simulator, http: requests.Session) -> None:
    records = walk(
        http,
        api(sim, "entity/order_dtl/?page_mode=sequenced&ordering=order_id__order_nbr,-seq_nbr"
                 "&page_size=77&fields=id,order_id,seq_nbr"),
    )  # fmt: skip
    assert len(records) == len({r["id"] for r in records}) == 2400
    keys = [(r["order_id"]["key"], -r["seq_nbr"]) for r in records]
    assert keys == sorted(keys)


# ---- HEAD, If-Modified-Since, XML -------------------------------------------------------
def test_head_and_if_modified_since(sim: Simulator, http: requests.Session) -> None:
    head = http.head(api(sim, "entity/order_hdr/?page_size=10"))
    full = http.get(api(sim, "entity/order_hdr/?page_size=10"))
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["Content-Length"]) == len(full.content)
    single = http.get(api(sim, "entity/order_hdr/3/"))
    modified = single.headers["Last-Modified"]
    assert modified == single.json()["mod_ts"]  # ISO-8601 in the record's zone
    # Oracle: If-Modified-Since is for HEAD retrieve requests; a GET answers the record
    assert (
        http.get(
            api(sim, "entity/order_hdr/3/"), headers={"If-Modified-Since": modified}
        ).status_code
        == 200
    )
    older = "2024-01-01T00:00:00+00:00"
    assert (
        http.head(api(sim, "entity/order_hdr/3/"), headers={"If-Modified-Since": older}).status_code
        == 200
    )
    assert (
        http.head(
            api(sim, "entity/order_hdr/3/"), headers={"If-Modified-Since": modified}
        ).status_code
        == 304
    )
    bad = http.head(api(sim, "entity/order_hdr/3/"), headers={"If-Modified-Since": "soon"})
    assert bad.status_code == 400


def test_format_xml(sim: Simulator, http: requests.Session) -> None:
    listed = http.get(api(sim, "entity/order_hdr/?page_size=4&format=xml"))
    assert listed.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(listed.content)
    assert root.tag == "response" and root.findtext("result_count") == "600"
    records = root.find("results")
    assert records is not None and [r.tag for r in records] == ["order_hdr"] * 4
    first = records[0]
    as_json = http.get(api(sim, "entity/order_hdr/?page_size=4")).json()["results"][0]
    assert first.findtext("order_nbr") == as_json["order_nbr"]
    assert first.findtext("facility_id/key") == as_json["facility_id"]["key"]
    assert first.findtext("order_dtl_set/result_count") == str(
        as_json["order_dtl_set"]["result_count"]
    )
    nulls = [e for e in first.iter() if e.get("null") == "true"]
    assert {e.tag for e in nulls} == {k for k, v in as_json.items() if v is None}
    single = ET.fromstring(http.get(api(sim, "entity/order_hdr/1.xml")).content)
    assert single.tag == "order_hdr" and single.findtext("id") == "1"
    described = ET.fromstring(http.get(api(sim, "entity/item/describe/?format=xml")).content)
    assert described.tag == "describe"
    assert [p.text for p in described.find("parameters") or []][:2] == ["id", "company_id"]
    index = ET.fromstring(http.get(api(sim, "entity/?format=xml")).content)
    assert index.tag == "entities" and len(index) == 179
    error = http.get(api(sim, "entity/order_hdr/?format=xml&page_size=0"))
    assert error.status_code == 400
    assert ET.fromstring(error.content).findtext("code") == "VALIDATION_ERROR"
    unauthorized = requests.get(api(sim, "entity/?format=xml"))
    assert ET.fromstring(unauthorized.content).findtext("code") == "AUTHENTICATION_FAILED"
    bad = http.get(api(sim, "entity/item/?format=csv"))
    assert "format" in assert_error(bad, 400, "VALIDATION_ERROR")["details"]


def test_generated_data_is_coherent_across_new_entities(
    sim: Simulator, http: requests.Session
) -> None:
    history = walk(
        http,
        api(sim, f"{HISTORY}?company_id__code=C2&facility_id__code=F3&history_activity_id=1"
                 "&status_id=10"),
    )  # fmt: skip
    by_group = collections.defaultdict(set)
    for row in history:
        by_group[row["group_nbr"]].add(row["facility_id"]["key"])
    assert history and all(v == {"F3"} for v in by_group.values())


def test_paged_mode_seek_matches_offset() -> None:
    """Walking pages in order (served by a keyset seek) gives the pages a cold OFFSET gives."""
    query = "entity/order_dtl/?page_size=97&ordering=-mod_ts,item_id&fields=id"
    with Simulator(seed=31) as warm, Simulator(seed=31) as cold, requests.Session() as http:
        http.auth = AUTH
        walked = [r["id"] for r in walk(http, api(warm, query))]
        for page in (1, 5, 13, 25):
            direct = http.get(api(cold, f"{query}&page={page}")).json()["results"]
            assert [r["id"] for r in direct] == walked[(page - 1) * 97 : page * 97]
        assert len(walked) == len(set(walked)) == 2400


@pytest.mark.parametrize("part", ["year", "month", "day", "week_day", "hour", "minute"])
def test_date_part_lookups_in_the_record_zone(
    sim: Simulator, http: requests.Session, part: str
) -> None:
    records = walk(http, api(sim, "entity/order_hdr/?page_size=1250&fields=id,mod_ts,ord_date"))
    stamps = {r["id"]: datetime.fromisoformat(r["mod_ts"]) for r in records}  # record's offset

    def value(instant: datetime) -> int:
        return instant.isoweekday() % 7 + 1 if part == "week_day" else getattr(instant, part)

    target = value(stamps[records[0]["id"]])
    expected = sum(1 for s in stamps.values() if value(s) == target)
    assert count(http, sim, "order_hdr", f"mod_ts__{part}={target}") == expected
    above = sum(1 for s in stamps.values() if value(s) >= target)
    assert count(http, sim, "order_hdr", f"mod_ts__{part}__gte={target}") == above
    if part in ("year", "month", "day"):
        dates = [date.fromisoformat(r["ord_date"]) for r in records]
        wanted = getattr(dates[0], part)
        assert count(http, sim, "order_hdr", f"ord_date__{part}={wanted}") == sum(
            1 for d in dates if getattr(d, part) == wanted
        )
    else:
        bad = http.get(api(sim, f"entity/order_hdr/?ord_date__{part}=1"))
        if part in ("hour", "minute"):
            assert_error(bad, 400, "VALIDATION_ERROR")
