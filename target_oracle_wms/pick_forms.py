"""The requests of a pick-to-light line (contract L10-L14): which pick_pack endpoint and form
each action code goes to (`request_for`), and the other documented form a WMS that lacks one
gets instead (`other_form`, `fallback_for`). `picks.py` decides what is sent and when.
"""

from __future__ import annotations

import typing as t
from urllib.parse import parse_qsl, urlencode

from oracle_wms.errors import WmsNotFoundError
from target_oracle_wms.base import Call, RecordRejectedError

PICK_CONFIRM = "pick_pack/pick_confirm/"
CLOSE_LPN = "pick_pack/close_lpn/"
WAVE_COMPLETE = "pick_pack/wave_complete/"
CONTEXT = ("facility_id__code", "company_id__code")
REQUEST_FLAGS = {"async_flg": False, "mhe_mode_flg": False}
"""`async_flg` false: the answer is the outcome (L12). `mhe_mode_flg` false: the target is no MHE
system and sends no `mhe_system_code`, which the flag's default (true) enforces (REST 25C)."""


def request_for(line: dict[str, t.Any]) -> Call:
    """The request for one checked line (`line`: the context keys, `action_code` and the
    fields its action needs, as pick_confirm names them)."""
    action = line["action_code"]
    context = {k: line[k] for k in CONTEXT if k in line}
    if action == "Close":
        query = {**context, "to_container_nbr": line["to_container_nbr"]}
        return "POST", _with_query(CLOSE_LPN, query), {}
    if action == "Complete":
        return "POST", _with_query(WAVE_COMPLETE, {**context, "wave_nbr": line["wave_nbr"]}), {}
    pick = dict(line)
    if action == "Short":  # REST 21B: short_flg replaces the action code Short
        pick.update(action_code="Pick", short_flg=True)
    return "POST", PICK_CONFIRM, {"pick_list": [pick], **REQUEST_FLAGS}


def _with_query(path: str, fields: dict[str, t.Any]) -> str:
    flags = {k: "true" if v else "false" for k, v in REQUEST_FLAGS.items() if k == "async_flg"}
    wire = {
        k: ("true" if v else "false") if isinstance(v, bool) else str(v) for k, v in fields.items()
    }
    return f"{path}?{urlencode({**wire, **flags})}"


def other_form(call: Call) -> Call | None:
    """The other documented form of a pick_pack request: close_lpn or wave_complete -> the
    action code Close or Complete in pick_confirm (owmol 24D); a `pick_list` -> the pick in the
    query string (the practitioner's OpenAPI's form). None: no other form."""
    _, path, body = call
    base, _, query = path.partition("?")
    if base in (CLOSE_LPN, WAVE_COMPLETE):
        fields = {k: v for k, v in parse_qsl(query) if k != "async_flg"}
        pick = {**fields, "action_code": "Close" if base == CLOSE_LPN else "Complete"}
        return "POST", PICK_CONFIRM, {"pick_list": [pick], **REQUEST_FLAGS}
    if base == PICK_CONFIRM and "pick_list" in body:
        (pick,) = body["pick_list"]
        return "POST", _with_query(PICK_CONFIRM, {**pick, "mhe_mode_flg": False}), {}
    return None


def form_of(call: Call) -> str:
    """A request's form: its path, and for pick_confirm whether it carries `pick_list`."""
    base = call[1].partition("?")[0]
    return f"{base} pick_list" if "pick_list" in call[2] else base


def fallback_for(call: Call, refusal: RecordRejectedError) -> Call | None:
    """`other_form(call)` when the WMS's refusal says it lacks this form: a 404 on close_lpn
    or wave_complete (a WMS before REST 21D / 24D), a 400 naming `pick_list` itself. None: the
    refusal is about the line, not the form."""
    base = call[1].partition("?")[0]
    if base in (CLOSE_LPN, WAVE_COMPLETE) and isinstance(refusal.__cause__, WmsNotFoundError):
        return other_form(call)
    if base == PICK_CONFIRM and "pick_list" in refusal.reasons:
        return other_form(call)
    return None
