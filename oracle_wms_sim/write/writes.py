"""The write side of the entity module: POST and PATCH routes, permissions, JSON bodies.

Implements docs/write-api.md. Each route validates, then applies in one store transaction
(inventory and its history together), then answers in read shape. A user without write access
gets 403 before anything is read; a method/path pair not listed here is 405.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..data.store import Store
from ..data.users import User
from ..errors import ApiError
from ..read.render import record_by_id
from ..responses import Response, json_response
from . import adjustments, bulk, creates, shipping, updates
from .jobs import FlowSettings, Jobs
from .picking import Picking
from .receiving import Receiving
from .validation import rejected
from .variant import Undocumented
from .waves import Waves

WAVE_OPS = {("wave_template", "run_template"), ("wave_template", "run_manual"), ("wave", "undo")}
"""Run Template, Run Manual Wave, Undo Wave: by id and by filters (docs/api-contract.md L1-L9)."""
SINGLE_OPS = {("location", "update_active_inventory"), ("oblpn", "ship"), *WAVE_OPS}
"""`POST entity/{name}/{id}/{op}/`."""
FILTER_OPS = {
    ("location", "update_active_inventory"),
    ("oblpn", "bulk_ship"),
    ("iblpn", "receive"),
    *WAVE_OPS,
}
"""`POST entity/{name}/{op}/` with `parameters`: update_active_inventory finds its one location
by filters (Oracle: one location and item per request); bulk_ship is a bulk operation; receive
takes its fields at the top level (L16)."""
PICK_PACK_OPS = ("pick_confirm", "close_lpn", "wave_complete")
"""REST 21B "Pick Confirm", 21D "Close LPN", 24D "Wave Complete" (docs/api-contract.md L10-L14)."""
CREATABLE = creates.CREATABLE
BULK_SHIP_COMMIT_FREQUENCY = 1
"""The "Bulk Ship OBLPN" page's default `commit_frequency` (the general bulk page says 0)."""


def allowed_methods(segments: list[str]) -> str:
    """The `Allow` header of a 405 for a path under `entity/` (segments after it)."""
    if len(segments) == 1:
        return "GET, HEAD, POST" if segments[0] in CREATABLE else "GET, HEAD"
    if len(segments) == 2 and segments[1] != "describe":
        if (segments[0], segments[1]) in FILTER_OPS:
            return "POST"
        return "GET, HEAD, PATCH" if segments[0] in updates.PATCHABLE else "GET, HEAD"
    if len(segments) == 3 and (segments[0], segments[2]) in SINGLE_OPS:
        return "POST"
    return "GET, HEAD"


def _not_allowed(method: str, segments: list[str]) -> ApiError:
    return ApiError(
        405,
        f"Method {method} is not allowed on this resource.",
        headers={"Allow": allowed_methods(segments)},
    )


