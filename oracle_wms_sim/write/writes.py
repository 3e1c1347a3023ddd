"""The write side of the entity module: POST and PATCH routes, permissions, JSON bodies.

Implements docs/write-api.md. Each route validates, then applies in one store transaction
(inventory and its history together), then answers in read shape. A user without write access
gets 403 before anything is read; a method/path pair not listed here is 405.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..data.store import Store
from ..data.users import User
from ..errors import ApiError
from ..read.render import record_by_id
from ..responses import Response, json_response
from . import adjustments, bulk, shipping, updates
from .validation import rejected

SINGLE_OPS = {("location", "update_active_inventory"), ("oblpn", "ship")}
BULK_OPS = {("location", "update_active_inventory"), ("oblpn", "bulk_ship")}
CREATABLE = frozenset(("inventory",))


def allowed_methods(segments: list[str]) -> str:
    """The `Allow` header of a 405 for a path under `entity/` (segments after it)."""
    if len(segments) == 1:
        return "GET, HEAD, POST" if segments[0] in CREATABLE else "GET, HEAD"
    if len(segments) == 2 and segments[1] != "describe":
        if (segments[0], segments[1]) in BULK_OPS:
            return "POST"
        return "GET, HEAD, PATCH"
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
            if segments[1] == "describe" or (segments[0], segments[1]) in BULK_OPS:
                return None
            return self._patch
        if method != "POST":
            return None
        if shape == 1 and segments[0] in CREATABLE:
            return self._create
        if shape == 2 and (segments[0], segments[1]) in BULK_OPS:
            return self._bulk
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
            updates.patch(self.store, conn, entity, ident, fields=body.get("fields"), user=user)
        return self._record(entity.name, ident, api_root)

    def _create(
        self, segments: list[str], body: dict[str, Any], api_root: str, user: User
    ) -> Response:
        with self.store.transaction() as conn:
            ident = adjustments.create_inventory(self.store, conn, body, user)
        return self._record("inventory", ident, api_root, status=201)

    def _single_op(
        self, segments: list[str], body: dict[str, Any], api_root: str, user: User
    ) -> Response:
        name, ident = segments[0], _ident(segments[1], segments[0])
        if name == "location":
            adjustment = adjustments.parse_adjustment(body.get("options"))
            with self.store.transaction() as conn:
                done = adjustments.adjust(self.store, conn, ident, adjustment, user)
            return json_response(done.to_json())
        barcode = shipping.parse_options(body.get("options"))
        with self.store.transaction() as conn:
            shipping.ship(self.store, conn, ident, barcode, user)
        return self._record("oblpn", ident, api_root)

    def _bulk(
        self, segments: list[str], body: dict[str, Any], api_root: str, user: User
    ) -> Response:
        request = bulk.parse(body)
        if segments[0] == "location":
            adjustment = adjustments.parse_adjustment(body.get("options"))

            def apply_one(conn: Any, ident: int) -> None:
                adjustments.adjust(self.store, conn, ident, adjustment, user)

        else:
            barcode = shipping.parse_options(body.get("options"))

            def apply_one(conn: Any, ident: int) -> None:
                shipping.ship(self.store, conn, ident, barcode, user)

        return json_response(bulk.run(self.store, request, apply_one).to_json())

    def _record(self, name: str, ident: int, api_root: str, status: int = 200) -> Response:
        """The record after the write, in read shape (the committed state)."""
        text = record_by_id(self.store.reader(), self.store.entity(name), ident, api_root)
        if text is None:  # deleted by a concurrent change between commit and read
            raise ApiError(404, f"No {name} record with id {ident}.")
        return Response(status, text.encode(), {"Content-Type": "application/json"})
