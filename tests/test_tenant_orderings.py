"""Entities that refuse the ordering keyset paging needs (issue 23 item 3, docs/api-contract.md
D19): read completely in a fallback order, with one warning."""

from __future__ import annotations

from pathlib import Path

from oracle_wms_sim import Simulator
from tests.conftest import (
    all_records,
    api_get,
    discover_catalog,
    run_tap,
    select_streams,
    tap_config,
)


def test_the_simulator_refuses_a_named_ordering(fresh_sim: Simulator) -> None:
    fresh_sim.read_options.refused_orderings["order_hdr"] = frozenset({"mod_ts"})
    assert api_get(fresh_sim, "entity/order_hdr/", ordering="mod_ts,id").status_code == 400
    assert api_get(fresh_sim, "entity/order_hdr/", ordering="-mod_ts").status_code == 400
    assert api_get(fresh_sim, "entity/order_hdr/", ordering="id").status_code == 200
    assert api_get(fresh_sim, "entity/order_dtl/", ordering="mod_ts,id").status_code == 200


def test_an_entity_refusing_its_ordering_is_read_completely(
    fresh_sim: Simulator, tmp_path: Path
) -> None:
    config = tap_config(fresh_sim, page_size=100, max_parallel_requests=4)
    catalog = select_streams(
        discover_catalog(tmp_path, config), {"order_hdr", "order_dtl", "company"}
    )
    fresh_sim.read_options.refused_orderings.update(
        order_hdr=frozenset({"mod_ts"}),  # takes `id`
        order_dtl=frozenset({"mod_ts", "id"}),  # takes no ordering at all
        company=frozenset({"id"}),
    )
    refused = dict(fresh_sim.read_options.refused_orderings)
    first = run_tap(tmp_path, config, catalog=catalog)
    fresh_sim.read_options.refused_orderings.clear()  # the expected rows, read another way
    assert first.returncode == 0, first.stderr[-3000:]
    for entity in ("order_hdr", "order_dtl", "company"):
        expected = {r["id"] for r in all_records(fresh_sim, entity)}
        got = [r["id"] for r in first.records[entity]]
        assert set(got) == expected, entity
        assert len(got) == len(expected), entity
        assert first.stderr.count(f"Entity '{entity}': the WMS refuses ordering") == 1
    bookmark = first.last_state["bookmarks"]["order_hdr"]["replication_key_value"]
    assert bookmark == max(r["mod_ts"] for r in first.records["order_hdr"])

    changed = set(fresh_sim.update_records("order_hdr", 7, same_mod_ts=False))
    changed |= set(fresh_sim.insert_records("order_hdr", 3))
    fresh_sim.read_options.refused_orderings.update(refused)
    second = run_tap(tmp_path, config, catalog=catalog, state=first.last_state)
    assert second.returncode == 0, second.stderr[-3000:]
    assert changed <= {r["id"] for r in second.records["order_hdr"]}
    assert len(second.records["order_hdr"]) < len(first.records["order_hdr"])


def test_a_400_that_is_not_the_ordering_still_fails(fresh_sim: Simulator, tmp_path: Path) -> None:
    """A 400 the fallback orderings do not cure (here: every filter value refused) is the
    error it was, naming the entity."""
    config = tap_config(fresh_sim, start_date="2026-01-01T00:00:00")
    catalog = select_streams(discover_catalog(tmp_path, config), {"order_hdr"})
    fresh_sim.add_fault("400", rate=1, path_contains="entity/order_hdr")
    run = run_tap(tmp_path, config, catalog=catalog)
    assert run.returncode != 0
    assert "order_hdr" in run.stderr
    assert "refuses ordering" not in run.stderr