def _ident(text: str, entity: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ApiError(404, f"No {entity} record with id '{text}'.") from None


def _only(body: dict[str, Any], keys: tuple[str, ...]) -> None:
    """400 naming each top-level key of the body this route does not take."""
    problems = {name: "unknown key" for name in body if name not in keys}
    if problems:
        raise rejected("The request body is not valid.", problems)


def _body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise rejected("The body must be a JSON object.", {"body": "must be a JSON object"})
    return body


@dataclass
class Writes:
    store: Store
    undocumented: Undocumented = field(default_factory=Undocumented)
    jobs: Jobs = field(default_factory=Jobs)
    flow: FlowSettings = field(default_factory=FlowSettings)
    waves: Waves = field(init=False)
    picking: Picking = field(init=False)
    receiving: Receiving = field(init=False)

    def __post_init__(self) -> None:
        self.waves = Waves(self.store, self.jobs, self.flow, self.undocumented)
        self.picking = Picking(self.store, self.jobs, self.flow, self.undocumented)
        self.receiving = Receiving(self.store, self.undocumented)

    def pick_pack(
        self, method: str, segments: list[str], raw: bytes, query: dict[str, str], user: User
    ) -> Response:
        """The `pick_pack` module: `POST pick_pack/pick_confirm/`, `close_lpn/` and
        `wave_complete/` (L10-L14), fields in the body or in the query string."""
        if len(segments) != 1 or segments[0] not in PICK_PACK_OPS:
            raise ApiError(404, f"pick_pack operation '{'/'.join(segments)}' is not simulated.")
        if method != "POST":
            raise ApiError(
                405, f"Method {method} is not allowed on this resource.", headers={"Allow": "POST"}
            )
        if not user.writable:
            raise ApiError(
                403, f"User '{user.username}' has no create access (lgfapi_create_access)."
            )
        return self.picking.handle(segments[0], _body(raw), query, user)

    def handle(
        self, method: str, segments: list[str], raw: bytes, api_root: str, user: User
    ) -> Response:
        """`segments`: the path after `entity/`, e.g. `["oblpn", "5", "ship"]`."""
        action = self._route(method, segments)
        if action is None:
            raise _not_allowed(method, segments)
        entity = self.store.entity(segments[0])
        if not user.writable:
            access = "create" if method == "POST" else "update"
            raise ApiError(
                403, f"User '{user.username}' has no {access} access (lgfapi_{access}_access)."
            )
        if not user.can_read(entity.name):
            raise ApiError(403, f"User '{user.username}' has no access to entity '{entity.name}'.")
        return action(segments, _body(raw), api_root, user)

    def _route(self, method: str, segments: list[str]) -> Callable[..., Response] | None:
        shape = len(segments)
        if method == "PATCH" and shape == 2:
            if segments[1] == "describe" or (segments[0], segments[1]) in FILTER_OPS:
                return None
            if segments[0] not in updates.PATCHABLE:
                self.store.entity(segments[0])  # an unknown entity stays a 404
                return None  # 405: PATCH works on a limited number of entities (H1)
            return self._patch
        if method != "POST":
            return None
        if shape == 1 and segments[0] in CREATABLE:
            return self._create
        if shape == 2 and (segments[0], segments[1]) in FILTER_OPS:
            return self._filter_op
        if shape == 3 and (segments[0], segments[2]) in SINGLE_OPS:
            return self._single_op
        return None

    # ---- routes ----------------------------------------------------------------------------
    def _patch(
        self, segments: list[str], body: dict[str, Any], api_root: str, user: User
    ) -> Response:
        entity = self.store.entity(segments[0])
        ident = _ident(segments[1], entity.name)
        with self.store.transaction() as conn:
            updates.patch(
                self.store,
                conn,
                entity,
                ident,
                fields=body.get("fields"),
                user=user,
                undocumented=self.undocumented.patch_fields,
            )
        return self._record(entity.name, ident, api_root)

    def _create(
        self, segments: list[str], body: dict[str, Any], api_root: str, user: User
    ) -> Response:
        _only(body, ("fields", "options"))
        with self.store.transaction() as conn:
            done = creates.create(
                self.store, conn, segments[0], body, user, record_ref=self.undocumented.create_ref
            )
        return self._record(segments[0], done.ident, api_root, status=201 if done.new else 200)

    def _single_op(
        self, segments: list[str], body: dict[str, Any], api_root: str, user: User
    ) -> Response:
        name, ident = segments[0], _ident(segments[1], segments[0])
        if name == "wave_template":
            return self.waves.run(segments, body, user)
        if name == "wave":
            return self.waves.undo(segments, body, user)
        _only(body, ("options",))
        if name == "location":
            adjustment = adjustments.parse_adjustment(body.get("options"))
            with self.store.transaction() as conn:
                location = adjustments.location_by_id(conn, self.store, ident, user)
                done = adjustments.adjust(self.store, conn, location, adjustment, user)
            return json_response(done.to_json())
        options = shipping.parse_options(body.get("options"))
        with self.store.transaction() as conn:
            shipping.ship(self.store, conn, ident, options, user)
        return self._record("oblpn", ident, api_root)

    def _filter_op(
        self, segments: list[str], body: dict[str, Any], api_root: str, user: User
    ) -> Response:
        if segments[0] == "wave_template":
            return self.waves.run(segments, body, user)
        if segments[0] == "wave":
            return self.waves.undo(segments, body, user)
        if segments[0] == "iblpn":
            with self.store.transaction() as conn:
                received = self.receiving.receive(conn, body, user)
            if self.undocumented.receive_answer == "empty":
                return Response(204)
            return self._record("iblpn", received, api_root)
        if segments[0] == "location":
            _only(body, ("parameters", "options"))
            adjustment = adjustments.parse_adjustment(body.get("options"))
            with self.store.transaction() as conn:
                location = adjustments.find_location(conn, self.store, body.get("parameters"), user)
                done = adjustments.adjust(self.store, conn, location, adjustment, user)
            return json_response(done.to_json())

        def resolve(filters: dict[str, Any], strict: bool, problems: dict[str, str]) -> list[int]:
            with self.store.transaction() as conn:
                return shipping.resolve_lpns(
                    conn, self.store, user, filters, strict=strict, problems=problems
                )

        request = bulk.parse(
            body, user, default_commit_frequency=BULK_SHIP_COMMIT_FREQUENCY, resolve=resolve
        )
        options = shipping.parse_options(request.options)

        def apply_one(conn: Any, ident: int) -> None:
            shipping.ship(self.store, conn, ident, options, user)

        return json_response(bulk.run(self.store, request, apply_one).to_json())

    def _record(self, name: str, ident: int, api_root: str, status: int = 200) -> Response:
        """The record after the write, in read shape (the committed state)."""
        text = record_by_id(self.store.reader(), self.store.entity(name), ident, api_root)
        if text is None:  # deleted by a concurrent change between commit and read
            raise ApiError(404, f"No {name} record with id {ident}.")
        return Response(status, text.encode(), {"Content-Type": "application/json"})
