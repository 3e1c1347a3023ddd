"""Users scoped to facilities and companies, per-entity read access (403), and time zones."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_simulator import AUTH, api, assert_error, walk


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(seed=17, scale=1) as running:
        running.add_user("f1", "pw", facilities=["F1"])
        running.add_user("c2", "pw", companies=["C2"])
        running.add_user("f2f3", "pw", facilities=["F2", "F3"], default_facility="F3")
        running.add_user("reader", "pw", readable_entities=["item", "facility"])
        yield running


def session(user: str) -> requests.Session:
    s = requests.Session()
    s.auth = (user, "pw") if user != "demo" else AUTH
    return s


def test_facility_user_sees_only_its_facility(sim: Simulator) -> None:
    f1 = session("f1")
    records = walk(f1, api(sim, "entity/inventory/?page_size=1250"))
    assert records and {r["facility_id"]["key"] for r in records} == {"F1"}
    everything = session("demo").get(api(sim, "entity/inventory/?page_size=1")).json()
    assert len(records) == sim.result_count("inventory", facility_id__code="F1")
    assert len(records) < everything["result_count"]
    other = session("demo").get(api(sim, "entity/inventory/?facility_id__code=F2&page_size=1"))
    hidden = other.json()["results"][0]["id"]
    assert_error(f1.get(api(sim, f"entity/inventory/{hidden}/")), 404, "NOT_FOUND")
    assert_error(f1.get(api(sim, "entity/inventory/?facility_id__code=F2")), 404, "NOT_FOUND")
    # company-level records of the facility's company only (F1 belongs to C1)
    items = walk(f1, api(sim, "entity/item/?page_size=1250"))
    assert {i["company_id"]["key"] for i in items} == {"C1"}
    assert [c["code"] for c in f1.get(api(sim, "entity/company/")).json()["results"]] == ["C1"]
    # code tables are global
    assert f1.get(api(sim, "entity/order_status/")).json()["result_count"] == 9


def test_company_and_multi_facility_users(sim: Simulator) -> None:
    c2 = walk(session("c2"), api(sim, "entity/order_hdr/?page_size=1250"))
    assert {o["company_id"]["key"] for o in c2} == {"C2"}
    both = walk(session("f2f3"), api(sim, "entity/order_hdr/?page_size=1250"))
    assert {o["facility_id"]["key"] for o in both} == {"F2", "F3"}


def test_entity_without_read_access_is_403(sim: Simulator) -> None:
    reader = session("reader")
    assert reader.get(api(sim, "entity/item/?page_size=1")).status_code == 200
    for path in ("entity/inventory/", "entity/inventory/1/", "entity/inventory/describe/"):
        body = assert_error(reader.get(api(sim, path)), 403, "PERMISSION_DENIED")
        assert "inventory" in body["message"]
    assert "inventory" in reader.get(api(sim, "entity/")).json()  # the index lists every name
    assert reader.head(api(sim, "entity/inventory/")).status_code == 403


def test_users_over_http(sim: Simulator) -> None:
    demo = session("demo")
    added = demo.post(
        sim.admin_url + "users", json={"username": "web", "password": "pw", "facilities": ["F2"]}
    )
    assert added.status_code == 200
    page = session("web").get(api(sim, "entity/facility/")).json()
    assert [f["code"] for f in page["results"]] == ["F2"]
    bad = demo.post(
        sim.admin_url + "users", json={"username": "x", "password": "pw", "facilities": ["F9"]}
    )
    assert_error(bad, 400, "VALIDATION_ERROR")


def test_timestamps_carry_the_facility_offset(sim: Simulator) -> None:
    offsets = {"F1": "-06:00", "F2": "-05:00", "F3": "+01:00"}
    for record in walk(session("demo"), api(sim, "entity/order_hdr/?page_size=1250"))[:300]:
        assert record["mod_ts"].endswith(offsets[record["facility_id"]["key"]])
        assert record["create_ts"].endswith(offsets[record["facility_id"]["key"]])


@pytest.mark.parametrize(("user", "offset_hours"), [("demo", -6), ("f1", -6), ("f2f3", 1)])
def test_naive_filter_values_are_read_in_the_default_facility_zone(
    sub_second_filters: Simulator, sim: Simulator, user: str, offset_hours: int
) -> None:
    http = session(user)
    records = walk(http, api(sim, "entity/inventory/?page_size=1250&fields=id,mod_ts"))
    stamps = sorted(datetime.fromisoformat(r["mod_ts"]) for r in records)
    zone = timezone(timedelta(hours=offset_hours))

    def at_least(instant: datetime) -> int:
        return len(stamps) - bisect.bisect_left(stamps, instant)

    # a pivot whose wall-clock text means a different set when read as UTC
    pivot = next(
        p for p in stamps if at_least(p) != at_least(p.astimezone(zone).replace(tzinfo=UTC))
    )
    naive = pivot.astimezone(zone).replace(tzinfo=None).isoformat(timespec="microseconds")
    got = http.get(api(sim, f"entity/inventory/?page_size=1&mod_ts__gte={naive}")).json()
    assert got["result_count"] == at_least(pivot)
    as_utc = naive + "%2B00:00"
    other = http.get(api(sim, f"entity/inventory/?page_size=1&mod_ts__gte={as_utc}"))
    other_count = other.json()["result_count"] if other.status_code == 200 else 0
    assert other_count == at_least(pivot.astimezone(zone).replace(tzinfo=UTC))
