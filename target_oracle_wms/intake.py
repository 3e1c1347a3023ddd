"""What every record must be before a write action looks at it, and what the ledger compares.

- its stream's SCHEMA: the SDK validates each record against the SCHEMA message before the sink
  sees it and ends the run on the first failure (`Sink._validate_and_parse`); the sinks check it
  here first and turn a failure into a reject of that record (`schema_reasons`);
- a key: a record whose key property is null or missing has no identity, so neither the ledger
  nor the WMS could tell a redelivery from a new record (`key_reasons`);
- known fields only: a field the action does not write (`batch_number` for `batch_nbr`) is a
  reject naming it, never a value dropped in silence (`unknown_field_reasons`);
- its content: the hash the ledger keeps per applied identity (`content_hash`), so the same
  identity with different values is a named reject, an identical redelivery "already applied".
"""

from __future__ import annotations

import hashlib
import json
import typing as t
from collections.abc import Collection, Mapping, Sequence

from jsonschema.protocols import Validator

from target_oracle_wms.validation import Reasons, stream_validator

REASONS_FIELD = "_sdc_target_rejected"
"""Where a record that failed its SCHEMA carries its reasons from the SDK's validation step to
the batch (a metadata name: never part of its content, removed before it is reported)."""

CHANGED = (
    "applied earlier with different values under the same key: not applied again; give the "
    "changed record a new key to apply it"
)
CHANGED_IN_RUN = (
    "delivered earlier in this input with different values under the same key: only the first "
    "is applied; give the changed record a new key"
)


def without_metadata(record: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The record without the SDK's `_sdc_*` metadata fields."""
    return {k: v for k, v in record.items() if not k.startswith("_sdc_")}


def content_hash(record: Mapping[str, t.Any]) -> str:
    """sha256 of the record's content (sorted JSON, metadata left out)."""
    canonical = json.dumps(without_metadata(record), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def schema_reasons(validator: Validator, record: Mapping[str, t.Any]) -> Reasons:
    """Why the record does not match its stream's SCHEMA: one reason per top-level field (the
    first failure), or under `_schema` for the record as a whole."""
    reasons: Reasons = {}
    for error in validator.iter_errors(dict(record)):
        name = str(error.absolute_path[0]) if error.absolute_path else "_schema"
        reasons.setdefault(name, f"does not match the stream's SCHEMA: {error.message}")
    return reasons


def key_reasons(record: Mapping[str, t.Any], key_properties: Sequence[str]) -> Reasons:
    """A reason per key property that is null or missing."""
    return {
        name: "key property is null or missing: the record has no identity, so a redelivery "
        "could not be told from a new record"
        for name in key_properties
        if record.get(name) is None
    }


def unknown_field_reasons(
    record: Mapping[str, t.Any], known: Collection[str], action: str
) -> Reasons:
    """A reason per field (not metadata) outside `known`."""
    return {
        name: f"unknown field: {action} does not take it (nothing of the record was written)"
        for name in without_metadata(record)
        if name not in known
    }


__all__ = [
    "CHANGED",
    "CHANGED_IN_RUN",
    "REASONS_FIELD",
    "content_hash",
    "key_reasons",
    "schema_reasons",
    "stream_validator",
    "unknown_field_reasons",
    "without_metadata",
]
