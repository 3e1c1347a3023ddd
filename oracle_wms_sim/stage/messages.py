"""A stage message as posted: its structure checked before anything is stored.

docs/write-api.md, "Answers": a malformed message (body, header, record list, `async_flg`,
`parameters`, an unknown top-level key) is a 400 naming each field (`header.messageid`,
`stage_order_list`, `parameters.<name>`) and stores nothing. Record content is not looked at
here: that is the processing's job, as in Oracle's interface, which loads a message into its
stage tables before validating its documents.

`parameters` holds the two flags Oracle documents for the sales order JSON interface (Readiness
24D, "New API Parameters to Support JSON Format for Sales Orders"; the same two on the movement
request interface): `prevent_stage_hdr_record_creation_flg` and
`file_group_num_without_timestamp_flg`, booleans given as y/n (yes/no, true/false accepted too),
both "no" by default.
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
PARAMETERS = ("prevent_stage_hdr_record_creation_flg", "file_group_num_without_timestamp_flg")
_YES = frozenset(("y", "yes", "true"))
_NO = frozenset(("n", "no", "false"))
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
    parameters: dict[str, bool]
    """Every flag of `PARAMETERS`, as given or its default (False)."""


def parse_message(
    conn: sqlite3.Connection,
    spec: DocumentSpec,
    raw: bytes,
    user: User,
    max_records: int = MAX_RECORDS,
) -> Message:
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
        if name not in ("async_flg", "header", "parameters", spec.list_name):
            problems[name] = "unknown key of a stage message"
    async_flg = body.get("async_flg", False)
    if not isinstance(async_flg, bool):
        problems["async_flg"] = f"must be true or false (got {async_flg!r})"
    records = body.get(spec.list_name)
    if not isinstance(records, list) or not records:
        problems[spec.list_name] = "must be a non-empty list of records"
    elif len(records) > max_records:
        problems[spec.list_name] = f"at most {max_records} records (got {len(records)})"
    parameters = _parameters(body.get("parameters", {}), problems)
    header = body.get("header")
    ids: tuple[int, int] | None = None
    if not isinstance(header, dict):
        problems["header"] = "must be an object"
    else:
        ids = _check_header(conn, spec, header, user, problems)
    if problems:
        raise rejected(f"The {spec.entity} stage message is not valid.", problems)
    assert isinstance(header, dict) and isinstance(records, list) and ids is not None
    return Message(spec, header["messageid"], *ids, async_flg, header, records, parameters)


def _parameters(given: Any, problems: Problems) -> dict[str, bool]:
    """The documented flags (y/n booleans); an unknown name or value is a problem."""
    flags = dict.fromkeys(PARAMETERS, False)
    if not isinstance(given, dict):
        problems["parameters"] = "must be an object"
        return flags
    for name, value in given.items():
        where = f"parameters.{name}"
        if name not in PARAMETERS:
            problems[where] = f"unknown parameter; one of {', '.join(PARAMETERS)}"
        elif isinstance(value, bool):
            flags[name] = value
        elif isinstance(value, str) and value.strip().lower() in _YES | _NO:
            flags[name] = value.strip().lower() in _YES
        else:
            problems[where] = f"must be y or n (got {value!r})"
    return flags


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
