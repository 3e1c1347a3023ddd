"""The simulator's JSON stage interface over real HTTP, against docs/write-api.md ("Stage
interface") and Oracle's documentation (docs/api-contract.md, section K): messages, their
`parameters`, file groups, background processing, faults and restarts. Per-record results are
read from the simulator in Python: Oracle documents no HTTP read-back of them."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from oracle_wms_sim import Simulator
from tests.test_simulator import assert_error

AUTH = ("demo", "demo")
READ_SHAPE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$")
DOCUMENT_TABLES = ("order_hdr", "order_dtl", "ib_shipment", "ib_shipment_dtl")


@pytest.fixture
def sim() -> Iterator[Simulator]:
    """A simulator of its own per test (every test here changes the warehouse); a short
    stage delay keeps the asynchronous tests quick."""
    with Simulator(seed=31, scale=1, stage_delay=0.05) as running:
        yield running


# ---- helpers ---------------------------------------------------------------------------------
def api(sim: Simulator, path: str) -> str:
    return f"{sim.api_url}{path}"


def message(
    entity: str,
    messageid: str,
    records: list[Any],
    *,
    async_flg: bool | None = True,
    facility: str = "F1",
    company: str = "C1",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "header": {
            "document_version": "25D",
            "origin_system": "tests",
            "entity": entity,
            "messageid": messageid,
            "facility_code": facility,
            "company_code": company,
        },
        f"stage_{entity}_list": records,
    }
    if async_flg is not None:
        body["async_flg"] = async_flg
    return body


def post(
    http: requests.Session, sim: Simulator, entity: str, body: Any, **kwargs: Any
) -> requests.Response:
    return http.post(api(sim, f"stage/{entity}/"), json=body, **kwargs)


def result(http: requests.Session, sim: Simulator, entity: str, messageid: str) -> Any:
    """The newest file group of `messageid`: Oracle documents no read-back of stage results, so
    the tests read them from the simulator in Python (`Stage.file_groups`), never over HTTP."""
    return sim.stage.file_groups(entity, messageid)[-1]


def staged(http: requests.Session, sim: Simulator, entity: str, body: Any) -> Any:
    """POST a message, then its results (for a synchronous one, already final)."""
    response = post(http, sim, entity, body)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"messageid", "file_group_nbr", "entity", "record_count"}
    return result(http, sim, entity, body["header"]["messageid"])


def processed(
    http: requests.Session, sim: Simulator, entity: str, messageid: str, timeout: float = 15
) -> dict[str, Any]:
    """Poll the results until the message is PROCESSED."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = result(http, sim, entity, messageid)
        if body["status"] == "PROCESSED":
            return body
        assert time.monotonic() < deadline, f"{messageid} still {body['status']}"
        time.sleep(0.05)


def records(http: requests.Session, sim: Simulator, entity: str, **filters: Any) -> Any:
    """The matching records, ordered by id; [] for Oracle's empty-list 404."""
    response = http.get(
        api(sim, f"entity/{entity}/"), params={"ordering": "id", "page_size": 1250, **filters}
    )
    if response.status_code == 404:
        return []
    assert response.status_code == 200, response.text
    return response.json()["results"]


def order(http: requests.Session, sim: Simulator, order_nbr: str, facility: str = "F1") -> Any:
    (found,) = records(http, sim, "order_hdr", order_nbr=order_nbr, facility_id__code=facility)
    return found


def lines(http: requests.Session, sim: Simulator, order_id: int) -> dict[int, Any]:
    return {line["seq_nbr"]: line for line in records(http, sim, "order_dtl", order_id=order_id)}


def codes(http: requests.Session, sim: Simulator, entity: str, company: str, n: int) -> list[str]:
    """The first `n` item codes (or vendor codes) of a company."""
    key = "vendor_code" if entity == "vendor" else "code"
    found = records(http, sim, entity, company_id__code=company)[:n]
    return [str(r[key]) for r in found]


def fingerprint(sim: Simulator) -> dict[str, tuple[Any, ...]]:
    """Row count and newest mod_ts of the document tables: equal means nothing was written."""
    conn = sqlite3.connect(sim.db_path)
    try:
        return {
            table: conn.execute(f"SELECT count(*), max(mod_ts) FROM {table}").fetchone()
            for table in DOCUMENT_TABLES
        }
    finally:
        conn.close()


def new_order(
    nbr: str, items: list[str], qtys: list[str], action: str = "CREATE", **fields: Any
) -> dict[str, Any]:
    dtl = [
        {"seq_nbr": i + 1, "item_code": item, "ord_qty": qty}
        for i, (item, qty) in enumerate(zip(items, qtys, strict=True))
    ]
    return {"action_code": action, "order_nbr": nbr, "stage_order_dtl_list": dtl, **fields}


