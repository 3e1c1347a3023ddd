"""Updates by business key: `PATCH entity/{name}/{id}/` with a record's writable fields.

Records name the row as people do (facility code and order, shipment or LPN number; detail lines
also by `seq_nbr`); `KEYS` says how per entity, and `WRITABLE` which fields lgfapi lets PATCH
change (docs/write-api.md). Values are checked against the entity's `describe` first.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial

from target_oracle_wms.base import (
    Call,
    Pending,
    RecordRejectedError,
    WmsSink,
)
from target_oracle_wms.intake import without_metadata
from target_oracle_wms.validation import Reasons
from target_oracle_wms.values import checked_values


@dataclass(frozen=True)
class KeySpec:
    """How records name a row of an entity: facility code plus the entity's own key, and for
    detail lines the parent's key and the line's `seq_nbr`."""

    key_field: str
    parent: str | None = None
    parent_fk: str | None = None
    parent_key: str | None = None

    @property
    def record_keys(self) -> tuple[str, ...]:
        if self.parent_key:
            return ("facility_code", self.parent_key, self.key_field)
        return ("facility_code", self.key_field)


KEYS: dict[str, KeySpec] = {
    "order_hdr": KeySpec("order_nbr"),
    "order_dtl": KeySpec(
        "seq_nbr", parent="order_hdr", parent_fk="order_id", parent_key="order_nbr"
    ),
    "ib_shipment": KeySpec("shipment_nbr"),
    "ib_shipment_dtl": KeySpec(
        "seq_nbr", parent="ib_shipment", parent_fk="shipment_id", parent_key="shipment_nbr"
    ),
    "oblpn": KeySpec("container_nbr"),
}

CUSTOM_FIELD = (
    "cust_field_",
    "cust_date_",
    "cust_number_",
    "cust_decimal_",
    "cust_short_text_",
    "cust_long_text_",
)
DIMENSIONS = frozenset({"length", "width", "height", "weight", "volume"})
WRITABLE: dict[str, frozenset[str]] = {
    "order_hdr": frozenset(
        {
            "priority",
            "ref_nbr",
            "spl_instr",
            "sales_channel",
            "gift_msg",
            "req_ship_date",
            "start_ship_date",
            "stop_ship_date",
        }
    ),
    "ib_shipment_dtl": frozenset(f"inv_attr_{letter}" for letter in "abcdefghijklmno"),
    "oblpn": DIMENSIONS,
}
"""Fields Oracle documents as writable by PATCH, besides custom fields (docs/api-contract.md
H3, H6, H7)."""
UNDOCUMENTED: dict[str, frozenset[str]] = {
    "order_dtl": frozenset({"ord_qty"}),
    "ib_shipment": frozenset({"exp_arrival_date", "ref_nbr"}),
    "ib_shipment_dtl": frozenset({"shipped_qty"}),
}
"""Fields no Oracle page we could read lists as writable (H4-H6): sent only with the
`undocumented_patch_fields` setting, and then verified by re-reading the record."""


def is_custom(name: str) -> bool:
    """A numbered custom field (`cust_field_3`, `cust_decimal_1`, ...)."""
    return name.startswith(CUSTOM_FIELD) and name.rsplit("_", 1)[-1].isdigit()


def is_writable(entity: str, name: str, *, undocumented: bool = False) -> bool:
    """Whether PATCH may change field `name` of `entity`: listed in `WRITABLE` (or, with
    `undocumented`, in `UNDOCUMENTED`), or a custom field. Whether `describe` knows the field
    is checked apart."""
    listed = WRITABLE.get(entity, frozenset())
    if undocumented:
        listed = listed | UNDOCUMENTED.get(entity, frozenset())
    return name in listed or is_custom(name)


def same_value(sent: t.Any, stored: t.Any) -> bool:
    """Whether a re-read value is the one sent (decimals compared as numbers)."""
    if sent is None or stored is None:
        return sent is stored
    try:
        return Decimal(str(sent)) == Decimal(str(stored))
    except InvalidOperation:
        return str(sent) == str(stored)


class UpdateSink(WmsSink):
    """`PATCH entity/{name}/{id}/` with the record's writable fields, found by business key."""

    @property
    def spec(self) -> KeySpec:
        return KEYS[self.action.entity]

    def document_key(self, record: dict[str, t.Any]) -> str:
        spec = self.spec
        head = spec.parent_key or spec.key_field
        return f"{record.get('facility_code')}:{record.get(head)}"

    def _parents(
        self, records: list[dict[str, t.Any]]
    ) -> dict[tuple[str, str], dict[str, t.Any] | None]:
        """(facility_code, header key) -> the header record (or the record itself for headers)."""
        spec = self.spec
        entity = spec.parent or self.action.entity
        key_field = spec.parent_key or spec.key_field
        by_facility: dict[str, set[str]] = {}
        for record in records:
            by_facility.setdefault(str(record.get("facility_code")), set()).add(
                str(record.get(key_field))
            )
        found: dict[tuple[str, str], dict[str, t.Any] | None] = {}
        for facility, values in by_facility.items():
            rows = self.services.lookups.find(
                entity, key_field, values, {"facility_id__code": facility}, "id,status_id"
            )
            found.update({(facility, v): row for v, row in rows.items()})
        return found

    def ahead(self) -> list[t.Callable[[], t.Any]]:
        """The facility list and `describe` of the entity updated."""
        return [*super().ahead(), partial(self.services.description, self.action.entity)]

    def prefetch(self, records: list[dict[str, t.Any]]) -> None:
        parents = self._parents(records)
        spec = self.spec
        if spec.parent_fk is None or spec.parent_key is None:
            return
        lines: dict[int, set[str]] = {}
        for record in records:
            head = parents.get((str(record.get("facility_code")), str(record.get(spec.parent_key))))
            if head is not None:
                lines.setdefault(int(head["id"]), set()).add(str(record.get(spec.key_field)))
        for head_id, seqs in lines.items():  # one request per document, not per line
            self.services.lookups.find(
                self.action.entity, spec.key_field, seqs, {spec.parent_fk: head_id}
            )

    def _target_id(self, record: dict[str, t.Any], reasons: Reasons) -> int | None:
        spec = self.spec
        facility = str(record.get("facility_code"))
        head_key = spec.parent_key or spec.key_field
        head = self._parents([record])[(facility, str(record.get(head_key)))]  # cached lookup
        if head is None:
            entity = spec.parent or self.action.entity
            reasons[head_key] = f"no {entity} '{record.get(head_key)}' in facility {facility}"
            return None
        if spec.parent is None:
            return int(head["id"])
        assert spec.parent_fk is not None
        seq = str(record.get(spec.key_field))
        row = self.services.lookups.find(
            self.action.entity, spec.key_field, [seq], {spec.parent_fk: head["id"]}
        )[seq]
        if row is None:
            reasons[spec.key_field] = f"no line {seq} in {spec.parent} '{record.get(head_key)}'"
            return None
        return int(row["id"])

    def validate(self, record: dict[str, t.Any]) -> tuple[Reasons, Call | None]:
        reasons: Reasons = {}
        spec = self.spec
        for name in spec.record_keys:
            if record.get(name) in (None, ""):
                reasons[name] = "required (business key)"
        entity = self.action.entity
        described = self.entity_schema(entity)
        data = {n: v for n, v in without_metadata(record).items() if n not in spec.record_keys}
        extra = self.services.undocumented_patch_fields
        writable = {
            n for n in data if is_writable(entity, n, undocumented=extra) and n in described
        }
        refusal = f"not a writable field of {entity}"
        hidden = UNDOCUMENTED.get(entity, frozenset())
        refusal_extra = (
            f"not a field Oracle documents as writable for {entity} "
            "(set undocumented_patch_fields to send it, verified by a re-read)"
        )
        changes = checked_values(data, described, writable, refusal, reasons)
        for name in data.keys() & hidden:
            if not extra and name in reasons:
                reasons[name] = refusal_extra
        if not changes and not reasons:
            reasons["_fields"] = "nothing to update: no writable field in the record"
        if reasons:
            return reasons, None
        record_id = self._target_id(record, reasons)
        if record_id is None:
            return reasons, None
        return {}, ("PATCH", f"entity/{self.action.entity}/{record_id}/", {"fields": changes})

    def apply(self, item: Pending) -> tuple[str, t.Any]:
        method, path, body = item.call
        entity = self.action.entity

        def reread() -> None:
            self.services.wms.get(path, entity=entity)

        answer = self.send_with_retries(method, path, body, item, on_conflict=reread)
        unlisted = body["fields"].keys() & UNDOCUMENTED.get(entity, frozenset())
        if unlisted:  # Oracle does not say PATCH takes them: prove the WMS applied them
            record = self.services.wms.get_record(entity, int(path.rstrip("/").rsplit("/", 1)[1]))
            ignored = sorted(
                n for n in unlisted if not same_value(body["fields"][n], record.get(n))
            )
            if ignored:
                raise RecordRejectedError(
                    {
                        n: "the WMS accepted the update but the re-read record does not show "
                        "it (not a documented writable field)"
                        for n in ignored
                    }
                )
        return "applied", answer
