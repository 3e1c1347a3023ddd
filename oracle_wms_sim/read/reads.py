"""The read side of the entity module for one authenticated user: index, describe, lists and
single records.

Implements docs/api-behaviour.md: entity index, describe, paged and sequenced lists (filters,
ordering, `fields`, `values_list`/`distinct`, `empty_response_http_code`), single records with
`Last-Modified` and (on HEAD) `If-Modified-Since` as ISO-8601, the per-entity read permission
(403) and the user's facility/company scope.
Entities come from the store's own catalogue, which may hold fields added at run time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from ..data.model import FOREIGN_KEY, Entity
from ..data.store import Store
from ..data.timefmt import parse_filter_datetime, render_at
from ..data.users import User
from ..errors import ApiError, bad_param
from ..responses import JSON_TYPE, Response, json_response
from .filters import Where, build_where
from .options import ReadOptions
from .paging import (
    SortKey,
    decode_cursor,
    encode_cursor,
    keyset_condition,
    order_by,
    parse_ordering,
)
from .render import record_sql
from .required_filters import check_required
from .values_list import values_sql

DEFAULT_PAGE_SIZE = 125
MAX_PAGE_SIZE = 1250
_TRUE = frozenset(("true", "1", "yes", "y"))
EMPTY_CODES = ("200", "204", "404")
"""`empty_response_http_code` (Oracle 26A): the status of a list that matches nothing."""
INDEX_LAYOUTS = ("object", "names", "objects")
"""How `GET entity/` lays out its sorted list (Oracle publishes no layout): a JSON object of
name -> list URL (default), a list of names, or a list of `{"name", "url"}` objects."""


@dataclass
class Reads:
    """GET and HEAD under `entity/` of one simulated WMS environment (`prefix`: its API path)."""

    store: Store
    prefix: str
    index_layout: str = "object"
    lenient_required_filters: bool = False
    """Not Oracle: any lookup satisfies a required filter (the old client's benchmark only)."""
    options: ReadOptions = field(default_factory=ReadOptions)
    """What real tenants refuse that Oracle's pages do not say (`options.py`)."""

    def handle(
        self,
        segments: list[str],
        *,
        method: str = "GET",
        params: dict[str, str],
        origin: str,
        path: str,
        headers: Mapping[str, str],
        user: User,
    ) -> Response:
        """`segments`: the path after `entity/`; `origin`: `http://HOST` of the request."""
        api_root = origin + self.prefix
        if not segments:
            return json_response(self._index(api_root))
        entity = self.store.catalogue.get(segments[0])
        if entity is None:
            raise ApiError(404, f"Entity '{segments[0]}' does not exist.")
        if not user.can_read(entity.name):
            raise ApiError(
                403, f"User '{user.username}' has no read access to entity '{entity.name}'."
            )
        if len(segments) == 1:
            return self._list(entity, params, origin, path, user)
        if len(segments) == 2 and segments[1] == "describe":
            return json_response(describe(entity))
        if len(segments) == 2:
            since = headers.get("If-Modified-Since") if method == "HEAD" else None
            return self._single(
                entity, segments[1], params, api_root=api_root, since=since, user=user
            )
        raise ApiError(404, "Not found.")

    def _index(self, api_root: str) -> Any:
        names = self.store.catalogue.names()
        if self.index_layout == "names":
            return list(names)
        if self.index_layout == "objects":
            return [{"name": n, "url": f"{api_root}entity/{n}/"} for n in names]
        return {n: f"{api_root}entity/{n}/" for n in names}

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
        *,
        api_root: str,
        since: str | None,
        user: User,
    ) -> Response:
        spec = params.pop("values_list", None)
        names = self._fields(entity, params.pop("fields", None))
        if params:
            bad = next(iter(params))
            raise bad_param(bad, "only 'fields', 'values_list' and 'format' apply to a record")
        catalogue = self.store.catalogue.entities
        record = record_sql(entity, names) if spec is None else values_sql(entity, spec, catalogue)
        try:
            ident = int(raw_id)
        except ValueError:
            raise ApiError(404, f"No {entity.name} record with id '{raw_id}'.") from None
        extra = ", t.mod_ts, t._tzm" if entity.tracks_changes else ""
        scope = user.scope_sql(entity)
        limit = f" AND ({scope})" if scope else ""
        sql = f"SELECT {record}{extra} FROM {entity.name} t WHERE t.id = :id{limit}"
        row = self.store.reader().execute(sql, {"id": ident, "api": api_root}).fetchone()
        if row is None:
            raise ApiError(404, f"No {entity.name} record with id {ident}.")
        out = Response(200, row[0].encode(), {"Content-Type": JSON_TYPE})
        if entity.tracks_changes:
            # ISO-8601 in the record's own zone, as its `mod_ts` renders (Oracle: "Last-Modified"
            # with every retrieve GET of an entity that tracks mod time; "If-Modified-Since" on
            # HEAD retrieve requests, an ISO-8601 date-time in the appropriate time zone).
            out.headers["Last-Modified"] = render_at(row[1], int(row[2]))
            if since is not None:
                try:
                    limit_at = parse_filter_datetime(since, user.naive_offset)
                except ValueError:
                    raise bad_param("If-Modified-Since", "not an ISO-8601 date-time") from None
                if row[1] <= limit_at:  # stored UTC text: text order is instant order
                    return Response(304, b"", {"Last-Modified": out.headers["Last-Modified"]})
        return out

    def _list(
        self, entity: Entity, params: dict[str, str], origin: str, path: str, user: User
    ) -> Response:
        original = dict(params)
        empty_code = params.pop("empty_response_http_code", "404")
        if empty_code not in EMPTY_CODES:
            raise bad_param("empty_response_http_code", "must be 200, 204 or 404")
        mode = params.pop("page_mode", "paged")
        if mode not in ("paged", "sequenced"):
            raise bad_param("page_mode", "must be 'paged' or 'sequenced'")
        size = _positive_int(params.pop("page_size", str(user.rows_per_page)), "page_size")
        if size > MAX_PAGE_SIZE:
            raise bad_param("page_size", f"must be at most {MAX_PAGE_SIZE}")
        catalogue = self.store.catalogue.entities
        ordering = params.pop("ordering", None)
        self.options.check_ordering(entity.name, ordering)
        keys = parse_ordering(entity, ordering, catalogue)
        fields_text = params.pop("fields", None)
        spec = params.pop("values_list", None)
        distinct_text = params.pop("distinct", None)
        page_text = params.pop("page", None)
        cursor_text = params.pop("cursor", None)
        if spec is not None:
            record = values_sql(entity, spec, catalogue)
        else:
            record = record_sql(entity, self._fields(entity, fields_text))
        # Oracle ignores `distinct` where it does not apply (REST 25D "Distinct Parameter": only
        # with values_list and ordering, list-style requests only; sequenced mode undocumented).
        distinct = (
            spec is not None
            and bool(ordering)
            and mode == "paged"
            and (distinct_text or "").lower() in _TRUE
        )
        check_required(entity.name, list(params), lenient=self.lenient_required_filters)
        where = build_where(
            entity, params, user.naive_offset, catalogue, self.options.check_filter_value
        )
        scope = user.scope_sql(entity)
        if scope:
            where.clauses.append(f"({scope})")
        where.params["api"] = origin + self.prefix
        query = _ListQuery(entity, keys, record, where, size, original, origin + path, distinct)
        page = _positive_int(page_text, "page") if page_text is not None and mode == "paged" else 1
        try:
            if mode == "sequenced":
                head, rows = self._sequenced(query, cursor_text)
            else:
                head, rows = self._paged(query, page)
        except _EmptyListError:
            if empty_code == "404":
                raise
            if empty_code == "204":
                return Response(204, b"", {})
            head, rows = _empty_head(mode, page), []
        body = head[:-1] + ', "results": [' + ",".join(r[0] for r in rows) + "]}"
        return Response(200, body.encode(), {"Content-Type": JSON_TYPE})

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
        shape = q.record if q.distinct else ""
        count_key = (self.store.version, q.entity.name, q.where.sql, shape, _freeze(q.where.params))
        # Page N's last sort key lets page N+1 seek instead of skipping an OFFSET (same data
        # version only), so walking a large table page by page stays linear.
        walk_key = (*count_key, order_by(q.keys), q.size)
        previous = None if q.distinct else self.store.recall_boundary((*walk_key, page - 1))
        conn.execute("BEGIN")  # count and page from one snapshot
        try:
            total = self.store.cached_count(count_key)
            if total is None:
                total = int(conn.execute(q.count_sql, q.where.params).fetchone()[0])
                self.store.remember_count(count_key, total)
            pages = math.ceil(total / q.size)
            if total == 0:
                raise q.empty()
            if page > pages:  # not "no match": 404 whatever empty_response_http_code says
                raise ApiError(404, f"No {q.entity.name} records match the request.")
            if previous is not None:
                q.where.clauses.append(keyset_condition(q.where, q.keys, previous))
                q.where.params.update(limit=q.size, offset=0)
            else:
                q.where.params.update(limit=q.size, offset=(page - 1) * q.size)
            rows = conn.execute(q.page_sql, q.where.params).fetchall()
        finally:
            conn.execute("COMMIT")
        if not q.distinct and rows:
            self.store.remember_boundary((*walk_key, page), list(rows[-1][1:]))
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
    record: str
    where: Where
    size: int
    original: dict[str, str]
    base: str
    distinct: bool = False

    @property
    def select(self) -> str:
        keys = ", ".join(k.expr for k in self.keys)
        return f"SELECT {self.record}, {keys} FROM {self.entity.name} t"

    @property
    def _distinct_rows(self) -> str:
        """Distinct values with their sort keys (`id`, which would defeat DISTINCT, dropped)."""
        sorts = "".join(f", {k.expr} AS s{i}" for i, k in enumerate(self._sort_keys))
        return (
            f"SELECT DISTINCT {self.record} AS v{sorts} FROM {self.entity.name} t "
            f"WHERE {self.where.sql}"
        )

    @property
    def _sort_keys(self) -> list[SortKey]:
        return [k for k in self.keys if k.column != "id"]

    @property
    def count_sql(self) -> str:
        if self.distinct:
            return f"SELECT count(*) FROM ({self._distinct_rows})"
        return f"SELECT count(*) FROM {self.entity.name} t WHERE {self.where.sql}"

    @property
    def page_sql(self) -> str:
        if self.distinct:
            order = "".join(
                f"s{i}{' DESC' if k.descending else ''}, " for i, k in enumerate(self._sort_keys)
            )
            return (
                f"SELECT v FROM ({self._distinct_rows}) ORDER BY {order}v "
                "LIMIT :limit OFFSET :offset"
            )
        return (
            f"{self.select} WHERE {self.where.sql} ORDER BY {order_by(self.keys)} "
            "LIMIT :limit OFFSET :offset"
        )

    def empty(self) -> ApiError:
        return _EmptyListError(404, f"No {self.entity.name} records match the request.")


class _EmptyListError(ApiError):
    """A list with no record to answer: 404 unless `empty_response_http_code` says otherwise."""


def _empty_head(mode: str, page: int) -> str:
    """The usual list head for an empty answer (`empty_response_http_code=200`)."""
    if mode == "sequenced":
        return json.dumps({"next_page": None, "previous_page": None})
    head = {"result_count": 0, "page_count": 0, "page_nbr": page}
    return json.dumps({**head, "next_page": None, "previous_page": None})


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
