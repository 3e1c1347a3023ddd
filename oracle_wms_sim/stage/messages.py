"""A stage message as posted: its structure checked before anything is stored.

docs/write-api.md, "Answers": a malformed message (body, header, record list, `async_flg`, an
unknown top-level key) is a 400 naming each field (`header.messageid`, `stage_order_list`) and
takes no message id. Record content is not looked at here: that is the processing's job, as in
Oracle's interface, which acknowledges a message before validating its documents.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..data.users import User
from ..write.validation import FieldError, Problems, rejected, text_value
from .specs import DocumentSpec

MAX_RECORDS = 1000
MESSAGEID_MAX = 100
HEADER_TEXT_MAX = 100
HEADER_REQUIRED = ("messageid", "entity", "facility_code", "company_code")
HEADER_OPTIONAL = (
    "document_version",
    "origin_system",
    "client_env_code",
    "parent_company_code",
    "timestamp",
)


@dataclass(frozen=True)
class Message:
    """A structurally valid message, ready to store."""

    spec: DocumentSpec
    messageid: str
    facility_id: int
    company_id: int
    async_flg: bool
    header: dict[str, Any]
    records: list[Any]


def parse_message(conn: sqlite3.Connection, spec: DocumentSpec, raw: bytes, user: User) -> Message:
    """400 naming every structural problem (`header.messageid`, `stage_order_list`, ...).
    Record content is not looked at: that is the processing's job."""
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise rejected("The body must be a JSON object.", {"body": "must be a JSON object"})
    problems: Problems = {}
    for name in body:
        if name not in ("async_flg", "header", spec.list_name):
            problems[name] = "unknown key of a stage message"
    async_flg = body.get("async_flg", False)
    if not isinstance(async_flg, bool):
        problems["async_flg"] = f"must be true or false (got {async_flg!r})"
    records = body.get(spec.list_name)
    if not isinstance(records, list) or not records:
        problems[spec.list_name] = "must be a non-empty list of records"
    elif len(records) > MAX_RECORDS:
        problems[spec.list_name] = f"at most {MAX_RECORDS} records (got {len(records)})"
    header = body.get("header")
    ids: tuple[int, int] | None = None
    if not isinstance(header, dict):
        problems["header"] = "must be an object"
    else:
        ids = _check_header(conn, spec, header, user, problems)
    if problems:
        raise rejected(f"The {spec.entity} stage message is not valid.", problems)
    assert isinstance(header, dict) and isinstance(records, list) and ids is not None
    return Message(spec, header["messageid"], *ids, async_flg, header, records)


def _check_header(
    conn: sqlite3.Connection,
    spec: DocumentSpec,
    header: dict[str, Any],
    user: User,
    problems: Problems,
) -> tuple[int, int] | None:
    """(facility id, company id) of a valid header; problems named `header.<field>`."""
    found: Problems = {}
    for name in header:
        if name not in HEADER_REQUIRED and name not in HEADER_OPTIONAL:
            found[name] = "unknown header field"
    for name in (*HEADER_REQUIRED, *HEADER_OPTIONAL):
        limit = MESSAGEID_MAX if name == "messageid" else HEADER_TEXT_MAX
        try:
            text_value(header.get(name), limit, required=name in HEADER_REQUIRED)
        except FieldError as exc:
            found[name] = str(exc)
    if "entity" not in found and header["entity"] != spec.entity:
        found["entity"] = f"must be '{spec.entity}', the entity of the path"
    ids = None
    if "facility_code" not in found and "company_code" not in found:
        ids = _scope(conn, header["facility_code"], header["company_code"], user, found)
    problems.update({f"header.{name}": message for name, message in found.items()})
    return None if found else ids


def _scope(
    conn: sqlite3.Connection, facility: str, company: str, user: User, found: Problems
) -> tuple[int, int] | None:
    fac = conn.execute("SELECT id, company_id FROM facility WHERE code = ?", (facility,)).fetchone()
    co = conn.execute("SELECT id FROM company WHERE code = ?", (company,)).fetchone()
    if fac is None:
        found["facility_code"] = f"Facility '{facility}' does not exist."
    elif user.facility_ids is not None and fac[0] not in user.facility_ids:
        found["facility_code"] = f"User '{user.username}' is not eligible for facility {facility}."
    if co is None:
        found["company_code"] = f"Company '{company}' does not exist."
    elif user.company_ids is not None and co[0] not in user.company_ids:
        found["company_code"] = f"User '{user.username}' is not eligible for company {company}."
    if fac is not None and co is not None and fac[1] != co[0] and "facility_code" not in found:
        found["facility_code"] = f"Facility {facility} does not belong to company {company}."
    return None if fac is None or co is None else (int(fac[0]), int(co[0]))
