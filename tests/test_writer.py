"""The tap's RECORD lines are the Singer SDK's own, byte for byte, however they are written."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib.encoding.simple import (
    ActivateVersionMessage,
    Message,
    RecordMessage,
    SchemaMessage,
    StateMessage,
)

from tap_oracle_wms.writer import BufferedMsgSpecWriter

RECORD = {
    "id": 7,
    "curr_qty": Decimal("12.500"),
    "item_id_key": 'ITM-ü/"7"',
    "lock_flg": False,
    "batch_nbr": None,
    "mod_ts": "2026-11-20T13:15:02.500000+00:00",
}


@pytest.mark.parametrize("version", [None, 1764147302])
def test_write_record_is_the_sdk_record_message(
    monkeypatch: pytest.MonkeyPatch, version: int | None
) -> None:
    extracted = datetime(2026, 11, 26, 8, 15, 2, 123456, tzinfo=UTC)
    expected = bytes(
        MsgSpecWriter().format_message(
            RecordMessage(
                stream="inventory", record=RECORD, version=version, time_extracted=extracted
            )
        )
    )
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))
    writer = BufferedMsgSpecWriter()

    writer.write_record("inventory", RECORD, version, extracted)
    writer.write_record("inventory", RECORD, version, extracted)
    assert out.getvalue() == b""  # buffered until a flush
    writer.flush()

    assert out.getvalue() == expected * 2


@pytest.mark.parametrize(
    "message",
    [
        SchemaMessage(
            stream="inventory",
            schema={
                "type": "object",
                "properties": {
                    "id": {"type": ["integer"]},
                    "batch_nbr": {"type": ["null", "string"]},
                },
                "required": [],
                "default": None,
            },
            key_properties=["id"],
            bookmark_properties=["mod_ts"],
        ),
        SchemaMessage(stream="company", schema={"type": "object"}, key_properties=[]),
        StateMessage(
            value={"bookmarks": {"inventory": {"replication_key_value": None, "partitions": []}}}
        ),
        ActivateVersionMessage(stream="inventory", version=1764147302),
    ],
)
def test_other_messages_are_the_sdks_lines(
    monkeypatch: pytest.MonkeyPatch, message: Message
) -> None:
    expected = bytes(MsgSpecWriter().format_message(message))
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))

    BufferedMsgSpecWriter().write_message(message)

    assert out.getvalue() == expected