# ---- CREATE, asynchronous and synchronous ------------------------------------------------------
def test_async_create_is_queued_then_processed_and_readable(
    tmp_path: Path, http: requests.Session
) -> None:
    with Simulator(
        seed=31, db_path=tmp_path / "wms.sqlite", stage_delay=1.0, whole_second_filters=False
    ) as sim:
        items = codes(http, sim, "item", "C1", 2)
        newest_before = fingerprint(sim)["order_hdr"][1]
        record = new_order(
            "WEB-1001",
            items,
            ["5", "2.5"],
            order_type="RUSH",
            ord_date="2026-11-20",
            req_ship_date="2026-11-28",
            priority=40,
            cust_name="ACME",
            cust_field_1="x",
        )
        record["stage_order_dtl_list"][0]["unit_sale_price"] = "12.50"
        body = message("order", "async-1", [record])
        answer = post(http, sim, "order", body)
        assert answer.status_code == 200, answer.text
        ack = answer.json()
        assert (ack["messageid"], ack["entity"], ack["record_count"]) == ("async-1", "order", 1)
        assert re.fullmatch(r"async-1\d{14}", ack["file_group_nbr"])
        queued = result(http, sim, "order", "async-1")
        assert (queued["status"], queued["results"], queued["processed_ts"]) == ("QUEUED", [], None)
        assert records(http, sim, "order_hdr", order_nbr="WEB-1001") == []

        done = processed(http, sim, "order", "async-1")
        header = order(http, sim, "WEB-1001")
        assert done["results"] == [
            {
                "index": 0,
                "action_code": "CREATE",
                "key": "WEB-1001",
                "status": "PROCESSED",
                "id": header["id"],
                "errors": {},
            }
        ]
        assert (done["success_count"], done["failure_count"]) == (1, 0)
        assert done["file_group_nbr"] == ack["file_group_nbr"]
        assert READ_SHAPE.match(done["received_ts"]) and done["received_ts"].endswith("-06:00")
        assert READ_SHAPE.match(done["processed_ts"])
        received, finished = (
            datetime.fromisoformat(done[k]) for k in ("received_ts", "processed_ts")
        )
        assert (finished - received).total_seconds() >= 0.9  # the stage delay

        assert header["order_type_id"]["key"] == "RUSH" and header["status_id"] == 0
        assert (header["company_id"]["key"], header["facility_id"]["key"]) == ("C1", "F1")
        assert (header["ord_date"], header["req_ship_date"]) == ("2026-11-20", "2026-11-28")
        assert (header["priority"], header["cust_name"], header["cust_field_1"]) == (
            40,
            "ACME",
            "x",
        )
        assert header["total_orig_ord_qty"] == "7.500"
        assert (header["create_user"], header["mod_user"]) == ("demo", "demo")
        assert header["create_ts"] == header["mod_ts"]
        assert header["order_dtl_set"]["result_count"] == 2
        dtl = lines(http, sim, header["id"])
        assert sorted(dtl) == [1, 2]
        for seq, item, qty in ((1, items[0], "5.000"), (2, items[1], "2.500")):
            line = dtl[seq]
            assert line["item_id"]["key"] == item and line["order_id"]["key"] == "WEB-1001"
            assert (line["ord_qty"], line["orig_ord_qty"], line["alloc_qty"]) == (qty, qty, "0.000")
            assert (line["status_id"], line["create_user"], line["mod_user"]) == (0, "demo", "demo")
        assert (dtl[1]["unit_sale_price"], dtl[2]["unit_sale_price"]) == ("12.50", "0.00")

        # an incremental reader on mod_ts sees exactly the new order
        changed = records(http, sim, "order_hdr", mod_ts__gt=newest_before + "+00:00")
        assert [r["order_nbr"] for r in changed] == ["WEB-1001"]


def test_sync_message_is_processed_before_the_answer(
    sim: Simulator, http: requests.Session
) -> None:
    items = codes(http, sim, "item", "C2", 1)
    for messageid, flag, nbr in (("sync-1", False, "EU-1"), ("sync-default", None, "EU-2")):
        body = message("order", messageid, [new_order(nbr, items, ["3"], order_type="STD")])
        body["header"].update(facility_code="F3", company_code="C2")
        if flag is None:
            body.pop("async_flg", None)
        else:
            body["async_flg"] = flag
        answer = post(http, sim, "order", body)
        assert answer.status_code == 200, answer.text
        created = order(http, sim, nbr, "F3")  # readable as soon as the answer arrives
        done = result(http, sim, "order", messageid)
        assert done["status"] == "PROCESSED"
        assert done["received_ts"].endswith("+01:00")  # the facility's zone, as reads render
        assert done["results"] == [
            {
                "index": 0,
                "action_code": "CREATE",
                "key": nbr,
                "status": "PROCESSED",
                "id": created["id"],
                "errors": {},
            }
        ]
        assert created["company_id"]["key"] == "C2" and created["ord_date"] is not None


