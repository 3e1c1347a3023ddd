"""Where Oracle is silent, the client reads every plausible shape or fails naming its assumption
(docs/api-contract.md C1, F2, F3; docs/api-behaviour.md)."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from oracle_wms.client import WmsClient, index_names
from oracle_wms.errors import (
    WmsConfigError,
    WmsNotFoundError,
    WmsServerError,
    WmsValidationError,
)
from oracle_wms.scoping import Scope, history_ids, lookups_accepted
from oracle_wms.session import raise_for_response
from oracle_wms.settings import WmsSettings
from oracle_wms_sim import Simulator
from target_oracle_wms.adjustments import InventoryAdjustmentSink
from target_oracle_wms.lookups import Lookups
from tests.conftest import tap_config


def _client(server: Simulator) -> WmsClient:
    return WmsClient(WmsSettings.from_config(tap_config(server)))


@pytest.mark.parametrize("layout", ["object", "names", "objects"])
def test_c1_entity_names_from_each_plausible_index_layout(layout: str) -> None:
    with Simulator(seed=5, index_layout=layout) as server:
        names = _client(server).entity_names()
        plain = requests.get(
            f"{server.base_url}/wms/lgfapi/v10/entity/",
            auth=(server.username, server.password),
            timeout=30,
        ).json()
    expected = (
        sorted(plain)
        if layout == "object"
        else sorted(e if isinstance(e, str) else e["name"] for e in plain)
    )
    assert names == expected and "order_hdr" in names


@pytest.mark.parametrize(
    "body",
    [
        {"results": [{"entity": "b"}, {"entity": "a"}]},
        [{"entity_name": "b"}, {"entity_name": "a"}],
        ["b", "a"],
        {"b": "http://x/b/", "a": "http://x/a/"},
    ],
)
def test_c1_index_names_reads_names_in_any_plausible_form(body: Any) -> None:
    assert index_names(body) == ["a", "b"]


@pytest.mark.parametrize("body", [[1, 2], [{"url": "http://x/a/"}], "entity", {}, [], None])
def test_c1_an_unknown_index_layout_is_an_error_naming_the_assumption(body: Any) -> None:
    with pytest.raises(WmsServerError, match="layouts this client assumes"):
        index_names(body)


class _NoWms:
    """A client stand-in whose index lists no activity or status entity."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.calls = 0

    def entity_names(self) -> list[str]:
        self.calls += 1
        return self.names

    def iter_records(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no entity should be read")


def test_f3_history_ids_from_settings_are_used_as_given() -> None:
    """Configured ids are checked only against an entity the index lists (none here: nothing
    is read but the index, which a real client asks once a run)."""
    stub = _NoWms([])
    config = {"history_activity_ids": [3, 1, 3], "history_status_ids": [20]}
    assert history_ids(stub, config, "history_activity_ids") == [1, 3]  # type: ignore[arg-type]
    assert history_ids(stub, config, "history_status_ids") == [20]  # type: ignore[arg-type]
    assert stub.calls == 2


class _Answers:
    """A client stand-in answering each history list with the next of `answers` (a status)."""

    def __init__(self, *answers: int) -> None:
        self.answers = list(answers)
        self.asked: list[dict[str, Any]] = []

    def get(self, path: str, params: dict[str, Any], entity: str) -> object:
        self.asked.append(params)
        status = self.answers.pop(0)
        if status == 400:
            raise WmsValidationError("missing filters", status=400, path=path)
        if status == 404:
            raise WmsNotFoundError("no match", status=404, path=path)
        return object()


PAIRS = [Scope("C1", "F1"), Scope("C1", "F2"), Scope("C2", "F1")]
LOOKUPS = {"history_activity_id__in": "1,2", "status_id__in": "10,20"}


@pytest.mark.parametrize(
    ("answers", "accepted", "asked"),
    [
        ((200,), True, 1),  # records: the lookups were read
        ((400,), False, 1),  # refused: Oracle's documented combinations
        ((404, 200), True, 2),  # an empty pair tells nothing: the next is asked
        ((404, 404, 404), False, 3),  # nothing ever shown: the documented path, to be safe
    ],
)
def test_f2_lookups_accepted_needs_records_and_takes_a_400_as_no(
    answers: tuple[int, ...], accepted: bool, asked: int
) -> None:
    client = _Answers(*answers)

    assert lookups_accepted(client, PAIRS, LOOKUPS) is accepted  # type: ignore[arg-type]

    assert len(client.asked) == asked
    first = client.asked[0]
    assert first["company_id__code"] == "C1" and first["facility_id__code"] == "F1"
    assert first["history_activity_id__in"] == "1,2" and first["status_id__in"] == "10,20"
    assert first["page_size"] == 1


@pytest.mark.parametrize(
    ("setting", "entity"),
    [("history_activity_ids", "history_activity"), ("history_status_ids", "container_status")],
)
def test_f3_without_setting_or_listed_entity_the_error_names_the_setting(
    setting: str, entity: str
) -> None:
    stub = _NoWms(["item", "order_hdr", "inventory_history"])
    with pytest.raises(WmsConfigError, match=setting) as raised:
        history_ids(stub, {}, setting)  # type: ignore[arg-type]
    assert raised.value.setting == setting
    assert entity in str(raised.value) and "documents no way to list them" in str(raised.value)


def test_f3_bad_setting_values_are_a_config_error() -> None:
    with pytest.raises(WmsConfigError, match="integer"):
        history_ids(_NoWms([]), {"history_status_ids": ["x"]}, "history_status_ids")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "body", [b"<html><body>Bad Request</body></html>", b"", b'["not", "an", "object"]']
)
def test_b7_an_error_body_not_in_the_assumed_layout_still_maps_by_status(body: bytes) -> None:
    """Oracle does not document the error body: the status alone decides the error."""
    response = requests.Response()
    response.status_code = 400
    response._content = body
    response.url = "https://wms.example.com/env/wms/lgfapi/v10/entity/item/"
    with pytest.raises(WmsValidationError) as raised:
        raise_for_response(response, "item")
    assert raised.value.status == 400 and raised.value.code is None


