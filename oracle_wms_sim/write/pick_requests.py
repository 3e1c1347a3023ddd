"""What the `pick_pack` module takes: the requests of Pick Confirm, Close LPN and Wave Complete,
checked into `PickRequest`s (docs/api-contract.md L10-L12, L14).

Every documented form is taken, and only documented names:

- `pick_confirm/`: several allocations in one payload (REST 23C-25C "Pick Confirm"; the list is
  `pick_list` with the request-level flags `mhe_mode_flg` and `async_flg` beside it, as REST 25C
  "Consolidate API" names them), or one pick whose fields are at the top level of the body, or
  in the query string (the practitioner's OpenAPI of 2020 declares every pick_confirm field
  `in: query`).
- `close_lpn/` (REST 21D "Close LPN") and `wave_complete/` (REST 24D "Wave Complete"): their
  pages table the fields as "query string parameters"; the simulator also takes them at the top
  level of a JSON body. A name given both in the query string and the body is refused.

Query-string values are text: flags read `true`/`false`. The action codes Close and Complete
(and Short, which `short_flg` replaces) stay accepted by pick_confirm unless
`Undocumented.legacy_action_codes` is off (a WMS where close_lpn and wave_complete replaced
them, as their pages say).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..data.users import User
from . import fulfilment as ff
from .validation import FieldError, Problems, decimal_value, rejected, text_value

ACTIONS = ("Pick", "Close", "Short", "Complete")
CONTEXT = ("facility_id", "facility_id__code", "company_id", "company_id__code")
PICK_TEXT = (
    "action_code",
    "wave_nbr",
    "order_nbr",
    "item_alternate_code",
    "item_barcode",
    "pick_location",
    "from_container_nbr",
    "to_container_nbr",
    "close_container_status",
    "reason_code",
    "mhe_system_code",
    "allocation_uom",
    "batch_nbr",
)
PICK_FLAGS = ("short_flg", "short_on_close_flg", "update_inventory_on_short_flg")
REQUEST_FLAGS = ("mhe_mode_flg", "async_flg")
"""The request-level flags (Consolidate API's words); one pick also takes them beside its fields."""
PICK_FIELDS = frozenset((*CONTEXT, *PICK_TEXT, *PICK_FLAGS, "qty", "uom_qty"))
"""One pick's fields: the 2020 OpenAPI's pick_confirm parameters and REST 25C's flags."""
CLOSE_FIELDS = frozenset(
    (
        *CONTEXT,
        "to_container_nbr",
        "close_container_status",
        "short_on_close_flg",
        "update_inventory_on_short_flg",
        "reason_code",
        "async_flg",
    )
)
"""REST 21D "Close LPN" parameter table (and the OpenAPI's `reason_code`)."""
COMPLETE_FIELDS = frozenset(
    (
        *CONTEXT,
        "wave_nbr",
        "close_container_status",
        "update_inventory_on_short_flg",
        "mhe_system_code",
        "reason_code",
        "async_flg",
    )
)
"""REST 24D "Wave Complete" parameter table and the OpenAPI's wave_complete parameters."""
UNITS = "units"


@dataclass(frozen=True)
class PickRequest:
    """One checked pick, close or complete."""

    action: str
    facility: int
    company: int | None
    fields: dict[str, Any]
    qty: Decimal | None
    flags: dict[str, bool]


@dataclass(frozen=True)
class PickPayload:
    """One request of the `pick_pack` module: its picks in order, and whether it is async."""

    picks: list[PickRequest]
    asynchronous: bool


def merged(body: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """The body's fields and the query string's (the documented query-string form); a name
    in both is a 400."""
    both = {
        name: "given both in the query string and in the body" for name in query if name in body
    }
    if both:
        raise rejected("The request is not valid.", both)
    return {**body, **query}


def _flag(source: dict[str, Any], name: str, default: bool, problems: Problems, where: str) -> bool:
    value = source.get(name, default)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        problems[f"{where}{name}"] = f"must be true or false (got {value!r})"
        return default
    return value


def parse_confirm(
    conn: sqlite3.Connection, source: dict[str, Any], user: User, legacy_codes: bool
) -> PickPayload:
    """`pick_confirm/`: a `pick_list` of picks with the request-level flags, or one pick."""
    problems: Problems = {}
    if "pick_list" not in source:
        problems.update(
            {n: "unknown field" for n in source if n not in PICK_FIELDS | {*REQUEST_FLAGS}}
        )
        flags = {n: _flag(source, n, True, problems, "") for n in REQUEST_FLAGS}
        pick = _pick(conn, source, user, problems, where="", legacy_codes=legacy_codes)
        if problems:
            raise rejected("The pick confirmation is not valid.", problems)
        assert pick is not None
        return PickPayload([pick], flags["async_flg"])
    problems.update({n: "unknown field" for n in source if n not in ("pick_list", *REQUEST_FLAGS)})
    flags = {n: _flag(source, n, True, problems, "") for n in REQUEST_FLAGS}
    entries = source["pick_list"]
    if not isinstance(entries, list) or not entries:
        problems["pick_list"] = "must be a non-empty list of picks"
        entries = []
    picks: list[PickRequest] = []
    for n, entry in enumerate(entries):
        where = f"pick_list[{n}]."
        if not isinstance(entry, dict):
            problems[f"pick_list[{n}]"] = "must be an object"
            continue
        problems.update({f"{where}{k}": "unknown field" for k in entry if k not in PICK_FIELDS})
        pick = _pick(conn, entry, user, problems, where=where, legacy_codes=legacy_codes)
        if pick is not None:
            picks.append(pick)
    if problems:
        raise rejected("The pick confirmation is not valid.", problems)
    return PickPayload(picks, flags["async_flg"])


def parse_close(conn: sqlite3.Connection, source: dict[str, Any], user: User) -> PickPayload:
    """`close_lpn/`: `to_container_nbr` required."""
    problems: Problems = {n: "unknown field" for n in source if n not in CLOSE_FIELDS}
    request = _single(conn, source, user, "Close", problems)
    asynchronous = _flag(source, "async_flg", True, problems, "")
    if not request.fields.get("to_container_nbr"):
        problems["to_container_nbr"] = "is required"
    if problems:
        raise rejected("The close LPN request is not valid.", problems)
    return PickPayload([request], asynchronous)


def parse_complete(conn: sqlite3.Connection, source: dict[str, Any], user: User) -> PickPayload:
    """`wave_complete/`: `wave_nbr` required."""
    problems: Problems = {n: "unknown field" for n in source if n not in COMPLETE_FIELDS}
    request = _single(conn, source, user, "Complete", problems)
    asynchronous = _flag(source, "async_flg", True, problems, "")
    if not request.fields.get("wave_nbr"):
        problems["wave_nbr"] = "is required"
    if problems:
        raise rejected("The wave complete request is not valid.", problems)
    return PickPayload([request], asynchronous)


def _single(
    conn: sqlite3.Connection, source: dict[str, Any], user: User, action: str, problems: Problems
) -> PickRequest:
    facility, company = _context(conn, source, user, "", problems)
    fields = _texts(source, "", problems)
    flags = {n: _flag(source, n, False, problems, "") for n in PICK_FLAGS}
    _check_status(fields, "", problems)
    return PickRequest(action, facility or 0, company, fields, None, flags)


def _context(
    conn: sqlite3.Connection, source: dict[str, Any], user: User, where: str, problems: Problems
) -> tuple[int | None, int | None]:
    facility = ff.named_facility(
        conn, user, source, problems, where, default_code=user.default_facility
    )
    pair = ff.one_of(source, ("company_id", "company_id__code"), problems, where)
    return facility, ff.company_of(conn, user, pair, problems, where)


def _texts(source: dict[str, Any], where: str, problems: Problems) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in PICK_TEXT:
        try:
            value = source.get(name)
            fields[name] = text_value(str(value) if isinstance(value, int) else value, 50)
        except FieldError as exc:
            problems[f"{where}{name}"] = str(exc)
    return fields


def _check_status(fields: dict[str, Any], where: str, problems: Problems) -> None:
    status = fields.get("close_container_status")
    if status is not None and status.lower() not in ("picked", "packed"):
        problems[f"{where}close_container_status"] = "must be 'picked' or 'packed'"


def _pick(
    conn: sqlite3.Connection,
    source: dict[str, Any],
    user: User,
    problems: Problems,
    *,
    where: str,
    legacy_codes: bool,
) -> PickRequest | None:
    before = len(problems)
    flags = {n: _flag(source, n, False, problems, where) for n in PICK_FLAGS}
    action = source.get("action_code")
    if action not in ACTIONS:
        problems[f"{where}action_code"] = f"must be one of {', '.join(ACTIONS)} (got {action!r})"
    elif action != "Pick" and not legacy_codes:
        replacement = {"Close": "pick_pack/close_lpn/", "Complete": "pick_pack/wave_complete/"}
        problems[f"{where}action_code"] = (
            f"{action} is replaced by {replacement.get(action, 'Pick with short_flg true')}"
        )
    elif action == "Pick" and flags["short_flg"]:
        action = "Short"
    facility, company = _context(conn, source, user, where, problems)
    fields = _texts(source, where, problems)
    qty = _quantity(source, "qty", where, problems)
    _quantity(source, "uom_qty", where, problems)
    uom = fields.get("allocation_uom")
    if uom is not None and uom.lower() != UNITS:
        problems[f"{where}allocation_uom"] = (
            f"picking in {uom} is not simulated: the simulator allocates units only"
        )
    if action in ("Pick", "Short"):
        _required_for_pick(str(action), fields, qty, where, problems)
    elif action == "Close" and not fields.get("to_container_nbr"):
        problems[f"{where}to_container_nbr"] = "is required for Close"
    elif action == "Complete" and not fields.get("wave_nbr"):
        problems[f"{where}wave_nbr"] = "is required for Complete"
    _check_status(fields, where, problems)
    if len(problems) > before or facility is None:
        return None
    return PickRequest(str(action), facility, company, fields, qty, flags)


def _quantity(source: dict[str, Any], name: str, where: str, problems: Problems) -> Decimal | None:
    if source.get(name) in (None, ""):
        return None
    try:
        qty = decimal_value(source[name])
    except FieldError as exc:
        problems[f"{where}{name}"] = str(exc)
        return None
    if qty <= 0:
        problems[f"{where}{name}"] = "must be more than 0"
    return qty


def _required_for_pick(
    action: str, fields: dict[str, Any], qty: Decimal | None, where: str, problems: Problems
) -> None:
    if not fields.get("order_nbr"):
        problems[f"{where}order_nbr"] = f"is required for {action}"
    if not fields.get("item_alternate_code") and not fields.get("item_barcode"):
        problems[f"{where}item_barcode"] = f"give item_barcode or item_alternate_code for {action}"
    if qty is None:
        problems.setdefault(f"{where}qty", f"is required for {action}")
    if fields.get("from_container_nbr"):
        problems[f"{where}from_container_nbr"] = (
            "picking from a reserve LPN is not simulated: name the active pick_location"
        )
    elif not fields.get("pick_location"):
        problems[f"{where}pick_location"] = f"give pick_location or from_container_nbr for {action}"
    if action == "Pick" and not fields.get("to_container_nbr"):
        problems[f"{where}to_container_nbr"] = "is required for Pick"
