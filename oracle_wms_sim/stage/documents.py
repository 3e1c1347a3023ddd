"""One record of a stage message: CREATE, UPDATE or DELETE of an order or an ASN.

The table and rules are those of docs/write-api.md, "Stage interface". A record is one document
(a header with its lines) and is applied inside the caller's transaction, all or nothing: any
problem raises the 400 `ApiError` whose `details` name the record's fields, lines as
`stage_order_dtl_list[i].field`. Values are checked against the entity catalogue with the same
`stored_value` checks PATCH uses (type, `max_length`, null), so a stage write can never store
what a PATCH could not.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ..data import codes
from ..data.model import Entity
from ..data.store import Store
from ..errors import ApiError
from ..write import updates
from ..write.adjustments import item_by_code
from ..write.validation import FieldError, Problems, rejected, stored_value, text_value
from .specs import ACTIONS, CODE_MAX, DocumentSpec, Target


@dataclass
class _Line:
    seq_nbr: int
    values: dict[str, Any]  # stored column -> value
    existing_id: int | None


def apply_record(
    store: Store,
    conn: sqlite3.Connection,
    spec: DocumentSpec,
    target: Target,
    record: Any,
    *,
    appendable: frozenset[int] = frozenset(),
) -> int:
    """Apply one record in `conn` (the caller's transaction); the header's id. A problem raises
    a 400 naming the record's fields, and the caller rolls the record back. `appendable`: ids
    of headers a CREATE may append its lines to instead of failing on the existing key (those
    of the same file group, with `prevent_stage_hdr_record_creation_flg`)."""
    if not isinstance(record, dict):
        raise rejected("The record is not valid.", {"record": "must be an object"})
    return _Document(store, conn, spec, target, record, appendable).apply()


@dataclass
class _Document:
    """One record being applied: where it goes and the transaction it is applied in."""

    store: Store
    conn: sqlite3.Connection
    spec: DocumentSpec
    target: Target
    record: dict[str, Any]
    appendable: frozenset[int] = frozenset()
    problems: Problems = field(default_factory=dict)
    """Every problem found so far: a record fails with all of them at once."""

    def apply(self) -> int:
        spec, record, problems = self.spec, self.record, self.problems
        action = record.get("action_code")
        if action not in ACTIONS:
            problems["action_code"] = f"must be one of {', '.join(ACTIONS)} (got {action!r})"
        for name in record:
            if name not in spec.record_fields:
                problems[name] = f"not a field of the {spec.entity} stage interface"
        key = _given(problems, spec.key, self.store.entity(spec.header), record)
        if "action_code" in problems or spec.key in problems:
            raise rejected(f"The {spec.entity} record is not valid.", problems)
        row = self.conn.execute(
            f"SELECT id, status_id FROM {spec.header} WHERE {spec.key} = ? AND _fac = ? "
            "ORDER BY id LIMIT 1",
            (key, self.target.facility_id),
        ).fetchone()
        where = f"in facility {self.target.facility_code}"
        if action == "CREATE" and row is not None and int(row[0]) in self.appendable:
            self._update(int(row[0]))  # its lines join the header of the same file group
            return int(row[0])
        if action == "CREATE":
            if row is not None:
                message = f"{spec.noun} '{key}' already exists {where}."
                raise rejected(message, {spec.key: message})
            return self._create(str(key))
        if row is None:
            message = f"{spec.noun} '{key}' does not exist {where}."
            raise rejected(message, {spec.key: message})
        ident, status = int(row[0]), int(row[1])
        if action == "DELETE":
            self._delete(ident, status, str(key))
        else:
            self._update(ident)
        return ident

    # ---- the three actions ---------------------------------------------------------------
    def _create(self, key: str) -> int:
        spec, target, problems = self.spec, self.target, self.problems
        values = self._header_values(problems, creating=True)
        raw_lines = self.record.get(spec.line_list)
        if raw_lines is None or raw_lines == []:
            problems[spec.line_list] = f"at least one line is needed to create a {spec.entity}"
        lines = self._lines(raw_lines, problems, existing={})
        if problems:
            raise rejected(f"The {spec.entity} cannot be created.", problems)
        stamp = self.store.stamps(self.conn, self.store.entity(spec.header))[0]
        ident = self.store.next_id(self.conn, spec.header)
        row: dict[str, Any] = {
            "id": ident,
            "company_id": target.company_id,
            "facility_id": target.facility_id,
            spec.key: key,
            "status_id": spec.first_status,
            **values,
            **_audit(stamp, target.username, created=True),
            "_fac": target.facility_id,
            "_co": target.company_id,
        }
        if spec.entity == "order":
            row["externally_planned_load_flg"] = 0
            row["total_orig_ord_qty"] = sum(line.values["ord_qty"] for line in lines)
        self.store.insert_row(self.conn, spec.header, row)
        self._write_lines(ident, lines)
        return ident

    def _update(self, ident: int) -> None:
        spec, conn, problems = self.spec, self.conn, self.problems
        values = self._header_values(problems, creating=False)
        existing = {
            int(seq): int(line_id)
            for seq, line_id in conn.execute(
                f"SELECT seq_nbr, id FROM {spec.line} WHERE {spec.link} = ?", (ident,)
            )
        }
        lines = self._lines(self.record.get(spec.line_list), problems, existing)
        if problems:
            raise rejected(f"The {spec.entity} update is not valid.", problems)
        header = self.store.entity(spec.header)
        updates.check_status(conn, header, ident)  # 400 on status_id once Shipped/Verified/...
        stamp = self.store.stamps(conn, header)[0]
        values.update(_audit(stamp, self.target.username, created=False))
        added = [line for line in lines if line.existing_id is None]
        if spec.entity == "order" and added:
            old = conn.execute(
                "SELECT total_orig_ord_qty FROM order_hdr WHERE id = ?", (ident,)
            ).fetchone()[0]
            more = sum(line.values["ord_qty"] for line in added)
            values["total_orig_ord_qty"] = float(old or 0) + more
        _set(conn, spec.header, ident, values)
        self._write_lines(ident, lines)

    def _delete(self, ident: int, status: int, key: str) -> None:
        spec, problems = self.spec, self.problems
        if self.record.get(spec.line_list) not in (None, []):
            problems[spec.line_list] = "a DELETE takes no lines"
        if problems:
            raise rejected(f"The {spec.entity} cannot be deleted.", problems)
        if status != spec.first_status:
            label = codes.code_label(spec.status_table, status)
            first = codes.code_label(spec.status_table, spec.first_status)
            message = f"{spec.noun} {key} is {label}: it can be deleted only in status {first}."
            raise rejected(message, {"status_id": message})
        self.store.remove_rows(self.conn, spec.header, [ident])

    # ---- values --------------------------------------------------------------------------
    def _header_values(self, problems: Problems, *, creating: bool) -> dict[str, Any]:
        """Stored header columns from the record: the fields given (all, with defaults, on
        CREATE) and the coded reference resolved to its id."""
        spec, record = self.spec, self.record
        header = self.store.entity(spec.header)
        values: dict[str, Any] = {}
        for name in sorted(spec.header_fields):
            if name in record:
                value = record[name]
                if value is None and name == "ord_date" and creating:
                    value = _today(self.target)
                values[name] = _value(problems, name, header, value)
            elif creating:
                default = header.by_name[name].default
                values[name] = _today(self.target) if name == "ord_date" else default
        if spec.code_field in record or creating:
            column, ident = self._code(record.get(spec.code_field), problems)
            values[column] = ident
        return values

    def _code(self, value: Any, problems: Problems) -> tuple[str, int | None]:
        """(column, id) of the header's coded reference: an order type (required) or a vendor
        of the company (optional; null clears it)."""
        name, target = self.spec.code_field, self.target
        column = "order_type_id" if name == "order_type" else "vendor_id"
        try:
            code = text_value(value, CODE_MAX, required=name == "order_type")
        except FieldError as exc:
            problems[name] = str(exc)
            return column, None
        if not code:
            return column, None
        if name == "order_type":
            row = self.conn.execute("SELECT id FROM order_type WHERE code = ?", (code,)).fetchone()
            missing = f"Order type '{code}' does not exist."
        else:
            row = self.conn.execute(
                "SELECT id FROM vendor WHERE vendor_code = ? AND _co = ? ORDER BY id LIMIT 1",
                (code, target.company_id),
            ).fetchone()
            missing = f"Vendor '{code}' does not exist in company {target.company_code}."
        if row is None:
            problems[name] = missing
            return column, None
        return column, int(row[0])

    def _lines(self, raw: Any, problems: Problems, existing: dict[int, int]) -> list[_Line]:
        """The record's lines, checked: `existing` maps the stored lines' seq_nbr to their id
        (a line naming one updates it, any other is new and needs an item and a quantity)."""
        spec = self.spec
        if raw is None:
            return []
        if not isinstance(raw, list):
            problems[spec.line_list] = "must be a list of line objects"
            return []
        lines: list[_Line] = []
        seen: set[int] = set()
        for index, line in enumerate(raw):
            where = f"{spec.line_list}[{index}]"
            if not isinstance(line, dict):
                problems[where] = "must be an object"
                continue
            found: Problems = {}
            checked = self._line(line, found, existing, seen)
            problems.update({f"{where}.{name}": message for name, message in found.items()})
            if checked is not None and not found:
                lines.append(checked)
        return lines

    def _line(
        self, line: dict[str, Any], found: Problems, existing: dict[int, int], seen: set[int]
    ) -> _Line | None:
        spec = self.spec
        entity = self.store.entity(spec.line)
        for name in line:
            if name not in spec.line_record_fields:
                found[name] = f"not a field of a {spec.line} line"
        seq = _given(found, "seq_nbr", entity, line)
        if seq is not None and seq <= 0:
            found["seq_nbr"] = "must be greater than 0"
        elif seq is not None and seq in seen:
            found["seq_nbr"] = f"line {seq} appears more than once in the document"
        elif seq is not None:
            seen.add(seq)
        line_id = existing.get(seq) if seq is not None else None
        values: dict[str, Any] = {}
        for name in sorted(spec.line_fields | {spec.qty}):
            if name in line or (line_id is None and name == spec.qty):
                values[name] = _given(found, name, entity, line)
        qty = values.get(spec.qty)
        if qty is not None and qty <= 0:
            found[spec.qty] = "must be greater than 0"
        if values.get("unit_sale_price") is not None and values["unit_sale_price"] < 0:
            found["unit_sale_price"] = "must be at least 0"
        if "item_code" in line or line_id is None:
            values["item_id"] = self._item(line.get("item_code"), found)
        return None if seq is None else _Line(int(seq), values, line_id)

    def _item(self, value: Any, problems: Problems) -> int | None:
        try:
            code = text_value(value, CODE_MAX, required=True)
        except FieldError as exc:
            problems["item_code"] = str(exc)
            return None
        item = item_by_code(self.conn, str(code), self.target.company_id)
        if item is None:
            company = self.target.company_code
            problems["item_code"] = f"Item '{code}' does not exist in company {company}."
        return item

    # ---- writing -------------------------------------------------------------------------
    def _write_lines(self, header_id: int, lines: list[_Line]) -> None:
        """Update the named stored lines and insert the new ones (stamped as the API user)."""
        if not lines:
            return
        spec, target, store = self.spec, self.target, self.store
        stamp = store.stamps(self.conn, store.entity(spec.line))[0]
        for line in lines:
            if line.existing_id is not None:
                values = {**line.values, **_audit(stamp, target.username, created=False)}
                _set(self.conn, spec.line, line.existing_id, values)
                continue
            row: dict[str, Any] = {
                "id": store.next_id(self.conn, spec.line),
                spec.link: header_id,
                "seq_nbr": line.seq_nbr,
                **line.values,
                **_audit(stamp, target.username, created=True),
                "_fac": target.facility_id,
                "_co": target.company_id,
            }
            if spec.entity == "order":
                row.setdefault("unit_sale_price", 0.0)
                row.update(
                    orig_ord_qty=row["ord_qty"],
                    alloc_qty=0.0,
                    shipped_qty=0.0,
                    status_id=spec.first_status,
                )
            else:
                row.update(received_qty=0.0, po_dtl_id=None)
            store.insert_row(self.conn, spec.line, row)


def _value(problems: Problems, name: str, entity: Entity, value: Any) -> Any:
    """The stored value of a field given as `value`, or None with the problem recorded."""
    try:
        return stored_value(entity.by_name[name], value)
    except FieldError as exc:
        problems[name] = str(exc)
        return None


def _given(problems: Problems, name: str, entity: Entity, record: dict[str, Any]) -> Any:
    """`_value` of `record[name]`; a required field that is absent "is required"."""
    if name not in record and entity.by_name[name].required:
        problems[name] = "is required"
        return None
    return _value(problems, name, entity, record.get(name))


def _set(conn: sqlite3.Connection, table: str, ident: int, values: dict[str, Any]) -> None:
    assignments = ", ".join(f"{name} = ?" for name in values)
    conn.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", [*values.values(), ident])


def _audit(stamp: str, username: str, *, created: bool) -> dict[str, Any]:
    values = {"mod_ts": stamp, "mod_user": username}
    if created:
        values.update(create_ts=stamp, create_user=username)
    return values


def _today(target: Target) -> str:
    """Today's date in the facility's zone (the default `ord_date`)."""
    zone = timezone(timedelta(minutes=target.tz_minutes))
    return datetime.now(UTC).astimezone(zone).date().isoformat()


def failure(exc: ApiError) -> dict[str, str]:
    """A failed record's `errors`: its field messages, else the error message."""
    if exc.details:
        return {str(k): str(v) for k, v in exc.details.items()}
    return {"record": exc.message}
