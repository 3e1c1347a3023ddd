"""Which entities to extract and what they look like.

`GET entity/` lists every entity the WMS exposes; `entities` patterns (names or shell globs such
as `order_*`) narrow it; `describe` of each gives the fields from which `schema.json_schema` builds
the JSON Schema.
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Sequence

from oracle_wms.client import WmsClient
from oracle_wms.errors import WmsConfigError
from oracle_wms.schema import EntityDescription

logger = logging.getLogger(__name__)


def select_entities(available: Sequence[str], patterns: Sequence[str] | None) -> list[str]:
    """The available names matching any pattern (all when there are none), sorted.

    Raises:
        WmsConfigError: a pattern matches no entity (a typo would otherwise extract nothing).
    """
    if not patterns:
        return sorted(available)
    chosen: set[str] = set()
    for pattern in patterns:
        matched = fnmatch.filter(available, pattern)
        if not matched:
            raise WmsConfigError(
                "entities",
                f"'{pattern}' matches none of the {len(available)} entities the WMS lists",
            )
        chosen.update(matched)
    return sorted(chosen)


def discover(client: WmsClient, patterns: Sequence[str] | None = None) -> list[EntityDescription]:
    """Describe every selected entity."""
    names = select_entities(client.entity_names(), patterns)
    logger.info("Describing %d WMS entities", len(names))
    return [client.describe(name) for name in names]
