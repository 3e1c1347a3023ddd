"""One simulator's entity definitions: the shared catalogue plus the fields added at run time.

`entities.ENTITIES` is module-level and shared by every `Simulator` in the process, so schema
drift (`add_field`) must not touch it: each `Store` holds a `Catalogue` that starts as a copy of
the shared mapping and replaces an entity with an extended copy when a field is added. `Entity`
and `Field` are frozen, so the shared objects are never mutated. Relations (foreign keys, child
sets, keys) cannot be added, so code that only follows relations may keep using `ENTITIES`.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field

from ..errors import ApiError
from .entities import ENTITIES
from .model import Entity, Field


@dataclass
class Catalogue:
    entities: dict[str, Entity] = field(default_factory=lambda: dict(ENTITIES))
    added: dict[str, tuple[Field, ...]] = field(default_factory=dict)
    """Entity name -> fields added at run time, in the order added."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get(self, name: str) -> Entity | None:
        return self.entities.get(name)

    def entity(self, name: str) -> Entity:
        """The entity, or 404 as the API answers for an unknown name."""
        entity = self.entities.get(name)
        if entity is None:
            raise ApiError(404, f"Entity '{name}' does not exist.")
        return entity

    def names(self) -> list[str]:
        return sorted(self.entities)

    def add(self, entity_name: str, new: Field) -> Entity:
        """Append `new` to the entity's fields (after the audit fields, like a new column)."""
        with self._lock:
            entity = self.entity(entity_name)
            extended = dataclasses.replace(entity, fields=(*entity.fields, new))
            self.entities[entity_name] = extended  # one assignment: readers see old or new
            self.added[entity_name] = (*self.added.get(entity_name, ()), new)
            return extended