def test_a_failed_record_leaves_nothing_and_the_others_apply(
    sim: Simulator, http: requests.Session
) -> None:
    items = codes(http, sim, "item", "C1", 2)
    bad = new_order("BAD-1", ["NOPE", items[1]], ["1", "2"], order_type="STD")
    good = new_order("GOOD-1", items, ["1", "2"], order_type="STD")
    odd = new_order("ODD-1", items, ["0", "1"], order_type="NOPE", colour="red")
    odd["stage_order_dtl_list"][1]["seq_nbr"] = 1
    before = fingerprint(sim)
    done = staged(
        http, sim, "order", message("order", "mixed", [bad, good, odd, "text"], async_flg=False)
    )
    assert (done["record_count"], done["success_count"], done["failure_count"]) == (4, 1, 3)
    first, second, third, fourth = done["results"]
    assert first == {
        "index": 0,
        "action_code": "CREATE",
        "key": "BAD-1",
        "status": "FAILED",
        "id": None,
        "errors": {
            "stage_order_dtl_list[0].item_code": "Item 'NOPE' does not exist in company C1."
        },
    }
    assert second["status"] == "PROCESSED" and second["id"] == order(http, sim, "GOOD-1")["id"]
    assert set(third["errors"]) == {
        "colour",
        "order_type",
        "stage_order_dtl_list[0].ord_qty",
        "stage_order_dtl_list[1].seq_nbr",
    }
    assert third["errors"]["order_type"] == "Order type 'NOPE' does not exist."
    assert fourth == {
        "index": 3,
        "action_code": None,
        "key": None,
        "status": "FAILED",
        "id": None,
        "errors": {"record": "must be an object"},
    }
    # nothing of the failed documents exists: only GOOD-1 and its two lines were written
    assert records(http, sim, "order_hdr", order_nbr__in="BAD-1,ODD-1") == []
    after = fingerprint(sim)
    assert after["order_hdr"][0] == before["order_hdr"][0] + 1
    assert after["order_dtl"][0] == before["order_dtl"][0] + 2


def test_create_of_an_existing_order_fails_naming_order_nbr(
    sim: Simulator, http: requests.Session
) -> None:
    existing, _ = sim.order_with_lines("F1")
    items = codes(http, sim, "item", "C1", 1)
    original = order(http, sim, existing)
    done = staged(
        http,
        sim,
        "order",
        message(
            "order",
            "exists",
            [
                new_order(existing, items, ["1"], order_type="STD"),
                new_order("TWICE", items, ["1"], order_type="STD"),
                new_order("TWICE", items, ["9"], order_type="STD"),
            ],
            async_flg=False,
        ),
    )
    assert [r["status"] for r in done["results"]] == ["FAILED", "PROCESSED", "FAILED"]
    assert done["results"][0]["errors"] == {
        "order_nbr": f"Order '{existing}' already exists in facility F1."
    }
    assert done["results"][2]["errors"] == {
        "order_nbr": "Order 'TWICE' already exists in facility F1."
    }
    assert order(http, sim, existing) == original
    (line,) = lines(http, sim, order(http, sim, "TWICE")["id"]).values()
    assert line["ord_qty"] == "1.000"  # the second TWICE changed nothing
    # the key is unique per facility: the same number is free in F2
    other = staged(
        http,
        sim,
        "order",
        message(
            "order",
            "exists-f2",
            [new_order(existing, items, ["1"], order_type="STD")],
            async_flg=False,
            facility="F2",
        ),
    )
    assert other["results"][0]["status"] == "PROCESSED"
    assert order(http, sim, existing, "F2")["id"] != original["id"]


