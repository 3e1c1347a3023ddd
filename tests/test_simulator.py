"""The simulator over real HTTP (loopback), against docs/api-behaviour.md."""

from __future__ import annotations

import collections
import os
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from oracle_wms_sim import Simulator
from oracle_wms_sim.data.entities import ENTITIES
from oracle_wms_sim.read.render import value_sql
from tests.conftest import iter_pages

AUTH = ("demo", "demo")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    """A pristine simulator shared by the read-only tests of this module."""
    with Simulator(seed=42, scale=1) as running:
        yield running


def api(sim: Simulator, path: str) -> str:
    return f"{sim.base_url}/wms/lgfapi/v10/{path}"


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"reference", "code", "message", "details"}
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", body["reference"]
    )
    assert body["code"] == code
    return body


def walk(http: requests.Session, url: str) -> list[dict[str, Any]]:
    """Follow next_page until null or the empty-list 404."""
    records: list[dict[str, Any]] = []
    while url:
        response = http.get(url)
        if response.status_code == 404 and records:
            assert_error(response, 404, "NOT_FOUND")
            break
        response.raise_for_status()
        page = response.json()
        records.extend(page["results"])
        url = page["next_page"]
    return records


def instant(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None
    return parsed


# ---- auth, index, describe ------------------------------------------------------------------
def test_auth_missing_or_wrong_is_401_standard_body(sim: Simulator) -> None:
    for auth in (None, ("demo", "wrong"), ("someone", "demo")):
        response = requests.get(api(sim, "entity/"), auth=auth)
        body = assert_error(response, 401, "AUTHENTICATION_FAILED")
        assert response.headers["WWW-Authenticate"] == 'Basic realm="lgfapi"'
        assert "wrong" not in response.text
    admin = requests.post(sim.base_url.rsplit("/", 1)[0] + "/_sim/update", json={"entity": "item"})
    assert_error(admin, 401, "AUTHENTICATION_FAILED")
    assert body["message"]


def test_entity_index_maps_names_to_list_urls(sim: Simulator, http: requests.Session) -> None:
    index = http.get(api(sim, "entity/")).json()
    assert list(index) == sorted(index)
    for name in (
        "company",
        "facility",
        "item",
        "location",
        "inventory",
        "order_hdr",
        "order_dtl",
        "allocation",
        "ib_shipment",
        "ib_shipment_dtl",
        "iblpn",
        "oblpn",
        "vendor",
        "purchase_order_hdr",
        "purchase_order_dtl",
        "order_status",
        "order_type",
        "ib_shipment_status",
        "purchase_order_status",
        "container_status",
        "location_type",
    ):
        assert index[name] == api(sim, f"entity/{name}/")
    assert http.get(api(sim, "entity")).json() == index  # trailing slash optional


def test_describe_shape_and_field_order(sim: Simulator, http: requests.Session) -> None:
    described = http.get(api(sim, "entity/inventory/describe/")).json()
    assert set(described) == {"parameters", "fields"}
    fields = described["fields"]
    for meta in fields.values():
        assert {"type", "required", "allow_blank", "max_length", "default"} <= set(meta)
        assert meta["required"] in ("Y", "N", "X", "C")
    assert fields["facility_id"]["type"] == "foreign_key"
    assert fields["facility_id"]["related_entity"] == "facility"
    assert fields["curr_qty"]["type"] == "decimal"
    assert fields["mod_ts"]["type"] == "datetime"
    assert fields["expiry_date"]["type"] == "date"
    assert fields["lock_flg"]["type"] == "boolean"
    assert fields["batch_nbr"]["type"] == "string" and fields["batch_nbr"]["max_length"] == 50
    assert "mod_ts" in described["parameters"]
    record = http.get(api(sim, "entity/inventory/?page_size=1")).json()["results"][0]
    assert list(record) == list(fields)
    order = http.get(api(sim, "entity/order_hdr/describe/")).json()
    assert order["fields"]["status_id"]["type"] == "integer"
    assert order["fields"]["order_dtl_set"]["type"] == "child_set"
    assert "order_dtl_set" not in order["parameters"]
    codes = http.get(api(sim, "entity/order_status/describe/")).json()
    assert "mod_ts" not in codes["fields"] and "create_ts" not in codes["fields"]
    assert_error(http.get(api(sim, "entity/nothing/describe/")), 404, "NOT_FOUND")


# ---- record shape ----------------------------------------------------------------------------
def test_record_shapes_and_zone_offsets(sim: Simulator, http: requests.Session) -> None:
    offsets = {"F1": "-06:00", "F2": "-05:00", "F3": "+01:00"}
    records = walk(http, api(sim, "entity/inventory/?page_size=1250"))
    assert len(records) == 3000
    for record in records[:400]:
        fac = record["facility_id"]
        assert set(fac) == {"id", "key", "url"}
        assert fac["url"] == api(sim, f"entity/facility/{fac['id']}/")
        for name in ("create_ts", "mod_ts"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d", record[name])
            assert record[name].endswith(offsets[fac["key"]])
        assert re.fullmatch(r"-?\d+\.\d{3}", record["curr_qty"])
        assert isinstance(record["lock_flg"], bool)
        assert record["container_id"] is None or record["container_id"]["key"].startswith("IB")
    shared = collections.Counter(r["mod_ts"] for r in records)
    assert shared.most_common(1)[0][1] >= 50  # batch jobs stamp many rows at once
    order = http.get(api(sim, "entity/order_hdr/1/")).json()
    assert isinstance(order["status_id"], int)
    child = order["order_dtl_set"]
    lines = http.get(child["url"]).json()
    assert lines["result_count"] == child["result_count"] > 0
    assert all(line["order_id"]["id"] == 1 for line in lines["results"])
    item = http.get(api(sim, "entity/item/1/")).json()
    company_zone = "-06:00" if item["company_id"]["key"] == "C1" else "+01:00"
    assert item["mod_ts"].endswith(company_zone)


def test_single_record_last_modified_and_404(sim: Simulator, http: requests.Session) -> None:
    response = http.get(api(sim, "entity/order_hdr/5/?fields=id,order_nbr"))
    assert response.json() == {"id": 5, "order_nbr": "ORD0000005"}
    modified = response.headers["Last-Modified"]
    assert datetime.fromisoformat(modified).tzinfo is not None  # ISO-8601 (docs/api-contract E3)
    assert (
        http.head(
            api(sim, "entity/order_hdr/5/"), headers={"If-Modified-Since": modified}
        ).status_code
        == 304
    )
    assert http.head(api(sim, "entity/order_hdr/5")).status_code == 200
    assert "Last-Modified" not in http.get(api(sim, "entity/order_status/0/")).headers
    assert_error(http.get(api(sim, "entity/order_hdr/999999/")), 404, "NOT_FOUND")
    assert http.head(api(sim, "entity/order_hdr/999999/")).status_code == 404
    assert_error(http.get(api(sim, "entity/order_hdr/abc/")), 404, "NOT_FOUND")


def test_methods_other_than_get_head_are_405(sim: Simulator, http: requests.Session) -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = http.request(method, api(sim, "entity/item/"), json={"fields": {}})
        assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert_error(http.delete(api(sim, "entity/item/1/")), 405, "METHOD_NOT_ALLOWED")


# ---- paging ----------------------------------------------------------------------------------
def test_paged_mode_counts_and_links(sim: Simulator, http: requests.Session) -> None:
    first = http.get(api(sim, "entity/order_hdr/")).json()
    assert list(first) == [
        "result_count",
        "page_count",
        "page_nbr",
        "next_page",
        "previous_page",
        "results",
    ]
    assert (first["result_count"], first["page_count"], first["page_nbr"]) == (600, 5, 1)
    assert len(first["results"]) == 125 and first["previous_page"] is None
    second = http.get(first["next_page"]).json()
    assert second["page_nbr"] == 2 and second["previous_page"] is not None
    ids = [r["id"] for r in walk(http, api(sim, "entity/order_hdr/?page_size=70&fields=id"))]
    assert sorted(ids) == ids and len(set(ids)) == 600
    last = http.get(api(sim, "entity/order_hdr/?page_size=70&page=9")).json()
    assert last["next_page"] is None and len(last["results"]) == 600 - 8 * 70
    assert_error(http.get(api(sim, "entity/order_hdr/?page_size=70&page=10")), 404, "NOT_FOUND")
    assert_error(http.get(api(sim, "entity/order_hdr/?page=0")), 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("size", ["1251", "0", "-5", "ten", "1.5"])
def test_bad_page_size_is_400_naming_it(sim: Simulator, http: requests.Session, size: str) -> None:
    body = assert_error(
        http.get(api(sim, f"entity/item/?page_size={size}")), 400, "VALIDATION_ERROR"
    )
    assert "page_size" in body["details"]


def test_page_size_1250_is_allowed(sim: Simulator, http: requests.Session) -> None:
    page = http.get(api(sim, "entity/inventory/?page_size=1250")).json()
    assert len(page["results"]) == 1250 and page["page_count"] == 3


def test_empty_list_is_404_standard_body(sim: Simulator, http: requests.Session) -> None:
    for mode in ("paged", "sequenced"):
        response = http.get(api(sim, f"entity/order_hdr/?order_nbr=NOPE&page_mode={mode}"))
        body = assert_error(response, 404, "NOT_FOUND")
        assert body["message"] == "No order_hdr records match the request."
    body = assert_error(http.get(api(sim, "entity/shipment/")), 404, "NOT_FOUND")
    assert body["message"] == "Entity 'shipment' does not exist."
    assert http.head(api(sim, "entity/order_hdr/?order_nbr=NOPE")).status_code == 404


def test_sequenced_returns_every_id_once_in_order(sim: Simulator, http: requests.Session) -> None:
    url = api(
        sim, "entity/inventory/?page_mode=sequenced&ordering=mod_ts&page_size=125&fields=id,mod_ts"
    )
    first = http.get(url).json()
    assert set(first) == {"next_page", "previous_page", "results"}
    assert "cursor=" in first["next_page"] and "ordering=mod_ts" in first["next_page"]
    records = walk(http, url)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == 3000
    keys = [(instant(r["mod_ts"]), r["id"]) for r in records]
    assert keys == sorted(keys)
    desc = walk(
        http,
        api(sim, "entity/order_dtl/?page_mode=sequenced&ordering=-mod_ts,item_id&page_size=97"),
    )
    assert len({r["id"] for r in desc}) == len(desc) == 2400
    nullable = walk(
        http, api(sim, "entity/inventory/?page_mode=sequenced&ordering=-batch_nbr&page_size=111")
    )
    assert len({r["id"] for r in nullable}) == len(nullable) == 3000
    short = http.get(api(sim, "entity/order_status/?page_mode=sequenced")).json()
    assert short["next_page"] is None and short["previous_page"] is None


def test_bad_cursor_is_400(sim: Simulator, http: requests.Session) -> None:
    body = assert_error(
        http.get(api(sim, "entity/item/?page_mode=sequenced&cursor=%%%")), 400, "VALIDATION_ERROR"
    )
    assert "cursor" in body["details"]


def test_sequenced_under_concurrent_changes_returns_unchanged_records_once() -> None:
    with Simulator(seed=7, scale=1) as sim, requests.Session() as http:
        http.auth = AUTH
        for ordering in ("mod_ts", "id"):
            url = api(
                sim,
                f"entity/inventory/?page_mode=sequenced&ordering={ordering}&page_size=100&fields=id",
            )
            seen: collections.Counter[int] = collections.Counter()
            changed: set[int] = set()
            inserted: set[int] = set()
            for pages, page in enumerate(iter_pages(http, url), start=1):
                seen.update(r["id"] for r in page["results"])
                if pages % 3 == 0:
                    changed.update(sim.update_records("inventory", 40, same_mod_ts=pages % 2 == 0))
                    inserted.update(sim.insert_records("inventory", 15))
            unchanged = set(range(1, 3001)) - changed
            assert all(seen[i] == 1 for i in unchanged)
            if ordering == "mod_ts":  # changed records move behind the cursor and come again
                assert changed <= set(seen)
            assert inserted <= set(seen)


# ---- filters ---------------------------------------------------------------------------------
def count(http: requests.Session, sim: Simulator, query: str) -> int:
    response = http.get(api(sim, f"entity/inventory/?page_size=1&{query}"))
    if response.status_code == 404:
        return 0
    response.raise_for_status()
    return int(response.json()["result_count"])


def test_datetime_filters_compare_instants_across_offsets(
    sub_second_filters: Simulator, sim: Simulator, http: requests.Session
) -> None:
    records = walk(http, api(sim, "entity/inventory/?page_size=1250&fields=id,mod_ts"))
    stamps = sorted(instant(r["mod_ts"]) for r in records)
    threshold = stamps[len(stamps) // 2]
    expected = sum(1 for s in stamps if s >= threshold)
    for zone in (timedelta(hours=5, minutes=30), timedelta(hours=-8), timedelta(0)):
        text = threshold.astimezone(timezone(zone)).isoformat(timespec="microseconds")
        encoded = text.replace("+", "%2B")
        assert count(http, sim, f"mod_ts__gte={encoded}") == expected
        assert count(http, sim, f"mod_ts__lt={encoded}") == len(stamps) - expected
    exact = threshold.astimezone(timezone(timedelta(hours=2))).isoformat().replace("+", "%2B")
    assert count(http, sim, f"mod_ts={exact}") == sum(1 for s in stamps if s == threshold) >= 1


def test_in_range_isnull_and_text_lookups(sim: Simulator, http: requests.Session) -> None:
    page = http.get(api(sim, "entity/inventory/?id__in=1,5,9,999999&fields=id")).json()
    assert [r["id"] for r in page["results"]] == [1, 5, 9]
    ranged = walk(http, api(sim, "entity/inventory/?curr_qty__range=10,20&page_size=1250"))
    assert ranged and all(Decimal("10") <= Decimal(r["curr_qty"]) <= Decimal("20") for r in ranged)
    everything = walk(http, api(sim, "entity/inventory/?page_size=1250"))
    assert len(ranged) == sum(1 for r in everything if 10 <= Decimal(r["curr_qty"]) <= 20)
    nulls = count(http, sim, "batch_nbr__isnull=true")
    assert 0 < nulls < 3000
    assert nulls + count(http, sim, "batch_nbr__isnull=false") == 3000
    assert count(http, sim, "batch_nbr__startswith=B") == 3000 - nulls
    assert count(http, sim, "batch_nbr__istartswith=b") == 3000 - nulls
    assert count(http, sim, "lock_flg=true") + count(http, sim, "lock_flg=false") == 3000
    assert count(http, sim, "id__gt=2990") == 10
    assert count(http, sim, "id__gt=1&id__gt=2995") == 5  # the last value wins


def test_relation_and_fk_filters(sim: Simulator, http: requests.Session) -> None:
    totals = [count(http, sim, f"facility_id__code=F{n}") for n in (1, 2, 3)]
    assert sum(totals) == 3000 and all(totals)
    assert count(http, sim, "facility_id=1") == totals[0] == count(http, sim, "facility_id__id=1")
    assert count(http, sim, "facility_id__code__in=F1,F3") == totals[0] + totals[2]
    f3 = walk(http, api(sim, "entity/inventory/?facility_id__code=F3&page_size=1250"))
    assert {r["facility_id"]["key"] for r in f3} == {"F3"}
    assert count(http, sim, "company_id__code=C2") == totals[2]  # F3 belongs to C2


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("bogus=1", "bogus"),
        ("curr_qty__near=1", "curr_qty__near"),
        ("facility_id__nope=F1", "facility_id__nope"),
        ("facility_id__code__nope=F1", "facility_id__code__nope"),
        ("id=abc", "id"),
        ("mod_ts__gte=yesterday", "mod_ts__gte"),
        ("curr_qty__contains=1", "curr_qty__contains"),
        ("id__range=1", "id__range"),
        ("ordering=nope", "ordering"),
        ("fields=id,nope", "fields"),
        ("page_mode=random", "page_mode"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(
    sim: Simulator, http: requests.Session, query: str, param: str
) -> None:
    body = assert_error(http.get(api(sim, f"entity/inventory/?{query}")), 400, "VALIDATION_ERROR")
    assert param in body["details"]


# ---- data changes ----------------------------------------------------------------------------
def test_update_and_insert_stamp_after_the_current_maximum() -> None:
    with Simulator(seed=3, scale=1) as sim, requests.Session() as http:
        http.auth = AUTH
        newest = http.get(api(sim, "entity/order_hdr/?ordering=-mod_ts&page_size=1")).json()[
            "results"
        ][0]
        ids = sim.update_records("order_hdr", 30)
        assert len(ids) == len(set(ids)) == 30
        changed = walk(http, api(sim, f"entity/order_hdr/?id__in={','.join(map(str, ids))}"))
        assert len({instant(r["mod_ts"]) for r in changed}) == 1
        assert instant(changed[0]["mod_ts"]) > instant(newest["mod_ts"])
        spread = sim.update_records("order_hdr", 5, same_mod_ts=False)
        stamps = {
            instant(http.get(api(sim, f"entity/order_hdr/{i}/")).json()["mod_ts"]) for i in spread
        }
        assert len(stamps) == 5
        admin = sim.base_url.rsplit("/", 1)[0] + "/_sim/insert"
        new = http.post(
            admin, json={"entity": "order_dtl", "count": 3, "same_mod_ts": True}
        ).json()["ids"]
        assert new == [2401, 2402, 2403]
        for ident in new:
            line = http.get(api(sim, f"entity/order_dtl/{ident}/")).json()
            order = http.get(line["order_id"]["url"]).json()
            assert order["order_dtl_set"]["result_count"] >= line["seq_nbr"]
            assert line["create_ts"] == line["mod_ts"]
        assert sim.result_count("order_dtl", id__gte="2401") == 3


# ---- determinism, --db reuse, CLI --------------------------------------------------------------
def page_bytes(seed: int, db_path: str | None = None) -> bytes:
    with Simulator(seed=seed, scale=1, db_path=db_path) as sim:
        body = requests.get(api(sim, "entity/inventory/?page_size=300&page=3"), auth=AUTH).content
        return body.replace(sim.base_url.encode(), b"BASE")


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    """Generated twice: into a file of its own (`db_path`), and into a temporary one (which
    later simulators of the seed and scale copy in this process)."""
    assert page_bytes(42) == page_bytes(42, db_path=str(tmp_path / "own.sqlite"))
    assert page_bytes(42) != page_bytes(43)


def test_db_is_reused_not_regenerated(tmp_path: Path) -> None:
    db = str(tmp_path / "wms.sqlite")
    with Simulator(seed=5, db_path=db) as sim:
        inserted = sim.insert_records("item", 2)
    assert os.path.exists(db)
    with Simulator(seed=5, db_path=db) as sim:
        response = requests.get(api(sim, f"entity/item/{inserted[-1]}/"), auth=AUTH)
        assert response.status_code == 200
    assert os.path.exists(db)


def test_cli_prints_base_url_first_and_stops_on_sigterm() -> None:
    command = [sys.executable, "-m", "oracle_wms_sim", "serve", "--port", "0", "--seed", "9"]
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/demo", base)
        response = requests.get(f"{base}/wms/lgfapi/v10/entity/facility/", auth=AUTH, timeout=10)
        assert response.json()["result_count"] == 3
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "GET /demo/wms/lgfapi/v10/entity/facility/ 200" in err
    assert "demo:demo" not in err and "Authorization" not in err


def test_generated_foreign_keys_exist_and_stay_in_one_facility(sim: Simulator) -> None:
    """Checked in SQL on the simulator's own DB: every stored FK id resolves, and rows that
    point at facility-owned records point into their own facility."""
    conn = sqlite3.connect(sim.db_path)
    try:
        for entity in ENTITIES.values():
            for f in entity.fields:
                if f.type != "foreign_key":
                    continue
                dangling = conn.execute(
                    f"SELECT count(*) FROM {entity.name} t WHERE t.{f.name} IS NOT NULL "
                    f"AND NOT EXISTS (SELECT 1 FROM {f.related} r WHERE r.id = t.{f.name})"
                ).fetchone()[0]
                assert dangling == 0, (entity.name, f.name)
        for child, fk, parent in [
            ("inventory", "location_id", "location"),
            ("inventory", "container_id", "iblpn"),
            ("allocation", "from_location_id", "location"),
            ("allocation", "order_dtl_id", "order_dtl"),
            ("oblpn", "order_id", "order_hdr"),
            ("iblpn", "shipment_id", "ib_shipment"),
        ]:
            crossed = conn.execute(
                f"SELECT count(*) FROM {child} t JOIN {parent} r ON r.id = t.{fk} "
                "WHERE r._fac != t._fac"
            ).fetchone()[0]
            assert crossed == 0, (child, fk)
    finally:
        conn.close()


def test_datetimes_keep_their_second_near_a_whole_second() -> None:
    """SQLite's strftime rounds a fraction of .9995 or more up to the next second; the render
    must not, or a row sorted by its stored mod_ts shows a later one (seen under churn)."""
    mod_ts = ENTITIES["order_hdr"].by_name["mod_ts"]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (mod_ts TEXT, _tzmod TEXT, _tz TEXT)")
    conn.execute("INSERT INTO t VALUES ('2026-11-26T07:11:06.999721', '-360 minutes', '-06:00')")
    rendered = conn.execute(f"SELECT {value_sql(ENTITIES['order_hdr'], mod_ts)} FROM t").fetchone()
    assert rendered == ("2026-11-26T01:11:06.999721-06:00",)
