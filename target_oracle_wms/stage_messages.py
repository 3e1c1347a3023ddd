"""The JSON stage interface's messages (docs/write-api.md): which documents share one, its id,
its body.

A message holds up to `MAX_MESSAGE` documents of one facility and `MAX_MESSAGE_BYTES` of JSON,
is processed before the WMS answers (`async_flg` false), and is named after the stream, its
documents and the attempt: the WMS does not de-duplicate message ids, so a resend is its own
file group, which operators find by that name on the Input Interface screen.
"""

from __future__ import annotations

import hashlib
import json
import typing as t
from datetime import datetime

from target_oracle_wms.base import Pending
from target_oracle_wms.lookups import Facility
from target_oracle_wms.stage_specs import StageSpec

MAX_MESSAGE = 1000
"""Records per stage message the WMS accepts."""
MAX_MESSAGE_BYTES = 512 * 1024
"""A message also closes at this much JSON: documents with many lines make large bodies, and
servers cap request bodies (the simulator at 1 MiB)."""


def chunks(items: list[Pending], size: int) -> t.Iterator[list[Pending]]:
    """Up to `size` documents and `MAX_MESSAGE_BYTES` of JSON, all of one facility, in input
    order within each facility."""
    by_facility: dict[str, list[Pending]] = {}
    for item in items:
        by_facility.setdefault(str(item.record["facility_code"]), []).append(item)
    for group in by_facility.values():
        chunk: list[Pending] = []
        used = 0
        for item in group:
            length = len(json.dumps(item.call[2]))
            if chunk and (len(chunk) >= size or used + length > MAX_MESSAGE_BYTES):
                yield chunk
                chunk, used = [], 0
            chunk.append(item)
            used += length
        if chunk:
            yield chunk


def message_id(stream: str, chunk: list[Pending], attempt: int) -> str:
    """`singer-` and 40 hex digits of the stream, the documents' identities and the attempt."""
    text = "\n".join([stream, str(attempt), *(i.identity for i in chunk)])
    return f"singer-{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def file_group(messageid: str, sent: datetime) -> str:
    """How the WMS names the message's file group, for a reject reason."""
    return (
        f"{messageid}YYYYMMDDHHMMSS (the message id followed by the time the WMS received it, "
        f"about {sent:%Y-%m-%d %H:%M:%S} UTC)"
    )


def message(
    spec: StageSpec, facility: Facility, messageid: str, sent: datetime, chunk: list[Pending]
) -> dict[str, t.Any]:
    """The body of `POST stage/{entity}/`: the header, then the documents (each `item.call`'s
    body) under the entity's list name."""
    return {
        "async_flg": False,
        "header": {
            "origin_system": "target-oracle-wms",
            "parent_company_code": facility.company_code,
            "entity": spec.entity,
            "timestamp": sent.strftime("%Y-%m-%d %H:%M:%S"),
            "messageid": messageid,
            "facility_code": facility.code,
            "company_code": facility.company_code,
        },
        spec.list_name: [item.call[2] for item in chunk],
    }
