"""What target-oracle-wms sends for a pick log (docs/api-contract.md L10-L14): documented shapes
only, and the other documented form where Oracle's pages leave two. A proxy on 127.0.0.1 plays a
WMS that serves only the other form: no `close_lpn`/`wave_complete` (404, a WMS before REST 21D
/ 24D) and no `pick_list` (400 naming it; only the query-string form of the tenant-generated
OpenAPI). Outcomes are read from the simulator behind it over plain HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import requests

from oracle_wms_sim import Simulator
from tests.conftest import all_records
from tests.hostile import Hostile, Reply, Seen
from tests.test_target import messages, run_target, target_config
from tests.test_target_fulfilment import (
    PICK_SCHEMA,
    allocations,
    oblpn_status,
    pick_lines,
    picked_order,
    posts,
    waves,
)


def proxy(sim: Simulator, refuse: Callable[[Seen], Reply | None] = lambda seen: None) -> Hostile:
    """Forwards every request to `sim` (recording it), except those `refuse` answers itself."""
    prefix = sim.base_url.split("/", 3)[3]
    origin = sim.base_url[: -len(prefix) - 1]
    auth = (sim.username, sim.password)

    def forward(seen: Seen) -> Reply:
        refused = refuse(seen)
        if refused is not None:
            return refused
        url = origin + "/" + prefix + seen.path[len("/demo") :]
        if seen.method == "POST":
            body = json.loads(seen.body or b"{}")
            answer = requests.post(url, params=seen.query, json=body, auth=auth, timeout=30)
        else:
            answer = requests.get(url, params=seen.query, auth=auth, timeout=30)
        return Reply(answer.status_code, answer.content)

    return Hostile(forward)


def older_wms(sim: Simulator) -> Hostile:
    """A WMS without close_lpn/wave_complete (404) that refuses `pick_list` (400 naming it)."""

    def refuse(seen: Seen) -> Reply | None:
        if seen.path.endswith(("/close_lpn/", "/wave_complete/")):
            return Reply(404, {"code": "NOT_FOUND", "message": "Not found.", "details": {}})
        if seen.method == "POST" and b"pick_list" in seen.body:
            details = {"pick_list": "unknown field"}
            return Reply(400, {"code": "VALIDATION_ERROR", "message": "?", "details": details})
        return None

    return proxy(sim, refuse)


def test_the_target_sends_the_documented_endpoints_and_pick_list(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """On a WMS that no longer takes pick_confirm's Close, Complete and Short codes (their
    replacements' pages say so), every line still applies: a Short is a Pick with short_flg."""
    fresh_sim.set_undocumented(legacy_action_codes=False)
    allocated = picked_order(fresh_sim, "FORM-1", 2)
    (wave,) = waves(fresh_sim)[-1:]
    records = [m["record"] for m in pick_lines(fresh_sim, "FORM-1", "OB-FORM-1") if "record" in m]
    first = records[0]
    assert first["qty"] >= 2
    short = {**first, "log_id": 98, "action_code": "Short", "qty": 1, "to_container_nbr": None}
    records[0] = {**first, "qty": first["qty"] - 1}
    complete = {"facility_code": "F1", "action_code": "Complete", "wave_nbr": str(wave["run_nbr"])}
    records[1:1] = [short]  # the short before the Close
    records.append({"log_id": 99, **complete})
    lines = messages("pick_confirm", PICK_SCHEMA, ["log_id"], records)
    fresh_sim.clear_request_log()

    run = run_target(tmp_path, target_config(fresh_sim, tmp_path), lines)

    assert run.returncode == 0, run.stderr[-3000:]
    picks = posts(fresh_sim, "pick_confirm")
    assert len(picks) == len(allocated) + 1 and all(p["status"] == 204 for p in picks)
    assert all(p["query"] == {} for p in picks), "the pick_list form is a JSON body"
    (close,) = posts(fresh_sim, "close_lpn")
    (done,) = posts(fresh_sim, "wave_complete")
    assert (close["status"], done["status"]) == (204, 204)
    assert done["query"]["wave_nbr"] == str(wave["run_nbr"])
    assert oblpn_status(fresh_sim, "OB-FORM-1") == 60
    shorted = next(a for a in allocations(fresh_sim, "FORM-1") if a["id"] == allocated[0]["id"])
    assert Decimal(str(shorted["alloc_qty"])) == Decimal(str(allocated[0]["alloc_qty"])) - 1
    assert Decimal(str(shorted["packed_qty"])) == Decimal(str(first["qty"])) - 1


