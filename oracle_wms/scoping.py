"""Entities whose lists lgfapi refuses without scoping filters, and the filters that satisfy it.

Oracle's guide: `inventory_history` lists require `company_id__code` and `facility_id__code`
plus one of `group_nbr`, `history_activity_id`+`status_id`, `history_activity_id`+`item_code`,
`history_activity_id`+`container_nbr`. To read all of it we ask per company and facility, with
`history_activity_id__in` (every id of the `history_activity` code entity) and `status_id__in`
(every id of `container_status`, the statuses history rows carry). Where Oracle is silent that
a lookup satisfies the rule, we assume it does; see docs/api-behaviour.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from oracle_wms.client import WmsClient

SCOPED_ENTITIES = frozenset({"inventory_history"})


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


def history_filters(client: WmsClient) -> dict[str, str]:
    """The activity and status filters that make an inventory_history list acceptable."""
    activities = codes(client, "history_activity", "id")
    statuses = codes(client, "container_status", "id")
    return {
        "history_activity_id__in": ",".join(sorted(activities, key=int)),
        "status_id__in": ",".join(sorted(statuses, key=int)),
    }
