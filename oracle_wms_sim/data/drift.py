"""Schema drift: a field that appears on an entity while the simulator runs (`add_field`).

Real WMS upgrades and configuration add fields; a tap must notice them in `describe` and carry
them in records. The field becomes a new column of the entity's table, filled for every existing
record (with `default`, else a deterministic value derived from the id), and filled the same way
for records inserted later. Its definition is kept in `_sim_meta` so a restart on the same `--db`
still describes it, and it lives in the store's own `Catalogue`, never in the shared one.

It belongs to the data, not to the chaos: an added field is part of the DB's schema, and `Store`
fills it on every insert, so the store depends on it (and nothing here depends on requests).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError
from .catalogue import Catalogue
from .model import BOOLEAN, DATE, DATETIME, DECIMAL, INTEGER, SQL_TYPES, STRING, Field
from .parsing import parse_value

KINDS = (STRING, INTEGER, DECIMAL, BOOLEAN, DATE, DATETIME)
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_META_PREFIX = "added_field:"


@dataclass(frozen=True)
class AddedField:
    """What `add_field` asked for; `field` is its catalogue form."""

    entity: str
    name: str
    kind: str = STRING
    max_length: int | None = 50
    default: str | None = None

    @classmethod
    def of(cls, entity: str, added: Field) -> AddedField:
        default = None if added.default is None else str(added.default)
        return cls(entity, added.name, added.type, added.max_length, default)

    @property
    def field(self) -> Field:
        return Field(
            self.name,
            self.kind,
            max_length=self.max_length if self.kind == STRING else None,
            default=self.default,
        )

    def to_json(self) -> str:
        return json.dumps(
            {"kind": self.kind, "max_length": self.max_length, "default": self.default}
        )

    def stored_default(self) -> Any:
        """The default as stored (decimals as REAL, booleans 0/1, date-times UTC text)."""
        if self.default is None:
            return None
        value = parse_value("default", self.field, self.default)
        if self.kind == BOOLEAN:
            return int(value)
        return value

    def fill_sql(self) -> str:
        """The column's value for a record (`:value` is the stored default when there is one)."""
        if self.default is not None:
            return ":value"
        if self.kind == STRING:
            text = f"'{self.name.upper()}-' || id"
            return f"substr({text}, 1, {self.max_length})" if self.max_length else text
        return {
            INTEGER: "id",
            DECIMAL: "(id % 1000) + 0.5",
            BOOLEAN: "id % 2",
            DATE: "date('2026-01-05', '-' || (id % 365) || ' days')",
            DATETIME: "create_ts",
        }[self.kind]


def validate(spec: AddedField, catalogue: Catalogue) -> bool:
    """400 for a bad spec; False when the same field was already added (nothing to do)."""
    entity = catalogue.entity(spec.entity)
    problems: dict[str, str] = {}
    if not _NAME.match(spec.name):
        problems["name"] = "lower-case letters, digits and '_', starting with a letter"
    if spec.kind not in KINDS:
        problems["kind"] = f"one of {', '.join(KINDS)}"
    elif spec.kind == DATETIME and not entity.audited:
        problems["kind"] = f"{entity.name} has no time zone to render a datetime in"
    if spec.max_length is not None and spec.max_length < 1:
        problems["max_length"] = "at least 1"
    if not problems and spec.default is not None:
        try:
            spec.stored_default()
        except ApiError:
            problems["default"] = f"'{spec.default}' is not a valid {spec.kind} value"
        if spec.kind == STRING and spec.max_length and len(spec.default) > spec.max_length:
            problems["default"] = f"longer than max_length {spec.max_length}"
    if problems:
        raise ApiError(400, f"Cannot add field '{spec.name}' to {entity.name}.", problems)
    existing = entity.by_name.get(spec.name)
    if existing is None:
        return True
    if existing in catalogue.added.get(entity.name, ()) and existing == spec.field:
        return False
    raise ApiError(
        400,
        f"{entity.name} already has a field '{spec.name}'.",
        {"name": f"{entity.name} already has a field '{spec.name}'"},
    )


def apply(conn: sqlite3.Connection, spec: AddedField) -> None:
    """Inside the caller's transaction: the column, its values, and the persisted definition."""
    conn.execute(f"ALTER TABLE {spec.entity} ADD COLUMN {spec.name} {SQL_TYPES[spec.kind]}")
    conn.execute(f"UPDATE {spec.entity} SET {spec.name} = {spec.fill_sql()}", _params(spec))
    conn.execute(
        "INSERT OR REPLACE INTO _sim_meta (key, value) VALUES (?, ?)",
        (f"{_META_PREFIX}{spec.entity}:{spec.name}", spec.to_json()),
    )


def fill_new_rows(
    conn: sqlite3.Connection, catalogue: Catalogue, entity: str, ids: Iterable[int]
) -> None:
    """Give rows inserted after `add_field` the added fields' values (same rule as the rest)."""
    idents = [int(i) for i in ids]
    for added in catalogue.added.get(entity, ()):
        spec = AddedField.of(entity, added)
        for start in range(0, len(idents), 500):
            part = idents[start : start + 500]
            params = {**_params(spec), **{f"i{n}": ident for n, ident in enumerate(part)}}
            marks = ", ".join(f":i{n}" for n in range(len(part)))
            conn.execute(
                f"UPDATE {entity} SET {spec.name} = {spec.fill_sql()} WHERE id IN ({marks})",
                params,
            )


def _params(spec: AddedField) -> dict[str, Any]:
    return {"value": spec.stored_default()} if spec.default is not None else {}


def stored_specs(conn: sqlite3.Connection) -> list[AddedField]:
    """Fields added to this DB, in the order they were added."""
    rows = conn.execute(
        "SELECT key, value FROM _sim_meta WHERE key LIKE ? ORDER BY rowid",
        (f"{_META_PREFIX}%",),
    ).fetchall()
    specs = []
    for key, value in rows:
        owner, _, name = key[len(_META_PREFIX) :].partition(":")
        data = json.loads(value)
        specs.append(AddedField(owner, name, data["kind"], data["max_length"], data["default"]))
    return specs


def load(conn: sqlite3.Connection, catalogue: Catalogue) -> None:
    """Put the fields a previous run added to this DB back into the catalogue."""
    for spec in stored_specs(conn):
        if catalogue.get(spec.entity) is not None and validate(spec, catalogue):
            catalogue.add(spec.entity, spec.field)
