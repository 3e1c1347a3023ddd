"""What a real WMS does that a friendly one does not (issue 13): a least-privileged user, 404s
that are not empty lists, redirects to another host, bookmarks in other ISO forms, rows that
break their describe, bodies that trickle, SIGTERM. Each against the simulator where it can
misbehave so, else against a small hostile server on 127.0.0.1 (tests/hostile.py); the tap runs
as a subprocess, as Meltano runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import yaml

from oracle_wms.client import WmsClient
from oracle_wms.discovery import CORE_ENTITIES, DiscoveryCache, discover
from oracle_wms.settings import WmsSettings
from oracle_wms_sim import Simulator
from tests.conftest import (
    BIN,
    ROOT,
    discover_catalog,
    result_count,
    run_tap,
    select_streams,
    tap_config,
)
from tests.hostile import Handler, Hostile, Reply, Seen, catalog_for, not_found

FAST = {"max_retries": 0, "discovery_cache_ttl": 0}


def _meltano_selection() -> list[str]:
    plugins = yaml.safe_load((ROOT / "meltano.yml").read_text())["plugins"]["extractors"]
    tap = next(p for p in plugins if p["name"] == "tap-oracle-wms")
    return sorted({rule.split(".")[0] for rule in tap["select"]})


def _stream_ids(catalog: dict[str, Any]) -> set[str]:
    return {entry["tap_stream_id"] for entry in catalog["streams"]}


def _hostile_config(server: Hostile, **overrides: Any) -> dict[str, Any]:
    return {"base_url": server.base_url, "username": "u", "password": "p", **FAST, **overrides}


# 0. Discovery on a cold cache ---------------------------------------------------------------

_DESCRIBE = {
    "parameters": ["id", "code"],
    "fields": {
        "id": {"type": "integer", "required": "N", "allow_blank": False, "max_length": None},
        "code": {"type": "string", "required": "Y", "allow_blank": False, "max_length": 25},
    },
}


def _small_wms(
    server: Hostile,
    listed: list[str],
    index_delay: float = 0.0,
    flaky: str | None = None,
    before_index: list[str] | None = None,
) -> Handler:
    """A WMS whose index lists only `listed`, `index_delay` s slow to answer the index; the
    first describe of `flaky` fails (a 404), later ones answer. `before_index` gets the paths
    that had arrived when the index was answered."""
    failed_once: list[str] = []

    def handler(seen: Seen) -> Reply:
        if seen.path.endswith("/entity/"):
            time.sleep(index_delay)
            if before_index is not None:
                before_index.extend(r.path for r in list(server.requests))
            return Reply(200, {name: f"{server.api}entity/{name}/" for name in listed})
        name = seen.path.rstrip("/").split("/")[-2]
        if not seen.path.endswith("/describe/") or name not in listed:
            return not_found(f"No entity '{name}'.")
        if name == flaky and not failed_once:
            failed_once.append(name)
            return not_found("Not yet.")
        return Reply(200, _DESCRIBE)

    return handler


def test_core_entities_are_described_while_the_index_is_asked_and_only_listed_ones_kept() -> None:
    """A cold discovery describes the core entities (`CORE_ENTITIES`) while it waits for the
    index. A WMS lacking most of them: only what its index lists is in the catalog, an early
    answer is used (not asked again), and an early describe that failed is asked again."""
    with Hostile(lambda seen: Reply(500)) as server:
        listed, arrived = ["facility", "item", "thing"], []
        server.handler = _small_wms(server, listed, 0.3, "facility", arrived)
        client = WmsClient(WmsSettings.from_config(_hostile_config(server)))
        found = discover(client, workers=8)
        paths = [seen.path for seen in server.requests]

    assert [entity.name for entity in found] == ["facility", "item", "thing"]
    early = [p.split("/")[-3] for p in arrived if p.endswith("/describe/")]
    assert len(early) == 7 and set(early) <= set(CORE_ENTITIES), paths
    assert paths.count("/demo/wms/lgfapi/v10/entity/item/describe/") == 1, "answered early: kept"
    assert paths.count("/demo/wms/lgfapi/v10/entity/thing/describe/") == 1
    assert paths.count("/demo/wms/lgfapi/v10/entity/facility/describe/") == 2, "failed: again"


def test_patterns_limit_the_early_describes_and_a_warm_cache_makes_none(tmp_path: Path) -> None:
    with Hostile(lambda seen: Reply(500)) as server:
        server.handler = _small_wms(server, ["facility", "thing"])
        client = WmsClient(WmsSettings.from_config(_hostile_config(server)))
        cache = DiscoveryCache(directory=tmp_path, ttl=3600)
        assert [e.name for e in discover(client, ["fac*"], cache, workers=8)] == ["facility"]
        assert sorted(seen.path for seen in server.requests) == [
            "/demo/wms/lgfapi/v10/entity/",
            "/demo/wms/lgfapi/v10/entity/facility/describe/",
        ], "no early describe of a core entity the patterns leave out"
        server.requests.clear()
        assert [e.name for e in discover(client, ["fac*"], cache, workers=8)] == ["facility"]
        assert server.requests == [], "a fresh cache asks nothing"


# 1. Least privilege -------------------------------------------------------------------------


def test_a_user_granted_only_the_selected_entities_discovers_and_runs(
    sim: Simulator, tmp_path: Path
) -> None:
    selected = _meltano_selection()
    assert 10 <= len(selected) < 100 and {"company", "vendor"} <= set(selected)  # a real subset
    sim.add_user("etl_least", "least-pw", readable_entities=selected)
    config = tap_config(sim, username="etl_least", password="least-pw")

    found = run_tap(tmp_path, config, "--discover", timeout=120)

    assert found.returncode == 0, found.stderr[-3000:]
    assert _stream_ids(json.loads(found.stdout)) == set(selected)
    skipping = [line for line in found.stderr.splitlines() if "Skipping" in line and "403" in line]
    assert len(skipping) == 1, "warned once, naming every skipped entity"
    skipped = set(skipping[0].split(": ")[-1].split(", "))
    assert "action_code" in skipped and not skipped & set(selected)

    catalog = select_streams(json.loads(found.stdout), {"company", "vendor"})
    run = run_tap(tmp_path, config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.records["company"]) == result_count(sim, "company")


def test_entities_patterns_keep_only_what_the_user_may_read(sim: Simulator, tmp_path: Path) -> None:
    sim.add_user("etl_orders", "orders-pw", readable_entities=["order_hdr", "company"])
    config = tap_config(
        sim, username="etl_orders", password="orders-pw", entities=["order_*", "company"]
    )

    catalog = discover_catalog(tmp_path, config)

    assert _stream_ids(catalog) == {"order_hdr", "company"}


def test_check_connection_checks_the_selected_entities(
    sim: Simulator, sim_catalog: dict[str, Any], tmp_path: Path
) -> None:
    sim.add_user("etl_check", "check-pw", readable_entities=["company", "facility"])
    config = tap_config(sim, username="etl_check", password="check-pw")
    everything = sim_catalog

    readable = run_tap(
        tmp_path,
        config,
        "--check-connection",
        catalog=select_streams(everything, {"company", "facility"}),
        timeout=60,
    )
    assert readable.returncode == 0, readable.stderr[-3000:]
    assert "read access checked on 2 entities, 2 readable" in readable.stdout

    catalog = select_streams(everything, {"company", "item", "order_hdr"})
    refused = run_tap(tmp_path, config, "--check-connection", catalog=catalog, timeout=60)
    assert refused.returncode != 0
    assert "may not read 2: item, order_hdr" in refused.stderr
    assert "Traceback" not in refused.stderr

    by_setting = run_tap(
        tmp_path, {**config, "entities": ["company", "item"]}, "--check-connection", timeout=60
    )
    assert by_setting.returncode != 0
    assert "may not read 1: item" in by_setting.stderr


def test_an_entity_described_but_not_readable_is_offered_and_its_sync_fails_naming_it(
    sim: Simulator, tmp_path: Path
) -> None:
    """Oracle documents one read permission for every GET, so discovery asks `describe` only.
    A WMS that answers `describe` to a user who may not read the list (a proxy: `describe` as
    the default user, everything else as a user who may read company only) gets the entity in
    the catalog; `--check-connection` and the sync name it and the permission."""
    sim.add_user("etl_company", "company-pw", readable_entities=["company"])
    prefix = sim.base_url.split("/", 3)[3]
    origin = sim.base_url[: -len(prefix) - 1]

    def forward(seen: Seen) -> Reply:
        describe = seen.path.endswith("/describe/")
        auth = (sim.username, sim.password) if describe else ("etl_company", "company-pw")
        path = "/" + prefix + seen.path[len("/demo") :]
        answer = requests.get(origin + path, params=seen.query, auth=auth, timeout=30)
        return Reply(answer.status_code, answer.content)

    with Hostile(forward) as proxy:
        config = {
            "base_url": proxy.base_url,
            "username": "u",
            "password": "p",
            "entities": ["company", "item"],
            **FAST,
        }
        found = run_tap(tmp_path, config, "--discover", timeout=120)
        assert found.returncode == 0, found.stderr[-3000:]
        catalog = json.loads(found.stdout)
        assert _stream_ids(catalog) == {"company", "item"}
        lists = [r.path for r in proxy.requests if not r.path.endswith(("/describe/", "/entity/"))]
        assert lists == [], "discovery reads no list"

        checked = run_tap(tmp_path, config, "--check-connection", catalog=catalog, timeout=60)
        assert checked.returncode != 0
        assert "may not read 1: item" in checked.stderr

        run = run_tap(tmp_path, config, catalog=catalog, timeout=120)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    named = [line for line in run.stderr.splitlines() if "entity 'item'" in line]
    assert len(named) == 1 and "403" in named[0] and "lgfapi_read_access" in named[0]
    assert len(run.records["company"]) == result_count(sim, "company")


# 2. A 404 is not always an empty list -------------------------------------------------------


def test_a_catalog_stream_the_wms_does_not_have_fails_naming_it(
    sim: Simulator, tmp_path: Path
) -> None:
    catalog = catalog_for("order_header", {"id": {"type": "integer"}})

    run = run_tap(tmp_path, tap_config(sim, **FAST), catalog=catalog, timeout=60)

    assert run.returncode != 0
    assert "entity 'order_header' does not exist" in run.stderr
    assert "/demo/wms/lgfapi/v10/entity/order_header/" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_wrong_environment_fails_naming_the_path(
    sim: Simulator, sim_catalog: dict[str, Any], tmp_path: Path
) -> None:
    catalog = select_streams(sim_catalog, {"company"})
    config = tap_config(sim, base_url=sim.base_url + "X", **FAST)

    run = run_tap(tmp_path, config, catalog=catalog, timeout=60)

    assert run.returncode != 0
    assert "/demoX/wms/lgfapi/v10/entity/" in run.stderr
    assert "check base_url" in run.stderr
    assert not run.records


def test_an_empty_filtered_list_is_still_no_records(
    sim: Simulator, sim_catalog: dict[str, Any], tmp_path: Path
) -> None:
    catalog = select_streams(sim_catalog, {"order_hdr"})
    future = (datetime.now(UTC) + timedelta(days=3650)).isoformat()

    run = run_tap(tmp_path, tap_config(sim, start_date=future, **FAST), catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    assert not run.records.get("order_hdr")


def _stamp(ident: int) -> str:
    return f"2026-01-01T00:00:{ident:02d}.000000+00:00"


def _paged_list(server: Hostile, total: int, page_size: int, lost_page: int | None) -> Handler:
    """`thing` with ids 1..total (mod_ts one second apart) in sequenced pages; page
    `lost_page` answers 404, and so does the id range holding id 15 (read in parallel);
    with None, only the page after a full last page does."""

    def matching(query: dict[str, str]) -> list[int]:
        ids = list(range(1, total + 1))
        if "id__range" in query:
            low, high = map(int, query["id__range"].split(","))
            ids = [i for i in ids if low <= i <= high]
        if "id__gt" in query:
            ids = [i for i in ids if i > int(query["id__gt"])]
        if "mod_ts__gt" in query:
            after = datetime.fromisoformat(query["mod_ts__gt"])
            ids = [i for i in ids if datetime.fromisoformat(_stamp(i)) > after]
        if "mod_ts" in query:
            ids = [i for i in ids if _stamp(i) == query["mod_ts"]]
        return ids

    def handler(seen: Seen) -> Reply:
        query = seen.query
        if seen.path.endswith("/entity/"):
            return Reply(200, {"thing": server.api + "entity/thing/"})
        ids = matching(query)
        if query.get("page_mode") == "paged":  # the highest id, or whether more records follow
            ids = ids[::-1] if query.get("ordering") == "-id" else ids
            found = [{"id": i} for i in ids[:1]]
            return Reply(200, {"result_count": len(ids), "results": found}) if ids else not_found()
        page = int(query.get("cursor", "1"))
        in_range = "id__range" in query
        if lost_page and ((page == lost_page and not in_range) or (in_range and 15 in ids)):
            return not_found()
        ids = ids[(page - 1) * page_size : page * page_size]
        if not ids:
            return not_found()
        link = None
        if len(ids) == page_size:
            link = f"{server.api}entity/thing/?cursor={page + 1}"
            if in_range:
                link += f"&id__range={query['id__range']}"
        results = [{"id": i, "name": f"n{i}", "mod_ts": _stamp(i)} for i in ids]
        return Reply(200, {"next_page": link, "previous_page": None, "results": results})

    return handler


_THING = {
    "id": {"type": "integer"},
    "name": {"type": ["string", "null"]},
    "mod_ts": {"type": ["string", "null"], "format": "date-time"},
}


@pytest.mark.parametrize(
    ("key", "parallel", "says"),
    [
        (None, 1, "15 more records follow the last one read (id 10)"),
        ("mod_ts", 1, "15 more records follow the last one read (id 10)"),
        (None, 2, "more records follow in id range"),
    ],
)
def test_a_404_in_the_middle_of_a_list_fails_naming_entity_and_path(
    tmp_path: Path, key: str | None, parallel: int, says: str
) -> None:
    with Hostile(lambda seen: Reply(500)) as server:
        server.handler = _paged_list(server, total=25, page_size=10, lost_page=2)
        config = _hostile_config(server, page_size=10, max_parallel_requests=parallel)

        run = run_tap(tmp_path, config, catalog=catalog_for("thing", _THING, key), timeout=60)

    assert run.returncode != 0
    assert "entity 'thing': a later page of the list answered 404" in run.stderr
    assert "/demo/wms/lgfapi/v10/entity/thing/" in run.stderr
    assert says in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("parallel", [1, 2])
def test_a_404_after_a_full_last_page_is_the_end(tmp_path: Path, parallel: int) -> None:
    with Hostile(lambda seen: Reply(500)) as server:
        server.handler = _paged_list(server, total=20, page_size=10, lost_page=None)
        config = _hostile_config(server, page_size=10, max_parallel_requests=parallel)

        run = run_tap(tmp_path, config, catalog=catalog_for("thing", _THING), timeout=60)

    assert run.returncode == 0, run.stderr[-3000:]
    assert sorted(r["id"] for r in run.records["thing"]) == list(range(1, 21))


# 3. Credentials go to one origin only -------------------------------------------------------


@pytest.fixture
def elsewhere() -> Iterator[Hostile]:
    """Another origin (another port): it must never be asked anything."""
    with Hostile(lambda seen: Reply(401, {"message": "who are you"})) as server:
        yield server


def _redirecting(server: Hostile, target: str, status: int = 302) -> Handler:
    def handler(seen: Seen) -> Reply:
        if seen.path.endswith("/oauth2/v1/token"):
            return Reply(200, {"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})
        if "cursor" in seen.query:
            return Reply(status, b"", headers={"Location": target})
        link = f"{server.api}entity/thing/?cursor=2"
        return Reply(200, {"next_page": link, "results": [{"id": 1}, {"id": 2}]})

    return handler


@pytest.mark.parametrize("auth", ["basic", "oauth2"])
def test_a_redirect_to_another_origin_is_an_error_and_sends_nothing_there(
    tmp_path: Path, elsewhere: Hostile, auth: str
) -> None:
    with Hostile(lambda seen: Reply(500)) as server:
        server.handler = _redirecting(server, elsewhere.api + "entity/thing/?cursor=2")
        config = _hostile_config(server, page_size=2, max_parallel_requests=1)
        if auth == "oauth2":
            config |= {
                "auth_method": "oauth2",
                "oauth2_token_url": server.origin + "/oauth2/v1/token",
                "oauth2_client_id": "c",
                "oauth2_client_secret": "s",
            }
        run = run_tap(tmp_path, config, catalog=catalog_for("thing", {"id": {"type": "integer"}}))

    assert elsewhere.requests == []
    assert run.returncode != 0
    assert f"redirected /demo/wms/lgfapi/v10/entity/thing/ (302) to {elsewhere.origin}" in (
        run.stderr.replace("127.0.0.1:", "127.0.0.1:")
    )


def test_a_next_page_link_to_another_origin_is_refused(tmp_path: Path, elsewhere: Hostile) -> None:
    def handler(seen: Seen) -> Reply:
        link = elsewhere.api + "entity/thing/?cursor=2"
        return Reply(200, {"next_page": link, "results": [{"id": 1}, {"id": 2}]})

    with Hostile(handler) as server:
        config = _hostile_config(server, page_size=2, max_parallel_requests=1)
        run = run_tap(tmp_path, config, catalog=catalog_for("thing", {"id": {"type": "integer"}}))

    assert elsewhere.requests == []
    assert run.returncode != 0
    assert "refusing to follow it" in run.stderr or "Refusing to send" in run.stderr


def test_a_redirect_within_the_origin_is_followed(tmp_path: Path) -> None:
    with Hostile(lambda seen: Reply(500)) as server:

        def handler(seen: Seen) -> Reply:
            if seen.query.get("cursor") == "2":
                return Reply(307, b"", headers={"Location": server.api + "entity/thing/?cursor=3"})
            if seen.query.get("cursor") == "3":
                return Reply(200, {"next_page": None, "results": [{"id": 3}]})
            link = f"{server.api}entity/thing/?cursor=2"
            return Reply(200, {"next_page": link, "results": [{"id": 1}, {"id": 2}]})

        server.handler = handler
        config = _hostile_config(server, page_size=2, max_parallel_requests=1)
        run = run_tap(tmp_path, config, catalog=catalog_for("thing", {"id": {"type": "integer"}}))

    assert run.returncode == 0, run.stderr[-3000:]
    assert [r["id"] for r in run.records["thing"]] == [1, 2, 3]
    assert all(r.headers.get("Authorization") for r in server.requests)


# 4. Bookmarks in any ISO form ---------------------------------------------------------------


def _same_instant_forms(bookmark: str) -> list[str]:
    instant = datetime.fromisoformat(bookmark)
    z = instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
    plus_one = instant.astimezone(timezone(timedelta(hours=1))).isoformat()
    naive = instant.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return [z, plus_one, naive]


def test_a_bookmark_in_another_iso_form_resumes(sim: Simulator, tmp_path: Path) -> None:
    config = tap_config(sim)
    catalog = select_streams(discover_catalog(tmp_path, config), {"order_hdr"})
    first = run_tap(tmp_path, config, catalog=catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    bookmark = first.last_state["bookmarks"]["order_hdr"]["replication_key_value"]

    for form in _same_instant_forms(bookmark):
        state = {
            "bookmarks": {"order_hdr": {"replication_key": "mod_ts", "replication_key_value": form}}
        }
        again = run_tap(tmp_path, config, catalog=catalog, state=state)

        assert again.returncode == 0, f"{form}: {again.stderr[-2000:]}"
        assert again.records["order_hdr"], "rows at the bookmark are read again"
        assert again.last_state["bookmarks"]["order_hdr"]["replication_key_value"] == bookmark


@pytest.mark.parametrize("value", ["garbage", 12345, ["2026-01-01T00:00:00Z"], "2026-13-01"])
def test_a_bookmark_that_is_not_a_date_time_is_an_error_naming_it(
    sim: Simulator, sim_catalog: dict[str, Any], tmp_path: Path, value: object
) -> None:
    catalog = select_streams(sim_catalog, {"order_hdr"})
    state = {
        "bookmarks": {"order_hdr": {"replication_key": "mod_ts", "replication_key_value": value}}
    }

    run = run_tap(tmp_path, tap_config(sim), catalog=catalog, state=state, timeout=60)

    assert run.returncode != 0
    assert "stream 'order_hdr'" in run.stderr and repr(value)[:20] in run.stderr
    assert "Traceback" not in run.stderr
    assert not run.records


def test_start_date_in_another_form_is_the_same_instant(
    sim: Simulator, sim_catalog: dict[str, Any], tmp_path: Path
) -> None:
    catalog = select_streams(sim_catalog, {"order_hdr"})
    counts = set()
    for start in ("2025-06-01T00:00:00Z", "2025-06-01T02:00:00+02:00", "2025-06-01 00:00:00"):
        run = run_tap(tmp_path, tap_config(sim, start_date=start), catalog=catalog)
        assert run.returncode == 0, f"{start}: {run.stderr[-2000:]}"
        counts.add(len(run.records.get("order_hdr", [])))
    assert len(counts) == 1
    assert counts == {result_count(sim, "order_hdr", mod_ts__gte="2025-06-01T00:00:00+00:00")}


# 5. Schemas loaders can keep ----------------------------------------------------------------

_DESCRIBE = {
    "parameters": ["id", "mod_ts"],
    "fields": {
        "id": {"type": "integer", "required": "Y"},
        "cust_field_1": {"type": "string", "max_length": 50},
        "qty": {"type": "decimal"},
        "open_flg": {"type": "boolean"},
        "mod_ts": {"type": "datetime"},
    },
}


def _row(ident: object, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": ident,
        "cust_field_1": "ok",
        "qty": "1.5",
        "open_flg": True,
        "mod_ts": "2026-01-02T03:04:05.000000-05:00",
    }
    return {**row, **values}


_BROKEN_ROWS = [
    _row(1, cust_field_1="x" * 60),  # longer than describe's max_length: loads as is
    _row(2, cust_field_1={"nested": "object"}),
    _row(3, qty="twelve"),
    _row(4, open_flg="Y"),
    _row(5, mod_ts="yesterday"),
    _row("6"),  # id not an integer: cannot be loaded
    {k: v for k, v in _row(7).items() if k != "id"},  # no id at all
    _row(8),
]


def _describing(server: Hostile, rows: list[dict[str, object]]) -> Handler:
    def handler(seen: Seen) -> Reply:
        if seen.path.endswith("/entity/"):
            return Reply(200, {"gadget": server.api + "entity/gadget/"})
        if seen.path.endswith("/describe/"):
            return Reply(200, _DESCRIBE)
        if seen.query.get("page_mode") == "paged":
            return Reply(200, {"result_count": len(rows), "results": rows[:1]})
        return Reply(200, {"next_page": None, "previous_page": None, "results": rows})

    return handler


def test_no_record_breaks_its_own_schema_and_each_break_is_reported(tmp_path: Path) -> None:
    with Hostile(lambda seen: Reply(500)) as server:
        server.handler = _describing(server, _BROKEN_ROWS)
        config = _hostile_config(server, max_parallel_requests=1)
        catalog = select_streams(discover_catalog(tmp_path, config), {"gadget"})
        run = run_tap(tmp_path, config, catalog=catalog)

    assert run.returncode == 0, run.stderr[-3000:]
    schema = run.schemas["gadget"]
    assert "maxLength" not in schema["properties"]["cust_field_1"]
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    for record in run.records["gadget"]:
        assert not list(validator.iter_errors(record)), record
    assert [r["id"] for r in run.records["gadget"]] == [1, 2, 3, 4, 5, 8]
    assert run.records["gadget"][0]["cust_field_1"] == "x" * 60
    for ident, field in [(2, "cust_field_1"), (3, "qty"), (4, "open_flg"), (5, "mod_ts")]:
        assert f"Entity 'gadget' id {ident} field '{field}'" in run.stderr, field
    assert "'6'" in run.stderr and "no integer id" in run.stderr
    assert "5 values broke the schema" in run.stderr or "4 values broke the schema" in run.stderr


# 6. Time bounds and signals -----------------------------------------------------------------


def _trickling(server: Hostile) -> Handler:
    def handler(seen: Seen) -> Reply:
        body = {"next_page": None, "results": [{"id": i} for i in range(1, 200)]}
        return Reply(200, body, trickle=0.1)

    return handler


def test_a_trickling_response_must_finish_within_request_timeout(tmp_path: Path) -> None:
    with Hostile(lambda seen: Reply(500)) as server:
        server.handler = _trickling(server)
        config = _hostile_config(server, request_timeout=2, max_parallel_requests=1)
        run = run_tap(
            tmp_path, config, catalog=catalog_for("thing", {"id": {"type": "integer"}}), timeout=30
        )

    assert run.returncode != 0
    assert "did not finish within 2 s" in run.stderr


def test_sigterm_stops_the_tap_with_a_non_zero_exit(tmp_path: Path) -> None:
    arrived = threading.Event()
    with Hostile(lambda seen: Reply(500)) as server:
        trickle = _trickling(server)

        def handler(seen: Seen) -> Reply:
            arrived.set()
            return trickle(seen)

        server.handler = handler
        config_path = tmp_path / "config.json"
        config_path.write_text(json.dumps(_hostile_config(server, max_parallel_requests=1)))
        catalog_path = tmp_path / "catalog.json"
        catalog_path.write_text(json.dumps(catalog_for("thing", {"id": {"type": "integer"}})))
        proc = subprocess.Popen(
            [
                str(BIN / "tap-oracle-wms"),
                "--config",
                str(config_path),
                "--catalog",
                str(catalog_path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert arrived.wait(30), "the tap never asked for the page"
            proc.send_signal(signal.SIGTERM)
            stdout, stderr = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)

    assert proc.returncode == 128 + signal.SIGTERM, stderr[-2000:]
    assert "Stopped by signal 15" in stderr
    for line in stdout.splitlines():
        json.loads(line)  # every message whole, the last STATE included


# Contract row D5: sequenced pages out of the order asked for --------------------------------


def _unordered_list(server: Hostile) -> Handler:
    """`thing` in two sequenced pages whose second goes back in time: a WMS that ignores
    `ordering` in sequenced mode (Oracle does not say it keeps it)."""

    def handler(seen: Seen) -> Reply:
        if seen.path.endswith("/entity/"):
            return Reply(200, {"thing": server.api + "entity/thing/"})
        if seen.query.get("cursor") == "2":
            rows = [{"id": i, "name": f"n{i}", "mod_ts": _stamp(i - 10)} for i in (11, 12)]
            return Reply(200, {"next_page": None, "previous_page": None, "results": rows})
        if seen.query.get("page_mode") != "sequenced" or "cursor" in seen.query:
            return not_found()
        rows = [{"id": i, "name": f"n{i}", "mod_ts": _stamp(i)} for i in range(1, 11)]
        link = f"{server.api}entity/thing/?cursor=2"
        return Reply(200, {"next_page": link, "previous_page": None, "results": rows})

    return handler


def test_sequenced_pages_out_of_order_fail_naming_the_assumption(tmp_path: Path) -> None:
    with Hostile(lambda seen: Reply(500)) as server:
        server.handler = _unordered_list(server)
        config = _hostile_config(server, page_size=10)

        run = run_tap(tmp_path, config, catalog=catalog_for("thing", _THING, "mod_ts"), timeout=60)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "entity 'thing': the WMS sent mod_ts" in run.stderr
    assert "keeps `ordering` in sequenced paging, which Oracle does not document" in run.stderr
    emitted = [r["id"] for r in run.records.get("thing", [])]
    assert all(i <= 10 for i in emitted), emitted  # nothing from the page that broke the order
