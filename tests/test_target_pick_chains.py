"""Pick lines in parallel chains (target_oracle_wms/pick_chains.py): two orders' picks into two
LPNs go out side by side, each LPN's Close only after every pick into it was answered, and an
answer lost in the middle of a chain (its scope already moved by an earlier line of the same
batch) still ends in exactly one application, with no read of its own before each pick."""

from __future__ import annotations

import itertools
import threading
import time
from decimal import Decimal
from json import loads
from pathlib import Path
from typing import Any

from oracle_wms_sim import Simulator
from target_oracle_wms.pick_chains import chains, segments
from tests.hostile import Hostile, Reply, Seen, pass_through
from tests.test_target import messages, run_target, target_config
from tests.test_target_fulfilment import PICK_SCHEMA, allocations, pick_records, picked_order

HELD_S = 0.2
"""How long the proxy holds each pick's answer: long enough that lines of two chains overlap
in the proxy when, and only when, they are sent in parallel."""


def lines_of(sim: Simulator, order_nbr: str, lpn: str, first_id: int) -> list[dict[str, Any]]:
    """Every allocation of the order picked into `lpn` in two lines (all but one unit, then the
    last unit: the second line's scope has moved by the first's), then the LPN closed."""
    records = pick_records(sim, order_nbr, lpn, split=True, first_id=first_id)
    picks = sum(r["action_code"] == "Pick" for r in records)
    assert picks == 2 * len(allocations(sim, order_nbr)), "each allocation split in two lines"
    return records


def test_two_lpns_go_in_parallel_a_close_waits_for_its_picks_and_a_lost_answer_applies_once(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    orders = {"CHAIN-A": "OB-CHAIN-A", "CHAIN-B": "OB-CHAIN-B"}
    allocated = {order: picked_order(fresh_sim, order, 3) for order in orders}
    records = lines_of(fresh_sim, "CHAIN-A", orders["CHAIN-A"], 1)
    records += lines_of(fresh_sim, "CHAIN-B", orders["CHAIN-B"], len(records) + 1)
    picks = [r for r in records if r["action_code"] == "Pick"]
    send = pass_through(fresh_sim.base_url, (fresh_sim.username, fresh_sim.password))
    lock = threading.Lock()
    events: list[tuple[float, float, str, dict[str, Any]]] = []  # (arrived, answered, kind, pick)
    arrivals = {"CHAIN-A": 0, "CHAIN-B": 0}
    dropped: list[dict[str, Any]] = []

    def forward(seen: Seen) -> Reply:
        arrived = time.monotonic()
        kind = seen.path.rstrip("/").rsplit("/", 1)[-1]
        if seen.method != "POST" or kind not in ("pick_confirm", "close_lpn"):
            return send(seen)
        pick = loads(seen.body)["pick_list"][0] if kind == "pick_confirm" else dict(seen.query)
        with lock:
            if kind == "pick_confirm":
                arrivals[pick["order_nbr"]] += 1
            second = kind == "pick_confirm" and arrivals[pick["order_nbr"]] == 2
        # Each chain's second line, whose scope its first line moved: A's never reaches the WMS
        # (the target must send it again), B's is applied and its answer lost (it must not).
        if second and pick["order_nbr"] == "CHAIN-A":
            dropped.append(pick)
            return Reply(502, {"message": "Bad gateway."})
        reply = send(seen)
        if kind == "pick_confirm":
            time.sleep(HELD_S)
        if second:
            reply = Reply(502, {"message": "Bad gateway."})
        with lock:
            events.append((arrived, time.monotonic(), kind, pick))
        return reply

    with Hostile(forward) as proxy:
        config = {**target_config(fresh_sim, tmp_path), "base_url": proxy.base_url}
        lines = messages("pick_confirm", PICK_SCHEMA, ["log_id"], records)
        run = run_target(tmp_path, config, lines)

    assert run.returncode == 0, run.stderr[-3000:]
    assert len(dropped) == 1, "chain A's second line was dropped once"
    sent = [e for e in events if e[2] == "pick_confirm"]
    assert len(sent) == len(picks), (
        "each pick reached the WMS once: A's dropped line sent again, B's lost answer proven"
    )
    for order, lpn in orders.items():
        (close,) = [e for e in events if e[2] == "close_lpn" and e[3]["to_container_nbr"] == lpn]
        into = [e for e in sent if e[3]["to_container_nbr"] == lpn]
        assert close[0] >= max(e[1] for e in into), f"{lpn} closed only after its picks answered"
        after = sorted(allocations(fresh_sim, order), key=lambda a: int(a["id"]))
        assert [Decimal(str(a["packed_qty"])) for a in after] == [
            Decimal(str(a["alloc_qty"])) for a in sorted(allocated[order], key=lambda a: a["id"])
        ], f"{order}: every allocation picked once, in full"
        history = [h for h in fresh_sim.history_with_ref(order) if h["history_activity"] == "PICK"]
        assert len(history) == len([p for p in picks if p["order_nbr"] == order])
    a_sent = [e for e in sent if e[3]["order_nbr"] == "CHAIN-A"]
    b_sent = [e for e in sent if e[3]["order_nbr"] == "CHAIN-B"]
    assert any(b[0] < a[1] and a[0] < b[1] for a in a_sent for b in b_sent), (
        "the two LPNs' chains were in flight at once"
    )
    for chain in (a_sent, b_sent):  # one chain: one line at a time, in input order
        assert all(later[0] >= earlier[1] for earlier, later in itertools.pairwise(chain))
    gets = [r for r in proxy.requests if r.method == "GET" and r.path.endswith("/allocation/")]
    assert len(gets) < len(picks), "the allocations read for the batch, not per line"

    rerun = run_target(tmp_path, {**config, "base_url": fresh_sim.base_url}, lines)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"0 applied, {len(records)} already applied" in rerun.stderr


def test_chains_join_a_scope_or_an_lpn_and_a_complete_stands_alone() -> None:
    """Which lines may go in parallel, worked out by hand: lines 0 and 2 share a scope, 2 and
    3 an LPN, so 0, 2, 3 and the Close of that LPN (5) are one chain; 1 (another order, another
    LPN) and its Close (6) another; the Complete (4) splits the batch in three segments."""

    def pick(order: str, lpn: str) -> dict[str, Any]:
        return {"facility_code": "F1", "action_code": "Pick", "order_nbr": order} | {
            "to_container_nbr": lpn
        }

    records = [
        pick("A", "L1"),
        pick("B", "L2"),
        pick("A", "L3"),
        pick("C", "L3"),
        {"facility_code": "F1", "action_code": "Complete", "wave_nbr": "7"},
        {"facility_code": "F1", "action_code": "Close", "to_container_nbr": "L3"},
        {"facility_code": "F1", "action_code": "Close", "to_container_nbr": "L2"},
    ]

    def scope(order: str) -> dict[str, str]:
        return {"facility_id": "1", "order_dtl_id__order_id": order, "item_id": "9"} | {
            "from_location_id": "5",
            "wave_id": "4",
        }

    scopes = [scope("1"), scope("2"), scope("1"), scope("3"), None, None, None]
    labels = chains(records, scopes)

    assert labels[0] == labels[2] == labels[3] == labels[5]
    assert labels[1] == labels[6] != labels[0]
    assert labels[4] not in {labels[0], labels[1]}
    assert segments(records) == [(0, 4), (4, 5), (5, 7)]
