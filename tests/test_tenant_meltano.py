"""Issue 23 through Meltano into target-postgres: a WMS that refuses sub-second filter values
(the simulator's default), refuses `ordering=mod_ts,id` on order_hdr and commits rows behind the
cursor; two scheduled runs load exactly the WMS's rows."""

from __future__ import annotations

import json
from pathlib import Path

from oracle_wms_sim import Simulator
from tests.conftest import all_records, meltano, pg_rows


def test_a_hostile_tenant_through_meltano_into_postgres(
    fresh_sim: Simulator, tmp_path: Path, pg_schema: str
) -> None:
    env = {
        "TAP_ORACLE_WMS_BASE_URL": fresh_sim.base_url,
        "TAP_ORACLE_WMS_USERNAME": fresh_sim.username,
        "TAP_ORACLE_WMS_PASSWORD": fresh_sim.password,
        "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": pg_schema,
        "TAP_ORACLE_WMS__SELECT": json.dumps(["order_hdr.*", "order_dtl.*"]),
        "TAP_ORACLE_WMS_ENTITIES": json.dumps(["order_hdr", "order_dtl"]),  # 2 describes, not 179
    }
    fresh_sim.read_options.refused_orderings["order_hdr"] = frozenset({"mod_ts"})
    first = meltano(tmp_path, "run", "tap-oracle-wms", "target-postgres", env=env)
    assert first.count("the WMS refuses ordering=mod_ts,id") == 1

    late = fresh_sim.commit_late("order_dtl", 4, behind_s=60)
    late_hdr = fresh_sim.commit_late("order_hdr", 2, behind_s=60)
    changed = fresh_sim.update_records("order_dtl", 3, same_mod_ts=True)
    meltano(tmp_path, "run", "tap-oracle-wms", "target-postgres", env=env)

    fresh_sim.read_options.refused_orderings.clear()  # the expected rows, read another way
    for entity, news in (("order_dtl", late + changed), ("order_hdr", late_hdr)):
        expected = {int(r["id"]) for r in all_records(fresh_sim, entity)}
        loaded = pg_rows(pg_schema, f"select id from {entity}")
        assert {row[0] for row in loaded} == expected, entity
        assert len(loaded) == len(expected), entity
        assert set(news) <= expected
