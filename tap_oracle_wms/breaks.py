"""Rows that break their stream's own schema: reported, never emitted as they came.

The tap announces a SCHEMA per stream and a loader holds every record to it, so a record that
breaks it costs the whole load (target-postgres rejects the batch). `EntityStream.parse_response`
nulls a value of the wrong type or form (`oracle_wms.schema.conform_row`) and drops a row
without an integer id (it cannot be merged on its key); each is reported here as
(entity, id, field, value), the first few one by one and then a count per stream.
"""

from __future__ import annotations

import logging
import typing as t

SHOWN = 20
"""Breaks reported one by one per stream; the rest are counted."""


class SchemaBreaks:
    """What one stream's rows broke, reported to its logger."""

    def __init__(self, entity: str, logger: logging.Logger | logging.LoggerAdapter[t.Any]) -> None:
        self.entity = entity
        self.logger = logger
        self.values = 0
        self.rows_dropped = 0
        self.unknown: set[str] = set()
        """Fields the WMS sends that the catalog lacks: reported once, left out of records."""

    def unknown_fields(self, row: dict[str, t.Any], known: t.AbstractSet[str]) -> None:
        """Say so when the WMS sends fields the catalog lacks: they cannot be loaded silently."""
        new = set(row) - set(known) - self.unknown
        if new:
            self.unknown |= new
            self.logger.warning(
                "Entity '%s' now has field(s) %s that the catalog schema lacks: they are not "
                "loaded until the catalog is rediscovered (lower discovery_cache_ttl, or run "
                "--discover / meltano's catalog refresh).",
                self.entity,
                sorted(new),
            )

    def value(self, record_id: object, field: str, value: object) -> None:
        """A value its schema does not allow, emitted as null."""
        self.values += 1
        if self.values + self.rows_dropped <= SHOWN:
            self.logger.warning(
                "Entity '%s' id %s field '%s': %s breaks the schema; emitted as null",
                self.entity,
                _short(record_id),
                field,
                _short(value),
            )

    def row(self, record: object) -> None:
        """A row that cannot be loaded (no integer id, or not an object): not emitted."""
        self.rows_dropped += 1
        if self.values + self.rows_dropped <= SHOWN:
            record_id = record.get("id") if isinstance(record, dict) else None
            self.logger.warning(
                "Entity '%s': a row with id %s has no integer id (or is not an object); "
                "not emitted: %s",
                self.entity,
                _short(record_id),
                _short(record),
            )

    def summary(self) -> None:
        if self.values or self.rows_dropped:
            self.logger.warning(
                "Entity '%s': %d values broke the schema and were emitted as null; %d rows "
                "without an integer id were not emitted",
                self.entity,
                self.values,
                self.rows_dropped,
            )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
