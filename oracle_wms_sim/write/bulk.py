"""Bulk operations: `POST entity/{name}/{op}/` with `parameters` (filters) and `options`.

As Oracle's "Bulk Operations" page documents them: the body has `parameters` (filters naming the
objects; `id__in` always, other filters per operation) and `options`, whose entry
`commit_frequency` says when changes commit: 0 all or nothing (the first failure rolls everything
back and is the only one reported), 1 each object on its own. The operation's page may set
another default than the general page's 0 (Bulk Ship OBLPN: 1). One request acts on at most the
user's "Rows per Page" objects. Anything else at the top level of the body is a 400 naming it.

The answer body is not documented by Oracle; the simulator answers
`{"record_count", "success_count", "failure_count", "details"}` and clients must not depend on
it (docs/write-api.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..data.store import Store
from ..data.users import User
from ..errors import ApiError
from .validation import FieldError, Problems, integer_value, rejected

ApplyOne = Callable[[sqlite3.Connection, int], None]
Resolve = Callable[[dict[str, Any], bool, Problems], list[int]]
"""(parameters without `id__in`, require_facility_company_flg, problems) -> object ids."""

_BODY_KEYS = frozenset(("parameters", "options"))


@dataclass
class Summary:
    record_count: int
    success_count: int = 0
    failure_count: int = 0
    details: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "record_count": self.record_count,
            "success_count": self.success_count,
            "failure_count": self.failure_count,
            "details": self.details,
        }


@dataclass(frozen=True)
class BulkRequest:
    ids: list[int]
    commit_frequency: int
    options: dict[str, Any]
    """The operation's own options (the bulk ones, `commit_frequency` and
    `require_facility_company_flg`, taken out)."""


class _AbortError(Exception):
    def __init__(self, ident: int, message: str) -> None:
        super().__init__(message)
        self.ident = ident
        self.message = message


def _id_list(raw: Any, problems: Problems) -> list[int]:
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list) or not raw:
        problems["parameters.id__in"] = "must be a non-empty list of ids"
        return []
    try:
        return [integer_value(value) for value in raw]
    except FieldError as exc:
        problems["parameters.id__in"] = str(exc)
        return []


def parse(
    body: dict[str, Any],
    user: User,
    *,
    default_commit_frequency: int,
    resolve: Resolve | None = None,
) -> BulkRequest:
    """The objects and options of a bulk request; 400 naming every bad part before anything is
    applied. `resolve` finds the objects of filters other than `id__in` (None: only `id__in`)."""
    problems: Problems = {name: "unknown key" for name in body if name not in _BODY_KEYS}
    parameters = body.get("parameters")
    options = body.get("options", {})
    if not isinstance(options, dict):
        problems["options"] = "must be an object"
        options = {}
    options = dict(options)
    frequency = options.pop("commit_frequency", default_commit_frequency)
    if frequency not in (0, 1) or isinstance(frequency, bool):
        problems["options.commit_frequency"] = (
            "must be 0 (all or nothing) or 1 (commit each object)"
        )
    strict = options.pop("require_facility_company_flg", True)
    if not isinstance(strict, bool):
        problems["options.require_facility_company_flg"] = "must be true or false"
        strict = True
    ids: list[int] = []
    if not isinstance(parameters, dict) or not parameters:
        problems["parameters"] = "required: filters naming the objects (e.g. id__in)"
    else:
        filters = dict(parameters)
        if "id__in" in filters:
            ids = _id_list(filters.pop("id__in"), problems)
        if filters and resolve is None:
            for name in filters:
                problems[f"parameters.{name}"] = "unknown filter"
        elif filters and resolve is not None:
            found = resolve(filters, strict, problems)
            ids = [i for i in ids if i in set(found)] if "id__in" in parameters else found
    if not problems and len(ids) > user.rows_per_page:
        problems["parameters"] = (
            f"at most {user.rows_per_page} objects per request (the user's Rows per Page); "
            f"the filters name {len(ids)}"
        )
    if problems:
        raise rejected("The bulk request is not valid.", problems)
    return BulkRequest(ids, int(frequency), options)


def failure_message(exc: ApiError) -> str:
    """One line per failed record: the field messages, else the error message."""
    if exc.details:
        return "; ".join(str(v) for v in exc.details.values())
    return exc.message


def run(store: Store, request: BulkRequest, apply_one: ApplyOne) -> Summary:
    summary = Summary(len(request.ids))
    if request.commit_frequency == 0:
        try:
            with store.transaction() as conn:
                for ident in request.ids:
                    try:
                        apply_one(conn, ident)
                    except ApiError as exc:
                        raise _AbortError(ident, failure_message(exc)) from exc
        except _AbortError as abort:
            summary.failure_count = summary.record_count
            summary.details[str(abort.ident)] = abort.message
            return summary
        summary.success_count = summary.record_count
        return summary
    for ident in request.ids:
        try:
            with store.transaction() as conn:
                apply_one(conn, ident)
        except ApiError as exc:
            summary.failure_count += 1
            summary.details[str(ident)] = failure_message(exc)
        else:
            summary.success_count += 1
    return summary
