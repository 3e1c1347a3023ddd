"""Entities whose lists lgfapi refuses without scoping filters, and the filters that satisfy it.

Oracle's guide ("Get Inventory History"): an `inventory_history` list needs `company_id__code`
and `facility_id__code` plus the fields of one of five combinations; we use
`history_activity_id` + `status_id`, each an exact value, so all of history is read as one list
per company, facility, activity and status (docs/api-behaviour.md, "inventory_history"). Oracle
names plain fields only: no lookup (`__in`) is relied on.

Which activity and status ids exist is not something lgfapi documents a way to list, so they are
settings (`history_activity_ids`, `history_status_ids`: a WMS user finds them on the Inventory
History screen and in Oracle's published activity codes). Left unset, they fall back, with a
warning naming the assumption, to an index entity that lists them (`history_activity`; statuses
from `container_status`); without one, reading history fails with an error saying which setting
is needed.
"""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

from singer_sdk import typing as th

from oracle_wms.client import WmsClient
from oracle_wms.errors import WmsConfigError

logger = logging.getLogger(__name__)

SCOPED_ENTITIES = frozenset({"inventory_history"})

HISTORY_PROPERTIES: tuple[th.Property[t.Any], ...] = (
    th.Property(
        "history_activity_ids",
        th.ArrayType(th.IntegerType),
        description="inventory_history activity ids to read (Oracle requires one per request "
        "and documents no list of them); default: the ids of a history_activity entity if the "
        "WMS lists one, else an error",
    ),
    th.Property(
        "history_status_ids",
        th.ArrayType(th.IntegerType),
        description="inventory_history status ids to read with each activity; default: the ids "
        "of container_status (an assumption: Oracle does not say which statuses history holds)",
    ),
)
"""Settings of the history read, shared by the tap (which reads it) and the target (which looks
up its own `transaction_ref_nbr`s in it)."""

_FALLBACKS = {
    "history_activity_ids": ("history_activity", "activity"),
    "history_status_ids": ("container_status", "status"),
}


@dataclass(frozen=True)
class Scope:
    company_code: str
    facility_code: str


def codes(client: WmsClient, entity: str, field: str = "code") -> list[str]:
    """Every value of one field of a (small) entity, sorted."""
    params = {"fields": field, "ordering": "id"}
    return sorted(str(r[field]) for r in client.iter_records(entity, params) if r.get(field))


def scopes(client: WmsClient) -> list[Scope]:
    """Every company and facility pair the user can see (an empty pair costs one 404)."""
    return [
        Scope(company, facility)
        for company in codes(client, "company")
        for facility in codes(client, "facility")
    ]


def history_ids(client: WmsClient, config: Mapping[str, t.Any], setting: str) -> list[int]:
    """`history_activity_ids` or `history_status_ids`: the setting, else the documented-nowhere
    fallback entity when the index lists it (with a warning), else a `WmsConfigError`."""
    configured = config.get(setting)
    if configured:
        try:
            return sorted({int(v) for v in configured})
        except (TypeError, ValueError):
            raise WmsConfigError(setting, "must be a list of integer ids") from None
    entity, what = _FALLBACKS[setting]
    if entity not in client.entity_names():
        raise WmsConfigError(
            setting,
            f"reading inventory_history needs the {what} ids: lgfapi requires exact "
            f"history_activity_id and status_id values on every history list and documents no "
            f"way to list them, and this WMS lists no '{entity}' entity to assume them from. "
            f"Set {setting} (the ids on the WMS's Inventory History screen).",
        )
    found = sorted({int(v) for v in codes(client, entity, "id")})
    logger.warning(
        "%s not set: using the ids of entity '%s' (%s), assuming they are the %s ids of "
        "inventory_history, which Oracle does not document; set %s to be sure",
        setting,
        entity,
        ",".join(map(str, found)),
        what,
        setting,
    )
    return found


def status_combinations(client: WmsClient, config: Mapping[str, t.Any]) -> list[dict[str, str]]:
    """One documented filter set (`history_activity_id` + `status_id`) per activity and status."""
    activities = history_ids(client, config, "history_activity_ids")
    statuses = history_ids(client, config, "history_status_ids")
    return [
        {"history_activity_id": str(a), "status_id": str(s)} for a in activities for s in statuses
    ]