# ---- UPDATE and DELETE ---------------------------------------------------------------------------
def test_update_changes_and_adds_lines_and_refuses_a_shipped_order(
    sim: Simulator, http: requests.Session
) -> None:
    items = codes(http, sim, "item", "C1", 3)
    create = new_order("UPD-1", items[:2], ["4", "6"], order_type="STD", priority=10)
    post(http, sim, "order", message("order", "upd-create", [create], async_flg=False))
    before = order(http, sim, "UPD-1")
    old_lines = lines(http, sim, before["id"])
    update = {
        "action_code": "UPDATE",
        "order_nbr": "UPD-1",
        "priority": 90,
        "req_ship_date": None,
        "stage_order_dtl_list": [
            {"seq_nbr": 1, "ord_qty": "7"},
            {"seq_nbr": 3, "item_code": items[2], "ord_qty": "2", "cust_field_1": "new"},
        ],
    }
    done = staged(http, sim, "order", message("order", "upd-1", [update], async_flg=False))
    assert done["results"][0]["status"] == "PROCESSED", done
    assert done["results"][0]["id"] == before["id"]
    after = order(http, sim, "UPD-1")
    assert (after["priority"], after["req_ship_date"], after["order_type_id"]["key"]) == (
        90,
        None,
        "STD",
    )
    assert after["total_orig_ord_qty"] == "12.000"  # 10 created + the added line's 2
    assert datetime.fromisoformat(after["mod_ts"]) > datetime.fromisoformat(before["mod_ts"])
    assert after["create_ts"] == before["create_ts"]
    new_lines = lines(http, sim, before["id"])
    assert sorted(new_lines) == [1, 2, 3]
    assert (new_lines[1]["ord_qty"], new_lines[1]["orig_ord_qty"]) == ("7.000", "4.000")
    assert new_lines[1]["item_id"] == old_lines[1]["item_id"]
    assert new_lines[2] == old_lines[2]  # not named: unchanged, mod_ts included
    assert new_lines[3]["item_id"]["key"] == items[2] and new_lines[3]["cust_field_1"] == "new"
    assert (new_lines[3]["ord_qty"], new_lines[3]["status_id"]) == ("2.000", 0)

    # a new line needs its item and quantity; an unknown key is named
    failing = [
        {"action_code": "UPDATE", "order_nbr": "UPD-1", "stage_order_dtl_list": [{"seq_nbr": 4}]},
        {"action_code": "UPDATE", "order_nbr": "NO-SUCH", "priority": 1},
    ]
    done = staged(http, sim, "order", message("order", "upd-2", failing, async_flg=False))
    assert done["results"][0]["errors"] == {
        "stage_order_dtl_list[0].ord_qty": "is required",
        "stage_order_dtl_list[0].item_code": "is required",
    }
    assert done["results"][1]["errors"] == {
        "order_nbr": "Order 'NO-SUCH' does not exist in facility F1."
    }

    shipped, seqs = sim.order_with_lines("F1", status="shipped")
    untouched = fingerprint(sim)
    refused = {
        "action_code": "UPDATE",
        "order_nbr": shipped,
        "stage_order_dtl_list": [{"seq_nbr": seqs[0], "ord_qty": "1"}],
    }
    done = staged(http, sim, "order", message("order", "upd-3", [refused], async_flg=False))
    assert done["results"][0]["status"] == "FAILED"
    assert done["results"][0]["errors"] == {
        "status_id": f"Order {shipped} is Shipped: it can no longer be changed."
    }
    assert fingerprint(sim) == untouched


def test_delete_removes_the_document_in_its_first_status_only(
    sim: Simulator, http: requests.Session
) -> None:
    items = codes(http, sim, "item", "C1", 2)
    post(
        http,
        sim,
        "order",
        message(
            "order",
            "del-0",
            [new_order("DEL-1", items, ["1", "1"], order_type="STD")],
            async_flg=False,
        ),
    )
    created = order(http, sim, "DEL-1")
    created_lines = sorted(line["id"] for line in lines(http, sim, created["id"]).values())
    # past its first status (Partly Allocated: the coherent generated warehouse has few orders
    # whose every line is fully allocated)
    allocated = records(http, sim, "order_hdr", status_id=10, facility_id__code="F1")[0]
    delete = [
        {"action_code": "DELETE", "order_nbr": "DEL-1", "order_type": "STD"},
        {"action_code": "DELETE", "order_nbr": "DEL-1"},
        {"action_code": "DELETE", "order_nbr": allocated["order_nbr"]},
    ]
    done = staged(http, sim, "order", message("order", "del-1", delete, async_flg=False))
    assert [r["status"] for r in done["results"]] == ["PROCESSED", "FAILED", "FAILED"]
    assert done["results"][0]["id"] == created["id"]
    assert done["results"][1]["errors"] == {
        "order_nbr": "Order 'DEL-1' does not exist in facility F1."
    }
    assert done["results"][2]["errors"] == {
        "status_id": f"Order {allocated['order_nbr']} is Partly allocated: "
        "it can be deleted only in status Created."
    }
    assert records(http, sim, "order_hdr", order_nbr="DEL-1") == []
    assert records(http, sim, "order_dtl", order_id=created["id"]) == []
    assert http.get(api(sim, f"entity/order_hdr/{created['id']}/")).status_code == 404
    assert order(http, sim, allocated["order_nbr"]) == allocated
    # deleted ids are never reused
    post(
        http,
        sim,
        "order",
        message(
            "order",
            "del-2",
            [new_order("DEL-1", items[:1], ["1"], order_type="STD")],
            async_flg=False,
        ),
    )
    again = order(http, sim, "DEL-1")
    assert again["id"] > created["id"]
    (line,) = lines(http, sim, again["id"]).values()
    assert line["id"] > created_lines[-1]  # the deleted lines' ids stay taken too


