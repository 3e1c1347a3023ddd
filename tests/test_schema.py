"""Record shape rules from the public API guide: naming conventions, offsets, decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from oracle_wms.errors import WmsConfigError
from oracle_wms.schema import (
    EntityDescription,
    RowShape,
    field_kind,
    flatten_record,
    json_schema,
    utc_timestamp,
)
from oracle_wms.settings import WmsSettings


@pytest.mark.parametrize(
    ("name", "declared", "kind"),
    [
        ("mod_ts", None, "datetime"),
        ("ship_date", "unheard_of_type", "date"),
        ("cutoff_time", None, "time"),
        ("hazmat_flg", None, "boolean"),
        ("facility_id", None, "foreign_key"),
        ("status_id", None, "integer"),
        ("orderdtl_set", None, "child_set"),
        ("ord_qty", None, "decimal"),
        ("cust_field_1", None, "string"),
        ("cust_field_1", "integer", "integer"),
    ],
)
def test_field_kind_follows_declared_type_then_naming(
    name: str, declared: str | None, kind: str
) -> None:
    assert field_kind(name, declared) == kind


def test_utc_timestamp_is_the_same_instant_in_fixed_format() -> None:
    assert utc_timestamp("2014-04-10T12:01:48.391494+05:30") == "2014-04-10T06:31:48.391494+00:00"
    assert utc_timestamp("2026-11-20T08:15:02-05:00") == "2026-11-20T13:15:02.000000+00:00"
    with pytest.raises(ValueError, match="no UTC offset"):
        utc_timestamp("2026-11-20T08:15:02")


def test_flatten_record_splits_foreign_keys_and_drops_child_links() -> None:
    describe = {
        "fields": {
            "id": {"type": "integer"},
            "facility_id": {"type": "foreign_key", "related_entity": "facility"},
            "ord_qty": {"type": "decimal"},
            "orderdtl_set": {"type": "child_set"},
            "status_id": {"type": "integer"},
        }
    }
    schema = json_schema(EntityDescription.from_describe("order_hdr", describe))
    assert set(schema["properties"]) == {
        "id",
        "facility_id",
        "facility_id_key",
        "ord_qty",
        "status_id",
    }
    record = {
        "id": 5,
        "facility_id": {"id": 3, "key": "F1", "url": "http://x/entity/facility/3/"},
        "ord_qty": "12.500",
        "orderdtl_set": {"result_count": 2, "url": "http://x/entity/order_dtl/?order_id=5"},
        "status_id": 10,
    }
    row = flatten_record(record, RowShape.from_schema(schema), "order_hdr")
    assert row == {
        "id": 5,
        "facility_id": 3,
        "facility_id_key": "F1",
        "ord_qty": Decimal("12.500"),
        "status_id": 10,
    }


def test_bad_decimal_names_entity_and_field() -> None:
    with pytest.raises(ValueError, match="entity 'order_dtl' field 'ord_qty'"):
        shape = RowShape(foreign_keys=(), decimals=("ord_qty",), plain=frozenset())
        flatten_record({"ord_qty": "twelve"}, shape, "order_dtl")


def test_password_never_in_settings_repr() -> None:
    settings = WmsSettings.from_config(
        {"base_url": "https://wms.example.com/env/", "username": "u", "password": "hunter2-secret"}
    )
    assert "hunter2-secret" not in repr(settings)
    assert settings.api_url == "https://wms.example.com/env/wms/lgfapi/v10/"
    with pytest.raises(WmsConfigError, match="request_timeout"):
        WmsSettings.from_config(
            {"base_url": "https://h/env", "username": "u", "password": "p", "request_timeout": 0}
        )
