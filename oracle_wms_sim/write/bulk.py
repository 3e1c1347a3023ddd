"""Bulk operations: `POST entity/{name}/{op}/` with `parameters.id__in` and `commit_frequency`.

Oracle's summary body is `{"record_count", "success_count", "failure_count", "details"}`.
`commit_frequency` 1 commits each record on its own (failures are listed per id and the others
stay applied); 0 is all or nothing: the first failure rolls everything back and is the only one
reported.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..data.store import Store
from ..errors import ApiError
from .validation import FieldError, Problems, integer_value, rejected

ApplyOne = Callable[[sqlite3.Connection, int], None]


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


class _AbortError(Exception):
    def __init__(self, ident: int, message: str) -> None:
        super().__init__(message)
        self.ident = ident
        self.message = message


def parse(body: dict[str, Any]) -> BulkRequest:
    """`parameters.id__in` (a list of ids, or a comma-separated string) and `commit_frequency`
    (0 or 1, default 1); 400 naming the bad one."""
    problems: Problems = {}
    parameters = body.get("parameters")
    ids: list[int] = []
    raw = parameters.get("id__in") if isinstance(parameters, dict) else None
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list) or not raw:
        problems["parameters"] = "needs 'id__in': a non-empty list of ids"
    else:
        try:
            ids = [integer_value(value) for value in raw]
        except FieldError as exc:
            problems["parameters"] = f"id__in: {exc}"
    frequency = body.get("commit_frequency", 1)
    if frequency not in (0, 1) or isinstance(frequency, bool):
        problems["commit_frequency"] = "must be 0 (all or nothing) or 1 (commit each record)"
    if problems:
        raise rejected("The bulk request is not valid.", problems)
    return BulkRequest(ids, int(frequency))


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
