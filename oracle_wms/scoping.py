"""Entities whose lists lgfapi refuses without scoping filters, and the filters that satisfy it.

Oracle's guide ("Get Inventory History"): an `inventory_history` list needs `company_id__code`
and `facility_id__code` plus the fields of one of five combinations; we use
`history_activity_id` + `status_id`. Oracle names plain fields and does not say whether a lookup
(`history_activity_id__in=1,2`, documented for lists in general) satisfies the combination. So
`plan_history` asks once (`lookups_accepted`): a WMS that answers the lookup form with records
is read with one list per company and facility (`lookup_filters`); one that refuses it (400), or
never answers with a record, is read as Oracle documents, one list per company, facility,
activity and status (docs/api-behaviour.md, "inventory_history").

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
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from singer_sdk import typing as th

from oracle_wms.client import WmsClient
from oracle_wms.errors import WmsConfigError, WmsError, WmsNotFoundError, WmsValidationError

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
    """Every value of one field of a (small) entity, sorted (0 is a value: `container_status`
    has an id 0)."""
    params = {"fields": field, "ordering": "id"}
    rows = client.iter_records(entity, params)
    return sorted(str(r[field]) for r in rows if r.get(field) not in (None, ""))


def scopes(client: WmsClient) -> list[Scope]:
    """Every company and facility pair the user can see (an empty pair costs one 404); the
    two code lists are requested at once."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="scopes") as pool:
        companies = pool.submit(codes, client, "company")
        facilities = pool.submit(codes, client, "facility")
        return [Scope(c, f) for c in companies.result() for f in facilities.result()]


def history_ids(client: WmsClient, config: Mapping[str, t.Any], setting: str) -> list[int]:
    """`history_activity_ids` or `history_status_ids`: the setting, else the documented-nowhere
    fallback entity when the index lists it (with a warning), else a `WmsConfigError`."""
    configured = config.get(setting)
    entity, what = _FALLBACKS[setting]
    if configured:
        try:
            ids = sorted({int(v) for v in configured})
        except (TypeError, ValueError):
            raise WmsConfigError(setting, "must be a list of integer ids") from None
        _warn_unlisted(client, setting, ids)
        return ids
    found = _listed_ids(client, entity)
    if found is None:
        raise WmsConfigError(
            setting,
            f"reading inventory_history needs the {what} ids: lgfapi requires exact "
            f"history_activity_id and status_id values on every history list and documents no "
            f"way to list them, and this WMS lists no '{entity}' entity to assume them from. "
            f"Set {setting} (the ids on the WMS's Inventory History screen).",
        )
    logger.warning(
        "%s not set: using the ids of entity '%s' (%s), assuming they are the %s ids of "
        "inventory_history, which Oracle does not document; set %s to be sure (the ids on "
        "the WMS's Inventory History screen)",
        setting,
        entity,
        ",".join(map(str, found)),
        what,
        setting,
    )
    return found


def _listed_ids(client: WmsClient, entity: str) -> list[int] | None:
    """The ids of `entity`, sorted, when the WMS's index lists it; None when it does not."""
    if entity not in client.entity_names():
        return None
    return sorted({int(v) for v in codes(client, entity, "id")})


def _warn_unlisted(client: WmsClient, setting: str, ids: Sequence[int]) -> None:
    """A warning naming the configured ids that the fallback entity (`history_activity`,
    `container_status`) does not list, where the WMS has it: history is read only for the
    ids given, so a mistyped one would read nothing with no other sign. Advisory (that entity
    holding the history ids is itself an assumption): a WMS without it, or a failed read of it,
    is logged at INFO and the ids are used as given."""
    entity, what = _FALLBACKS[setting]
    try:
        listed = _listed_ids(client, entity)
    except WmsError as exc:
        logger.info("%s: could not check the ids against entity '%s': %s", setting, entity, exc)
        return
    if listed is None:
        return
    unknown = [i for i in ids if i not in listed]
    if unknown:
        logger.warning(
            "%s: %s not among the ids of entity '%s' (%s); inventory_history is read only for "
            "the ids configured, so no %s row is read for these unless the WMS holds them: "
            "check the setting against the WMS's Inventory History screen",
            setting,
            ",".join(map(str, unknown)),
            entity,
            ",".join(map(str, listed)),
            what,
        )


@dataclass(frozen=True)
class HistoryPlan:
    """What a run of `inventory_history` reads: the company/facility pairs, the activity and
    status ids, and whether the WMS takes them as `__in` lookups (`lookups_accepted`)."""

    scopes: tuple[Scope, ...]
    activities: tuple[int, ...]
    statuses: tuple[int, ...]
    lookups: bool

    def lookup_filters(self) -> dict[str, str]:
        """Every activity and status of the plan as one `__in` filter each (D11 lookups)."""
        return lookup_filters(self.activities, self.statuses)


def lookup_filters(activities: Sequence[int], statuses: Sequence[int]) -> dict[str, str]:
    return {
        "history_activity_id__in": ",".join(map(str, activities)),
        "status_id__in": ",".join(map(str, statuses)),
    }


def lookups_accepted(
    client: WmsClient, scopes: Sequence[Scope], filters: Mapping[str, str]
) -> bool:
    """Whether the WMS reads an `inventory_history` list whose activity and status are `__in`
    lookups (Oracle does not document whether a lookup satisfies the required combination).

    One-record lists, one scope after another until one answers: records mean yes; a 400 means
    no; a scope with nothing to show (404) tells nothing, so the next is asked, and when none
    shows a record the answer is no (the documented form costs more requests, never rows).
    Other errors (403, 5xx after retries) are raised.
    """
    for scope in scopes:
        params = {
            "company_id__code": scope.company_code,
            "facility_id__code": scope.facility_code,
            **filters,
            "page_mode": "paged",
            "page_size": 1,
            "fields": "id",
        }
        try:
            client.get("entity/inventory_history/", params, entity="inventory_history")
        except WmsValidationError as exc:
            if exc.status != 400:
                raise
            return False
        except WmsNotFoundError:
            continue
        return True
    return False


def plan_history(client: WmsClient, config: Mapping[str, t.Any]) -> HistoryPlan:
    """The scopes and ids (requested at once), then whether lookups are accepted.

    Raises:
        WmsConfigError: an id setting is missing and no entity lists the ids (`history_ids`).
    """
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="history-plan") as pool:
        found = pool.submit(scopes, client)
        activities = pool.submit(history_ids, client, config, "history_activity_ids")
        statuses = pool.submit(history_ids, client, config, "history_status_ids")
        pairs, acts, stats = found.result(), activities.result(), statuses.result()
    accepted = lookups_accepted(client, pairs, lookup_filters(acts, stats))
    if not accepted:
        logger.info(
            "inventory_history: the WMS did not read activity and status as __in lookups "
            "(undocumented); reading one list per company, facility, activity and status "
            "(Oracle's documented combination)"
        )
    return HistoryPlan(tuple(pairs), tuple(acts), tuple(stats), accepted)