def _history_refs(server: Simulator, where: str) -> dict[str, str]:
    """ref -> item code of F1's history rows, straight from the simulator's database."""
    with sqlite3.connect(server.db_path) as conn:
        rows = conn.execute(
            "SELECT transaction_ref_nbr, item_code FROM inventory_history "
            f"WHERE facility_id = 1 AND item_code IS NOT NULL AND {where} ORDER BY id"
        ).fetchall()
    return {str(ref): str(item) for ref, item in rows}


@pytest.mark.parametrize(
    ("statuses", "combination"),
    [([10, 20, 50, 60, 80], "status_id"), (list(range(100)), "item_code")],
)
def test_f1_target_finds_its_references_with_the_cheaper_documented_combination(
    sim: Simulator, statuses: list[int], combination: str
) -> None:
    """`InventoryAdjustmentSink._refs_in_history` against the strict simulator: plain activity
    and item or status values only (a lookup there would be a 400)."""
    refs = dict(list(_history_refs(sim, "history_activity_id IN (3, 4, 5)").items())[:60])
    assert len(set(refs.values())) > 5  # several items: the status form may be cheaper
    client = _client(sim)
    services = SimpleNamespace(
        lookups=Lookups(client),
        wms=client,
        history_activity_ids=[3, 4, 5],
        history_status_ids=statuses,
    )
    sim.clear_request_log()

    found = InventoryAdjustmentSink._refs_in_history(  # the look-up alone
        SimpleNamespace(services=services),  # type: ignore[arg-type]
        "F1",
        {**refs, "no-such-ref": "ITM000001"},
    )

    assert found == set(refs)
    history = [r["query"] for r in sim.request_log() if "inventory_history" in r["path"]]
    assert history and all(combination in q and "history_activity_id" in q for q in history)