# ---- ASNs --------------------------------------------------------------------------------------
def test_asn_create_with_vendor_and_lines(sim: Simulator, http: requests.Session) -> None:
    items = codes(http, sim, "item", "C1", 2)
    (vendor,) = codes(http, sim, "vendor", "C1", 1)
    (foreign_vendor,) = codes(http, sim, "vendor", "C2", 1)
    asn = {
        "action_code": "CREATE",
        "shipment_nbr": "ASN-WEB-1",
        "vendor_code": vendor,
        "trailer_nbr": "TRL-9",
        "ref_nbr": "PO-77",
        "exp_arrival_date": "2026-12-01",
        "stage_ib_shipment_dtl_list": [
            {"seq_nbr": 1, "item_code": items[0], "shipped_qty": "10", "lpn_nbr": "LPN-1"},
            {"seq_nbr": 2, "item_code": items[1], "shipped_qty": 4.5},
        ],
    }
    wrong = {**asn, "shipment_nbr": "ASN-WEB-2", "vendor_code": foreign_vendor}
    body = message("ib_shipment", "asn-1", [asn, wrong])
    assert post(http, sim, "ib_shipment", body).status_code == 200
    assert result(http, sim, "ib_shipment", "asn-1")["status"] == "QUEUED"
    done = processed(http, sim, "ib_shipment", "asn-1")
    assert [r["status"] for r in done["results"]] == ["PROCESSED", "FAILED"]
    assert done["results"][1]["errors"] == {
        "vendor_code": f"Vendor '{foreign_vendor}' does not exist in company C1."
    }
    (shipment,) = records(http, sim, "ib_shipment", shipment_nbr="ASN-WEB-1")
    assert done["results"][0]["id"] == shipment["id"]
    assert (shipment["vendor_id"]["key"], shipment["status_id"]) == (vendor, 0)
    assert (shipment["trailer_nbr"], shipment["ref_nbr"], shipment["exp_arrival_date"]) == (
        "TRL-9",
        "PO-77",
        "2026-12-01",
    )
    assert (shipment["facility_id"]["key"], shipment["create_user"]) == ("F1", "demo")
    dtl = records(http, sim, "ib_shipment_dtl", shipment_id=shipment["id"], ordering="seq_nbr")
    assert [
        (d["seq_nbr"], d["item_id"]["key"], d["shipped_qty"], d["received_qty"], d["lpn_nbr"])
        for d in dtl
    ] == [
        (1, items[0], "10.000", "0.000", "LPN-1"),
        (2, items[1], "4.500", "0.000", None),
    ]
    assert records(http, sim, "ib_shipment", shipment_nbr="ASN-WEB-2") == []
    # message ids are per entity: the same id on the order interface is its own file group
    other = staged(
        http,
        sim,
        "order",
        message("order", "asn-1", [{"action_code": "DELETE", "order_nbr": "X"}], async_flg=False),
    )
    assert [r["status"] for r in other["results"]] == ["FAILED"]
    assert len(sim.stage.file_groups("ib_shipment", "asn-1")) == 1


# ---- message ids, file groups, parameters, malformed messages -----------------------------------
def test_a_resent_messageid_is_a_new_file_group_processed_again(
    sim: Simulator, http: requests.Session
) -> None:
    """Readiness 24D: the file group is the message id plus a timestamp, so nothing stops a
    message id from being processed again; its CREATEs meet the documents the first made."""
    items = codes(http, sim, "item", "C1", 1)
    first = message("order", "dup-1", [new_order("DUP-1", items, ["1"], order_type="STD")])
    answer = post(http, sim, "order", first)
    assert re.fullmatch(r"dup-1\d{14}", answer.json()["file_group_nbr"])
    processed(http, sim, "order", "dup-1")
    created = order(http, sim, "DUP-1")
    second = message(
        "order",
        "dup-1",
        [
            new_order("DUP-2", items, ["5"], order_type="STD"),
            new_order("DUP-1", items, ["9"], order_type="STD"),
            {"action_code": "UPDATE", "order_nbr": "DUP-1", "priority": 3},
        ],
        async_flg=False,
    )
    done = staged(http, sim, "order", second)
    assert [r["status"] for r in done["results"]] == ["PROCESSED", "FAILED", "PROCESSED"]
    assert done["results"][1]["errors"] == {
        "order_nbr": "Order 'DUP-1' already exists in facility F1."
    }
    groups = sim.stage.file_groups("order", "dup-1")
    assert [g["record_count"] for g in groups] == [1, 3]
    assert all(re.fullmatch(r"dup-1\d{14}", g["file_group_nbr"]) for g in groups)
    assert len(records(http, sim, "order_hdr", order_nbr="DUP-2")) == 1
    (again,) = records(http, sim, "order_hdr", order_nbr="DUP-1")
    assert (again["id"], again["priority"]) == (created["id"], 3)
    assert sorted(lines(http, sim, created["id"])) == [1]  # the refused CREATE added nothing