def test_picks_fall_back_to_the_other_documented_form(fresh_sim: Simulator, tmp_path: Path) -> None:
    allocated = picked_order(fresh_sim, "FORM-2", 2)
    lines = pick_lines(fresh_sim, "FORM-2", "OB-FORM-2")
    with older_wms(fresh_sim) as proxy:
        config = {**target_config(fresh_sim, tmp_path), "base_url": proxy.base_url}
        run = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    after = allocations(fresh_sim, "FORM-2")
    assert [Decimal(str(a["packed_qty"])) for a in after] == [
        Decimal(str(a["alloc_qty"])) for a in allocated
    ]
    assert oblpn_status(fresh_sim, "OB-FORM-2") == 60, "closed through pick_confirm's Close"
    sent = [
        (r.path.rsplit("/", 2)[-2], r.query, r.body) for r in proxy.requests if r.method == "POST"
    ]
    with_list = [s for s in sent if s[0] == "pick_confirm" and b"pick_list" in s[2]]
    assert len(with_list) == 1, "refused once; later picks go straight to the query-string form"
    in_query = [s for s in sent if s[0] == "pick_confirm" and "order_nbr" in s[1]]
    assert len(in_query) == len(allocated)
    assert [s[0] for s in sent if s[0] == "close_lpn"] == ["close_lpn"]
    closes = [s for s in sent if s[0] == "pick_confirm" and s[1].get("action_code") == "Close"]
    assert len(closes) == 1, "Close through pick_confirm, in the query-string form"
    assert "sending the other documented form" in run.stderr


def test_an_update_of_an_entity_oracle_does_not_patch_is_one_clear_line(
    sim: Simulator, tmp_path: Path
) -> None:
    config = target_config(
        sim, tmp_path, stream_actions={"items": {"entity": "item", "action": "update"}}
    )
    schema = {"type": "object", "properties": {"code": {"type": "string"}}}
    lines = messages("items", schema, ["code"], [{"code": "I1", "cust_field_1": "x"}])

    run = run_target(tmp_path, config, lines)

    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    (line,) = [ln for ln in run.stderr.splitlines() if "PATCH on a limited number" in ln]
    assert "'item' is not one of them" in line and "stream_actions" in line
    assert [r for r in sim.request_log() if r["method"] == "PATCH"] == []


def test_an_inventory_create_names_its_facility_and_company(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """inventory's describe marks `facility_id` and `company_id` required (contract G3)."""
    active, item, _ = fresh_sim.active_location_with_inventory("F1")
    (facility,) = all_records(fresh_sim, "facility", code="F1")
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    record = {"n": 1, "facility_code": "F1", "location_barcode": active, "item_code": item}
    lines = messages("found", schema, ["n"], [{**record, "curr_qty": 2, "reason_code": "FOUND"}])
    actions = {"found": {"entity": "inventory", "action": "create"}}
    with proxy(fresh_sim) as recorder:
        config = {
            **target_config(fresh_sim, tmp_path, stream_actions=actions),
            "base_url": recorder.base_url,
        }
        run = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    (create,) = [r for r in recorder.requests if r.method == "POST"]
    fields = json.loads(create.body)["fields"]
    assert (fields["facility_id"], fields["company_id"]) == (
        facility["id"],
        facility["company_id"]["id"],
    )
