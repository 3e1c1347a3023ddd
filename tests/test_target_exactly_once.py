"""Exactly-once proofs tied to the target's own operation (issue 22, item 2): a pick the WMS
spreads over several allocations of one line, a lost answer, a rerun; counted in the WMS (units
packed, inventory, history rows), never in the target's report.

Set-up comes from plain HTTP requests to the simulator, never from the target under test.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from oracle_wms_sim import Simulator
from tests.conftest import all_records
from tests.hostile import Hostile, Reply, Seen, pass_through
from tests.test_target import messages, run_target, target_config
from tests.test_target_fulfilment import (
    PICK_SCHEMA,
    TEMPLATE_WAVE_SCHEMA,
    WAVE_SCHEMA,
    allocations,
    manual_wave,
    post,
    posts,
    stage_order,
    stock,
    wait_completed,
    waves,
)


def split_order(
    sim: Simulator, order_nbr: str, quantities: tuple[int, ...]
) -> list[dict[str, Any]]:
    """An order with one line per quantity, all of one item, waved by hand from one location:
    one allocation per line (the WMS's own split), oldest first."""
    item = next(code for _, code, qty in stock(sim, 6) if qty >= sum(quantities))
    stage_order(sim, order_nbr, [(item, q) for q in quantities])
    manual_wave(sim, order_nbr, list(range(1, len(quantities) + 1)))
    found = sorted(allocations(sim, order_nbr), key=lambda a: int(a["id"]))
    assert [Decimal(str(a["alloc_qty"])) for a in found] == [Decimal(q) for q in quantities]
    assert len({a["from_location_id"]["key"] for a in found}) == 1, "one location for the lines"
    return found


def pick(log_id: int, order_nbr: str, allocation: dict[str, Any], qty: float, lpn: str) -> Any:
    return {
        "log_id": log_id,
        "facility_code": "F1",
        "action_code": "Pick",
        "order_nbr": order_nbr,
        "item_code": allocation["item_id"]["key"],
        "qty": qty,
        "pick_location": allocation["from_location_id"]["key"],
        "to_container_nbr": lpn,
    }


def packed(sim: Simulator, order_nbr: str) -> Decimal:
    return sum((Decimal(str(a["packed_qty"])) for a in allocations(sim, order_nbr)), Decimal(0))


def test_a_lost_answer_of_a_pick_spread_over_two_allocations_is_not_picked_again(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """Allocations of 4 and 10; log 1 picks 3 (all from the first), log 2 picks 3 more: the
    WMS puts 1 on the first and 2 on the second, and that answer is lost. Watching the one
    allocation chosen for log 2 (the second: 2 of 3 moved) resent it: 9 packed, not 6."""
    first, _ = split_order(fresh_sim, "SPLIT-T-1", (4, 10))
    location, item = first["from_location_id"]["key"], first["item_id"]["key"]
    on_hand = fresh_sim.inventory_qty("F1", location, item) or Decimal(0)
    records = [
        pick(1, "SPLIT-T-1", first, 3, "OB-SPLIT-1"),
        pick(2, "SPLIT-T-1", first, 3, "OB-SPLIT-1"),
    ]
    config = target_config(fresh_sim, tmp_path)
    one = run_target(
        tmp_path, config, messages("pick_confirm", PICK_SCHEMA, ["log_id"], records[:1])
    )
    assert one.returncode == 0, one.stderr[-3000:]
    fresh_sim.clear_request_log()
    fresh_sim.add_fault("lost_response", next=1, path_contains="pick_confirm")

    both = run_target(tmp_path, config, messages("pick_confirm", PICK_SCHEMA, ["log_id"], records))

    assert both.returncode == 0, both.stderr[-3000:]
    sent = posts(fresh_sim, "pick_confirm")
    assert [r.get("fault") for r in sent] == ["lost_response"], "log 2 once; its answer lost"
    assert packed(fresh_sim, "SPLIT-T-1") == 6
    assert fresh_sim.inventory_qty("F1", location, item) == on_hand - 6
    history = [
        h for h in fresh_sim.history_with_ref("SPLIT-T-1") if h["history_activity"] == "PICK"
    ]
    assert len(history) == 2, "one PICK history row per log line"

    fresh_sim.clear_request_log()
    rerun = run_target(tmp_path, config, messages("pick_confirm", PICK_SCHEMA, ["log_id"], records))
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert posts(fresh_sim, "pick_confirm") == []
    assert packed(fresh_sim, "SPLIT-T-1") == 6


def test_a_pick_over_one_allocation_but_within_its_line_is_sent(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """The check before sending uses the WMS's scope: 12 units over allocations of 4 and 10
    (no single one holds 12) is a valid pick, and 15 is refused unsent naming the total."""
    first, _ = split_order(fresh_sim, "SPLIT-T-2", (4, 10))
    records = [
        pick(1, "SPLIT-T-2", first, 15, "OB-SPLIT-2"),
        pick(2, "SPLIT-T-2", first, 12, "OB-SPLIT-2"),
    ]
    fresh_sim.clear_request_log()

    run = run_target(
        tmp_path,
        target_config(fresh_sim, tmp_path),
        messages("pick_confirm", PICK_SCHEMA, ["log_id"], records),
    )

    assert run.returncode != 0
    reasons = {r["record"]["log_id"]: r["reasons"] for r in run.rejects}
    assert list(reasons) == [1]
    assert "open allocated quantity 14" in reasons[1]["qty"], reasons
    assert len(posts(fresh_sim, "pick_confirm")) == 1
    assert packed(fresh_sim, "SPLIT-T-2") == 12


# run_wave: the record's own wave among several new ones ---------------------------------------


def another_run_first(sim: Simulator, other: dict[str, Any], path: str) -> Hostile:
    """A WMS where another scheduler's run (`other`, POSTed to `path`) lands just before each of
    the target's runs, between the target's marker and its POST: the proxy sends it, waits for
    its wave to complete, then forwards the target's request."""
    prefix = sim.base_url.split("/", 3)[3]
    origin = sim.base_url[: -len(prefix) - 1]
    auth = (sim.username, sim.password)

    def forward(seen: Seen) -> Reply:
        url = origin + "/" + prefix + seen.path[len("/demo") :]
        if seen.method == "POST":
            before = {w["id"] for w in waves(sim)}
            answer = post(sim, path, other)
            assert answer.status_code == 202, answer.text
            (new,) = [w for w in waves(sim) if w["id"] not in before]
            wait_completed(sim, new["id"])
            sent = requests.post(
                url,
                data=seen.body,
                headers={"Content-Type": "application/json"},
                auth=auth,
                timeout=30,
            )
            return Reply(sent.status_code, sent.content)
        got = requests.get(url, params=seen.query, auth=auth, timeout=30)
        return Reply(got.status_code, got.content)

    return Hostile(forward)


WAVE_RECORD = {"request_id": "ours", "facility_code": "F1", "template_name": "TPL-F1-ALL"}


def test_a_manual_wave_is_the_one_that_allocated_its_orders_not_the_first_new_one(
    tmp_path: Path,
) -> None:
    """Another manual wave of the same template lands before the target's (no run number in
    the answers): the target's wave is the one holding its order's allocations."""
    with Simulator(seed=7, scale=1, wave_seconds=0) as sim:
        sim.set_undocumented(run_template_answer="empty")
        (_, item_a, _), (_, item_b, _) = stock(sim, 2)
        stage_order(sim, "WAVE-OURS", [(item_a, 1)])
        stage_order(sim, "WAVE-THEIRS", [(item_b, 1)])
        theirs = {
            "parameters": {"facility_id__code": "F1", "template_name": "TPL-F1-ALL"},
            "options": {"order_seq_nbr_list": [{"order_nbr": "WAVE-THEIRS", "seq_nbr_list": [1]}]},
        }
        record = {**WAVE_RECORD, "orders": [{"order_nbr": "WAVE-OURS", "seq_nbr": 1}]}
        with another_run_first(sim, theirs, "entity/wave_template/run_manual/") as proxy:
            config = {**target_config(sim, tmp_path), "base_url": proxy.base_url}
            run = run_target(
                tmp_path, config, messages("wave_run", WAVE_SCHEMA, ["request_id"], [record])
            )
        assert run.returncode == 0, run.stderr[-3000:]
        (ours,) = {a["wave_id"]["id"] for a in allocations(sim, "WAVE-OURS")}
        (other,) = {a["wave_id"]["id"] for a in allocations(sim, "WAVE-THEIRS")}
        assert ours != other
        (wave,) = [w for w in waves(sim) if w["id"] == ours]
        assert f"wave run_nbr {wave['run_nbr']} (id {ours}) Completed" in run.stderr
        assert f"(id {other})" not in run.stderr


def test_two_new_waves_of_the_template_and_no_run_number_is_a_reject_not_a_guess(
    tmp_path: Path,
) -> None:
    """Another run of the same template lands before the target's and the answers carry no
    run number: the target cannot tell which wave is its own; a reject naming that, and the
    rerun runs nothing."""
    with Simulator(seed=7, scale=1, wave_seconds=0) as sim:
        sim.set_undocumented(run_template_answer="empty")
        theirs = {"parameters": {"facility_id__code": "F1", "template_name": "TPL-F1-ALL"}}
        before = {w["id"] for w in waves(sim)}
        lines = messages("wave_run", TEMPLATE_WAVE_SCHEMA, ["request_id"], [WAVE_RECORD])
        with another_run_first(sim, theirs, "entity/wave_template/run_template/") as proxy:
            config = {**target_config(sim, tmp_path), "base_url": proxy.base_url}
            first = run_target(tmp_path, config, lines)
        rerun = run_target(tmp_path, target_config(sim, tmp_path), lines)
        assert first.returncode != 0
        assert "2 waves appeared of template TPL-F1-ALL" in json.dumps(first.rejects), first.stderr
        assert rerun.returncode != 0 and "2 waves appeared" in json.dumps(rerun.rejects)
        assert len([w for w in waves(sim) if w["id"] not in before]) == 2, "ours ran once"


# stage UPDATE: someone else's change of the header is not this document's -------------------


def test_a_stage_update_is_not_proven_by_someone_elses_change_of_its_order(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    """The first stage message fails (500) without reaching the WMS, while someone else changes
    the order (its `mod_ts` moves): that change is not the document's; the document is sent
    again and its priority is in the WMS. Watching `mod_ts` alone counted it applied unsent."""
    order_nbr, _ = fresh_sim.order_with_lines("F1", status="open")
    (order,) = all_records(fresh_sim, "order_hdr", facility_id__code="F1", order_nbr=order_nbr)
    new_priority = 7 if order["priority"] != 7 else 8
    auth = (fresh_sim.username, fresh_sim.password)
    send = pass_through(fresh_sim.base_url, auth)
    first = [True]

    def forward(seen: Seen) -> Reply:
        if seen.method == "POST" and first[0]:
            first[0] = False
            other = requests.patch(
                f"{fresh_sim.base_url}/wms/lgfapi/v10/entity/order_hdr/{order['id']}/",
                json={"fields": {"cust_field_1": "changed by someone else"}},
                auth=auth,
                timeout=30,
            )
            assert other.status_code == 200, other.text
            return Reply(500, {"message": "Internal error."})
        return send(seen)

    schema = {
        "type": "object",
        "properties": {
            "facility_code": {"type": "string"},
            "order_nbr": {"type": "string"},
            "action_code": {"type": "string"},
            "priority": {"type": "integer"},
        },
    }
    record = {
        "facility_code": "F1",
        "order_nbr": order_nbr,
        "action_code": "UPDATE",
        "priority": new_priority,
    }
    actions = {"new_orders": {"entity": "order", "action": "stage"}}
    with Hostile(forward) as proxy:
        config = {
            **target_config(fresh_sim, tmp_path, stream_actions=actions),
            "base_url": proxy.base_url,
        }
        run = run_target(tmp_path, config, messages("new_orders", schema, ["order_nbr"], [record]))

    assert run.returncode == 0, run.stderr[-3000:]
    (after,) = all_records(fresh_sim, "order_hdr", facility_id__code="F1", order_nbr=order_nbr)
    assert after["priority"] == new_priority, "the update reached the WMS"
    assert after["cust_field_1"] == "changed by someone else"
