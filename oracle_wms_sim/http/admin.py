"""`/_sim/`: the control surface of the simulated environment, over HTTP and in Python.

The prefix cannot collide with the API, which lives under `/{environment}/wms/lgfapi/v10/`.
`Simulator` delegates its Python methods here, so HTTP and Python change the same state.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..chaos.churn import Churn
from ..chaos.faults import Fault, Faults
from ..chaos.late import commit_late
from ..data.drift import AddedField
from ..data.purge import purge
from ..data.store import Store
from ..data.users import User, Users
from ..errors import ApiError
from ..responses import Response, json_response
from .oauth import Tokens
from .requestlog import RequestLog


@dataclass
class Admin:
    store: Store
    users: Users
    tokens: Tokens
    faults: Faults
    log: RequestLog
    _churn: Churn | None = field(default=None, repr=False)
    _churn_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # ---- Python API ----------------------------------------------------------------------
    def start_churn(
        self,
        entity: str,
        per_second: float,
        *,
        updates: bool = True,
        inserts: bool = True,
        deletes: bool = False,
        same_mod_ts: bool = True,
    ) -> None:
        """Start a background churn; one at a time (a running one is stopped first)."""
        self.store.entity(entity)  # 404 for an unknown entity, before any thread starts
        churn = Churn(self.store, entity, per_second, updates, inserts, deletes, same_mod_ts)
        with self._churn_lock:
            if self._churn is not None:
                self._churn.stop()
            self._churn = churn
            churn.start()

    def stop_churn(self) -> dict[str, list[int]]:
        with self._churn_lock:
            churn, self._churn = self._churn, None
        if churn is None:
            return {"updated": [], "inserted": [], "deleted": []}
        return churn.stop()

    def purge(
        self, as_of: datetime | None = None, retention_years: int | None = None
    ) -> dict[str, list[int]]:
        """The maintenance window's purge at `as_of` (default now; `data/purge.py`)."""
        return purge(self.store, as_of or datetime.now(UTC), retention_years)

    def add_user(self, user: User) -> None:
        self.users.add(user)

    # ---- HTTP ------------------------------------------------------------------------------
    def handle(self, method: str, path: str, body: bytes) -> Response:
        action = path.strip("/").split("/")
        if len(action) != 2:
            raise ApiError(404, "Not found.")
        routes = {
            ("POST", "update"): self._change,
            ("POST", "late"): self._change,
            ("POST", "insert"): self._change,
            ("POST", "delete"): self._change,
            ("POST", "purge"): self._purge,
            ("POST", "churn"): self._churn_start,
            ("DELETE", "churn"): self._churn_stop,
            ("GET", "faults"): self._faults_get,
            ("POST", "faults"): self._faults_add,
            ("DELETE", "faults"): self._faults_clear,
            ("GET", "requests"): self._requests_get,
            ("DELETE", "requests"): self._requests_clear,
            ("GET", "concurrency"): self._concurrency_get,
            ("POST", "tokens"): self._tokens_set,
            ("DELETE", "tokens"): self._tokens_expire,
            ("POST", "users"): self._users_add,
            ("POST", "fields"): self._fields_add,
        }
        name = action[1]
        handler = routes.get((method, name))
        if handler is None:
            if any(n == name for _, n in routes):
                raise ApiError(405, f"Method {method} is not allowed on this resource.")
            raise ApiError(404, "Not found.")
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError as exc:
            raise ApiError(400, "The body must be JSON.") from exc
        return handler(name, payload)

    def _change(self, name: str, payload: Any) -> Response:
        try:
            entity = str(payload["entity"])
            count = int(payload.get("count", 1))
            same = bool(payload.get("same_mod_ts", True))
            behind = float(payload.get("behind_s", 60))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ApiError(400, "Body must be JSON with 'entity', 'count', 'same_mod_ts'.") from exc
        if name == "update":
            ids = self.store.update_records(entity, count, same)
        elif name == "insert":
            ids = self.store.insert_records(entity, count, same)
        elif name == "late":  # committed behind the newest mod_ts (chaos/late.py)
            ids = commit_late(self.store, entity, count, behind)
        else:
            ids = self.store.delete_records(entity, count)
        return json_response({"ids": ids})

    def _purge(self, name: str, payload: Any) -> Response:
        try:
            at = payload.get("as_of")
            as_of = datetime.fromisoformat(str(at)) if at else None
            if as_of is not None and as_of.tzinfo is None:
                as_of = as_of.replace(tzinfo=UTC)
            years = payload.get("retention_years")
            purged = self.purge(as_of, None if years is None else int(years))
        except (TypeError, ValueError, AttributeError) as exc:
            message = f"Body may hold 'as_of' (ISO 8601) and 'retention_years': {exc}"
            raise ApiError(400, message) from exc
        return json_response({"purged": purged})

    def _churn_start(self, name: str, payload: Any) -> Response:
        try:
            options = {
                k: bool(payload[k])
                for k in ("updates", "inserts", "deletes", "same_mod_ts")
                if k in payload
            }
            self.start_churn(str(payload["entity"]), float(payload["per_second"]), **options)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ApiError(400, f"Bad churn request: {exc}") from exc
        return json_response({"started": payload["entity"]})

    def _churn_stop(self, name: str, payload: Any) -> Response:
        return json_response(self.stop_churn())

    def _faults_get(self, name: str, payload: Any) -> Response:
        return json_response({"faults": self.faults.active()})

    def _faults_add(self, name: str, payload: Any) -> Response:
        specs = payload if isinstance(payload, list) else [payload]
        try:
            faults = [Fault.from_dict(dict(spec)) for spec in specs]
        except (TypeError, ValueError) as exc:
            raise ApiError(400, f"Bad fault: {exc}") from exc
        for fault in faults:
            self.faults.add(fault)
        return json_response({"faults": self.faults.active()})

    def _faults_clear(self, name: str, payload: Any) -> Response:
        self.faults.clear()
        return json_response({"faults": []})

    def _requests_get(self, name: str, payload: Any) -> Response:
        return json_response(self.log.entries())

    def _concurrency_get(self, name: str, payload: Any) -> Response:
        """API requests in flight now and their peak since the request log was cleared."""
        return json_response(self.log.concurrency())

    def _requests_clear(self, name: str, payload: Any) -> Response:
        self.log.clear()
        return json_response([])

    def _tokens_set(self, name: str, payload: Any) -> Response:
        try:
            self.tokens.lifetime = float(payload["lifetime"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError(400, "Body must be JSON with 'lifetime' (seconds).") from exc
        return json_response({"lifetime": self.tokens.lifetime})

    def _tokens_expire(self, name: str, payload: Any) -> Response:
        self.tokens.expire_all()
        return json_response({"expired": True})

    def _users_add(self, name: str, payload: Any) -> Response:
        try:
            user = User(
                str(payload["username"]),
                str(payload["password"]),
                _codes(payload.get("facilities")),
                _codes(payload.get("companies")),
                frozenset(payload["readable_entities"])
                if payload.get("readable_entities") is not None
                else None,
                payload.get("default_facility"),
                bool(payload.get("writable", True)),
                int(payload.get("rows_per_page", 125)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError(400, f"Bad user: {exc}") from exc
        self.add_user(user)
        return json_response({"username": user.username})

    def _fields_add(self, name: str, payload: Any) -> Response:
        try:
            spec = AddedField(
                str(payload["entity"]),
                str(payload["name"]),
                str(payload.get("kind", "string")),
                _optional_int(payload.get("max_length", 50)),
                None if payload.get("default") is None else str(payload["default"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ApiError(400, f"Body must be JSON with 'entity', 'name', 'kind': {exc}") from exc
        self.store.add_field(spec)
        return json_response({"entity": spec.entity, "field": spec.name, "kind": spec.kind})


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _codes(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)