def test_concurrent_posts_of_one_messageid_are_each_processed(sim: Simulator) -> None:
    items_http = requests.Session()
    items_http.auth = AUTH
    items = codes(items_http, sim, "item", "C1", 1)
    statuses: list[int] = []
    start = threading.Barrier(6)

    def send(n: int) -> None:
        with requests.Session() as session:
            session.auth = AUTH
            body = message(
                "order",
                "race",
                [new_order(f"RACE-{n}", items, ["1"], order_type="STD")],
                async_flg=False,
            )
            start.wait()
            statuses.append(post(session, sim, "order", body).status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 6
    made = records(items_http, sim, "order_hdr", order_nbr__startswith="RACE-")
    assert sorted(r["order_nbr"] for r in made) == [f"RACE-{n}" for n in range(6)]
    groups = sim.stage.file_groups("order", "race")
    assert [g["status"] for g in groups] == ["PROCESSED"] * 6


def test_file_group_without_timestamp_and_appending_to_its_header(
    sim: Simulator, http: requests.Session
) -> None:
    """Readiness 24D, `parameters`: `file_group_num_without_timestamp_flg` makes the file group
    the bare message id; `prevent_stage_hdr_record_creation_flg` appends the lines of a document
    sent again in the same file group to its header instead of creating a new one."""
    items = codes(http, sim, "item", "C1", 3)
    flags = {
        "file_group_num_without_timestamp_flg": "y",
        "prevent_stage_hdr_record_creation_flg": "Y",
    }
    batch_1 = message(
        "order", "ship-set-7", [new_order("SET-7", items[:2], ["1", "2"], order_type="STD")]
    )
    batch_1["parameters"] = flags
    answer = post(http, sim, "order", batch_1 | {"async_flg": False})
    assert answer.json()["file_group_nbr"] == "ship-set-7"
    rest = new_order("SET-7", [items[2]], ["3"], order_type="STD")
    rest["stage_order_dtl_list"][0]["seq_nbr"] = 3
    batch_2 = message("order", "ship-set-7", [rest], async_flg=False)
    batch_2["parameters"] = flags
    done = staged(http, sim, "order", batch_2)
    assert [r["status"] for r in done["results"]] == ["PROCESSED"], done
    header = order(http, sim, "SET-7")
    assert done["results"][0]["id"] == header["id"]
    got = {
        seq: (line["item_id"]["key"], line["ord_qty"])
        for seq, line in lines(http, sim, header["id"]).items()
    }
    assert got == {1: (items[0], "1.000"), 2: (items[1], "2.000"), 3: (items[2], "3.000")}
    assert header["total_orig_ord_qty"] == "6.000"
    assert len(records(http, sim, "order_hdr", order_nbr="SET-7")) == 1

    # without the prevent flag, the same document in the same file group is refused
    plain = message(
        "order",
        "ship-set-7",
        [new_order("SET-7", items[:1], ["1"], order_type="STD")],
        async_flg=False,
    )
    plain["parameters"] = {
        "file_group_num_without_timestamp_flg": True,
        "prevent_stage_hdr_record_creation_flg": "no",
    }
    refused = staged(http, sim, "order", plain)
    assert refused["file_group_nbr"] == "ship-set-7"
    assert refused["results"][0]["errors"] == {
        "order_nbr": "Order 'SET-7' already exists in facility F1."
    }
    # the prevent flag appends only within the file group: another group's CREATE is refused
    other = message("order", "ship-set-8", [rest], async_flg=False)
    other["parameters"] = {"prevent_stage_hdr_record_creation_flg": "yes"}
    assert staged(http, sim, "order", other)["results"][0]["status"] == "FAILED"
    # the defaults: a timestamped file group; an empty `parameters` is the defaults
    default = message(
        "order",
        "ship-set-9",
        [new_order("SET-9", items[:1], ["1"], order_type="STD")],
        async_flg=False,
    )
    default["parameters"] = {}
    assert re.fullmatch(r"ship-set-9\d{14}", staged(http, sim, "order", default)["file_group_nbr"])


def test_malformed_messages_are_400_and_take_no_messageid(
    sim: Simulator, http: requests.Session
) -> None:
    items = codes(http, sim, "item", "C1", 1)
    good = [new_order("MAL-1", items, ["1"], order_type="STD")]

    def body(**changes: Any) -> dict[str, Any]:
        out = message("order", "mal-1", good)
        for name, value in changes.items():
            if name.startswith("header_"):
                out["header"][name[len("header_") :]] = value
            elif value is None:
                out.pop(name)
            else:
                out[name] = value
        return out

    too_long = "m" * 101
    cases: list[tuple[Any, set[str]]] = [
        ([1, 2], {"body"}),
        (body(header=None), {"header"}),
        (body(header=["x"]), {"header"}),
        (body(header_messageid=None), {"header.messageid"}),
        (body(header_messageid=too_long), {"header.messageid"}),
        (body(stage_order_list=None), {"stage_order_list"}),
        (body(stage_order_list={"action_code": "CREATE"}), {"stage_order_list"}),
        (body(stage_order_list=[]), {"stage_order_list"}),
        (body(stage_order_list=good * 1001), {"stage_order_list"}),
        (body(header_entity="ib_shipment"), {"header.entity"}),
        (body(header_facility_code="F9"), {"header.facility_code"}),
        (body(header_facility_code="F3"), {"header.facility_code"}),  # F3 belongs to C2
        (body(header_company_code=None), {"header.company_code"}),
        (body(header_colour="red"), {"header.colour"}),
        (body(async_flg="yes"), {"async_flg"}),
        (body(options={}), {"options"}),
        (body(parameters=["y"]), {"parameters"}),
        (body(parameters={"async": "y"}), {"parameters.async"}),
        (
            body(parameters={"file_group_num_without_timestamp_flg": "maybe"}),
            {"parameters.file_group_num_without_timestamp_flg"},
        ),
        (
            body(parameters={"prevent_stage_hdr_record_creation_flg": 1}),
            {"parameters.prevent_stage_hdr_record_creation_flg"},
        ),
        (
            body(header_messageid=None, stage_ib_shipment_list=[]),
            {"header.messageid", "stage_ib_shipment_list"},
        ),
    ]
    before = fingerprint(sim)
    for sent, named in cases:
        response = post(http, sim, "order", sent)
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert set(error["details"]) == named, (
            sent if not isinstance(sent, dict) else named,
            error,
        )
    assert (
        "does not belong to company C1"
        in assert_error(
            post(http, sim, "order", body(header_facility_code="F3")), 400, "VALIDATION_ERROR"
        )["details"]["header.facility_code"]
    )
    garbage = http.post(
        api(sim, "stage/order/"), data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert set(assert_error(garbage, 400, "VALIDATION_ERROR")["details"]) == {"body"}
    assert fingerprint(sim) == before
    assert sim.stage.file_groups("order", "mal-1") == []  # nothing was stored
    accepted = staged(http, sim, "order", body(async_flg=False))
    assert (accepted["record_count"], accepted["success_count"]) == (1, 1)
    # 1,000 records is the limit, not an error
    limit = post(
        http,
        sim,
        "order",
        message(
            "order",
            "mal-1000",
            [{"action_code": "DELETE", "order_nbr": f"N{i}"} for i in range(1000)],
        ),
    )
    assert limit.json()["record_count"] == 1000


def test_routes_formats_and_no_read_back(sim: Simulator, http: requests.Session) -> None:
    for path in ("stage/item/", "stage/", "stage/order/5/", "stage"):
        error = assert_error(http.post(api(sim, path), json={}), 404, "NOT_FOUND")
        assert "ib_shipment, order" in error["message"]
    # Oracle documents no GET of stage results: the interface takes POST only
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = http.request(method, api(sim, "stage/order/"), params={"messageid": "x"})
        assert_error(response, 405, "METHOD_NOT_ALLOWED")
        assert response.headers["Allow"] == "POST"
    head = http.head(api(sim, "stage/order/"), params={"messageid": "x"})
    assert (head.status_code, head.headers["Allow"]) == (405, "POST")
    xml = http.post(api(sim, "stage/order/?format=xml"), json={})
    assert xml.status_code == 400 and b"format" in xml.content
    # the simulator's own choices, configurable: the interfaces served and the record cap
    sim.stage.entities = frozenset({"order"})
    gone = http.post(api(sim, "stage/ib_shipment/"), json={})
    assert "supported: order." in assert_error(gone, 404, "NOT_FOUND")["message"]
    sim.stage.max_records = 2
    three = [{"action_code": "DELETE", "order_nbr": f"N{i}"} for i in range(3)]
    over = assert_error(
        post(http, sim, "order", message("order", "cap", three)), 400, "VALIDATION_ERROR"
    )
    assert over["details"] == {"stage_order_list": "at most 2 records (got 3)"}
    assert staged(http, sim, "order", message("order", "cap", three[:2]))["record_count"] == 2


# ---- permissions, faults, restarts ---------------------------------------------------------------
def test_permissions_and_scope(sim: Simulator, http: requests.Session) -> None:
    items = codes(http, sim, "item", "C1", 1)
    sim.add_user("viewer", "pw", writable=False)
    sim.add_user("f2", "pw", facilities=["F2"])
    sim.add_user("no-orders", "pw", readable_entities=["item"])
    body = message(
        "order", "perm-1", [new_order("PERM-1", items, ["1"], order_type="STD")], async_flg=False
    )
    before = fingerprint(sim)
    refused = post(http, sim, "order", body, auth=("viewer", "pw"))
    assert "create" in assert_error(refused, 403, "PERMISSION_DENIED")["message"]
    assert_error(post(http, sim, "order", body, auth=("no-orders", "pw")), 403, "PERMISSION_DENIED")
    outside = assert_error(
        post(http, sim, "order", body, auth=("f2", "pw")), 400, "VALIDATION_ERROR"
    )
    assert list(outside["details"]) == ["header.facility_code"]
    assert fingerprint(sim) == before
    assert sim.stage.file_groups("order", "perm-1") == []
    done = staged(http, sim, "order", body)
    assert done["success_count"] == 1


def test_lost_response_still_processes_and_a_resend_is_processed_again(
    sim: Simulator, http: requests.Session
) -> None:
    items = codes(http, sim, "item", "C1", 1)
    body = message("order", "lost-1", [new_order("LOST-1", items, ["2"], order_type="STD")])
    sim.add_fault("lost_response", next=1, path_contains="stage/order")
    with pytest.raises(requests.ConnectionError):
        post(http, sim, "order", body)
    entry = [e for e in sim.request_log() if e["method"] == "POST"][-1]
    assert (entry["status"], entry["fault"]) == (200, "lost_response")
    done = processed(http, sim, "order", "lost-1")
    assert done["success_count"] == 1
    (created,) = records(http, sim, "order_hdr", order_nbr="LOST-1")
    resent = staged(http, sim, "order", body | {"async_flg": False})
    assert resent["results"][0]["errors"] == {
        "order_nbr": "Order 'LOST-1' already exists in facility F1."
    }
    assert len(sim.stage.file_groups("order", "lost-1")) == 2
    assert records(http, sim, "order_hdr", order_nbr="LOST-1") == [created]

    # 409 does not occur on the stage interface: the fault waits for the next entity write
    sim.add_fault("409", next=1)
    answer = post(
        http,
        sim,
        "order",
        message(
            "order", "no-409", [new_order("N409", items, ["1"], order_type="STD")], async_flg=False
        ),
    )
    assert answer.status_code == 200
    assert result(http, sim, "order", "no-409")["success_count"] == 1
    patched = http.patch(
        api(sim, f"entity/order_hdr/{created['id']}/"), json={"fields": {"priority": 1}}
    )
    assert_error(patched, 409, "RECORD_CHANGED")


def test_a_queued_message_is_processed_after_a_restart(
    tmp_path: Path, http: requests.Session
) -> None:
    db = tmp_path / "wms.sqlite"
    running = set(threading.enumerate())  # other tests' simulators have their own workers
    with Simulator(seed=8, db_path=db, stage_delay=60) as first:
        items = codes(http, first, "item", "C1", 1)
        body = message("order", "restart-1", [new_order("RST-1", items, ["3"], order_type="ECOM")])
        assert post(http, first, "order", body).status_code == 200
        assert result(http, first, "order", "restart-1")["status"] == "QUEUED"
    leaked = [t for t in threading.enumerate() if t.name == "sim-stage" and t not in running]
    assert not leaked
    conn = sqlite3.connect(db)
    try:
        assert conn.execute(
            "SELECT count(*) FROM order_hdr WHERE order_nbr = 'RST-1'"
        ).fetchone() == (0,)
    finally:
        conn.close()
    with Simulator(seed=8, db_path=db, stage_delay=0.05) as second:
        done = processed(http, second, "order", "restart-1")
        created = order(http, second, "RST-1")
        assert (
            done["results"][0]["id"] == created["id"] and created["order_type_id"]["key"] == "ECOM"
        )
    with Simulator(seed=8, db_path=db) as third:  # the file groups are kept in the file
        assert third.stage.file_groups("order", "restart-1") == [done]
        assert len(records(http, third, "order_hdr", order_nbr="RST-1")) == 1
