"""Request handling independent of the HTTP transport: (method, target, headers) -> Response.

Implements docs/api-behaviour.md: entity index, describe, paged and sequenced lists, single
records, the standard error body, plus the `/_sim/` admin endpoints that change data.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .entities import ENTITIES, FOREIGN_KEY, Entity
from .errors import ApiError, bad_param
from .filters import Where, build_where
from .paging import (
    SortKey,
    decode_cursor,
    encode_cursor,
    keyset_condition,
    order_by,
    parse_ordering,
)
from .render import record_sql
from .store import Store
from .timefmt import from_store, http_date, parse_http_date

DEFAULT_PAGE_SIZE = 125
MAX_PAGE_SIZE = 1250
_RESERVED = ("page", "page_size", "page_mode", "cursor", "ordering", "fields", "format")
_JSON = "application/json"


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _json(payload: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": _JSON})


def _error(exc: ApiError) -> Response:
    headers = {"Content-Type": _JSON}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="lgfapi"'
    if exc.status == 405:
        headers["Allow"] = "GET, HEAD"
    return Response(exc.status, exc.body(), headers)


@dataclass
class Api:
    """One simulated WMS environment."""

    store: Store
    environment: str
    username: str
    password: str

    @property
    def prefix(self) -> str:
        return f"/{self.environment}/wms/lgfapi/v10/"

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        try:
            self._authenticate(headers.get("Authorization"))
            parts = urlsplit(target)
            path = parts.path if parts.path.endswith("/") else parts.path + "/"
            host = headers.get("Host") or "127.0.0.1"
            if path.startswith("/_sim/"):
                return self._admin(method, path, body)
            if not path.startswith(self.prefix):
                raise ApiError(404, "Not found.")
            segments = [s for s in path[len(self.prefix) :].split("/") if s]
            if not segments or segments[0] != "entity":
                raise ApiError(404, "Not found.")
            if method not in ("GET", "HEAD"):
                raise ApiError(405, f"Method {method} is not allowed on this resource.")
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            origin = f"http://{host}"
            response = self._route(segments[1:], params, origin, parts.path, headers)
        except ApiError as exc:
            response = _error(exc)
        if method == "HEAD":
            response.headers["Content-Length"] = str(len(response.body))
            response.body = b""
        return response

    # ---- auth and admin ----------------------------------------------------------------
    def _authenticate(self, header: str | None) -> None:
        if header and header[:6].lower() == "basic ":
            try:
                user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                user, password = "", ""
            ok_user = hmac.compare_digest(user.encode(), self.username.encode())
            ok_password = hmac.compare_digest(password.encode(), self.password.encode())
            if ok_user and ok_password:
                return
        raise ApiError(401, "Authentication credentials were missing or incorrect.")

    def _admin(self, method: str, path: str, body: bytes) -> Response:
        action = path.strip("/").split("/")[-1]
        if action not in ("update", "insert") or path.count("/") != 3:
            raise ApiError(404, "Not found.")
        if method != "POST":
            raise ApiError(405, f"Method {method} is not allowed on this resource.")
        try:
            payload = json.loads(body or b"{}")
            entity = str(payload["entity"])
            count = int(payload.get("count", 1))
            same = bool(payload.get("same_mod_ts", True))
        except (ValueError, KeyError, TypeError) as exc:
            raise ApiError(400, "Body must be JSON with 'entity', 'count', 'same_mod_ts'.") from exc
        change = self.store.update_records if action == "update" else self.store.insert_records
        return _json({"ids": change(entity, count, same)})

    # ---- entity module -----------------------------------------------------------------
    def _route(
        self,
        segments: list[str],
        params: dict[str, str],
        origin: str,
        path: str,
        headers: Mapping[str, str],
    ) -> Response:
        api_root = origin + self.prefix
        fmt = params.pop("format", "json")
        if fmt != "json":
            raise bad_param("format", "the simulator serves JSON only")
        if not segments:
            names = sorted(ENTITIES)
            return _json({n: f"{api_root}entity/{n}/" for n in names})
        entity = ENTITIES.get(segments[0])
        if entity is None:
            raise ApiError(404, f"Entity '{segments[0]}' does not exist.")
        if len(segments) == 1:
            return self._list(entity, params, origin, path)
        if len(segments) == 2 and segments[1] == "describe":
            return _json(describe(entity))
        if len(segments) == 2:
            return self._single(entity, segments[1], params, api_root, headers)
        raise ApiError(404, "Not found.")

    def _fields(self, entity: Entity, value: str | None) -> tuple[str, ...]:
        if value is None:
            return tuple(f.name for f in entity.fields)
        wanted = {n.strip() for n in value.split(",") if n.strip()}
        unknown = sorted(wanted - set(entity.by_name))
        if unknown:
            raise bad_param("fields", f"unknown field '{unknown[0]}' on {entity.name}")
        if not wanted:
            raise bad_param("fields", "no field named")
        return tuple(f.name for f in entity.fields if f.name in wanted)

    def _single(
        self,
        entity: Entity,
        raw_id: str,
        params: dict[str, str],
        api_root: str,
        headers: Mapping[str, str],
    ) -> Response:
        names = self._fields(entity, params.pop("fields", None))
        if params:
            bad = next(iter(params))
            raise bad_param(bad, "only 'fields' and 'format' apply to a single record")
        try:
            ident = int(raw_id)
        except ValueError:
            raise ApiError(404, f"No {entity.name} record with id '{raw_id}'.") from None
        extra = ", t.mod_ts" if entity.tracks_changes else ""
        sql = (
            f"SELECT {record_sql(entity.name, names)}{extra} FROM {entity.name} t WHERE t.id = :id"
        )
        row = self.store.reader().execute(sql, {"id": ident, "api": api_root}).fetchone()
        if row is None:
            raise ApiError(404, f"No {entity.name} record with id {ident}.")
        out = Response(200, row[0].encode(), {"Content-Type": _JSON})
        if entity.tracks_changes:
            out.headers["Last-Modified"] = http_date(row[1])
            since = headers.get("If-Modified-Since")
            if since is not None:
                try:
                    limit = parse_http_date(since)
                except ValueError:
                    raise bad_param("If-Modified-Since", "not an HTTP date") from None
                if from_store(row[1]).replace(microsecond=0) <= limit:
                    return Response(304, b"", {"Last-Modified": out.headers["Last-Modified"]})
        return out

    def _list(self, entity: Entity, params: dict[str, str], origin: str, path: str) -> Response:
        original = dict(params)
        mode = params.pop("page_mode", "paged")
        if mode not in ("paged", "sequenced"):
            raise bad_param("page_mode", "must be 'paged' or 'sequenced'")
        size = _positive_int(params.pop("page_size", str(DEFAULT_PAGE_SIZE)), "page_size")
        if size > MAX_PAGE_SIZE:
            raise bad_param("page_size", f"must be at most {MAX_PAGE_SIZE}")
        keys = parse_ordering(entity, params.pop("ordering", None))
        names = self._fields(entity, params.pop("fields", None))
        page_text = params.pop("page", None)
        cursor_text = params.pop("cursor", None)
        where = build_where(entity, params)
        where.params["api"] = origin + self.prefix
        query = _ListQuery(entity, keys, names, where, size, original, origin + path)
        if mode == "sequenced":
            head, rows = self._sequenced(query, cursor_text)
        else:
            page = _positive_int(page_text, "page") if page_text is not None else 1
            head, rows = self._paged(query, page)
        body = head[:-1] + ', "results": [' + ",".join(r[0] for r in rows) + "]}"
        return Response(200, body.encode(), {"Content-Type": _JSON})

    def _sequenced(self, q: _ListQuery, cursor_text: str | None) -> tuple[str, list[Any]]:
        if cursor_text:
            values = decode_cursor(cursor_text, q.keys)
            q.where.clauses.append(keyset_condition(q.where, q.keys, values))
        q.where.params["limit"] = q.size
        sql = f"{q.select} WHERE {q.where.sql} ORDER BY {order_by(q.keys)} LIMIT :limit"
        rows = self.store.reader().execute(sql, q.where.params).fetchall()
        if not rows:
            raise q.empty()
        next_page = None
        if len(rows) == q.size:
            link = {k: v for k, v in q.original.items() if k != "page"}
            link["cursor"] = encode_cursor(tuple(rows[-1][1:]))
            next_page = f"{q.base}?{urlencode(link)}"
        return json.dumps({"next_page": next_page, "previous_page": None}), rows

    def _paged(self, q: _ListQuery, page: int) -> tuple[str, list[Any]]:
        conn = self.store.reader()
        count_key = (self.store.version, q.entity.name, q.where.sql, _freeze(q.where.params))
        conn.execute("BEGIN")  # count and page from one snapshot
        try:
            total = self.store.cached_count(count_key)
            if total is None:
                count_sql = f"SELECT count(*) FROM {q.entity.name} t WHERE {q.where.sql}"
                total = int(conn.execute(count_sql, q.where.params).fetchone()[0])
                self.store.remember_count(count_key, total)
            pages = math.ceil(total / q.size)
            if total == 0 or page > pages:
                raise q.empty()
            q.where.params.update(limit=q.size, offset=(page - 1) * q.size)
            sql = (
                f"{q.select} WHERE {q.where.sql} ORDER BY {order_by(q.keys)} "
                "LIMIT :limit OFFSET :offset"
            )
            rows = conn.execute(sql, q.where.params).fetchall()
        finally:
            conn.execute("COMMIT")
        kept = {k: v for k, v in q.original.items() if k != "cursor"}

        def link(number: int) -> str:
            return f"{q.base}?{urlencode({**kept, 'page': str(number)})}"

        head = {
            "result_count": total,
            "page_count": pages,
            "page_nbr": page,
            "next_page": link(page + 1) if page < pages else None,
            "previous_page": link(page - 1) if page > 1 else None,
        }
        return json.dumps(head), rows


@dataclass
class _ListQuery:
    """A validated list request: what to select, how to order, and how to link pages."""

    entity: Entity
    keys: list[SortKey]
    names: tuple[str, ...]
    where: Where
    size: int
    original: dict[str, str]
    base: str

    @property
    def select(self) -> str:
        keys = ", ".join(f"t.{k.column}" for k in self.keys)
        return (
            f"SELECT {record_sql(self.entity.name, self.names)}, {keys} FROM {self.entity.name} t"
        )

    def empty(self) -> ApiError:
        return ApiError(404, f"No {self.entity.name} records match the request.")


def _positive_int(value: str, param: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise bad_param(param, f"'{value}' is not a positive integer") from None
    if number < 1:
        raise bad_param(param, f"'{value}' is not a positive integer")
    return number


def _freeze(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, v) for k, v in params.items() if k != "api"))


def describe(entity: Entity) -> dict[str, Any]:
    """`parameters` (filterable fields) and per-field metadata, in response order."""
    fields: dict[str, dict[str, Any]] = {}
    for f in entity.fields:
        meta: dict[str, Any] = {
            "type": f.type,
            "required": "Y" if f.required and f.name != "id" else "N",
            "allow_blank": not f.required and f.type == "string",
            "max_length": f.max_length,
            "default": f.default,
        }
        if f.type == FOREIGN_KEY:
            meta["related_entity"] = f.related
        fields[f.name] = meta
    return {"parameters": [f.name for f in entity.fields if f.filterable], "fields": fields}
