"""The entity groups, read from meltano.yml: each extractor named `tap-oracle-wms--<group>` is one
group, its `select` the group's entities. meltano.yml is their one definition (Meltano runs them);
the Dagster assets are derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PARENT = "tap-oracle-wms"
PREFIX = f"{PARENT}--"


class EntityGroupError(ValueError):
    """meltano.yml's group extractors are missing or malformed (the message names which)."""


@dataclass(frozen=True)
class EntityGroup:
    """One group: its name (`masters`), its Meltano extractor and the entities it selects."""

    name: str
    extractor: str
    entities: tuple[str, ...]


def entity_groups(meltano_yml: Path) -> list[EntityGroup]:
    """The groups of `meltano_yml`, in file order.

    Raises:
        EntityGroupError: none is defined, one does not inherit from tap-oracle-wms, selects a
            pattern other than `<entity>.*`, or an entity is in two groups.
    """
    project: dict[str, Any] = yaml.safe_load(meltano_yml.read_text(encoding="utf-8"))
    groups: list[EntityGroup] = []
    owner: dict[str, str] = {}
    for plugin in project.get("plugins", {}).get("extractors", []):
        name = str(plugin.get("name", ""))
        if not name.startswith(PREFIX):
            continue
        if plugin.get("inherit_from") != PARENT:
            raise EntityGroupError(f"{meltano_yml}: extractor {name} must inherit_from {PARENT}")
        entities = []
        for pattern in plugin.get("select") or []:
            entity, dot, attributes = str(pattern).partition(".")
            if not dot or attributes != "*" or not entity.isidentifier():
                raise EntityGroupError(
                    f"{meltano_yml}: extractor {name} selects {pattern!r}; a group selects whole "
                    "entities, '<entity>.*'"
                )
            if entity in owner:
                raise EntityGroupError(
                    f"{meltano_yml}: entity {entity} is in groups {owner[entity]} and {name}; "
                    "two groups would load it twice"
                )
            owner[entity] = name
            entities.append(entity)
        if not entities:
            raise EntityGroupError(f"{meltano_yml}: extractor {name} selects no entity")
        groups.append(EntityGroup(name.removeprefix(PREFIX), name, tuple(entities)))
    if not groups:
        raise EntityGroupError(f"{meltano_yml}: no extractor named {PREFIX}<group>")
    return groups
